import XCTest
@testable import CairnEngine

/// The quicklist behind list values (Values/ListValue.swift), on its own: long seeded random
/// operation sequences against an array, with node caps small enough that every operation
/// crosses node boundaries, splits or merges nodes; and the entry encoding at each length
/// prefix size.
final class ListValueTests: XCTestCase {
    func bytes(_ s: String) -> Bytes { Bytes(s) }

    func testEntriesOfEveryLengthPrefixSizeRoundTripFromBothEnds() {
        // 1-, 2- and 3-byte length prefixes (boundaries at 128 and 16384).
        let lengths = [0, 1, 22, 23, 127, 128, 129, 16383, 16384, 70_000]
        let elements = lengths.map { n in Bytes((0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ n) }) }
        let l = ListValue(fill: -2)
        for e in elements { l.pushBack(e) }
        XCTAssertEqual(l.elements, elements)
        var reversed: [Bytes] = []
        l.forEach(in: 0..<l.count, reverse: true) { _, p in reversed.append(Bytes(p)); return true }
        XCTAssertEqual(reversed, elements.reversed())
        for (i, e) in elements.enumerated() { XCTAssertEqual(l[i], e, "index \(i)") }
        XCTAssertNil(l.structureProblem())
        let front = ListValue(fill: -2)
        for e in elements { front.pushFront(e) }
        XCTAssertEqual(front.elements, elements.reversed())
        for e in elements { XCTAssertEqual(l.popFront(), e) }
        for e in elements { XCTAssertEqual(front.popBack(), e) }
        XCTAssertTrue(l.isEmpty && front.isEmpty)
        XCTAssertNil(l.popFront())
        XCTAssertNil(front.popBack())
    }

    func testNodesHoldWhatListMaxListpackSizeAllows() {
        // A positive size caps the elements per node.
        let counted = ListValue(fill: 4)
        for i in 0..<10 { counted.pushBack(bytes("e\(i)")) }
        XCTAssertEqual(counted.nodeCountForTesting, 3)
        // -1 caps a node at 4096 bytes of entries: 100-byte elements take 102, so 40 fit.
        let sized = ListValue(fill: -1)
        let e = Bytes(Array(repeating: UInt8(ascii: "x"), count: 100))
        for _ in 0..<80 { sized.pushFront(e) }
        XCTAssertEqual(sized.nodeCountForTesting, 2)
        sized.pushFront(e)
        XCTAssertEqual(sized.nodeCountForTesting, 3)
        // An element bigger than the cap gets a node of its own.
        let big = Bytes(Array(repeating: UInt8(ascii: "y"), count: 10_000))
        let l = ListValue(fill: -2)
        l.pushBack(bytes("a"))
        l.pushBack(big)
        l.pushBack(bytes("b"))
        XCTAssertEqual(l.nodeCountForTesting, 3)
        XCTAssertEqual(l.elements, [bytes("a"), big, bytes("b")])
        // 0 allows one element per node, as Redis's quicklist does.
        let single = ListValue(fill: 0)
        for i in 0..<5 { single.pushBack(bytes("\(i)")) }
        XCTAssertEqual(single.nodeCountForTesting, 5)
        XCTAssertNil(single.structureProblem())
    }

    func testAMillionShortElementsTakeAboutTwoBytesEachBeyondTheirPayload() {
        let l = ListValue(fill: -2)
        let e = bytes("xxx")
        for _ in 0..<1_000_000 { l.pushFront(e) }
        // 5 bytes of entry per element, 8 KiB nodes nearly full.
        XCTAssertLessThan(l.memoryBytes, 5_200_000)
        XCTAssertGreaterThan(l.memoryBytes, 5_000_000)
        for _ in 0..<999_999 { XCTAssertEqual(l.popBack(), e) }
        XCTAssertEqual(l.count, 1)
        XCTAssertLessThan(l.memoryBytes, 1024, "emptied nodes are freed")
    }

    func testAgainstArrayModelWithSmallNodes() {
        for (seed, fill) in [(UInt64(11), 1), (12, 2), (13, 3), (14, 7), (15, -1), (16, 0), (17, -2)] {
            run(seed: seed, fill: fill, steps: 6000)
        }
    }

    func run(seed: UInt64, fill: Int, steps: Int) {
        var rng = SplitMix64(seed: seed)
        let l = ListValue(fill: fill)
        var model: [Bytes] = []
        // Mostly short elements; with fill -1 (4 KiB nodes) some of 300…3000 bytes, so byte caps
        // split nodes too.
        func element() -> Bytes {
            let i = Int.random(in: 0..<6, using: &rng)
            let long = fill == -1 && Int.random(in: 0..<4, using: &rng) == 0
            return Bytes("v\(i)" + String(repeating: "-", count: long ? 300 * Int.random(in: 1...10, using: &rng) : i))
        }
        func position(_ n: Int) -> Int { Int.random(in: 0..<n, using: &rng) }
        var maxCount = 0, maxNodes = 0
        for step in 0..<steps {
            let n = model.count
            // Phases of growth (removals mostly skipped) and of shrinking, so lists reach a few
            // hundred elements and drain again.
            let growing = (step / 1500) % 2 == 0
            var op = Int.random(in: 0..<13, using: &rng)
            if growing && [4, 5, 7, 9, 10].contains(op) && Int.random(in: 0..<4, using: &rng) != 0 { op = 2 }
            if !growing && [0, 1, 2, 3, 6].contains(op) && Int.random(in: 0..<2, using: &rng) != 0 { op = 4 + op % 2 }
            switch op {
            case 0, 1:
                let e = element()
                l.pushFront(e); model.insert(e, at: 0)
            case 2, 3:
                let e = element()
                l.pushBack(e); model.append(e)
            case 4:
                XCTAssertEqual(l.popFront(), model.first)
                if n > 0 { model.removeFirst() }
            case 5:
                XCTAssertEqual(l.popBack(), model.last)
                if n > 0 { model.removeLast() }
            case 6:
                let i = Int.random(in: 0...n, using: &rng)
                let e = element()
                l.insert(e, at: i); model.insert(e, at: i)
            case 7:
                guard n > 0 else { break }
                let i = position(n)
                l.remove(at: i); model.remove(at: i)
            case 8:
                guard n > 0 else { break }
                let i = position(n)
                XCTAssertEqual(l[i], model[i])
                let e = element()
                l[i] = e; model[i] = e
            case 9:
                // Trims rarely and mildly, so the list keeps growing.
                guard n > 4, Int.random(in: 0..<3, using: &rng) == 0 else { break }
                let lo = Int.random(in: 0...2, using: &rng), hi = n - Int.random(in: 0...2, using: &rng)
                l.keep(lo..<hi); model = Array(model[lo..<hi])
            case 10:
                let victim = element()
                let from = n > 0 ? position(n) : 0
                let removed = l.removeAll { i, p in i >= from && Bytes(p) == victim }
                var kept: [Bytes] = []
                var gone = 0
                for (i, x) in model.enumerated() { if i >= from && x == victim { gone += 1 } else { kept.append(x) } }
                XCTAssertEqual(removed, gone)
                model = kept
            case 11:
                guard n > 0 else { break }
                let a = position(n), b = position(n)
                let r = min(a, b)..<(max(a, b) + 1)
                let reverse = Bool.random(using: &rng)
                var seen: [Bytes] = []
                var indexes: [Int] = []
                l.forEach(in: r, reverse: reverse) { i, p in seen.append(Bytes(p)); indexes.append(i); return true }
                XCTAssertEqual(seen, reverse ? Array(model[r].reversed()) : Array(model[r]))
                XCTAssertEqual(indexes, reverse ? Array(r.reversed()) : Array(r))
            default:
                let c = l.copy()
                XCTAssertEqual(c.elements, model)
                XCTAssertNil(c.structureProblem())
                c.pushBack(element())
                XCTAssertEqual(l.count, model.count, "the copy is independent")
            }
            XCTAssertEqual(l.count, model.count)
            maxCount = max(maxCount, l.count)
            maxNodes = max(maxNodes, l.nodeCountForTesting)
            if let problem = l.structureProblem() {
                XCTFail("fill \(fill) seed \(seed) step \(step) op \(op): \(problem)")
                return
            }
            if step % 50 == 0 || n < 8 {
                XCTAssertEqual(l.elements, model, "fill \(fill) seed \(seed) step \(step)")
            }
        }
        XCTAssertEqual(l.elements, model)
        // The sequence really built long lists of many nodes (fill -2 holds them in one).
        XCTAssertGreaterThan(maxCount, 300, "fill \(fill)")
        if fill != -2 { XCTAssertGreaterThan(maxNodes, 50, "fill \(fill)") }
    }

    func testAListBuiltFromEncodedEntriesHasTheNodesPushesWouldGiveIt() {
        // Short, long, empty and over-the-cap elements, for each kind of cap.
        var elements: [Bytes] = []
        for i in 0..<300 {
            let n = i % 37 == 0 ? 9_000 : (i % 11 == 0 ? 0 : (i * 7) % 200)
            elements.append(Bytes((0..<n).map { UInt8(truncatingIfNeeded: $0 &+ i) }))
        }
        for fill in [-5, -2, -1, 0, 1, 3, 16] {
            for count in [1, 2, 10, 300] {
                let some = Array(elements.prefix(count))
                let pushed = ListValue(fill: fill)
                for e in some { pushed.pushBack(e) }
                var entries: [UInt8] = []
                for e in some {
                    e.withUnsafeBytes { p in
                        var entry = [UInt8](repeating: 0, count: ListEntry.size(payload: p.count))
                        _ = entry.withUnsafeMutableBytes { ListEntry.write(p, at: $0.baseAddress!) }
                        entries += entry
                    }
                }
                let built = entries.withUnsafeBytes { ListValue(entries: $0, count: some.count, fill: fill) }
                XCTAssertEqual(built.elements, some, "fill \(fill), \(count) elements")
                XCTAssertEqual(built.nodeCountForTesting, pushed.nodeCountForTesting, "fill \(fill), \(count) elements")
                XCTAssertNil(built.structureProblem(), "fill \(fill), \(count) elements")
                // It goes on like any list.
                built.pushFront(Bytes("front"))
                built.pushBack(Bytes("back"))
                XCTAssertEqual(built.popFront(), Bytes("front"))
                XCTAssertEqual(built.popBack(), Bytes("back"))
                XCTAssertEqual(built.elements, some)
                XCTAssertNil(built.structureProblem())
            }
        }
        let empty = [UInt8]().withUnsafeBytes { ListValue(entries: $0, count: 0, fill: -2) }
        XCTAssertTrue(empty.isEmpty)
        XCTAssertEqual(empty.nodeCountForTesting, 0)
    }

    func testAListGoesFromOneNodeToARingAndBack() {
        // fill 2: two elements a node. structureProblem checks that a one-node list keeps its
        // node outside a ring and a longer one keeps every node in it.
        let l = ListValue(fill: 2)
        var model: [Bytes] = []
        for i in 0..<9 {
            let e = Bytes("e\(i)")
            if i % 2 == 0 { l.pushBack(e); model.append(e) } else { l.pushFront(e); model.insert(e, at: 0) }
            XCTAssertNil(l.structureProblem(), "after push \(i)")
            if i == 1 { XCTAssertEqual(l.nodeCountForTesting, 1) }
        }
        XCTAssertEqual(l.elements, model)
        XCTAssertGreaterThan(l.nodeCountForTesting, 3)
        let copy = l.copy()
        while model.count > 1 {
            if model.count % 2 == 0 { XCTAssertEqual(l.popFront(), model.removeFirst()) } else { XCTAssertEqual(l.popBack(), model.removeLast()) }
            XCTAssertNil(l.structureProblem(), "\(model.count) left")
            XCTAssertEqual(l.elements, model)
        }
        XCTAssertEqual(l.nodeCountForTesting, 1)
        l.insert(Bytes("x"), at: 1)
        l.insert(Bytes("y"), at: 1)
        XCTAssertEqual(l.nodeCountForTesting, 2)
        XCTAssertNil(l.structureProblem())
        l.remove(at: 1)
        l.remove(at: 1)
        XCTAssertEqual(l.elements, model)
        XCTAssertNil(l.structureProblem())
        XCTAssertEqual(copy.count, 9)
        XCTAssertNil(copy.structureProblem())
        copy.removeAll()
        XCTAssertNil(copy.structureProblem())
        copy.pushBack(Bytes("again"))
        XCTAssertEqual(copy.elements, [Bytes("again")])
        XCTAssertNil(copy.structureProblem())
    }
}
