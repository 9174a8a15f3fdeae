public enum CairnServerMain { public static func run(arguments: [String]) {} }
