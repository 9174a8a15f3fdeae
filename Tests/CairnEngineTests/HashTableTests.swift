import XCTest
@testable import CairnEngine

/// A node for exercising the table on its own.
final class TestNode: ChainedNode {
    let key: Bytes
    var chainNext: TestNode?
    init(_ key: Bytes) { self.key = key }
    convenience init(_ s: String) { self.init(Bytes(s)) }
}


final class HashTableTests: XCTestCase {
    let seed = SipHashSeed(k0: 0x0123_4567, k1: 0x89AB_CDEF)

    func key(_ i: Int) -> Bytes { Bytes("key:\(i)") }

    func makeTable(_ n: Int, prefix: String = "key:") -> HashTable<TestNode> {
        let t = HashTable<TestNode>(seed: seed)
        for i in 0..<n { t.insert(TestNode(Bytes("\(prefix)\(i)"))) }
        return t
    }

    /// Runs the incremental rehash to its end.
    func finishRehash(_ t: HashTable<TestNode>) {
        while t.rehashStep(1000) {}
        XCTAssertFalse(t.isRehashing)
    }

    /// Looks up through a raw buffer that is not a `Bytes` (the request's bytes, in place).
    func findBorrowed(_ t: HashTable<TestNode>, _ s: String) -> TestNode? {
        Array(s.utf8).withUnsafeBytes { t.find($0) }
    }

    // MARK: basic operations

    /// insertIfAbsent (the snapshot loader's insert): adds a new key with the hash it is
    /// given, and for a key already there returns that node and changes nothing, also while
    /// the table is growing (the key may sit in either half).
    func testInsertIfAbsentAddsNewKeysAndReturnsTheExistingNode() {
        let t = HashTable<TestNode>(seed: seed)
        var firsts: [TestNode] = []
        for i in 0..<5000 {
            let node = TestNode(key(i))
            firsts.append(node)
            XCTAssertNil(key(i).withUnsafeBytes { k in t.insertIfAbsent(node, hash: t.hash(k)) })
            if i % 7 == 0 {
                // The same key again, mid-growth: refused, the first node kept.
                let again = TestNode(key(i / 2))
                let existing = key(i / 2).withUnsafeBytes { k in t.insertIfAbsent(again, hash: t.hash(k)) }
                XCTAssertTrue(existing === firsts[i / 2], "key \(i / 2)")
            }
        }
        XCTAssertEqual(t.count, 5000)
        finishRehash(t)
        for i in 0..<5000 { XCTAssertTrue(t.find(key(i)) === firsts[i]) }
    }

    func testInsertFindRemoveByBorrowedBytesFor100kKeys() {
        let n = 100_000
        let t = HashTable<TestNode>(seed: seed)
        var nodes: [TestNode] = []
        nodes.reserveCapacity(n)
        for i in 0..<n {
            let node = TestNode(key(i))
            nodes.append(node)
            t.insert(node)
        }
        XCTAssertEqual(t.count, n)
        for i in stride(from: 0, to: n, by: 1) {
            XCTAssertTrue(findBorrowed(t, "key:\(i)") === nodes[i], "key:\(i)")
        }
        XCTAssertNil(findBorrowed(t, "key:\(n)"))
        XCTAssertNil(findBorrowed(t, ""))
        for i in stride(from: 0, to: n, by: 2) {
            let removed = Array("key:\(i)".utf8).withUnsafeBytes { t.remove($0) }
            XCTAssertTrue(removed === nodes[i])
            XCTAssertNil(removed?.chainNext)
        }
        XCTAssertEqual(t.count, n / 2)
        for i in 0..<n {
            if i % 2 == 0 {
                XCTAssertNil(findBorrowed(t, "key:\(i)"))
            } else {
                XCTAssertTrue(findBorrowed(t, "key:\(i)") === nodes[i])
            }
        }
        XCTAssertNil(Array("key:0".utf8).withUnsafeBytes { t.remove($0) }, "removing twice finds nothing")
        XCTAssertEqual(t.count, n / 2)
    }

