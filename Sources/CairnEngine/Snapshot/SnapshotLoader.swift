// SnapshotLoader: reads a snapshot (plain RDB, or RDB inside an LZ4 frame / zlib / gzip
// stream, detected by magic) into fresh databases beside the live ones. The caller swaps them
// in with `Engine.replaceDatabases` only when the whole file loaded: a snapshot is never
// half-applied.
//
//   raw bytes ──▶ SnapshotInput (detect container, decompress) ──▶ RDBReader (events)
//             ──▶ RDBKeyAssembler (one key's value) ──▶ ValueCodec ──▶ Database
//
// Load policy (Redis's rdbLoad):
//   - a primary drops keys that have already expired (`dropExpired`); a replica or an AOF
//     base load keeps them, because its primary or its log decides;
//   - a key twice in one database, a database number at or above `databases`, function
//     libraries and module data (Cairn has neither yet) stop the load;
//   - every error names the byte offset in the RDB stream, the compressed offset when the
//     file is compressed, the key being read and the reason.
// No I/O here: the server hands in a read function over its file (through the Sys seam).

/// A snapshot's bytes as the RDB reader wants them: the container is detected from the first
/// bytes and taken off transparently.
public final class SnapshotInput: RDBByteSource {
    public typealias RawRead = (UnsafeMutableRawBufferPointer) throws -> Int

    let readRaw: RawRead
    /// The container found in the first bytes (nil before the first read).
    public private(set) var format: CompressionFormat?
    var decompressor: StreamDecompressor?
    var pending: [UInt8] = []
    var pendingPos = 0
    var rawBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    var rawEOF = false
    /// Bytes of the file consumed so far.
    public private(set) var rawOffset = 0

    public init(read: @escaping RawRead) {
        self.readRaw = read
    }

    /// A snapshot held in memory.
    public convenience init(bytes: [UInt8]) {
        let source = RDBMemorySource(bytes)
        self.init(read: { try source.read(into: $0) })
    }

    private func fillRaw() throws -> Int {
        let n = try rawBuffer.withUnsafeMutableBytes { try readRaw($0) }
        rawOffset += n
        if n == 0 { rawEOF = true }
        return n
    }

    private func detect() throws {
        var prefix: [UInt8] = []
        while prefix.count < 5 && !rawEOF {
            let n = try fillRaw()
            prefix += rawBuffer[0..<n]
        }
        guard let f = prefix.withUnsafeBytes({ CompressionFormat.detect($0) }) else {
            throw CompressionError(message: prefix.isEmpty ? "empty file" : "unknown file format (neither an RDB file nor an LZ4 frame, zlib or gzip stream)", offset: 0)
        }
        format = f
        decompressor = try makeDecompressor(f)
        if let d = decompressor {
            pending = try prefix.withUnsafeBytes { try d.feed($0) }
        } else {
            pending = prefix
        }
        pendingPos = 0
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if format == nil { try detect() }
        while pendingPos >= pending.count {
            guard let d = decompressor else {
                // Plain RDB: straight from the file.
                if rawEOF { return 0 }
                let n = try readRaw(buffer)
                rawOffset += n
                if n == 0 { rawEOF = true }
                return n
            }
            if rawEOF { return 0 }
            let n = try fillRaw()
            if n == 0 {
                try d.finish()   // throws "truncated ..." when the container did not end
                return 0
            }
            pending = try rawBuffer.withUnsafeBytes { try d.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            pendingPos = 0
        }
        let n = min(buffer.count, pending.count - pendingPos)
        pending.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + pendingPos, byteCount: n)
        }
        pendingPos += n
        return n
    }

    /// After the RDB stream ended: reads the rest of a container so its own checksum (LZ4
    /// content checksum, adler32, crc32) is verified. Returns the plain bytes found after the
    /// RDB stream (0 for a file Cairn or `lz4`/`zlib-flate` wrote).
    public func finishContainer() throws -> Int {
        guard let d = decompressor else { return 0 }
        var extra = pending.count - pendingPos
        pendingPos = pending.count
        while !rawEOF {
            let n = try fillRaw()
            if n == 0 { break }
            extra += try rawBuffer.withUnsafeBytes { try d.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }.count
        }
        try d.finish()
        return extra
    }
}

public struct SnapshotLoadOptions {
    /// Drop keys whose expiry has passed (a primary loading its own snapshot).
    public var dropExpired = true
    /// "Now" for `dropExpired`, in Unix milliseconds.
    public var nowMs: Int64

    public init(dropExpired: Bool = true, nowMs: Int64) {
        self.dropExpired = dropExpired
        self.nowMs = nowMs
    }
}

public struct SnapshotLoadResult {
    public var databases: [Database]
    public var rdbVersion = 0
    public var format: CompressionFormat = .none
    public var aux: [(key: String, value: Bytes)] = []
    public var keysLoaded = 0
    public var keysExpired = 0
    /// Bytes of the RDB stream (decompressed).
    public var rdbBytes = 0

