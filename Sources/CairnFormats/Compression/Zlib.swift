// zlib (RFC 1950) and gzip (RFC 1952) streams of deflate data, via the system zlib.
//
//   zlib:  78 xx | deflate blocks ... | adler32 (u32be of the plain stream)
//   gzip:  1F 8B 08 flg mtime xfl os  | deflate blocks ... | crc32 (u32le) | size mod 2^32 (u32le)
//
// `endBlock()` is a Z_FULL_FLUSH: deflate ends its block, byte-aligns with an empty stored
// block (00 00 FF FF) and forgets its window, so every byte written so far decodes from the
// bytes emitted so far, and a decoder could restart at that point.

import CZlib

/// zlib's `windowBits`: 15 = 32 KiB window, +16 = gzip wrapper, +32 = detect zlib or gzip.
private enum WindowBits {
    static let zlib: Int32 = 15
    static let gzip: Int32 = 15 + 16
    static let detect: Int32 = 15 + 32
}

/// The size of the scratch output buffer and the largest input slice handed to zlib at once
/// (`avail_in`/`avail_out` are 32-bit).
private let zlibScratchBytes = 64 * 1024
private let zlibSliceBytes = 1024 * 1024

private func zlibMessage(_ stream: UnsafeMutablePointer<z_stream>, _ code: Int32) -> String {
    if let message = stream.pointee.msg { return String(cString: message) }
    return "zlib error \(code)"
}

// MARK: - Compressor

/// Writes one zlib stream, or one gzip member when `gzip` is true.
public final class ZlibCompressor: StreamCompressor {
    /// Heap-allocated: zlib's state keeps a pointer back to its z_stream.
    private let stream: UnsafeMutablePointer<z_stream>
    private var initialized = false
    private let scratch: UnsafeMutablePointer<UInt8>
    private var acceptedBytes = 0
    private var isFinished = false
    private var failure: CompressionError?

