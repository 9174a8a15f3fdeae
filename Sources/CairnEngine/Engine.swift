// The engine: databases, the command table and the one place commands run.
//
// Everything here runs on the engine event loop, one command at a time, so nothing in the
// keyspace needs a lock. The engine does no I/O; the server around it owns sockets, files and
// threads and reaches the engine only through `execute`, the cron and the hooks below.
//
// One command's life inside `execute`:
//
//   lookup → arity → (MULTI? queue it) → handler ─┬─ reply bytes → client.reply
//                                                   └─ effects   → pendingEffects
//   end of the top-level call: effects → replication log (wrapped in MULTI/EXEC when a
//   single call produced more than one, as Redis's propagatePendingCommands does)

#if canImport(Glibc)
import Glibc
#endif

public struct EngineConfig {
    public var databases = 16
    public var protoMaxBulkLen = 512 * 1024 * 1024
    public var activeExpireEnabled = true
    public var hz = 10
    public var slowlogLogSlowerThanUs: Int64 = 10_000
    public var slowlogMaxLen = 128
    public var latencyMonitorThresholdMs: Int64 = 0
    public var lazyfreeLazyUserDel = false
    public var lazyfreeLazyUserFlush = false
    public var lazyfreeLazyExpire = false
    /// Objects bigger than this many elements/bytes are freed off the loop when lazy.
    public var lazyfreeThreshold = 64
    /// RDB version of DUMP payloads (rdb-version) and whether their strings may be
    /// LZF-compressed (rdbcompression other than no); see Snapshot/DumpRestore.swift.
    public var rdbVersion = 10
    public var rdbCompressStrings = true
    /// lazyfree-lazy-server-del: deletions the server decides (SPOP of a whole set) are
    /// propagated as UNLINK instead of DEL.
    public var lazyfreeLazyServerDel = false
    // Collection encodings (Redis 7.0's config names and defaults; see Values/*.swift).
    /// hash-max-listpack-entries / hash-max-listpack-value
    public var hashMaxListpackEntries = 512
    public var hashMaxListpackValue = 64
    /// set-max-intset-entries; set-max-listpack-entries / set-max-listpack-value (Redis 7.2)
    public var setMaxIntsetEntries = 512
    public var setMaxListpackEntries = 128
    public var setMaxListpackValue = 64
    /// zset-max-listpack-entries / zset-max-listpack-value
    public var zsetMaxListpackEntries = 128
    public var zsetMaxListpackValue = 64
    /// list-max-listpack-size: quicklist node size used when lists are written to RDB
    /// (negative: -1…-5 → 4…64 KiB per node; positive: elements per node).
    public var listMaxListpackSize = -2
    public init() {}
}

public struct EngineStats {
    public var totalCommands = 0
    public var keyspaceHits = 0
    public var keyspaceMisses = 0
    public var expiredKeys = 0
    public var expiredStalePercent = 0.0
    public var expireCycleCPUMicros: Int64 = 0
    public var totalErrorReplies = 0
    public var errorCounts: [String: Int] = [:]
    public var lazyfreedObjects = 0
    public var lazyfreePendingObjects = 0
    public var unexpectedErrorReplies = 0
    public init() {}
}

public final class Engine {
    public var config: EngineConfig
    public private(set) var databases: [Database] {
        didSet { databaseRefs = databases.map { Unmanaged.passUnretained($0) } }
    }
    /// `databases` unretained, for CommandCall.db: loading an Unmanaged from an array costs
    /// no retain. Valid while `databases` holds them (replaced only by a full load).
    @usableFromInline private(set) var databaseRefs: [Unmanaged<Database>] = []
    public let commands = CommandTable()
    public let log: ReplicationLog
    public let seed: SipHashSeed
    /// Changes since the last successful save (Redis's server.dirty).
    public var dirty: Int64 = 0
    public var stats = EngineStats()

