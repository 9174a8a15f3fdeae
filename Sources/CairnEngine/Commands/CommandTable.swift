// The command table: one entry per command with everything the server needs to know before
// running it (arity, flags, key positions) and what COMMAND INFO/DOCS/GETKEYS report.
//
// Arity follows Redis: N means exactly N arguments including the name; -N means at least N.
// Key positions are (first, last, step) over argv, last = -1 meaning "to the end".

public struct CommandFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let write = CommandFlags(rawValue: 1 << 0)
    public static let readonly = CommandFlags(rawValue: 1 << 1)
    public static let denyOOM = CommandFlags(rawValue: 1 << 2)
    public static let admin = CommandFlags(rawValue: 1 << 3)
    public static let pubsub = CommandFlags(rawValue: 1 << 4)
    public static let noscript = CommandFlags(rawValue: 1 << 5)
    public static let blocking = CommandFlags(rawValue: 1 << 6)
    public static let loading = CommandFlags(rawValue: 1 << 7)
    public static let stale = CommandFlags(rawValue: 1 << 8)
    public static let skipMonitor = CommandFlags(rawValue: 1 << 9)
    public static let skipSlowlog = CommandFlags(rawValue: 1 << 10)
    public static let fast = CommandFlags(rawValue: 1 << 11)
    public static let noAuth = CommandFlags(rawValue: 1 << 12)
    public static let mayReplicate = CommandFlags(rawValue: 1 << 13)
    public static let noMulti = CommandFlags(rawValue: 1 << 14)
    public static let allowBusy = CommandFlags(rawValue: 1 << 15)
    public static let noMandatoryKeys = CommandFlags(rawValue: 1 << 16)
    /// Not a Redis flag: the command runs even inside MULTI instead of being queued.
    public static let runsInMulti = CommandFlags(rawValue: 1 << 17)

    /// Names as COMMAND INFO prints them, in Redis's order.
    static let names: [(CommandFlags, String)] = [
        (.write, "write"), (.readonly, "readonly"), (.denyOOM, "denyoom"), (.admin, "admin"),
        (.pubsub, "pubsub"), (.noscript, "noscript"), (.blocking, "blocking"), (.loading, "loading"),
        (.stale, "stale"), (.skipMonitor, "skip_monitor"), (.skipSlowlog, "skip_slowlog"),
        (.fast, "fast"), (.noAuth, "no_auth"), (.mayReplicate, "may_replicate"),
        (.noMulti, "no_multi"), (.allowBusy, "allow_busy"), (.noMandatoryKeys, "no_mandatory_keys"),
    ]

    public var names: [String] { CommandFlags.names.filter { contains($0.0) }.map { $0.1 } }
}

public typealias CommandHandler = (inout CommandCall) -> Void

public struct CommandStats {
    public var calls = 0
    public var microseconds: Int64 = 0
    public var rejectedCalls = 0
    public var failedCalls = 0
    public init() {}
}

public final class CommandSpec {
    public let name: String
    public let arity: Int
    public let flags: CommandFlags
    public let firstKey: Int
    public let lastKey: Int
    public let keyStep: Int
    public let group: String
    public let summary: String
    public let since: String
    public let complexity: String
    public let handler: CommandHandler
    public private(set) var subcommands: [String: CommandSpec] = [:]
    public private(set) weak var parent: CommandSpec?
    public var stats = CommandStats()

    public init(_ name: String, arity: Int, flags: CommandFlags, keys: (Int, Int, Int) = (0, 0, 0),
                group: String, summary: String, since: String = "1.0.0", complexity: String = "O(1)",
                handler: @escaping CommandHandler) {
        self.name = name.lowercased()
        self.arity = arity
        self.flags = flags
        self.firstKey = keys.0
        self.lastKey = keys.1
        self.keyStep = keys.2
        self.group = group
        self.summary = summary
        self.since = since
        self.complexity = complexity
        self.handler = handler
        self.fullName = self.name
    }

    public func addSubcommand(_ sub: CommandSpec) {
        sub.parent = self
        sub.fullName = "\(name)|\(sub.name)"
        subcommands[sub.name] = sub
    }

