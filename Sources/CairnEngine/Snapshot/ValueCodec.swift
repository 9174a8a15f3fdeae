// ValueCodec: the one place where an engine `Value` meets the RDB encodings, both ways.
//
//   Value ──write(_:key:value:expireAtMs:)──▶ RDBWriter (snapshots, AOF base, DUMP)
//   RDBValue ──value(from:)──▶ Value          (start-up load, DEBUG RELOAD, RESTORE, full sync)
//
// Every kind of value must round-trip through here before it is done (see Value.swift). Each
// direction is a single `switch`, so a new value kind is one case in each; the compiler points
// at both when a case is added to `Value`.
//
// What Redis 7.0 writes for strings, and so do we (RDBWriter applies rdbSaveRawString's rules):
//   .int(v)           the decimal text; RDBWriter stores it as C0/C1/C2 when it fits 32 bits
//   .string(bytes)    raw, or LZF when the writer compresses strings and that saves 4+ bytes
// A string read back is compacted again (`Value.string(compacting:)`), so "123" is an integer
// value after a load exactly as it was before the save.

public enum ValueCodec {
    /// A value the engine cannot hold yet: loading stops rather than drop the key.
    public struct UnsupportedValue: Error, CustomStringConvertible {
        public let kind: RDBValueKind
        public var detail = ""
        public var description: String {
            detail.isEmpty ? "values of type \(kind) are not supported by this version of Cairn" : detail
        }
    }

    static let hashFieldTTLDetail = "hash fields with their own TTL (Redis 7.4) are not supported by this version of Cairn"

    /// Writes one stored key; an inline string goes out from the entry's own bytes, with no copy.
    public static func write(_ writer: RDBWriter, entry: KeyEntry) {
        let expireAt = entry.hasExpiry ? entry.expireAtMs : nil
        let done: Bool? = entry.withInlineString { value in
            entry.withKeyBytes { writer.string(key: $0, value: value, expireAtMs: expireAt) }
            return true
        }
        if done == nil { write(writer, key: entry.key, value: entry.value, expireAtMs: expireAt) }
    }

    /// Writes one key the way Redis writes it: [expire] type key value. Collections keep the
    /// encoding they have in memory, as Redis's rdbSaveObject does: a packed hash or zset is a
    /// listpack, an intset set an intset, anything converted to a table is written plain.
    /// A listpack set is a listpack (type 20) from RDB version 11, as Redis 7.2 writes it;
    /// version 10 has no such type, so it is written plain there and Redis 7.0 loads it.
    public static func write(_ writer: RDBWriter, key: Bytes, value: Value, expireAtMs: Int64?) {
        switch value {
        case .string(let bytes):
            writer.string(key: key, value: bytes, expireAtMs: expireAtMs)
        case .int(let v):
            writer.string(key: key, value: Bytes(v), expireAtMs: expireAtMs)
        case .hash(let h):
            let packed = h.isPacked ? Int.max : 0
            writer.hash(key: key, fields: h.pairs, expireAtMs: expireAtMs,
                        maxListpackEntries: packed, maxListpackValue: packed)
        case .list(let l):
            writer.list(key: key, elements: l.elements, expireAtMs: expireAtMs)
        case .set(let s):
            writer.set(key: key, members: s.members, expireAtMs: expireAtMs,
                       maxIntsetEntries: s.isIntset ? Int.max : 0,
                       maxListpackEntries: s.isListpack ? Int.max : 0, maxListpackValue: Int.max)
        case .zset(let z):
            let packed = z.isPacked ? Int.max : 0
            writer.zset(key: key, members: z.elements, expireAtMs: expireAtMs,
                        maxListpackEntries: packed, maxListpackValue: packed)
        // collections: a new value kind is one RDBWriter call here and one case below.
        }
    }

    /// The engine value for a value read from an RDB stream, in the encoding `engine`'s
    /// limits choose (hash-max-listpack-*, set-max-intset-entries, set-max-listpack-*,
    /// zset-max-listpack-*), as
    /// Redis re-derives encodings on load. Throws `UnsupportedValue` for what the engine does
    /// not hold (the caller reports the key and file offset).
    public static func value(from rdb: RDBValue, for engine: Engine, rdbType: UInt8? = nil) throws -> Value {
        try value(from: rdb, limits: CollectionLimits(engine.config, seed: engine.seed), rdbType: rdbType)
    }

