// RDB persistence: SAVE, BGSAVE, LASTSAVE, save points, stop-writes-on-bgsave-error,
// SHUTDOWN's final save, the start-up load and DEBUG RELOAD, around the fork-less
// SnapshotDriver (CairnEngine/Snapshot) and SnapshotFileWriter.
//
// A background save, from command to file:
//
//   BGSAVE / cron save point ─▶ startBackgroundSave: driver.begin() = the cut (log offset)
//        ─▶ pump: driver.step() once per engine-loop iteration (0.5–4 ms slices), pausing while
//           the writer's queue is full; clients keep running between slices
//        ─▶ writer thread: compress, write temp-<pid>.rdb, fsync, rename, fsync dir
//        ─▶ backgroundSaveDone on the loop: dirty -= dirty at the cut, LASTSAVE, status
//
//   status ok ──(save fails)──▶ err ──(a later save succeeds)──▶ ok
//                                │ while err, with save points set and
//                                │ stop-writes-on-bgsave-error yes:
//                                ▼ write commands and PING get MISCONF (engine.commandGate)
//
// Only one snapshot runs at a time: the key tables have one snapshot epoch each. SAVE and
// the shutdown save run the same driver to completion on the loop, with the writer inline.
//
// The start-up load, as Redis's LOADING state:
//
//   Server.start ─▶ prepareStartupLoad (no client yet): open dbfilename, copy what the load
//                   needs from the engine; `loading` set, the LOADING gate installed
//                ─▶ listeners bound: clients connect, and every command without the `loading`
//                   flag (PING included) gets -LOADING; INFO shows loading:1 and progress
//                ─▶ runStartupLoad on the calling thread (SnapshotLoader's own threads under
//                   it), the engine loop untouched and answering
//                ─▶ on the loop: the databases swapped in, `loading` cleared, gate removed
//   SHUTDOWN or SIGTERM meanwhile: the load is cancelled and the server exits WITHOUT saving
//   (a partial dataset never overwrites dump.rdb); a damaged file stops the server as before.
//
// Policy copied from Redis (rdb.c, server.c): a save point fires when at least `changes`
// writes happened and more than `seconds` passed since the last successful save, and after a
// failed background save not again for 5 seconds; a failed SAVE does not change the
// bgsave status; LASTSAVE starts at the start-up time ("at start-up the DB is saved").

import CairnEngine
import Logging
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

public final class RDBPersistence {
    unowned let server: Server
    var engine: Engine { server.engine }
    var config: ConfigRegistry { server.config }
    var logger: Logger { server.logger }

    /// Unix seconds of the last successful save (LASTSAVE, rdb_last_save_time).
    public internal(set) var lastSaveTime: Int64
    public private(set) var lastBgsaveOK = true
    public private(set) var lastBgsaveSeconds: Int64 = -1
    /// Successful saves since start (rdb_saves).
    public private(set) var saves = 0
    /// Bytes the last background save serialized ahead of its pass because writes touched
    /// unsaved buckets (rdb_last_bgsave_early_serialized_bytes).
    public private(set) var lastEarlyBytes = 0
    public private(set) var lastLoadKeysLoaded = 0
    public private(set) var lastLoadKeysExpired = 0
    /// A BGSAVE SCHEDULE (or BGSAVE inside EXEC) waiting for the cron.
    public private(set) var bgsaveScheduled = false
    private var lastBgsaveTryMs: Int64 = 0

    struct BackgroundJob {
        let driver: SnapshotDriver
        let writer: SnapshotFileWriter
        let startMs: Int64
        let id: Int
    }
    private var job: BackgroundJob?
    private var nextJobID = 0
    /// Wakes the loop for the next slice without a timer (SliceDoorbell.swift).
    private let doorbell: SliceDoorbell

    /// The start-up load while it runs (Redis's server.loading); touched on the loop only.
    struct Loading {
        let monitor: SnapshotLoadMonitor
        /// Unix seconds (loading_start_time).
        let startTime: Int64
        /// The file's size (loading_total_bytes).
        let totalBytes: Int
    }
    public var isLoading: Bool { loading != nil }
    private(set) var loading: Loading?

