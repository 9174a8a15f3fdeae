// LZ4 frames (the format of the `lz4` command line tool), via liblz4's LZ4F API.
//
// One snapshot is one frame. Layout (lz4 Frame Format spec v1.6.x):
//
//   +-------------+------------------+---------+---------+-----+----------+---------------+
//   | 04 22 4D 18 | frame descriptor | block 0 | block 1 | ... | 00000000 | content xxh32 |
//   +-------------+------------------+---------+---------+-----+----------+---------------+
//    magic         FLG BD [size] HC    each block: u32le size (bit 31 = stored raw), data
//
// We write FLG with block independence set (a damaged block does not poison the next one),
// content checksum on, no content size (the stream length is unknown up front), and
// block max size 64 KiB..4 MiB (BD). A block ends either when it is full or at `endBlock()`.

import CLZ4

/// Returns liblz4's name for an LZ4F error code.
private func lz4ErrorName(_ code: Int) -> String {
    guard let name = LZ4F_getErrorName(code) else { return "unknown LZ4F error" }
    return String(cString: name)
}

private func lz4IsError(_ code: Int) -> Bool { LZ4F_isError(code) != 0 }

// MARK: - Compressor

/// Writes one LZ4 frame.
public final class LZ4FrameCompressor: StreamCompressor {
    /// The frame's block maximum size (the BD byte). Frozen: these are the spec's four values.
    public enum BlockSize: Int, Sendable {
        case max64KiB = 65536
        case max256KiB = 262144
        case max1MiB = 1048576
        case max4MiB = 4194304

        var id: LZ4F_blockSizeID_t {
            switch self {
            case .max64KiB: return LZ4F_max64KB
            case .max256KiB: return LZ4F_max256KB
            case .max1MiB: return LZ4F_max1MB
            case .max4MiB: return LZ4F_max4MB
            }
        }
    }

    private var context: OpaquePointer?
    private var preferences = LZ4F_preferences_t()
    /// Input is handed to liblz4 at most this many bytes per update.
    private static let updateBytes = 64 * 1024
    /// Scratch output, `LZ4F_compressBound(updateBytes)` long (about one block plus 64 KiB).
    private let scratch: UnsafeMutablePointer<UInt8>
    private let scratchBytes: Int
    /// The frame header, produced at init and returned with the first output.
    private var pendingHeader: [UInt8]
    private var acceptedBytes = 0
    private var isFinished = false
    private var failure: CompressionError?

    /// - Parameters:
    ///   - level: 0 = LZ4 default (fast); 3...12 = LZ4HC; negative = faster. Clamped to -65537...12.
    ///   - blockSize: block maximum size written in the frame descriptor; the decoder needs
    ///     that much buffer.
    ///   - contentChecksum: append the xxh32 of the whole plain stream (verified by decoders).
    ///   - blockIndependent: blocks do not reference earlier blocks (needed to resume after a
    ///     damaged block).
    ///   - blockChecksum: append the xxh32 of each compressed block (lets a reader reject a
    ///     damaged block before decoding it).
    public init(level: Int = 0, blockSize: BlockSize = .max4MiB, contentChecksum: Bool = true,
                blockIndependent: Bool = true, blockChecksum: Bool = false) throws {
        preferences.frameInfo.blockSizeID = blockSize.id
        preferences.frameInfo.blockMode = blockIndependent ? LZ4F_blockIndependent : LZ4F_blockLinked
        preferences.frameInfo.contentChecksumFlag = contentChecksum ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum
        preferences.frameInfo.blockChecksumFlag = blockChecksum ? LZ4F_blockChecksumEnabled : LZ4F_noBlockChecksum
        preferences.frameInfo.frameType = LZ4F_frame
        preferences.frameInfo.contentSize = 0
        preferences.compressionLevel = Int32(max(-65537, min(12, level)))
        preferences.autoFlush = 0
        // Bound for one update of `updateBytes` on top of up to a block already buffered;
        // it also covers a flush or the frame end.
        let bound = LZ4F_compressBound(Self.updateBytes, &preferences)
        guard !lz4IsError(bound), bound > Self.updateBytes else {
            throw CompressionError(message: "LZ4F_compressBound: \(lz4ErrorName(bound))", offset: 0)
        }
        scratchBytes = bound
        scratch = .allocate(capacity: scratchBytes)
        pendingHeader = []

        var ctx: OpaquePointer?
        let rc = LZ4F_createCompressionContext(&ctx, UInt32(LZ4F_VERSION))
        guard !lz4IsError(rc), let ctx else {
            // Every stored property is set, so deinit runs and frees the scratch buffer.
            throw CompressionError(message: "LZ4F_createCompressionContext: \(lz4ErrorName(rc))", offset: 0)
        }
        context = ctx
        let headerBytes = LZ4F_compressBegin(ctx, scratch, scratchBytes, &preferences)
        guard !lz4IsError(headerBytes) else {
            // deinit frees the context and the scratch buffer.
            throw CompressionError(message: "LZ4F_compressBegin: \(lz4ErrorName(headerBytes))", offset: 0)
        }
        pendingHeader = Array(UnsafeBufferPointer(start: scratch, count: headerBytes))
    }

