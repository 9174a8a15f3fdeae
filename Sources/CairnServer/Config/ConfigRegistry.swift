// Server configuration: every parameter Cairn implements, with Redis's names, defaults,
// bounds and error strings. The same table serves the config file, `--name value` flags,
// CONFIG GET/SET/REWRITE and INFO.
//
// CONFIG SET of several pairs is all-or-nothing: every value is parsed and validated first,
// then all are applied; if applying one fails the ones already applied are restored.

import CairnEngine

public enum ConfigError: Error, CustomStringConvertible {
    case unknown(String)
    case invalid(String, String)       // name, reason
    case immutable(String)
    public var description: String {
        switch self {
        case .unknown(let n): return "Unknown option or number of arguments for CONFIG SET - '\(n)'"
        case .invalid(let n, let r): return "CONFIG SET failed (possibly related to argument '\(n)') - \(r)"
        case .immutable(let n): return "CONFIG SET failed (possibly related to argument '\(n)') - can't set immutable config"
        }
    }
}

/// One parameter. Values are kept as their canonical text (what CONFIG GET prints).
public final class ConfigParameter {
    public enum Kind {
        case bool
        case int(min: Int64, max: Int64, memory: Bool)
        /// File permission bits written in octal (unixsocketperm).
        case octal(max: Int64)
        case enumeration([String])
        case string
        /// Several words, like `bind` or `save`; validated by `validate`.
        case list
    }
    public let name: String
    public let aliases: [String]
    public let kind: Kind
    public let defaultValue: String
    public let mutable: Bool
    public fileprivate(set) var value: String
    /// Extra validation of the canonical value; returns an error reason.
    let validate: ((String) -> String?)?
    /// Applies a new canonical value to the running server; returns an error reason.
    var apply: ((String) -> String?)?

    init(_ name: String, aliases: [String] = [], _ kind: Kind, _ defaultValue: String, mutable: Bool = true,
         validate: ((String) -> String?)? = nil) {
        self.name = name
        self.aliases = aliases
        self.kind = kind
        self.defaultValue = defaultValue
        self.mutable = mutable
        self.value = defaultValue
        self.validate = validate
    }

    /// Parses user text into the canonical form, or returns an error reason.
    func canonicalize(_ args: [String]) -> Result<String, ConfigErrorReason> {
        switch kind {
        case .bool:
            guard args.count == 1 else { return .failure(.reason("wrong number of arguments")) }
            switch args[0].lowercased() {
            case "yes": return .success("yes")
            case "no": return .success("no")
            default: return .failure(.reason("argument must be 'yes' or 'no'"))
            }
        case .int(let lo, let hi, let memory):
            guard args.count == 1 else { return .failure(.reason("wrong number of arguments")) }
            guard let v = memory ? parseMemory(args[0]) : Int64(args[0]) else {
                return .failure(.reason(memory ? "argument must be a memory value" : "argument couldn't be parsed into an integer"))
            }
            guard v >= lo && v <= hi else { return .failure(.reason("argument must be between \(lo) and \(hi) inclusive")) }
            return .success(String(v))
        case .octal(let hi):
            guard args.count == 1 else { return .failure(.reason("wrong number of arguments")) }
            guard let v = Int64(args[0], radix: 8), v >= 0, v <= hi else {
                return .failure(.reason("argument must be an octal number between 0 and \(String(hi, radix: 8))"))
            }
            return .success(String(v, radix: 8))
        case .enumeration(let options):
            guard args.count == 1 else { return .failure(.reason("wrong number of arguments")) }
            let lower = args[0].lowercased()
            guard options.contains(lower) else {
                return .failure(.reason("argument(s) must be one of the following: \(options.joined(separator: ", "))"))
            }
            return .success(lower)
        case .string:
            guard args.count == 1 else { return .failure(.reason("wrong number of arguments")) }
            if let v = validate, let r = v(args[0]) { return .failure(.reason(r)) }
            return .success(args[0])
        case .list:
            let joined = args.joined(separator: " ")
            if let v = validate, let r = v(joined) { return .failure(.reason(r)) }
            return .success(joined)
        }
    }
}

public enum ConfigErrorReason: Error { case reason(String) }

