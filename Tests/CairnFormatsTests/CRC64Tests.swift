import CCRC64
import Foundation
import XCTest
@testable import CairnFormats

/// Bit-at-a-time reference of the same reflected CRC: no tables, no folding.
private func bitwiseCRC(_ crc: UInt64, _ bytes: [UInt8]) -> UInt64 {
    var crc = crc
    for b in bytes {
        crc ^= UInt64(b)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ CRC64.reflectedPolynomial : crc >> 1 }
    }
    return crc
}

final class CRC64Tests: XCTestCase {
    func testCheckValueOf123456789IsRedisJones() {
        XCTAssertEqual(CRC64.checksum(Array("123456789".utf8)), 0xe9c6_d914_c4b8_d9ca)
    }

    func testEmptyInputLeavesTheCRCUnchanged() {
        XCTAssertEqual(CRC64.checksum([]), 0)
        XCTAssertEqual(CRC64.update(0x1234, []), 0x1234)
    }

    func testStreamingInPiecesEqualsWholeForEverySplit() {
        let data = randomBytes(1000, seed: 1)
        let whole = CRC64.checksum(data)
        for split in 0...1000 {
            let a = CRC64.update(0, Array(data[..<split]))
            XCTAssertEqual(CRC64.update(a, Array(data[split...])), whole, "split at \(split)")
        }
    }

    func testUpdateMatchesTheBitwiseReference() {
        for n in [1, 5, 8, 15, 16, 17, 23, 24, 31, 32, 33, 63, 64, 65, 79, 80, 81, 127, 128, 129,
                  191, 192, 193, 257, 1000, 4099] {
            let data = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            XCTAssertEqual(CRC64.checksum(data), bitwiseCRC(0, data), "length \(n)")
            XCTAssertEqual(CRC64.update(0xDEAD_BEEF_0BAD_F00D, data), bitwiseCRC(0xDEAD_BEEF_0BAD_F00D, data),
                           "length \(n), non-zero start")
        }
    }

    func testRealRedisFileTrailerMatches() throws {
        // Written by Redis: the last 8 bytes are the LE CRC of the rest. hash-ziplist.rdb is
        // 137 bytes (one folded block group plus tail), redis7-alltypes.rdb 30 KB.
        for name in ["hash-ziplist.rdb", "redis7-alltypes.rdb"] {
            let file = try RDBFixtures.bytes(name)
            let body = Array(file[..<(file.count - 8)])
            var stored: UInt64 = 0
            for (k, b) in file[(file.count - 8)...].enumerated() { stored |= UInt64(b) << (8 * UInt64(k)) }
            XCTAssertEqual(CRC64.checksum(body), stored, name)
        }
    }

    // MARK: folding kernel against the tables