    deinit {
        if let context { LZ4F_freeCompressionContext(context) }
        scratch.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws -> [UInt8] {
        var out = try begin()
        guard let base = bytes.baseAddress, bytes.count > 0 else { return out }
        var position = 0
        while position < bytes.count {
            // Bounded updates keep the output within `scratch`.
            let n = min(Self.updateBytes, bytes.count - position)
            let produced = LZ4F_compressUpdate(context, scratch, scratchBytes, base + position, n, nil)
            try check(produced, "LZ4F_compressUpdate")
            out.append(contentsOf: UnsafeBufferPointer(start: scratch, count: produced))
            position += n
            acceptedBytes += n
        }
        return out
    }

    public func endBlock() throws -> [UInt8] {
        var out = try begin()
        let produced = LZ4F_flush(context, scratch, scratchBytes, nil)
        try check(produced, "LZ4F_flush")
        out.append(contentsOf: UnsafeBufferPointer(start: scratch, count: produced))
        return out
    }

    public func finish() throws -> [UInt8] {
        var out = try begin()
        let produced = LZ4F_compressEnd(context, scratch, scratchBytes, nil)
        try check(produced, "LZ4F_compressEnd")
        out.append(contentsOf: UnsafeBufferPointer(start: scratch, count: produced))
        isFinished = true
        return out
    }

    /// Common entry: refuses use after an error or after `finish()`, returns the header once.
    private func begin() throws -> [UInt8] {
        if let failure { throw failure }
        if isFinished { throw CompressionError(message: "LZ4 frame already finished", offset: acceptedBytes) }
        defer { pendingHeader = [] }
        return pendingHeader
    }

    private func check(_ code: Int, _ function: String) throws {
        guard lz4IsError(code) else { return }
        let error = CompressionError(message: "\(function): \(lz4ErrorName(code))", offset: acceptedBytes)
        failure = error
        throw error
    }
}

// MARK: - Decompressor

/// Reads one LZ4 frame. Accepts any valid frame (linked or independent blocks, with or without
/// checksums and content size), refuses anything after the frame's end.
public final class LZ4FrameDecompressor: StreamDecompressor {
    private var context: OpaquePointer?
    /// The output room asked for per step once a buffer already holds a block.
    private let stepBytes = 64 * 1024
    /// Compressed bytes consumed so far (offset of the next byte fed).
    private var consumedBytes = 0
    /// liblz4's hint of how many bytes its next step wants (a block's data plus the next
    /// block's size word). Feeding at most that many keeps each step to one block, so an
    /// error's offset is within one block of the damage.
    private var nextStepBytes = Int(LZ4F_HEADER_SIZE_MIN)
    public private(set) var isFinished = false
    private var failure: CompressionError?

