// Whole-file convenience over RDBReader: every key with its whole value in memory. For tools,
// tests and small files; the server loads through the streaming events instead.

/// A whole value as read from an RDB file. Elements are in file order.
public enum RDBValue: Equatable, Sendable {
    case string(Bytes)
    case list([Bytes])
    case set([Bytes])
    case hash([(field: Bytes, value: Bytes, expireAtMs: Int64?)])
    case zset([(member: Bytes, score: Double)])
    case stream(RDBStream)

    public static func == (a: RDBValue, b: RDBValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y
        case (.list(let x), .list(let y)): return x == y
        case (.set(let x), .set(let y)): return x == y
        case (.hash(let x), .hash(let y)):
            return x.count == y.count && zip(x, y).allSatisfy {
                $0.field == $1.field && $0.value == $1.value && $0.expireAtMs == $1.expireAtMs
            }
        case (.zset(let x), .zset(let y)):
            return x.count == y.count && zip(x, y).allSatisfy {
                $0.member == $1.member && $0.score.bitPattern == $1.score.bitPattern
            }
        case (.stream(let x), .stream(let y)): return x == y
        default: return false
        }
    }

    public var kind: RDBValueKind {
        switch self {
        case .string: return .string
        case .list: return .list
        case .set: return .set
        case .hash: return .hash
        case .zset: return .zset
        case .stream: return .stream
        }
    }
}

public struct RDBKeyRecord {
    public var db: Int
    public var key: Bytes
    public var value: RDBValue
    public var expireAtMs: Int64?
    public var idle: UInt64?
    public var freq: UInt8?
    /// The on-disk type byte (RDBType raw value) the value was stored with.
    public var encoding: UInt8

    public init(db: Int, key: Bytes, value: RDBValue, expireAtMs: Int64? = nil, idle: UInt64? = nil,
                freq: UInt8? = nil, encoding: UInt8 = 0) {
        self.db = db
        self.key = key
        self.value = value
        self.expireAtMs = expireAtMs
        self.idle = idle
        self.freq = freq
        self.encoding = encoding
    }
}

public struct RDBFile {
    public var version: Int
    public var aux: [(Bytes, Bytes)]
    public var keys: [RDBKeyRecord]
    public var functions: [Bytes]
    /// The stored checksum; nil before RDB 5, 0 when the writer did not compute one.
    public var checksum: UInt64?
    /// Bytes the RDB stream occupied (an AOF with an RDB preamble continues after this).
    public var byteCount: Int

    /// The value of an AUX field, if present.
    public func auxValue(_ key: String) -> Bytes? {
        let k = Bytes(key)
        return aux.first(where: { $0.0 == k })?.1
    }

    /// The record of a key in a database, if present.
    public func record(_ key: Bytes, db: Int = 0) -> RDBKeyRecord? {
        keys.first(where: { $0.db == db && $0.key == key })
    }
}

/// Reads a whole RDB stream held in memory. Bytes after the checksum (an AOF tail after an RDB
/// preamble) are ignored; `byteCount` says where the RDB ended.
public func readRDB(_ bytes: [UInt8], verifyChecksum: Bool = true) throws -> RDBFile {
    let reader = RDBReader(source: RDBMemorySource(bytes), verifyChecksum: verifyChecksum)
    var file = RDBFile(version: 0, aux: [], keys: [], functions: [], checksum: nil, byteCount: 0)
    var db = 0
    var record: RDBKeyRecord? = nil
    var list = [Bytes]()
    var hash = [(field: Bytes, value: Bytes, expireAtMs: Int64?)]()
    var zset = [(member: Bytes, score: Double)]()
    var entries = [RDBStreamEntry]()
    var meta: RDBStreamMeta? = nil
    var groups = [RDBStreamGroup]()

    while let event = try reader.next() {
        switch event {
        case .header(let version):
            file.version = version
        case .aux(let k, let v):
            file.aux.append((k, v))
        case .selectDB(let n):
            db = n
        case .resizeDB, .slotInfo, .moduleAux:
            break
        case .function(let source):
            file.functions.append(source)
        case .keyBegin(let key, let kind, let encoding, let expireAtMs, let idle, let freq):
            let empty: RDBValue
            switch kind {
            case .string: empty = .string(Bytes())
            case .list: empty = .list([])
            case .set: empty = .set([])
            case .zset: empty = .zset([])
            case .hash: empty = .hash([])
            case .stream, .module: empty = .stream(RDBStream(entries: [], meta: RDBStreamMeta(length: 0, lastID: .zero)))
            }
            record = RDBKeyRecord(db: db, key: key, value: empty, expireAtMs: expireAtMs, idle: idle, freq: freq, encoding: encoding)
            list.removeAll()
            hash.removeAll()
            zset.removeAll()
            entries.removeAll()
            meta = nil
            groups.removeAll()
        case .string(let s):
            record?.value = .string(s)
        case .listElement(let e), .setMember(let e):
            list.append(e)
        case .hashField(let f, let v, let expireAtMs):
            hash.append((f, v, expireAtMs))
        case .zsetMember(let m, let score):
            zset.append((m, score))
        case .streamEntry(let e):
            entries.append(e)
        case .streamMeta(let m):
            meta = m
        case .streamGroup(let g):
            groups.append(g)
        case .keyEnd:
            guard var r = record else { break }
            switch r.value {
            case .list: r.value = .list(list)
            case .set: r.value = .set(list)
            case .hash: r.value = .hash(hash)
            case .zset: r.value = .zset(zset)
            case .stream:
                r.value = .stream(RDBStream(entries: entries, meta: meta ?? RDBStreamMeta(length: 0, lastID: .zero), groups: groups))
            case .string: break
            }
            file.keys.append(r)
            record = nil
        case .end(let checksum, _):
            file.checksum = checksum
        }
    }
    file.byteCount = reader.offset
    return file
}
