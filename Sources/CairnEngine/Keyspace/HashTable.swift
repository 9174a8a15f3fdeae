// The keyspace hash table.
//
// A chained table of power-of-two size with *incremental* rehashing, shaped like Redis's dict
// because that shape gives us four things `Dictionary` cannot:
//
//   1. Growth without a stall. When the table fills (load 1.0) a second table of double size
//      is allocated and buckets move over a few at a time: one bucket per lookup/insert/delete
//      and a time-bounded batch from the cron. No operation is O(table size).
//
//        t0 [ ][x][ ][x][x][ ][x][ ]    buckets < rehashIndex are already empty
//                  ^ rehashIndex
//        t1 [ ][ ][x][ ][ ][x] ... (2×)  new inserts go here while rehashing
//
//   2. Lookup by borrowed bytes: `find(_: UnsafeRawBufferPointer)` hashes and compares the
//      request's bytes in place; no key object is built to ask a question.
//   3. O(1) random sampling (active expiry, eviction, RANDOMKEY): pick a random non-empty
//      bucket, then a random node of its chain. The table shrinks when it falls under 10% full
//      so the expected number of probes stays bounded.
//   4. Redis's SCAN guarantee: the cursor is a bucket index advanced in reverse-binary order,
//      so every node present for the whole scan is returned at least once even if the table
//      grows or shrinks between calls (a node may be returned more than once).
//
// Snapshot hook (DESIGN.md §5): each bucket has an epoch. When a snapshot is running
// (`snapshotEpoch` > a bucket's epoch), `beforeBucketMutation` is called with the bucket's chain
// before the bucket changes, so the snapshot driver can serialize it first; the bucket then
// takes the current epoch and is not reported again during that snapshot.

/// A node the table can chain: it links to the next node of its bucket and lends its key's
/// bytes for hashing and comparison.
import CMalloc

public protocol HashNode: AnyObject {
    var chainNext: Self? { get set }
    /// `chainNext` as a plain address, read without taking a reference (lookups walk chains
    /// this way: a reference count is a locked write to a line that is usually a cache miss).
    var chainNextAddress: UnsafeRawPointer? { get }
    func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
    func keyEquals(_ other: UnsafeRawBufferPointer) -> Bool
}

extension HashNode {
    @inlinable
    public var chainNextAddress: UnsafeRawPointer? {
        chainNext.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) }
    }
}

/// A node that stores its key as Bytes (collection members and fields).
public protocol ChainedNode: HashNode {
    var key: Bytes { get }
}

extension ChainedNode {
    @inlinable
    public func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try key.withUnsafeBytes(body)
    }
    @inlinable
    public func keyEquals(_ other: UnsafeRawBufferPointer) -> Bool { key.equals(other) }
}

public final class HashTable<Node: HashNode> {
    @usableFromInline
    struct Table {
        var buckets: [Node?]
        var epochs: [UInt32]
        var used: Int
        var mask: Int { buckets.count - 1 }
        init(size: Int) {
            buckets = Array(repeating: nil, count: size)
            epochs = Array(repeating: 0, count: size)
            used = 0
        }
    }

    public static var initialSize: Int { 4 }

    @usableFromInline var t0: Table
    @usableFromInline var t1: Table?
    /// Next t0 bucket to move while rehashing; -1 when not rehashing.
    @usableFromInline var rehashIndex = -1
    public let seed: SipHashSeed
    /// Set while an iteration must see a stable layout (e.g. a long snapshot slice).
    public var rehashPaused = 0

    // Snapshot support (see the header comment).
    public var snapshotEpoch: UInt32 = 0
    public var beforeBucketMutation: ((Node?) -> Void)?

    public init(seed: SipHashSeed) {
        self.seed = seed
        self.t0 = Table(size: HashTable.initialSize)
    }

    public var count: Int { t0.used + (t1?.used ?? 0) }
    public var isRehashing: Bool { rehashIndex >= 0 }
    /// Total buckets in both tables (memory accounting and tests).
    public var bucketCount: Int { t0.buckets.count + (t1?.buckets.count ?? 0) }

