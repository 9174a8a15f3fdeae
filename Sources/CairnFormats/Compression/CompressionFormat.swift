// Snapshot compression: the outer framing a snapshot may be stored in (DESIGN.md §6).
//
// A snapshot file is a Redis RDB byte stream, stored either plain or inside one standard
// container, so that stock tools can open it (`lz4 -d`, `zlib-flate -uncompress`, `gzip -d`).
// The container is recognised by its first bytes; see docs/formats/compression.md.
//
//   plain  52 45 44 49 53          "REDIS" (the RDB magic itself)
//   lz4    04 22 4D 18             LZ4 frame magic 0x184D2204, little-endian
//   zlib   78 xx                   CMF 0x78 (deflate, 32 KiB window), (CMF<<8|FLG) % 31 == 0
//   gzip   1F 8B                   gzip member magic
//
// Compression blocks end where the writer calls `endBlock()` (the snapshot writer does so at key
// boundaries), so everything before a block end decodes without any later byte.

/// The container a snapshot byte stream is stored in.
public enum CompressionFormat: Equatable, Sendable {
    case none
    case lz4
    case zlib
    case gzip

    /// The magic prefixes, frozen: they are what other tools write and read.
    static let rdbMagic: [UInt8] = [0x52, 0x45, 0x44, 0x49, 0x53]  // "REDIS"
    static let lz4FrameMagic: [UInt8] = [0x04, 0x22, 0x4D, 0x18]  // 0x184D2204 LE
    static let gzipMagic: [UInt8] = [0x1F, 0x8B]
    static let zlibCMF: UInt8 = 0x78  // CM = 8 (deflate), CINFO = 7 (32 KiB window)

    /// Detects the container from the first bytes of a file.
    ///
    /// "REDIS" -> `.none`, `04 22 4D 18` -> `.lz4`, `1F 8B` -> `.gzip`, a zlib header
    /// (CMF 0x78 and a valid FCHECK, i.e. `(CMF*256 + FLG) % 31 == 0`) -> `.zlib`.
    /// Returns nil when the prefix matches none of them or is too short to tell
    /// (5 bytes are enough for every form).
    public static func detect(_ prefix: UnsafeRawBufferPointer) -> CompressionFormat? {
        if startsWith(prefix, rdbMagic) { return CompressionFormat.none }
        if startsWith(prefix, lz4FrameMagic) { return .lz4 }
        if startsWith(prefix, gzipMagic) { return .gzip }
        if prefix.count >= 2, prefix[0] == zlibCMF, (UInt16(prefix[0]) << 8 | UInt16(prefix[1])) % 31 == 0 {
            return .zlib
        }
        return nil
    }

    private static func startsWith(_ bytes: UnsafeRawBufferPointer, _ magic: [UInt8]) -> Bool {
        guard bytes.count >= magic.count else { return false }
        for i in 0..<magic.count where bytes[i] != magic[i] { return false }
        return true
    }
}

/// A compression or decompression failure.
///
/// For decompressors `offset` is the byte offset in the *compressed* input where decoding
/// failed: for zlib/gzip, where inflate stopped; for LZ4, the start of the decoding step that
/// failed (the frame header, or a block's data read together with the next block's size word),
/// so at most one block before the damage.
/// For compressors it is the number of plain bytes accepted before the failure.
public struct CompressionError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public let offset: Int

    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "\(message) (at compressed byte offset \(offset))" }
}

/// A streaming compressor. Output bytes are returned as they are produced.
public protocol StreamCompressor: AnyObject {
    /// Compresses `bytes`; may return `[]` while the compressor buffers a block.
    func write(_ bytes: UnsafeRawBufferPointer) throws -> [UInt8]
    /// Ends the current compression block here (a key boundary): once the returned bytes are
    /// appended, everything written so far decodes without any later input.
    /// LZ4: the buffered block is emitted (`LZ4F_flush`). zlib/gzip: `Z_FULL_FLUSH`.
    func endBlock() throws -> [UInt8]
    /// Ends the stream: LZ4 end mark and content checksum, or zlib/gzip `Z_FINISH` trailer.
    /// Afterwards every call throws.
    func finish() throws -> [UInt8]
}

