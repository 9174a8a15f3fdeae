@testable import CairnServer
import CairnEngine
import CLZ4
import Foundation
import XCTest

/// How the snapshot file writer cuts the RDB stream into compression blocks
/// (docs/formats/snapshot.md, "Stored forms").
final class SnapshotFileWriterTests: XCTestCase {
    var dir = ""

    override func setUp() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("snapwriter-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    static let KiB = 1024, MiB = 1024 * 1024

    /// 64 KiB of letters from a xorshift generator: compressible, but not to nothing.
    static let pattern: [UInt8] = {
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<(64 * 1024)).map { _ in
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            return UInt8(truncatingIfNeeded: x % 16) + 0x61
        }
    }()

    /// A chunk as the driver makes it: SELECTDB first, then `count - 1` bytes of the pattern
    /// from an offset chosen by `seed`.
    static func keyChunk(_ count: Int, seed: Int) -> SnapshotChunk {
        var bytes: [UInt8] = [0xFE]
        bytes.reserveCapacity(count)
        var at = (seed * 4099) % pattern.count
        while bytes.count < count {
            let n = min(pattern.count - at, count - bytes.count)
            bytes.append(contentsOf: pattern[at..<(at + n)])
            at = 0
        }
        return SnapshotChunk(bytes: bytes, endsBlock: true, keys: 1)
    }

    static func concat(_ parts: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for p in parts { out.append(contentsOf: p) }
        return out
    }

    /// Writes the chunks through an inline writer and returns the file.
    func write(_ chunks: [SnapshotChunk], container: CompressionFormat) throws -> [UInt8] {
        let path = dir + "/dump.rdb"
        let writer = SnapshotFileWriter(path: path, container: container, inline: true)
        for c in chunks { writer.consume(c) }
        writer.finish()
        guard case .success(let outcome)? = writer.result else {
            XCTFail("save failed: \(String(describing: writer.result))")
            return []
        }
        let file = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(outcome.fileBytes, file.count)
        return file
    }

