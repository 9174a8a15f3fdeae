@testable import CairnServer
import CairnEngine
import Foundation
import NIOCore
import XCTest

/// SAVE/BGSAVE/LASTSAVE, save points, MISCONF, the shutdown save, loading and DEBUG RELOAD on
/// an in-process Server (no listener): every engine call runs on the server's loop.
final class PersistenceTests: XCTestCase {
    var dir = ""
    var server: Server!
    var client: ClientSession!

    override func setUp() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("persist-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        makeServer()
    }

    override func tearDown() {
        stop(server)
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Completes the server's shutdown (without the final save) and stops its loop.
    func stop(_ s: Server?) {
        guard let s else { return }
        s.beforeShutdown = nil
        try? s.loop.submit { s.shutdown(reason: "test done") }.wait()
        try? s.group.syncShutdownGracefully()
    }

    func makeServer(_ settings: [(String, [String])] = []) {
        stop(server)
        let config = ConfigRegistry()
        try! config.setAtStartup("enable-debug-command", ["yes"])
        for (k, v) in settings { try! config.setAtStartup(k, v) }
        server = Server(config: config)
        server.persistence.directory = dir
        client = onLoop { self.server.engine.connect() }
    }

    func onLoop<T>(_ body: @escaping () -> T) -> T {
        try! server.loop.submit(body).wait()
    }

    @discardableResult
    func run(_ argv: String...) -> String { run(argv) }

    @discardableResult
    func run(_ argv: [String]) -> String {
        onLoop {
            self.server.engine.execute(self.client, argv.map { Bytes($0) })
            return String(decoding: self.client.reply.take(), as: UTF8.self)
        }
    }

    func info(_ field: String) -> String {
        let text = onLoop { self.server.infoText(sections: ["persistence"]) }
        for line in text.split(separator: "\r\n") where line.hasPrefix(field + ":") {
            return String(line.dropFirst(field.count + 1))
        }
        return "<missing \(field)>"
    }

    func waitForBackgroundSave(file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(30)
        while onLoop({ self.server.persistence.bgsaveInProgress }) {
            if Date() > deadline { XCTFail("BGSAVE did not finish", file: file, line: line); return }
            usleep(2000)
        }
    }

    var dumpPath: String { dir + "/dump.rdb" }

    func dumpBytes() -> [UInt8]? { FileManager.default.contents(atPath: dumpPath).map { Array($0) } }

    /// The file decoded: (db/key → value) of every string key.
    func decodedDump(file: StaticString = #filePath, line: UInt = #line) -> [String: String]? {
        guard let bytes = dumpBytes() else { return nil }
        do {
            let rdb = try readRDB(try decompress(bytes))
            var out: [String: String] = [:]
            for r in rdb.keys { if case .string(let s) = r.value { out["\(r.db)/\(r.key.debugText)"] = s.debugText } }
            return out
        } catch {
            XCTFail("dump.rdb does not decode: \(error)", file: file, line: line)
            return nil
        }
    }

    func populate(_ n: Int, prefix: String = "k") {
        onLoop {
            for i in 0..<n {
                self.server.engine.execute(self.client, [Bytes("SET"), Bytes("\(prefix)\(i)"), Bytes("value-\(i)")])
            }
            _ = self.client.reply.take()
        }
    }

    func expected(_ n: Int, prefix: String = "k", db: Int = 0) -> [String: String] {
        var out: [String: String] = [:]
        for i in 0..<n { out["\(db)/\(prefix)\(i)"] = "value-\(i)" }
        return out
    }

    func tempFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix("temp-") }
    }

    // MARK: SAVE / BGSAVE

    func testSaveWritesAnLZ4FramedRDBThatDecodesToTheDataset() throws {
        populate(100)
        run("SELECT", "3")
        run("SET", "in3", "x")
        run("SELECT", "0")
        XCTAssertEqual(run("SAVE"), "+OK\r\n")
        let bytes = try XCTUnwrap(dumpBytes())
        XCTAssertEqual(Array(bytes.prefix(4)), [0x04, 0x22, 0x4D, 0x18])
        var want = expected(100)
        want["3/in3"] = "x"
        XCTAssertEqual(decodedDump(), want)
        XCTAssertEqual(info("rdb_changes_since_last_save"), "0")
        XCTAssertEqual(info("rdb_saves"), "1")
        XCTAssertEqual(info("rdb_last_bgsave_status"), "ok")
        XCTAssertEqual(run("LASTSAVE"), ":\(Engine.wallClockMs() / 1000)\r\n")
        XCTAssertEqual(tempFiles(), [])
    }

    func testRdbcompressionChoosesTheContainer() throws {
        let long = String(repeating: "abcdefgh", count: 8)
        for (setting, magic, lzf) in [("zlib", [UInt8(0x78)], false), ("lzf", Array("REDIS".utf8), true),
                                      ("yes", Array("REDIS".utf8), true), ("no", Array("REDIS".utf8), false)] {
            XCTAssertEqual(run("CONFIG", "SET", "rdbcompression", setting), "+OK\r\n")
            run("SET", "long", long)
            XCTAssertEqual(run("SAVE"), "+OK\r\n", setting)
            let bytes = try XCTUnwrap(dumpBytes())
            XCTAssertEqual(Array(bytes.prefix(magic.count)), magic, setting)
            let plain = try decompress(bytes)
            let rdb = try readRDB(plain)
            XCTAssertEqual(rdb.record(Bytes("long"))?.value, .string(Bytes(long)), setting)
            let rawStored = plain.indices.contains { plain[$0...].starts(with: Array(long.utf8)) }
            XCTAssertEqual(rawStored, !lzf, setting)
        }
        XCTAssertEqual(run("CONFIG", "SET", "rdbcompression", "snappy"),
                       "-ERR CONFIG SET failed (possibly related to argument 'rdbcompression') - argument(s) must be one of the following: lz4, zlib, lzf, no, yes\r\n")
    }

    func testRdbVersionAndChecksumSettings() throws {
        makeServer([("rdb-version", ["11"]), ("rdbchecksum", ["no"]), ("rdbcompression", ["no"])])
        run("SET", "a", "1")
        XCTAssertEqual(run("SAVE"), "+OK\r\n")
        let bytes = try XCTUnwrap(dumpBytes())
        XCTAssertEqual(Array(bytes.prefix(9)), Array("REDIS0011".utf8))
        XCTAssertEqual(Array(bytes.suffix(8)), [0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(run("CONFIG", "SET", "rdbchecksum", "yes"),
                       "-ERR CONFIG SET failed (possibly related to argument 'rdbchecksum') - can't set immutable config\r\n")
        XCTAssertEqual(run("CONFIG", "SET", "rdb-version", "12"),
                       "-ERR CONFIG SET failed (possibly related to argument 'rdb-version') - argument must be between 10 and 11 inclusive\r\n")
    }

    func testBgsaveRepliesAndFileDecodes() throws {
        makeServer([("rdb-key-save-delay", ["100000"])])   // 0.1 s per key: the save stays in progress
        populate(10)
        XCTAssertEqual(run("BGSAVE"), "+Background saving started\r\n")
        XCTAssertEqual(run("BGSAVE"), "-ERR Background save already in progress\r\n")
        XCTAssertEqual(run("BGSAVE", "SCHEDULE"), "-ERR Background save already in progress\r\n")
        XCTAssertEqual(run("SAVE"), "-ERR Background save already in progress\r\n")
        XCTAssertEqual(run("BGSAVE", "NOW"), "-ERR syntax error\r\n")
        XCTAssertEqual(info("rdb_bgsave_in_progress"), "1")
        XCTAssertEqual(info("current_save_keys_total"), "10")
        run("SET", "after-the-cut", "x")
        waitForBackgroundSave()
        XCTAssertEqual(info("rdb_bgsave_in_progress"), "0")
        XCTAssertEqual(info("rdb_last_bgsave_status"), "ok")
        XCTAssertEqual(info("rdb_saves"), "1")
        XCTAssertEqual(info("rdb_changes_since_last_save"), "1")   // the write after the cut
        XCTAssertEqual(info("rdb_last_bgsave_time_sec"), "1")
        XCTAssertEqual(decodedDump(), expected(10))
        XCTAssertEqual(tempFiles(), [])
        XCTAssertEqual(run("BGSAVE", "SCHEDULE"), "+Background saving started\r\n")
        waitForBackgroundSave()
        var want = expected(10)
        want["0/after-the-cut"] = "x"
        XCTAssertEqual(decodedDump(), want)
    }

    func testWritesDuringABackgroundSaveAreSerializedEarlyAndNotSaved() throws {
        populate(5000)
        let cut = expected(5000)
        server.persistence.sliceMicros = 0          // one bucket step per slice
        server.persistence.writerQueueBytesMax = 1  // the pass waits for the writer after every chunk
        XCTAssertEqual(run("BGSAVE"), "+Background saving started\r\n")
        for i in 0..<5000 where i % 3 == 0 {
            run("SET", "k\(i)", "overwritten")
            if i % 2 == 0 { run("DEL", "k\(i + 1)") }
        }
        run("FLUSHALL")
        run("SET", "new", "key")
        waitForBackgroundSave()
        XCTAssertEqual(decodedDump(), cut)
        XCTAssertGreaterThan(Int(info("rdb_last_bgsave_early_serialized_bytes")) ?? 0, 0)
    }

    func testBgsaveInsideExecIsScheduledForTheCron() {
        XCTAssertEqual(run("MULTI"), "+OK\r\n")
        XCTAssertEqual(run("SET", "a", "1"), "+QUEUED\r\n")
        XCTAssertEqual(run("BGSAVE"), "+QUEUED\r\n")
        XCTAssertEqual(run("EXEC"), "*2\r\n+OK\r\n+Background saving scheduled\r\n")
        XCTAssertEqual(info("rdb_bgsave_in_progress"), "0")
        onLoop { self.server.persistence.cron() }
        waitForBackgroundSave()
        XCTAssertEqual(decodedDump(), ["0/a": "1"])
    }

    // MARK: save points and MISCONF

    func testSavePointsStartABackgroundSaveFromTheCron() {
        makeServer([("save", ["100 3"])])
        run("SET", "a", "1")
        run("SET", "b", "2")
        onLoop { self.server.persistence.lastSaveTime -= 101; self.server.persistence.cron() }
        XCTAssertEqual(info("rdb_bgsave_in_progress"), "0")        // 2 changes < 3
        run("SET", "c", "3")
        onLoop { self.server.persistence.cron() }
        waitForBackgroundSave()
        XCTAssertEqual(decodedDump(), ["0/a": "1", "0/b": "2", "0/c": "3"])
        XCTAssertEqual(info("rdb_changes_since_last_save"), "0")
        run("SET", "d", "4")
        run("SET", "e", "5")
        run("SET", "f", "6")
        onLoop { self.server.persistence.cron() }                   // only just saved: not yet
        XCTAssertEqual(info("rdb_bgsave_in_progress"), "0")
        XCTAssertEqual(info("rdb_saves"), "1")
    }

    /// Each write, fsync and rename of a background save, failed in turn (EIO): the file on
    /// disk is always the old snapshot or the new one, no temp file is left, the status turns
    /// err and writes get MISCONF until a save succeeds.
    func testEveryInjectedFailureLeavesALoadableFileAndReportsErr() throws {
        makeServer([("save", ["3600 1"])])
        server.persistence.sliceMicros = 10_000_000   // one slice: the same calls every time
        populate(3000)
        // Baseline: a clean save, counting the calls a save makes.
        let counting = Sys()
        server.persistence.sys = counting
        XCTAssertEqual(run("BGSAVE"), "+Background saving started\r\n")
        waitForBackgroundSave()
        XCTAssertEqual(info("rdb_last_bgsave_status"), "ok")
        let calls: [SysCall: Int] = [.write: counting.count(.write), .fsync: counting.count(.fsync), .rename: counting.count(.rename)]
        XCTAssertGreaterThanOrEqual(calls[.write]!, 2)
        XCTAssertEqual(calls[.fsync], 2)       // the file, the directory
        XCTAssertEqual(calls[.rename], 1)

        var previous = try XCTUnwrap(decodedDump())
        var round = 0
        for kind in [SysCall.write, .fsync, .rename] {
            for index in 1...calls[kind]! {
                round += 1
                run("SET", "round", String(round))
                var next = previous
                next["0/round"] = String(round)
                let faulty = Sys()
                faulty.faults.fail(kind, at: index, with: .errno(EIO))
                server.persistence.sys = faulty
                XCTAssertEqual(run("BGSAVE"), "+Background saving started\r\n")
                waitForBackgroundSave()
                let label = "\(kind) #\(index)"
                XCTAssertEqual(info("rdb_last_bgsave_status"), "err", label)
                let onDisk = try XCTUnwrap(decodedDump(), label)
                // Only a failed directory fsync (after the rename) leaves the new file.
                let renamed = kind == .fsync && index == 2
                XCTAssertEqual(onDisk, renamed ? next : previous, label)
                XCTAssertEqual(tempFiles(), [], label)
                XCTAssertEqual(run("SET", "x", "y").prefix(8), "-MISCONF", label)
                XCTAssertEqual(run("PING").prefix(8), "-MISCONF", label)
                XCTAssertEqual(run("GET", "round"), "$\(String(round).count)\r\n\(round)\r\n", label)
                // A good save clears the error.
                server.persistence.sys = Sys()
                XCTAssertEqual(run("BGSAVE"), "+Background saving started\r\n")
                waitForBackgroundSave()
                XCTAssertEqual(info("rdb_last_bgsave_status"), "ok", label)
                XCTAssertEqual(run("SET", "x", "y"), "+OK\r\n", label)
                run("DEL", "x")
                previous = next
            }
        }
        XCTAssertEqual(round, calls[.write]! + 3)
    }

    func testMisconfTextTransactionsAndTheSwitch() {
        makeServer([("save", ["3600 1"])])
        let faulty = Sys()
        faulty.faults.fail(.rename, at: 1, with: .errno(EIO))
        server.persistence.sys = faulty
        run("SET", "a", "1")
        XCTAssertEqual(run("BGSAVE"), "+Background saving started\r\n")
        waitForBackgroundSave()
        let misconf = "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.\r\n"
        XCTAssertEqual(run("SET", "a", "2"), misconf)
        XCTAssertEqual(run("PING"), misconf)
        XCTAssertEqual(run("GET", "a"), "$1\r\n1\r\n")
        XCTAssertEqual(run("MULTI"), "+OK\r\n")
        XCTAssertEqual(run("INCR", "a"), misconf)
        XCTAssertEqual(run("EXEC"), "-EXECABORT Transaction discarded because of previous errors.\r\n")
        XCTAssertEqual(run("CONFIG", "SET", "stop-writes-on-bgsave-error", "no"), "+OK\r\n")
        XCTAssertEqual(run("SET", "a", "2"), "+OK\r\n")
        XCTAssertEqual(run("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"), "+OK\r\n")
        XCTAssertEqual(run("SET", "a", "3"), misconf)
        XCTAssertEqual(run("CONFIG", "SET", "save", ""), "+OK\r\n")   // no save points: no MISCONF
        XCTAssertEqual(run("SET", "a", "3"), "+OK\r\n")
        XCTAssertEqual(info("rdb_last_bgsave_status"), "err")
    }

    func testAFailedSaveDoesNotChangeTheBgsaveStatus() {
        let faulty = Sys()
        faulty.faults.fail(.fsync, at: 1, with: .errno(EIO))
        server.persistence.sys = faulty
        run("SET", "a", "1")
        XCTAssertEqual(run("SAVE"), "-ERR\r\n")
        XCTAssertEqual(info("rdb_last_bgsave_status"), "ok")
        XCTAssertEqual(info("rdb_changes_since_last_save"), "1")
        XCTAssertNil(dumpBytes())
        XCTAssertEqual(tempFiles(), [])
    }

    // MARK: shutdown

    func testShutdownSavesOnlyWithSavePointsOrSAVEAndNeverWithNOSAVE() {
        makeServer([("save", [""])])
        run("SET", "a", "1")
        XCTAssertNil(onLoop { self.server.persistence.prepareForShutdown(save: nil, force: false) })
        XCTAssertNil(dumpBytes())
        XCTAssertNil(onLoop { self.server.persistence.prepareForShutdown(save: true, force: false) })
        XCTAssertEqual(decodedDump(), ["0/a": "1"])

        makeServer([("save", ["3600 1"])])
        run("SET", "b", "2")
        XCTAssertNil(onLoop { self.server.persistence.prepareForShutdown(save: false, force: false) })
        XCTAssertEqual(decodedDump(), ["0/a": "1"])
        XCTAssertNil(onLoop { self.server.persistence.prepareForShutdown(save: nil, force: false) })
        XCTAssertEqual(decodedDump(), ["0/b": "2"])

        let faulty = Sys()
        faulty.faults.fail(.write, at: 1, with: .errno(ENOSPC))
        server.persistence.sys = faulty
        XCTAssertEqual(onLoop { self.server.persistence.prepareForShutdown(save: nil, force: false) },
                       "Errors trying to SHUTDOWN. Check logs.")
        let faulty2 = Sys()
        faulty2.faults.fail(.write, at: 1, with: .errno(ENOSPC))
        server.persistence.sys = faulty2
        XCTAssertNil(onLoop { self.server.persistence.prepareForShutdown(save: nil, force: true) })
    }

    func testShutdownStopsABackgroundSaveAndRemovesItsTempFile() {
        makeServer([("rdb-key-save-delay", ["200000"]), ("save", [""])])
        populate(5)
        XCTAssertEqual(run("BGSAVE"), "+Background saving started\r\n")
        XCTAssertNil(onLoop { self.server.persistence.prepareForShutdown(save: false, force: false) })
        XCTAssertEqual(info("rdb_bgsave_in_progress"), "0")
        XCTAssertEqual(info("rdb_last_bgsave_status"), "ok")
        XCTAssertEqual(tempFiles(), [])
        XCTAssertNil(dumpBytes())
    }

    // MARK: loading

    func testStartupLoadRestoresTheDatasetAndDropsExpiredKeys() throws {
        populate(50)
        run("SET", "soon", "x", "PX", "100")
        run("SELECT", "7")
        run("SET", "seven", "7")
        XCTAssertEqual(run("SAVE"), "+OK\r\n")
        let digest = run("DEBUG", "DIGEST")
        makeServer()
        usleep(150_000)
        try onLoop { Result { try self.server.persistence.loadAtStartup() } }.get()
        XCTAssertEqual(info("rdb_last_load_keys_loaded"), "51")
        XCTAssertEqual(info("rdb_last_load_keys_expired"), "1")
        XCTAssertEqual(run("DBSIZE"), ":50\r\n")
        run("SELECT", "7")
        XCTAssertEqual(run("GET", "seven"), "$1\r\n7\r\n")
        XCTAssertNotEqual(run("DEBUG", "DIGEST"), digest)   // "soon" is gone
    }

    func testACorruptFileStopsStartupWithOffsetAndLoadsNothing() throws {
        makeServer([("rdbcompression", ["no"])])
        populate(20)
        XCTAssertEqual(run("SAVE"), "+OK\r\n")
        var bytes = try XCTUnwrap(dumpBytes())
        let at = bytes.count / 2
        bytes[at] = 0xEE
        _ = FileManager.default.createFile(atPath: dumpPath, contents: Data(bytes))
        makeServer()
        run("SET", "already", "here")
        let result = onLoop { Result { try self.server.persistence.loadAtStartup() } }
        XCTAssertThrowsError(try result.get()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("Fatal error loading the DB \(self.dir)/dump.rdb at byte offset "), text)
            XCTAssertTrue(text.hasSuffix(". Exiting."), text)
        }
        XCTAssertEqual(run("DBSIZE"), ":1\r\n")
        XCTAssertEqual(run("GET", "already"), "$4\r\nhere\r\n")

        _ = FileManager.default.createFile(atPath: dumpPath, contents: Data(bytes.prefix(30)))
        let truncated = onLoop { Result { try self.server.persistence.loadAtStartup() } }
        XCTAssertThrowsError(try truncated.get()) { error in
            XCTAssertTrue("\(error)".contains("at byte offset 30"), "\(error)")
            XCTAssertTrue("\(error)".contains("unexpected end of file"), "\(error)")
        }
    }

    static let loadingReply = "-LOADING Redis is loading the dataset in memory\r\n"

    /// The start-up load in its loading state: a key-load-delay load run on another thread (as
    /// Server.start runs it) while commands run on the loop.
    func startSlowLoad(keys: Int, delayMicros: Int, save: String = "") throws -> (RDBPersistence.StartupLoad, () -> Result<Bool, Error>) {
        populate(keys)
        XCTAssertEqual(run("SAVE"), "+OK\r\n")
        makeServer([("key-load-delay", [String(delayMicros)]), ("save", [save])])
        let load = try XCTUnwrap(try onLoop { Result { try self.server.persistence.prepareStartupLoad() } }.get())
        final class Box: @unchecked Sendable { var result: Result<Bool, Error>? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let persistence = server.persistence!
        Thread.detachNewThread {
            box.result = Result { try persistence.runStartupLoad(load) }
            done.signal()
        }
        return (load, { done.wait(); return box.result! })
    }

    func testTheStartupLoadRefusesCommandsWithLOADINGUntilItIsInPlace() throws {
        let (_, wait) = try startSlowLoad(keys: 300, delayMicros: 2000)
        let size = try XCTUnwrap(dumpBytes()).count
        XCTAssertEqual(run("PING"), Self.loadingReply)
        XCTAssertEqual(run("SET", "k", "v"), Self.loadingReply)
        XCTAssertEqual(run("DEBUG", "RELOAD"), Self.loadingReply)
        XCTAssertEqual(run("CONFIG", "GET", "key-load-delay"), "*2\r\n$14\r\nkey-load-delay\r\n$4\r\n2000\r\n")
        XCTAssertEqual(run("MULTI"), "+OK\r\n")
        XCTAssertEqual(run("DBSIZE"), Self.loadingReply)
        XCTAssertEqual(run("EXEC"), "-EXECABORT Transaction discarded because of previous errors.\r\n")
        XCTAssertEqual(run("FOO"), "-ERR unknown command 'FOO', with args beginning with: \r\n")
        XCTAssertEqual(info("loading"), "1")
        XCTAssertEqual(info("loading_total_bytes"), String(size))
        let text = onLoop { self.server.infoText(sections: ["persistence"]) }
        let names = text.split(separator: "\r\n").map { $0.split(separator: ":").first.map(String.init) ?? "" }
        XCTAssertEqual(Array(names.suffix(8)), ["aof_enabled", "aof_rewrite_in_progress", "loading_start_time", "loading_total_bytes",
                                                "loading_rdb_used_mem", "loading_loaded_bytes", "loading_loaded_perc", "loading_eta_seconds"])
        XCTAssertEqual(try wait().get(), true)
        XCTAssertEqual(run("PING"), "+PONG\r\n")
        XCTAssertEqual(run("DBSIZE"), ":300\r\n")
        XCTAssertEqual(info("loading"), "0")
        XCTAssertEqual(info("loading_total_bytes"), "<missing loading_total_bytes>")
        XCTAssertEqual(info("rdb_last_load_keys_loaded"), "300")
    }

    /// Redis forces NOSAVE on a shutdown during the load: with save points set and SAVE asked,
    /// the file stays as it was and the load stops without swapping anything in.
    func testShutdownDuringTheStartupLoadStopsItAndSavesNothing() throws {
        let (load, wait) = try startSlowLoad(keys: 300, delayMicros: 5000, save: "1 1")
        let before = try XCTUnwrap(dumpBytes())
        XCTAssertEqual(run("PING"), Self.loadingReply)
        XCTAssertNil(onLoop { self.server.persistence.prepareForShutdown(save: true, force: false) })
        XCTAssertTrue(load.monitor.isCancelled)
        XCTAssertEqual(try wait().get(), false)
        XCTAssertEqual(dumpBytes(), before)
        XCTAssertEqual(tempFiles(), [])
        XCTAssertEqual(info("loading"), "1")   // the server is exiting: nothing was swapped in
    }

    func testLoadingProgressIsFileBytesOfTheFileSize() throws {
        let (load, wait) = try startSlowLoad(keys: 200, delayMicros: 1000)
        let size = try XCTUnwrap(dumpBytes()).count
        let lines = onLoop { self.server.persistence.loadingInfoLines() }
        XCTAssertEqual(lines.count, 6)
        let p = load.monitor.progress
        XCTAssertTrue(p.fileBytesRead <= size)
        XCTAssertEqual(try wait().get(), true)
        XCTAssertEqual(load.monitor.progress.fileBytesRead, size)
        XCTAssertEqual(load.monitor.progress.keysLoaded, 200)
        XCTAssertEqual(onLoop { self.server.persistence.loadingInfoLines() }, [])
    }

    /// Listpack sets (Redis 7.2's encoding) survive DEBUG RELOAD with the digest unchanged,
    /// written plain with rdb-version 10 and as listpacks with 11.
    func testDebugReloadKeepsListpackSetsInBothRDBVersions() {
        for i in 0..<50 { run("SADD", "set:\(i)", "member-\(i)", "member-x", "\(i)") }
        run("SADD", "ints", "3", "1", "2")
        run(["SADD", "big"] + (0..<200).map { "m\($0)" })
        let digest = run("DEBUG", "DIGEST")
        for version in ["10", "11"] {
            XCTAssertEqual(run("CONFIG", "SET", "rdb-version", version), "+OK\r\n")
            XCTAssertEqual(run("DEBUG", "RELOAD"), "+OK\r\n")
            XCTAssertEqual(run("DEBUG", "DIGEST"), digest, version)
            XCTAssertEqual(run("OBJECT", "ENCODING", "set:7"), "$8\r\nlistpack\r\n", version)
            XCTAssertEqual(run("SMEMBERS", "set:7"), "*3\r\n$8\r\nmember-7\r\n$8\r\nmember-x\r\n$1\r\n7\r\n", version)
            XCTAssertEqual(run("OBJECT", "ENCODING", "ints"), "$6\r\nintset\r\n", version)
            XCTAssertEqual(run("OBJECT", "ENCODING", "big"), "$9\r\nhashtable\r\n", version)
        }
    }

    func testDebugReloadSavesAndLoadsBack() {
        populate(200)
        run("SET", "ttl", "v", "EX", "1000")
        let digest = run("DEBUG", "DIGEST")
        XCTAssertEqual(run("DEBUG", "RELOAD"), "+OK\r\n")
        XCTAssertEqual(run("DEBUG", "DIGEST"), digest)
        XCTAssertTrue([":1000\r\n", ":999\r\n"].contains(run("TTL", "ttl")))
        XCTAssertEqual(decodedDump()?.count, 201)
        run("SET", "extra", "1")
        XCTAssertEqual(run("DEBUG", "RELOAD", "NOSAVE"), "+OK\r\n")
        XCTAssertEqual(run("EXISTS", "extra"), ":0\r\n")
        XCTAssertEqual(run("DEBUG", "DIGEST"), digest)
        XCTAssertEqual(run("DEBUG", "RELOAD", "BOGUS"), "-ERR syntax error\r\n")
    }

    func testInfoPersistenceFieldsInRedisOrder() {
        let text = onLoop { self.server.infoText(sections: ["persistence"]) }
        let names = text.split(separator: "\r\n").map { $0.split(separator: ":").first.map(String.init) ?? "" }
        XCTAssertEqual(names, ["# Persistence", "loading", "async_loading", "current_save_keys_processed", "current_save_keys_total",
                               "rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time",
                               "rdb_last_bgsave_status", "rdb_last_bgsave_time_sec", "rdb_current_bgsave_time_sec",
                               "rdb_saves", "rdb_last_bgsave_early_serialized_bytes", "rdb_last_load_keys_expired",
                               "rdb_last_load_keys_loaded", "aof_enabled", "aof_rewrite_in_progress"])
        XCTAssertEqual(info("rdb_last_bgsave_time_sec"), "-1")
        XCTAssertEqual(info("rdb_current_bgsave_time_sec"), "-1")
        XCTAssertEqual(info("rdb_saves"), "0")
    }

    func testConfigDefaults() {
        let c = ConfigRegistry()
        XCTAssertEqual(c["rdbcompression"], "lz4")
        XCTAssertEqual(c["rdbchecksum"], "yes")
        XCTAssertEqual(c["stop-writes-on-bgsave-error"], "yes")
        XCTAssertEqual(c["rdb-del-sync-files"], "no")
        XCTAssertEqual(c["rdb-version"], "10")
        XCTAssertEqual(c["rdb-key-save-delay"], "0")
        XCTAssertEqual(c["key-load-delay"], "0")
        XCTAssertEqual(c["dbfilename"], "dump.rdb")
    }
}