    /// The wall clock in Unix milliseconds; tests replace it.
    public var clock: () -> Int64 {
        didSet { clockIsWall = false }
    }
    /// True while `clock` is the real wall clock: a command's `nowMs` is then derived from
    /// the monotonic read that also times it (one clock read instead of two).
    private var clockIsWall: Bool
    /// Wall clock minus monotonic clock in microseconds, re-read by cron (hz times a second),
    /// so a step of the system clock reaches `nowMs` within one cron period.
    private var wallOffsetMicros: Int64 = 0
    /// The monotonic read `execute` took, handed to the `call` it leads to as its start.
    private var commandStartMicros: Int64? = nil
    /// Times commands (Support/CommandClock.swift).
    private var commandClock = CommandClock()
    /// The time the current command started: every expiry check inside one command uses it.
    public private(set) var nowMs: Int64

    // Clients
    public private(set) var clients: [UInt64: ClientSession] = [:]
    private var nextClientID: UInt64 = 1
    private var watchers: [WatchedKey: [ClientSession]] = [:]

    // Propagation
    private var pendingEffects: [(db: Int, argv: [Bytes])] = []
    private var prefetchHashes: [Int] = []
    private var callDepth = 0

    public var slowlog = SlowLog()
    public var latency = LatencyMonitor()

    /// Frees big objects off the engine loop (set by the server; default frees inline).
    public var lazyFree: ([AnyObject]) -> Void = { _ in }
    /// Sees every executed command while a MONITOR client exists (set by the server only
    /// then, so the common path pays one nil check).
    public var monitorFeed: ((ClientSession, [Bytes]) -> Void)?
    /// True while the server refuses writes (CLIENT PAUSE WRITE): expiry is suspended.
    public var writesPaused = false
    /// Called after a blocked client was served or timed out (its reply is in `client.reply`);
    /// the server flushes it and resumes the client's held requests.
    public var onClientUnblocked: ((ClientSession) -> Void)?
    /// Whether DEBUG may run for this client (enable-debug-command); set by the server.
    public var debugAllowed: (ClientSession) -> Bool = { _ in true }
    /// DEBUG subcommands the server implements (RELOAD, ...); returns true when handled.
    public var serverDebugHandler: ((inout CommandCall, String) -> Bool)?
    /// Refuses commands before they run or are queued (MISCONF while snapshots fail); returns
    /// the error text. Set by the server only while it refuses something, so normally nil.
    public var commandGate: ((ClientSession, CommandSpec) -> String?)?
    /// Called before a database's whole contents change at once (FLUSHDB/FLUSHALL, SWAPDB, a
    /// full load), with its index or nil for all: a running snapshot saves what is left first.
    public var willReplaceDatabaseContents: ((Int?) -> Void)?
    /// True inside a command run by another (EXEC): a snapshot must not cut there.
    public var isNestedCall: Bool { callDepth > 1 }

    public var rng = SystemRandomNumberGenerator()
    private var expireCursorDB = 0
    /// Clients waiting in BLPOP & co (Commands/Blocking.swift).
    public let blocking = BlockingRegistry()

    /// `clock` replaces the wall clock (tests); nil is the real one.
    public init(config: EngineConfig = EngineConfig(), seed: SipHashSeed = .random(),
                clock: (() -> Int64)? = nil) {
        self.config = config
        self.seed = seed
        self.clock = clock ?? Engine.wallClockMs
        self.clockIsWall = clock == nil
        self.nowMs = self.clock()
        self.log = ReplicationLog()
        self.databases = (0..<max(config.databases, 1)).map { Database(id: $0, seed: seed) }
        self.databaseRefs = databases.map { Unmanaged.passUnretained($0) }
        registerBuiltinCommands()
        rebaseWallClock()
    }

    public static func wallClockMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    public static func wallClockMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    public static func monotonicMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    /// Times commands by the CPU's cycle counter (the server calls this where the counter
    /// runs at a constant rate); see Support/CommandClock.swift.
    public func enableCycleCounter() {
        commandClock.enableCycleCounter()
    }

