// The member tables of big hashes, sets and sorted sets.
//
// The same shape and policies as the keyspace's HashTable (Keyspace/HashTable.swift): chained,
// power-of-two sizes, incremental rehash one bucket per operation, growth at load 1.0, shrink
// under 10% full, O(1) random sampling, Redis's reverse-binary SCAN cursor. It keeps the same
// layout decisions (insert at the chain head, same sizes, same SipHash seed), so a collection
// iterates in the same order it did when it was a HashTable of objects.
//
// The difference is the nodes: plain memory owned by the collection, not Swift objects.
//
//   node  +0   chain link (next node of the bucket, nil at the end)      8 bytes
//         +8   the member / field (Bytes, inline up to 22 bytes)        24 bytes
//         +32  the owner's payload: nothing (set), the value (hash), score and skip-list
//              links (sorted set, Values/SkipList.swift)
//
// Why not objects:
//   - memory: an object adds a 16-byte header, so a set member took a 64-byte malloc chunk
//     (48 with this layout) and a hash field 80 (64 now); Redis spends about 48 and 64.
//   - time: walking a chain of objects retains each node it passes, and with a million members
//     every retain is a cache miss on a node the walk reads anyway (a fifth of SADD's profile).
//
// Ownership: the table never allocates or frees a node. The owning value allocates nodes
// (`MemberNode.allocate`), removes them from the table before freeing them, and frees every
// node it still holds in its deinit. A removed node's link is cleared.
//
// No snapshot epochs: a collection is serialized whole, through its key's bucket in the
// keyspace table, before the command that changes it runs (DESIGN.md §5).

import CMalloc

/// A reference to a table node (raw memory laid out as described above).
public struct MemberNode: Equatable {
    public let raw: UnsafeMutableRawPointer

    @inline(__always)
    init(_ raw: UnsafeMutableRawPointer) { self.raw = raw }

    static let keyOffset = 8
    /// Where the owner's payload starts.
    static let payloadOffset = 32

    /// Allocates a node of `size` bytes (at least `payloadOffset`) holding `key`; the payload
    /// is left uninitialized. 16-byte aligned (the sorted set keeps a level count in the low
    /// bits of its node pointers).
    @inline(__always)
    static func allocate(size: Int, key: Bytes) -> MemberNode {
        precondition(size >= payloadOffset)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        raw.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
        (raw + keyOffset).bindMemory(to: Bytes.self, capacity: 1).initialize(to: key)
        return MemberNode(raw)
    }

    /// Deinitializes the key and frees the node. The payload must already be deinitialized.
    @inline(__always)
    func free() {
        keyPointer.deinitialize(count: 1)
        raw.deallocate()
    }

    @inline(__always)
    var chainNext: MemberNode? {
        get { raw.load(as: UnsafeMutableRawPointer?.self).map(MemberNode.init) }
        nonmutating set { raw.storeBytes(of: newValue?.raw, as: UnsafeMutableRawPointer?.self) }
    }

    @inline(__always)
    var keyPointer: UnsafeMutablePointer<Bytes> {
        (raw + MemberNode.keyOffset).assumingMemoryBound(to: Bytes.self)
    }

    /// The member (or field).
    @inline(__always)
    public var key: Bytes { keyPointer.pointee }

    /// The payload as a Bytes (hash values live here).
    @inline(__always)
    var payloadBytes: UnsafeMutablePointer<Bytes> {
        (raw + MemberNode.payloadOffset).assumingMemoryBound(to: Bytes.self)
    }
}

public final class MemberTable {
    struct Table {
        var buckets: UnsafeMutablePointer<MemberNode?>
        var size: Int
        var used = 0
        var mask: Int { size - 1 }

        init(size: Int) {
            buckets = .allocate(capacity: size)
            buckets.initialize(repeating: nil, count: size)
            self.size = size
        }

        func free() { buckets.deallocate() }   // MemberNode? is trivial
    }

    static let initialSize = 4

    var t0: Table
    var t1: Table?
    /// Next t0 bucket to move while rehashing; -1 when not rehashing.
    var rehashIndex = -1
    /// The t0 bucket after the last one whose first node the rehash has prefetched.
    var rehashPrefetchIndex = 0
    public let seed: SipHashSeed