    func testKeysThatAreEqualStringsButDifferentBytesAreDistinct() {
        let precomposed = "\u{E9}"          // é as one scalar: C3 A9
        let decomposed = "e\u{301}"         // e + combining acute: 65 CC 81
        XCTAssertEqual(precomposed, decomposed, "Swift considers them equal")
        let t = HashTable<TestNode>(seed: seed)
        let a = TestNode(Bytes(precomposed)), b = TestNode(Bytes(decomposed))
        t.insert(a)
        XCTAssertNil(t.find(Bytes(decomposed)))
        t.insert(b)
        XCTAssertEqual(t.count, 2)
        XCTAssertTrue(t.find(Bytes(precomposed)) === a)
        XCTAssertTrue(t.find(Bytes(decomposed)) === b)
        XCTAssertTrue(t.remove(Bytes(decomposed)) === b)
        XCTAssertTrue(t.find(Bytes(precomposed)) === a)
    }

    func testBinaryKeysWithZeroBytesAndAllByteValues() {
        let t = HashTable<TestNode>(seed: seed)
        let keys: [Bytes] = [Bytes([0]), Bytes([0, 0]), Bytes([]), Bytes([0xFF, 0x00, 0x80]),
                             Bytes(Array(0...255)), Bytes(Array(0...21)), Bytes(Array(0...22))]
        for k in keys { t.insert(TestNode(k)) }
        XCTAssertEqual(t.count, keys.count)
        for k in keys { XCTAssertEqual(t.find(k)?.key, k) }
    }

    // MARK: resizing

    func testGrowthIsIncremental() {
        // 2^14 keys fill a 2^14-bucket table exactly; the next insert starts the growth.
        let n = 1 << 14
        let t = makeTable(n)
        finishRehash(t)
        XCTAssertEqual(t.bucketCount, n)
        t.insert(TestNode("trigger"))
        XCTAssertTrue(t.isRehashing, "growth starts but does not complete in the insert")
        XCTAssertEqual(t.bucketCount, n + 2 * n, "both tables exist while rehashing")
        XCTAssertEqual(t.rehashIndex, 0, "the insert that starts the growth moves nothing yet")

        // Every operation moves at most one non-empty bucket, visiting at most 10 empty ones.
        var operations = 0
        var inserted = 0
        var i = 0
        while t.isRehashing {
            let before = t.rehashIndex
            let usedBefore = t.t0.used
            switch operations % 3 {
            case 0: XCTAssertNotNil(findBorrowed(t, "key:\(i)"))
            case 1: XCTAssertNil(findBorrowed(t, "absent:\(i)"))
            default: t.insert(TestNode("new:\(i)")); inserted += 1
            }
            operations += 1
            i += 1
            if t.isRehashing {
                XCTAssertLessThanOrEqual(t.rehashIndex - before, 11)
                XCTAssertLessThanOrEqual(usedBefore - t.t0.used, 8, "one bucket's chain moved")
            }
        }
        XCTAssertGreaterThan(operations, n / 11, "the move was spread over many operations")
        XCTAssertEqual(t.bucketCount, 2 * n)
        XCTAssertEqual(t.count, n + 1 + inserted)
        for k in 0..<n { XCTAssertNotNil(findBorrowed(t, "key:\(k)")) }
        XCTAssertNotNil(findBorrowed(t, "trigger"))
    }