/// Parses "100", "1k", "1kb", "5mb", "1gb" (k = 1000, kb = 1024, as Redis's memtoull).
public func parseMemory(_ s: String) -> Int64? {
    let lower = s.lowercased()
    let units: [(String, Int64)] = [("kb", 1024), ("mb", 1024 * 1024), ("gb", 1024 * 1024 * 1024),
                                    ("k", 1000), ("m", 1000 * 1000), ("g", 1000 * 1000 * 1000), ("b", 1)]
    for (suffix, mul) in units where lower.hasSuffix(suffix) {
        guard let n = Int64(lower.dropLast(suffix.count)), n >= 0 else { return nil }
        let (v, o) = n.multipliedReportingOverflow(by: mul)
        return o ? nil : v
    }
    // Like Redis's memtoull: a memory value is never negative ("-1" is not a memory value,
    // which is a different error from one out of the parameter's range).
    guard let v = Int64(lower), v >= 0 else { return nil }
    return v
}

public final class ConfigRegistry {
    public private(set) var parameters: [ConfigParameter] = []
    private var byName: [String: ConfigParameter] = [:]
    /// The config file the server was started with ("" when none), for CONFIG REWRITE.
    public var configFile = ""

    public init() {
        let long = Int64(Int64.max)
        func add(_ p: ConfigParameter) {
            parameters.append(p)
            byName[p.name] = p
            for a in p.aliases { byName[a] = p }
        }
        add(ConfigParameter("bind", .list, "127.0.0.1 -::1", validate: { v in
            v.split(separator: " ").count > 16 ? "Too many bind addresses specified." : nil
        }))
        add(ConfigParameter("port", .int(min: 0, max: 65535, memory: false), "6379"))
        add(ConfigParameter("unixsocket", .string, "", mutable: false))
        add(ConfigParameter("unixsocketperm", .octal(max: 0o777), "0", mutable: false))
        add(ConfigParameter("protected-mode", .bool, "yes"))
        add(ConfigParameter("databases", .int(min: 1, max: Int64(Int32.max), memory: false), "16", mutable: false))
        add(ConfigParameter("dir", .string, "", validate: { $0.isEmpty ? "directory name can't be empty" : nil }))
        add(ConfigParameter("logfile", .string, "", mutable: false))
        add(ConfigParameter("loglevel", .enumeration(["debug", "verbose", "notice", "warning", "nothing"]), "notice"))
        add(ConfigParameter("timeout", .int(min: 0, max: Int64(Int32.max), memory: false), "0"))
        add(ConfigParameter("tcp-keepalive", .int(min: 0, max: Int64(Int32.max), memory: false), "300"))
        add(ConfigParameter("tcp-backlog", .int(min: 0, max: Int64(Int32.max), memory: false), "511", mutable: false))
        add(ConfigParameter("enable-debug-command", .enumeration(["no", "yes", "local"]), "no", mutable: false))
        add(ConfigParameter("maxclients", .int(min: 1, max: Int64(UInt32.max), memory: false), "10000"))
        add(ConfigParameter("proto-max-bulk-len", .int(min: 1024 * 1024, max: long, memory: true), "536870912"))
        add(ConfigParameter("client-query-buffer-limit", .int(min: 1024 * 1024, max: long, memory: true), "1073741824"))
        add(ConfigParameter("hz", .int(min: 0, max: Int64(Int32.max), memory: false), "10"))
        add(ConfigParameter("slowlog-log-slower-than", .int(min: -1, max: long, memory: false), "10000"))
        add(ConfigParameter("slowlog-max-len", .int(min: 0, max: long, memory: false), "128"))
        add(ConfigParameter("latency-monitor-threshold", .int(min: 0, max: long, memory: false), "0"))
        add(ConfigParameter("lazyfree-lazy-user-del", .bool, "no"))
        add(ConfigParameter("lazyfree-lazy-user-flush", .bool, "no"))
        add(ConfigParameter("lazyfree-lazy-expire", .bool, "no"))
        add(ConfigParameter("daemonize", .bool, "no", mutable: false, validate: nil))
        add(ConfigParameter("pidfile", .string, "", mutable: false))
        add(ConfigParameter("repl-backlog-size", .int(min: 1, max: long, memory: true), "1048576"))
        add(ConfigParameter("dbfilename", .string, "dump.rdb", validate: { v in
            v.contains("/") ? "dbfilename can't be a path, just a filename" : nil
        }))
        add(ConfigParameter("save", .list, "3600 1 300 100 60 10000", validate: { v in
            let parts = v.split(separator: " ")
            if parts.count % 2 != 0 { return "Invalid save parameters" }
            return parts.allSatisfy({ Int64($0) != nil && Int64($0)! >= 0 }) ? nil : "Invalid save parameters"
        }))
        add(ConfigParameter("appendonly", .bool, "no"))
        // Collection encodings, with the pre-7.0 "ziplist" names as aliases like Redis.
        add(ConfigParameter("hash-max-listpack-entries", aliases: ["hash-max-ziplist-entries"], .int(min: 0, max: long, memory: false), "512"))
        add(ConfigParameter("hash-max-listpack-value", aliases: ["hash-max-ziplist-value"], .int(min: 0, max: long, memory: true), "64"))
        add(ConfigParameter("set-max-intset-entries", .int(min: 0, max: long, memory: false), "512"))
        add(ConfigParameter("set-max-listpack-entries", .int(min: 0, max: long, memory: false), "128"))
        add(ConfigParameter("set-max-listpack-value", .int(min: 0, max: long, memory: true), "64"))
        add(ConfigParameter("zset-max-listpack-entries", aliases: ["zset-max-ziplist-entries"], .int(min: 0, max: long, memory: false), "128"))
        add(ConfigParameter("zset-max-listpack-value", aliases: ["zset-max-ziplist-value"], .int(min: 0, max: long, memory: true), "64"))
        add(ConfigParameter("list-max-listpack-size", aliases: ["list-max-ziplist-size"], .int(min: Int64(Int32.min), max: Int64(Int32.max), memory: false), "-2"))
        // Snapshots (docs/operations/persistence.md). rdbcompression: lz4 (default) and zlib
        // put the whole RDB stream in one standard container; lzf is Redis's own LZF strings
        // in a plain RDB file, and Redis's "yes" means exactly that; no is a plain file.
        add(ConfigParameter("rdbcompression", .enumeration(["lz4", "zlib", "lzf", "no", "yes"]), "lz4"))
        add(ConfigParameter("rdbchecksum", .bool, "yes", mutable: false))
        add(ConfigParameter("stop-writes-on-bgsave-error", .bool, "yes"))
        add(ConfigParameter("rdb-del-sync-files", .bool, "no"))
        add(ConfigParameter("rdb-version", .int(min: 10, max: 11, memory: false), "10"))
        add(ConfigParameter("rdb-key-save-delay", .int(min: Int64(Int32.min), max: Int64(Int32.max), memory: false), "0"))
        add(ConfigParameter("key-load-delay", .int(min: Int64(Int32.min), max: Int64(Int32.max), memory: false), "0"))
    }

