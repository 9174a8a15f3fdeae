// Hash values (HSET and friends).
//
// Two encodings, as in Redis 7.0, with Redis's names for OBJECT ENCODING:
//
//   listpack   field, value, field, value, … in one PackedList, in insertion order
//              (HGETALL on a small hash answers in the order Redis does)
//   hashtable  one HashFieldNode per field in a MemberTable (incremental rehash, random
//              sampling for HRANDFIELD, reverse-binary HSCAN cursor)
//
// A hash starts packed and converts once, for good, when it would hold more than
// hash-max-listpack-entries fields or a field or value longer than hash-max-listpack-value
// bytes. It never converts back (Redis does not either, except when loading an RDB).

/// A hash field node in the table encoding: the MemberTable link and field, then the value.
///
///   +0 link  +8 field (Bytes)  +32 value (Bytes)      56 bytes, a 64-byte malloc chunk
struct HashFieldNode {
    static let size = MemberNode.payloadOffset + MemoryLayout<Bytes>.stride

    static func allocate(_ field: Bytes, _ value: Bytes) -> MemberNode {
        let n = MemberNode.allocate(size: size, key: field)
        (n.raw + MemberNode.payloadOffset).bindMemory(to: Bytes.self, capacity: 1).initialize(to: value)
        return n
    }

    static func free(_ n: MemberNode) {
        n.payloadBytes.deinitialize(count: 1)
        n.free()
    }
}

extension MemberNode {
    /// The value of a hash field node.
    public var value: Bytes {
        get { payloadBytes.pointee }
        nonmutating set { payloadBytes.pointee = newValue }
    }
}

/// The size limits of the compact encodings (from EngineConfig) and the hash seed for the
/// tables the big encodings use.
public struct CollectionLimits {
    public var hashMaxListpackEntries: Int
    public var hashMaxListpackValue: Int
    public var setMaxIntsetEntries: Int
    public var setMaxListpackEntries: Int
    public var setMaxListpackValue: Int
    public var zsetMaxListpackEntries: Int
    public var zsetMaxListpackValue: Int
    /// list-max-listpack-size: the node cap of lists built with these limits.
    public var listMaxListpackSize: Int
    public var seed: SipHashSeed

    public init(_ config: EngineConfig, seed: SipHashSeed) {
        hashMaxListpackEntries = config.hashMaxListpackEntries
        hashMaxListpackValue = config.hashMaxListpackValue
        setMaxIntsetEntries = config.setMaxIntsetEntries
        setMaxListpackEntries = config.setMaxListpackEntries
        setMaxListpackValue = config.setMaxListpackValue
        zsetMaxListpackEntries = config.zsetMaxListpackEntries
        zsetMaxListpackValue = config.zsetMaxListpackValue
        listMaxListpackSize = config.listMaxListpackSize
        self.seed = seed
    }
}

public final class HashValue {
    /// Pairs while packed (`table == nil`).
    public private(set) var packed = PackedList()
    /// The table once converted; its nodes (HashFieldNode) belong to this value.
    public private(set) var table: MemberTable?

    public init() {}

    /// A packed hash from field, value, field, value, … entries with no field twice, within
    /// the listpack limits (the snapshot loader builds these straight from the file).
    init(packed: consuming PackedList) {
        self.packed = packed
    }

    deinit { table?.forEach { HashFieldNode.free($0) } }

    public var count: Int { table?.count ?? packed.count / 2 }
    public var isPacked: Bool { table == nil }
    public var encodingName: String { table == nil ? "listpack" : "hashtable" }

    public func get(_ field: Bytes) -> Bytes? {
        if let t = table { return t.find(field)?.value }
        guard let at = packed.find(field, stride: 2) else { return nil }
        return packed.bytes(at: packed.next(after: at))
    }

    public func contains(_ field: Bytes) -> Bool {
        if let t = table { return t.find(field) != nil }
        return packed.find(field, stride: 2) != nil
    }

    /// Length of a field's value, 0 when missing (HSTRLEN).
    public func valueLength(_ field: Bytes) -> Int {
        if let t = table { return t.find(field)?.value.count ?? 0 }
        guard let at = packed.find(field, stride: 2) else { return 0 }
        return packed.entry(at: packed.next(after: at)).length
    }