    func testEveryLengthUpTo1024AtEveryAlignmentMatchesTheTables() {
        // 16 alignments of the start (the kernel loads unaligned 16-byte blocks), a random
        // running CRC for each case.
        let data = randomBytes(1024 + 16, seed: 2)
        var rng = SplitMix64(seed: 3)
        data.withUnsafeBytes { all in
            for n in 0...1024 {
                for offset in 0..<16 {
                    let piece = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + n)])
                    let start = rng.next()
                    let expected = CRC64.updateSlicing(start, piece)
                    let got = CRC64.update(start, piece)
                    if got != expected {
                        XCTFail("length \(n) offset \(offset) start \(start): \(got) != \(expected)")
                        return
                    }
                }
            }
        }
    }

    func testSeveralMegabytesInRandomPiecesMatchTheTablesWhole() {
        let data = randomBytes(6 << 20 | 13, seed: 4)
        let expected = data.withUnsafeBytes { CRC64.updateSlicing(0, $0) }
        XCTAssertEqual(CRC64.checksum(data), expected)
        // Pieces from 1 byte to 256 KiB, as the loader feeds decompressed chunks.
        var rng = SplitMix64(seed: 5)
        var crc: UInt64 = 0
        var pos = 0
        data.withUnsafeBytes { all in
            while pos < all.count {
                let size = min(all.count - pos, Int(rng.next() % (256 << 10)) + 1)
                crc = CRC64.update(crc, UnsafeRawBufferPointer(rebasing: all[pos..<(pos + size)]))
                pos += size
            }
        }
        XCTAssertEqual(crc, expected)
    }

    func testKernelTakesOnlyMultiplesOf16FromSixtyFourBytes() throws {
        guard CRC64.usesCarrylessMultiply else { throw XCTSkip("no PCLMULQDQ on this CPU") }
        let data = randomBytes(96, seed: 6)
        data.withUnsafeBytes { b in
            let p = b.baseAddress!
            for n in [0, 16, 48, 63, 65, 72, 95] {
                XCTAssertEqual(cairn_crc64_clmul(0x1234, p, n), 0x1234, "length \(n) is refused")
            }
            for n in [64, 80, 96] {
                XCTAssertEqual(cairn_crc64_clmul(0x1234, p, n), bitwiseCRC(0x1234, Array(data[..<n])),
                               "length \(n)")
            }
        }
    }

    func testFoldingIsUsedExactlyWhenTheCPUReportsPCLMULQDQAndSSE41() throws {
        #if os(Linux) && arch(x86_64)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        guard let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            throw XCTSkip("no flags line in /proc/cpuinfo")
        }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        XCTAssertEqual(CRC64.usesCarrylessMultiply, flags.contains("pclmulqdq") && flags.contains("sse4_1"))
        #elseif !arch(x86_64)
        XCTAssertFalse(CRC64.usesCarrylessMultiply)
        #endif
    }

    // MARK: constants

    /// x^n mod P as a reflected 64-bit value: start from x^0 (bit 63) and multiply by x n times
    /// (a right shift; the x^64 that falls off bit 0 is replaced by P's lower terms).
    private func xPowerModP(_ n: Int) -> UInt64 {
        var r: UInt64 = 1 << 63
        for _ in 0..<n { r = (r & 1) != 0 ? (r >> 1) ^ CRC64.reflectedPolynomial : r >> 1 }
        return r
    }

    /// Reflected 64-bit value of the polynomial sum of x^d over `degrees`, d in 0...63.
    private func reflected(_ degrees: [Int]) -> UInt64 {
        degrees.reduce(0) { $0 | (1 << UInt64(63 - $1)) }
    }

    func testFoldingConstantsAreXPowersModPRecomputedFromThePolynomial() {
        let expected: [(Int, UInt64)] = [
            (575, CAIRN_CRC64_X575_MOD_P), (511, CAIRN_CRC64_X511_MOD_P),
            (447, CAIRN_CRC64_X447_MOD_P), (383, CAIRN_CRC64_X383_MOD_P),
            (319, CAIRN_CRC64_X319_MOD_P), (255, CAIRN_CRC64_X255_MOD_P),
            (191, CAIRN_CRC64_X191_MOD_P), (127, CAIRN_CRC64_X127_MOD_P),
        ]
        for (n, constant) in expected {
            XCTAssertEqual(xPowerModP(n), constant, "x^\(n) mod P")
        }
        // Cross-check of the generator itself: x^64 mod P is P without its x^64 term.
        XCTAssertEqual(xPowerModP(64), CRC64.reflectedPolynomial)
    }

    func testBarrettConstantsAreMuAndPDividedByX() {
        // P = x^64 + (lower terms of the reflected polynomial), as a list of degrees.
        var pDegrees = [64]
        for d in 0..<64 where (CRC64.reflectedPolynomial >> UInt64(63 - d)) & 1 != 0 { pDegrees.append(d) }
        let pSet = Set(pDegrees)

        // mu = floor(x^128 / P) by long division: walk the dividend's degrees from 128 down,
        // the remainder kept as a set of degrees below 65.
        var remainder = Set<Int>()
        var muDegrees: [Int] = []
        for d in stride(from: 128, through: 0, by: -1) {
            remainder = Set(remainder.map { $0 + 1 })
            if d == 128 { remainder.insert(0) }
            if remainder.contains(64) {
                remainder = remainder.symmetricDifference(pSet)
                muDegrees.append(d)
            }
        }
        XCTAssertEqual(muDegrees.first, 64, "mu has degree 64")
        // floor(mu / x) and floor(P / x): every degree down by one, x^0 dropped.
        let muDivX = reflected(muDegrees.filter { $0 > 0 }.map { $0 - 1 })
        let pDivX = reflected(pDegrees.filter { $0 > 0 }.map { $0 - 1 })
        XCTAssertEqual(muDivX, CAIRN_CRC64_BARRETT_MU_DIV_X)
        XCTAssertEqual(pDivX, CAIRN_CRC64_BARRETT_P_DIV_X)
    }
}

