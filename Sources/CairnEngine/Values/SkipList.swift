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
// also the entries of the sorted set's member → node MemberTable, so one allocation per
// element serves both indexes. A node is one block of plain memory (MemberTable.swift):
//
//   +0   table link                      8
//   +8   member (Bytes)                 24
//   +32  score (Double)                  8
//   +40  level 0 forward                 8    (a level-0 span is always 1: not stored)
//   +48  backward node | (levels - 1)    8    nodes are 16-byte aligned: 4 low bits are free
//   +56  level 1 forward, span          16
//   ...  level i forward at 40 + 16·i, its span at 48 + 16·i (i ≥ 1)
//
// The score and the level-0 link share a 16-byte block, so the step a search takes most often
// reads one cache line.
//
// So a one-level node (three quarters of them) is 56 bytes, a 64-byte malloc chunk; Redis
// spends a 32-byte dictEntry, a 48-byte skip-list node and a 16-byte sds on the same element.
// Walking the list reads the score and the next link from one block, with no reference
// counting.
//
// Ownership: the list owns its nodes. `insert` allocates one; `delete`/`deleteRanks` unlink
// and return nodes, which the caller removes from the member table and then frees; the
// list's deinit frees whatever it still holds.

import CMalloc

public struct ZSetNode: Equatable {
    let raw: UnsafeMutableRawPointer

    @inline(__always) init(_ raw: UnsafeMutableRawPointer) { self.raw = raw }
    @inline(__always) public init(_ node: MemberNode) { raw = node.raw }

    static let scoreOffset = 32
    static let backwardOffset = 48

    /// Bytes of a node with `levels` levels.
    @inline(__always)
    static func size(levels: Int) -> Int { 40 + 16 * levels }

    static func allocate(_ member: Bytes, _ score: Double, levels: Int) -> ZSetNode {
        precondition(levels >= 1 && levels <= SkipList.maxLevel)
        let n = ZSetNode(MemberNode.allocate(size: size(levels: levels), key: member).raw)
        precondition(UInt(bitPattern: n.raw) & 15 == 0, "skip-list nodes must be 16-byte aligned")
        n.score = score
        for i in 0..<levels {
            n.setForward(i, nil)
            n.setSpan(i, 0)
        }
        // The level count rides in the backward slot's low bits (setSpan(0) stores nothing).
        n.raw.storeBytes(of: UInt(levels - 1), toByteOffset: backwardOffset, as: UInt.self)
        return n
    }

    /// Frees the node (it must be out of the list and the table).
    @inline(__always)
    func free() { MemberNode(raw).free() }

    @inline(__always) var memberNode: MemberNode { MemberNode(raw) }

    /// The member.
    @inline(__always)
    public var key: Bytes { MemberNode(raw).keyPointer.pointee }

    @inline(__always)
    var keyPointer: UnsafeMutablePointer<Bytes> { MemberNode(raw).keyPointer }

    @inline(__always)
    public internal(set) var score: Double {
        get { raw.load(fromByteOffset: ZSetNode.scoreOffset, as: Double.self) }
        nonmutating set { raw.storeBytes(of: newValue, toByteOffset: ZSetNode.scoreOffset, as: Double.self) }
    }

    @inline(__always)
    var levelCount: Int {
        Int(raw.load(fromByteOffset: ZSetNode.backwardOffset, as: UInt.self) & 15) + 1
    }

    /// The previous node at level 0 (nil for the first node).
    @inline(__always)
    var backward: ZSetNode? {
        get {
            let bits = raw.load(fromByteOffset: ZSetNode.backwardOffset, as: UInt.self) & ~15
            return UnsafeMutableRawPointer(bitPattern: bits).map(ZSetNode.init)
        }
        nonmutating set {
            let tag = raw.load(fromByteOffset: ZSetNode.backwardOffset, as: UInt.self) & 15
            let bits = newValue.map { UInt(bitPattern: $0.raw) } ?? 0
            raw.storeBytes(of: bits | tag, toByteOffset: ZSetNode.backwardOffset, as: UInt.self)
        }
    }

    @inline(__always)
    func forward(_ i: Int) -> ZSetNode? {
        raw.load(fromByteOffset: 40 + 16 * i, as: UnsafeMutableRawPointer?.self).map(ZSetNode.init)
    }

    @inline(__always)
    func setForward(_ i: Int, _ n: ZSetNode?) {
        raw.storeBytes(of: n?.raw, toByteOffset: 40 + 16 * i, as: UnsafeMutableRawPointer?.self)
    }

    /// Elements skipped + 1 by the level-`i` link (1 at level 0).
    @inline(__always)
    func span(_ i: Int) -> Int {
        i == 0 ? 1 : raw.load(fromByteOffset: 48 + 16 * i, as: Int.self)
    }

    @inline(__always)
    func setSpan(_ i: Int, _ v: Int) {
        if i > 0 { raw.storeBytes(of: v, toByteOffset: 48 + 16 * i, as: Int.self) }
    }