    // Knobs for tests (the server leaves them alone).
    /// The syscall seam the files go through.
    var sys: Sys = .shared
    /// Where dbfilename lives; nil: the working directory, which start() set to `dir`.
    var directory: String?
    /// Bytes the writer may hold before the driver's pass pauses.
    var writerQueueBytesMax = 16 << 20
    /// Longest slice of the driver's pass on the engine loop.
    var sliceMicros: Int64 = 500

    /// Seconds to wait after a failed background save before a save point retries
    /// (CONFIG_BGSAVE_RETRY_DELAY).
    static let retryDelaySeconds: Int64 = 5

    static let loadingError = "LOADING Redis is loading the dataset in memory"

    static let misconf = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."

    init(server: Server) {
        self.server = server
        self.lastSaveTime = Engine.wallClockMs() / 1000
        self.doorbell = SliceDoorbell(loop: server.loop)
        registerCommands()
        wireHooks()
        applyConfig()
    }

    // MARK: settings

    public var bgsaveInProgress: Bool { job != nil }

    /// The `save` points as (seconds, changes) pairs.
    var savePoints: [(seconds: Int64, changes: Int64)] {
        let words = config["save"].split(separator: " ").compactMap { Int64($0) }
        return stride(from: 0, to: words.count - 1, by: 2).map { (words[$0], words[$0 + 1]) }
    }

    var encoding: SnapshotEncoding { SnapshotEncoding(rdbcompression: config["rdbcompression"]) }

    var driverOptions: SnapshotDriver.Options {
        var o = SnapshotDriver.Options()
        o.rdbVersion = Int(config.int("rdb-version"))
        o.compressStrings = encoding.lzfStrings
        o.checksum = config.bool("rdbchecksum")
        o.redisVersion = ServerInfo.redisVersion
        o.sliceMicros = sliceMicros
        return o
    }

    /// dbfilename, relative to the working directory (`dir`).
    var filePath: String { directory.map { $0 + "/" + config["dbfilename"] } ?? config["dbfilename"] }

    private func applyConfig() {
        engine.config.rdbVersion = Int(config.int("rdb-version"))
        engine.config.rdbCompressStrings = config["rdbcompression"] != "no"
        updateWriteGate()
    }

    private func wireHooks() {
        for name in ["rdbcompression", "rdb-version", "stop-writes-on-bgsave-error", "save"] {
            config.onApply(name) { [unowned self] _ in self.applyConfig(); return nil }
        }
        server.cronSteps.append { [unowned self] in self.cron() }
        server.beforeShutdown = { [unowned self] save, force in self.prepareForShutdown(save: save, force: force) }
        let previousDebug = engine.serverDebugHandler
        engine.serverDebugHandler = { [unowned self] c, sub in
            if sub == "reload" {
                self.debugReload(&c)
                return true
            }
            return previousDebug?(&c, sub) ?? false
        }
    }

    /// Installs or removes the command gate: -LOADING while the start-up load runs (every
    /// command without the `loading` flag, as Redis's processCommand refuses them), else the
    /// MISCONF gate (Redis's writeCommandsDeniedByDiskError).
    func updateWriteGate() {
        if loading != nil {
            engine.commandGate = { client, spec in
                if !spec.flags.contains(.loading) { return RDBPersistence.loadingError }
                if spec.name == "exec" && client.multiQueue.contains(where: { !$0.spec.flags.contains(.loading) }) {
                    return RDBPersistence.loadingError
                }
                return nil
            }
            return
        }
        let deny = config.bool("stop-writes-on-bgsave-error") && !savePoints.isEmpty && !lastBgsaveOK
        guard deny else {
            engine.commandGate = nil
            return
        }
        engine.commandGate = { client, spec in
            if spec.flags.contains(.write) || spec.name == "ping" { return RDBPersistence.misconf }
            if spec.name == "exec" && client.multiQueue.contains(where: { $0.spec.flags.contains(.write) }) {
                return RDBPersistence.misconf
            }
            return nil
        }
    }

    // MARK: commands

