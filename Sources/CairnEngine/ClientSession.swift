// The engine's view of one connected client: selected database, protocol, reply buffer,
// transaction and WATCH state. The server owns the socket and calls the engine with it.

public enum ReplyMode: Sendable { case on, off, skipNext, skipThis }

public struct QueuedCommand {
    public let spec: CommandSpec
    public let argv: [Bytes]
}

public final class ClientSession {
    public let id: UInt64
    public var db = 0
    public var name: Bytes?
    public var reply: RESPWriter
    public var replyMode: ReplyMode = .on

    // MULTI/EXEC
    public var inMulti = false
    public var multiQueue: [QueuedCommand] = []
    /// A queued command was refused (unknown, arity): EXEC answers EXECABORT.
    public var multiFailed = false
    /// A watched key was touched: EXEC answers a null array.
    public var dirtyCAS = false
    public var watched: [WatchedKey] = []

    // CLIENT flags
    public var noEvict = false
    public var noTouch = false
    public var isMonitor = false
    /// Set by QUIT, CLIENT KILL and protocol errors: close once the reply is written.
    public var closeAfterReply = false

    // For CLIENT LIST / INFO
    public var address = ""
    public var localAddress = ""
    public var fd: Int32 = -1
    public let createdAtMs: Int64
    public var lastInteractionMs: Int64
    public var lastCommand = "NULL"
    public var libName = ""
    public var libVersion = ""
    public var queryBufferBytes = 0
    public var isUnixSocket = false

    /// The client waits in a blocking command (BLPOP, BZPOPMIN, ...). While set, the server
    /// holds the client's further requests; the engine clears it and calls
    /// `Engine.onClientUnblocked` once the reply has been written.
    public var isBlocked = false

    /// Called by the engine when the client must be disconnected (CLIENT KILL).
    public var onKill: (() -> Void)?

    public init(id: UInt64, nowMs: Int64) {
        self.id = id
        self.reply = RESPWriter()
        self.createdAtMs = nowMs
        self.lastInteractionMs = nowMs
    }

    public var protocolVersion: Int {
        get { reply.protocolVersion }
        set { reply.protocolVersion = newValue }
    }

    /// Redis's flags letters for CLIENT LIST (N when none).
    public var flagLetters: String {
        var s = ""
        if isMonitor { s += "O" }
        if isBlocked { s += "b" }
        if inMulti { s += "x" }
        if dirtyCAS { s += "d" }
        if closeAfterReply { s += "c" }
        if noEvict { s += "e" }
        if noTouch { s += "T" }
        if isUnixSocket { s += "U" }
        return s.isEmpty ? "N" : s
    }
}

public struct WatchedKey: Hashable {
    public let db: Int
    public let key: Bytes
    /// The key was already logically expired when WATCH ran (it does not count as touched
    /// when it is later reaped).
    public var expiredAtWatch = false

    public static func == (a: WatchedKey, b: WatchedKey) -> Bool { a.db == b.db && a.key == b.key }
    public func hash(into h: inout Hasher) { h.combine(db); h.combine(key) }
}