    /// "config|get" for subcommands, as INFO commandstats and COMMAND name them (stored: every
    /// call records it as the client's last command).
    public private(set) var fullName: String

    /// ACL categories derived the way Redis derives the implicit ones, plus the group's.
    public var aclCategories: [String] {
        var out: [String] = []
        if flags.contains(.write) { out.append("@write") }
        if flags.contains(.readonly) { out.append("@read") }
        if flags.contains(.admin) { out.append("@admin"); out.append("@dangerous") }
        if flags.contains(.pubsub) { out.append("@pubsub") }
        if flags.contains(.fast) { out.append("@fast") } else { out.append("@slow") }
        if flags.contains(.blocking) { out.append("@blocking") }
        switch group {
        case "string": out.append("@string")
        case "bitmap": out.append("@bitmap")
        case "generic" where name == "sort" || name == "sort_ro":
            out += ["@set", "@sortedset", "@list", "@dangerous"]   // as Redis's SORT
        case "generic": out.append("@keyspace")
        case "transactions": out.append("@transaction")
        case "connection": out.append("@connection")
        case "hash": out.append("@hash")
        case "list": out.append("@list")
        case "set": out.append("@set")
        case "sorted-set": out.append("@sortedset")
        default: break
        }
        return out
    }

    /// The positions of key arguments in argv (COMMAND GETKEYS, WATCH bookkeeping).
    public func keyPositions(argc: Int) -> [Int] {
        guard firstKey > 0 else { return [] }
        var last = lastKey
        if last < 0 { last = argc + last }
        var out: [Int] = []
        var i = firstKey
        while i <= last && i < argc {
            out.append(i)
            i += max(keyStep, 1)
        }
        return out
    }

    /// Arity is satisfied by `argc` arguments.
    @inlinable
    public func acceptsArity(_ argc: Int) -> Bool {
        arity >= 0 ? argc == arity : argc >= -arity
    }
}

public final class CommandTable {
    /// Every command, in registration order.
    public private(set) var all: [CommandSpec] = []
    /// Each name in lowercase and in uppercase, the forms clients send, so the common lookup
    /// needs no case folding; mixed case falls back to folding.
    @usableFromInline var byName: [Bytes: CommandSpec] = [:]
    /// The name and command of the last successful lookup: pipelines and benchmarks send the
    /// same command over and over, and comparing ≤ 22 inline bytes is cheaper than hashing.
    @usableFromInline var recentName = Bytes()
    @usableFromInline var recentSpec: CommandSpec?

    public init() {}

    public func register(_ spec: CommandSpec) {
        recentSpec = nil
        all.removeAll { $0.name == spec.name }   // registering a name again replaces it
        all.append(spec)
        byName[Bytes(spec.name)] = spec
        byName[Bytes(spec.name.uppercased())] = spec
    }

    /// Looks a command up by its name in any letter case.
    @inlinable
    public func lookup(_ name: Bytes) -> CommandSpec? {
        if let spec = recentSpec, name == recentName { return spec }
        guard let spec = byName[name] ?? byName[asciiLowercased(name)] else { return nil }
        recentName = name
        recentSpec = spec
        return spec
    }
}

@inlinable
public func asciiLowercased(_ b: Bytes) -> Bytes {
    b.withUnsafeBytes { raw in
        var out = [UInt8](raw)
        for i in 0..<out.count where out[i] >= 65 && out[i] <= 90 { out[i] |= 0x20 }
        return Bytes(array: out)
    }
}

extension Bytes {
    /// ASCII case-insensitive comparison with a lowercase literal (option names).
    @inlinable
    public func isKeyword(_ lowercase: StaticString) -> Bool {
        guard count == lowercase.utf8CodeUnitCount else { return false }
        return withUnsafeBytes { raw in
            lowercase.withUTF8Buffer { lit in
                for i in 0..<raw.count {
                    var c = raw[i]
                    if c >= 65 && c <= 90 { c |= 0x20 }
                    if c != lit[i] { return false }
                }
                return true
            }
        }
    }
}
