import XCTest
@testable import CairnFormats

final class CRC64Tests: XCTestCase {
    func testCheckValueOf123456789IsRedisJones() {
        XCTAssertEqual(CRC64.checksum(Array("123456789".utf8)), 0xe9c6_d914_c4b8_d9ca)
    }

    func testEmptyInputLeavesTheCRCUnchanged() {
        XCTAssertEqual(CRC64.checksum([]), 0)
        XCTAssertEqual(CRC64.update(0x1234, []), 0x1234)
    }

    func testStreamingInPiecesEqualsWholeForEverySplit() {
        var rng = SystemRandomNumberGenerator()
        let data = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let whole = CRC64.checksum(data)
        for split in [0, 1, 7, 8, 9, 63, 64, 500, 999, 1000] {
            let a = CRC64.update(0, Array(data[..<split]))
            XCTAssertEqual(CRC64.update(a, Array(data[split...])), whole, "split at \(split)")
        }
    }

    func testSlicingTablesMatchTheBitwiseReference() {
        // Bit-at-a-time reference of the same reflected CRC, no tables.
        func reference(_ bytes: [UInt8]) -> UInt64 {
            var crc: UInt64 = 0
            for b in bytes {
                crc ^= UInt64(b)
                for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ CRC64.reflectedPolynomial : crc >> 1 }
            }
            return crc
        }
        for n in [1, 5, 8, 15, 16, 17, 23, 24, 31, 32, 33, 100, 257, 1000] {
            let data = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            XCTAssertEqual(CRC64.checksum(data), reference(data), "length \(n)")
        }
    }

    func testRealRedisFileTrailerMatches() throws {
        // hash-ziplist.rdb was written by Redis: its last 8 bytes are the LE CRC of the rest.
        let file = try RDBFixtures.bytes("hash-ziplist.rdb")
        let body = Array(file[..<(file.count - 8)])
        var stored: UInt64 = 0
        for (k, b) in file[(file.count - 8)...].enumerated() { stored |= UInt64(b) << (8 * UInt64(k)) }
        XCTAssertEqual(CRC64.checksum(body), stored)
    }
}
