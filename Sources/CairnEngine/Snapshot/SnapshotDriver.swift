// SnapshotDriver: the fork-less snapshot of DESIGN.md §5.
//
// Redis forks and lets copy-on-write pages keep the past. Cairn cannot fork a multithreaded
// process, so it keeps the past itself, one hash-table bucket at a time:
//
//   1. The cut (`begin`). Record the log offset and replication id, take a fresh epoch and
//      set it as `snapshotEpoch` on the key table of every non-empty database, with a
//      `beforeBucketMutation` hook pointing here. From now on a bucket whose epoch is below
//      the snapshot's has not been saved; the table calls the hook with the bucket's chain
//      before it changes the bucket (insert, remove, rehash move, in-place value change via
//      `willMutate`) and then marks the bucket saved.
//   2. The pass (`step`, called from the engine loop a slice at a time). Walk each table
//      with its SCAN cursor and force every bucket through the same hook by calling
//      `willMutate` on its keys. The hook serializes a chain only once per epoch, so a bucket
//      a client wrote to first was already saved (early) and the pass skips it for free.
//   3. Whole-database changes (FLUSHDB/FLUSHALL, SWAPDB, a full load) go through
//      `Engine.willReplaceDatabaseContents`: the rest of that database is serialized first.
//   4. The bytes go to a `SnapshotSink` (a file writer on a background thread, later the AOF
//      base writer and replica sockets). When the sink reports it is full, the pass waits;
//      early serialization never waits, because a client's write must not.
//
// Why this is exactly the state at the cut, with no second copy of the data:
//   - a key present at the cut is serialized either by the pass (its bucket was unsaved
//     when SCAN reached it) or by the hook, before its bucket first changed; SCAN's guarantee
//     (every node present for the whole scan is returned) covers keys that rehashing moves;
//   - a key added after the cut always lands in a bucket the hook has already marked saved
//     (insert and rehash moves touch the target bucket first), so it is never serialized;
//   - each bucket is serialized at most once per epoch, and a node only ever moves into a
//     bucket that is marked saved, so no key is written twice.
//   Keys that have expired but are still in memory are written with their expiry, as Redis
//   does; loaders drop them (a primary) or keep them (a replica, an AOF base).
//
// Output: one RDB stream (RDBWriter, one CRC64) cut into chunks. Every chunk but the first
// (header + aux) and the last (EOF + checksum) starts with SELECTDB and ends at a key
// boundary, so a compression block may end after any of them and the next block still starts
// with SELECTDB: a reader can resume at any block (DESIGN.md §6). The sink decides where blocks
// end; the file writer packs consecutive chunks into blocks of up to 4 MiB.
//
//   chunk 0:  "REDIS0010" aux*                      (endsBlock)
//   chunk k:  SELECTDB n [RESIZEDB] key*            (endsBlock)   — pass or early, any db order
//   last:     EOF crc64
//
// Everything here runs on the engine loop; the sink does its own threading.

/// One piece of the RDB stream, in order.
public struct SnapshotChunk {
    public var bytes: [UInt8]
    /// The chunk ends at a key boundary (or is the header): a compression block may end after
    /// it. Chunks are cut per slice, so a sink that compresses packs several into one block.
    public var endsBlock: Bool
    /// Keys serialized in this chunk (for the sink's pacing and progress).
    public var keys: Int

    public init(bytes: [UInt8], endsBlock: Bool, keys: Int) {
        self.bytes = bytes
        self.endsBlock = endsBlock
        self.keys = keys
    }
}

/// Where a snapshot's bytes go: a file (BGSAVE/SAVE), an AOF base, a replica. Called on the
/// engine loop only; implementations hand the bytes to their own thread.
public protocol SnapshotSink: AnyObject {
    /// Whether the driver's own pass may produce more now (the sink's queue is under its bound).
    /// Early serialization ignores it: a client's write is never made to wait.
    var acceptsMore: Bool { get }
    /// True once the sink failed for good (I/O error); the driver then abandons the snapshot.
    var hasFailed: Bool { get }
    /// The next chunk of the stream. Must not block.
    func consume(_ chunk: SnapshotChunk)
    /// The stream is complete (the last chunk held EOF and the checksum).
    func finish()
    /// The snapshot was given up (shutdown, sink failure); discard what was consumed.
    func abandon()
}

