// SnapshotLoader: reads a snapshot (plain RDB, or RDB inside an LZ4 frame / zlib / gzip
// stream, detected by magic) into fresh databases beside the live ones. The caller swaps them
// in with `Engine.replaceDatabases` only when the whole file loaded: a snapshot is never
// half-applied.
//
// A start-up load runs on four threads (`pipelined`, the default), each stage in file order:
//
//   prefetch thread   file ──▶ SnapshotInput: read 64 KiB, take the container off, CRC64
//                        │  chunks (a bounded queue; each is one decompressor step)
//   parsing thread       ▼  SnapshotDecoder: RDBReader ──readValue(into:)──▶
//                           SnapshotElementRecorder: each key's elements flat in the batch's
//                           arena, duplicates refused; expired keys dropped
//                        │  batches of up to 512 keys (a bounded queue)
//   calling thread       ▼  SnapshotBuildStage: elements replayed into SnapshotValueBuilder,
//                           KeyEntries and TTL nodes made (every allocation of the load)
//                        │  the same batches (a bounded queue)
//   inserting thread     ▼  SnapshotInserter: one hash per key, duplicate check, links; the
//                           emptied batch goes back to the parsing thread
//
// The calling thread is the process's main thread at start-up: its allocator arena grows with
// brk, 128 KiB at a time, where a new thread's arena grows by an mprotect call per page. So
// the stage that allocates runs there, and the others allocate nothing after their first
// batches (their buffers and batches are reused). With `pipelined` false the three stages
// after the file alternate on the calling thread, batch by batch: same results, same errors.
//
// Load policy (Redis's rdbLoad):
//   - a primary drops keys that have already expired (`dropExpired`); a replica or an AOF
//     base load keeps them, because its primary or its log decides;
//   - a key twice in one database, a database number at or above `databases`, function
//     libraries and module data (Cairn has neither yet) stop the load;
//   - every error names the byte offset in the RDB stream, the compressed offset when the
//     file is compressed, the key being read and the reason. When stages fail on different
//     threads, the error reported is the one first in the file (each stage sees every batch
//     made before an error upstream, and passes that error on after them; the parsing stage
//     sees every chunk before the container's error).
// No I/O here: the server hands in a read function over its file (through the Sys seam).

/// A snapshot's bytes as the RDB reader wants them: the container is detected from the first
/// bytes and taken off transparently.
///
/// The bytes come in chunks (one decompressor step each, or one read of a plain file). With
/// `computesChecksum` set before the first read, the RDB checksum is computed here, over each
/// chunk as it is produced, so with a prefetching thread it costs the reader's thread nothing;
/// the last chunks are kept so the reader can ask for the checksum up to its EOF opcode.
/// A chunk's buffer goes back to `spareBuffers` once the reader is past it (and the checksum
/// no longer needs it), and the next step decodes into it: the load touches a few buffers'
/// pages, not fresh ones for every chunk.
public final class SnapshotInput: RDBChecksummingSource {
    public typealias RawRead = (UnsafeMutableRawBufferPointer) throws -> Int

    /// Decompressed bytes and the checksum of the stream before them.
    struct Chunk {
        var buffer: ChunkBuffer
        var crcBefore: UInt64
        var bytes: UnsafeRawBufferPointer { buffer.bytes }
    }

    let readRaw: RawRead
    /// The container found in the first bytes (nil before the first read).
    public private(set) var format: CompressionFormat?
    var decompressor: StreamDecompressor?
    /// The chunk being handed out, where it starts in the stream and the checksum before it.
    var pending = ChunkBuffer(capacity: 16)
    var pendingPos = 0
    var pendingStart = 0
    var pendingCRC: UInt64 = 0
    /// Chunks handed out before `pending`, kept for `crc64(ofFirst:)` (checksumming only).
    var history: [(start: Int, chunk: Chunk)] = []
    var rawBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    var rawEOF = false
    /// Bytes of the file consumed so far (written by the thread that reads the file).
    public private(set) var rawOffset = 0
    /// Checksum of every chunk produced so far (by the calling thread before prefetching
    /// starts, by the prefetching thread after).
    private var producedCRC: UInt64 = 0
    /// Compute the RDB checksum here (set before the first read).
    public var computesChecksum = false
    /// Called on the thread that reads the file with the file bytes consumed so far, after
    /// each read (start-up progress for INFO).
    public var onRawProgress: ((Int) -> Void)?

    public init(read: @escaping RawRead) {
        self.readRaw = read
    }

    /// Set while a thread reads and decompresses ahead (`startPrefetching`).
    private var prefetch: LoadQueue<Chunk>?
    private var prefetchThread: LoadThread?
    /// Decompressed chunks the prefetching thread may run ahead by. A chunk of an LZ4 file
    /// Cairn wrote is usually one whole block (up to 4 MiB), so a few are plenty.
    static let chunksAhead = 4
    /// Buffers of chunks the reader is done with, for the next chunks (shared by the thread
    /// that produces chunks and the one that reads them).
    let spareBuffers = LoadPool<ChunkBuffer>()