    private func registerCommands() {
        let table = engine.commands
        table.register(CommandSpec("save", arity: 1, flags: [.admin, .noscript, .noMulti], group: "server",
                                   summary: "Synchronously saves the database(s) to disk.", since: "1.0.0",
                                   complexity: "O(N) where N is the total number of keys in all databases") { [unowned self] c in
            c.propagateNothing()
            if self.job != nil {
                c.error("ERR Background save already in progress")
                return
            }
            if self.saveForeground() { c.reply.ok() } else { c.error("ERR") }
        })
        table.register(CommandSpec("bgsave", arity: -1, flags: [.admin, .noscript], group: "server",
                                   summary: "Asynchronously saves the database(s) to disk.", since: "1.0.0",
                                   complexity: "O(1)") { [unowned self] c in
            c.propagateNothing()
            var schedule = false
            if c.argv.count > 1 {
                guard c.argv.count == 2, c.argv[1].isKeyword("schedule") else { c.syntaxError(); return }
                schedule = true
            }
            if self.job != nil {
                c.error("ERR Background save already in progress")
            } else if c.engine.isNestedCall {
                // Inside EXEC: a cut here would split the transaction (Redis schedules too).
                self.bgsaveScheduled = true
                c.reply.simple("Background saving scheduled")
            } else {
                _ = schedule   // nothing else can hold the snapshot epoch yet (AOF rewrite will)
                self.startBackgroundSave()
                c.reply.simple("Background saving started")
            }
        })
        table.register(CommandSpec("lastsave", arity: 1, flags: [.loading, .stale, .fast], group: "server",
                                   summary: "Returns the Unix timestamp of the last successful save to disk.", since: "1.0.0") { [unowned self] c in
            c.reply.integer(Int(self.lastSaveTime))
        })
    }

    // MARK: foreground save

    /// SAVE: the whole snapshot on the engine loop, the file written inline. Returns success.
    @discardableResult
    func saveForeground() -> Bool {
        let writer = SnapshotFileWriter(path: absolutePath(filePath), container: encoding.container, inline: true, sys: sys)
        let driver = SnapshotDriver(engine: engine, sink: writer, options: driverOptions)
        driver.begin()
        driver.runToCompletion()
        switch writer.result {
        case .success?:
            engine.dirty = max(0, engine.dirty - driver.dirtyAtCut)
            lastSaveTime = Engine.wallClockMs() / 1000
            lastBgsaveOK = true
            saves += 1
            updateWriteGate()
            logger.notice("DB saved on disk")
            return true
        case .failure(let error)?:
            logger.warning("Write error saving DB on disk: \(error)")
            return false
        case nil:
            logger.warning("Write error saving DB on disk: the snapshot did not complete")
            return false
        }
    }

    // MARK: background save

    /// BGSAVE: the cut now, the rest in slices on the loop and on the writer thread.
    func startBackgroundSave() {
        precondition(job == nil)
        let now = Engine.wallClockMs()
        lastBgsaveTryMs = now
        // An absolute path: a CONFIG SET dir during the save must not split temp file and target.
        let writer = SnapshotFileWriter(path: absolutePath(filePath), container: encoding.container, inline: false,
                                        queueBytesMax: writerQueueBytesMax,
                                        keySaveDelayMicros: Int(max(0, config.int("rdb-key-save-delay"))), sys: sys)
        let driver = SnapshotDriver(engine: engine, sink: writer, options: driverOptions)
        nextJobID += 1
        let id = nextJobID
        let loop = server.loop
        writer.onDone = { [unowned self] result in
            loop.execute { self.backgroundSaveDone(id: id, result) }
        }
        writer.start()
        driver.begin()
        job = BackgroundJob(driver: driver, writer: writer, startMs: now, id: id)
        logger.notice("Background saving started")
        pump(id)
    }

    /// Runs one slice and has the next run after the loop has polled its sockets: a client
    /// waits for at most one slice. (An `execute` would not do: NIO runs every task queued,
    /// including ones queued by tasks, before it polls again, so a self-re-queueing task starves
    /// client I/O.) The doorbell gets the poll without the loop sleeping; a timer a moment
    /// later is the fallback. While the writer's queue is full the next slice waits a millisecond.
    private func pump(_ id: Int) {
        guard let j = job, j.id == id else { return }
        switch j.driver.step() {
        case .finished:
            return   // the writer reports when the file is durable
        case .advanced:
            if doorbell.ring({ [unowned self] in self.pump(id) }) { return }
            server.loop.scheduleTask(in: RDBPersistence.sliceGap) { [unowned self] in self.pump(id) }
        case .blocked:
            server.loop.scheduleTask(in: .milliseconds(1)) { [unowned self] in self.pump(id) }
        }
    }

    /// The pause between two slices of the pass: long enough that the loop polls its sockets.
    static let sliceGap = TimeAmount.microseconds(20)