    /// Cycle-counter ticks per microsecond, once measured (0 while commands are timed by
    /// clock_gettime): INFO's monotonic_clock.
    public var cycleCounterTicksPerMicrosecond: Int { commandClock.cyclesPerMicrosecond }

    /// Re-measures the command clock and the wall clock's offset from it.
    private func rebaseWallClock() {
        commandClock.calibrate()
        let mono = commandClock.micros()
        wallOffsetMicros = Engine.wallClockMicros() - mono
    }

    /// One monotonic read at the start of a top-level command: returned (the command's start
    /// for commandstats) and turned into the command's wall-clock `nowMs`.
    @inline(__always)
    private func readCommandClock() -> Int64 {
        let mono = commandClock.micros()
        nowMs = clockIsWall ? (mono &+ wallOffsetMicros) / 1000 : clock()
        return mono
    }

    /// Seconds-resolution clock for OBJECT IDLETIME.
    public var lruClock: UInt32 { UInt32(truncatingIfNeeded: nowMs / 1000) }

    // MARK: clients

    public func connect(nowMs: Int64? = nil) -> ClientSession {
        let c = ClientSession(id: nextClientID, nowMs: nowMs ?? clock())
        nextClientID += 1
        clients[c.id] = c
        return c
    }

    public func disconnect(_ client: ClientSession) {
        blocking.remove(client)
        blocking.pendingNotifications.removeAll { $0 === client }
        unwatchAll(client)
        client.multiQueue = []
        clients[client.id] = nil
    }

    // MARK: execution

    /// Runs one request from a client; the reply is appended to `client.reply`.
    public func execute(_ client: ClientSession, _ argv: [Bytes]) {
        guard !argv.isEmpty else { return }
        commandStartMicros = readCommandClock()
        defer { commandStartMicros = nil }
        client.lastInteractionMs = nowMs
        let replyStart = client.reply.buffer.count
        let mode = client.replyMode
        if mode == .skipNext { client.replyMode = .skipThis }

        dispatch(client, argv)

        switch mode {
        case .off, .skipNext:
            client.reply.buffer.removeSubrange(replyStart...)
            if mode == .skipNext, client.replyMode == .skipThis { client.replyMode = .on }
        default: break
        }
        if client.replyMode == .skipThis { client.replyMode = .on }
    }

    private func dispatch(_ client: ClientSession, _ argv: [Bytes]) {
        guard let spec = commands.lookup(argv[0]) else {
            var args = ""
            for a in argv.dropFirst().prefix(128) {
                args += "'\(a.debugText.prefix(128))' "
            }
            rejectCommand(client, "ERR unknown command '\(argv[0].debugText.prefix(128))', with args beginning with: \(args)")
            return
        }
        var target = spec
        if !spec.subcommands.isEmpty && argv.count >= 2 {
            if let sub = spec.subcommands[asciiLowercased(argv[1]).debugText] {
                target = sub
            } else {
                rejectCommand(client, "ERR unknown subcommand '\(argv[1].debugText.prefix(128))'. Try \(spec.name.uppercased()) HELP.")
                return
            }
        }
        guard target.acceptsArity(argv.count) else {
            target.stats.rejectedCalls += 1
            let message = target.parent != nil
                ? "ERR wrong number of arguments for '\(target.fullName)' command"
                : "ERR wrong number of arguments for '\(target.name)' command"
            if target.name == "exec" && target.parent == nil {
                // Redis's rejectCommand: a refused EXEC discards the transaction (MULTI or not).
                endMulti(client)
                let abort = "EXECABORT Transaction discarded because of: " + message.dropFirst(4)
                countError(abort)
                client.reply.error(abort)
                return
            }
            rejectCommand(client, message)
            return
        }
        // Key lengths are stored in 32 bits (KeyEntry). Only a proto-max-bulk-len raised past
        // 4 GiB lets a longer argument in; then any such argument is refused up front.
        if config.protoMaxBulkLen > Int(UInt32.max), argv.contains(where: { $0.count > Int(UInt32.max) }) {
            rejectCommand(client, "ERR argument longer than 4 GiB; Cairn keys are limited to 4 GiB")
            return
        }
        if let gate = commandGate, let refusal = gate(client, target) {
            target.stats.rejectedCalls += 1
            if target.name == "exec" && target.parent == nil && client.inMulti {
                endMulti(client)
                let abort = "EXECABORT Transaction discarded because of: " + refusal
                countError(abort)
                client.reply.error(abort)
                return
            }
            rejectCommand(client, refusal)
            return
        }
        if client.inMulti && !target.flags.contains(.runsInMulti) {
            if target.flags.contains(.noMulti) {
                target.stats.rejectedCalls += 1
                rejectCommand(client, "ERR Command not allowed inside a transaction")
                return
            }
            client.multiQueue.append(QueuedCommand(spec: target, argv: argv))
            client.reply.appendRaw("+QUEUED\r\n")
            return
        }
        call(client, target, argv)
    }