    /// Starts loading what comparing this node at `level` and then moving along it read: the
    /// score, and the level's link when it can be on another cache line (the level-0 link
    /// shares the score's 16 bytes). The member is read only on a tie of scores.
    @inline(__always)
    func prefetch(level: Int) {
        cairn_prefetch(raw + ZSetNode.scoreOffset)
        if level > 0 { cairn_prefetch(raw + 40 + 16 * level) }
    }
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

final class SkipList {
    /// 16 levels at p = 1/4 keep searches O(log N) up to 4^16 = 2^32 elements, and let the
    /// level count fit the 4 free bits of a node pointer.
    static let maxLevel = 16

    let header: ZSetNode
    private(set) var tail: ZSetNode?
    private(set) var length = 0
    private(set) var level = 1
    private var rngState: UInt64
    /// Reused per operation: the rightmost node visited at each level, and its rank.
    private let update: UnsafeMutablePointer<ZSetNode>
    private let rank: UnsafeMutablePointer<Int>

    init(seed: UInt64 = 0x9E37_79B9_7F4A_7C15) {
        header = ZSetNode.allocate(Bytes(), 0, levels: SkipList.maxLevel)
        rngState = seed | 1
        update = .allocate(capacity: SkipList.maxLevel)
        update.initialize(repeating: header, count: SkipList.maxLevel)
        rank = .allocate(capacity: SkipList.maxLevel)
        rank.initialize(repeating: 0, count: SkipList.maxLevel)
    }

    deinit {
        var n = header.forward(0)
        while let x = n {
            n = x.forward(0)
            x.free()
        }
        header.free()
        update.deallocate()
        rank.deallocate()
    }

    /// (s1, m1) sorts before (s2, m2).
    @inline(__always)
    static func less(_ s1: Double, _ m1: Bytes, _ s2: Double, _ m2: Bytes) -> Bool {
        s1 < s2 || (s1 == s2 && m1 < m2)
    }

    /// The node sorts before (score, member).
    @inline(__always)
    static func less(_ n: ZSetNode, _ score: Double, _ member: Bytes) -> Bool {
        let s = n.score
        return s < score || (s == score && n.keyPointer.pointee < member)
    }

