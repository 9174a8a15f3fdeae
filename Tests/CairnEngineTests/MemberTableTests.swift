import XCTest
@testable import CairnEngine

/// The member table of big sets, hashes and sorted sets (Values/MemberTable.swift), on its own:
/// lookups, incremental growth and shrinking, sampling and the SCAN guarantee, and that it
/// lays nodes out exactly as the keyspace's HashTable does for the same seed.
final class MemberTableTests: XCTestCase {
    let seed = SipHashSeed(k0: 0x0123_4567, k1: 0x89AB_CDEF)

    /// Set-shaped nodes (link and key only); the test frees them.
    func node(_ s: String) -> MemberNode { MemberNode.allocate(size: MemberNode.payloadOffset, key: Bytes(s)) }

    func makeTable(_ n: Int, prefix: String = "key:") -> MemberTable {
        let t = MemberTable(seed: seed)
        for i in 0..<n { t.insert(node("\(prefix)\(i)")) }
        return t
    }

    func freeAll(_ t: MemberTable) {
        t.forEach { $0.free() }
        t.removeAll()
    }

    func finishRehash(_ t: MemberTable) {
        while t.rehashStep(1000) {}
        XCTAssertFalse(t.isRehashing)
    }

    func find(_ t: MemberTable, _ s: String) -> MemberNode? {
        Array(s.utf8).withUnsafeBytes { t.find($0) }
    }

    func testInsertFindRemoveFor100kMembers() {
        let n = 100_000
        let t = MemberTable(seed: seed)
        var nodes: [MemberNode] = []
        for i in 0..<n {
            let x = node("key:\(i)")
            nodes.append(x)
            t.insert(x)
        }
        XCTAssertEqual(t.count, n)
        for i in 0..<n { XCTAssertEqual(find(t, "key:\(i)"), nodes[i]) }
        XCTAssertNil(find(t, "key:\(n)"))
        XCTAssertNil(find(t, ""))
        for i in stride(from: 0, to: n, by: 2) {
            let removed = t.remove(Bytes("key:\(i)"))
            XCTAssertEqual(removed, nodes[i])
            XCTAssertNil(removed?.chainNext, "a removed node's link is cleared")
            removed?.free()
        }
        XCTAssertEqual(t.count, n / 2)
        for i in 0..<n { XCTAssertEqual(find(t, "key:\(i)"), i % 2 == 0 ? nil : nodes[i]) }
        XCTAssertNil(t.remove(Bytes("key:0")), "removing twice finds nothing")
        freeAll(t)
        XCTAssertEqual(t.count, 0)
        XCTAssertEqual(t.bucketCount, 4)
    }

    func testBinaryMembersAndInlineBoundary() {
        let t = MemberTable(seed: seed)
        // 22 bytes are stored inline in Bytes, 23 on the heap; equal Strings with different
        // bytes stay distinct.
        let keys: [Bytes] = [Bytes([0]), Bytes([0, 0]), Bytes([]), Bytes([0xFF, 0x00, 0x80]),
                             Bytes(Array(0...255)), Bytes(Array(0...21)), Bytes(Array(0...22)),
                             Bytes("\u{E9}"), Bytes("e\u{301}")]
        for k in keys { t.insert(MemberNode.allocate(size: MemberNode.payloadOffset, key: k)) }
        XCTAssertEqual(t.count, keys.count)
        for k in keys { XCTAssertEqual(t.find(k)?.key, k) }
        freeAll(t)
    }

    func testGrowthIsIncrementalAndKeysStayFindable() {
        let n = 1 << 12
        let t = makeTable(n)
        finishRehash(t)
        XCTAssertEqual(t.bucketCount, n)
        t.insert(node("trigger"))
        XCTAssertTrue(t.isRehashing)
        XCTAssertEqual(t.bucketCount, 3 * n, "both tables exist while rehashing")
        // Every lookup moves at most one non-empty bucket (visiting at most 10 empty ones),
        // and every member stays findable however far the move has got.
        var lookups = 0
        var k = 0
        while t.isRehashing {
            let before = t.rehashIndex
            XCTAssertNotNil(find(t, "key:\(k)"))
            lookups += 1
            k = (k + 211) % n
            if t.isRehashing { XCTAssertLessThanOrEqual(t.rehashIndex - before, 11) }
        }
        XCTAssertGreaterThan(lookups, n / 11, "the move was spread over many operations")
        XCTAssertEqual(t.bucketCount, 2 * n)
        XCTAssertEqual(t.count, n + 1)
        for k in 0..<n { XCTAssertNotNil(find(t, "key:\(k)")) }
        freeAll(t)
    }