    @inlinable
    public func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        sipHash13(key, seed: seed)
    }

    // MARK: lookup

    public func find(_ key: UnsafeRawBufferPointer) -> Node? {
        if count == 0 { return nil }
        if rehashIndex >= 0 { rehashStep(1) }
        let h = Int(truncatingIfNeeded: hash(key))
        if let n = Self.findInChain(t0.buckets, h & t0.mask, key) { return n }
        if let t = t1, let n = Self.findInChain(t.buckets, h & t.mask, key) { return n }
        return nil
    }

    /// `find` without the rehash step: a lookup that changes nothing (Engine.prefetchMembers
    /// asks it about a pipeline's keys before any of its commands run).
    public func peek(_ key: UnsafeRawBufferPointer) -> Node? {
        if count == 0 { return nil }
        let h = Int(truncatingIfNeeded: hash(key))
        if let n = Self.findInChain(t0.buckets, h & t0.mask, key) { return n }
        if let t = t1, let n = Self.findInChain(t.buckets, h & t.mask, key) { return n }
        return nil
    }

    /// Walks one chain by address, taking a reference only to the node it returns.
    @inline(__always)
    private static func findInChain(_ buckets: [Node?], _ i: Int, _ key: UnsafeRawBufferPointer) -> Node? {
        var address = buckets.withUnsafeBufferPointer {
            UnsafeRawBufferPointer($0).load(fromByteOffset: i &* MemoryLayout<Node?>.stride, as: UnsafeRawPointer?.self)
        }
        while let a = address {
            let node = Unmanaged<Node>.fromOpaque(a)
            if node._withUnsafeGuaranteedRef({ $0.keyEquals(key) }) { return node.takeUnretainedValue() }
            address = node._withUnsafeGuaranteedRef { $0.chainNextAddress }
        }
        return nil
    }

    // MARK: prefetching (pipelines)

    /// First step of a batch prefetch: starts loading the t0 bucket that hash `h` names.
    @inline(__always)
    public func prefetchBucket(_ h: Int) {
        t0.buckets.withUnsafeBufferPointer { p in
            guard let base = p.baseAddress else { return }
            cairn_prefetch(UnsafeRawPointer(base + (h & (p.count - 1))))
        }
    }

    /// Second step: starts loading the first node of that bucket's chain (its first two
    /// lines, where a KeyEntry keeps its header and the start of its key).
    @inline(__always)
    public func prefetchChainHead(_ h: Int) {
        let head = t0.buckets.withUnsafeBufferPointer { p -> UnsafeRawPointer? in
            guard p.count > 0 else { return nil }
            return UnsafeRawBufferPointer(p).load(fromByteOffset: (h & (p.count - 1)) &* MemoryLayout<Node?>.stride,
                                                  as: UnsafeRawPointer?.self)
        }
        if let head {
            cairn_prefetch(head)
            cairn_prefetch(head + 64)
        }
    }

    public func find(_ key: Bytes) -> Node? {
        key.withUnsafeBytes { find($0) }
    }

    // MARK: insert / remove

    /// Inserts a node whose key is not in the table (the caller has looked it up).
    public func insert(_ node: Node) {
        insert(node, hash: node.withKeyBytes { hash($0) })
    }

    /// Inserts `node` unless a node with its key is in the table; that node is returned then
    /// and nothing changes. `keyHash` is `hash(_:)` of the node's key, computed by the caller
    /// (the snapshot loader hashes each key once for both of a database's tables).
    /// The node is taken owned (`__owned`): a caller that hands over its last reference has it
    /// moved into the bucket, not retained there and released after.
    public func insertIfAbsent(_ node: __owned Node, hash keyHash: UInt64) -> Node? {
        if count > 0 {
            if rehashIndex >= 0 { rehashStep(1) }
            let h = Int(truncatingIfNeeded: keyHash)
            let existing = node.withKeyBytes { key -> Node? in
                if let n = Self.findInChain(t0.buckets, h & t0.mask, key) { return n }
                if let t = t1 { return Self.findInChain(t.buckets, h & t.mask, key) }
                return nil
            }
            if let existing { return existing }
        }
        insert(node, hash: keyHash)
        return nil
    }

    /// `insert` with the key's hash computed by the caller.
    public func insert(_ node: __owned Node, hash keyHash: UInt64) {
        if rehashIndex >= 0 { rehashStep(1) }
        expandIfNeeded()
        let h = Int(truncatingIfNeeded: keyHash)
        // The old head is moved into the new node, not copied: no reference count is taken
        // on it, so its memory is not touched at all.
        if rehashIndex >= 0 {
            let i = h & t1!.mask
            touchBucket(inT1: true, i)
            node.chainNext = t1!.buckets[i].take()
            t1!.buckets[i] = node
            t1!.used += 1
        } else {
            let i = h & t0.mask
            touchBucket(inT1: false, i)
            node.chainNext = t0.buckets[i].take()
            t0.buckets[i] = node
            t0.used += 1
        }
    }

    /// Removes and returns the node with this key, if any.
    @discardableResult
    public func remove(_ key: UnsafeRawBufferPointer) -> Node? {
        if count == 0 { return nil }
        if rehashIndex >= 0 { rehashStep(1) }
        let h = Int(truncatingIfNeeded: hash(key))
        if let n = removeFrom(inT1: false, h, key) { return n }
        if t1 != nil, let n = removeFrom(inT1: true, h, key) { return n }
        return nil
    }

    @discardableResult
    public func remove(_ key: Bytes) -> Node? {
        key.withUnsafeBytes { remove($0) }
    }

    private func removeFrom(inT1: Bool, _ h: Int, _ key: UnsafeRawBufferPointer) -> Node? {
        let i = h & (inT1 ? t1!.mask : t0.mask)
        var prev: Node? = nil
        var node = inT1 ? t1!.buckets[i] : t0.buckets[i]
        while let n = node {
            if n.keyEquals(key) {
                touchBucket(inT1: inT1, i)
                if let p = prev { p.chainNext = n.chainNext }
                else if inT1 { t1!.buckets[i] = n.chainNext }
                else { t0.buckets[i] = n.chainNext }
                n.chainNext = nil
                if inT1 { t1!.used -= 1 } else { t0.used -= 1 }
                return n
            }
            prev = n
            node = n.chainNext
        }
        return nil
    }

    /// Drops every node. O(n) frees happen in the caller's context; FLUSHALL ASYNC hands the
    /// old table to a background thread instead (see `takeAll`).
    public func removeAll() {
        t0 = Table(size: HashTable.initialSize)
        t1 = nil
        rehashIndex = -1
    }

    /// Detaches all nodes and returns them as an opaque box whose release frees them;
    /// the table is empty afterwards.
    public func takeAll() -> AnyObject {
        let box = DetachedTables(t0.buckets, t1?.buckets ?? [])
        removeAll()
        return box
    }

    final class DetachedTables {
        var a: [Node?]
        var b: [Node?]
        init(_ a: [Node?], _ b: [Node?]) { self.a = a; self.b = b }
        deinit {
            // Unlink chains iteratively so freeing a long chain cannot overflow the stack.
            for var head in [a, b].joined() {
                while let n = head { head = n.chainNext; n.chainNext = nil }
            }
        }
    }

    // MARK: resizing

    private func expandIfNeeded() {
        if rehashIndex >= 0 { return }
        if t0.used >= t0.buckets.count {
            startRehash(to: nextPowerOfTwo(t0.used + 1))
        }
    }

    /// Sizes an empty table for `n` nodes at once (load ≤ 1), so filling it never rehashes.
    /// Ignored when the table holds anything.
    public func reserve(_ n: Int) {
        guard count == 0, rehashIndex < 0, n > t0.buckets.count else { return }
        t0 = Table(size: nextPowerOfTwo(n))
    }

    /// Shrinks the table when under 10% full (called from the cron, like Redis's
    /// tryResizeHashTables). Returns true when a shrink started.
    @discardableResult
    public func shrinkIfNeeded() -> Bool {
        if rehashIndex >= 0 || rehashPaused > 0 { return false }
        let size = t0.buckets.count
        if size > HashTable.initialSize && t0.used * 10 < size {
            startRehash(to: nextPowerOfTwo(max(t0.used, HashTable.initialSize)))
            return true
        }
        return false
    }

    private func startRehash(to size: Int) {
        if size == t0.buckets.count { return }
        t1 = Table(size: size)
        rehashIndex = 0
    }

    private func nextPowerOfTwo(_ n: Int) -> Int {
        var size = HashTable.initialSize
        while size < n && size < (1 << 40) { size <<= 1 }
        return size
    }

    /// Moves up to `buckets` non-empty buckets from t0 to t1 (visiting at most 10× that many
    /// empty ones). Returns true when more rehashing remains.
    @discardableResult
    public func rehashStep(_ buckets: Int) -> Bool {
        guard rehashIndex >= 0, rehashPaused == 0, var target = t1 else { return rehashIndex >= 0 }
        t1 = nil   // keep `target` uniquely referenced while we mutate it
        var moves = buckets
        var emptyVisits = buckets * 10
        while moves > 0 && t0.used > 0 {
            while t0.buckets[rehashIndex] == nil {
                rehashIndex += 1
                emptyVisits -= 1
                if emptyVisits == 0 { t1 = target; return true }
            }
            touchBucket(inT1: false, rehashIndex)
            var node = t0.buckets[rehashIndex]
            while let n = node {
                node = n.chainNext
                let h = Int(truncatingIfNeeded: n.withKeyBytes { hash($0) })
                let i = h & target.mask
                if snapshotEpoch > target.epochs[i] {
                    beforeBucketMutation?(target.buckets[i])
                    target.epochs[i] = snapshotEpoch
                }
                n.chainNext = target.buckets[i]
                target.buckets[i] = n
                t0.used -= 1
                target.used += 1
            }
            t0.buckets[rehashIndex] = nil
            rehashIndex += 1
            moves -= 1
        }
        if t0.used == 0 {
            t0 = target
            rehashIndex = -1
            return false
        }
        t1 = target
        return true
    }

    /// Rehashes for at most `milliseconds` (cron), 100 buckets at a time.
    public func rehashFor(milliseconds: Int, now: () -> Int64) -> Bool {
        let start = now()
        while rehashStep(100) {
            if now() - start > Int64(milliseconds) { return true }
        }
        return false
    }

    @inline(__always)
    private func touchBucket(inT1: Bool, _ i: Int) {
        guard snapshotEpoch != 0 else { return }
        if inT1 {
            if snapshotEpoch > t1!.epochs[i] {
                beforeBucketMutation?(t1!.buckets[i])
                t1!.epochs[i] = snapshotEpoch
            }
        } else if snapshotEpoch > t0.epochs[i] {
            beforeBucketMutation?(t0.buckets[i])
            t0.epochs[i] = snapshotEpoch
        }
    }

    /// The snapshot pass in index order (sequential through the bucket and epoch arrays, where
    /// SCAN's reversed-bit order misses the cache at every step): reaches up to `limit` buckets
    /// of t0 from `index`, so the hook serializes the unsaved ones. Returns the next index, or
    /// nil when t0 is done. Valid only for a pass that began with no rehash in progress and
    /// holds `rehashPaused` until it ends: t0 then keeps its size and its nodes, and anything
    /// in a t1 started meanwhile was inserted after the cut.
    public func snapshotPass(from index: Int, buckets limit: Int) -> Int? {
        precondition(rehashPaused > 0, "an index-order pass needs rehashing paused")
        let size = t0.buckets.count
        var i = index
        let end = min(size, index + limit)
        while i < end {
            if t0.buckets[i] != nil { touchBucket(inT1: false, i) }
            i += 1
        }
        return i < size ? i : nil
    }

    /// Marks the node's bucket as about to change (a value mutated in place).
    public func willMutate(_ key: UnsafeRawBufferPointer) {
        guard snapshotEpoch != 0 else { return }
        let h = Int(truncatingIfNeeded: hash(key))
        touchBucket(inT1: false, h & t0.mask)
        if t1 != nil { touchBucket(inT1: true, h & t1!.mask) }
    }

    // MARK: sampling

    /// A uniformly chosen bucket, then a uniformly chosen node of its chain.
    public func randomNode<G: RandomNumberGenerator>(using rng: inout G) -> Node? {
        if count == 0 { return nil }
        if rehashIndex >= 0 { rehashStep(1) }
        var head: Node?
        let rehashing = rehashIndex >= 0 && t1 != nil
        repeat {
            let b = randomBucket(t0Size: t0.buckets.count, rehashIndex: rehashing ? rehashIndex : 0,
                                 t1Size: rehashing ? t1!.buckets.count : 0, using: &rng)
            head = b.inT1 ? t1!.buckets[b.index] : t0.buckets[b.index]
        } while head == nil
        var length = 0
        var n = head
        while let x = n { length += 1; n = x.chainNext }
        var pick = Int.random(in: 0..<length, using: &rng)
        n = head
        while pick > 0 { n = n!.chainNext; pick -= 1 }
        return n
    }

    // MARK: scan

    /// One SCAN step: calls `visit` for the nodes of the bucket(s) the cursor names and
    /// returns the next cursor (0 when the scan is complete).
    public func scan(_ cursor: UInt64, _ visit: (Node) -> Void) -> UInt64 {
        if count == 0 { return 0 }
        func visitChain(_ head: Node?) {
            var n = head
            while let x = n { n = x.chainNext; visit(x) }
        }
        guard rehashIndex >= 0, let t = t1 else {
            return scanStepBuckets(cursor, smallMask: UInt64(t0.mask), largeMask: nil) { _, i in visitChain(t0.buckets[i]) }
        }
        let small: Table, large: Table
        if t0.buckets.count <= t.buckets.count { small = t0; large = t } else { small = t; large = t0 }
        return scanStepBuckets(cursor, smallMask: UInt64(small.mask), largeMask: UInt64(large.mask)) { inLarge, i in
            visitChain(inLarge ? large.buckets[i] : small.buckets[i])
        }
    }

    // MARK: iteration

    /// Visits every node (KEYS, FLUSH accounting, snapshots of small tables).
    public func forEach(_ body: (Node) -> Void) {
        for head in t0.buckets {
            var n = head
            while let x = n { n = x.chainNext; body(x) }
        }
        if let t = t1 {
            for head in t.buckets {
                var n = head
                while let x = n { n = x.chainNext; body(x) }
            }
        }
    }
}

