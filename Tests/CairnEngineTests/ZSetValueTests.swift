import XCTest
@testable import CairnEngine

/// The packed sorted set's score entries (Values/ZSetValue.swift): each score is kept in the
/// shortest form that gives its exact bits back.
final class ZSetValueTests: XCTestCase {
    func testScoreEntriesTakeTheShortestLosslessForm() {
        let cases: [(Double, Int)] = [
            (0, 1), (1, 1), (-1, 1), (127, 1), (-128, 1),
            (128, 2), (-129, 2), (32767, 2), (-32768, 2),
            (32768, 4), (1.5, 4), (-2.25, 4), (16_777_216, 4), (.infinity, 4), (-.infinity, 4),
            (-0.0, 4),   // not an integer's bits
            (16_777_217, 8), (0.1, 8), (1e300, 8), (Double.leastNonzeroMagnitude, 8), (Double(Int64.max), 4),
        ]
        for (score, size) in cases {
            let entry = ZSetValue.scoreEntry(score)
            XCTAssertEqual(entry.count, size, "\(score)")
            XCTAssertEqual(entry.withUnsafeBytes { ZSetValue.score(entry: $0) }.bitPattern, score.bitPattern, "\(score)")
        }
    }

    func testAPackedZSetGivesBackEveryScoreExactlyAndInOrder() {
        var config = EngineConfig()
        config.zsetMaxListpackEntries = 128
        let limits = CollectionLimits(config, seed: SipHashSeed(k0: 1, k1: 2))
        let scores: [Double] = [3, -7.5, 0.1, 40_000, -1e300, 1e-300, 200, .infinity, -.infinity, 1.25, -0.0, 33_000.5]
        let z = ZSetValue()
        for (i, s) in scores.enumerated() { z.insert(Bytes("m\(i)"), s, limits: limits) }
        XCTAssertTrue(z.isPacked)
        for (i, s) in scores.enumerated() {
            // -0 is stored as 0, as Redis's listpack reads "-0" back.
            XCTAssertEqual(z.score(Bytes("m\(i)"))?.bitPattern, (s == 0 ? 0 : s).bitPattern, "m\(i)")
        }
        XCTAssertEqual(z.elements.map { $0.score }, scores.map { $0 == 0 ? 0 : $0 }.sorted())
        z.update(Bytes("m0"), to: 0.3)
        XCTAssertEqual(z.score(Bytes("m0")), 0.3)
        XCTAssertEqual(z.rank(Bytes("m0")), 6)   // after -inf, -1e300, -7.5, 0, 1e-300, 0.1
    }
}