    func testShrinkAfterDeleting99Percent() {
        let n = 10_000
        let t = makeTable(n)
        finishRehash(t)
        XCTAssertEqual(t.bucketCount, 16_384)
        for i in 0..<n where i % 100 != 0 { t.remove(Bytes("key:\(i)"))!.free() }
        XCTAssertTrue(t.shrinkIfNeeded())
        XCTAssertFalse(t.shrinkIfNeeded(), "no second resize while one is running")
        finishRehash(t)
        XCTAssertEqual(t.bucketCount, 128)
        for i in 0..<n { XCTAssertEqual(find(t, "key:\(i)") != nil, i % 100 == 0) }
        freeAll(t)
    }

    func testSameLayoutAsTheKeyspaceTable() {
        // Same seed, same inserts and removals: the same buckets, chains and SCAN cursors, so
        // a collection answers SMEMBERS/HGETALL/HSCAN in the order it did on HashTable.
        let mt = MemberTable(seed: seed)
        let ht = HashTable<TestNode>(seed: seed)
        for i in 0..<5000 {
            mt.insert(node("m\(i)"))
            ht.insert(TestNode("m\(i)"))
            if i % 3 == 0 {
                mt.remove(Bytes("m\(i / 2)"))?.free()
                ht.remove(Bytes("m\(i / 2)"))
            }
            if i % 997 == 0 { _ = mt.shrinkIfNeeded(); _ = ht.shrinkIfNeeded() }
        }
        var a: [Bytes] = [], b: [Bytes] = []
        mt.forEach { a.append($0.key) }
        ht.forEach { b.append($0.key) }
        XCTAssertEqual(a, b)
        var cm: UInt64 = 0, ch: UInt64 = 0
        var sa: [Bytes] = [], sb: [Bytes] = []
        repeat {
            cm = mt.scan(cm) { sa.append($0.key) }
            ch = ht.scan(ch) { sb.append($0.key) }
            XCTAssertEqual(cm, ch)
        } while cm != 0
        XCTAssertEqual(sa, sb)
        var r1 = SplitMix64(seed: 9), r2 = SplitMix64(seed: 9)
        for _ in 0..<100 { XCTAssertEqual(mt.randomNode(using: &r1)?.key, ht.randomNode(using: &r2)?.key) }
        freeAll(mt)
    }

    func testScanReturnsMembersPresentThroughoutWhileTheTableGrowsAndShrinks() {
        let t = makeTable(300)
        var seen = Set<Bytes>()
        var cursor: UInt64 = 0
        var step = 0
        repeat {
            cursor = t.scan(cursor) { seen.insert($0.key) }
            // Grow to several times the size, then remove the added members again.
            if step < 40 { for j in 0..<50 { t.insert(node("new:\(step):\(j)")) } }
            else if step < 80 { for j in 0..<50 { t.remove(Bytes("new:\(step - 40):\(j)"))?.free() }; _ = t.shrinkIfNeeded() }
            step += 1
        } while cursor != 0
        for i in 0..<300 { XCTAssertTrue(seen.contains(Bytes("key:\(i)")), "key:\(i)") }
        freeAll(t)
    }

    func testRandomNodeHitsEveryMemberAndOnlyPresentOnes() {
        let t = makeTable(64)
        for i in 0..<64 where i % 2 == 1 { t.remove(Bytes("key:\(i)"))!.free() }
        var rng = SplitMix64(seed: 3)
        var hits: [Bytes: Int] = [:]
        for _ in 0..<20_000 {
            let n = t.randomNode(using: &rng)!
            XCTAssertEqual(t.find(n.key), n)
            hits[n.key, default: 0] += 1
        }
        XCTAssertEqual(hits.count, 32)
        freeAll(t)
        XCTAssertNil(t.randomNode(using: &rng))
    }

