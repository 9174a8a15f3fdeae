// The ordered index of big sorted sets: a skip list ordered by (score, member bytes) whose
// links carry spans, so a node's rank is the sum of the spans walked to reach it and rank,
// range-by-score, range-by-lex and the n-th element are all O(log N) expected.
//
//   level 2  H ─────────────── 3 ───────────────▶ C ─────▶ nil
//   level 1  H ──── 1 ───▶ A ──────── 2 ────────▶ C ─────▶ nil
//   level 0  H ─1─▶ A ─1─▶ B ─1─▶ C ─1─▶ nil          (spans: elements skipped + 1)
//                   ◀───── backward ────
//
// Ties in score are ordered by member bytes (memcmp, shorter first), as Redis does. Nodes are
// also the entries of the sorted set's member → node hash table (ChainedNode), so one
// allocation per element serves both indexes.
//
// Ownership: the member table holds every node strongly; the list's links (forward, backward,
// the per-operation `update` path) are unowned(unsafe), so walking the list costs no
// reference counting and freeing a million-node list is a flat walk of the table, never a
// chain of nested releases. A node must therefore leave the list before (or while) it leaves
// the table, which ZSetValue does in every removal. A node's levels live in one fixed
// allocation sized at creation (no array copy-on-write or exclusivity checks on the hot path).

public struct ZSetLevel {
    /// The next node at this level, not retained (see "Ownership" above).
    var next: Unmanaged<ZSetNode>?
    var span: Int

    init(forward: ZSetNode?, span: Int) {
        self.next = forward.map { Unmanaged.passUnretained($0) }
        self.span = span
    }

    var forward: ZSetNode? {
        get { next?.takeUnretainedValue() }
        set { next = newValue.map { Unmanaged.passUnretained($0) } }
    }
}

public final class ZSetNode: ChainedNode {
    public let key: Bytes
    public internal(set) var score: Double
    public var chainNext: ZSetNode?
    unowned(unsafe) var backward: ZSetNode?
    let levelCount: Int
    let levels: UnsafeMutablePointer<ZSetLevel>

    init(key: Bytes, score: Double, level: Int) {
        self.key = key
        self.score = score
        self.levelCount = level
        self.levels = .allocate(capacity: level)
        self.levels.initialize(repeating: ZSetLevel(forward: nil, span: 0), count: level)
    }

    deinit { levels.deallocate() }   // ZSetLevel is trivial: nothing to deinitialize

    /// The member.
    public var member: Bytes { key }
}

/// A score interval as ZRANGEBYSCORE takes it ("(1" excludes 1, "-inf", "+inf").
public struct ScoreRange {
    public var min: Double
    public var max: Double
    public var minExclusive: Bool
    public var maxExclusive: Bool

    public init(min: Double, max: Double, minExclusive: Bool = false, maxExclusive: Bool = false) {
        self.min = min
        self.max = max
        self.minExclusive = minExclusive
        self.maxExclusive = maxExclusive
    }

    @inline(__always) public func aboveMin(_ v: Double) -> Bool { minExclusive ? v > min : v >= min }
    @inline(__always) public func belowMax(_ v: Double) -> Bool { maxExclusive ? v < max : v <= max }

    /// True when no score can be inside.
    public var isEmpty: Bool { min > max || (min == max && (minExclusive || maxExclusive)) }
}

/// A member interval as ZRANGEBYLEX takes it ("[a", "(a", "-", "+").
public struct LexRange {
    public enum Bound {
        case negativeInfinity, positiveInfinity
        case inclusive(Bytes), exclusive(Bytes)
    }

    public var min: Bound
    public var max: Bound

    public init(min: Bound, max: Bound) {
        self.min = min
        self.max = max
    }

    public func aboveMin(_ m: Bytes) -> Bool {
        switch min {
        case .negativeInfinity: return true
        case .positiveInfinity: return false
        case .inclusive(let b): return !(m < b)
        case .exclusive(let b): return b < m
        }
    }

    public func belowMax(_ m: Bytes) -> Bool {
        switch max {
        case .negativeInfinity: return false
        case .positiveInfinity: return true
        case .inclusive(let b): return !(b < m)
        case .exclusive(let b): return m < b
        }
    }