    public init() throws {
        var ctx: OpaquePointer?
        let rc = LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))
        guard !lz4IsError(rc), let ctx else {
            throw CompressionError(message: "LZ4F_createDecompressionContext: \(lz4ErrorName(rc))", offset: 0)
        }
        context = ctx
    }

    deinit {
        if let context { LZ4F_freeDecompressionContext(context) }
    }

    /// Decodes into a new array: `feed(_:appendingTo:)` into a staging buffer kept between
    /// calls, then one copy out.
    public func feed(_ bytes: UnsafeRawBufferPointer) throws -> [UInt8] {
        let staging = self.staging ?? ChunkBuffer()
        self.staging = staging
        staging.removeAll()
        try feed(bytes, appendingTo: staging)
        return [UInt8](staging.bytes)
    }

    /// The staging buffer of the array-returning `feed` (made on its first use).
    private var staging: ChunkBuffer?

    /// Decodes straight into `out`: with room for a whole block (`blockRoom`) after what it
    /// holds, liblz4 writes a block's bytes there directly instead of through its own buffer
    /// and then ours. The steps are `feed`'s, so the bytes and the error offsets are the same.
    public func feed(_ bytes: UnsafeRawBufferPointer, appendingTo out: ChunkBuffer) throws {
        if let failure { throw failure }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if isFinished { try fail("trailing bytes after end of LZ4 frame", at: consumedBytes) }
        try checkMagic(bytes)
        var position = 0
        while true {
            let available = bytes.count - position
            var sourceBytes = min(available, max(1, nextStepBytes))
            // A whole block's room for an empty buffer; later in the same call (rare: the
            // input ends one block and holds more) a step's room, rather than regrowing a buffer
            // that holds a block already.
            out.reserve(free: out.isEmpty ? Self.blockRoom : stepBytes)
            let room = out.free
            var producedBytes = room.count
            let hint = LZ4F_decompress(context, room.baseAddress!, &producedBytes, base + position, &sourceBytes, nil)
            if lz4IsError(hint) { try fail("corrupt LZ4 frame: \(lz4ErrorName(hint))", at: consumedBytes + position) }
            guard sourceBytes <= available, producedBytes <= room.count else {
                try fail("LZ4F_decompress reported impossible sizes", at: consumedBytes + position)
            }
            out.commit(producedBytes)
            position += sourceBytes
            if hint == 0 {
                isFinished = true
                consumedBytes += position
                if position < bytes.count { try fail("trailing bytes after end of LZ4 frame", at: consumedBytes) }
                return
            }
            nextStepBytes = hint
            if sourceBytes == 0 && producedBytes == 0 {
                if position < bytes.count { try fail("LZ4F_decompress made no progress", at: consumedBytes + position) }
                break
            }
            if position == bytes.count && producedBytes < room.count { break }
        }
        consumedBytes += position
    }

    /// The largest block a frame may declare (4 MiB) plus a margin: liblz4 decodes a block
    /// into the caller's buffer directly only when that much is free (otherwise through its
    /// own buffer, in pieces).
    static let blockRoom = 4 * 1024 * 1024 + 64 * 1024

    public func finish() throws {
        if let failure { throw failure }
        if !isFinished { try fail("truncated LZ4 frame", at: consumedBytes) }
    }

    /// liblz4 also decodes skippable frames (magic 184D2A5x) as empty; a snapshot must be a
    /// real frame, so its first four bytes are checked here.
    private func checkMagic(_ bytes: UnsafeRawBufferPointer) throws {
        let magic = CompressionFormat.lz4FrameMagic
        guard consumedBytes < magic.count else { return }
        var i = 0
        while i < bytes.count && consumedBytes + i < magic.count {
            if bytes[i] != magic[consumedBytes + i] { try fail("not an LZ4 frame (bad magic)", at: consumedBytes + i) }
            i += 1
        }
    }

    private func fail(_ message: String, at offset: Int) throws -> Never {
        let error = CompressionError(message: message, offset: offset)
        failure = error
        throw error
    }
}