/// Prints the throughput of both implementations (no time is asserted: the machine is
/// shared). For real figures run it from a release build (docs/benchmarks.md, "CRC64"):
///
///     swift build -c release -Xswiftc -enable-testing --build-tests
///     CRC64_SPEED_MB=256 .build/release/CairnPackageTests.xctest CairnFormatsTests.CRC64SpeedTests
final class CRC64SpeedTests: XCTestCase {
    func testThroughputOfFoldingAndTablesIsPrinted() {
        let megabytes = Int(ProcessInfo.processInfo.environment["CRC64_SPEED_MB"] ?? "") ?? 4
        let data = randomBytes(max(1, megabytes) << 20, seed: 7)
        func measure(_ body: (UnsafeRawBufferPointer) -> UInt64) -> (UInt64, Double) {
            var best = Double.infinity
            var crc: UInt64 = 0
            for _ in 0..<3 {
                let start = DispatchTime.now().uptimeNanoseconds
                crc = data.withUnsafeBytes { body($0) }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                best = min(best, seconds)
            }
            return (crc, Double(data.count) / best / 1e9)
        }
        let (tableCRC, tableGBs) = measure { CRC64.updateSlicing(0, $0) }
        let (crc, gbs) = measure { CRC64.update(0, $0) }
        XCTAssertEqual(crc, tableCRC)
        print(String(format: "CRC64 over %d MiB: slicing-by-16 %.2f GB/s, update (%@) %.2f GB/s, %.1fx",
                     megabytes, tableGBs, CRC64.usesCarrylessMultiply ? "PCLMULQDQ folding" : "tables",
                     gbs, gbs / tableGBs))
    }

    /// Short inputs, where the kernel's fixed cost (merging four blocks, the reduction) counts:
    /// the basis of `CRC64.foldingMinimumBytes`.
    func testShortInputTimesArePrinted() {
        let megabytes = Int(ProcessInfo.processInfo.environment["CRC64_SPEED_MB"] ?? "") ?? 4
        let data = randomBytes(4096, seed: 8)
        func nanosecondsPerCall(_ n: Int, _ body: (UInt64, UnsafeRawBufferPointer) -> UInt64) -> (UInt64, Double) {
            // The same number of bytes for every size (CRC64_SPEED_MB), at least 1000 calls.
            let calls = max(1000, (max(1, megabytes) << 20) / n)
            var crc: UInt64 = 0
            let start = DispatchTime.now().uptimeNanoseconds
            data.withUnsafeBytes { all in
                let piece = UnsafeRawBufferPointer(rebasing: all[0..<n])
                for _ in 0..<calls { crc = body(crc, piece) }
            }
            return (crc, Double(DispatchTime.now().uptimeNanoseconds - start) / Double(calls))
        }
        var line = "CRC64 ns per call (slicing-by-16 / update):"
        for n in [32, 64, 96, 128, 256, 1024, 4096] {
            let (tableCRC, tableNs) = nanosecondsPerCall(n) { CRC64.updateSlicing($0, $1) }
            let (crc, ns) = nanosecondsPerCall(n) { CRC64.update($0, $1) }
            XCTAssertEqual(crc, tableCRC, "length \(n)")
            line += String(format: " %dB %.0f/%.0f", n, tableNs, ns)
        }
        print(line)
    }
}