    public func parameter(_ name: String) -> ConfigParameter? { byName[name.lowercased()] }

    public subscript(_ name: String) -> String { byName[name]!.value }

    public func int(_ name: String) -> Int64 {
        let p = byName[name]!
        if case .octal = p.kind { return Int64(p.value, radix: 8) ?? 0 }
        return Int64(p.value) ?? 0
    }
    public func bool(_ name: String) -> Bool { byName[name]!.value == "yes" }

    /// Sets the apply hook of a parameter (the server wires the running state).
    public func onApply(_ name: String, _ body: @escaping (String) -> String?) {
        byName[name]!.apply = body
    }

    /// Sets values at start-up (config file and flags): mutability is not checked.
    public func setAtStartup(_ name: String, _ args: [String]) throws {
        guard let p = parameter(name) else { throw ConfigError.unknown(name) }
        switch p.canonicalize(args) {
        case .success(let v): p.value = v
        case .failure(.reason(let r)): throw ConfigError.invalid(p.name, r)
        }
    }

    /// CONFIG SET name value [name value ...], all-or-nothing.
    public func set(_ pairs: [(String, String)]) throws {
        var planned: [(ConfigParameter, String)] = []
        var seen = Set<String>()
        for (name, raw) in pairs {
            guard let p = parameter(name) else { throw ConfigError.unknown(name) }
            guard p.mutable else { throw ConfigError.immutable(name) }
            guard seen.insert(p.name).inserted else { throw ConfigError.invalid(name, "duplicate parameter") }
            let args: [String]
            if case .list = p.kind { args = raw.split(separator: " ").map(String.init) } else { args = [raw] }
            switch p.canonicalize(args) {
            case .success(let v): planned.append((p, v))
            case .failure(.reason(let r)): throw ConfigError.invalid(name, r)
            }
        }
        var applied: [(ConfigParameter, String)] = []
        for (p, v) in planned {
            let old = p.value
            p.value = v
            if let apply = p.apply, let reason = apply(v) {
                p.value = old
                for (q, previous) in applied.reversed() {
                    q.value = previous
                    _ = q.apply?(previous)
                }
                throw ConfigError.invalid(p.name, reason)
            }
            applied.append((p, old))
        }
    }