public final class SnapshotDriver {
    public struct Options {
        /// RDB version written (rdb-version): 10 loads in Redis 7.0, 11 in Redis 7.2.
        public var rdbVersion = 10
        /// LZF-compress strings inside the RDB (rdbcompression lzf). Off when the whole stream
        /// goes into an LZ4/zlib container or rdbcompression is no.
        public var compressStrings = true
        /// Compute the CRC64 trailer (rdbchecksum); 0 is written when off.
        public var checksum = true
        /// The aof-base aux field: 1 when this snapshot is an AOF base.
        public var aofBase = false
        /// The redis-ver aux field.
        public var redisVersion = "7.0.15"
        /// Longest time one `step` spends serializing while clients are active.
        public var sliceMicros: Int64 = 1000
        /// Buckets an index-order pass reaches per step (tests use 1 for the most interleaving).
        public var passBucketsPerStep = 64
        /// Longest time one `step` may grow to while no command runs between slices (see
        /// `step`); never below `sliceMicros`.
        public var idleSliceMicrosMax: Int64 = 4000
        /// Most bytes one `step` produces (the slice ends after the key that crosses it).
        public var sliceBytesMax = 1 << 20
        /// A compression block ends after the key that makes it this big.
        public var blockBytesTarget = 1 << 20

        public init() {}
    }

    public enum Progress: Equatable {
        /// Did a slice; call again.
        case advanced
        /// The sink is full; nothing was produced by the pass. Call again later.
        case blocked
        /// Done (finished or abandoned); the sink has been told.
        case finished
    }

    public enum Phase: Equatable { case idle, running, finished, abandoned }

    unowned let engine: Engine
    let sink: SnapshotSink
    public let options: Options
    let writer: RDBWriter

    public private(set) var phase = Phase.idle

    // The cut.
    public private(set) var epoch: UInt32 = 0
    /// The replication log offset the snapshot is at (repl-offset).
    public private(set) var cutOffset: Int64 = 0
    public private(set) var replicationID = ""
    public private(set) var cutTimeMs: Int64 = 0
    /// engine.dirty at the cut: a successful save leaves `dirty - dirtyAtCut` changes unsaved.
    public private(set) var dirtyAtCut: Int64 = 0

    // Progress.
    public private(set) var keysTotal = 0
    public private(set) var keysSerialized = 0
    /// Bytes serialized because a write (or FLUSH/SWAPDB/load) touched an unsaved bucket.
    public private(set) var earlyBytes = 0
    public private(set) var earlyKeys = 0
    /// RDB bytes produced so far (before any container compression).
    public var bytesSerialized: Int { writer.bytesWritten }

    /// Per database index at the cut: its key table, nil when it was empty (nothing to save).
    private var tables: [HashTable<KeyEntry>?] = []
    /// Per database: its pass walks t0 in index order with rehashing paused (the table was
    /// not rehashing at the cut); `linearIndex` is the next bucket. Otherwise the pass
    /// follows a SCAN cursor, which survives resizes.
    private var linear: [Bool] = []
    private var linearIndex: [Int] = []
    private var cursors: [UInt64] = []
    private var passDone: [Bool] = []
    private var resized: [Bool] = []
    private var sizesAtCut: [(keys: Int, expires: Int)] = []
    private var passDB = 0
    /// The length of the next slice and the command count when the last one ended (pacing).
    private var currentSliceMicros: Int64 = 0
    private var commandsAfterLastSlice = -1
    private var inPass = false
    private var scanBatch: [KeyEntry] = []

    // The open compression block.
    private var blockDB = -1
    private var blockStart = 0
    private var blockKeys = 0

    private var previousReplaceHook: ((Int?) -> Void)?

    /// Epochs only grow, so a new snapshot's epoch is above every bucket's. Engine loop only.
    nonisolated(unsafe) private static var lastEpoch: UInt32 = 0

    public init(engine: Engine, sink: SnapshotSink, options: Options = Options()) {
        self.engine = engine
        self.sink = sink
        self.options = options
        self.writer = RDBWriter(version: options.rdbVersion, compressStrings: options.compressStrings,
                                checksum: options.checksum)
    }

    deinit {
        detach()
    }

    // MARK: the cut