    /// A snapshot held in memory.
    public convenience init(bytes: [UInt8]) {
        let source = RDBMemorySource(bytes)
        self.init(read: { try source.read(into: $0) })
    }

    private func fillRaw() throws -> Int {
        let n = try rawBuffer.withUnsafeMutableBytes { try readRaw($0) }
        rawOffset += n
        if n == 0 { rawEOF = true }
        onRawProgress?(rawOffset)
        return n
    }

    /// An empty buffer for the next chunk: a spare one when there is one.
    private func freshBuffer() -> ChunkBuffer {
        if let b = spareBuffers.take() {
            b.removeAll()
            return b
        }
        return ChunkBuffer()
    }

    /// A chunk of the stream, checksummed on the thread that produced it.
    private func produce(_ buffer: ChunkBuffer) -> Chunk {
        let chunk = Chunk(buffer: buffer, crcBefore: producedCRC)
        if computesChecksum { producedCRC = CRC64.update(producedCRC, buffer.bytes) }
        return chunk
    }

    /// The next chunk to hand out; the one before goes to `history` while it may still be
    /// needed: the reader asks for a checksum at most one reader buffer behind what it was
    /// handed, so chunks ending more than two buffers back are dropped.
    private func adopt(_ chunk: Chunk) {
        if computesChecksum {
            if !pending.isEmpty {
                history.append((pendingStart, Chunk(buffer: pending, crcBefore: pendingCRC)))
            }
            let handed = pendingStart + pending.count
            while let first = history.first, first.start + first.chunk.bytes.count < handed - 2 * RDBReader.bufferCapacity {
                spareBuffers.put(history.removeFirst().chunk.buffer)
            }
        } else {
            spareBuffers.put(pending)
        }
        pendingStart += pending.count
        pending = chunk.buffer
        pendingCRC = chunk.crcBefore
        pendingPos = 0
    }

    public func crc64(ofFirst count: Int) -> UInt64? {
        guard computesChecksum else { return nil }
        if count >= pendingStart && count - pendingStart <= pending.count {
            return CRC64.update(pendingCRC, UnsafeRawBufferPointer(rebasing: pending.bytes[0..<(count - pendingStart)]))
        }
        for (start, chunk) in history.reversed() where count >= start && count - start <= chunk.bytes.count {
            return CRC64.update(chunk.crcBefore, UnsafeRawBufferPointer(rebasing: chunk.bytes[0..<(count - start)]))
        }
        return nil
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
        let first = freshBuffer()
        if let d = decompressor {
            try prefix.withUnsafeBytes { try d.feed($0, appendingTo: first) }
        } else {
            prefix.withUnsafeBytes { first.append($0) }
        }
        adopt(produce(first))
    }

    /// A buffer taken for a chunk that stayed empty (kept for the next step).
    private var building: ChunkBuffer?

    /// The next chunk read from the file and decompressed on this thread; nil at the end of
    /// the file (after the container's end was checked).
    private func readChunk() throws -> Chunk? {
        while true {
            if rawEOF {
                try decompressor?.finish()   // throws "truncated ..." when the container did not end
                return nil
            }
            let n = try fillRaw()
            if n == 0 { continue }
            let out = building ?? freshBuffer()
            building = nil
            if let d = decompressor {
                try rawBuffer.withUnsafeBytes { try d.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n]), appendingTo: out) }
            } else {
                rawBuffer.withUnsafeBytes { out.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
            if !out.isEmpty { return produce(out) }
            building = out   // nothing decoded this step: the next one uses it
        }
    }

    /// From here on a thread of its own reads the file, takes the container off and (with
    /// `computesChecksum`) checksums, up to `chunksAhead` chunks ahead of `read`. Chunks and
    /// errors arrive in the order the plain path meets them (each chunk is one `feed` of the
    /// decompressor), so a load sees the same bytes and the same error at the same place. Call
    /// after the first read.
    func startPrefetching() throws {
        guard prefetch == nil, format != nil, !rawEOF else { return }
        let queue = LoadQueue<Chunk>(capacity: SnapshotInput.chunksAhead)
        prefetch = queue
        prefetchThread = try LoadThread { [self] in
            do {
                while let chunk = try readChunk() {
                    guard queue.put(chunk) else { return }
                }
                queue.finish(nil)
            } catch {
                queue.finish(error)
            }
        }
    }

    /// Stops the prefetching thread (if any) and waits for it.
    func stopPrefetching() {
        guard let queue = prefetch, let thread = prefetchThread else { return }
        queue.cancel()
        thread.join()
        prefetchThread = nil
    }

    private var prefetchDone = false

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if format == nil { try detect() }
        while pendingPos >= pending.count {
            if let queue = prefetch {
                if prefetchDone { return 0 }
                guard let chunk = try queue.take() else {
                    prefetchDone = true
                    return 0
                }
                adopt(chunk)
                continue
            }
            if rawEOF { return 0 }
            if decompressor == nil && !computesChecksum {
                // Plain RDB, nothing to checksum here: straight from the file.
                let n = try readRaw(buffer)
                rawOffset += n
                if n == 0 { rawEOF = true }
                onRawProgress?(rawOffset)
                return n
            }
            guard let chunk = try readChunk() else { return 0 }
            adopt(chunk)
        }
        let n = min(buffer.count, pending.count - pendingPos)
        buffer.baseAddress!.copyMemory(from: pending.base + pendingPos, byteCount: n)
        pendingPos += n
        return n
    }

    /// After the RDB stream ended: reads the rest of a container so its own checksum (LZ4
    /// content checksum, adler32, crc32) is verified. Returns the plain bytes found after the
    /// RDB stream (0 for a file Cairn or `lz4`/`zlib-flate` wrote).
    public func finishContainer() throws -> Int {
        guard decompressor != nil else { return 0 }
        var extra = pending.count - pendingPos
        pendingPos = pending.count
        if let queue = prefetch {
            // The thread reads to the end and checks the container's own checksum.
            while !prefetchDone, let chunk = try queue.take() {
                extra += chunk.bytes.count
                spareBuffers.put(chunk.buffer)
            }
            prefetchDone = true
            return extra
        }
        while let chunk = try readChunk() {
            extra += chunk.bytes.count
            spareBuffers.put(chunk.buffer)
        }
        return extra
    }
}

