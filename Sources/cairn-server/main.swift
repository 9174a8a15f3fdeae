import CairnServer
CairnServerMain.run(arguments: Array(CommandLine.arguments.dropFirst()))