    /// A command refused before it ran: counts as rejected and flags an open transaction.
    private func rejectCommand(_ client: ClientSession, _ message: String) {
        if client.inMulti { client.multiFailed = true }
        countError(message)
        client.reply.error(message)
    }

    func countError(_ message: String) {
        stats.totalErrorReplies += 1
        let code = message.prefix { $0 != " " }
        stats.errorCounts[String(code), default: 0] += 1
    }

    /// Runs a command that passed the checks (directly or from EXEC).
    func call(_ client: ClientSession, _ spec: CommandSpec, _ argv: [Bytes]) {
        callDepth += 1
        let start: Int64
        if let s = commandStartMicros {
            start = s
            commandStartMicros = nil
        } else {
            start = commandClock.micros()
        }
        let dirtyBefore = dirty
        if let feed = monitorFeed, !spec.flags.contains(.skipMonitor) { feed(client, argv) }
        client.lastCommand = spec.fullName
        var c = CommandCall(engine: self, client: client, spec: spec, argv: argv)
        spec.handler(&c)
        let elapsed = commandClock.micros() - start
        spec.stats.calls += 1
        spec.stats.microseconds += elapsed
        if c.failed { spec.stats.failedCalls += 1 }
        stats.totalCommands += 1
        if spec.flags.contains(.write) && !c.propagationHandled && dirty != dirtyBefore {
            if callDepth == 1 && pendingEffects.isEmpty {
                // The whole effect of a top-level command: straight to the log (what
                // flushEffects would do with a batch of one).
                log.append(db: client.db, argv)
            } else {
                pendingEffects.append((client.db, argv))
            }
        }
        if !spec.flags.contains(.skipSlowlog), config.slowlogLogSlowerThanUs >= 0,
           elapsed >= config.slowlogLogSlowerThanUs {
            slowlog.record(argv: argv, micros: elapsed, client: client, now: nowMs, config: config)
        }
        if config.latencyMonitorThresholdMs > 0 && elapsed / 1000 >= config.latencyMonitorThresholdMs {
            latency.record(event: spec.flags.contains(.fast) ? "fast-command" : "command",
                           ms: elapsed / 1000, now: nowMs / 1000)
        }
        callDepth -= 1
        if callDepth == 0 {
            flushEffects()
            afterTopLevelCommand()   // serve blocked clients whose keys became ready
        }
    }

    /// Adds an effect record to the current call's batch.
    public func propagate(db: Int, _ argv: [Bytes]) {
        pendingEffects.append((db, argv))
        if callDepth == 0 { flushEffects() }
    }

    private func flushEffects() {
        guard !pendingEffects.isEmpty else { return }
        let wrap = pendingEffects.count > 1
        // MULTI goes out in the first record's database, so a needed SELECT precedes it, as in
        // Redis's stream ("SELECT 2, MULTI, …" rather than "MULTI, SELECT 2, …").
        if wrap { log.append(db: pendingEffects[0].db, [Bytes("MULTI")]) }
        for e in pendingEffects { log.append(db: e.db, e.argv) }
        if wrap { log.appendGlobal([Bytes("EXEC")]) }
        pendingEffects.removeAll(keepingCapacity: true)
    }