    /// The frame's blocks, each decoded on its own (no history from earlier blocks).
    func independentBlocks(_ file: [UInt8]) throws -> [[UInt8]] {
        XCTAssertEqual(Array(file.prefix(7)), [0x04, 0x22, 0x4D, 0x18, 0x64, 0x70, 0xB9])
        var blocks: [[UInt8]] = []
        var at = 7
        let capacity = 4 * Self.MiB
        var out = [UInt8](repeating: 0, count: capacity)
        while true {
            let word = UInt32(file[at]) | UInt32(file[at + 1]) << 8 | UInt32(file[at + 2]) << 16 | UInt32(file[at + 3]) << 24
            at += 4
            if word == 0 { break }
            let size = Int(word & 0x7FFF_FFFF)
            let data = Array(file[at..<(at + size)])
            at += size
            if word & 0x8000_0000 != 0 {
                blocks.append(data)
                continue
            }
            let n = data.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    src.baseAddress!.withMemoryRebound(to: CChar.self, capacity: size) { s in
                        dst.baseAddress!.withMemoryRebound(to: CChar.self, capacity: capacity) { d in
                            LZ4_decompress_safe(s, d, Int32(size), Int32(capacity))
                        }
                    }
                }
            }
            XCTAssertGreaterThan(n, 0, "block \(blocks.count) does not decode on its own")
            blocks.append(Array(out[0..<Int(max(n, 0))]))
        }
        XCTAssertEqual(file.count, at + 4, "content checksum, then nothing")
        return blocks
    }

    func testChunksArePackedIntoBlocksOfAtMost4MiBThatEndAtChunkBoundaries() throws {
        let MiB = Self.MiB, KiB = Self.KiB
        let header = SnapshotChunk(bytes: Array("REDIS0010".utf8) + [UInt8](repeating: 0xFA, count: 91), endsBlock: true, keys: 0)
        let sizes = [MiB + MiB / 2, MiB + MiB / 2, MiB + MiB / 2, 3 * MiB, 5 * MiB, 100 * KiB]
        let body = sizes.enumerated().map { Self.keyChunk($1, seed: $0 + 1) }
        let trailer = SnapshotChunk(bytes: [0xFF, 1, 2, 3, 4, 5, 6, 7, 8], endsBlock: false, keys: 0)
        let chunks = [header] + body + [trailer]
        let file = try write(chunks, container: .lz4)

        let blocks = try independentBlocks(file)
        // header | 1.5+1.5 | 1.5 (3 more would pass 4) | 3 | 5 cut by the frame: 4, then 1 + 0.1 + trailer
        XCTAssertEqual(blocks.map(\.count), [100, 3 * MiB, MiB + MiB / 2, 3 * MiB, 4 * MiB, MiB + 100 * KiB + 9])
        XCTAssertEqual(Self.concat(blocks), Self.concat(chunks.map(\.bytes)))
        for (i, b) in blocks.enumerated().dropFirst() where i != 5 {
            XCTAssertEqual(b.first, 0xFE, "block \(i) starts with SELECTDB")
        }
        XCTAssertEqual(try decompress(file), Self.concat(chunks.map(\.bytes)))
    }

    func testAChunkAfterOneThatEndsInsideAKeyIsNeverCutFrom() throws {
        // A chunk with endsBlock false (the trailer, or any chunk ending inside a key) must be
        // followed in the same block, whatever the size.
        let MiB = Self.MiB
        let header = SnapshotChunk(bytes: Array("REDIS0010".utf8), endsBlock: true, keys: 0)
        var partial = Self.keyChunk(3 * MiB, seed: 9)
        partial.endsBlock = false
        let rest = Self.keyChunk(MiB + 1, seed: 10)
        let next = Self.keyChunk(1000, seed: 11)
        let file = try write([header, partial, rest, next], container: .lz4)
        let blocks = try independentBlocks(file)
        // 3 MiB + (1 MiB + 1) passes 4 MiB, but the block may not end after `partial`: the frame
        // cuts at 4 MiB and the one byte left opens the block that `next` joins.
        XCTAssertEqual(blocks.map(\.count), [9, 4 * MiB, 1001])
        XCTAssertEqual(Self.concat(blocks), Self.concat([header, partial, rest, next].map(\.bytes)))
    }

    func testTheSnapshotFrameUsesLZ4HCLevel3() throws {
        let header = SnapshotChunk(bytes: Array("REDIS0010".utf8), endsBlock: true, keys: 0)
        let chunk = Self.keyChunk(1 << 20, seed: 3)
        let file = try write([header, chunk], container: .lz4)
        let fast = try LZ4FrameCompressor(level: 0)
        let hc = try LZ4FrameCompressor(level: 3)
        for c in [fast, hc] {
            _ = try header.bytes.withUnsafeBytes { try c.write($0) }
            _ = try c.endBlock()
        }
        let fastBytes = try chunk.bytes.withUnsafeBytes { try fast.write($0) } + (try fast.finish())
        let hcBytes = try chunk.bytes.withUnsafeBytes { try hc.write($0) } + (try hc.finish())
        XCTAssertLessThan(hcBytes.count, fastBytes.count)
        XCTAssertEqual(Array(file.suffix(hcBytes.count)), hcBytes)
    }

    func testZlibSnapshotsDecodeToTheSameStream() throws {
        let header = SnapshotChunk(bytes: Array("REDIS0010".utf8), endsBlock: true, keys: 0)
        let chunks = [header] + (0..<5).map { Self.keyChunk(Self.MiB + $0, seed: $0 + 20) }
        let file = try write(chunks, container: .zlib)
        XCTAssertEqual(file.first, 0x78)
        XCTAssertEqual(try decompress(file), Self.concat(chunks.map(\.bytes)))
    }

    func testInlineWriterWaitsForRoomInsteadOfQueueingWithoutBound() throws {
        let path = dir + "/dump.rdb"
        let writer = SnapshotFileWriter(path: path, container: .lz4, inline: true, queueBytesMax: 1)
        let chunks = [SnapshotChunk(bytes: Array("REDIS0010".utf8), endsBlock: true, keys: 0)]
            + (0..<50).map { Self.keyChunk(10_000, seed: $0 + 40) }
        for c in chunks { writer.consume(c) }
        writer.finish()
        guard case .success? = writer.result else { return XCTFail("save failed") }
        let file = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(try decompress(file), Self.concat(chunks.map(\.bytes)))
    }
}