    /// Every node in table order, and where the rehash is.
    func layout(_ t: MemberTable) -> (order: [Bytes], count: Int, rehashIndex: Int, buckets: Int) {
        var order: [Bytes] = []
        t.forEach { order.append($0.key) }
        return (order, t.count, t.rehashIndex, t.bucketCount)
    }

    func testFindAndInsertWithTheCallersHashLayTheTableOutAsWithout() {
        // SADD's path (hash once, find, insert with that hash) against find-then-insert that
        // hashes twice: the same steps of rehash, the same chains, the same SCAN cursors.
        let a = MemberTable(seed: seed), b = MemberTable(seed: seed)
        for i in 0..<6000 {
            let k = Bytes("m\(i % 4500)")
            let foundA = k.withUnsafeBytes { raw in
                let h = a.hash(raw)
                if a.find(raw, hash: h) != nil { return true }
                a.insert(MemberNode.allocate(size: MemberNode.payloadOffset, key: k), hash: h)
                return false
            }
            let foundB = b.find(k) != nil
            if !foundB { b.insert(MemberNode.allocate(size: MemberNode.payloadOffset, key: k)) }
            XCTAssertEqual(foundA, foundB)
            XCTAssertEqual(foundA, i >= 4500)
        }
        let la = layout(a), lb = layout(b)
        XCTAssertEqual(la.order, lb.order)
        XCTAssertEqual(la.count, 4500)
        var ca: UInt64 = 0, cb: UInt64 = 0
        repeat {
            ca = a.scan(ca) { _ in }
            cb = b.scan(cb) { _ in }
            XCTAssertEqual(ca, cb)
        } while ca != 0
        freeAll(a)
        freeAll(b)
    }

    func testRemovingWhileTheTableGrowsFindsMembersOnBothSidesOfTheRehash() {
        // Lookups and removals skip t0's buckets that have moved; members in moved and
        // unmoved buckets alike must still be found and removed.
        let n = 1 << 12
        let t = makeTable(n)
        finishRehash(t)
        t.insert(node("trigger"))
        t.rehashStep(n / 8)   // part of t0 moved
        XCTAssertTrue(t.isRehashing)
        XCTAssertGreaterThan(t.rehashIndex, 0)
        for i in stride(from: 0, to: n, by: 4) {
            guard let r = t.remove(Bytes("key:\(i)")) else { return XCTFail("key:\(i) not removed") }
            XCTAssertEqual(r.key, Bytes("key:\(i)"))
            r.free()
        }
        XCTAssertTrue(t.isRehashing, "still growing: the removals each moved at most one bucket")
        XCTAssertEqual(t.count, n - n / 4 + 1)
        for i in 0..<n { XCTAssertEqual(find(t, "key:\(i)") != nil, i % 4 != 0, "key:\(i)") }
        XCTAssertNotNil(find(t, "trigger"))
        freeAll(t)
    }

    func testPrefetchingChangesNothingAndAcceptsAnyHash() {
        // Prefetches are hints: on an empty table, a full one and one halfway through a
        // rehash, with any hash (negative ones included), nothing moves and nothing traps.
        var hashes = [0, 1, -1, Int.min, Int.max, 0x5555_5555]
        let empty = MemberTable(seed: seed)
        for h in hashes {
            empty.prefetchBucket(h)
            empty.prefetchChainHead(h, lastByte: 31)
            empty.prefetchChainSecond(h, lastByte: 55)
        }
        XCTAssertEqual(empty.count, 0)
        let t = makeTable(3000)
        finishRehash(t)
        for i in 0..<3000 { hashes.append(Bytes("key:\(i)").withUnsafeBytes { t.hash($0) }) }
        for growing in [false, true] {
            if growing {
                for i in 0..<1200 { t.insert(node("more:\(i)")) }   // 4096 → 8192 buckets
                XCTAssertTrue(t.isRehashing)
            }
            let before = layout(t)
            for h in hashes {
                t.prefetchBucket(h)
                t.prefetchChainHead(h, lastByte: 31)
                t.prefetchChainSecond(h, lastByte: 55)
            }
            let after = layout(t)
            XCTAssertEqual(after.order, before.order)
            XCTAssertEqual(after.count, before.count)
            XCTAssertEqual(after.rehashIndex, before.rehashIndex)
            XCTAssertEqual(after.buckets, before.buckets)
        }
        freeAll(t)
    }