    /// True when no member can be inside (Redis's zslIsInLexRange pre-check).
    public var isEmpty: Bool {
        switch (min, max) {
        case (.positiveInfinity, _), (_, .negativeInfinity): return true
        case (.negativeInfinity, _), (_, .positiveInfinity): return false
        case (.inclusive(let a), .inclusive(let b)): return b < a
        case (.inclusive(let a), .exclusive(let b)), (.exclusive(let a), .inclusive(let b)),
             (.exclusive(let a), .exclusive(let b)):
            return !(a < b)
        }
    }
}

/// An unowned node reference in the per-operation path.
struct NodeRef {
    unowned(unsafe) var node: ZSetNode
}

final class SkipList {
    static let maxLevel = 32

    let header: ZSetNode
    unowned(unsafe) var tail: ZSetNode?
    private(set) var length = 0
    private(set) var level = 1
    private var rngState: UInt64
    /// Reused per operation: the rightmost node visited at each level, and its rank.
    private let update: UnsafeMutablePointer<NodeRef>
    private let rank: UnsafeMutablePointer<Int>

    init(seed: UInt64 = 0x9E37_79B9_7F4A_7C15) {
        header = ZSetNode(key: Bytes(), score: 0, level: SkipList.maxLevel)
        rngState = seed | 1
        update = .allocate(capacity: SkipList.maxLevel)
        update.initialize(repeating: NodeRef(node: header), count: SkipList.maxLevel)
        rank = .allocate(capacity: SkipList.maxLevel)
        rank.initialize(repeating: 0, count: SkipList.maxLevel)
    }

    deinit {
        update.deallocate()
        rank.deallocate()
    }

    @inline(__always)
    static func less(_ s1: Double, _ m1: Bytes, _ s2: Double, _ m2: Bytes) -> Bool {
        s1 < s2 || (s1 == s2 && m1 < m2)
    }

    /// Level for a new node: each extra level with probability 1/4, as Redis's ZSKIPLIST_P.
    private func randomLevel() -> Int {
        var l = 1
        while l < SkipList.maxLevel {
            rngState ^= rngState << 13
            rngState ^= rngState >> 7
            rngState ^= rngState << 17
            if rngState & 3 != 0 { break }
            l += 1
        }
        return l
    }

    /// Fills `update`/`rank` with the last node before (score, member) at every level.
    private func locate(_ score: Double, _ member: Bytes) {
        // The walks below hold nodes as unretained references (the member table keeps them
        // alive), so stepping through the list does no reference counting.
        var x = Unmanaged.passUnretained(header)
        var i = level - 1
        while i >= 0 {
            rank[i] = i == level - 1 ? 0 : rank[i + 1]
            while let f = x._withUnsafeGuaranteedRef({ $0.levels[i].next }),
                  f._withUnsafeGuaranteedRef({ SkipList.less($0.score, $0.key, score, member) }) {
                rank[i] += x._withUnsafeGuaranteedRef { $0.levels[i].span }
                x = f
            }
            update[i].node = x.takeUnretainedValue()
            i -= 1
        }
    }

    /// Inserts a new node for a member that is not in the list.
    @discardableResult
    func insert(_ score: Double, _ member: Bytes) -> ZSetNode {
        let node = ZSetNode(key: member, score: score, level: randomLevel())
        link(node)
        return node
    }

    /// Links `node` (whose `levels` were sized by `randomLevel`) at its (score, member) place.
    private func link(_ node: ZSetNode) {
        locate(node.score, node.key)
        let lvl = node.levelCount
        if lvl > level {
            for i in level..<lvl {
                rank[i] = 0
                update[i].node = header
                header.levels[i].span = length
            }
            level = lvl
        }
        for i in 0..<lvl {
            node.levels[i].forward = update[i].node.levels[i].forward
            update[i].node.levels[i].forward = node
            node.levels[i].span = update[i].node.levels[i].span - (rank[0] - rank[i])
            update[i].node.levels[i].span = (rank[0] - rank[i]) + 1
        }
        if lvl < level {
            for i in lvl..<level { update[i].node.levels[i].span += 1 }
        }
        node.backward = update[0].node === header ? nil : update[0].node
        if let f = node.levels[0].forward { f.backward = node } else { tail = node }
        length += 1
    }

