import Foundation
import XCTest
@testable import CairnFormats

/// Tests for Sources/CairnFormats/Compression: LZ4 frames, zlib and gzip streams
/// (docs/formats/compression.md). Interop tests run the real `lz4`, `zlib-flate`, `gzip` and
/// `python3` binaries and skip only when a binary is missing.
final class CompressionTests: XCTestCase {
    static let streamFormats: [CompressionFormat] = [.lz4, .zlib, .gzip]

    // MARK: - detect

    func testDetectRecognisesEachMagic() {
        XCTAssertEqual(detect(Array("REDIS0011".utf8)), CompressionFormat.none)
        XCTAssertEqual(detect([0x04, 0x22, 0x4D, 0x18, 0x64, 0x70, 0xB9]), .lz4)
        XCTAssertEqual(detect([0x78, 0x9C]), .zlib)
        XCTAssertEqual(detect([0x78, 0x01]), .zlib)
        XCTAssertEqual(detect([0x78, 0xDA]), .zlib)
        XCTAssertEqual(detect([0x1F, 0x8B, 0x08]), .gzip)
    }

    func testDetectReturnsNilForGarbageAndShortPrefixes() {
        XCTAssertNil(detect([]))
        XCTAssertNil(detect(Array("REDI".utf8)))  // too short to be "REDIS"
        XCTAssertNil(detect([0x04, 0x22, 0x4D]))  // too short to be the LZ4 magic
        XCTAssertNil(detect([0x1F]))
        XCTAssertNil(detect([0x78]))
        XCTAssertNil(detect([0x78, 0x9D]))  // FCHECK wrong: 0x789D % 31 != 0
        XCTAssertNil(detect([0x50, 0x2A, 0x4D, 0x18, 0, 0, 0, 0]))  // LZ4 skippable frame
        XCTAssertNil(detect([0x02, 0x21, 0x4C, 0x18]))  // LZ4 legacy frame
        XCTAssertNil(detect(Array("redis0011".utf8)))
        XCTAssertNil(detect(Array("*1\r\n$4\r\nPING\r\n".utf8)))
    }

    func testDetectRecognisesOurOwnOutput() throws {
        for format in Self.streamFormats {
            XCTAssertEqual(detect(try compress([1, 2, 3], format: format)), format)
        }
    }

    // MARK: - Exact stream headers

    func testLZ4FrameHeaderIsIndependentBlocksWithContentChecksumAnd4MiBBlocks() throws {
        let compressor = try LZ4FrameCompressor()
        // FLG 0x64 = version 01, block independence, content checksum; BD 0x70 = 4 MiB blocks;
        // HC = (xxh32(FLG BD) >> 8) & 0xFF. The first write buffers its data and returns only this.
        let header = try write(compressor, [1, 2, 3])
        XCTAssertEqual(header, [0x04, 0x22, 0x4D, 0x18, 0x64, 0x70, UInt8(truncatingIfNeeded: xxh32([0x64, 0x70]) >> 8)])
        XCTAssertEqual(header.last, 0xB9)
    }

    func testLZ4EmptyFrameIsHeaderEndMarkAndChecksumOfNothing() throws {
        XCTAssertEqual(try compress([], format: .lz4),
                       [0x04, 0x22, 0x4D, 0x18, 0x64, 0x70, 0xB9, 0, 0, 0, 0] + le32(xxh32([])))
        XCTAssertEqual(xxh32([]), 0x02CC_5D05)
    }

    func testLZ4BlockChecksumOptionSetsTheFlagBit() throws {
        let compressor = try LZ4FrameCompressor(blockSize: .max64KiB, blockChecksum: true)
        let header = try compressor.endBlock()
        XCTAssertEqual(Array(header.prefix(6)), [0x04, 0x22, 0x4D, 0x18, 0x74, 0x40])
        XCTAssertEqual(header[6], UInt8(truncatingIfNeeded: xxh32([0x74, 0x40]) >> 8))
    }

