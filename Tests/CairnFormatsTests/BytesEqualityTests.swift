import XCTest
@testable import CairnFormats

final class BytesEqualityTests: XCTestCase {
    /// An inline value whose bytes past `count` are `tail` (as a shrunk value may leave them).
    private func inline(_ bytes: [UInt8], tail: UInt8) -> Bytes {
        var raw = [UInt8](repeating: tail, count: 24)
        raw.replaceSubrange(0..<bytes.count, with: bytes)
        raw[22] = UInt8(bytes.count)
        var b = Bytes()
        b.storage = .small(raw.withUnsafeBytes { $0.loadUnaligned(as: Bytes.Small.self) })
        XCTAssertEqual(b.count, bytes.count)
        return b
    }

    func testInlineValuesCompareTheirBytesAndIgnoreWhatLiesPastTheCount() {
        var rng = SplitMix64(seed: 11)
        for n in 0...Bytes.inlineCapacity {
            for _ in 0..<20 {
                let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                let a = inline(bytes, tail: 0), b = inline(bytes, tail: 0xA5)
                XCTAssertEqual(a, b, "length \(n)")
                XCTAssertEqual(a, Bytes(bytes))
                for i in 0..<n {
                    var other = bytes
                    other[i] ^= UInt8(1 << (rng.next() % 8))
                    XCTAssertNotEqual(a, inline(other, tail: 0xA5), "length \(n), byte \(i)")
                }
                if n < Bytes.inlineCapacity {
                    XCTAssertNotEqual(a, inline(bytes + [0], tail: 0), "a longer value with a zero byte")
                }
            }
        }
        // Inline against heap storage goes by the bytes too.
        let long = Bytes(Array(repeating: UInt8(7), count: 40))
        XCTAssertNotEqual(long, inline(Array(repeating: 7, count: 22), tail: 7))
        XCTAssertEqual(long, Bytes(Array(repeating: UInt8(7), count: 40)))
    }

    func testInlineValuesAreBuiltFromExactlyTheirBytesWithZerosPastTheCount() {
        var rng = SplitMix64(seed: 12)
        for n in 0...Bytes.inlineCapacity {
            for _ in 0..<20 {
                let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next() | 1) }
                // Surrounded by 0xFF guards: a read outside the n bytes would show in the value.
                let padded = [UInt8](repeating: 0xFF, count: 8) + bytes + [UInt8](repeating: 0xFF, count: 8)
                let b = padded.withUnsafeBytes { Bytes(UnsafeRawBufferPointer(rebasing: $0[8..<(8 + n)])) }
                XCTAssertEqual(b.count, n)
                XCTAssertEqual(b.array, bytes, "length \(n)")
                guard case .small(var s) = b.storage else { XCTFail("length \(n) not inline"); continue }
                let raw = withUnsafeBytes(of: &s) { Array($0) }
                XCTAssertEqual(Array(raw[n..<22]), [UInt8](repeating: 0, count: 22 - n), "length \(n): bytes past the count")
                XCTAssertEqual(raw[22], UInt8(n))
            }
        }
    }
}