public struct SnapshotLoadOptions {
    /// Drop keys whose expiry has passed (a primary loading its own snapshot).
    public var dropExpired = true
    /// "Now" for `dropExpired`, in Unix milliseconds.
    public var nowMs: Int64
    /// Read, parse, build and insert on four threads (see the header comment); false: all on
    /// the calling thread, batch after batch.
    public var pipelined = true
    /// Progress out and cancellation in, for a load others watch (the start-up load).
    public var monitor: SnapshotLoadMonitor?
    /// key-load-delay: microseconds slept per key read (tests use it to make a load slow; a
    /// negative -N sleeps 1 µs once every N keys on average, as Redis's debugDelay does).
    public var keyLoadDelayMicros = 0

    public init(dropExpired: Bool = true, nowMs: Int64, pipelined: Bool = true, monitor: SnapshotLoadMonitor? = nil,
                keyLoadDelayMicros: Int = 0) {
        self.dropExpired = dropExpired
        self.nowMs = nowMs
        self.pipelined = pipelined
        self.monitor = monitor
        self.keyLoadDelayMicros = keyLoadDelayMicros
    }
}

/// What a load builds for: the shape of the engine's databases and how its collections are
/// encoded. Taken from the engine on the engine's thread, so a load on other threads never
/// reads the engine while it runs commands.
public struct SnapshotLoadTarget {
    public var databaseCount: Int
    public var seed: SipHashSeed
    public var limits: CollectionLimits

    public init(_ engine: Engine) {
        databaseCount = engine.databases.count
        seed = engine.seed
        limits = CollectionLimits(engine.config, seed: engine.seed)
    }
}