    // MARK: keyspace access

    /// Before a pipeline's commands run: starts loading, for each command's first argument,
    /// its bucket and then its chain's first node in the client's database, so the cache
    /// misses of all the lookups overlap instead of coming one after another. Only a hint:
    /// an argument that is not a key costs one hash.
    public func prefetchKeys(_ session: ClientSession, _ batch: ArraySlice<[Bytes]>) {
        guard batch.count > 1, session.db >= 0, session.db < databases.count else { return }
        let table = databases[session.db].keys
        guard table.count > 0 else { return }
        prefetchHashes.removeAll(keepingCapacity: true)
        var previousKey: Bytes? = nil
        for argv in batch where argv.count >= 2 {
            // A pipeline often works one key (pushes to a queue, hits on a counter): hash and
            // load it once.
            if let p = previousKey, p == argv[1] { continue }
            previousKey = argv[1]
            let h = Int(truncatingIfNeeded: argv[1].withUnsafeBytes { table.hash($0) })
            prefetchHashes.append(h)
            table.prefetchBucket(h)
        }
        for h in prefetchHashes { table.prefetchChainHead(h) }
        prefetchMembers(table, batch)
    }

    public func database(_ index: Int) -> Database { databases[index] }

    /// True when the entry's TTL has passed at the current command time.
    @inlinable
    public func isExpired(_ e: KeyEntry) -> Bool {
        e.expireAtMs != KeyEntry.noExpiry && e.expireAtMs <= nowMs
    }

    /// Finds a live key, deleting it first if its TTL has passed (lazy expiry).
    public func lookup(_ db: Database, _ key: UnsafeRawBufferPointer) -> KeyEntry? {
        guard let e = db.find(key) else { return nil }
        if isExpired(e) {
            if writesPaused { return nil }
            expireKey(db, e)
            return nil
        }
        return e
    }

    /// Deletes an expired key and propagates a DEL (UNLINK under lazyfree-lazy-expire), as
    /// Redis does for expiry.
    public func expireKey(_ db: Database, _ e: KeyEntry) {
        e.withKeyBytes { _ = db.remove($0) }
        stats.expiredKeys += 1
        dirty += 1
        keyModified(db.id, e.key)
        propagate(db: db.id, [expiryDeleteCommand, e.key])
        releaseValue(e)
    }

    /// The effect record name for a deletion caused by a TTL (lazy/active expiry, EXPIRE or
    /// GETEX with a time in the past): Redis propagates UNLINK when lazyfree-lazy-expire is on.
    var expiryDeleteCommand: Bytes { Bytes(config.lazyfreeLazyExpire ? "UNLINK" : "DEL") }

    /// Hands a deleted value to the lazy-free thread when it is big.
    func releaseValue(_ e: KeyEntry) {
        if e.storageKind == .boxed && e.boxedBytes > 64 * 1024 { lazyFree([e]) }
    }

    // MARK: WATCH

    public func watch(_ client: ClientSession, db: Int, key: Bytes) {
        var wk = WatchedKey(db: db, key: key)
        if client.watched.contains(wk) { return }
        if let e = databases[db].find(key), isExpired(e) { wk.expiredAtWatch = true }
        client.watched.append(wk)
        watchers[wk, default: []].append(client)
    }

    public func unwatchAll(_ client: ClientSession) {
        for wk in client.watched {
            guard var list = watchers[wk] else { continue }
            list.removeAll { $0 === client }
            watchers[wk] = list.isEmpty ? nil : list
        }
        client.watched = []
        client.dirtyCAS = false
    }