    func testKeysStayFindableWhileRehashing() {
        let t = makeTable(1 << 12)
        finishRehash(t)
        t.insert(TestNode("trigger"))
        XCTAssertTrue(t.isRehashing)
        var checked = 0
        while t.isRehashing {
            // Every key is reachable no matter how far the move has progressed.
            for k in stride(from: checked % 7, to: 1 << 12, by: 97) {
                XCTAssertNotNil(findBorrowed(t, "key:\(k)"))
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 1)
    }

    func testShrinkAfterDeleting99Percent() {
        let n = 10_000
        let t = makeTable(n)
        finishRehash(t)
        XCTAssertEqual(t.bucketCount, 16_384)
        for i in 0..<n where i % 100 != 0 { t.remove(key(i)) }
        XCTAssertEqual(t.count, 100)
        XCTAssertEqual(t.bucketCount, 16_384, "deleting never resizes by itself")
        XCTAssertTrue(t.shrinkIfNeeded())
        XCTAssertTrue(t.isRehashing)
        XCTAssertFalse(t.shrinkIfNeeded(), "no second resize while one is running")
        XCTAssertEqual(t.bucketCount, 16_384 + 128)
        for i in stride(from: 0, to: n, by: 100) { XCTAssertNotNil(t.find(key(i))) }
        finishRehash(t)
        XCTAssertEqual(t.bucketCount, 128)
        XCTAssertEqual(t.count, 100)
        for i in 0..<n { XCTAssertEqual(t.find(key(i)) != nil, i % 100 == 0) }
        XCTAssertFalse(t.shrinkIfNeeded(), "100 keys in 128 buckets is full enough")
    }

    func testShrinkOfAnEmptiedTableReturnsToTheInitialSize() {
        let t = makeTable(1000)
        for i in 0..<1000 { t.remove(key(i)) }
        XCTAssertTrue(t.shrinkIfNeeded())
        finishRehash(t)
        XCTAssertEqual(t.bucketCount, HashTable<TestNode>.initialSize)
        XCTAssertEqual(t.count, 0)
    }

    // MARK: sampling

    func testRandomNodeReturnsOnlyPresentNodes() {
        let t = makeTable(2000)
        for i in 0..<2000 where i % 3 != 0 { t.remove(key(i)) }
        var rng = SplitMix64(seed: 42)
        for _ in 0..<5000 {
            guard let node = t.randomNode(using: &rng) else { return XCTFail("table is not empty") }
            XCTAssertTrue(t.find(node.key) === node)
        }
        let empty = HashTable<TestNode>(seed: seed)
        XCTAssertNil(empty.randomNode(using: &rng))
    }

    func testRandomNodeReturnsOnlyPresentNodesWhileRehashing() {
        let t = makeTable(1 << 10)
        finishRehash(t)
        t.insert(TestNode("trigger"))
        var rng = SplitMix64(seed: 7)
        var draws = 0
        while t.isRehashing {
            guard let node = t.randomNode(using: &rng) else { return XCTFail("table is not empty") }
            XCTAssertTrue(t.find(node.key) === node)
            draws += 1
        }
        XCTAssertGreaterThan(draws, 10)
    }

    /// Sampling picks a bucket uniformly among the non-empty ones, then a node of its chain
    /// uniformly, so a key's probability is 1 / (non-empty buckets × its chain's length).
    /// A chi-square test against exactly that distribution, with a fixed seed.
    func testRandomNodeHitsEveryKeyOfASmallTableWithTheExpectedFrequencies() {
        let n = 16
        let t = makeTable(n)
        finishRehash(t)
        var chainLength: [Bytes: Int] = [:]
        var nonEmpty = 0
        for head in t.t0.buckets {
            var chain: [Bytes] = []
            var node = head
            while let x = node { chain.append(x.key); node = x.chainNext }
            if !chain.isEmpty { nonEmpty += 1 }
            for k in chain { chainLength[k] = chain.count }
        }
        XCTAssertEqual(chainLength.count, n)

        var rng = SplitMix64(seed: 2024)
        let draws = 64_000
        var hits: [Bytes: Int] = [:]
        for _ in 0..<draws { hits[t.randomNode(using: &rng)!.key, default: 0] += 1 }
        XCTAssertEqual(hits.count, n, "every key is drawn")
        var chiSquare = 0.0
        for (k, length) in chainLength {
            let expected = Double(draws) / Double(nonEmpty * length)
            let observed = Double(hits[k] ?? 0)
            chiSquare += (observed - expected) * (observed - expected) / expected
        }
        // 15 degrees of freedom: the 0.1% critical value is 37.7.
        XCTAssertLessThan(chiSquare, 37.7)
    }

    // MARK: SCAN

    /// Runs a whole SCAN, calling `between` after every step; returns every key seen.
    func scanAll(_ t: HashTable<TestNode>, between: (Int) -> Void = { _ in }) -> Set<Bytes> {
        var seen = Set<Bytes>()
        var cursor: UInt64 = 0
        var steps = 0
        repeat {
            cursor = t.scan(cursor) { seen.insert($0.key) }
            steps += 1
            between(steps)
            XCTAssertLessThan(steps, 1 << 20, "scan terminates")
            if steps >= 1 << 20 { break }
        } while cursor != 0
        return seen
    }

    func testScanReturnsEveryKeyOfAStableTable() {
        let t = makeTable(5000)
        finishRehash(t)
        let seen = scanAll(t)
        XCTAssertEqual(seen, Set((0..<5000).map(key)))
    }

    func testScanReturnsKeysPresentThroughoutWhileTheTableGrows() {
        let t = makeTable(300)
        finishRehash(t)
        var added = 0
        // 20 new keys per step, 4000 in all: the table grows through several doublings while
        // the scan is in progress (it must stop growing at some point for the scan to end).
        let seen = scanAll(t) { _ in
            for _ in 0..<20 where added < 4000 { t.insert(TestNode("grow:\(added)")); added += 1 }
        }
        XCTAssertEqual(added, 4000)
        XCTAssertGreaterThan(t.bucketCount, 512, "the table grew during the scan")
        let stable = Set((0..<300).map(key))
        XCTAssertTrue(stable.isSubset(of: seen), "missing: \(stable.subtracting(seen).count)")
    }

    func testScanReturnsKeysPresentThroughoutWhileTheTableShrinks() {
        let t = makeTable(8000)
        finishRehash(t)
        let startBuckets = t.bucketCount
        // Keep every 50th key; delete the others in batches between scan calls and let the
        // table shrink (and finish shrinking) in the middle of the scan.
        var doomed = (0..<8000).filter { $0 % 50 != 0 }
        let seen = scanAll(t) { step in
            for _ in 0..<400 where !doomed.isEmpty { t.remove(key(doomed.removeLast())) }
            if step % 3 == 0 { t.shrinkIfNeeded() }
            if step % 5 == 0 { t.rehashStep(50) }
        }
        XCTAssertLessThan(t.bucketCount, startBuckets, "the table shrank during the scan")
        let stable = Set(stride(from: 0, to: 8000, by: 50).map(key))
        XCTAssertTrue(stable.isSubset(of: seen), "missing: \(stable.subtracting(seen).count)")
    }

    func testScanReturnsEveryKeyWhileRehashingStepByStep() {
        let t = makeTable(1 << 11)
        finishRehash(t)
        t.insert(TestNode("trigger"))
        XCTAssertTrue(t.isRehashing)
        var wasRehashingDuringScan = false
        let seen = scanAll(t) { _ in
            if t.isRehashing { wasRehashingDuringScan = true }
            t.rehashStep(1)
        }
        XCTAssertTrue(wasRehashingDuringScan)
        var all = Set((0..<(1 << 11)).map(key))
        all.insert(Bytes("trigger"))
        XCTAssertEqual(seen, all)
    }

    func testScanOfAnEmptyTableEndsAtOnce() {
        let t = HashTable<TestNode>(seed: seed)
        var visited = 0
        XCTAssertEqual(t.scan(0) { _ in visited += 1 }, 0)
        XCTAssertEqual(visited, 0)
    }

    // MARK: snapshot hook

    func testSnapshotHookDoesNotFireWithoutASnapshot() {
        let t = HashTable<TestNode>(seed: seed)
        var fired = 0
        t.beforeBucketMutation = { _ in fired += 1 }
        for i in 0..<100 { t.insert(TestNode(key(i))) }
        for i in 0..<50 { t.remove(key(i)) }
        XCTAssertEqual(fired, 0)
    }

    func testSnapshotHookFiresOncePerBucketPerEpochBeforeTheMutation() {
        let t = HashTable<TestNode>(seed: seed)
        // Two keys in the same bucket of the 4-bucket initial table.
        let a = TestNode("a")
        t.insert(a)
        var sameBucket: TestNode? = nil
        var i = 0
        while sameBucket == nil {
            let candidate = TestNode("b\(i)")
            let ha = a.key.withUnsafeBytes { t.hash($0) } & 3
            let hc = candidate.key.withUnsafeBytes { t.hash($0) } & 3
            if ha == hc { sameBucket = candidate }
            i += 1
        }
        var reports: [[Bytes]] = []
        t.beforeBucketMutation = { head in
            var chain: [Bytes] = []
            var n = head
            while let x = n { chain.append(x.key); n = x.chainNext }
            reports.append(chain)
        }
        t.snapshotEpoch = 1
        t.insert(sameBucket!)
        XCTAssertEqual(reports, [[Bytes("a")]], "reported with the chain as it was before the insert")
        t.remove(Bytes("a"))
        XCTAssertEqual(reports.count, 1, "the bucket is not reported twice in one epoch")
        t.snapshotEpoch = 2
        t.remove(sameBucket!.key)
        XCTAssertEqual(reports, [[Bytes("a")], [sameBucket!.key]], "a new epoch reports again")
        t.remove(Bytes("never-there"))
        XCTAssertEqual(reports.count, 2, "a remove that finds nothing changes nothing")
    }

    /// The snapshot invariant: the keys reported by the hook, plus the keys of buckets never
    /// reported (walked at the end as a snapshot driver would), are exactly the keys present at
    /// the cut, each once — through inserts, deletes, growth and shrinking after the cut.
    func testSnapshotHookPreservesTheDatasetAtTheCut() {
        let t = makeTable(3000)
        t.rehashStep(5)   // start the cut in the middle of a rehash
        var atCut = Set<Bytes>()
        t.forEach { atCut.insert($0.key) }
        var reported: [Bytes] = []
        t.beforeBucketMutation = { head in
            var n = head
            while let x = n { reported.append(x.key); n = x.chainNext }
        }
        t.snapshotEpoch = 1

        for i in 0..<3000 where i % 4 != 0 { t.remove(key(i)) }
        for i in 0..<5000 { t.insert(TestNode("after:\(i)")) }
        for i in 0..<2500 { t.remove(Bytes("after:\(i)")) }
        for i in 0..<3000 where i % 4 == 1 { t.insert(TestNode(key(i))) }   // re-created keys
        finishRehash(t)
        for i in 2500..<5000 { t.remove(Bytes("after:\(i)")) }
        if t.shrinkIfNeeded() { finishRehash(t) }

        // The driver's pass: buckets whose epoch is older than the snapshot's.
        var unreported: [Bytes] = []
        func walk(_ table: HashTable<TestNode>.Table?) {
            guard let table else { return }
            for (i, head) in table.buckets.enumerated() where table.epochs[i] < 1 {
                var n = head
                while let x = n { unreported.append(x.key); n = x.chainNext }
            }
        }
        walk(t.t0)
        walk(t.t1)
        let snapshot = reported + unreported
        XCTAssertEqual(snapshot.count, atCut.count, "no key serialized twice or missed")
        XCTAssertEqual(Set(snapshot), atCut)
    }
}

final class HashTableReserveTests: XCTestCase {
    func testReservedTableFillsWithoutRehashingAndIgnoresReserveWhenNotEmpty() {
        let t = HashTable<KeyEntry>(seed: SipHashSeed(k0: 1, k1: 2))
        t.reserve(1000)
        XCTAssertEqual(t.bucketCount, 1024)
        for i in 0..<1000 {
            t.insert(KeyEntry.make(key: Bytes("k\(i)"), value: .int(Int64(i)), clock: 0))
            XCTAssertFalse(t.isRehashing)
        }
        XCTAssertEqual(t.bucketCount, 1024)
        t.reserve(1 << 20)
        XCTAssertEqual(t.bucketCount, 1024)
        XCTAssertEqual(t.find(Bytes("k999"))?.key, Bytes("k999"))
    }
}
