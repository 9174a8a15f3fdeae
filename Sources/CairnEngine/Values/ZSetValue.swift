// Sorted-set values (ZADD and friends).
//
// Two encodings, with Redis 7.0's names:
//
//   listpack   member, score, member, score, … in one PackedList, kept sorted by
//              (score, member); the score entry is the shortest lossless form of the double
//              (its length says which, see `withScoreEntry`), little-endian.
//   skiplist   a SkipList for order and rank plus a MemberTable member → node for ZSCORE;
//              the skip-list nodes are the table's entries (one block of memory each).
//
// A sorted set is packed while it has at most zset-max-listpack-entries members, none longer
// than zset-max-listpack-value bytes. It converts to the skip list when it outgrows that and
// does not convert back. The STORE commands (ZUNIONSTORE, ZRANGESTORE, …) build their result
// by inserting into a new value, so a small result is packed, as Redis's
// zsetConvertToListpackIfNeeded makes it.
//
// Everything positional is expressed with 0-based ranks in ascending order, so a score or lex
// range becomes a rank range once (O(log N) on the skip list) and ZRANGE, ZCOUNT,
// ZREMRANGEBY* and the REV forms share one code path.

/// The skip-list encoding's two structures, in one object: a packed sorted set then holds one
/// optional reference, not two, which keeps ZSetValue in a 48-byte malloc chunk instead of 64
/// (small sorted sets are numerous).
final class ZSetTables {
    let list: SkipList
    /// Member → node; the nodes belong to `list`.
    let index: MemberTable

    init(list: SkipList, index: MemberTable) {
        self.list = list
        self.index = index
    }
}

public final class ZSetValue {
    public private(set) var packed = PackedList()
    private var tables: ZSetTables?

    var list: SkipList? { tables?.list }
    /// Member → node; the nodes belong to `list`.
    public var index: MemberTable? { tables?.index }

    public init() {}

    /// A packed sorted set from member, score entries already in (score, member) order with
    /// no member twice, within the listpack limits (the snapshot loader builds these).
    init(packed: consuming PackedList) {
        self.packed = packed
    }

    public var count: Int { list?.length ?? packed.count / 2 }
    public var isPacked: Bool { list == nil }
    public var encodingName: String { list == nil ? "listpack" : "skiplist" }

    // MARK: packed helpers

    /// Calls `body` with the packed entry payload for `score`: the shortest form that gives the
    /// same bits back, told apart by length (small zsets are numerous, and their scores are
    /// often small integers or halves; Redis's listpack keeps them as short text for the same
    /// reason):
    ///
    ///   1 byte   Int8      2 bytes  Int16      4 bytes  Float      8 bytes  Double
    @inline(__always)
    static func withScoreEntry<R>(_ score: Double, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if let i = Int16(exactly: score), Double(i).bitPattern == score.bitPattern {
            if let b = Int8(exactly: i) {
                var v = b
                return withUnsafeBytes(of: &v) { body($0) }
            }
            var v = i.littleEndian
            return withUnsafeBytes(of: &v) { body($0) }
        }
        let f = Float(score)
        if Double(f).bitPattern == score.bitPattern {
            var bits = f.bitPattern.littleEndian
            return withUnsafeBytes(of: &bits) { body($0) }
        }
        var bits = score.bitPattern.littleEndian
        return withUnsafeBytes(of: &bits) { body($0) }
    }

    static func scoreEntry(_ score: Double) -> Bytes {
        withScoreEntry(score) { Bytes($0) }
    }