    /// Every change to a key goes through here (Redis's signalModifiedKey).
    ///
    /// A key that was already logically expired when it was WATCHed and is now deleted (its
    /// lazy or active expiry) has not changed as far as the transaction can tell: as in Redis's
    /// touchWatchedKey, that clears the watch's expired mark instead of failing the EXEC.
    /// Whether anyone (a blocked client, a WATCH) is told about key changes; when not,
    /// callers can skip building the key for `keyModified`.
    @inline(__always)
    public var keyModificationsObserved: Bool { !blocking.isEmpty || !watchers.isEmpty }

    public func keyModified(_ db: Int, _ key: Bytes) {
        if !blocking.isEmpty { blocking.signal(db, key) }
        if watchers.isEmpty { return }
        let probe = WatchedKey(db: db, key: key)
        guard let list = watchers[probe] else { return }
        for c in list where !c.dirtyCAS {
            if let i = c.watched.firstIndex(of: probe), c.watched[i].expiredAtWatch,
               databases[db].find(key) == nil {
                c.watched[i].expiredAtWatch = false
                continue
            }
            c.dirtyCAS = true
        }
    }

    /// FLUSHDB/FLUSHALL/SWAPDB, before database `db` loses its contents (`emptied`) and, for
    /// SWAPDB, receives `replacedWith`'s: touches every watched key of `db` that exists in
    /// either, except where the change is not logical (Redis's touchAllWatchedKeysInDb): a key
    /// expired at WATCH time that is deleted or replaced by another expired key, or a missing
    /// key replaced by an expired one.
    public func touchAllWatched(db: Int, emptied: Database, replacedWith: Database? = nil) {
        for (wk, list) in watchers where wk.db == db {
            let existsInEmptied = emptied.find(wk.key) != nil
            let replacement = replacedWith?.find(wk.key)
            guard existsInEmptied || replacement != nil else { continue }
            for c in list where !c.dirtyCAS {
                guard let i = c.watched.firstIndex(of: wk) else { continue }
                if c.watched[i].expiredAtWatch {
                    guard let r = replacement else { c.watched[i].expiredAtWatch = false; continue }
                    if isExpired(r) { continue }
                } else if !existsInEmptied, let r = replacement, isExpired(r) {
                    c.watched[i].expiredAtWatch = true
                    continue
                }
                c.dirtyCAS = true
            }
        }
    }

    /// A watched key that was live at WATCH time has expired since (EXEC must fail).
    func watchedKeyExpired(_ client: ClientSession) -> Bool {
        for wk in client.watched where !wk.expiredAtWatch {
            if let e = databases[wk.db].find(wk.key), isExpired(e) { return true }
        }
        return false
    }

    // MARK: databases

    public func swapDatabases(_ a: Int, _ b: Int) {
        willReplaceDatabaseContents?(a)
        willReplaceDatabaseContents?(b)
        touchAllWatched(db: a, emptied: databases[a], replacedWith: databases[b])
        touchAllWatched(db: b, emptied: databases[b], replacedWith: databases[a])
        databases[a].swapContents(with: databases[b])
        signalSwappedDatabases(a, b)
    }

    /// Empties one database (or all when nil). Returns the number of keys removed.
    @discardableResult
    public func flush(db: Int?, async: Bool) -> Int {
        willReplaceDatabaseContents?(db)
        var removed = 0
        let targets = db.map { [$0] } ?? Array(0..<databases.count)
        var detached: [AnyObject] = []
        for i in targets {
            touchAllWatched(db: i, emptied: databases[i])
            removed += databases[i].count
            detached += databases[i].takeAll()
        }
        if async || removed > 1024 { lazyFree(detached) }
        dirty += Int64(removed)
        return removed
    }

    /// Replaces every database (a full load); used by snapshot loading.
    public func replaceDatabases(_ new: [Database]) {
        willReplaceDatabaseContents?(nil)
        let old = databases
        databases = new
        lazyFree(old.flatMap { $0.takeAll() })
    }

    // MARK: cron