// MARK: - bucket geometry shared by HashTable and MemberTable

/// One step of Redis's reverse-binary SCAN over one table (`largeMask` nil) or the two tables
/// of a rehash: calls `visit(inLarge, index)` for each bucket the cursor names (the small
/// table's one, then the large table's expansions of it) and returns the next cursor, 0 at
/// the end. Every element present for the whole scan is visited at least once across grows
/// and shrinks.
@inline(__always)
func scanStepBuckets(_ cursor: UInt64, smallMask m0: UInt64, largeMask: UInt64?,
                     _ visit: (_ inLarge: Bool, _ index: Int) -> Void) -> UInt64 {
    var v = cursor
    visit(false, Int(v & m0))
    guard let m1 = largeMask else {
        v |= ~m0
        return reverseBits(reverseBits(v) &+ 1)
    }
    repeat {
        visit(true, Int(v & m1))
        v |= ~m1
        v = reverseBits(reverseBits(v) &+ 1)
    } while v & (m0 ^ m1) != 0
    return v
}

/// A uniformly random bucket among the live ones: t0's from `rehashIndex` on (all of t0 when
/// not rehashing, `rehashIndex` 0 and `t1Size` 0), then t1's. Returns (inT1, index).
@inline(__always)
func randomBucket<G: RandomNumberGenerator>(t0Size: Int, rehashIndex: Int, t1Size: Int,
                                            using rng: inout G) -> (inT1: Bool, index: Int) {
    let live0 = t0Size - rehashIndex
    let r = Int.random(in: 0..<(live0 + t1Size), using: &rng)
    return r < live0 ? (false, rehashIndex + r) : (true, r - live0)
}

@inline(__always)
func reverseBits(_ x: UInt64) -> UInt64 {
    var v = x
    v = ((v >> 1) & 0x5555555555555555) | ((v & 0x5555555555555555) << 1)
    v = ((v >> 2) & 0x3333333333333333) | ((v & 0x3333333333333333) << 2)
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0F) | ((v & 0x0F0F0F0F0F0F0F0F) << 4)
    return v.byteSwapped
}