    public init(seed: SipHashSeed) {
        self.seed = seed
        t0 = Table(size: MemberTable.initialSize)
    }

    deinit {
        t0.free()
        t1?.free()
    }

    public var count: Int { t0.used + (t1?.used ?? 0) }
    public var isRehashing: Bool { rehashIndex >= 0 }
    /// Total buckets in both tables (memory accounting and tests).
    public var bucketCount: Int { t0.size + (t1?.size ?? 0) }

    @inline(__always)
    func hash(_ key: UnsafeRawBufferPointer) -> Int {
        Int(truncatingIfNeeded: sipHash13(key, seed: seed))
    }

    // MARK: lookup

    public func find(_ key: UnsafeRawBufferPointer) -> MemberNode? {
        find(key, hash: hash(key))
    }

    @inline(__always)
    public func find(_ key: Bytes) -> MemberNode? {
        key.withUnsafeBytes { find($0) }
    }

    /// `find` with `hash(key)` computed by the caller, who inserts with the same hash when the
    /// key is missing (SADD, HSET): one SipHash per added member instead of two.
    public func find(_ key: UnsafeRawBufferPointer, hash h: Int) -> MemberNode? {
        if count == 0 { return nil }
        if rehashIndex >= 0 { rehashStep(1) }
        return peek(key, hash: h)
    }

    /// `find` without the rehash step: changes nothing (pipeline prefetching).
    @inline(__always)
    func peek(_ key: UnsafeRawBufferPointer, hash h: Int) -> MemberNode? {
        if count == 0 { return nil }
        // t0's buckets below rehashIndex have moved to t1 and are empty: not loading one
        // saves a cache miss per lookup while a big table grows.
        let i0 = h & t0.mask
        if rehashIndex < 0 || i0 >= rehashIndex {
            var node = t0.buckets[i0]
            while let n = node {
                if n.keyPointer.pointee.equals(key) { return n }
                node = n.chainNext
            }
        }
        if let t = t1 {
            var node = t.buckets[h & t.mask]
            while let n = node {
                if n.keyPointer.pointee.equals(key) { return n }
                node = n.chainNext
            }
        }
        return nil
    }

    // MARK: prefetching (pipelines)
    //
    // A member lookup in a big table is two dependent cache misses: the bucket, then the node
    // it points to (link and member share the node's first 32 bytes). A pipeline's lookups can
    // overlap them: `prefetchBucket` for every request first, then `prefetchChainHead`, then
    // run the requests (Engine.prefetchMembers). Both only read the table and never fault.

    /// Starts loading the bucket(s) a key with hash `h` can be in.
    @inline(__always)
    func prefetchBucket(_ h: Int) {
        let i0 = h & t0.mask
        if rehashIndex < 0 || i0 >= rehashIndex { cairn_prefetch(t0.buckets + i0) }
        if let t = t1 { cairn_prefetch(t.buckets + (h & t.mask)) }
    }

    /// Starts loading the first node of those buckets' chains, bytes 0 to `lastByte` (31 for
    /// link and member; a hash field's value, which HSET overwrites, ends at byte 55).
    @inline(__always)
    func prefetchChainHead(_ h: Int, lastByte: Int) {
        @inline(__always) func head(_ n: MemberNode?) {
            guard let n else { return }
            cairn_prefetch(n.raw)
            cairn_prefetch(n.raw + lastByte)
        }
        let i0 = h & t0.mask
        if rehashIndex < 0 || i0 >= rehashIndex { head(t0.buckets[i0]) }
        if let t = t1 { head(t.buckets[h & t.mask]) }
    }

    /// Third step: starts loading the second node of those chains (the first has arrived,
    /// or is the next to).
    @inline(__always)
    func prefetchChainSecond(_ h: Int, lastByte: Int) {
        @inline(__always) func second(_ n: MemberNode?) {
            guard let s = n?.chainNext else { return }
            cairn_prefetch(s.raw)
            cairn_prefetch(s.raw + lastByte)
        }
        let i0 = h & t0.mask
        if rehashIndex < 0 || i0 >= rehashIndex { second(t0.buckets[i0]) }
        if let t = t1 { second(t.buckets[h & t.mask]) }
    }

    // MARK: insert / remove