    private func backgroundSaveDone(id: Int, _ result: Result<SnapshotFileWriter.Outcome, Error>) {
        guard let j = job, j.id == id else { return }
        job = nil
        let now = Engine.wallClockMs()
        lastBgsaveSeconds = (now - j.startMs) / 1000
        lastEarlyBytes = j.driver.earlyBytes
        switch result {
        case .success:
            engine.dirty = max(0, engine.dirty - j.driver.dirtyAtCut)
            lastSaveTime = now / 1000
            lastBgsaveOK = true
            saves += 1
            logger.notice("DB saved on disk")
            logger.notice("Background saving terminated with success")
        case .failure(let error) where error is SnapshotAbandoned:
            logger.warning("Background saving terminated by request")
        case .failure(let error):
            lastBgsaveOK = false
            logger.warning("Write error saving DB on disk: \(error)")
            logger.warning("Background saving error")
        }
        updateWriteGate()
    }

    /// Stops a running background save and waits until its temp file is gone.
    func abandonBackgroundSave() {
        guard let j = job else { return }
        job = nil
        j.driver.abandon()
        j.writer.abandon()   // also when the driver had finished and only the writer is busy
        j.writer.waitUntilDone()
        lastBgsaveSeconds = (Engine.wallClockMs() - j.startMs) / 1000
    }

    // MARK: cron

    func cron() {
        guard job == nil else { return }
        let nowMs = Engine.wallClockMs()
        if bgsaveScheduled {
            bgsaveScheduled = false
            startBackgroundSave()
            return
        }
        let sinceSave = nowMs / 1000 - lastSaveTime
        let mayRetry = lastBgsaveOK || (nowMs - lastBgsaveTryMs) / 1000 > RDBPersistence.retryDelaySeconds
        for p in savePoints where engine.dirty >= p.changes && sinceSave > p.seconds && mayRetry {
            logger.notice("\(p.changes) changes in \(p.seconds) seconds. Saving...")
            startBackgroundSave()
            break
        }
    }

    // MARK: shutdown

    /// SHUTDOWN / SIGTERM: stop a background save, then save if asked (SAVE) or if save points
    /// are set (unless NOSAVE). Returns an error text to refuse the shutdown.
    func prepareForShutdown(save: Bool?, force: Bool) -> String? {
        if let l = loading {
            // Redis forces NOSAVE during a load: what is in memory is part of the file at best.
            // The load stops at its next batch; the server exits without touching dump.rdb.
            logger.warning("Shutdown during the start-up load: the load is stopped, nothing is saved.")
            l.monitor.cancel()
            return nil
        }
        if job != nil {
            logger.warning("There is a child saving an .rdb. Killing it!")
            abandonBackgroundSave()
        }
        guard save ?? !savePoints.isEmpty else { return nil }
        logger.notice("Saving the final RDB snapshot before exiting.")
        if saveForeground() { return nil }
        logger.warning("Error trying to save the DB, can't exit.")
        return force ? nil : "Errors trying to SHUTDOWN. Check logs."
    }

    // MARK: loading

    /// Loads dbfilename from `dir` if it exists, on the calling thread (the loop, in tests),
    /// and swaps it in. A damaged file throws with the file, the offset, the key and the
    /// reason; nothing is half-loaded.
    func loadAtStartup() throws {
        // With appendonly yes the AOF is the source of truth (Redis's loadDataFromDisk).
        guard !config.bool("appendonly") else { return }
        guard let result = try loadFile(logDetails: true) else { return }
        engine.replaceDatabases(result.databases)
    }

    /// A start-up load prepared before the listeners exist.
    struct StartupLoad {
        let file: OpenSnapshot
        let target: SnapshotLoadTarget
        let options: SnapshotLoadOptions
        let monitor: SnapshotLoadMonitor
    }

    /// Start-up, before any client: opens dbfilename (nil when there is none, or appendonly
    /// is on), copies from the engine what the load needs, and enters the loading state.
    /// Runs where the engine may be touched (no listener yet, or on the loop).
    func prepareStartupLoad() throws -> StartupLoad? {
        guard !config.bool("appendonly"), let file = try openSnapshot() else { return nil }
        let monitor = SnapshotLoadMonitor()
        var options = SnapshotLoadOptions(dropExpired: true, nowMs: Engine.wallClockMs(), monitor: monitor)
        options.keyLoadDelayMicros = Int(config.int("key-load-delay"))
        loading = Loading(monitor: monitor, startTime: Engine.wallClockMs() / 1000, totalBytes: file.size)
        lastLoadKeysLoaded = 0
        lastLoadKeysExpired = 0
        updateWriteGate()
        return StartupLoad(file: file, target: SnapshotLoadTarget(engine), options: options, monitor: monitor)
    }