/// A running load's progress, and the way to stop it: shared by the load's threads and the
/// server's (INFO persistence while loading, SHUTDOWN and SIGTERM during the load).
public final class SnapshotLoadMonitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var cancelled = false
    private var keys = 0
    private var expired = 0
    private var fileBytes = 0
    private var usedMem: Int64 = 0

    public init() {
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    private func locked<R>(_ body: () -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    /// Asks the load to stop; it throws `SnapshotLoadCancelled` at its next batch.
    public func cancel() { locked { cancelled = true } }
    public var isCancelled: Bool { locked { cancelled } }

    /// Keys inserted and expired keys dropped so far, file bytes read so far, and the
    /// `used-mem` the file's header declares (0 until read).
    public var progress: (keysLoaded: Int, keysExpired: Int, fileBytesRead: Int, rdbUsedMem: Int64) {
        locked { (keys, expired, fileBytes, usedMem) }
    }

    func addKeys(_ n: Int) { locked { keys += n } }
    func setExpired(_ n: Int) { locked { expired = n } }
    func setFileBytes(_ n: Int) { locked { fileBytes = n } }
    func setUsedMem(_ n: Int64) { locked { usedMem = n } }
}

/// A load stopped through its monitor.
public struct SnapshotLoadCancelled: Error, CustomStringConvertible {
    public var description: String { "the load was stopped" }
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
    /// Keys per batch handed from the decoding half to the inserting half.
    static let batchKeys = 512
    /// Batches a stage may run ahead of the next one at most.
    static let batchesAhead = 16
    /// A batch ends early once its arena holds this many bytes of keys and elements.
    static let batchBytesMax = 2 << 20

    /// Loads a whole snapshot into new databases shaped like `engine`'s. Throws
    /// `SnapshotLoadError`; the engine is not touched either way (only its configuration is
    /// read, on the calling thread).
    public static func load(_ input: SnapshotInput, engine: Engine, options: SnapshotLoadOptions) throws -> SnapshotLoadResult {
        try load(input, target: SnapshotLoadTarget(engine), options: options)
    }

    /// Loads a whole snapshot into new databases built for `target`. Throws
    /// `SnapshotLoadError`, or `SnapshotLoadCancelled` when the monitor stopped it.
    public static func load(_ input: SnapshotInput, target: SnapshotLoadTarget, options: SnapshotLoadOptions) throws -> SnapshotLoadResult {
        // With a prefetching thread the checksum is computed there (decided before the
        // reader exists: it asks once).
        input.computesChecksum = options.pipelined
        if let monitor = options.monitor {
            input.onRawProgress = { monitor.setFileBytes($0) }
        }
        let decoder = SnapshotDecoder(input: input, limits: target.limits, databaseCount: target.databaseCount, options: options)
        // The container and the RDB header are read here, so a file that is not a snapshot at
        // all fails before any thread starts.
        try decoder.start()
        let builder = SnapshotBuildStage(limits: target.limits)
        let inserter = SnapshotInserter(databases: (0..<target.databaseCount).map { Database(id: $0, seed: target.seed) },
                                        container: decoder.container, monitor: options.monitor)
        defer { input.stopPrefetching() }
        if options.pipelined {
            try input.startPrefetching()
            try loadPipelined(decoder, builder, inserter)
        } else {
            let batch = LoadBatch()
            while true {
                let more = try decoder.decode(into: batch, maxKeys: batchKeys)
                builder.build(batch)
                try inserter.insert(batch)
                if !more { break }
            }
        }
        var result = decoder.result
        result.databases = inserter.databases
        result.keysLoaded = inserter.keysLoaded
        return result
    }

    /// Parsing and inserting on threads of their own, building here; bounded queues of
    /// batches between them (see the header comment). Whichever stage fails first stops the
    /// others: an inserting failure cancels the building stage's queue, which cancels the
    /// parsing stage's; an upstream failure reaches each stage after the batches made before
    /// it. So the error thrown is the first in file order. Both threads have ended when this
    /// returns.
    private static func loadPipelined(_ decoder: SnapshotDecoder, _ builder: SnapshotBuildStage,
                                      _ inserter: SnapshotInserter) throws {
        let parsed = LoadQueue<LoadBatch>(capacity: batchesAhead)
        let built = LoadQueue<LoadBatch>(capacity: batchesAhead)
        // Emptied batches go back to the parsing stage: their memory is reused, not touched
        // anew for every batch.
        let emptied = LoadPool<LoadBatch>()
        let insertFailure = LoadResultBox()
        let parser = try LoadThread {
            do {
                var more = true
                while more {
                    let batch = emptied.take() ?? LoadBatch()
                    more = try decoder.decode(into: batch, maxKeys: batchKeys)
                    guard parsed.put(batch) else { return }   // a later stage failed
                }
                parsed.finish(nil)
            } catch {
                parsed.finish(error)
            }
        }
        let inserting: LoadThread
        do {
            inserting = try LoadThread {
                do {
                    while let batch = try built.take() {
                        try inserter.insert(batch)
                        emptied.put(batch)
                    }
                } catch {
                    insertFailure.error = error
                    built.cancel()
                }
            }
        } catch {
            parsed.cancel()
            parser.join()
            throw error
        }
        do {
            while let batch = try parsed.take() {
                builder.build(batch)
                guard built.put(batch) else { break }   // the inserting stage failed
            }
            built.finish(nil)
        } catch {
            built.finish(error)   // the parsing stage's, after every batch it made
        }
        parsed.cancel()
        parser.join()
        inserting.join()
        if let e = insertFailure.error { throw e }
    }
}

/// An error handed from the inserting thread to the caller (read after the join).
final class LoadResultBox: @unchecked Sendable {
    var error: Error?
}

/// What the decoding half hands the inserting half, in file order: a key, or a change of
/// database or table size. A struct rather than an enum with payloads so the inserting half
/// can move an entry out in place (a pattern match would copy it, and with it take a
/// reference on an object the other thread made).
struct LoadItem {
    enum Kind: UInt8 {
        /// A key parsed, its elements recorded in the batch's arena: the building stage makes
        /// it a `.key`.
        case record
        /// A key: `entry` (and `volatileNode` when it has a TTL) made whole, its bytes also in
        /// the batch's arena.
        case key
        case selectDB
        /// Pre-size the current database's tables (RESIZEDB).
        case reserve
        /// A key the engine cannot hold: refused once the inserting half has checked it is
        /// not a duplicate, as the file's order of checks has it.
        case refused
    }
    var kind: Kind
    /// Keys: where the key's bytes are in the arena (hashed there, so the inserting half
    /// reads no entry before it links it).
    var keyAt = 0
    var keyCount = 0
    /// `.record`: the value's kind, the count its encoding declared (-1: none), its elements
    /// in the arena, its TTL and access clock.
    var valueKind = RDBValueKind.string
    var countHint = -1
    var elementsAt = 0
    var elementsEnd = 0
    var expireAtMs = KeyEntry.noExpiry
    var accessClock: UInt32 = 0
    /// `.key`: the key, its value, TTL and access clock.
    var entry: KeyEntry? = nil
    /// `.key` with a TTL: its node in the TTL table.
    var volatileNode: VolatileNode? = nil
    /// Keys: the hash (filled in by the inserting half's `warm`).
    var hash: UInt64 = 0
    /// The key's record start in the RDB stream (for its errors).
    var offset = 0
    /// `.selectDB`: the database; `.reserve`: the key count.
    var number = 0
    var expiresHint = 0
    /// `.refused`: why.
    var refusal: LoadRefusal? = nil

    static func selectDB(_ n: Int) -> LoadItem { LoadItem(kind: .selectDB, number: n) }
    static func reserve(keys: Int, expires: Int) -> LoadItem { LoadItem(kind: .reserve, number: keys, expiresHint: expires) }
}

/// One batch: its items, and its arena with their keys and recorded elements. A class,
/// handed between the threads by reference and reused.
final class LoadBatch {
    var items: [LoadItem] = []
    var arena = ByteArena()

    init() {
        items.reserveCapacity(SnapshotLoader.batchKeys + 4)
    }

    deinit {
        arena.free()
    }

    func bytes(at: Int, count: Int) -> UnsafeRawBufferPointer {
        arena.bytes(at: at, count: count)
    }

    func removeAll() {
        items.removeAll(keepingCapacity: true)
        arena.truncate(to: 0)
    }
}

/// Emptied batches on their way back to the decoding half, or spent chunk buffers on their
/// way back to the thread that decompresses.
final class LoadPool<Element: AnyObject>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var batches: [Element] = []

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func put(_ batch: Element) {
        pthread_mutex_lock(mutex)
        batches.append(batch)
        pthread_mutex_unlock(mutex)
    }

    func take() -> Element? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return batches.popLast()
    }
}

