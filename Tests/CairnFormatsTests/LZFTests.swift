import XCTest
@testable import CairnFormats

final class LZFTests: XCTestCase {
    /// The "compressible" value of Redis's encodings.rdb: C3 09 40 89 then these 9 bytes,
    /// 137 times "a".
    func testDecodesTheRedisBlobFromEncodingsRDB() throws {
        let blob: [UInt8] = [0x01, 0x61, 0x61, 0xE0, 0x7C, 0x00, 0x01, 0x61, 0x61]
        XCTAssertEqual(try LZF.decompress(blob, outputLength: 137), Array(repeating: 0x61, count: 137))
    }

    func testRoundTripsVariedInputs() throws {
        var rng = SystemRandomNumberGenerator()
        let random = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let inputs: [[UInt8]] = [
            Array(repeating: 0x61, count: 100),
            Array(repeating: 0x00, count: 70_000),
            Array("the quick brown fox jumps over the lazy dog; the quick brown fox again".utf8),
            (0..<20_000).map { UInt8(truncatingIfNeeded: $0 % 251) },
            Array(random.prefix(300)) + Array(random.prefix(300)) + Array(random.prefix(300)),
            Array("abc".utf8),
        ]
        for input in inputs {
            guard let c = LZF.compress(input, maxOutput: input.count + input.count / 16 + 64) else {
                XCTFail("compress refused \(input.count) bytes"); continue
            }
            XCTAssertEqual(try LZF.decompress(c, outputLength: input.count), input)
        }
    }

    func testCompressGivesUpWhenOutputWouldNotFit() {
        var rng = SystemRandomNumberGenerator()
        let random = (0..<200).map { _ in UInt8.random(in: 0...255, using: &rng) }
        XCTAssertNil(LZF.compress(random, maxOutput: random.count - 4))
        XCTAssertNil(LZF.compress([], maxOutput: 10))
    }

    func testLongMatchesUseTheExtendedLengthForm() throws {
        let input = Array(repeating: UInt8(7), count: 600)
        let c = try XCTUnwrap(LZF.compress(input, maxOutput: 100))
        XCTAssertLessThan(c.count, 20)
        XCTAssertEqual(try LZF.decompress(c, outputLength: 600), input)
    }

    func testRejectsBackReferenceBeforeStart() {
        XCTAssertThrowsError(try LZF.decompress([0x20, 0x05], outputLength: 3))
    }

    func testRejectsTruncatedLiteralAndWrongLength() {
        XCTAssertThrowsError(try LZF.decompress([0x04, 0x61], outputLength: 5))
        XCTAssertThrowsError(try LZF.decompress([0x00, 0x61], outputLength: 2))
        XCTAssertThrowsError(try LZF.decompress([0x01, 0x61, 0x62], outputLength: 1))
    }

    func testRejectsImplausibleDeclaredLengthWithoutAllocating() {
        XCTAssertThrowsError(try LZF.decompress([0x00, 0x61], outputLength: 1 << 40))
    }
}