    /// CONFIG GET: every parameter (or alias) whose name matches one of the patterns.
    public func matching(_ patterns: [Bytes]) -> [(String, String)] {
        var out: [(String, String)] = []
        var seen = Set<String>()
        for pattern in patterns {
            let lower = asciiLowercased(pattern)
            let isGlob = lower.withUnsafeBytes { $0.contains(where: { $0 == 42 || $0 == 63 || $0 == 91 }) }
            if !isGlob {
                if let p = byName[lower.debugText], seen.insert(lower.debugText).inserted {
                    out.append((lower.debugText, p.value))
                }
                continue
            }
            for p in parameters {
                for name in [p.name] + p.aliases where !seen.contains(name) {
                    let hit = lower.withUnsafeBytes { pat in Bytes(name).withUnsafeBytes { globMatch(pattern: pat, string: $0) } }
                    if hit { seen.insert(name); out.append((name, p.value)) }
                }
            }
        }
        return out
    }

    // MARK: config file

    /// Parses redis.conf text: one directive per line, arguments split like a shell,
    /// '#' comments. Throws Redis's fatal config error text.
    public func load(text: String, fileName: String) throws {
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = String(rawLine).trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            let words: [String]
            do {
                words = try Array(line.utf8).withUnsafeBytes { try splitInline($0) }.map { $0.debugText }
            } catch {
                throw StartupConfigError(line: lineNumber, text: line, reason: "Unbalanced quotes in configuration line")
            }
            guard let name = words.first else { continue }
            do {
                try setAtStartup(name, Array(words.dropFirst()))
            } catch ConfigError.unknown {
                throw StartupConfigError(line: lineNumber, text: line, reason: "Bad directive or wrong number of arguments")
            } catch ConfigError.invalid(_, let reason) {
                throw StartupConfigError(line: lineNumber, text: line, reason: reason)
            }
        }
    }

    /// CONFIG REWRITE: rewrites the config file in place, keeping comments and the order of
    /// directives, replacing changed values, dropping directives now at their defaults
    /// and appending new non-default ones.
    public func rewrite(existing: String) -> String {
        var out: [String] = []
        var written = Set<String>()
        for rawLine in existing.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            let trimmed = line.trimmingCharacters(in: " \t\r")
            if trimmed.hasPrefix("# Generated by CONFIG REWRITE") { continue }
            let first = trimmed.split(separator: " ").first.map { String($0).lowercased() } ?? ""
            if trimmed.isEmpty || trimmed.hasPrefix("#") || parameter(first) == nil {
                out.append(line)
                continue
            }
            let p = parameter(first)!
            if written.contains(p.name) { continue }
            written.insert(p.name)
            out.append("\(p.name) \(quoteConfigValue(p))")
        }
        while out.last == "" { out.removeLast() }
        var appended: [String] = []
        for p in parameters where !written.contains(p.name) && p.value != p.defaultValue {
            appended.append("\(p.name) \(quoteConfigValue(p))")
        }
        if !appended.isEmpty {
            out.append("# Generated by CONFIG REWRITE")
            out += appended
        }
        return out.joined(separator: "\n") + "\n"
    }

    private func quoteConfigValue(_ p: ConfigParameter) -> String {
        if case .list = p.kind { return p.value.isEmpty ? "\"\"" : p.value }
        if p.value.isEmpty || p.value.contains(" ") || p.value.contains("\"") {
            return "\"" + p.value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return p.value
    }
}

public struct StartupConfigError: Error, CustomStringConvertible {
    public let line: Int
    public let text: String
    public let reason: String
    public var description: String {
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line \(line)\n>>> '\(text)'\n\(reason)"
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s = s.dropFirst() }
        while let l = s.last, chars.contains(l) { s = s.dropLast() }
        return String(s)
    }

    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.range(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}

extension Substring {
    func range(of target: String) -> Range<Substring.Index>? {
        guard !target.isEmpty, count >= target.count else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(target) {
                return i..<index(i, offsetBy: target.count)
            }
            i = index(after: i)
        }
        return nil
    }
}