final class LoadRefusal {
    let reason: String
    init(reason: String) {
        self.reason = reason
    }
}

// MARK: - decoding half

/// File → batches of parsed keys: the container, the RDB reader, each key's elements
/// recorded (SnapshotElementRecorder), expired keys dropped. Touches no Database and no Engine.
final class SnapshotDecoder {
    let input: SnapshotInput
    let reader: RDBReader
    let limits: CollectionLimits
    let databaseCount: Int
    let options: SnapshotLoadOptions
    let lruClock: UInt32
    let recorder: SnapshotElementRecorder
    /// Everything but the databases and keysLoaded (the inserting half's).
    var result = SnapshotLoadResult(databases: [])
    private var db = 0
    private var done = false

    init(input: SnapshotInput, limits: CollectionLimits, databaseCount: Int, options: SnapshotLoadOptions) {
        self.input = input
        self.reader = RDBReader(source: input, verifyChecksum: true)
        self.limits = limits
        self.databaseCount = databaseCount
        self.options = options
        self.lruClock = UInt32(truncatingIfNeeded: options.nowMs / 1000)
        self.recorder = SnapshotElementRecorder(limits: limits)
    }

    var container: CompressionFormat { input.format ?? .none }

    func failure(_ reason: String, at offset: Int? = nil, key: Bytes? = nil) -> SnapshotLoadError {
        SnapshotLoadError(offset: offset ?? reader.offset, container: container, compressedOffset: nil,
                          key: key, reason: reason)
    }