    /// The periodic job (hz times a second): active expiry and incremental rehash.
    public func cron() {
        rebaseWallClock()
        nowMs = clock()
        if config.activeExpireEnabled && !writesPaused {
            activeExpireCycle(timeLimitMicros: Int64(1_000_000 / max(config.hz, 1) / 4))
        }
        for db in databases {
            db.keys.shrinkIfNeeded()
            db.volatile.shrinkIfNeeded()
            if db.keys.isRehashing { _ = db.keys.rehashFor(milliseconds: 1, now: { Engine.monotonicMicros() / 1000 }) }
            if db.volatile.isRehashing { _ = db.volatile.rehashFor(milliseconds: 1, now: { Engine.monotonicMicros() / 1000 }) }
        }
        handleBlockedClients()
    }

    /// Redis's adaptive active expiry: sample 20 volatile keys per database, delete the
    /// expired ones, and go again while more than 10% of a sample was expired, within a time
    /// budget, resuming next time at the database where it stopped.
    public func activeExpireCycle(timeLimitMicros: Int64) {
        // Judge expiry at the current time, not at the last command's (Redis's cycle reads the
        // clock too); cron() already did this, direct callers had a stale `nowMs`.
        nowMs = clock()
        let start = Engine.monotonicMicros()
        let perLoop = 20
        var sampledTotal = 0, expiredTotal = 0
        for _ in 0..<databases.count {
            let db = databases[expireCursorDB]
            expireCursorDB = (expireCursorDB + 1) % databases.count
            var iterations = 0
            while db.expiresCount > 0 {
                var expired = 0
                var sampled = 0
                let n = min(perLoop, db.expiresCount)
                var ttlSum: Int64 = 0
                for _ in 0..<n {
                    guard let node = db.volatile.randomNode(using: &rng) else { break }
                    sampled += 1
                    let e = node.entry
                    if isExpired(e) {
                        expireKey(db, e)
                        expired += 1
                    } else {
                        ttlSum += e.expireAtMs - nowMs
                    }
                }
                sampledTotal += sampled
                expiredTotal += expired
                if sampled > expired {
                    let avg = ttlSum / Int64(sampled - expired)
                    db.avgTTL = db.avgTTL == 0 ? avg : (db.avgTTL / 50) * 49 + avg / 50
                }
                iterations += 1
                if iterations % 16 == 0 && Engine.monotonicMicros() - start > timeLimitMicros { break }
                if sampled == 0 || expired * 10 <= sampled { break }
            }
            if Engine.monotonicMicros() - start > timeLimitMicros { break }
        }
        stats.expireCycleCPUMicros += Engine.monotonicMicros() - start
        if sampledTotal > 0 {
            let current = Double(expiredTotal) / Double(sampledTotal)
            stats.expiredStalePercent = stats.expiredStalePercent * 0.95 + current * 0.05
        }
    }
}

/// One command invocation as its handler sees it.
public struct CommandCall {
    // The engine, client and spec are borrowed, not retained: whoever runs the handler holds
    // all three for the call. Stored strong, each cost a retain and a release per command
    // (atomic operations, about 40 ns a command in all); stored unowned(unsafe), Swift
    // retained them again at every use. `_withUnsafeGuaranteedRef` hands them out at +0.
    @usableFromInline let engineRef: Unmanaged<Engine>
    @usableFromInline let clientRef: Unmanaged<ClientSession>
    @usableFromInline let specRef: Unmanaged<CommandSpec>
    public let argv: [Bytes]

    /// The caller keeps `engine`, `client` and `spec` alive while the CommandCall is used.
    public init(engine: Engine, client: ClientSession, spec: CommandSpec, argv: [Bytes]) {
        engineRef = .passUnretained(engine)
        clientRef = .passUnretained(client)
        specRef = .passUnretained(spec)
        self.argv = argv
    }

    @inlinable public var engine: Engine { engineRef._withUnsafeGuaranteedRef { $0 } }
    @inlinable public var client: ClientSession { clientRef._withUnsafeGuaranteedRef { $0 } }
    @inlinable public var spec: CommandSpec { specRef._withUnsafeGuaranteedRef { $0 } }
    /// The handler replied with an error.
    public var failed = false
    /// The handler wrote its own effect records (or none): skip the default of propagating argv.
    public var propagationHandled = false