    /// (score, member) sorts before the node.
    @inline(__always)
    static func less(_ score: Double, _ member: Bytes, _ n: ZSetNode) -> Bool {
        let s = n.score
        return score < s || (score == s && member < n.keyPointer.pointee)
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
    ///
    /// In a big list nearly every node the descent compares is a cache miss, and each waits
    /// for the one before. Two things shorten that chain:
    ///   - the node a level stops at (the first not before the target) is often the next
    ///     level's first candidate too: it is not compared again;
    ///   - while a candidate's score loads, the next level's candidate (below the current
    ///     node) starts loading, so when the candidate stops the level the next comparison
    ///     is already on its way; and the candidate's own link at this level, which can be
    ///     on the node's second cache line, loads with its score.
    private func locate(_ score: Double, _ member: Bytes) {
        var x = header
        var i = level - 1
        var r = 0
        var stop: ZSetNode? = nil
        while i >= 0 {
            while let f = x.forward(i), f != stop {
                if i > 0 {
                    f.prefetch(level: i)
                    if let below = x.forward(i - 1) { below.prefetch(level: i - 1) }
                }
                if !SkipList.less(f, score, member) { stop = f; break }
                r += x.span(i)
                x = f
            }
            rank[i] = r
            update[i] = x
            i -= 1
        }
    }

    /// Inserts a new node for a member that is not in the list.
    @discardableResult
    func insert(_ score: Double, _ member: Bytes) -> ZSetNode {
        let node = ZSetNode.allocate(member, score, levels: randomLevel())
        link(node)
        return node
    }

    /// Links `node` at its (score, member) place.
    private func link(_ node: ZSetNode) {
        locate(node.score, node.keyPointer.pointee)
        let lvl = node.levelCount
        if lvl > level {
            for i in level..<lvl {
                rank[i] = 0
                update[i] = header
                header.setSpan(i, length)
            }
            level = lvl
        }
        for i in 0..<lvl {
            let u = update[i]
            node.setForward(i, u.forward(i))
            u.setForward(i, node)
            node.setSpan(i, u.span(i) - (rank[0] - rank[i]))
            u.setSpan(i, (rank[0] - rank[i]) + 1)
        }
        if lvl < level {
            for i in lvl..<level { update[i].setSpan(i, update[i].span(i) + 1) }
        }
        node.backward = update[0] == header ? nil : update[0]
        if let f = node.forward(0) { f.backward = node } else { tail = node }
        length += 1
    }

    /// Unlinks `x`, given `update` filled for it.
    private func unlink(_ x: ZSetNode) {
        for i in 0..<level {
            let u = update[i]
            if u.forward(i) == x {
                u.setSpan(i, u.span(i) + x.span(i) - 1)
                u.setForward(i, x.forward(i))
            } else {
                u.setSpan(i, u.span(i) - 1)
            }
        }
        if let f = x.forward(0) { f.backward = x.backward } else { tail = x.backward }
        while level > 1 && header.forward(level - 1) == nil { level -= 1 }
        length -= 1
    }

    /// Unlinks the node holding (score, member) and returns it (the caller frees it).
    @discardableResult
    func delete(_ score: Double, _ member: Bytes) -> ZSetNode? {
        locate(score, member)
        guard let x = update[0].forward(0), x.score == score, x.keyPointer.pointee == member else { return nil }
        unlink(x)
        return x
    }

    /// Moves a node to the place of its new score (the node stays the same, so the member
    /// table needs no change).
    func updateScore(_ node: ZSetNode, to newScore: Double) {
        // Stays in place when still between its neighbours: just rewrite the score.
        let member = node.keyPointer.pointee
        let prevOK = node.backward.map { SkipList.less($0, newScore, member) } ?? true
        let nextOK = node.forward(0).map { SkipList.less(newScore, member, $0) } ?? true
        if prevOK && nextOK {
            node.score = newScore
            return
        }
        locate(node.score, member)
        unlink(node)
        node.score = newScore
        for i in 0..<node.levelCount {
            node.setForward(i, nil)
            node.setSpan(i, 0)
        }
        node.backward = nil
        link(node)
    }

    /// 1-based rank of (score, member); 0 when absent.
    func rank(of score: Double, _ member: Bytes) -> Int {
        var r = 0
        var x = header
        var i = level - 1
        while i >= 0 {
            while let f = x.forward(i), !SkipList.less(score, member, f) {
                r += x.span(i)
                x = f
            }
            if x != header && x.keyPointer.pointee == member { return r }
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
            while let f = x.forward(i), traversed + x.span(i) <= r {
                traversed += x.span(i)
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
            while let f = x.forward(i), before(f) {
                r += x.span(i)
                x = f
            }
            i -= 1
        }
        return r
    }

    /// Unlinks the nodes at 0-based ranks `ranks` and returns them (the caller frees them).
    func deleteRanks(_ ranks: Range<Int>) -> [ZSetNode] {
        guard !ranks.isEmpty else { return [] }
        var traversed = 0
        var x = header
        var i = level - 1
        while i >= 0 {
            while let f = x.forward(i), traversed + x.span(i) <= ranks.lowerBound {
                traversed += x.span(i)
                x = f
            }
            update[i] = x
            i -= 1
        }
        var removed: [ZSetNode] = []
        removed.reserveCapacity(ranks.count)
        var node = x.forward(0)
        traversed += 1
        while let n = node, traversed <= ranks.upperBound {
            let next = n.forward(0)
            unlink(n)
            removed.append(n)
            traversed += 1
            node = next
        }
        return removed
    }

    // MARK: prefetching (pipelines)

    /// One descent of `prefetchPaths` in progress.
    struct PathCursor {
        /// The last node found before the target; the list's header at the start.
        var node: ZSetNode
        /// A node found not before the target (not compared again).
        var stop: ZSetNode?
        /// The level being walked; -1 when the descent is done.
        var level: Int
        let score: Double
        let member: Bytes

        /// A descent of `list` toward (score, member).
        init(_ list: SkipList, _ score: Double, _ member: Bytes) {
            node = list.header
            stop = nil
            level = list.level - 1
            self.score = score
            self.member = member
        }
    }

    /// Walks several descents side by side, one comparison of each in turn, so that their
    /// cache misses overlap: a step starts loading the node its descent compares next, and
    /// the descents in between give it time to arrive. `locate` for these targets then finds
    /// its path in the cache. Reads only (the cursors may be of different lists); the
    /// cursors are left finished.
    ///
    /// One descent alone is a chain of dependent misses, two to four per level in a list too
    /// big for the cache (about 37 comparisons in all at 632k members). Measured on the
    /// 2-core VM this was tuned on, at 632k members: 2.3 µs for one descent by `locate`,
    /// 0.85 µs each for sixteen walked here and then located (page walks, not the cache,
    /// bound how many misses can be in flight).
    static func prefetchPaths(_ cursors: UnsafeMutableBufferPointer<PathCursor>) {
        var active = cursors.count
        while active > 0 {
            var k = 0
            while k < active {
                if step(&cursors[k]) {
                    k += 1
                } else {
                    // Done: the last active cursor takes its place.
                    active -= 1
                    cursors.swapAt(k, active)
                }
            }
        }
    }

    /// One comparison of a descent (as `locate` makes it); false when the descent is done.
    @inline(__always)
    private static func step(_ c: inout PathCursor) -> Bool {
        let i = c.level
        let x = c.node
        let f = x.forward(i)
        if let f, f != c.stop, SkipList.less(f, c.score, c.member) {
            c.node = f
            f.forward(i)?.prefetch(level: i)
            return true
        }
        c.stop = f
        if i == 0 {
            c.level = -1
            return false
        }
        c.level = i - 1
        if let below = x.forward(i - 1), below != f { below.prefetch(level: i - 1) }
        return true
    }

    /// The first node (lowest score).
    var first: ZSetNode? { header.forward(0) }

    /// The node after `n` in ascending order.
    @inline(__always)
    func next(_ n: ZSetNode) -> ZSetNode? { n.forward(0) }
}