    /// Turns the reader's and the container's errors into located SnapshotLoadErrors.
    private func located<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let e as SnapshotLoadError {
            throw e
        } catch let e as RDBError {
            throw SnapshotLoadError(offset: e.offset, container: container, compressedOffset: nil,
                                    key: e.key, reason: e.reason)
        } catch let e as CompressionError {
            let name = input.format.map { "\($0)" } ?? "unknown"
            throw SnapshotLoadError(offset: reader.offset, container: container,
                                    compressedOffset: input.format == nil ? 0 : e.offset,
                                    key: nil, reason: "\(name) container: \(e.message)")
        }
    }

    /// Reads up to and including the RDB header.
    func start() throws {
        try located {
            guard let event = try reader.next(), case .header(let version) = event else {
                throw failure("no RDB header")   // unreachable: the reader throws first
            }
            result.rdbVersion = version
            result.format = container
        }
    }

    /// Decodes records into `batch` until it holds `maxKeys` keys or the stream ends (then
    /// the container is checked to its end too). Returns false once everything is read.
    func decode(into batch: LoadBatch, maxKeys: Int) throws -> Bool {
        if done { return false }
        if let m = options.monitor {
            if m.isCancelled { throw SnapshotLoadCancelled() }
            m.setExpired(result.keysExpired)
        }
        // The batch's arena is the recorder's while the batch is filled.
        swap(&recorder.arena, &batch.arena)
        defer { swap(&recorder.arena, &batch.arena) }
        return try located {
            var keys = 0
            while keys < maxKeys && recorder.arena.count < SnapshotLoader.batchBytesMax {
                let recordStart = reader.offset
                guard let event = try reader.next() else { break }
                switch event {
                case .keyBegin:
                    if try decodeKey(reader.key!, expireAt: reader.keyExpireAtMs, idle: reader.keyIdle, event: event,
                                     offset: recordStart, into: batch) {
                        keys += 1
                    }
                    if options.keyLoadDelayMicros != 0 { try keyLoadDelay() }
                case .header(let version):
                    result.rdbVersion = version
                case .aux(let k, let v):
                    let name = k.debugText
                    result.aux.append((name, v))
                    if name == "used-mem", let m = options.monitor, let n = Int64(v.debugText) { m.setUsedMem(n) }
                case .selectDB(let n):
                    guard n < databaseCount else {
                        throw failure("the file selects database \(n), but this server has \(databaseCount) databases (raise 'databases')")
                    }
                    db = n
                    batch.items.append(.selectDB(n))
                case .function:
                    throw failure("the file contains function libraries, which this version of Cairn cannot load")
                case .moduleAux(_, let name, _):
                    throw failure("the file contains data of module '\(name)', which Cairn cannot load")
                case .resizeDB(let dbSize, let expiresSize):
                    // Size the tables once from the file's hint instead of growing through
                    // ~20 incremental rehashes (capped: the hint comes from the file).
                    batch.items.append(.reserve(keys: Int(min(dbSize, 1 << 30)), expires: Int(min(expiresSize, 1 << 30))))
                case .end:
                    result.rdbBytes = reader.offset
                    let extra = try input.finishContainer()
                    if extra > 0 {
                        throw failure("\(extra) bytes after the end of the RDB stream inside the \(input.format.map { "\($0)" } ?? "") container", at: reader.offset)
                    }
                    done = true
                    return false
                default:
                    break
                }
            }
            return true
        }
    }

    /// key-load-delay, with a cancellation check per key (a slow load still stops at once).
    private func keyLoadDelay() throws {
        var micros = options.keyLoadDelayMicros
        if micros < 0 { micros = Int.random(in: 0..<(micros == Int.min ? Int.max : -micros)) == 0 ? 1 : 0 }
        if micros > 0 { usleep(UInt32(clamping: micros)) }
        if let m = options.monitor, m.isCancelled { throw SnapshotLoadCancelled() }
    }

    /// One key, read right after its `.keyBegin`, into the batch; false when it has expired.
    private func decodeKey(_ key: Bytes, expireAt: Int64?, idle: UInt64?, event: RDBEvent, offset: Int,
                           into batch: LoadBatch) throws -> Bool {
        let keyAt = key.withUnsafeBytes { recorder.arena.append($0) }
        var streamValue: Value? = nil
        var refusal: String? = nil
        let recorded = try reader.readValue(into: recorder)
        if recorded {
            refusal = recorder.unsupported?.description
        } else {
            // Streams: the event path, and ValueCodec says whether the engine holds it.
            var assembler = RDBKeyAssembler()
            _ = assembler.feed(event)
            var rdbValue: RDBValue? = nil
            while rdbValue == nil {
                guard let e = try reader.next() else { throw failure("unexpected end of the RDB stream inside a value") }
                rdbValue = assembler.feed(e)
            }
            do {
                streamValue = try ValueCodec.value(from: rdbValue!, limits: limits)
            } catch let e as ValueCodec.UnsupportedValue {
                refusal = e.description
            }
        }
        if options.dropExpired, let t = expireAt, t <= options.nowMs {
            result.keysExpired += 1
            recorder.arena.truncate(to: keyAt)
            return false
        }
        var clock = lruClock
        if let idle {
            clock = UInt32(truncatingIfNeeded: max(0, Int64(lruClock) - Int64(clamping: idle)))
        }
        let expireAtMs = expireAt ?? KeyEntry.noExpiry
        if let refusal {
            recorder.arena.truncate(to: keyAt + key.count)
            batch.items.append(LoadItem(kind: .refused, keyAt: keyAt, keyCount: key.count, offset: offset,
                                        refusal: LoadRefusal(reason: refusal)))
        } else if recorded, recorder.direct == nil {
            batch.items.append(LoadItem(kind: .record, keyAt: keyAt, keyCount: key.count, valueKind: recorder.kind,
                                        countHint: recorder.countHint ?? -1, elementsAt: recorder.elementsAt,
                                        elementsEnd: recorder.arena.count, expireAtMs: expireAtMs, accessClock: clock,
                                        offset: offset))
        } else {
            // A stream, or a value too big to record: made here (rare; these allocate on this
            // thread).
            let entry = recorded ? recorder.direct!.makeEntry(key: key, expireAtMs: expireAtMs, clock: clock)
                                 : KeyEntry.make(key: key, value: streamValue!, expireAtMs: expireAtMs, clock: clock)
            batch.items.append(LoadItem(kind: .key, keyAt: keyAt, keyCount: key.count, entry: entry,
                                        volatileNode: expireAtMs != KeyEntry.noExpiry ? VolatileNode(entry) : nil,
                                        offset: offset))
        }
        return true
    }
}