    /// Inserts a node whose key is not in the table (the caller has looked it up).
    public func insert(_ node: MemberNode) {
        insert(node, hash: node.keyPointer.pointee.withUnsafeBytes { hash($0) })
    }

    /// `insert` with `hash(node.key)` computed by the caller.
    public func insert(_ node: MemberNode, hash h: Int) {
        if rehashIndex >= 0 { rehashStep(1) }
        expandIfNeeded()
        if rehashIndex >= 0 {
            let i = h & t1!.mask
            node.chainNext = t1!.buckets[i]
            t1!.buckets[i] = node
            t1!.used += 1
        } else {
            let i = h & t0.mask
            node.chainNext = t0.buckets[i]
            t0.buckets[i] = node
            t0.used += 1
        }
    }

    /// Unlinks and returns the node with this key, if any (the caller frees it).
    @discardableResult
    public func remove(_ key: UnsafeRawBufferPointer) -> MemberNode? {
        if count == 0 { return nil }
        if rehashIndex >= 0 { rehashStep(1) }
        let h = hash(key)
        if (rehashIndex < 0 || h & t0.mask >= rehashIndex), let n = removeFrom(inT1: false, h, key) { return n }
        if t1 != nil, let n = removeFrom(inT1: true, h, key) { return n }
        return nil
    }

    @discardableResult
    public func remove(_ key: Bytes) -> MemberNode? {
        key.withUnsafeBytes { remove($0) }
    }

    private func removeFrom(inT1: Bool, _ h: Int, _ key: UnsafeRawBufferPointer) -> MemberNode? {
        let t = inT1 ? t1! : t0
        let i = h & t.mask
        var prev: MemberNode? = nil
        var node = t.buckets[i]
        while let n = node {
            if n.keyPointer.pointee.equals(key) {
                if let p = prev { p.chainNext = n.chainNext } else { t.buckets[i] = n.chainNext }
                n.chainNext = nil
                if inT1 { t1!.used -= 1 } else { t0.used -= 1 }
                return n
            }
            prev = n
            node = n.chainNext
        }
        return nil
    }

    /// Forgets every node (the owner has freed them or is about to) and returns to the
    /// initial size.
    public func removeAll() {
        t0.free()
        t1?.free()
        t0 = Table(size: MemberTable.initialSize)
        t1 = nil
        rehashIndex = -1
    }

    // MARK: resizing

    private func expandIfNeeded() {
        if rehashIndex >= 0 { return }
        if t0.used >= t0.size { startRehash(to: nextPowerOfTwo(t0.used + 1)) }
    }

    /// Sizes an empty table for `n` nodes at once (load ≤ 1), so filling it never rehashes
    /// (conversion from a compact encoding, COPY, loading). Ignored when the table holds
    /// anything.
    public func reserve(_ n: Int) {
        guard count == 0, rehashIndex < 0, n > t0.size else { return }
        t0.free()
        t0 = Table(size: nextPowerOfTwo(n))
    }

    /// Starts shrinking when under 10% full (after removals, as Redis's dictResize after a
    /// delete). Returns true when a shrink started.
    @discardableResult
    public func shrinkIfNeeded() -> Bool {
        if rehashIndex >= 0 { return false }
        if t0.size > MemberTable.initialSize && t0.used * 10 < t0.size {
            startRehash(to: nextPowerOfTwo(max(t0.used, MemberTable.initialSize)))
            return true
        }
        return false
    }

    private func startRehash(to size: Int) {
        if size == t0.size { return }
        t1 = Table(size: size)
        rehashIndex = 0
        rehashPrefetchIndex = 0
    }

    private func nextPowerOfTwo(_ n: Int) -> Int {
        var size = MemberTable.initialSize
        while size < n && size < (1 << 40) { size <<= 1 }
        return size
    }