    /// - Parameters:
    ///   - level: 0 (stored) ... 9 (best); -1 = zlib default (6). Clamped to -1...9.
    ///   - gzip: write a gzip member instead of a zlib stream.
    public init(level: Int = 6, gzip: Bool = false) throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        scratch = .allocate(capacity: zlibScratchBytes)
        let rc = deflateInit2_(stream, Int32(max(-1, min(9, level))), Z_DEFLATED,
                               gzip ? WindowBits.gzip : WindowBits.zlib, 8, Z_DEFAULT_STRATEGY,
                               ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            // deinit frees the buffers (no zlib state to end).
            throw CompressionError(message: "deflateInit2: \(zlibMessage(stream, rc))", offset: 0)
        }
        initialized = true
    }

    deinit {
        if initialized { deflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        scratch.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws -> [UInt8] {
        try checkUsable()
        var out: [UInt8] = []
        guard let base = bytes.baseAddress, bytes.count > 0 else { return out }
        var position = 0
        while position < bytes.count {
            let n = min(zlibSliceBytes, bytes.count - position)
            stream.pointee.next_in = UnsafeMutablePointer(mutating: (base + position).assumingMemoryBound(to: UInt8.self))
            stream.pointee.avail_in = UInt32(n)
            try run(flush: Z_NO_FLUSH, into: &out)
            if stream.pointee.avail_in != 0 { try fail("deflate left input unconsumed") }
            position += n
            acceptedBytes += n
        }
        return out
    }

    public func endBlock() throws -> [UInt8] {
        try checkUsable()
        var out: [UInt8] = []
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        try run(flush: Z_FULL_FLUSH, into: &out)
        return out
    }

    public func finish() throws -> [UInt8] {
        try checkUsable()
        var out: [UInt8] = []
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        try run(flush: Z_FINISH, into: &out)
        isFinished = true
        return out
    }

    /// Calls deflate until it stops filling the scratch buffer (for Z_FINISH: until Z_STREAM_END).
    private func run(flush: Int32, into out: inout [UInt8]) throws {
        while true {
            stream.pointee.next_out = scratch
            stream.pointee.avail_out = UInt32(zlibScratchBytes)
            let rc = deflate(stream, flush)
            let produced = zlibScratchBytes - Int(stream.pointee.avail_out)
            out.append(contentsOf: UnsafeBufferPointer(start: scratch, count: produced))
            switch rc {
            case Z_STREAM_END:
                return
            case Z_OK, Z_BUF_ERROR:
                // Z_BUF_ERROR: nothing to do (e.g. a second flush in a row); not an error.
                if flush == Z_FINISH && produced == 0 { try fail("deflate made no progress finishing") }
                if flush != Z_FINISH && stream.pointee.avail_out != 0 { return }
            default:
                try fail("deflate: \(zlibMessage(stream, rc))")
            }
        }
    }

    private func checkUsable() throws {
        if let failure { throw failure }
        if isFinished { throw CompressionError(message: "zlib stream already finished", offset: acceptedBytes) }
    }

    private func fail(_ message: String) throws -> Never {
        let error = CompressionError(message: message, offset: acceptedBytes)
        failure = error
        throw error
    }
}

// MARK: - Decompressor

/// Reads one zlib stream or one gzip member (detected from the header: windowBits 15+32),
/// verifies its checksum, and refuses anything after its end.
public final class ZlibDecompressor: StreamDecompressor {
    private let stream: UnsafeMutablePointer<z_stream>
    private var initialized = false
    private let scratch: UnsafeMutablePointer<UInt8>
    /// Compressed bytes consumed so far (offset of the next byte fed).
    private var consumedBytes = 0
    public private(set) var isFinished = false
    private var failure: CompressionError?

    public init() throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        scratch = .allocate(capacity: zlibScratchBytes)
        let rc = inflateInit2_(stream, WindowBits.detect, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            throw CompressionError(message: "inflateInit2: \(zlibMessage(stream, rc))", offset: 0)
        }
        initialized = true
    }

    deinit {
        if initialized { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        scratch.deallocate()
    }

    public func feed(_ bytes: UnsafeRawBufferPointer) throws -> [UInt8] {
        if let failure { throw failure }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return [] }
        if isFinished { try fail("trailing bytes after end of zlib stream", at: consumedBytes) }

        var out: [UInt8] = []
        var position = 0
        while true {
            let n = min(zlibSliceBytes, bytes.count - position)
            stream.pointee.next_in = UnsafeMutablePointer(mutating: (base + position).assumingMemoryBound(to: UInt8.self))
            stream.pointee.avail_in = UInt32(n)
            stream.pointee.next_out = scratch
            stream.pointee.avail_out = UInt32(zlibScratchBytes)
            let rc = inflate(stream, Z_NO_FLUSH)
            let remaining = Int(stream.pointee.avail_in)
            guard remaining <= n else { try fail("inflate reported impossible sizes", at: consumedBytes + position) }
            let produced = zlibScratchBytes - Int(stream.pointee.avail_out)
            out.append(contentsOf: UnsafeBufferPointer(start: scratch, count: produced))
            position += n - remaining
            switch rc {
            case Z_STREAM_END:
                // Trailer read and adler32 / crc32 + size verified.
                isFinished = true
                consumedBytes += position
                if position < bytes.count { try fail("trailing bytes after end of zlib stream", at: consumedBytes) }
                return out
            case Z_OK:
                break
            case Z_BUF_ERROR:
                // No progress possible: all input used and nothing left to output.
                if position < bytes.count { try fail("inflate made no progress", at: consumedBytes + position) }
                consumedBytes += position
                return out
            case Z_NEED_DICT:
                try fail("zlib stream needs a preset dictionary", at: consumedBytes + position)
            default:
                try fail("corrupt zlib stream: \(zlibMessage(stream, rc))", at: consumedBytes + position)
            }
            // Stop when input is used up and the scratch buffer was not filled
            // (a full buffer may mean more decoded bytes are pending).
            if position == bytes.count && produced < zlibScratchBytes { break }
        }
        consumedBytes += position
        return out
    }

    public func finish() throws {
        if let failure { throw failure }
        if !isFinished { try fail("truncated zlib stream", at: consumedBytes) }
    }

    private func fail(_ message: String, at offset: Int) throws -> Never {
        let error = CompressionError(message: message, offset: offset)
        failure = error
        throw error
    }
}