    /// Start-up, after the listeners: runs the load on the calling thread (never the loop,
    /// which keeps answering -LOADING) and swaps the databases in on the loop. Returns false
    /// when SHUTDOWN or SIGTERM stopped the load (the server is exiting; nothing was changed).
    func runStartupLoad(_ load: StartupLoad) throws -> Bool {
        defer { load.file.close() }
        let result: SnapshotLoadResult
        do {
            result = try readSnapshot(load.file, target: load.target, options: load.options, logDetails: true)
        } catch is SnapshotLoadCancelled {
            logger.warning("The start-up load was stopped before its end.")
            return false
        }
        return try server.loop.submit { () -> Bool in
            // A SHUTDOWN after the last batch found the load done but not in place: the
            // server is exiting (without saving: it saw `loading`), so nothing is swapped in.
            guard !load.monitor.isCancelled else { return false }
            self.engine.replaceDatabases(result.databases)
            self.lastLoadKeysLoaded = result.keysLoaded
            self.lastLoadKeysExpired = result.keysExpired
            self.loading = nil
            self.updateWriteGate()
            return true
        }.wait()
    }

    /// dbfilename, open for reading.
    struct OpenSnapshot {
        let fd: Int32
        let path: String
        let size: Int
        let sys: Sys
        func close() { try? sys.close(fd) }
    }

    /// Opens dbfilename; nil when there is no file.
    private func openSnapshot() throws -> OpenSnapshot? {
        let path = filePath
        let fd: Int32
        do {
            fd = try sys.open(path, O_RDONLY)
        } catch let e as SysError where e.errno == ENOENT {
            return nil
        }
        var st = stat()
        let size = fstat(fd, &st) == 0 ? Int(st.st_size) : 0
        return OpenSnapshot(fd: fd, path: path, size: size, sys: sys)
    }

    /// Reads dbfilename into side databases; nil when there is no file.
    func loadFile(logDetails: Bool) throws -> SnapshotLoadResult? {
        guard let file = try openSnapshot() else { return nil }
        defer { file.close() }
        let result = try readSnapshot(file, target: SnapshotLoadTarget(engine),
                              options: SnapshotLoadOptions(dropExpired: true, nowMs: Engine.wallClockMs()), logDetails: logDetails)
        lastLoadKeysLoaded = result.keysLoaded
        lastLoadKeysExpired = result.keysExpired
        return result
    }

    /// Loads an open snapshot (any thread: touches neither the engine nor this object's
    /// state) and logs as Redis does.
    private func readSnapshot(_ file: OpenSnapshot, target: SnapshotLoadTarget, options: SnapshotLoadOptions,
                      logDetails: Bool) throws -> SnapshotLoadResult {
        let start = Engine.monotonicMicros()
        let sys = file.sys, fd = file.fd, path = file.path
        let input = SnapshotInput(read: { try sys.read(fd, into: $0, path: path) })
        let result: SnapshotLoadResult
        do {
            result = try SnapshotLoader.load(input, target: target, options: options)
        } catch let e as SnapshotLoadError {
            throw PersistenceLoadError(path: absolutePath(path), detail: e.description)
        } catch let e as SnapshotLoadCancelled {
            throw e
        } catch {
            throw PersistenceLoadError(path: absolutePath(path), detail: "\(error)")
        }
        if logDetails {
            if let v = result.auxValue("redis-ver") ?? result.auxValue("valkey-ver") {
                logger.notice("Loading RDB produced by version \(v.debugText)")
            }
            if let ctime = result.auxValue("ctime").flatMap({ Int64($0.debugText) }) {
                logger.notice("RDB age \(max(0, Engine.wallClockMs() / 1000 - ctime)) seconds")
            }
            if let mem = result.auxValue("used-mem").flatMap({ Int64($0.debugText) }) {
                logger.notice("RDB memory usage when created \(fixed(Double(mem) / 1024 / 1024, 2)) Mb")
            }
        }
        logger.notice("Done loading RDB, keys loaded: \(result.keysLoaded), keys expired: \(result.keysExpired).")
        if logDetails {
            logger.notice("DB loaded from disk: \(fixed(Double(Engine.monotonicMicros() - start) / 1e6, 3)) seconds")
        }
        return result
    }