// MARK: - building stage

/// Recorded keys → KeyEntries (and TTL nodes), on the calling thread: every allocation of a
/// pipelined load happens here (see the header comment).
final class SnapshotBuildStage {
    let builder: SnapshotValueBuilder

    init(limits: CollectionLimits) {
        builder = SnapshotValueBuilder(limits: limits)
        builder.elementsAreDistinct = true
    }

    func build(_ batch: LoadBatch) {
        let arena = batch.arena
        batch.items.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count where p[i].kind == .record {
                builder.begin(kind: p[i].valueKind, countHint: p[i].countHint < 0 ? nil : p[i].countHint)
                SnapshotElementRecorder.replay(arena.bytes(at: p[i].elementsAt, count: p[i].elementsEnd - p[i].elementsAt),
                                               startingAt: p[i].elementsAt, in: arena, kind: p[i].valueKind, into: builder)
                let entry = builder.makeEntry(key: arena.bytes(at: p[i].keyAt, count: p[i].keyCount),
                                              expireAtMs: p[i].expireAtMs, clock: p[i].accessClock)
                p[i].volatileNode = p[i].expireAtMs != KeyEntry.noExpiry ? VolatileNode(entry) : nil
                p[i].entry = entry
                p[i].kind = .key
            }
        }
    }
}

// MARK: - inserting half

/// KeyEntries → the new databases, refusing a key twice in one database.
final class SnapshotInserter {
    let databases: [Database]
    /// For errors (the decoding half's `result` is its own while both run).
    let container: CompressionFormat
    let monitor: SnapshotLoadMonitor?
    private(set) var keysLoaded = 0
    private var db = 0

    init(databases: [Database], container: CompressionFormat, monitor: SnapshotLoadMonitor?) {
        self.databases = databases
        self.container = container
        self.monitor = monitor
    }

    /// Inserts a batch and empties it. Entries are moved out of it, not copied, so no
    /// reference count is touched on objects the other thread made.
    func insert(_ batch: LoadBatch) throws {
        if let m = monitor, m.isCancelled { throw SnapshotLoadCancelled() }
        let before = keysLoaded
        defer { batch.removeAll() }
        try batch.items.withUnsafeMutableBufferPointer { p in
            // The current database is a local of this closure, not a captured variable (which
            // would live in a box and be retained and released around every key's insert).
            var target = databases[db]
            warm(p, batch, target)
            for i in 0..<p.count {
                switch p[i].kind {
                case .record:
                    preconditionFailure("a recorded key reached the inserting stage unbuilt")
                case .key:
                    guard target.addIfAbsent(p[i].entry.take()!, volatileNode: p[i].volatileNode.take(), hash: p[i].hash) else {
                        throw duplicate(Bytes(batch.bytes(at: p[i].keyAt, count: p[i].keyCount)), p[i].offset)
                    }
                    keysLoaded += 1
                case .selectDB:
                    db = p[i].number
                    target = databases[db]
                case .reserve:
                    target.reserve(keys: p[i].number, expires: p[i].expiresHint)
                case .refused:
                    let key = Bytes(batch.bytes(at: p[i].keyAt, count: p[i].keyCount))
                    if target.find(key) != nil { throw duplicate(key, p[i].offset) }
                    throw SnapshotLoadError(offset: p[i].offset, container: container, compressedOffset: nil,
                                            key: key, reason: p[i].refusal!.reason)
                }
            }
        }
        monitor?.addKeys(keysLoaded - before)
    }

    /// Hashes the batch's keys (once: `addIfAbsent` takes the hash) and brings the buckets
    /// they fall in, and the first node of each, into the cache before the inserts: an
    /// insert walks bucket → node → node, so its cache misses come one after the other; here
    /// the loads are independent of each other and the processor overlaps them. It reads the
    /// bucket words as plain integers (no references taken), and changes nothing but timing.
    /// Every database shares the seed, so a hash holds across a SELECTDB in the batch.
    private var buckets: [(keys: Int, volatile: Int)] = []
    private var warmSink = 0
    private func warm(_ items: UnsafeMutableBufferPointer<LoadItem>, _ batch: LoadBatch, _ target: Database) {
        let keys = target.keys, volatile = target.volatile
        let prefetch = !keys.isRehashing && !volatile.isRehashing && keys.count > 0
        let keysMask = keys.t0.mask, volatileMask = volatile.t0.mask
        buckets.removeAll(keepingCapacity: true)
        for i in 0..<items.count {
            guard items[i].kind == .key else { continue }   // (every .record is built by now)
            let h = keys.hash(batch.bytes(at: items[i].keyAt, count: items[i].keyCount))
            items[i].hash = h
            if prefetch {
                let hi = Int(truncatingIfNeeded: h)
                buckets.append((hi & keysMask, items[i].volatileNode != nil ? hi & volatileMask : -1))
            }
        }
        guard prefetch else { return }
        var touched = 0
        keys.t0.buckets.withUnsafeBufferPointer { kb in
            volatile.t0.buckets.withUnsafeBufferPointer { vb in
                let keyWords = UnsafeRawBufferPointer(kb), volatileWords = UnsafeRawBufferPointer(vb)
                for (k, v) in buckets {
                    touched &+= Int(bitPattern: keyWords.load(fromByteOffset: k &* 8, as: UInt.self))
                    if v >= 0 { touched &+= Int(bitPattern: volatileWords.load(fromByteOffset: v &* 8, as: UInt.self)) }
                }
                for (k, _) in buckets {
                    let head = keyWords.load(fromByteOffset: k &* 8, as: UInt.self)
                    if let node = UnsafeRawPointer(bitPattern: head) {
                        // The entry's chain link, key length and first key bytes (the object
                        // header is 16 bytes, then KeyEntryHeader; `addIfAbsent` compares them).
                        touched &+= Int(node.load(fromByteOffset: 16, as: UInt8.self))
                        touched &+= Int(node.load(fromByteOffset: 60, as: UInt8.self))
                    }
                }
            }
        }
        warmSink &+= touched
    }