    /// The score a `withScoreEntry` payload holds.
    @inline(__always)
    static func score(entry raw: UnsafeRawBufferPointer) -> Double {
        switch raw.count {
        case 1: return Double(raw.load(as: Int8.self))
        case 2: return Double(Int16(littleEndian: raw.loadUnaligned(as: Int16.self)))
        case 4: return Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self))))
        default: return Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)))
        }
    }

    @inline(__always)
    func packedScore(at offset: Int) -> Double {
        packed.withPayload(at: offset) { ZSetValue.score(entry: $0) }
    }

    /// Offsets of every member entry, in order (packed only).
    private var packedOffsets: [Int] {
        var out: [Int] = []
        out.reserveCapacity(count)
        var at = 0
        while at < packed.endOffset {
            out.append(at)
            at = packed.next(after: packed.next(after: at))
        }
        return out
    }

    // MARK: lookups

    public func score(_ member: Bytes) -> Double? {
        if let index { return index.find(member).map { ZSetNode($0).score } }
        guard let at = packed.find(member, stride: 2) else { return nil }
        return packedScore(at: packed.next(after: at))
    }

    /// 0-based ascending rank of a member.
    public func rank(_ member: Bytes) -> Int? {
        if let list, let index {
            guard let n = index.find(member) else { return nil }
            return list.rank(of: ZSetNode(n).score, member) - 1
        }
        var at = 0
        var r = 0
        while at < packed.endOffset {
            if packed.withPayload(at: at, { member.equals($0) }) { return r }
            at = packed.next(after: packed.next(after: at))
            r += 1
        }
        return nil
    }

    /// The element at a 0-based ascending rank.
    public func element(atRank r: Int) -> (member: Bytes, score: Double) {
        if let list {
            let n = list.node(atRank: r + 1)!
            return (n.key, n.score)
        }
        let at = packed.offset(ofEntry: 2 * r)
        return (packed.bytes(at: at), packedScore(at: packed.next(after: at)))
    }

    /// Visits the elements at ascending ranks `ranks`, from the low end or (reverse) the high.
    public func forEach(ranks: Range<Int>, reverse: Bool = false, _ body: (Bytes, Double) -> Void) {
        guard !ranks.isEmpty else { return }
        if let list {
            var node = list.node(atRank: (reverse ? ranks.upperBound - 1 : ranks.lowerBound) + 1)
            var left = ranks.count
            while let n = node, left > 0 {
                body(n.key, n.score)
                node = reverse ? n.backward : list.next(n)
                left -= 1
            }
            return
        }
        if reverse {
            let offsets = packedOffsets
            for r in ranks.reversed() {
                let at = offsets[r]
                body(packed.bytes(at: at), packedScore(at: packed.next(after: at)))
            }
        } else {
            var at = packed.offset(ofEntry: 2 * ranks.lowerBound)
            for _ in ranks {
                let scoreAt = packed.next(after: at)
                body(packed.bytes(at: at), packedScore(at: scoreAt))
                at = packed.next(after: scoreAt)
            }
        }
    }

    /// Every element in ascending order.
    public var elements: [(member: Bytes, score: Double)] {
        var out: [(member: Bytes, score: Double)] = []
        out.reserveCapacity(count)
        forEach(ranks: 0..<count) { out.append(($0, $1)) }
        return out
    }

    /// The ranks of the elements whose scores fall in `range`.
    public func ranks(in range: ScoreRange) -> Range<Int> {
        if range.isEmpty { return 0..<0 }
        let lo: Int, hi: Int
        if let list {
            lo = list.countPrefix { !range.aboveMin($0.score) }
            hi = list.countPrefix { range.belowMax($0.score) }
        } else {
            var l = 0, h = 0, at = 0
            while at < packed.endOffset {
                let scoreAt = packed.next(after: at)
                let s = packedScore(at: scoreAt)
                if !range.aboveMin(s) { l += 1 }
                if range.belowMax(s) { h += 1 } else { break }
                at = packed.next(after: scoreAt)
            }
            lo = l; hi = h
        }
        return lo < hi ? lo..<hi : lo..<lo
    }

    /// The ranks of the elements whose members fall in `range` (meaningful when all scores
    /// are equal, as for Redis).
    public func ranks(in range: LexRange) -> Range<Int> {
        if range.isEmpty { return 0..<0 }
        let lo: Int, hi: Int
        if let list {
            lo = list.countPrefix { !range.aboveMin($0.key) }
            hi = list.countPrefix { range.belowMax($0.key) }
        } else {
            // As Redis's listpack scan: the first member at or above min, then members while
            // at or below max.
            var l = 0, at = 0
            while at < packed.endOffset && !range.aboveMin(packed.bytes(at: at)) {
                at = packed.next(after: packed.next(after: at))
                l += 1
            }
            var h = l
            while at < packed.endOffset && range.belowMax(packed.bytes(at: at)) {
                at = packed.next(after: packed.next(after: at))
                h += 1
            }
            lo = l; hi = h
        }
        return lo < hi ? lo..<hi : lo..<lo
    }

    /// A member looked up for a change (ZADD): its score when present, and what `insert` or
    /// `update` need so that they do not look it up (or hash it) again. Valid until the
    /// value changes.
    public struct Probe {
        public let score: Double?
        /// The member's node (skip list, present).
        let node: ZSetNode?
        /// The member table's hash of the member; nil when packed.
        let hash: Int?
    }

    public func probe(_ member: Bytes) -> Probe {
        if let index {
            let h = member.withUnsafeBytes { index.hash($0) }
            guard let n = member.withUnsafeBytes({ index.find($0, hash: h) }) else {
                return Probe(score: nil, node: nil, hash: h)
            }
            let node = ZSetNode(n)
            return Probe(score: node.score, node: node, hash: h)
        }
        return Probe(score: score(member), node: nil, hash: nil)
    }

    // MARK: changes

    /// Adds a member that is not present.
    public func insert(_ member: Bytes, _ score: Double, limits: CollectionLimits) {
        insert(member, score, hash: nil, limits: limits)
    }

    /// `insert` after `probe` found the member absent.
    public func insert(_ member: Bytes, _ score: Double, probe: Probe, limits: CollectionLimits) {
        insert(member, score, hash: probe.hash, limits: limits)
    }

    /// `hash`: the member table's hash of `member` when the value had the table already.
    private func insert(_ member: Bytes, _ score: Double, hash: Int?, limits: CollectionLimits) {
        if list == nil && (count + 1 > limits.zsetMaxListpackEntries || member.count > limits.zsetMaxListpackValue) {
            convertToSkipList(seed: limits.seed)
        }
        if let list, let index {
            let node = list.insert(score, member).memberNode
            if let hash { index.insert(node, hash: hash) } else { index.insert(node) }
            return
        }
        packedInsert(member, score)
    }

    private func packedInsert(_ member: Bytes, _ score: Double) {
        var at = 0
        while at < packed.endOffset {
            let scoreAt = packed.next(after: at)
            let s = packedScore(at: scoreAt)
            if s > score || (s == score && packed.withPayload(at: at, { p in member.withUnsafeBytes { Bytes.compare(p, $0) > 0 } })) {
                break
            }
            at = packed.next(after: scoreAt)
        }
        // Redis's listpack stores the score as text, and "-0" reads back as the integer 0.
        packed.insert([member, ZSetValue.scoreEntry(score == 0 ? 0 : score)], at: at)
    }

    /// Changes the score of a member that is present.
    public func update(_ member: Bytes, to score: Double) {
        update(member, to: score, probe: nil)
    }

    /// `update` after `probe` found the member.
    public func update(_ member: Bytes, to score: Double, probe: Probe?) {
        if let list, let index {
            list.updateScore(probe?.node ?? ZSetNode(index.find(member)!), to: score)
            return
        }
        let at = packed.find(member, stride: 2)!
        packed.remove(at: at, entries: 2)
        packedInsert(member, score)
    }

    /// Removes a member; returns whether it was present.
    @discardableResult
    public func remove(_ member: Bytes) -> Bool {
        if let list, let index {
            guard let n = index.remove(member) else { return false }
            list.delete(ZSetNode(n).score, member)?.free()
            index.shrinkIfNeeded()
            return true
        }
        guard let at = packed.find(member, stride: 2) else { return false }
        packed.remove(at: at, entries: 2)
        return true
    }

    /// Removes the elements at ascending ranks `ranks`; returns how many.
    @discardableResult
    public func removeRanks(_ ranks: Range<Int>) -> Int {
        guard !ranks.isEmpty else { return 0 }
        if let list, let index {
            let removed = list.deleteRanks(ranks)
            for n in removed {
                n.keyPointer.pointee.withUnsafeBytes { _ = index.remove($0) }
                n.free()
            }
            index.shrinkIfNeeded()
            return removed.count
        }
        packed.remove(at: packed.offset(ofEntry: 2 * ranks.lowerBound), entries: 2 * ranks.count)
        return ranks.count
    }

    public func convertToSkipList(seed: SipHashSeed) {
        guard list == nil else { return }
        let l = SkipList(seed: seed.k0 ^ 0x5DEECE66D)
        let t = MemberTable(seed: seed)
        t.reserve(count)
        forEach(ranks: 0..<count) { m, s in t.insert(l.insert(s, m).memberNode) }
        tables = ZSetTables(list: l, index: t)
        packed.removeAll()
    }

    public func copy() -> ZSetValue {
        let out = ZSetValue()
        if let list, let index {
            let l = SkipList()
            let t = MemberTable(seed: index.seed)
            t.reserve(index.count)
            var n = list.first
            while let x = n {
                t.insert(l.insert(x.score, x.key).memberNode)
                n = list.next(x)
            }
            out.tables = ZSetTables(list: l, index: t)
        } else {
            out.packed = packed.copy()
        }
        return out
    }

    /// O(1) estimate (see HashValue.memoryBytes): nodes average about 70 bytes of malloc
    /// chunk (64 for the three quarters with one level).
    public var memoryBytes: Int {
        if let index { return index.bucketCount * 8 + index.count * 70 }
        return packed.memoryBytes
    }
}