    public func auxValue(_ key: String) -> Bytes? { aux.first { $0.key == key }?.value }
}

/// Why a snapshot did not load: where (RDB stream offset, compressed offset), which key, what.
public struct SnapshotLoadError: Error, CustomStringConvertible {
    /// Byte offset in the RDB stream (the decompressed stream for a compressed file).
    public let offset: Int
    /// The file's container; for anything but `.none` `offset` is in the decompressed stream.
    public let container: CompressionFormat
    /// For damage in the container itself: the byte offset in the compressed file.
    public let compressedOffset: Int?
    public let key: Bytes?
    public let reason: String

    public var description: String {
        var s: String
        if let c = compressedOffset {
            s = "at compressed byte offset \(c) (RDB stream offset \(offset))"
        } else if container != .none {
            s = "at byte offset \(offset) of the decompressed RDB stream"
        } else {
            s = "at byte offset \(offset)"
        }
        if let key { s += ", key \"\(key.debugText)\"" }
        return s + ": " + reason
    }
}

public enum SnapshotLoader {
    /// Loads a whole snapshot into new databases shaped like `engine`'s. Throws
    /// `SnapshotLoadError`; the engine is not touched either way.
    public static func load(_ input: SnapshotInput, engine: Engine, options: SnapshotLoadOptions) throws -> SnapshotLoadResult {
        let reader = RDBReader(source: input, verifyChecksum: true)
        var result = SnapshotLoadResult(databases: (0..<engine.databases.count).map { Database(id: $0, seed: engine.seed) })
        var db = 0
        var assembler = RDBKeyAssembler()
        var keyOffset = 0
        let lruClock = UInt32(truncatingIfNeeded: options.nowMs / 1000)

        func failure(_ reason: String, at offset: Int? = nil, key: Bytes? = nil) -> SnapshotLoadError {
            SnapshotLoadError(offset: offset ?? reader.offset, container: input.format ?? .none, compressedOffset: nil,
                              key: key, reason: reason)
        }

        do {
            loop: while true {
                let recordStart = reader.offset
                guard let event = try reader.next() else { break }
                switch event {
                case .header(let version):
                    result.rdbVersion = version
                    result.format = input.format ?? .none
                case .aux(let k, let v):
                    result.aux.append((k.debugText, v))
                case .selectDB(let n):
                    guard n < result.databases.count else {
                        throw failure("the file selects database \(n), but this server has \(result.databases.count) databases (raise 'databases')")
                    }
                    db = n
                case .function:
                    throw failure("the file contains function libraries, which this version of Cairn cannot load")
                case .moduleAux(_, let name, _):
                    throw failure("the file contains data of module '\(name)', which Cairn cannot load")
                case .resizeDB(let dbSize, let expiresSize):
                    // Size the tables once from the file's hint instead of growing through
                    // ~20 incremental rehashes (capped: the hint comes from the file).
                    result.databases[db].reserve(keys: Int(min(dbSize, 1 << 30)), expires: Int(min(expiresSize, 1 << 30)))
                case .keyBegin:
                    keyOffset = recordStart   // the key's record, its expiry prefix included
                case .end:
                    break loop
                default:
                    break
                }
                guard let rdbValue = assembler.feed(event), let key = assembler.key else { continue }
                let expireAt = assembler.expireAtMs
                if options.dropExpired, let t = expireAt, t <= options.nowMs {
                    result.keysExpired += 1
                    continue
                }
                let target = result.databases[db]
                guard target.find(key) == nil else {
                    throw failure("duplicate key in database \(db)", at: keyOffset, key: key)
                }
                let value: Value
                do {
                    value = try ValueCodec.value(from: rdbValue, for: engine)
                } catch let e as ValueCodec.UnsupportedValue {
                    throw failure(e.description, at: keyOffset, key: key)
                }
                let entry = KeyEntry.make(key: key, value: value, expireAtMs: expireAt ?? KeyEntry.noExpiry, clock: lruClock)
                if let idle = assembler.idle {
                    entry.accessClock = UInt32(truncatingIfNeeded: max(0, Int64(lruClock) - Int64(clamping: idle)))
                }
                target.add(entry)
                result.keysLoaded += 1
            }
            result.rdbBytes = reader.offset
            let extra = try input.finishContainer()
            if extra > 0 {
                throw failure("\(extra) bytes after the end of the RDB stream inside the \(input.format.map { "\($0)" } ?? "") container", at: reader.offset)
            }
        } catch let e as SnapshotLoadError {
            throw e
        } catch let e as RDBError {
            throw SnapshotLoadError(offset: e.offset, container: input.format ?? .none, compressedOffset: nil,
                                    key: e.key, reason: e.reason)
        } catch let e as CompressionError {
            let name = input.format.map { "\($0)" } ?? "unknown"
            throw SnapshotLoadError(offset: reader.offset, container: input.format ?? .none,
                                    compressedOffset: input.format == nil ? 0 : e.offset,
                                    key: nil, reason: "\(name) container: \(e.message)")
        }
        return result
    }
}
