// Stream values as the RDB carries them (types 15, 19, 21). See docs/formats/snapshot.md,
// "Streams", for the byte layout; RDBReader parses it and RDBWriter produces it.

/// A stream entry ID: milliseconds and sequence number, ordered as Redis orders them.
public struct RDBStreamID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var ms: UInt64
    public var seq: UInt64

    public init(ms: UInt64, seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }

    public static let zero = RDBStreamID(ms: 0, seq: 0)

    public static func < (a: RDBStreamID, b: RDBStreamID) -> Bool {
        a.ms != b.ms ? a.ms < b.ms : a.seq < b.seq
    }

    public var description: String { "\(ms)-\(seq)" }

    /// The 16-byte big-endian form used for rax keys and PEL IDs in the file.
    var rawBigEndian: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(16)
        for k in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: ms >> UInt64(k))) }
        for k in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: seq >> UInt64(k))) }
        return out
    }

    init(rawBigEndian p: UnsafeRawBufferPointer) {
        ms = loadBE(p, 0, 8)
        seq = loadBE(p, 8, 8)
    }
}

/// One live (not deleted) stream entry with its field/value pairs in insertion order.
public struct RDBStreamEntry: Equatable, Sendable {
    public var id: RDBStreamID
    public var fields: [(field: Bytes, value: Bytes)]

    public init(id: RDBStreamID, fields: [(field: Bytes, value: Bytes)]) {
        self.id = id
        self.fields = fields
    }

    public static func == (a: RDBStreamEntry, b: RDBStreamEntry) -> Bool {
        a.id == b.id && a.fields.count == b.fields.count
            && zip(a.fields, b.fields).allSatisfy { $0.field == $1.field && $0.value == $1.value }
    }
}

/// The stream's metadata, written after its entries.
public struct RDBStreamMeta: Equatable, Sendable {
    /// Number of live entries.
    public var length: UInt64
    public var lastID: RDBStreamID
    /// Stored from stream v2 (RDB 10) on; nil when read from a v1 stream.
    public var firstID: RDBStreamID?
    public var maxDeletedID: RDBStreamID?
    public var entriesAdded: UInt64?

    public init(length: UInt64, lastID: RDBStreamID, firstID: RDBStreamID? = nil,
                maxDeletedID: RDBStreamID? = nil, entriesAdded: UInt64? = nil) {
        self.length = length
        self.lastID = lastID
        self.firstID = firstID
        self.maxDeletedID = maxDeletedID
        self.entriesAdded = entriesAdded
    }
}

/// A pending (delivered, not acknowledged) entry of a consumer group.
public struct RDBStreamPendingEntry: Equatable, Sendable {
    public var id: RDBStreamID
    public var deliveryTimeMs: Int64
    public var deliveryCount: UInt64
    /// The consumer that owns it (every pending entry has exactly one).
    public var consumer: Bytes

    public init(id: RDBStreamID, deliveryTimeMs: Int64, deliveryCount: UInt64, consumer: Bytes) {
        self.id = id
        self.deliveryTimeMs = deliveryTimeMs
        self.deliveryCount = deliveryCount
        self.consumer = consumer
    }
}

public struct RDBStreamConsumer: Equatable, Sendable {
    public var name: Bytes
    public var seenTimeMs: Int64
    /// Stored from stream v3 (RDB 11) on; nil when not stored.
    public var activeTimeMs: Int64?
    /// IDs of the pending entries this consumer owns, ascending.
    public var pending: [RDBStreamID]

    public init(name: Bytes, seenTimeMs: Int64, activeTimeMs: Int64? = nil, pending: [RDBStreamID]) {
        self.name = name
        self.seenTimeMs = seenTimeMs
        self.activeTimeMs = activeTimeMs
        self.pending = pending
    }
}

public struct RDBStreamGroup: Equatable, Sendable {
    public var name: Bytes
    public var lastID: RDBStreamID
    /// Stored from stream v2 on; -1 is Redis's "unknown" (SCG_INVALID_ENTRIES_READ); nil when
    /// not stored (v1).
    public var entriesRead: Int64?
    /// The group's pending entries list, ascending by ID.
    public var pending: [RDBStreamPendingEntry]
    public var consumers: [RDBStreamConsumer]

    public init(name: Bytes, lastID: RDBStreamID, entriesRead: Int64?,
                pending: [RDBStreamPendingEntry], consumers: [RDBStreamConsumer]) {
        self.name = name
        self.lastID = lastID
        self.entriesRead = entriesRead
        self.pending = pending
        self.consumers = consumers
    }
}

/// A whole stream value.
public struct RDBStream: Equatable, Sendable {
    public var entries: [RDBStreamEntry]
    public var meta: RDBStreamMeta
    public var groups: [RDBStreamGroup]

    public init(entries: [RDBStreamEntry], meta: RDBStreamMeta, groups: [RDBStreamGroup] = []) {
        self.entries = entries
        self.meta = meta
        self.groups = groups
    }
}