    func testRehashWithLookaheadMovesEveryNodeOnceWhateverTheStepSize() {
        // The rehash prefetches ahead of rehashIndex (first nodes 16 buckets ahead, second
        // nodes 8): steps of one bucket, of a few and of many, with removals between them that
        // empty buckets already prefetched, end with every remaining member findable, once.
        for step in [1, 3, 100] {
            let t = makeTable(1 << 11)
            finishRehash(t)
            t.insert(node("trigger"))
            var removed = Set<Int>()
            var i = 0
            while t.rehashStep(step) {
                // Remove a member that may sit just ahead of the rehash.
                let k = (i &* 7919) % (1 << 11)
                if removed.insert(k).inserted { t.remove(Bytes("key:\(k)"))!.free() }
                i += 1
            }
            var seen: [Bytes: Int] = [:]
            t.forEach { seen[$0.key, default: 0] += 1 }
            XCTAssertEqual(seen.count, (1 << 11) + 1 - removed.count, "step \(step)")
            XCTAssertTrue(seen.values.allSatisfy { $0 == 1 })
            for k in 0..<(1 << 11) { XCTAssertEqual(find(t, "key:\(k)") != nil, !removed.contains(k)) }
            freeAll(t)
        }
    }
}

/// The packed encoding of small hashes and sorted sets (Values/PackedList.swift).
final class PackedListTests: XCTestCase {
    func testEntriesOfEveryPrefixSizeAndInPlaceEdits() {
        var p = PackedList()
        let payloads = [0, 1, 127, 128, 16383, 16384, 20].map { n in Bytes(Array(repeating: UInt8(n & 0xff), count: n)) }
        for x in payloads { p.append(x) }
        XCTAssertEqual(p.count, payloads.count)
        XCTAssertEqual(p.elements, payloads)
        XCTAssertEqual(p.endOffset, payloads.reduce(0) { $0 + PackedList.entrySize($1.count) })
        XCTAssertEqual(PackedList.entrySize(127), 128)
        XCTAssertEqual(PackedList.entrySize(128), 130)
        XCTAssertEqual(PackedList.entrySize(16384), 16387)
        // find with a stride looks at every other entry only.
        XCTAssertEqual(p.find(payloads[3], stride: 1), p.offset(ofEntry: 3))
        XCTAssertNil(p.find(payloads[3], stride: 2))
        XCTAssertEqual(p.find(payloads[4], stride: 2), p.offset(ofEntry: 4))
        // Replace with longer and shorter payloads, insert and remove in the middle.
        var model = payloads
        p.replace(at: p.offset(ofEntry: 1), with: Bytes(Array(repeating: 9, count: 300))); model[1] = Bytes(Array(repeating: 9, count: 300))
        p.replace(at: p.offset(ofEntry: 4), with: Bytes("x")); model[4] = Bytes("x")
        p.insert([Bytes("a"), Bytes("bb")], at: p.offset(ofEntry: 2)); model.insert(contentsOf: [Bytes("a"), Bytes("bb")], at: 2)
        p.remove(at: p.offset(ofEntry: 5), entries: 2); model.removeSubrange(5..<7)
        XCTAssertEqual(p.elements, model)
        XCTAssertEqual(p.count, model.count)
        let c = p.copy()
        p.remove(at: 0, entries: p.count)
        XCTAssertTrue(p.isEmpty)
        XCTAssertEqual(p.memoryBytes, 0, "an emptied list frees its buffer")
        XCTAssertEqual(c.elements, model, "the copy is independent")
    }

    func testExactReservationLeavesNoSlack() {
        var p = PackedList()
        let fields = (0..<20).map { Bytes("field:\($0)") }
        p.reserveExactly(extra: fields.reduce(0) { $0 + PackedList.entrySize($1.count) })
        let reserved = p.memoryBytes
        for f in fields { p.append(f) }
        XCTAssertEqual(p.memoryBytes, reserved, "no reallocation after an exact reservation")
        XCTAssertLessThan(p.memoryBytes - p.endOffset, 16, "only malloc's rounding")
        // Growth one entry at a time keeps the slack within an eighth.
        var q = PackedList()
        for i in 0..<500 { q.append(Bytes("value:\(i)")) }
        XCTAssertLessThanOrEqual(q.memoryBytes, q.endOffset + q.endOffset / 8 + 16)
    }
}
