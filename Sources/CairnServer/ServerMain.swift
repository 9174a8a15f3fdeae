// cairn-server's command line, as redis-server takes it:
//
//   cairn-server [/path/to/redis.conf] [--name value ...] [-v | --version] [-h | --help]
//
// Each `--name` starts a directive whose arguments run to the next `--name`; flags override
// the file. Errors are printed like Redis's fatal config error and exit with status 1.

import CairnEngine
import Dispatch
import Logging
#if canImport(Glibc)
import Glibc
#endif

public enum CairnServerMain {
    /// Splits `--name v1 v2 --other v` into directives.
    public static func parseFlags(_ args: [String]) -> (configFile: String?, directives: [(String, [String])]) {
        var configFile: String? = nil
        var directives: [(String, [String])] = []
        var i = 0
        if let first = args.first, !first.hasPrefix("--") { configFile = first; i = 1 }
        while i < args.count {
            let a = args[i]
            if a.hasPrefix("--") && a.count > 2 {
                directives.append((String(a.dropFirst(2)), []))
            } else if !directives.isEmpty {
                directives[directives.count - 1].1.append(a)
            }
            i += 1
        }
        return (configFile, directives)
    }

    public static func run(arguments: [String]) {
        if arguments.contains("-v") || arguments.contains("--version") {
            print("Cairn server v=\(ServerInfo.cairnVersion) (Redis-compatible \(ServerInfo.redisVersion)) bits=64")
            exit(0)
        }
        if arguments.contains("-h") || arguments.contains("--help") {
            print("Usage: cairn-server [/path/to/redis.conf] [options]\n       cairn-server -v or --version\n\nExamples:\n       cairn-server --port 7777\n       cairn-server /etc/cairn.conf --loglevel verbose --dir /var/lib/cairn")
            exit(0)
        }
        LoggingSystem.bootstrap { RedisLogHandler(label: $0) }
        signal(SIGPIPE, SIG_IGN)

        let config = ConfigRegistry()
        let (file, directives) = parseFlags(arguments)
        do {
            if let file {
                let path = file.hasPrefix("/") ? file : currentDirectory() + "/" + file
                guard let bytes = try? Sys.shared.readFile(path) else {
                    fputs("Fatal error, can't open config file '\(file)': No such file or directory\n", stderr)
                    exit(1)
                }
                config.configFile = path
                try config.load(text: String(decoding: bytes, as: UTF8.self), fileName: path)
            }
            for (name, values) in directives {
                do {
                    try config.setAtStartup(name, values)
                } catch ConfigError.unknown {
                    throw StartupConfigError(line: 0, text: "--\(name) \(values.joined(separator: " "))", reason: "Bad directive or wrong number of arguments")
                } catch ConfigError.invalid(_, let reason) {
                    throw StartupConfigError(line: 0, text: "--\(name) \(values.joined(separator: " "))", reason: reason)
                }
            }
        } catch {
            fputs("\(error)\n", stderr)
            exit(1)
        }

        RedisLogSink.shared.open(logfile: config["logfile"])
        RedisLogSink.shared.minimum = RedisLogSink.level(fromRedis: config["loglevel"])
        let logger = Logger(label: "cairn")
        logger.notice("oO0OoO0OoO0Oo Cairn is starting oO0OoO0OoO0Oo")
        logger.notice("Cairn version=\(ServerInfo.cairnVersion), bits=64, pid=\(getpid()), just started")
        if config.configFile.isEmpty {
            logger.warning("Warning: no config file specified, using the default config. In order to specify a config file use cairn-server /path/to/redis.conf")
        }

        let server = Server(config: config, executablePath: executablePath())
        // Test hook: a small reply piece size exercises the split of a big tick's reply
        // (ClientHandler.writePieceBytesMax) without 4 GiB of data.
        if let raw = getenv("CAIRN_DEBUG_WRITE_PIECE_BYTES"), let n = Int(String(cString: raw)), n > 0 {
            ClientHandler.writePieceBytesMax = n
        }
        let pidfile = config["pidfile"]
        if !pidfile.isEmpty { try? Durable.replaceFile(at: pidfile, with: Array("\(getpid())\n".utf8)) }
        // Before start(): a SIGTERM during the start-up load stops it (without saving).
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                server.loop.execute {
                    server.shutdown(reason: sig == SIGTERM ? "Received SIGTERM scheduling shutdown..." : "Received SIGINT scheduling shutdown...")
                }
            }
            source.resume()
            signalSources.append(source)
        }
        do {
            try server.start()
        } catch {
            logger.warning("Failed starting the server: \(error)")
            if !pidfile.isEmpty { try? Sys.shared.unlink(pidfile) }
            exit(1)
        }
        do {
            try server.waitForShutdown()
        } catch {
            exit(1)
        }
        if !pidfile.isEmpty { try? Sys.shared.unlink(pidfile) }
        exit(0)
    }

    nonisolated(unsafe) static var signalSources: [DispatchSourceSignal] = []

    static func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, 4096) != nil else { return "." }
        return String(cString: buf)
    }

    static func executablePath() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, 4095)
        return n > 0 ? String(cString: buf) : ""
    }
}
