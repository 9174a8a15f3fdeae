// Damage valid files every way we can think of: the reader must report an RDBError (truncation,
// structure, or CRC mismatch), never trap, never hang, and never return different data as if it
// were fine.
import XCTest
@testable import CairnFormats

final class RDBCorruptionTests: XCTestCase {
    /// A small file with one key of every type, compact and big-ish, about 2 KB.
    static let small: [UInt8] = {
        let w = RDBWriter(version: 10)
        w.header()
        w.aux("redis-ver", "7.0.15")
        w.function(source: "#!lua name=l\nredis.register_function('f', function() return 1 end)")
        w.selectDB(0)
        w.resizeDB(dbSize: 12, expiresSize: 1)
        w.string(key: "s", value: "value", expireAtMs: 1_900_000_000_000)
        w.string(key: "n", value: "12345")
        w.string(key: "lzf", value: .repeating("r", 60))
        w.list(key: "l", elements: strings(["a", "b", "300", "-2"]))
        w.list(key: "lp", elements: (0..<40).map { Bytes("item\($0)") }, listpackMaxSize: 8)
        w.set(key: "si", members: strings(["1", "2", "3"]))
        w.set(key: "ss", members: strings(["x", "y"]))
        w.hash(key: "h", fields: [("f", "v"), ("g", "1")])
        w.hash(key: "hb", fields: [("long", .repeating("L", 80))])
        w.zset(key: "z", members: [("a", 1), ("b", 2.5)])
        w.zset(key: "zb", members: [(.repeating("m", 70), 3)])
        w.stream(key: "x", stream: RDBSample.smallStream(version: 10))
        w.end()
        return w.takeOutput()
    }()

    func expectRDBError(_ bytes: [UInt8], verifyChecksum: Bool = true, _ message: @autoclosure () -> String) {
        do {
            _ = try readRDB(bytes, verifyChecksum: verifyChecksum)
            XCTFail("accepted: \(message())")
        } catch is RDBError {
        } catch {
            XCTFail("not an RDBError (\(error)): \(message())")
        }
    }

    func testTheSampleIsValid() throws {
        XCTAssertEqual(try readRDB(RDBCorruptionTests.small).keys.count, 12)
        XCTAssertGreaterThan(RDBCorruptionTests.small.count, 600)
    }

    func testEveryTruncationIsAnError() {
        let file = RDBCorruptionTests.small
        for cut in 0..<file.count {
            expectRDBError(Array(file[..<cut]), "truncated at \(cut)")
        }
    }

    func testTruncationErrorsSayEndOfFileAtTheCut() throws {
        let file = RDBCorruptionTests.small
        for cut in stride(from: 9, to: file.count, by: 13) {
            do {
                _ = try readRDB(Array(file[..<cut]))
                XCTFail("accepted cut \(cut)")
            } catch let e as RDBError {
                XCTAssertTrue(e.reason.contains("unexpected end of file"), "cut \(cut): \(e)")
                XCTAssertLessThanOrEqual(e.offset, cut)
            }
        }
    }

    func testEverySingleBitFlipIsDetected() {
        let file = RDBCorruptionTests.small
        for i in 0..<file.count {
            for bit in 0..<8 {
                var damaged = file
                damaged[i] ^= 1 << UInt8(bit)
                expectRDBError(damaged, "bit \(bit) of byte \(i)")
            }
        }
    }

    func testByteOverwritesWithoutChecksumNeverCrash() throws {
        // Without the CRC safety net the parser itself meets every damaged structure.
        let file = RDBCorruptionTests.small
        var rng = SystemRandomNumberGenerator()
        var errors = 0
        for i in 0..<file.count {
            for value: UInt8 in [0x00, 0xFF, 0x80, 0xC3, 0x7F, UInt8.random(in: 0...255, using: &rng)] where value != file[i] {
                var damaged = file
                damaged[i] = value
                do { _ = try readRDB(damaged, verifyChecksum: false) } catch is RDBError { errors += 1 }
            }
        }
        XCTAssertGreaterThan(errors, file.count)
    }

    func testRandomFlipsInRedisFileWithoutChecksumNeverCrash() throws {
        let file = try RDBFixtures.bytes("redis7-alltypes.rdb")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var damaged = file
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                damaged[Int.random(in: 9..<file.count, using: &rng)] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng)
            }
            do { _ = try readRDB(damaged, verifyChecksum: false) } catch is RDBError {}
            expectRDBError(damaged, "flips with checksum on")
        }
    }

    func testTruncatedRedisFileAtManyOffsets() throws {
        let file = try RDBFixtures.bytes("redis7-alltypes.rdb")
        for cut in stride(from: 0, to: file.count, by: 89) {
            expectRDBError(Array(file[..<cut]), "truncated at \(cut)")
        }
    }

    func testRandomGarbageAfterAHeaderIsAnError() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let n = Int.random(in: 0...300, using: &rng)
            var bytes = Array("REDIS0010".utf8)
            for _ in 0..<n { bytes.append(UInt8.random(in: 0...255, using: &rng)) }
            // Garbage can only be accepted if it happens to be a valid file with a matching CRC.
            do { _ = try readRDB(bytes) } catch is RDBError {} catch { XCTFail("\(error)") }
        }
    }

    func testDamagedBlobErrorsPointIntoTheBlob() throws {
        // Uncompressed file: a blob error's offset lies inside the blob's bytes in the file.
        let w = RDBWriter(version: 10, compressStrings: false)
        w.header()
        w.hash(key: "h", fields: [("field", "value"), ("other", "thing")])
        w.end()
        var bytes = w.takeOutput()
        // type(9) keylen(10) "h"(11) bloblen(12) blob from 13; the first entry's backlen:
        // header 6 + encoding 1 + "field" 5 → blob byte 12.
        bytes[13 + 12] ^= 0x01
        do {
            _ = try readRDB(bytes, verifyChecksum: false)
            XCTFail("accepted")
        } catch let e as RDBError {
            XCTAssertEqual(e.key, "h")
            XCTAssertEqual(e.offset, 13 + 12)
            XCTAssertTrue(e.reason.contains("backlen"), e.reason)
        }
    }
}