    private func duplicate(_ key: Bytes, _ offset: Int) -> SnapshotLoadError {
        SnapshotLoadError(offset: offset, container: container, compressedOffset: nil,
                          key: key, reason: "duplicate key in database \(db)")
    }
}

// MARK: - threads

/// A bounded FIFO of batches between two stages (pthread mutex and conditions: no Foundation
/// in the engine).
///
/// Each side sleeps in batches, not element by element: a consumer that found the queue empty
/// is woken once `wakeConsumerAt` elements are in (or at the end), a producer that found it
/// full once it has drained to half. With one element per wake-up, a fast stage behind a slow
/// one slept and woke for every batch (about 5,000 context switches in a 1M-key load).
final class LoadQueue<Element>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let notEmpty = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let notFull = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Taken elements are moved out (set to nil), never copied: a copy of a batch would
    /// retain every object in it from this thread.
    private var batches: [Element?] = []
    private var head = 0
    private var finished = false
    private var failure: Error?
    private var cancelled = false
    private var consumerWaiting = false
    private var producerWaiting = false
    let capacity: Int
    /// Elements queued before a waiting consumer is woken.
    let wakeConsumerAt: Int

    init(capacity: Int) {
        self.capacity = capacity
        wakeConsumerAt = max(1, capacity / 4)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(notEmpty, nil)
        pthread_cond_init(notFull, nil)
    }

    deinit {
        pthread_cond_destroy(notEmpty)
        pthread_cond_destroy(notFull)
        pthread_mutex_destroy(mutex)
        notEmpty.deallocate()
        notFull.deallocate()
        mutex.deallocate()
    }

    private var queued: Int { batches.count - head }

    /// Producing side: waits while the queue is full; false once the consuming side cancelled.
    func put(_ batch: Element) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while queued >= capacity && !cancelled {
            producerWaiting = true
            pthread_cond_wait(notFull, mutex)
        }
        producerWaiting = false
        if cancelled { return false }
        batches.append(batch)
        if consumerWaiting && queued >= wakeConsumerAt { pthread_cond_signal(notEmpty) }
        return true
    }

    /// Producing side: no more batches (`error`: it failed).
    func finish(_ error: Error?) {
        pthread_mutex_lock(mutex)
        finished = true
        failure = error
        pthread_cond_broadcast(notEmpty)
        pthread_mutex_unlock(mutex)
    }

    /// Consuming side: the next batch; nil after the last; the producing side's error after
    /// every batch made before it.
    func take() throws -> Element? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if queued == 0 && !finished {
            // Empty: sleep until a few are in, so the next wake-up serves several.
            while queued < wakeConsumerAt && !finished {
                consumerWaiting = true
                pthread_cond_wait(notEmpty, mutex)
            }
            consumerWaiting = false
        }
        if head < batches.count {
            let b = batches[head].take()!
            head += 1
            if head == batches.count || head >= 64 {
                batches.removeFirst(head)
                head = 0
            }
            if producerWaiting && queued <= capacity / 2 { pthread_cond_signal(notFull) }
            return b
        }
        if let failure { throw failure }
        return nil
    }

    /// Consuming side: stop the producing side (its next put returns false).
    func cancel() {
        pthread_mutex_lock(mutex)
        cancelled = true
        batches.removeAll()
        head = 0
        pthread_cond_broadcast(notFull)
        pthread_cond_broadcast(notEmpty)
        pthread_mutex_unlock(mutex)
    }
}

/// A joinable thread running one closure.
final class LoadThread {
    private var thread = pthread_t()

    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    init(_ body: @escaping () -> Void) throws {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(&thread, nil, { arg in
            let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            throw SnapshotLoadError(offset: 0, container: .none, compressedOffset: nil, key: nil,
                                    reason: "cannot start the loading thread (error \(rc))")
        }
    }

    func join() {
        pthread_join(thread, nil)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