    /// Takes the cut: from here on the snapshot is the dataset as it is now.
    public func begin() {
        precondition(phase == .idle, "a SnapshotDriver runs once")
        precondition(SnapshotDriver.lastEpoch < UInt32.max, "snapshot epochs exhausted")
        SnapshotDriver.lastEpoch += 1
        epoch = SnapshotDriver.lastEpoch
        cutTimeMs = engine.clock()
        cutOffset = engine.log.offset
        replicationID = engine.log.replicationID
        dirtyAtCut = engine.dirty

        for (i, db) in engine.databases.enumerated() {
            sizesAtCut.append((db.count, db.expiresCount))
            cursors.append(0)
            resized.append(false)
            if db.count > 0 {
                let table = db.keys
                table.snapshotEpoch = epoch
                table.beforeBucketMutation = { [unowned self] head in self.bucketWillChange(i, head) }
                tables.append(table)
                if !table.isRehashing {
                    table.rehashPaused += 1
                    linear.append(true)
                } else {
                    linear.append(false)
                }
                linearIndex.append(0)
                passDone.append(false)
                keysTotal += db.count
            } else {
                tables.append(nil)
                passDone.append(true)
                linear.append(false)
                linearIndex.append(0)
            }
        }
        previousReplaceHook = engine.willReplaceDatabaseContents
        engine.willReplaceDatabaseContents = { [unowned self] db in self.drain(db) }

        // Header and aux fields in Redis's order (rdbSaveInfoAuxFields). Cairn always has a
        // replication log, so the repl-* fields are always present: the snapshot is at an offset.
        writer.header()
        writer.aux("redis-ver", options.redisVersion)
        writer.aux("redis-bits", String(MemoryLayout<Int>.size * 8))
        writer.aux("ctime", String(cutTimeMs / 1000))
        writer.aux("used-mem", String(MemoryAccounting.allocatedBytes()))
        writer.aux("repl-stream-db", String(max(engine.log.selectedDB, 0)))
        writer.aux("repl-id", replicationID)
        writer.aux("repl-offset", String(cutOffset))
        writer.aux("aof-base", options.aofBase ? "1" : "0")
        sink.consume(SnapshotChunk(bytes: writer.takeOutput(), endsBlock: true, keys: 0))
        phase = .running
    }

    // MARK: the pass

    /// One slice of the pass: at most `sliceMicros` (or longer, below) and about
    /// `sliceBytesMax` bytes.
    ///
    /// Pacing. Between two slices the loop polls its sockets, so a client waits at most one
    /// slice. But each pause costs a wake-up, and on a busy machine a thread that slept waits
    /// for a core again: about 3,000 pauses for 1M keys at 0.5 ms. So when no command ran since
    /// the previous slice (the engine's command count did not move) the next slice is twice as
    /// long, up to `idleSliceMicrosMax`; the first command seen brings it back to `sliceMicros`.
    /// A client arriving after a quiet spell waits at most `idleSliceMicrosMax`.
    @discardableResult
    public func step() -> Progress {
        let commands = engine.stats.totalCommands
        if commands == commandsAfterLastSlice {
            currentSliceMicros = min(currentSliceMicros * 2, max(options.sliceMicros, options.idleSliceMicrosMax))
        } else {
            currentSliceMicros = options.sliceMicros
        }
        defer { commandsAfterLastSlice = engine.stats.totalCommands }
        return step(ignoringBackpressure: false)
    }

    /// Runs the pass to the end (SAVE, shutdown): nothing else runs meanwhile, so no slicing.
    public func runToCompletion() {
        while step(ignoringBackpressure: true) != .finished {}
    }

    private func step(ignoringBackpressure: Bool) -> Progress {
        switch phase {
        case .finished, .abandoned: return .finished
        case .idle: preconditionFailure("step() before begin()")
        case .running: break
        }
        if sink.hasFailed {
            abandon()
            return .finished
        }
        if !ignoringBackpressure && !sink.acceptsMore {
            closeBlock()   // early bytes since the last slice still go out
            return .blocked
        }
        let start = Engine.monotonicMicros()
        let bytesAtStart = writer.bytesWritten
        while passDB < tables.count {
            guard !passDone[passDB], let table = tables[passDB] else {
                passDB += 1
                continue
            }
            if linear[passDB] {
                if let next = linearStep(table, passDB) {
                    linearIndex[passDB] = next
                } else {
                    endLinear(passDB)
                    passDone[passDB] = true
                    passDB += 1
                }
            } else {
                cursors[passDB] = scanStep(table, cursors[passDB])
                if cursors[passDB] == 0 {
                    passDone[passDB] = true
                    passDB += 1
                }
            }
            if ignoringBackpressure { continue }
            if writer.bytesWritten - bytesAtStart >= options.sliceBytesMax
                || Engine.monotonicMicros() - start >= currentSliceMicros { break }
        }
        closeBlock()
        if passDB >= tables.count {
            complete()
            return .finished
        }
        return .advanced
    }

    /// Reaches the next `passBucketsPerStep` buckets in index order; nil when the database's
    /// pass is done.
    private func linearStep(_ table: HashTable<KeyEntry>, _ db: Int) -> Int? {
        inPass = true
        defer { inPass = false }
        return table.snapshotPass(from: linearIndex[db], buckets: max(1, options.passBucketsPerStep))
    }