    /// Unlinks `x`, given `update` filled for it.
    private func unlink(_ x: ZSetNode) {
        for i in 0..<level {
            if update[i].node.levels[i].forward === x {
                update[i].node.levels[i].span += x.levels[i].span - 1
                update[i].node.levels[i].forward = x.levels[i].forward
            } else {
                update[i].node.levels[i].span -= 1
            }
        }
        if let f = x.levels[0].forward { f.backward = x.backward } else { tail = x.backward }
        while level > 1 && header.levels[level - 1].forward == nil { level -= 1 }
        length -= 1
    }

    /// Removes the node holding (score, member); returns it.
    @discardableResult
    func delete(_ score: Double, _ member: Bytes) -> ZSetNode? {
        locate(score, member)
        guard let x = update[0].node.levels[0].forward, x.score == score, x.key == member else { return nil }
        unlink(x)
        return x
    }

    /// Moves a node to the place of its new score (the node object stays the same, so the
    /// member table needs no change).
    func updateScore(_ node: ZSetNode, to newScore: Double) {
        // Stays in place when still between its neighbours: just rewrite the score.
        let prevOK = node.backward.map { SkipList.less($0.score, $0.key, newScore, node.key) } ?? true
        let nextOK = node.levels[0].forward.map { SkipList.less(newScore, node.key, $0.score, $0.key) } ?? true
        if prevOK && nextOK {
            node.score = newScore
            return
        }
        locate(node.score, node.key)
        unlink(node)
        node.score = newScore
        node.levels.update(repeating: ZSetLevel(forward: nil, span: 0), count: node.levelCount)
        node.backward = nil
        link(node)
    }

    /// 1-based rank of (score, member); 0 when absent.
    func rank(of score: Double, _ member: Bytes) -> Int {
        var r = 0
        var x = Unmanaged.passUnretained(header)
        let h = Unmanaged.passUnretained(header).toOpaque()
        var i = level - 1
        while i >= 0 {
            while let f = x._withUnsafeGuaranteedRef({ $0.levels[i].next }),
                  f._withUnsafeGuaranteedRef({ $0.score < score || ($0.score == score && !(member < $0.key)) }) {
                r += x._withUnsafeGuaranteedRef { $0.levels[i].span }
                x = f
            }
            if x.toOpaque() != h && x._withUnsafeGuaranteedRef({ $0.key == member }) { return r }
            i -= 1
        }
        return 0
    }

    /// The node at 1-based rank `r`.
    func node(atRank r: Int) -> ZSetNode? {
        guard r >= 1 && r <= length else { return nil }
        var traversed = 0
        var x = header
        var i = level - 1
        while i >= 0 {
            while let f = x.levels[i].forward, traversed + x.levels[i].span <= r {
                traversed += x.levels[i].span
                x = f
            }
            if traversed == r { return x }
            i -= 1
        }
        return nil
    }

    /// The number of leading nodes for which `before` holds (a prefix, as the order makes it).
    func countPrefix(while before: (ZSetNode) -> Bool) -> Int {
        var r = 0
        var x = header
        var i = level - 1
        while i >= 0 {
            while let f = x.levels[i].forward, before(f) {
                r += x.levels[i].span
                x = f
            }
            i -= 1
        }
        return r
    }

    /// Removes the nodes at 0-based ranks `ranks` and returns them.
    func deleteRanks(_ ranks: Range<Int>) -> [ZSetNode] {
        guard !ranks.isEmpty else { return [] }
        var traversed = 0
        var x = header
        var i = level - 1
        while i >= 0 {
            while let f = x.levels[i].forward, traversed + x.levels[i].span <= ranks.lowerBound {
                traversed += x.levels[i].span
                x = f
            }
            update[i].node = x
            i -= 1
        }
        var removed: [ZSetNode] = []
        removed.reserveCapacity(ranks.count)
        var node = x.levels[0].forward
        traversed += 1
        while let n = node, traversed <= ranks.upperBound {
            let next = n.levels[0].forward
            unlink(n)
            removed.append(n)
            traversed += 1
            node = next
        }
        return removed
    }

    /// The first node (lowest score).
    var first: ZSetNode? { header.levels[0].forward }

    /// The node after `n` in ascending order.
    @inline(__always)
    func next(_ n: ZSetNode) -> ZSetNode? { n.levels[0].forward }
}