    /// Converts to the table encoding ahead of adding elements longer than the packed limit
    /// (Redis's hashTypeTryConversion, run on all of a command's arguments first).
    public func convertIfAnyLonger(than maxValue: Int, _ items: ArraySlice<Bytes>, seed: SipHashSeed) {
        guard table == nil else { return }
        for b in items where b.count > maxValue {
            convertToTable(seed: seed)
            return
        }
    }

    /// Sizes a new packed hash for the pairs `items` (field, value, …) a command is about to
    /// set, so it is built in one allocation of the right size.
    public func reserve(pairs items: ArraySlice<Bytes>) {
        guard table == nil && packed.isEmpty else { return }
        var bytes = 0
        for b in items { bytes += PackedList.entrySize(b.count) }
        packed.reserveExactly(extra: bytes)
    }

    /// Sets `field` to `value`; returns true when the field is new.
    @discardableResult
    public func set(_ field: Bytes, _ value: Bytes, limits: CollectionLimits) -> Bool {
        if table == nil && (field.count > limits.hashMaxListpackValue || value.count > limits.hashMaxListpackValue) {
            convertToTable(seed: limits.seed)
        }
        if let t = table {
            let h = field.withUnsafeBytes { t.hash($0) }
            if let node = field.withUnsafeBytes({ t.find($0, hash: h) }) { node.value = value; return false }
            t.insert(HashFieldNode.allocate(field, value), hash: h)
            return true
        }
        if let at = packed.find(field, stride: 2) {
            packed.replace(at: packed.next(after: at), with: value)
            return false
        }
        packed.append(field)
        packed.append(value)
        if packed.count / 2 > limits.hashMaxListpackEntries { convertToTable(seed: limits.seed) }
        return true
    }

    /// Removes a field; returns whether it existed.
    @discardableResult
    public func remove(_ field: Bytes) -> Bool {
        if let t = table {
            guard let n = t.remove(field) else { return false }
            HashFieldNode.free(n)
            t.shrinkIfNeeded()
            return true
        }
        guard let at = packed.find(field, stride: 2) else { return false }
        packed.remove(at: at, entries: 2)
        return true
    }

    /// Visits every pair (insertion order while packed, table order after).
    public func forEach(_ body: (Bytes, Bytes) -> Void) {
        if let t = table {
            t.forEach { body($0.key, $0.value) }
            return
        }
        var offset = 0
        while offset < packed.endOffset {
            let valueAt = packed.next(after: offset)
            body(packed.bytes(at: offset), packed.bytes(at: valueAt))
            offset = packed.next(after: valueAt)
        }
    }

    public var pairs: [(field: Bytes, value: Bytes)] {
        var out: [(field: Bytes, value: Bytes)] = []
        out.reserveCapacity(count)
        forEach { out.append(($0, $1)) }
        return out
    }

    /// One uniformly chosen pair (HRANDFIELD without a count); nil when empty.
    public func randomPair<G: RandomNumberGenerator>(using rng: inout G) -> (field: Bytes, value: Bytes)? {
        if let t = table {
            guard let n = t.randomNode(using: &rng) else { return nil }
            return (n.key, n.value)
        }
        guard count > 0 else { return nil }
        let at = packed.offset(ofEntry: 2 * Int.random(in: 0..<count, using: &rng))
        return (packed.bytes(at: at), packed.bytes(at: packed.next(after: at)))
    }

    public func convertToTable(seed: SipHashSeed) {
        guard table == nil else { return }
        let t = MemberTable(seed: seed)
        t.reserve(count)
        forEach { t.insert(HashFieldNode.allocate($0, $1)) }
        table = t
        packed.removeAll()
    }

    public func copy() -> HashValue {
        let out = HashValue()
        if let t = table {
            let nt = MemberTable(seed: t.seed)
            nt.reserve(t.count)
            t.forEach { nt.insert(HashFieldNode.allocate($0.key, $0.value)) }
            out.table = nt
        } else {
            out.packed = packed.copy()
        }
        return out
    }

    /// An O(1) estimate (a 64-byte malloc chunk per field node, inline field and value) for
    /// the table encoding: lazy freeing asks this of every deleted value, so it must not walk.
    public var memoryBytes: Int {
        if let t = table { return t.bucketCount * 8 + t.count * 64 }
        return packed.memoryBytes
    }
}