    /// Lets an index-order pass's table rehash again.
    private func endLinear(_ db: Int) {
        guard linear[db], let table = tables[db] else { return }
        linear[db] = false
        table.rehashPaused -= 1
    }

    /// Visits the bucket(s) at `cursor` and saves the unsaved ones; returns the next cursor.
    ///
    /// The nodes are collected first and touched after SCAN returns: while rehashing, SCAN
    /// holds copies of the table structs, and marking a bucket inside the visit would copy the
    /// whole epoch array.
    private func scanStep(_ table: HashTable<KeyEntry>, _ cursor: UInt64) -> UInt64 {
        scanBatch.removeAll(keepingCapacity: true)
        let next = table.scan(cursor) { scanBatch.append($0) }
        inPass = true
        for e in scanBatch {
            e.withKeyBytes { table.willMutate($0) }
        }
        inPass = false
        scanBatch.removeAll(keepingCapacity: true)
        return next
    }

    /// The table's hook: `head` is an unsaved bucket's chain, about to change (or reached by
    /// the pass). Serializes it as it is now.
    private func bucketWillChange(_ db: Int, _ head: KeyEntry?) {
        // Once a database's pass is complete every key of the cut is saved, and the only
        // unsaved buckets left are empty or new; nothing to do.
        guard phase == .running, !passDone[db], var node = head else { return }
        let before = writer.bytesWritten
        openBlock(db)
        var n = 0
        while true {
            ValueCodec.write(writer, entry: node)
            n += 1
            guard let next = node.chainNext else { break }
            node = next
        }
        keysSerialized += n
        blockKeys += n
        if !inPass {
            earlyBytes += writer.bytesWritten - before
            earlyKeys += n
        }
        if writer.bytesWritten - blockStart >= options.blockBytesTarget { closeBlock() }
    }

    /// Serializes whatever is still unsaved in database `db` (all when nil) right now: its
    /// contents are about to be replaced wholesale (FLUSHDB/FLUSHALL, SWAPDB, a full load).
    public func drain(_ db: Int?) {
        guard phase == .running else { return }
        let targets = db.map { [$0] } ?? Array(tables.indices)
        for i in targets where i >= 0 && i < tables.count && !passDone[i] {
            if let table = tables[i], linear[i] {
                var next: Int? = linearIndex[i]
                while let at = next { next = table.snapshotPass(from: at, buckets: 4096) }
                endLinear(i)
            } else if let table = tables[i] {
                var cursor = cursors[i]
                repeat {
                    scanBatch.removeAll(keepingCapacity: true)
                    cursor = table.scan(cursor) { scanBatch.append($0) }
                    // Not `inPass`: the bytes are early, forced by a client's command.
                    for e in scanBatch { e.withKeyBytes { table.willMutate($0) } }
                } while cursor != 0
                scanBatch.removeAll(keepingCapacity: true)
                cursors[i] = 0
            }
            passDone[i] = true
        }
        closeBlock()
    }

    // MARK: blocks

    private func openBlock(_ db: Int) {
        if blockDB == db { return }
        closeBlock()
        blockStart = writer.bytesWritten
        writer.selectDB(db)
        if !resized[db] {
            writer.resizeDB(dbSize: UInt64(sizesAtCut[db].keys), expiresSize: UInt64(sizesAtCut[db].expires))
            resized[db] = true
        }
        blockDB = db
    }

    private func closeBlock() {
        guard blockDB >= 0 else { return }
        sink.consume(SnapshotChunk(bytes: writer.takeOutput(), endsBlock: true, keys: blockKeys))
        blockDB = -1
        blockKeys = 0
    }

    // MARK: end

    private func complete() {
        closeBlock()
        writer.end()
        sink.consume(SnapshotChunk(bytes: writer.takeOutput(), endsBlock: false, keys: 0))
        detach()
        phase = .finished
        sink.finish()
    }

    /// Gives the snapshot up: hooks removed, the sink told to discard.
    public func abandon() {
        guard phase == .running || phase == .idle else { return }
        detach()
        phase = .abandoned
        sink.abandon()
    }

    private func detach() {
        for i in linear.indices { endLinear(i) }
        for t in tables {
            guard let t else { continue }
            t.snapshotEpoch = 0
            t.beforeBucketMutation = nil
        }
        tables = []
        if phase == .running {
            engine.willReplaceDatabaseContents = previousReplaceHook
            previousReplaceHook = nil
        }
    }
}
