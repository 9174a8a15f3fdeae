// SnapshotLoader: reads a snapshot (plain RDB, or RDB inside an LZ4 frame / zlib / gzip
// stream, detected by magic) into fresh databases beside the live ones. The caller swaps them
// in with `Engine.replaceDatabases` only when the whole file loaded: a snapshot is never
// half-applied.
//
// A start-up load runs on three threads (`pipelined`, the default), each stage in file order:
//
//   prefetch thread   file ──▶ SnapshotInput: read 64 KiB, take the container off
//                        │  chunks (a bounded queue; each is one decompressor step)
//   calling thread       ▼  SnapshotDecoder: RDBReader ──readValue(into:)──▶
//                           SnapshotValueBuilder (values straight from the file's elements,
//                           no per-element event or lookup), expired keys dropped
//                        │  batches of 512 (key, value, TTL) (a bounded queue)
//   inserting thread     ▼  SnapshotInserter: KeyEntry, duplicate check, table inserts
//
// The decoding stage allocates most, so it stays on the calling thread (whose allocator arena
// grows cheaply); the inserting stage makes the KeyEntries, so the memory the table's chains
// walk is written by the thread that walks it. With `pipelined` false the decoding and
// inserting stages alternate on the calling thread, batch by batch: same results, same errors.
//
// Load policy (Redis's rdbLoad):
//   - a primary drops keys that have already expired (`dropExpired`); a replica or an AOF
//     base load keeps them, because its primary or its log decides;
//   - a key twice in one database, a database number at or above `databases`, function
//     libraries and module data (Cairn has neither yet) stop the load;
//   - every error names the byte offset in the RDB stream, the compressed offset when the
//     file is compressed, the key being read and the reason. When stages fail on different
//     threads, the error reported is the one first in the file (the inserting stage sees every
//     batch decoded before the decoding stage's error; the decoding stage sees every chunk
//     before the container's).
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

    /// Set while a thread reads and decompresses ahead (`startPrefetching`).
    private var prefetch: LoadQueue<[UInt8]>?
    private var prefetchThread: LoadThread?
    /// Decompressed chunks the prefetching thread may run ahead by.
    static let chunksAhead = 16

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

    /// From here on a thread of its own reads the file and takes the container off, up to
    /// `chunksAhead` chunks ahead of `read`. Chunks and errors arrive in the order the plain
    /// path meets them (each chunk is one `feed` of the decompressor), so a load sees the same
    /// bytes and the same error at the same place. Call after the first read.
    func startPrefetching() throws {
        guard prefetch == nil, format != nil, !rawEOF else { return }
        let queue = LoadQueue<[UInt8]>(capacity: SnapshotInput.chunksAhead)
        prefetch = queue
        prefetchThread = try LoadThread { [self] in
            do {
                while true {
                    let n = try fillRaw()
                    if n == 0 {
                        try decompressor?.finish()
                        break
                    }
                    let out: [UInt8]
                    if let d = decompressor {
                        out = try rawBuffer.withUnsafeBytes { try d.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                    } else {
                        out = Array(rawBuffer[0..<n])
                    }
                    if !out.isEmpty { guard queue.put(out) else { return } }
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
        if let queue = prefetch {
            while pendingPos >= pending.count {
                if prefetchDone { return 0 }
                guard let chunk = try queue.take() else {
                    prefetchDone = true
                    return 0
                }
                pending = chunk
                pendingPos = 0
            }
        }
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
        if let queue = prefetch {
            // The thread reads to the end and checks the container's own checksum.
            while !prefetchDone, let chunk = try queue.take() {
                extra += chunk.count
            }
            prefetchDone = true
            return extra
        }
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
    /// Decode on a second thread while the calling thread inserts (see the header comment);
    /// false: both halves on the calling thread, batch after batch.
    public var pipelined = true

    public init(dropExpired: Bool = true, nowMs: Int64, pipelined: Bool = true) {
        self.dropExpired = dropExpired
        self.nowMs = nowMs
        self.pipelined = pipelined
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
    /// Keys per batch handed from the decoding half to the inserting half.
    static let batchKeys = 512
    /// Batches decoded ahead of the inserting half at most.
    static let batchesAhead = 32

    /// Loads a whole snapshot into new databases shaped like `engine`'s. Throws
    /// `SnapshotLoadError`; the engine is not touched either way (only its configuration is
    /// read, on the calling thread).
    public static func load(_ input: SnapshotInput, engine: Engine, options: SnapshotLoadOptions) throws -> SnapshotLoadResult {
        let decoder = SnapshotDecoder(input: input, limits: CollectionLimits(engine.config, seed: engine.seed),
                                      databaseCount: engine.databases.count, options: options)
        // The container and the RDB header are read here, so a file that is not a snapshot at
        // all fails before any thread starts.
        try decoder.start()
        let inserter = SnapshotInserter(databases: (0..<engine.databases.count).map { Database(id: $0, seed: engine.seed) },
                                        container: decoder.container)
        defer { input.stopPrefetching() }
        if options.pipelined {
            try input.startPrefetching()
            try loadPipelined(decoder, inserter)
        } else {
            var batch: [LoadItem] = []
            while true {
                let more = try decoder.decode(into: &batch, maxKeys: batchKeys)
                try inserter.insert(&batch)
                if !more { break }
            }
        }
        var result = decoder.result
        result.databases = inserter.databases
        result.keysLoaded = inserter.keysLoaded
        return result
    }

    /// The inserting half on its own thread, the decoding half here; a bounded queue of
    /// batches between them. (This way round the decoding half, which allocates most, uses
    /// the calling thread's allocator arena; a new thread's arena grows a page at a time.)
    /// Whichever half fails first stops the other; the error reported is the first in file
    /// order, since the inserting half sees every batch decoded before a decoding error. The
    /// inserting thread has always ended when this returns.
    private static func loadPipelined(_ decoder: SnapshotDecoder, _ inserter: SnapshotInserter) throws {
        let queue = LoadQueue<[LoadItem]>(capacity: batchesAhead)
        let insertFailure = LoadResultBox()
        let thread = try LoadThread {
            do {
                while var batch = try queue.take() {
                    try inserter.insert(&batch)
                }
            } catch {
                insertFailure.error = error
                queue.cancel()
            }
        }
        var decodeFailure: Error?
        do {
            var more = true
            while more {
                var batch: [LoadItem] = []
                batch.reserveCapacity(batchKeys + 4)
                more = try decoder.decode(into: &batch, maxKeys: batchKeys)
                guard queue.put(batch) else { break }   // the inserting half failed
            }
            queue.finish(nil)
        } catch {
            decodeFailure = error
            queue.finish(error)
        }
        thread.join()
        if let e = insertFailure.error ?? decodeFailure { throw e }
    }
}

/// An error handed from the inserting thread to the caller (read after the join).
final class LoadResultBox: @unchecked Sendable {
    var error: Error?
}

/// What the decoding half hands the inserting half, in file order: a key, or a change of
/// database or table size. A struct rather than an enum with payloads so the inserting half
/// can read one field of an item in place (a pattern match would copy the payload, and with
/// it take a reference on a value the other thread made).
struct LoadItem {
    enum Kind: UInt8 {
        /// A key ready to insert. The inserting half makes the KeyEntry: memory it writes
        /// stays in its own cache, where the table's chains will look at it.
        case key
        /// `number` is the database.
        case selectDB
        /// `number` keys, `expiresHint` expires.
        case reserve
        /// A key the engine cannot hold (`reason`): refused once the inserting half has
        /// checked it is not a duplicate, as the file's order of checks has it.
        case refused
    }
    var kind: Kind
    var key = Bytes()
    var value: Value? = nil
    var expireAtMs = KeyEntry.noExpiry
    var accessClock: UInt32 = 0
    /// The key's record start in the RDB stream (for its errors).
    var offset = 0
    var number = 0
    var expiresHint = 0
    var reason = ""

    static func selectDB(_ n: Int) -> LoadItem { LoadItem(kind: .selectDB, number: n) }
    static func reserve(keys: Int, expires: Int) -> LoadItem { LoadItem(kind: .reserve, number: keys, expiresHint: expires) }
}

// MARK: - decoding half

/// File → KeyEntries: the container, the RDB reader, values built by SnapshotValueBuilder,
/// expired keys dropped. Touches no Database and no Engine.
final class SnapshotDecoder {
    let input: SnapshotInput
    let reader: RDBReader
    let limits: CollectionLimits
    let databaseCount: Int
    let options: SnapshotLoadOptions
    let lruClock: UInt32
    let builder: SnapshotValueBuilder
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
        self.builder = SnapshotValueBuilder(limits: limits)
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
    func decode(into batch: inout [LoadItem], maxKeys: Int) throws -> Bool {
        if done { return false }
        return try located {
            var keys = 0
            while keys < maxKeys {
                let recordStart = reader.offset
                guard let event = try reader.next() else { break }
                switch event {
                case .keyBegin(let key, _, _, let expireAt, let idle, _):
                    guard let item = try decodeKey(key, expireAt: expireAt, idle: idle, event: event, offset: recordStart) else {
                        continue
                    }
                    batch.append(item)
                    keys += 1
                case .header(let version):
                    result.rdbVersion = version
                case .aux(let k, let v):
                    result.aux.append((k.debugText, v))
                case .selectDB(let n):
                    guard n < databaseCount else {
                        throw failure("the file selects database \(n), but this server has \(databaseCount) databases (raise 'databases')")
                    }
                    db = n
                    batch.append(.selectDB(n))
                case .function:
                    throw failure("the file contains function libraries, which this version of Cairn cannot load")
                case .moduleAux(_, let name, _):
                    throw failure("the file contains data of module '\(name)', which Cairn cannot load")
                case .resizeDB(let dbSize, let expiresSize):
                    // Size the tables once from the file's hint instead of growing through
                    // ~20 incremental rehashes (capped: the hint comes from the file).
                    batch.append(.reserve(keys: Int(min(dbSize, 1 << 30)), expires: Int(min(expiresSize, 1 << 30))))
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

    /// One key's value, read right after its `.keyBegin`; nil when it has expired.
    private func decodeKey(_ key: Bytes, expireAt: Int64?, idle: UInt64?, event: RDBEvent, offset: Int) throws -> LoadItem? {
        var value: Value? = nil
        var refusal: String? = nil
        if try reader.readValue(into: builder) {
            if let u = builder.unsupported { refusal = u.description } else { value = builder.take() }
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
                value = try ValueCodec.value(from: rdbValue!, limits: limits)
            } catch let e as ValueCodec.UnsupportedValue {
                refusal = e.description
            }
        }
        if options.dropExpired, let t = expireAt, t <= options.nowMs {
            result.keysExpired += 1
            return nil
        }
        guard let value else { return LoadItem(kind: .refused, key: key, offset: offset, reason: refusal ?? "") }
        var clock = lruClock
        if let idle {
            clock = UInt32(truncatingIfNeeded: max(0, Int64(lruClock) - Int64(clamping: idle)))
        }
        return LoadItem(kind: .key, key: key, value: value, expireAtMs: expireAt ?? KeyEntry.noExpiry,
                        accessClock: clock, offset: offset)
    }
}

// MARK: - inserting half

/// KeyEntries → the new databases, refusing a key twice in one database.
final class SnapshotInserter {
    let databases: [Database]
    /// For errors (the decoding half's `result` is its own while both run).
    let container: CompressionFormat
    private(set) var keysLoaded = 0
    private var db = 0

    init(databases: [Database], container: CompressionFormat) {
        self.databases = databases
        self.container = container
    }

    /// Inserts a batch, taking its items out (`batch` is left empty). Items are moved out,
    /// not copied, so no reference count is touched on values the other thread made.
    func insert(_ batch: inout [LoadItem]) throws {
        var target = databases[db]
        defer { batch.removeAll(keepingCapacity: true) }
        try batch.withUnsafeMutableBufferPointer { p in
            warm(p, target)
            for i in 0..<p.count {
                switch p[i].kind {
                case .key:
                    let offset = p[i].offset
                    guard target.find(p[i].key) == nil else {
                        throw duplicate(p[i].key, offset)
                    }
                    // Moved out of the batch, not copied (see `warm`).
                    let value = p[i].value.take()!
                    target.add(KeyEntry.make(key: p[i].key, value: value, expireAtMs: p[i].expireAtMs, clock: p[i].accessClock))
                    keysLoaded += 1
                case .selectDB:
                    db = p[i].number
                    target = databases[db]
                case .reserve:
                    target.reserve(keys: p[i].number, expires: p[i].expiresHint)
                case .refused:
                    if target.find(p[i].key) != nil { throw duplicate(p[i].key, p[i].offset) }
                    throw SnapshotLoadError(offset: p[i].offset, container: container, compressedOffset: nil,
                                            key: p[i].key, reason: p[i].reason)
                }
            }
        }
    }

    /// Brings the buckets the batch's keys hash to, and the first node of each, into the
    /// cache before the lookups. A lookup walks bucket → node → node taking a reference at
    /// each step (a locked instruction), so its cache misses come one after the other; here
    /// the loads are independent of each other and the processor overlaps them. It reads the
    /// bucket words as plain integers (no references taken), and changes nothing but timing.
    private var hashes: [(keys: Int, volatile: Int)] = []
    private var warmSink = 0
    private func warm(_ items: UnsafeMutableBufferPointer<LoadItem>, _ target: Database) {
        let keys = target.keys, volatile = target.volatile
        guard !keys.isRehashing, !volatile.isRehashing, keys.count > 0 else { return }
        let keysMask = keys.t0.mask, volatileMask = volatile.t0.mask
        hashes.removeAll(keepingCapacity: true)
        for i in 0..<items.count where items[i].kind == .key {
            let h = Int(truncatingIfNeeded: items[i].key.withUnsafeBytes { keys.hash($0) })
            hashes.append((h & keysMask, items[i].expireAtMs != KeyEntry.noExpiry ? h & volatileMask : -1))
        }
        var touched = 0
        keys.t0.buckets.withUnsafeBufferPointer { kb in
            volatile.t0.buckets.withUnsafeBufferPointer { vb in
                let keyWords = UnsafeRawBufferPointer(kb), volatileWords = UnsafeRawBufferPointer(vb)
                for (k, v) in hashes {
                    touched &+= Int(bitPattern: keyWords.load(fromByteOffset: k &* 8, as: UInt.self))
                    if v >= 0 { touched &+= Int(bitPattern: volatileWords.load(fromByteOffset: v &* 8, as: UInt.self)) }
                }
                for (k, _) in hashes {
                    let head = keyWords.load(fromByteOffset: k &* 8, as: UInt.self)
                    if let node = UnsafeRawPointer(bitPattern: head) {
                        // The object header (reference count) and the start of its fields.
                        touched &+= Int(node.load(fromByteOffset: 8, as: UInt8.self))
                        touched &+= Int(node.load(fromByteOffset: 16, as: UInt8.self))
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

/// A bounded FIFO of batches between the two halves (pthread mutex and conditions: no
/// Foundation in the engine).
final class LoadQueue<Element>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var batches: [Element] = []
    private var head = 0
    private var finished = false
    private var failure: Error?
    private var cancelled = false
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    /// Decoding side: waits while the queue is full; false once the inserting side cancelled.
    func put(_ batch: Element) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while batches.count - head >= capacity && !cancelled { pthread_cond_wait(changed, mutex) }
        if cancelled { return false }
        batches.append(batch)
        pthread_cond_broadcast(changed)
        return true
    }

    /// Decoding side: no more batches (`error`: it failed).
    func finish(_ error: Error?) {
        pthread_mutex_lock(mutex)
        finished = true
        failure = error
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }

    /// Inserting side: the next batch; nil after the last; the decoding side's error after
    /// every batch decoded before it.
    func take() throws -> Element? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while head == batches.count && !finished { pthread_cond_wait(changed, mutex) }
        if head < batches.count {
            let b = batches[head]
            head += 1
            if head == batches.count || head >= 64 {
                batches.removeFirst(head)
                head = 0
            }
            pthread_cond_broadcast(changed)
            return b
        }
        if let failure { throw failure }
        return nil
    }

    /// Inserting side: stop the decoding side (its next put returns false).
    func cancel() {
        pthread_mutex_lock(mutex)
        cancelled = true
        batches.removeAll()
        head = 0
        pthread_cond_broadcast(changed)
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
