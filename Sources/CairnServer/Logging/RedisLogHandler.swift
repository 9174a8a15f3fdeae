// Log lines in Redis's format, through swift-log:
//
//   <pid>:M 25 Nov 2026 17:20:00.123 * Ready to accept connections tcp
//
// Level marks as Redis prints them: '.' debug, '-' verbose (info), '*' notice, '#' warning.

import Logging
#if canImport(Glibc)
import Glibc
#endif

public final class RedisLogSink: @unchecked Sendable {
    public nonisolated(unsafe) static var shared = RedisLogSink()
    private let lock = NSLockLike()
    /// fd 1 (stdout) unless `logfile` names a file.
    private var fd: Int32 = 1
    public var minimum: Logger.Level = .notice

    public func open(logfile: String) {
        guard !logfile.isEmpty else { return }
        let f = Glibc.open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if f >= 0 { fd = f }
    }

    func write(_ line: String) {
        lock.locked {
            var bytes = Array(line.utf8)
            bytes.append(10)
            _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
        }
    }

    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = time_t(ts.tv_sec)
        var tmv = tm()
        localtime_r(&t, &tmv)
        var buf = [Int8](repeating: 0, count: 64)
        let n = strftime(&buf, 64, "%d %b %Y %H:%M:%S", &tmv)
        let base = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let ms = Int(ts.tv_nsec / 1_000_000)
        return base + "." + (ms < 10 ? "00" : ms < 100 ? "0" : "") + String(ms)
    }

    static func mark(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: return "."
        case .info: return "-"
        case .notice: return "*"
        default: return "#"
        }
    }

    /// Redis's loglevel names to swift-log levels: verbose is swift-log's info.
    public static func level(fromRedis name: String) -> Logger.Level {
        switch name {
        case "debug": return .debug
        case "verbose": return .info
        case "warning": return .warning
        case "nothing": return .critical
        default: return .notice
        }
    }
}

public struct RedisLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level {
        get { RedisLogSink.shared.minimum }
        set { RedisLogSink.shared.minimum = newValue }
    }
    /// 'M' for the main process, as Redis prints it.
    let role: Character

    public init(label: String, role: Character = "M") { self.role = role }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?,
                    source: String, file: String, function: String, line: UInt) {
        RedisLogSink.shared.write("\(getpid()):\(role) \(RedisLogSink.timestamp()) \(RedisLogSink.mark(level)) \(message)")
    }
}