    /// The same with the limits taken once (the snapshot loader's decoding thread does not
    /// read the engine). `rdbType`, the value's type byte when known, tells a set that was an
    /// RDB listpack (20), which Redis 7.2 keeps a listpack whatever its members.
    public static func value(from rdb: RDBValue, limits: CollectionLimits, rdbType: UInt8? = nil) throws -> Value {
        switch rdb {
        case .string(let bytes):
            return .string(compacting: bytes)
        case .hash(let fields):
            if fields.contains(where: { $0.expireAtMs != nil }) {
                throw UnsupportedValue(kind: .hash, detail: hashFieldTTLDetail)
            }
            let h = HashValue()
            for f in fields { h.set(f.field, f.value, limits: limits) }
            return .hash(h)
        case .list(let elements):
            return .list(ListValue(elements, fill: limits.listMaxListpackSize))
        case .set(let members) where rdbType == RDBType.setListpack.rawValue:
            let s = SetValue.loadingListpack(count: members.count, limits: limits)
            for m in members { _ = m.withUnsafeBytes { s.addLoadedListpackMember($0, limits: limits, checkDuplicate: true) } }
            s.finishLoadedListpack(limits: limits)
            return .set(s)
        case .set(let members):
            let s = SetValue.loading(count: members.count, limits: limits)
            for m in members { _ = m.withUnsafeBytes { s.addLoaded($0, limits: limits, checkDuplicate: true) } }
            s.shrinkListpackToFit()
            return .set(s)
        case .zset(let members):
            let z = ZSetValue()
            for m in members { z.insert(m.member, m.score, limits: limits) }
            return .zset(z)
        // collections: streams when the engine holds them.
        case .stream: throw UnsupportedValue(kind: .stream)
        }
    }
}

/// Collects one key's events from an RDBReader into a whole `RDBValue` (what `readRDB` does
/// for a whole file, one key at a time, so a loader never holds more than one value twice).
public struct RDBKeyAssembler {
    public private(set) var key: Bytes?
    public private(set) var kind: RDBValueKind = .string
    /// The value's RDB type byte.
    public private(set) var encoding: UInt8 = 0
    public private(set) var expireAtMs: Int64?
    public private(set) var idle: UInt64?
    public private(set) var freq: UInt8?
    var string = Bytes()
    var elements: [Bytes] = []
    var hash: [(field: Bytes, value: Bytes, expireAtMs: Int64?)] = []
    var zset: [(member: Bytes, score: Double)] = []
    var entries: [RDBStreamEntry] = []
    var meta: RDBStreamMeta?
    var groups: [RDBStreamGroup] = []

    public init() {}

    /// Feeds one event; returns the finished value at `.keyEnd`, nil otherwise. Events that are
    /// not part of a key (aux, selectDB, ...) are ignored.
    public mutating func feed(_ event: RDBEvent) -> RDBValue? {
        switch event {
        case .keyBegin(let k, let kind, let encoding, let expire, let idle, let freq):
            key = k
            self.kind = kind
            self.encoding = encoding
            expireAtMs = expire
            self.idle = idle
            self.freq = freq
            string = Bytes()
            elements.removeAll(keepingCapacity: true)
            hash.removeAll(keepingCapacity: true)
            zset.removeAll(keepingCapacity: true)
            entries.removeAll()
            meta = nil
            groups.removeAll()
        case .string(let s): string = s
        case .listElement(let e), .setMember(let e): elements.append(e)
        case .hashField(let f, let v, let t): hash.append((f, v, t))
        case .zsetMember(let m, let s): zset.append((m, s))
        case .streamEntry(let e): entries.append(e)
        case .streamMeta(let m): meta = m
        case .streamGroup(let g): groups.append(g)
        case .keyEnd:
            switch kind {
            case .string: return .string(string)
            case .list: return .list(elements)
            case .set: return .set(elements)
            case .hash: return .hash(hash)
            case .zset: return .zset(zset)
            case .stream, .module:
                return .stream(RDBStream(entries: entries, meta: meta ?? RDBStreamMeta(length: 0, lastID: .zero), groups: groups))
            }
        default: break
        }
        return nil
    }
}
