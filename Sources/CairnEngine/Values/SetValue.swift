// Set values (SADD and friends).
//
// Two encodings, as in Redis 7.0 (7.2 added a listpack form for small sets of strings; 7.0 has
// none, and OBJECT ENCODING reports what 7.0 reports):
//
//   intset     a sorted array of 64-bit integers, while every member is a canonical integer
//              (string2ll rules: "12", not "012" or "+12") and there are at most
//              set-max-intset-entries of them. SMEMBERS answers in ascending order, as Redis.
//   hashtable  one 32-byte node per member (link + member) in a MemberTable.
//
// A set converts to the table once, for good, on the first non-integer member or when it
// outgrows the intset limit.

public final class SetValue {
    /// Members in ascending order while the set is an intset (`table == nil`).
    public private(set) var ints: [Int64] = []
    /// The table once converted; its nodes belong to this value.
    public private(set) var table: MemberTable?

    /// Bytes of a member node: the table's link and key, no payload.
    static let nodeSize = MemberNode.payloadOffset

    /// An empty intset (Redis starts set results and integer members this way).
    public init() {}

    deinit { table?.forEach { $0.free() } }

    public var count: Int { table?.count ?? ints.count }
    public var isIntset: Bool { table == nil }
    public var encodingName: String { table == nil ? "intset" : "hashtable" }

    @inline(__always)
    static func integer(_ b: Bytes) -> Int64? {
        b.count <= 20 ? b.withUnsafeBytes { parseInt64($0) } : nil
    }

    /// Index of `v` in `ints`, or where it would be inserted.
    @inline(__always)
    func intIndex(_ v: Int64) -> (index: Int, found: Bool) {
        var lo = 0, hi = ints.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if ints[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return (lo, lo < ints.count && ints[lo] == v)
    }

    public func contains(_ member: Bytes) -> Bool {
        if let t = table { return t.find(member) != nil }
        guard let v = SetValue.integer(member) else { return false }
        return intIndex(v).found
    }

    /// Adds a member; returns true when it was not there.
    @discardableResult
    public func add(_ member: Bytes, limits: CollectionLimits) -> Bool {
        if table == nil {
            if let v = SetValue.integer(member) {
                let (i, found) = intIndex(v)
                if found { return false }
                ints.insert(v, at: i)
                if ints.count > limits.setMaxIntsetEntries { convertToTable(seed: limits.seed) }
                return true
            }
            convertToTable(seed: limits.seed)
        }
        let t = table!
        if t.find(member) != nil { return false }
        t.insert(MemberNode.allocate(size: SetValue.nodeSize, key: member))
        return true
    }

    /// Removes a member; returns whether it was there.
    @discardableResult
    public func remove(_ member: Bytes) -> Bool {
        if let t = table {
            guard let n = t.remove(member) else { return false }
            n.free()
            t.shrinkIfNeeded()
            return true
        }
        guard let v = SetValue.integer(member) else { return false }
        let (i, found) = intIndex(v)
        if !found { return false }
        ints.remove(at: i)
        return true
    }

    /// Visits every member (ascending for an intset, table order after).
    public func forEach(_ body: (Bytes) -> Void) {
        if let t = table {
            t.forEach { body($0.key) }
        } else {
            for v in ints { body(Bytes(v)) }
        }
    }

    public var members: [Bytes] {
        var out: [Bytes] = []
        out.reserveCapacity(count)
        forEach { out.append($0) }
        return out
    }

    /// A uniformly chosen member (close to uniform for the table: bucket, then chain).
    public func randomMember<G: RandomNumberGenerator>(using rng: inout G) -> Bytes? {
        if let t = table { return t.randomNode(using: &rng)?.key }
        guard !ints.isEmpty else { return nil }
        return Bytes(ints[Int.random(in: 0..<ints.count, using: &rng)])
    }

    public func convertToTable(seed: SipHashSeed) {
        guard table == nil else { return }
        let t = MemberTable(seed: seed)
        t.reserve(ints.count)
        for v in ints { t.insert(MemberNode.allocate(size: SetValue.nodeSize, key: Bytes(v))) }
        table = t
        ints = []
    }

    public func copy() -> SetValue {
        let out = SetValue()
        if let t = table {
            let nt = MemberTable(seed: t.seed)
            nt.reserve(t.count)
            t.forEach { nt.insert(MemberNode.allocate(size: SetValue.nodeSize, key: $0.key)) }
            out.table = nt
        } else {
            out.ints = ints
        }
        return out
    }

    /// O(1) estimate (see HashValue.memoryBytes): a 48-byte malloc chunk per member node.
    public var memoryBytes: Int {
        if let t = table { return t.bucketCount * 8 + t.count * 48 }
        return ints.capacity * 8
    }
}