    /// The client's database, not retained (see `Engine.databaseRefs`).
    @inlinable
    public var db: Database { engine.databaseRefs[client.db]._withUnsafeGuaranteedRef { $0 } }

    @inlinable
    public var reply: RESPWriter {
        get { client.reply }
        nonmutating _modify { yield &client.reply }
    }

    public mutating func error(_ message: String) {
        failed = true
        engine.countError(message)
        client.reply.error(message)
    }

    public mutating func wrongType() {
        error("WRONGTYPE Operation against a key holding the wrong kind of value")
    }

    public mutating func syntaxError() { error("ERR syntax error") }

    public mutating func notInteger() { error("ERR value is not an integer or out of range") }

    /// Replaces the default effect record with `argv` (in the client's database).
    public mutating func propagate(_ argv: [Bytes]) {
        propagationHandled = true
        engine.propagate(db: client.db, argv)
    }

    /// The command changed nothing worth propagating even though it ran.
    public mutating func propagateNothing() { propagationHandled = true }

    // Key access ------------------------------------------------------------

    /// A live key for reading; counts a keyspace hit or miss and updates the access clock.
    public func lookupRead(_ key: Bytes) -> KeyEntry? {
        let e = key.withUnsafeBytes { engine.lookup(db, $0) }
        if let e {
            engine.stats.keyspaceHits += 1
            if !client.noTouch { e.accessClock = engine.lruClock }
        } else {
            engine.stats.keyspaceMisses += 1
        }
        return e
    }

    /// A live key for writing (no hit/miss accounting).
    public func lookupWrite(_ key: Bytes) -> KeyEntry? {
        let e = key.withUnsafeBytes { engine.lookup(db, $0) }
        if let e, !client.noTouch { e.accessClock = engine.lruClock }
        return e
    }

    /// Sets a key to `value`, keeping the TTL only when asked (SET … KEEPTTL) — every other
    /// overwrite clears it, as in Redis.
    public func setKey(_ key: Bytes, _ value: Value, keepTTL: Bool = false, in database: Database? = nil,
                       rawEncoding: Bool = false) {
        let target = database ?? db
        if let e = key.withUnsafeBytes({ engine.lookup(target, $0) }) {
            target.keys.willMutate(entryKey: e)
            // A big replaced value is released on the lazy-free thread: the box holds the last
            // reference once the entry lets go of it.
            let big = e.storageKind == .boxed && e.boxedBytes > 64 * 1024 ? OldValue(e.value) : nil
            e.value = value
            if rawEncoding { e.markRawEncoding() }
            if !keepTTL { target.removeExpiry(e) }
            e.accessClock = engine.lruClock
            if let big { engine.lazyFree([big]) }
        } else {
            let e = KeyEntry.make(key: key, value: value, clock: engine.lruClock)
            if rawEncoding { e.markRawEncoding() }
            target.add(e)
        }
        engine.keyModified(target.id, key)
        engine.dirty += 1
    }

    /// Deletes a live key; returns whether it existed.
    @discardableResult
    public func deleteKey(_ key: Bytes, in database: Database? = nil) -> Bool {
        let target = database ?? db
        guard key.withUnsafeBytes({ engine.lookup(target, $0) }) != nil,
              let e = target.remove(key) else { return false }
        engine.keyModified(target.id, key)
        engine.dirty += 1
        engine.releaseValue(e)
        return true
    }

    /// Marks a key as changed in place (after mutating `entry.value`).
    public func touched(_ e: KeyEntry) {
        engine.dirty += 1
        if engine.keyModificationsObserved { engine.keyModified(client.db, e.key) }
    }

    public func arg(_ i: Int) -> Bytes { argv[i] }
}

/// Boxes a replaced value so its memory can be released on the lazy-free thread.
final class OldValue {
    let value: Value
    init(_ v: Value) { value = v }
}
