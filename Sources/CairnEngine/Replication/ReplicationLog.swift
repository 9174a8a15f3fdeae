// The replication log (DESIGN.md §1).
//
// Every write appends its effect record — the command in a deterministic form — here, in
// execution order, as RESP multibulk bytes. The log is addressed by a byte offset
// (`master_repl_offset`) under a 40-hex-digit replication id. Consumers are readers at an
// offset: the AOF writer takes the bytes appended since the last tick (`takePending`), the
// backlog keeps the last `repl-backlog-size` bytes for partial resync, and replica streams
// (later issues) read from the backlog.
//
//   offset:  first_byte_offset ........................ master_repl_offset
//   backlog: [ oldest kept byte ... newest byte ]        (ring of backlogBytesMax)
//
// A SELECT record is written whenever the database of the next record differs from the one
// the log last selected, exactly as Redis does, so every reader can replay the log alone.

public final class ReplicationLog {
    public private(set) var replicationID: String
    /// Offset of the byte after the last one appended (Redis's master_repl_offset).
    public private(set) var offset: Int64 = 0
    /// The database the stream last selected; -1 forces a SELECT before the next record.
    public private(set) var selectedDB = -1

    public private(set) var backlog: BacklogRing
    /// Whether records are kept in the backlog. Redis creates its backlog when the first
    /// replica attaches; until something can read the bytes (a replica, or the AOF through
    /// `keepsPending`), the server only counts them: the offset advances by each record's
    /// encoded length, nothing is encoded or stored.
    public private(set) var backlogActive: Bool
    /// Bytes appended since the last `takePending()` (the AOF's per-tick batch).
    private var pending: [UInt8] = []
    public var keepsPending = false

    public init(backlogBytesMax: Int = 1024 * 1024, replicationID: String? = nil, backlogActive: Bool = true) {
        self.replicationID = replicationID ?? ReplicationLog.newReplicationID()
        self.backlog = BacklogRing(capacity: backlogBytesMax, startOffset: 0)
        self.backlogActive = backlogActive
    }

    /// Starts keeping records from the current offset on (a replica attached).
    public func activateBacklog() {
        guard !backlogActive else { return }
        backlog = BacklogRing(capacity: backlog.capacity, startOffset: offset)
        backlogActive = true
    }

    /// Stops keeping records and frees the backlog (no reader left).
    public func deactivateBacklog() {
        guard backlogActive else { return }
        backlog = BacklogRing(capacity: backlog.capacity, startOffset: offset)
        backlogActive = false
    }

    public static func newReplicationID() -> String {
        var g = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef")
        return String((0..<40).map { _ in hex[Int(g.next() % 16)] })
    }

    /// Reused encoding buffer: appending a record allocates nothing in the steady state.
    private var scratch: [UInt8] = []

    /// Appends one effect record for database `db`.
    public func append(db: Int, _ argv: [Bytes]) {
        if db != selectedDB {
            appendEncoded([Bytes("SELECT"), Bytes(db)])
            selectedDB = db
        }
        appendEncoded(argv)
    }

    /// Appends a record that does not depend on the selected database (MULTI, EXEC, PING).
    public func appendGlobal(_ argv: [Bytes]) {
        appendEncoded(argv)
    }

    private func appendEncoded(_ argv: [Bytes]) {
        guard backlogActive || keepsPending else {
            offset += Int64(encodedCommandLength(argv))
            return
        }
        scratch.removeAll(keepingCapacity: true)
        encodeCommand(argv, into: &scratch)
        scratch.withUnsafeBytes { bytes in
            backlog.append(bytes)
            if keepsPending { pending.append(contentsOf: bytes) }
        }
        offset += Int64(scratch.count)
    }

    /// The bytes appended since the previous call.
    public func takePending() -> [UInt8] {
        let out = pending
        pending.removeAll(keepingCapacity: true)
        return out
    }

    /// Forces the next record to start with SELECT (a new consumer attached mid-stream).
    public func forgetSelectedDB() { selectedDB = -1 }

    /// Bytes of `argv` as a RESP multibulk: "*n\r\n", then "$len\r\n" + bytes + "\r\n" each.
    func encodedCommandLength(_ argv: [Bytes]) -> Int {
        @inline(__always) func digits(_ n: Int) -> Int {
            var d = 1, v = n
            while v >= 10 { v /= 10; d += 1 }
            return d
        }
        var total = 3 + digits(argv.count)
        for a in argv { total += 5 + digits(a.count) + a.count }
        return total
    }

    public func resizeBacklog(_ bytes: Int) {
        backlog.resize(capacity: bytes)
    }
}

/// The last `capacity` bytes of the log, addressed by log offset.
public struct BacklogRing {
    private var storage: [UInt8]
    private var head = 0          // index of the next byte to write
    public private(set) var count = 0
    public private(set) var capacity: Int
    /// Log offset of the byte after the newest byte held.
    public private(set) var endOffset: Int64

    public init(capacity: Int, startOffset: Int64) {
        self.capacity = max(capacity, 16 * 1024)
        self.storage = []
        self.endOffset = startOffset
    }

    /// Log offset of the oldest byte held.
    public var firstOffset: Int64 { endOffset - Int64(count) }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if storage.isEmpty { storage = Array(repeating: 0, count: capacity) }
        endOffset += Int64(bytes.count)
        var src = bytes
        if src.count > capacity { src = UnsafeRawBufferPointer(rebasing: src[(src.count - capacity)...]) }
        while !src.isEmpty {
            let n = min(capacity - head, src.count)
            let h = head
            storage.withUnsafeMutableBytes { dst in
                dst.baseAddress!.advanced(by: h).copyMemory(from: src.baseAddress!, byteCount: n)
            }
            src = UnsafeRawBufferPointer(rebasing: src[n...])
            head = (head + n) % capacity
            count = min(count + n, capacity)
        }
    }

    /// The bytes from `offset` to the end, or nil when `offset` is not held.
    public func bytes(from offset: Int64) -> [UInt8]? {
        guard offset >= firstOffset && offset <= endOffset else { return nil }
        let n = Int(endOffset - offset)
        var out = [UInt8]()
        out.reserveCapacity(n)
        var i = (head - n + capacity) % capacity
        for _ in 0..<n {
            out.append(storage[i])
            i += 1
            if i == capacity { i = 0 }
        }
        return out
    }

    public mutating func resize(capacity newCapacity: Int) {
        let keep = bytes(from: max(firstOffset, endOffset - Int64(newCapacity))) ?? []
        let end = endOffset
        self = BacklogRing(capacity: newCapacity, startOffset: end - Int64(keep.count))
        if !keep.isEmpty { append(keep) }
    }
}
