@testable import CairnEngine
import XCTest

/// SetValue's own invariants: its size, the listpack's bytes, conversions and sampling.
final class SetValueTests: XCTestCase {
    let limits = CollectionLimits(EngineConfig(), seed: SipHashSeed(k0: 1, k1: 2))

    /// The listpack form costs no object growth: the storage enum is one word, so a set is
    /// still a 40-byte object in a 48-byte malloc chunk (40 usable bytes).
    func testASetIsA48ByteChunkInEveryEncoding() {
        let a = SetValue()
        let b = SetValue.emptyListpack()
        b.add(Bytes("x"), limits: limits)
        let c = SetValue.creating(for: Bytes("x"), sizeHint: 200, limits: limits)
        XCTAssertEqual(c.encodingName, "hashtable")
        for s in [a, b, c] { XCTAssertEqual(MemoryAccounting.objectBytes(s), 40, s.encodingName) }
    }

    /// Ten "member-N" strings: one buffer of their bytes plus a one-byte length each, sized
    /// exactly when SADD creates the set.
    func testTenShortMembersAreOneExactBuffer() {
        let members = (0..<10).map { Bytes("member-\(1000 + $0)") }
        let s = SetValue.creating(for: members[0], sizeHint: 10, limits: limits)
        s.reserve(members: members[...], limits: limits)
        for m in members { XCTAssertTrue(s.add(m, limits: limits)) }
        XCTAssertEqual(s.encodingName, "listpack")
        XCTAssertEqual(s.packed.endOffset, 10 * 12)
        XCTAssertEqual(s.memoryBytes, 120)   // malloc(120): a 128-byte chunk, 120 usable
        XCTAssertEqual(s.members, members)
    }

    func testDecimalLengthIsRedisSdigits10() {
        for v: Int64 in [0, 9, 10, -1, -10, 99, 100, .max, .min, -9_999] {
            XCTAssertEqual(SetValue.decimalLength(v), String(v).utf8.count, "\(v)")
        }
    }

    func testIntegersOnlyBecomeAnIntsetAgainWhenAsked() {
        let s = SetValue.emptyListpack()
        for m in ["30", "-2", "7"] { s.add(Bytes(m), limits: limits) }
        s.convertToIntsetIfAllIntegers(limits: limits)
        XCTAssertEqual(s.encodingName, "intset")
        XCTAssertEqual(s.ints, [-2, 7, 30])
        let t = SetValue.emptyListpack()
        for m in ["1", "07"] { t.add(Bytes(m), limits: limits) }
        t.convertToIntsetIfAllIntegers(limits: limits)
        XCTAssertEqual(t.encodingName, "listpack")
    }

    /// Selection sampling: k distinct entries, ascending indexes, every entry about equally
    /// likely; the batch removal keeps the others in order.
    func testListpackSampleIsOrderedAndUniform() {
        let s = SetValue.emptyListpack()
        for i in 0..<10 { s.add(Bytes("m\(i)"), limits: limits) }
        var rng = SystemRandomNumberGenerator()
        var hits = [Int](repeating: 0, count: 10)
        for _ in 0..<4000 {
            let picks = s.listpackSample(3, using: &rng)
            XCTAssertEqual(picks.count, 3)
            XCTAssertEqual(picks.map { $0.index }, picks.map { $0.index }.sorted())
            XCTAssertEqual(Set(picks.map { $0.index }).count, 3)
            for p in picks {
                XCTAssertEqual(p.member, Bytes("m\(p.index)"))
                hits[p.index] += 1
            }
        }
        // 1200 expected each; 6 standard deviations is about ±175.
        for h in hits { XCTAssertTrue((1000...1400).contains(h), "\(hits)") }
        s.removeListpackEntries([0, 4, 9])
        XCTAssertEqual(s.members.map { $0.debugText }, ["m1", "m2", "m3", "m5", "m6", "m7", "m8"])
        XCTAssertEqual(s.count, 7)
    }
}