/// A streaming decompressor: feed compressed bytes in any chunking, get plain bytes out.
///
/// Output is bounded by the input fed in one call times the format's maximum ratio
/// (about 255x for LZ4, 1032x for deflate); callers bound it by feeding bounded chunks.
/// Plain bytes are returned as soon as their block decodes; the stream checksum (LZ4 content
/// checksum, zlib adler32, gzip crc32) is verified at the end, so output is trusted only once
/// `isFinished` is true. After any error the decompressor stays failed and rethrows it.
public protocol StreamDecompressor: AnyObject {
    func feed(_ bytes: UnsafeRawBufferPointer) throws -> [UInt8]
    /// As `feed`, with the plain bytes appended to `out` (a buffer reused from step to step)
    /// instead of returned: the same bytes and the same errors.
    func feed(_ bytes: UnsafeRawBufferPointer, appendingTo out: ChunkBuffer) throws
    /// True once the frame/stream end was reached and its checksum verified.
    var isFinished: Bool { get }
    /// Throws `CompressionError` ("truncated ...") if the input ended before the frame/stream end.
    func finish() throws
}

extension StreamDecompressor {
    public func feed(_ bytes: UnsafeRawBufferPointer, appendingTo out: ChunkBuffer) throws {
        let plain = try feed(bytes)
        plain.withUnsafeBytes { out.append($0) }
    }
}

/// A fresh compressor for `format` with default settings; nil for `.none`.
public func makeCompressor(_ format: CompressionFormat) throws -> StreamCompressor? {
    switch format {
    case .none: return nil
    case .lz4: return try LZ4FrameCompressor()
    case .zlib: return try ZlibCompressor()
    case .gzip: return try ZlibCompressor(gzip: true)
    }
}

/// A fresh decompressor for `format`; nil for `.none`. `.zlib` and `.gzip` share one
/// decompressor that accepts both.
public func makeDecompressor(_ format: CompressionFormat) throws -> StreamDecompressor? {
    switch format {
    case .none: return nil
    case .lz4: return try LZ4FrameDecompressor()
    case .zlib, .gzip: return try ZlibDecompressor()
    }
}

/// Compresses `bytes` into one complete stream of `format` (`.none` returns the input).
public func compress(_ bytes: [UInt8], format: CompressionFormat) throws -> [UInt8] {
    guard let compressor = try makeCompressor(format) else { return bytes }
    var out = try bytes.withUnsafeBytes { try compressor.write($0) }
    out += try compressor.finish()
    return out
}

/// Decompresses one complete stream, detecting its format by magic. A plain RDB stream
/// ("REDIS...") is returned unchanged. Throws if the format is unknown, the stream is corrupt
/// or truncated, or the output would exceed `maxOutputBytes`.
public func decompress(_ bytes: [UInt8], maxOutputBytes: Int = Int.max) throws -> [UInt8] {
    guard let format = bytes.withUnsafeBytes({ CompressionFormat.detect($0) }) else {
        throw CompressionError(message: "unknown compression format", offset: 0)
    }
    guard let decompressor = try makeDecompressor(format) else { return bytes }
    // Feed in bounded chunks so the output limit is enforced before it is far exceeded.
    let chunkBytes = 64 * 1024
    var out: [UInt8] = []
    var position = 0
    try bytes.withUnsafeBytes { all in
        while position < all.count {
            let end = position + min(chunkBytes, all.count - position)
            out += try decompressor.feed(UnsafeRawBufferPointer(rebasing: all[position..<end]))
            if out.count > maxOutputBytes {
                throw CompressionError(message: "decompressed size exceeds \(maxOutputBytes) bytes", offset: position)
            }
            position = end
        }
    }
    try decompressor.finish()
    return out
}