    private func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, 4096) != nil else { return path }
        return String(cString: buf) + "/" + path
    }

    /// DEBUG RELOAD [NOSAVE]: save, then load the file back in place of the dataset.
    private func debugReload(_ c: inout CommandCall) {
        var save = true
        for a in c.argv.dropFirst(2) {
            if a.isKeyword("nosave") { save = false } else { c.syntaxError(); return }
        }
        if loading != nil {
            // The start-up load would replace whatever this loads, and saving first would
            // overwrite the file being loaded with a partial dataset.
            c.error(RDBPersistence.loadingError)
            return
        }
        if job != nil { abandonBackgroundSave() }
        if save && !saveForeground() {
            c.error("ERR")
            return
        }
        do {
            guard let result = try loadFile(logDetails: false) else {
                logger.warning("DEBUG RELOAD: no file \(filePath) to load")
                c.error("ERR Error trying to load the RDB dump, check server logs.")
                return
            }
            engine.replaceDatabases(result.databases)
        } catch {
            logger.warning("\(error)")
            c.error("ERR Error trying to load the RDB dump, check server logs.")
            return
        }
        logger.warning("DB reloaded by DEBUG RELOAD")
        c.reply.ok()
    }

    // MARK: INFO

    /// The rdb_* lines of INFO persistence, in Redis's order. Fork-related fields
    /// (current_cow_*, rdb_last_cow_size) are left out: there is no fork; Cairn reports the
    /// bytes its driver serialized early instead.
    func infoLines() -> [String] {
        let now = Engine.wallClockMs()
        return ["current_save_keys_processed:\(job?.driver.keysSerialized ?? 0)",
                "current_save_keys_total:\(job?.driver.keysTotal ?? 0)",
                "rdb_changes_since_last_save:\(engine.dirty)",
                "rdb_bgsave_in_progress:\(job != nil ? 1 : 0)",
                "rdb_last_save_time:\(lastSaveTime)",
                "rdb_last_bgsave_status:\(lastBgsaveOK ? "ok" : "err")",
                "rdb_last_bgsave_time_sec:\(lastBgsaveSeconds)",
                "rdb_current_bgsave_time_sec:\(job.map { (now - $0.startMs) / 1000 } ?? -1)",
                "rdb_saves:\(saves)",
                "rdb_last_bgsave_early_serialized_bytes:\(lastEarlyBytes)",
                "rdb_last_load_keys_expired:\(loading?.monitor.progress.keysExpired ?? lastLoadKeysExpired)",
                "rdb_last_load_keys_loaded:\(loading?.monitor.progress.keysLoaded ?? lastLoadKeysLoaded)"]
    }

    /// The loading_* lines Redis adds at the end of INFO persistence while it loads: file
    /// bytes read of the file's size, the `used-mem` its header declares, and a linear ETA.
    func loadingInfoLines() -> [String] {
        guard let l = loading else { return [] }
        let p = l.monitor.progress
        var perc = 0.0
        var remaining = 1
        if l.totalBytes > 0 {
            perc = Double(p.fileBytesRead) / Double(l.totalBytes) * 100
            remaining = l.totalBytes - p.fileBytesRead
        }
        let elapsed = Engine.wallClockMs() / 1000 - l.startTime
        // Redis's figure: a fake 1 second until a second has passed.
        let eta = elapsed == 0 ? 1 : elapsed * Int64(remaining) / Int64(p.fileBytesRead + 1)
        return ["loading_start_time:\(l.startTime)",
                "loading_total_bytes:\(l.totalBytes)",
                "loading_rdb_used_mem:\(p.rdbUsedMem)",
                "loading_loaded_bytes:\(p.fileBytesRead)",
                "loading_loaded_perc:\(fixed(perc, 2))",
                "loading_eta_seconds:\(eta)"]
    }
}

/// A snapshot that exists but cannot be loaded: start-up stops with this.
public struct PersistenceLoadError: Error, CustomStringConvertible {
    public let path: String
    public let detail: String
    public var description: String { "Fatal error loading the DB \(path) \(detail). Exiting." }
}