    func testZlibEmptyStreamIsTheStandardEightBytes() throws {
        XCTAssertEqual(try compress([], format: .zlib), [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
    }

    func testGzipEmptyMemberIsTheStandardTwentyBytes() throws {
        XCTAssertEqual(try compress([], format: .gzip),
                       [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 0x03, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    // MARK: - Round trips

    func testRoundTripOfEmptyInput() throws {
        for format in Self.streamFormats {
            let compressed = try compress([], format: format)
            XCTAssertEqual(try decompress(compressed), [], "\(format)")
        }
    }

    func testRoundTripOfOneByte() throws {
        for format in Self.streamFormats {
            XCTAssertEqual(try decompress(try compress([0xAB], format: format)), [0xAB], "\(format)")
        }
    }

    func testRoundTripOfOneMiBRandom() throws {
        let data = randomBytes(1 << 20, seed: 1)
        for format in Self.streamFormats {
            let compressed = try compress(data, format: format)
            XCTAssertEqual(try decompress(compressed), data, "\(format)")
        }
    }

    func testRoundTripOfTenMiBCompressibleWithBlockEndsAtManyPoints() throws {
        let data = compressibleBytes(10 << 20)
        let boundaries = blockBoundaries(count: data.count, seed: 2, every: 150_000)
        for format in Self.streamFormats {
            let compressed = try compressInPieces(data, format: format, boundaries: boundaries)
            XCTAssertLessThan(compressed.count, data.count / 2, "\(format) should compress text")
            XCTAssertEqual(try decompress(compressed), data, "\(format)")
        }
    }

    func testRoundTripWithEveryLZ4BlockSizeAndHighCompression() throws {
        let data = compressibleBytes(700_000) + randomBytes(300_000, seed: 3)
        for blockSize in [LZ4FrameCompressor.BlockSize.max64KiB, .max256KiB, .max1MiB, .max4MiB] {
            for level in [-5, 0, 9] {
                let compressor = try LZ4FrameCompressor(level: level, blockSize: blockSize, blockChecksum: true)
                let compressed = try write(compressor, data) + compressor.finish()
                XCTAssertEqual(try decompress(compressed), data, "\(blockSize) level \(level)")
            }
        }
    }

    func testRoundTripOfLinkedLZ4BlocksWithoutContentChecksum() throws {
        let data = compressibleBytes(500_000)
        let compressor = try LZ4FrameCompressor(blockSize: .max64KiB, contentChecksum: false, blockIndependent: false)
        var compressed = try write(compressor, Array(data[..<123_456]))
        compressed += try compressor.endBlock()
        compressed += try write(compressor, Array(data[123_456...]))
        compressed += try compressor.finish()
        XCTAssertEqual(try decompress(compressed), data)
    }

    func testDecodingIsIndependentOfInputChunking() throws {
        let data = compressibleBytes(200_000) + randomBytes(50_000, seed: 4)
        for format in Self.streamFormats {
            let compressed = try compressInPieces(data, format: format, boundaries: [1000, 70_000, 199_999])
            XCTAssertEqual(try decodeInChunks(compressed, format: format, chunkSizes: [1]), data, "\(format) 1-byte feeds")
            XCTAssertEqual(try decodeInChunks(compressed, format: format, chunkSizes: [3, 1, 4, 1, 5, 9, 2653, 65536]),
                           data, "\(format) mixed feeds")
            XCTAssertEqual(try decodeInChunks(compressed, format: format, chunkSizes: [compressed.count]),
                           data, "\(format) one feed")
        }
    }

    func testDecodingIntoAReusedBufferGivesTheBytesOfFeed() throws {
        // 4 MiB blocks (decoded straight into the buffer) and 64 KiB ones, whole and in pieces;
        // the buffer is emptied between feeds and reused, as the snapshot loader does.
        let data = compressibleBytes(3_000_000) + randomBytes(300_000, seed: 8) + compressibleBytes(5_000_000)
        let small = try LZ4FrameCompressor(blockSize: .max64KiB)
        let streams = [try compressInPieces(data, format: .lz4, boundaries: [100_000, 3_100_000]),
                       try write(small, data) + small.finish(),
                       try compress(data, format: .zlib), try compress(data, format: .gzip)]
        for (n, stream) in streams.enumerated() {
            let format = try XCTUnwrap(stream.withUnsafeBytes { CompressionFormat.detect($0) })
            for chunkSizes in [[stream.count], [65536], [1, 70_000, 3, 1 << 20]] {
                let decompressor = try XCTUnwrap(try makeDecompressor(format))
                let buffer = ChunkBuffer(capacity: 16)
                var out: [UInt8] = []
                var position = 0, i = 0
                try stream.withUnsafeBytes { all in
                    while position < all.count {
                        let end = min(all.count, position + chunkSizes[i % chunkSizes.count])
                        buffer.removeAll()
                        try decompressor.feed(UnsafeRawBufferPointer(rebasing: all[position..<end]), appendingTo: buffer)
                        out += buffer.bytes
                        position = end
                        i += 1
                    }
                }
                try decompressor.finish()
                XCTAssertEqual(out, data, "stream \(n) \(chunkSizes)")
            }
        }
    }

    func testDecodingIntoABufferFailsAtTheOffsetsFeedFailsAt() throws {
        let compressor = try LZ4FrameCompressor(blockSize: .max64KiB)
        let first = try write(compressor, compressibleBytes(10_000)) + compressor.endBlock()
        let second = try write(compressor, randomBytes(10_000, seed: 12)) + compressor.endBlock()
        let third = try write(compressor, compressibleBytes(10_000)) + compressor.endBlock()
        var frame = first + second + third + (try compressor.finish())
        frame[first.count + second.count + 3] = 0x7F  // third block's size word: now far above 64 KiB
        let decompressor = LZ4FrameDecompressor.self
        let d = try decompressor.init()
        let buffer = ChunkBuffer()
        XCTAssertThrowsError(try frame.withUnsafeBytes { try d.feed($0, appendingTo: buffer) }) { error in
            XCTAssertEqual((error as? CompressionError)?.offset, first.count + 4)
        }
        // Sticky, as feed is.
        XCTAssertThrowsError(try [UInt8(0)].withUnsafeBytes { try d.feed($0, appendingTo: buffer) })
        // Trailing bytes after the frame's end.
        let whole = try compress(compressibleBytes(1000), format: .lz4)
        let e = try decompressor.init()
        XCTAssertThrowsError(try (whole + [1, 2]).withUnsafeBytes { try e.feed($0, appendingTo: ChunkBuffer()) }) { error in
            XCTAssertEqual((error as? CompressionError)?.offset, whole.count)
        }
    }

    func testHighlyCompressibleInputDecodesThroughBoundedOutputBuffers() throws {
        // 32 MiB of zeros: a few KiB compressed, many 64 KiB output buffers per feed.
        let data = [UInt8](repeating: 0, count: 32 << 20)
        for format in Self.streamFormats {
            let compressed = try compress(data, format: format)
            XCTAssertLessThan(compressed.count, 200_000)
            XCTAssertEqual(try decodeInChunks(compressed, format: format, chunkSizes: [compressed.count]), data, "\(format)")
        }
    }

    // MARK: - Block ends

    func testEndBlockMakesEverythingWrittenSoFarDecodable() throws {
        let data = compressibleBytes(300_000) + randomBytes(100_000, seed: 5)
        let boundaries = blockBoundaries(count: data.count, seed: 6, every: 20_000)
        for format in Self.streamFormats {
            let compressor = try XCTUnwrap(try makeCompressor(format))
            var emitted: [UInt8] = []
            var written = 0
            for boundary in boundaries + [data.count] {
                emitted += try write(compressor, Array(data[written..<boundary]))
                written = boundary
                emitted += try compressor.endBlock()
                let decompressor = try XCTUnwrap(try makeDecompressor(format))
                let decoded = try emitted.withUnsafeBytes { try decompressor.feed($0) }
                XCTAssertEqual(decoded.count, written, "\(format) at \(written)")
                XCTAssertTrue(decoded == Array(data[..<written]), "\(format) at \(written)")
                XCTAssertFalse(decompressor.isFinished)
            }
            emitted += try compressor.finish()
            XCTAssertEqual(try decompress(emitted), data, "\(format)")
        }
    }

    func testEndBlockTwiceInARowAddsNothingTheSecondTime() throws {
        for format in Self.streamFormats {
            let compressor = try XCTUnwrap(try makeCompressor(format))
            _ = try write(compressor, compressibleBytes(5000))
            XCTAssertFalse(try compressor.endBlock().isEmpty, "\(format)")
            XCTAssertEqual(try compressor.endBlock(), [], "\(format)")
        }
    }

    func testZlibEndBlockEndsWithTheFullFlushMarker() throws {
        let compressor = try ZlibCompressor()
        let emitted = try write(compressor, compressibleBytes(5000)) + compressor.endBlock()
        XCTAssertEqual(Array(emitted.suffix(4)), [0x00, 0x00, 0xFF, 0xFF])
    }

    // MARK: - Damage

    func testTruncatedStreamsThrowAtEveryCutAndNeverYieldWrongBytes() throws {
        let data = compressibleBytes(20_000) + randomBytes(3_000, seed: 7)
        for format in Self.streamFormats {
            let compressed = try compressInPieces(data, format: format, boundaries: [5_000, 12_000],
                                                  lz4BlockSize: .max64KiB)
            let name = format == .lz4 ? "truncated LZ4 frame" : "truncated zlib stream"
            for cut in 0..<compressed.count {
                let decompressor = try XCTUnwrap(try makeDecompressor(format))
                let decoded = try compressed[..<cut].withUnsafeBytes { try decompressor.feed($0) }
                XCTAssertTrue(decoded == Array(data[..<decoded.count]), "\(format) cut \(cut): output is not a prefix")
                XCTAssertFalse(decompressor.isFinished)
                XCTAssertThrowsError(try decompressor.finish(), "\(format) cut \(cut)") { error in
                    XCTAssertEqual(error as? CompressionError, CompressionError(message: name, offset: cut))
                }
            }
        }
    }

    func testNoBitFlipInAnLZ4FrameWithContentChecksumYieldsWrongBytes() throws {
        let data = compressibleBytes(3_000) + randomBytes(300, seed: 8)
        let compressed = try compressInPieces(data, format: .lz4, boundaries: [1_000, 2_000], lz4BlockSize: .max64KiB)
        let thrown = try assertNoBitFlipYieldsWrongBytes(compressed, original: data, format: .lz4, from: 0)
        XCTAssertGreaterThan(thrown, compressed.count * 8 * 95 / 100)
        // Header (magic, descriptor, header checksum) and content checksum: every flip throws.
        for index in Array(0..<7) + Array(compressed.count - 4..<compressed.count) {
            for bit in 0..<8 {
                var damaged = compressed
                damaged[index] ^= UInt8(1 << bit)
                XCTAssertThrowsError(try decodeInChunks(damaged, format: .lz4, chunkSizes: [damaged.count]),
                                     "bit \(bit) at byte \(index)")
            }
        }
    }

    func testNoBitFlipInAZlibStreamYieldsWrongBytes() throws {
        let data = compressibleBytes(3_000) + randomBytes(300, seed: 9)
        let compressed = try compressInPieces(data, format: .zlib, boundaries: [1_000, 2_000])
        let thrown = try assertNoBitFlipYieldsWrongBytes(compressed, original: data, format: .zlib, from: 0)
        XCTAssertGreaterThan(thrown, compressed.count * 8 * 95 / 100)
    }

    func testNoBitFlipInAGzipMemberAfterTheUncheckedHeaderFieldsYieldsWrongBytes() throws {
        // Bytes 4..<10 (MTIME, XFL, OS) are covered by no gzip checksum and may change freely;
        // from byte 10 on, deflate data, crc32 and size are.
        let data = compressibleBytes(3_000) + randomBytes(300, seed: 10)
        let compressed = try compressInPieces(data, format: .gzip, boundaries: [1_000, 2_000])
        let thrown = try assertNoBitFlipYieldsWrongBytes(compressed, original: data, format: .gzip, from: 10)
        XCTAssertGreaterThan(thrown, (compressed.count - 10) * 8 * 95 / 100)
    }

    func testRandomGarbageAfterAValidHeaderNeverCrashesOrFinishes() throws {
        var rng = SplitMix64(seed: 11)
        let headers: [(CompressionFormat, [UInt8])] = [
            (.lz4, [0x04, 0x22, 0x4D, 0x18, 0x64, 0x70, 0xB9]), (.zlib, [0x78, 0x9C]),
            (.gzip, [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 3]),
        ]
        for (format, header) in headers {
            for _ in 0..<300 {
                let garbage = header + randomBytes(Int(rng.next() % 2000), seed: rng.next())
                let decompressor = try XCTUnwrap(try makeDecompressor(format))
                let result = Result { () throws -> Bool in
                    _ = try garbage.withUnsafeBytes { try decompressor.feed($0) }
                    try decompressor.finish()
                    return true
                }
                if case .success = result { XCTFail("\(format): random garbage decoded as a complete stream") }
            }
        }
    }

    func testLZ4HugeDeclaredBlockSizeThrowsAtTheBlockOffset() throws {
        let header: [UInt8] = [0x04, 0x22, 0x4D, 0x18, 0x64, 0x70, 0xB9]
        let frame = header + le32(0x7FFF_FFFF) + [1, 2, 3]
        XCTAssertThrowsError(try decodeInChunks(frame, format: .lz4, chunkSizes: [frame.count])) { error in
            XCTAssertEqual((error as? CompressionError)?.offset, header.count)
        }
    }

    func testLZ4HugeDeclaredContentSizeThrowsInsteadOfAllocating() throws {
        // FLG 0x6C: content size present; declared 2^64-1 bytes, then an empty frame end.
        let descriptor: [UInt8] = [0x6C, 0x70] + [UInt8](repeating: 0xFF, count: 8)
        let frame = [0x04, 0x22, 0x4D, 0x18] + descriptor + [UInt8(truncatingIfNeeded: xxh32(descriptor) >> 8)]
            + le32(0) + le32(xxh32([]))
        XCTAssertThrowsError(try decodeInChunks(frame, format: .lz4, chunkSizes: [frame.count])) { error in
            XCTAssertEqual((error as? CompressionError)?.message, "corrupt LZ4 frame: ERROR_frameSize_wrong")
        }
    }

    func testLZ4InvalidBlockSizeIDThrows() throws {
        for bd: UInt8 in [0x00, 0x10, 0x30, 0x80] {
            let frame = [0x04, 0x22, 0x4D, 0x18, 0x64, bd, UInt8(truncatingIfNeeded: xxh32([0x64, bd]) >> 8)]
                + le32(0) + le32(xxh32([]))
            XCTAssertThrowsError(try decodeInChunks(frame, format: .lz4, chunkSizes: [frame.count]), "BD \(bd)") { error in
                XCTAssertEqual((error as? CompressionError)?.offset, 0, "BD \(bd): the frame header starts at 0")
            }
        }
    }

    func testLZ4ErrorOffsetIsTheStartOfTheDecodingStepThatFailed() throws {
        // liblz4 reads each block's data together with the next block's 4-byte size word, so
        // a bad size word is reported at the start of the preceding block's data.
        let compressor = try LZ4FrameCompressor(blockSize: .max64KiB)
        let first = try write(compressor, compressibleBytes(10_000)) + compressor.endBlock()
        let second = try write(compressor, randomBytes(10_000, seed: 12)) + compressor.endBlock()
        let third = try write(compressor, compressibleBytes(10_000)) + compressor.endBlock()
        var frame = first + second + third + (try compressor.finish())
        let secondDataStart = first.count + 4
        frame[first.count + second.count + 3] = 0x7F  // third block's size word: now far above 64 KiB
        XCTAssertThrowsError(try decodeInChunks(frame, format: .lz4, chunkSizes: [frame.count])) { error in
            XCTAssertEqual((error as? CompressionError)?.offset, secondDataStart)
        }
    }

    func testLZ4SkippableFrameIsRejectedAsBadMagic() throws {
        let frame: [UInt8] = [0x50, 0x2A, 0x4D, 0x18] + le32(0)
        XCTAssertThrowsError(try decodeInChunks(frame, format: .lz4, chunkSizes: [2])) { error in
            XCTAssertEqual(error as? CompressionError, CompressionError(message: "not an LZ4 frame (bad magic)", offset: 0))
        }
    }

    func testTrailingBytesAfterTheStreamEndThrowAtTheirOffset() throws {
        for format in Self.streamFormats {
            let compressed = try compress(compressibleBytes(1000), format: format)
            for chunk in [compressed.count + 1, compressed.count] {  // in the same feed, then in a later one
                XCTAssertThrowsError(try decodeInChunks(compressed + [0x00], format: format, chunkSizes: [chunk]),
                                     "\(format)") { error in
                    XCTAssertEqual((error as? CompressionError)?.offset, compressed.count, "\(format)")
                }
            }
        }
    }

    func testDecompressorStaysFailedAfterAnError() throws {
        let decompressor = try LZ4FrameDecompressor()
        let garbage: [UInt8] = [0x04, 0x22, 0x4D, 0x18, 0xFF, 0xFF, 0xFF]
        XCTAssertThrowsError(try garbage.withUnsafeBytes { try decompressor.feed($0) })
        let valid = try compress([1, 2, 3], format: .lz4)
        let fresh = try LZ4FrameDecompressor()
        XCTAssertEqual(try valid.withUnsafeBytes { try fresh.feed($0) }, [1, 2, 3])
        XCTAssertThrowsError(try valid.withUnsafeBytes { try decompressor.feed($0) })
        XCTAssertThrowsError(try decompressor.finish())
    }

    func testCompressorRefusesUseAfterFinish() throws {
        for format in Self.streamFormats {
            let compressor = try XCTUnwrap(try makeCompressor(format))
            _ = try compressor.finish()
            XCTAssertThrowsError(try write(compressor, [1]), "\(format)")
            XCTAssertThrowsError(try compressor.endBlock(), "\(format)")
            XCTAssertThrowsError(try compressor.finish(), "\(format)")
        }
    }

    // MARK: - One-shot helpers

    func testDecompressReturnsPlainRDBUnchanged() throws {
        let plain = Array("REDIS0011\u{FA}".utf8)
        XCTAssertEqual(try decompress(plain), plain)
        XCTAssertEqual(try compress(plain, format: .none), plain)
        XCTAssertNil(try makeDecompressor(.none))
    }

    func testDecompressOfUnknownFormatThrowsAtOffsetZero() {
        XCTAssertThrowsError(try decompress([0x00, 0x01, 0x02, 0x03, 0x04])) { error in
            XCTAssertEqual(error as? CompressionError, CompressionError(message: "unknown compression format", offset: 0))
        }
        XCTAssertThrowsError(try decompress([]))
    }

    func testDecompressEnforcesTheOutputLimit() throws {
        let compressed = try compress([UInt8](repeating: 7, count: 1 << 20), format: .zlib)
        XCTAssertThrowsError(try decompress(compressed, maxOutputBytes: 100_000)) { error in
            XCTAssertTrue((error as? CompressionError)?.message.contains("exceeds") == true)
        }
        XCTAssertEqual(try decompress(compressed, maxOutputBytes: 1 << 20).count, 1 << 20)
    }

    // MARK: - Interop with the real tools

    func testLZ4CLIDecodesOurFrames() throws {
        let lz4 = try requireTool("lz4")
        let data = compressibleBytes(3 << 20) + randomBytes(1 << 20, seed: 13)
        let compressed = try compressInPieces(data, format: .lz4, boundaries: blockBoundaries(count: data.count, seed: 14, every: 300_000))
        try withTemporaryDirectory { dir in
            try Data(compressed).write(to: dir.appendingPathComponent("in.lz4"))
            try run(lz4, ["-d", "-q", "-f", dir.appendingPathComponent("in.lz4").path, dir.appendingPathComponent("out").path])
            XCTAssertTrue(try readFile(dir.appendingPathComponent("out")) == data)
        }
    }

    func testLZ4CLIDecodesOurEmptyFrame() throws {
        let lz4 = try requireTool("lz4")
        try withTemporaryDirectory { dir in
            try Data(try compress([], format: .lz4)).write(to: dir.appendingPathComponent("in.lz4"))
            try run(lz4, ["-d", "-q", "-f", dir.appendingPathComponent("in.lz4").path, dir.appendingPathComponent("out").path])
            XCTAssertEqual(try readFile(dir.appendingPathComponent("out")), [])
        }
    }

    func testWeDecodeLZ4CLIFramesInEveryMode() throws {
        let lz4 = try requireTool("lz4")
        let data = compressibleBytes(2 << 20) + randomBytes(300_000, seed: 15)
        try withTemporaryDirectory { dir in
            let input = dir.appendingPathComponent("in")
            try Data(data).write(to: input)
            let modes: [[String]] = [[], ["-9"], ["-BD", "-BX", "-B4"], ["--no-frame-crc", "-B5"], ["--content-size"], ["-1", "-B7"]]
            for (i, mode) in modes.enumerated() {
                let output = dir.appendingPathComponent("out\(i).lz4")
                try run(lz4, ["-q", "-f", "-c"] + mode + [input.path], stdout: output)
                let compressed = try readFile(output)
                XCTAssertEqual(detect(compressed), .lz4, "\(mode)")
                XCTAssertTrue(try decompress(compressed) == data, "lz4 \(mode)")
                XCTAssertTrue(try decodeInChunks(compressed, format: .lz4, chunkSizes: [1, 7, 4093]) == data, "lz4 \(mode)")
            }
        }
    }

    func testZlibFlateDecodesOurZlibStreams() throws {
        let zlibFlate = try requireTool("zlib-flate")
        let data = compressibleBytes(2 << 20) + randomBytes(500_000, seed: 16)
        let compressed = try compressInPieces(data, format: .zlib, boundaries: blockBoundaries(count: data.count, seed: 17, every: 200_000))
        try withTemporaryDirectory { dir in
            let input = dir.appendingPathComponent("in.zz"), output = dir.appendingPathComponent("out")
            try Data(compressed).write(to: input)
            try run(zlibFlate, ["-uncompress"], stdin: input, stdout: output)
            XCTAssertTrue(try readFile(output) == data)
        }
    }

    func testWeDecodeZlibFlateStreams() throws {
        let zlibFlate = try requireTool("zlib-flate")
        let data = compressibleBytes(1 << 20) + randomBytes(200_000, seed: 18)
        try withTemporaryDirectory { dir in
            let input = dir.appendingPathComponent("in"), output = dir.appendingPathComponent("out.zz")
            try Data(data).write(to: input)
            try run(zlibFlate, ["-compress"], stdin: input, stdout: output)
            let compressed = try readFile(output)
            XCTAssertEqual(detect(compressed), .zlib)
            XCTAssertTrue(try decompress(compressed) == data)
        }
    }

    func testGzipCLIDecodesOurGzipMembers() throws {
        let gzip = try requireTool("gzip")
        let data = compressibleBytes(1 << 20) + randomBytes(200_000, seed: 19)
        let compressed = try compressInPieces(data, format: .gzip, boundaries: [1, 100_000, 900_000])
        try withTemporaryDirectory { dir in
            let input = dir.appendingPathComponent("in.gz"), output = dir.appendingPathComponent("out")
            try Data(compressed).write(to: input)
            try run(gzip, ["-d", "-c", input.path], stdout: output)
            XCTAssertTrue(try readFile(output) == data)
        }
    }

    func testWeDecodeGzipCLIMembers() throws {
        let gzip = try requireTool("gzip")
        let data = compressibleBytes(1 << 20) + randomBytes(100_000, seed: 20)
        try withTemporaryDirectory { dir in
            let input = dir.appendingPathComponent("in"), output = dir.appendingPathComponent("out.gz")
            try Data(data).write(to: input)
            try run(gzip, ["-9", "-c", input.path], stdout: output)  // header carries a file name
            let compressed = try readFile(output)
            XCTAssertEqual(detect(compressed), .gzip)
            XCTAssertTrue(try decompress(compressed) == data)
        }
    }

    func testPythonDecodesOurZlibAndGzipStreams() throws {
        let python = try requireTool("python3")
        let data = compressibleBytes(500_000) + randomBytes(100_000, seed: 21)
        try withTemporaryDirectory { dir in
            let plain = dir.appendingPathComponent("plain")
            try Data(data).write(to: plain)
            for (format, module) in [(CompressionFormat.zlib, "zlib"), (.gzip, "gzip")] {
                let input = dir.appendingPathComponent("in.\(module)")
                try Data(try compressInPieces(data, format: format, boundaries: [50_000, 300_000])).write(to: input)
                let script = "import sys, \(module)\n"
                    + "d = \(module).decompress(open(sys.argv[1], 'rb').read())\n"
                    + "sys.exit(0 if d == open(sys.argv[2], 'rb').read() else 3)\n"
                try run(python, ["-c", script, input.path, plain.path])
            }
        }
    }

    func testWeDecodePythonZlibAndGzipStreams() throws {
        let python = try requireTool("python3")
        let data = compressibleBytes(500_000) + randomBytes(100_000, seed: 22)
        try withTemporaryDirectory { dir in
            let plain = dir.appendingPathComponent("plain")
            try Data(data).write(to: plain)
            let scripts: [(CompressionFormat, String)] = [
                (.zlib, "zlib.compress(d, 9)"),
                (.zlib, "(lambda c: c.compress(d[:1000]) + c.flush(zlib.Z_FULL_FLUSH) + c.compress(d[1000:]) + c.flush())(zlib.compressobj(1))"),
                (.gzip, "gzip.compress(d)"),
            ]
            for (i, (format, expression)) in scripts.enumerated() {
                let output = dir.appendingPathComponent("out\(i)")
                let script = "import sys, zlib, gzip\nd = open(sys.argv[1], 'rb').read()\n"
                    + "open(sys.argv[2], 'wb').write(\(expression))\n"
                try run(python, ["-c", script, plain.path, output.path])
                let compressed = try readFile(output)
                XCTAssertEqual(detect(compressed), format, expression)
                XCTAssertTrue(try decompress(compressed) == data, expression)
            }
        }
    }

    // MARK: - Helpers

    private func detect(_ bytes: [UInt8]) -> CompressionFormat? {
        bytes.withUnsafeBytes { CompressionFormat.detect($0) }
    }

    private func write(_ compressor: StreamCompressor, _ bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try compressor.write($0) }
    }

    /// Compresses `data` into one stream with `endBlock()` at each boundary (ascending offsets).
    private func compressInPieces(_ data: [UInt8], format: CompressionFormat, boundaries: [Int],
                                  lz4BlockSize: LZ4FrameCompressor.BlockSize = .max4MiB) throws -> [UInt8] {
        let compressor: StreamCompressor = format == .lz4
            ? try LZ4FrameCompressor(blockSize: lz4BlockSize)
            : try XCTUnwrap(try makeCompressor(format))
        var out: [UInt8] = []
        var written = 0
        for boundary in boundaries {
            out += try write(compressor, Array(data[written..<boundary]))
            out += try compressor.endBlock()
            written = boundary
        }
        out += try write(compressor, Array(data[written...]))
        out += try compressor.finish()
        return out
    }

    /// Decodes one complete stream, feeding chunks of the given sizes in rotation.
    private func decodeInChunks(_ compressed: [UInt8], format: CompressionFormat, chunkSizes: [Int]) throws -> [UInt8] {
        let decompressor = try XCTUnwrap(try makeDecompressor(format))
        var out: [UInt8] = []
        var position = 0
        var i = 0
        try compressed.withUnsafeBytes { all in
            while position < all.count {
                let end = min(all.count, position + chunkSizes[i % chunkSizes.count])
                out += try decompressor.feed(UnsafeRawBufferPointer(rebasing: all[position..<end]))
                position = end
                i += 1
            }
        }
        try decompressor.finish()
        XCTAssertTrue(decompressor.isFinished)
        return out
    }

    /// Flips each bit from `start` on, one at a time; each damaged stream must either throw or
    /// decode to exactly `original` (a flip in a redundant spot, e.g. a match offset that points
    /// at identical bytes, changes nothing). Returns how many flips threw.
    @discardableResult
    private func assertNoBitFlipYieldsWrongBytes(_ compressed: [UInt8], original: [UInt8], format: CompressionFormat,
                                                 from start: Int, file: StaticString = #filePath,
                                                 line: UInt = #line) throws -> Int {
        var damaged = compressed
        var thrown = 0
        for index in start..<compressed.count {
            for bit in 0..<8 {
                damaged[index] ^= UInt8(1 << bit)
                do {
                    let decoded = try decodeInChunks(damaged, format: format, chunkSizes: [damaged.count])
                    if decoded != original {
                        XCTFail("\(format): flip of bit \(bit) at byte \(index) decoded to wrong bytes", file: file, line: line)
                    }
                } catch is CompressionError {
                    thrown += 1
                }
                damaged[index] = compressed[index]
            }
        }
        return thrown
    }

    private func blockBoundaries(count: Int, seed: UInt64, every meanGap: Int) -> [Int] {
        var rng = SplitMix64(seed: seed)
        var boundaries: [Int] = []
        var next = 0
        while true {
            next += 1 + Int(rng.next() % UInt64(2 * meanGap))
            guard next < count else { return boundaries }
            boundaries.append(next)
        }
    }

    private func le32(_ value: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    private func requireTool(_ name: String) throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/bin"] {
            let candidate = URL(fileURLWithPath: directory).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw XCTSkip("\(name) is not installed (not found in PATH); skipping interop test")
    }

    /// Runs a tool to completion; fails unless it exits 0.
    private func run(_ tool: URL, _ arguments: [String], stdin: URL? = nil, stdout: URL? = nil,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        let process = Process()
        process.executableURL = tool
        process.arguments = arguments
        // Only handles opened here are closed here: the defaults are this process's own stdio.
        var opened: [FileHandle] = []
        defer { opened.forEach { try? $0.close() } }
        if let stdin {
            opened.append(try FileHandle(forReadingFrom: stdin))
            process.standardInput = opened.last
        }
        if let stdout {
            _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
            opened.append(try FileHandle(forWritingTo: stdout))
            process.standardOutput = opened.last
        }
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "\(tool.lastPathComponent) \(arguments) failed", file: file, line: line)
    }

    private func readFile(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    private func withTemporaryDirectory(_ body: (URL) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-compression-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try body(dir)
    }
}

// MARK: - Test data


/// Text shaped like RDB string payloads ("user:1234 name=... score=..."): compresses ~5-10x.
private func compressibleBytes(_ count: Int) -> [UInt8] {
    let words = ["user", "session", "cart", "score", "name", "alpha", "bravo", "charlie", "delta", "echo"].map { Array($0.utf8) }
    var rng = SplitMix64(seed: 0xC0FFEE)
    var out: [UInt8] = []
    out.reserveCapacity(count + 64)
    while out.count < count {
        let r = rng.next()
        out += words[Int(r % 10)]
        out.append(0x3A)  // ':'
        out += Array(String((r >> 48) % 1_000).utf8)
        out.append(0x20)
        out += words[Int((r >> 8) % 10)]
        out.append(0x0A)
    }
    return Array(out.prefix(count))
}

/// xxHash32, as used by the LZ4 frame format for its header and content checksums.
private func xxh32(_ data: [UInt8], seed: UInt32 = 0) -> UInt32 {
    let p1: UInt32 = 2_654_435_761, p2: UInt32 = 2_246_822_519, p3: UInt32 = 3_266_489_917
    let p4: UInt32 = 668_265_263, p5: UInt32 = 374_761_393
    func rotl(_ x: UInt32, _ r: UInt32) -> UInt32 { (x << r) | (x >> (32 - r)) }
    func read32(_ i: Int) -> UInt32 {
        UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
    }
    func round(_ acc: UInt32, _ input: UInt32) -> UInt32 { rotl(acc &+ input &* p2, 13) &* p1 }
    var i = 0
    var h: UInt32
    if data.count >= 16 {
        var v1 = seed &+ p1 &+ p2, v2 = seed &+ p2, v3 = seed, v4 = seed &- p1
        while i + 16 <= data.count {
            v1 = round(v1, read32(i)); v2 = round(v2, read32(i + 4))
            v3 = round(v3, read32(i + 8)); v4 = round(v4, read32(i + 12))
            i += 16
        }
        h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
    } else {
        h = seed &+ p5
    }
    h = h &+ UInt32(truncatingIfNeeded: data.count)
    while i + 4 <= data.count { h = rotl(h &+ read32(i) &* p3, 17) &* p4; i += 4 }
    while i < data.count { h = rotl(h &+ UInt32(data[i]) &* p5, 11) &* p1; i += 1 }
    h ^= h >> 15; h = h &* p2; h ^= h >> 13; h = h &* p3; h ^= h >> 16
    return h
}