    /// Moves up to `buckets` non-empty buckets from t0 to t1 (visiting at most 10× that many
    /// empty ones). Returns true when more rehashing remains.
    @discardableResult
    public func rehashStep(_ buckets: Int) -> Bool {
        guard rehashIndex >= 0, let target = t1 else { return false }
        var moves = buckets
        var emptyVisits = buckets * 10
        var moved = 0
        while moves > 0 && t0.used - moved > 0 {
            while t0.buckets[rehashIndex] == nil {
                rehashIndex += 1
                emptyVisits -= 1
                if emptyVisits == 0 {
                    t0.used -= moved
                    t1!.used += moved
                    return true
                }
            }
            var node = t0.buckets[rehashIndex]
            while let n = node {
                node = n.chainNext
                let i = n.keyPointer.pointee.withUnsafeBytes { hash($0) } & target.mask
                n.chainNext = target.buckets[i]
                target.buckets[i] = n
                moved += 1
            }
            t0.buckets[rehashIndex] = nil
            rehashIndex += 1
            moves -= 1
        }
        t0.used -= moved
        t1!.used += moved
        if t0.used == 0 {
            t0.free()
            t0 = t1!
            t1 = nil
            rehashIndex = -1
            return false
        }
        prefetchRehashAhead()
        return true
    }

    /// How far ahead of the rehash, in t0 buckets, their first nodes are loaded; their second
    /// nodes are loaded half as far ahead, when the first has arrived.
    static let rehashLookahead = 16

    /// Moving a bucket reads each of its nodes (link and member, to rehash it): a cache miss
    /// per node in a big table, most of a growing table's rehash time. The move goes through
    /// t0 in order, one bucket per operation, so the nodes it will read next are known: this
    /// starts loading the first node of each bucket `rehashLookahead` buckets ahead of
    /// `rehashIndex`, and the second node (its address is in the first) half that far ahead,
    /// several operations before the step that moves them. At load 1, where a rehash starts,
    /// nine in ten nodes are first or second in their chain.
    @inline(__always)
    private func prefetchRehashAhead() {
        if rehashPrefetchIndex < rehashIndex { rehashPrefetchIndex = rehashIndex }
        let end = min(rehashIndex + MemberTable.rehashLookahead, t0.size)
        let lastByte = MemberNode.payloadOffset - 1
        while rehashPrefetchIndex < end {
            // The second node of the bucket half the lookahead behind this one.
            let half = rehashPrefetchIndex - MemberTable.rehashLookahead / 2
            if half >= rehashIndex, let second = t0.buckets[half]?.chainNext {
                cairn_prefetch(second.raw)
                cairn_prefetch(second.raw + lastByte)
            }
            if let n = t0.buckets[rehashPrefetchIndex] {
                cairn_prefetch(n.raw)
                cairn_prefetch(n.raw + lastByte)
            }
            rehashPrefetchIndex += 1
        }
    }

    // MARK: sampling

    /// A uniformly chosen bucket, then a uniformly chosen node of its chain.
    public func randomNode<G: RandomNumberGenerator>(using rng: inout G) -> MemberNode? {
        if count == 0 { return nil }
        if rehashIndex >= 0 { rehashStep(1) }
        var head: MemberNode?
        let rehashing = rehashIndex >= 0 && t1 != nil
        repeat {
            let b = randomBucket(t0Size: t0.size, rehashIndex: rehashing ? rehashIndex : 0,
                                 t1Size: rehashing ? t1!.size : 0, using: &rng)
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
    /// returns the next cursor (0 when the scan is complete). `visit` must not change the table.
    public func scan(_ cursor: UInt64, _ visit: (MemberNode) -> Void) -> UInt64 {
        if count == 0 { return 0 }
        func visitChain(_ head: MemberNode?) {
            var n = head
            while let x = n { n = x.chainNext; visit(x) }
        }
        guard rehashIndex >= 0, let t = t1 else {
            return scanStepBuckets(cursor, smallMask: UInt64(t0.mask), largeMask: nil) { _, i in visitChain(t0.buckets[i]) }
        }
        let small: Table, large: Table
        if t0.size <= t.size { small = t0; large = t } else { small = t; large = t0 }
        return scanStepBuckets(cursor, smallMask: UInt64(small.mask), largeMask: UInt64(large.mask)) { inLarge, i in
            visitChain(inLarge ? large.buckets[i] : small.buckets[i])
        }
    }

    // MARK: iteration

    /// Visits every node in table order. `body` may free the node it is given (the link is
    /// read first) but must not otherwise change the table.
    public func forEach(_ body: (MemberNode) -> Void) {
        func visit(_ t: Table) {
            for b in 0..<t.size {
                var n = t.buckets[b]
                while let x = n { n = x.chainNext; body(x) }
            }
        }
        visit(t0)
        if let t = t1 { visit(t) }
    }
}
