import CairnFormats
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Snapshots between real processes: Cairn restarts from its own snapshots, loads Redis's, and
/// Redis 7.0 (redis-server, redis-check-rdb) loads Cairn's; DUMP/RESTORE both ways.
final class SnapshotIntegrationTests: XCTestCase {
    var servers: [ServerProcess] = []
    var dirs: [String] = []

    override func tearDown() {
        // Stop every server before removing any directory: restarts share one, and a server
        // whose directory vanished cannot make its final save (so it would refuse to exit).
        for s in servers.reversed() { s.stop() }
        for s in servers { s.cleanup() }
        servers = []
        for d in dirs { try? FileManager.default.removeItem(atPath: d) }
        dirs = []
    }

    func cairn(_ extra: [String] = [], dir: String? = nil) throws -> ServerProcess {
        let s = try ServerProcess(extraArgs: ["--enable-debug-command", "yes"] + extra, dir: dir)
        servers.append(s)
        return s
    }

    /// A cairn-server that may still be loading (it accepts connections; PING may be -LOADING).
    func cairnLoading(_ extra: [String] = [], dir: String) throws -> ServerProcess {
        let s = try ServerProcess(extraArgs: ["--enable-debug-command", "yes"] + extra, dir: dir, waitForPong: false)
        servers.append(s)
        return s
    }

    func redis(_ extra: [String] = [], dir: String? = nil) throws -> ServerProcess {
        guard let path = Harness.which("redis-server") else { throw XCTSkip("redis-server is not installed") }
        let s = try ServerProcess(binary: path, extraArgs: extra, dir: dir)
        servers.append(s)
        return s
    }

    func newDir() -> String {
        let d = Harness.tempDirectory("cairn-snap")
        dirs.append(d)
        return d
    }

    /// Waits for a process that was told to exit (SHUTDOWN) and returns its status.
    @discardableResult
    func waitForExit(_ s: ServerProcess, seconds: Double = 20) -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while s.process.isRunning && Date() < deadline { usleep(10_000) }
        if s.process.isRunning { s.stop() }
        s.process.waitUntilExit()
        return s.process.terminationStatus
    }

    static func bulkBody(_ reply: [UInt8]) -> [UInt8]? {
        guard reply.first == UInt8(ascii: "$"), let nl = reply.firstIndex(of: 10) else { return nil }
        let n = Int(String(decoding: reply[1..<(nl - 1)], as: UTF8.self))!
        if n < 0 { return nil }
        return Array(reply[(nl + 1)..<(nl + 1 + n)])
    }

    func infoField(_ c: RESPConnection, _ name: String) throws -> String? {
        let text = try c.command("INFO", "persistence")
        for line in text.split(separator: "\r\n") where line.hasPrefix(name + ":") {
            return String(line.dropFirst(name.count + 1))
        }
        return nil
    }

    /// Every string shape the RDB has an encoding for, in several databases, some with TTLs.
    struct Dataset {
        struct Key { var db: Int; var key: [UInt8]; var value: [UInt8]; var pxat: Int64? }
        var keys: [Key] = []

        static func standard(nowMs: Int64) -> Dataset {
            var d = Dataset()
            let values: [String] = ["", "0", "7", "-1", "127", "-128", "128", "32767", "-32768", "32768", "2147483647",
                                    "-2147483648", "2147483648", "9223372036854775807", "-9223372036854775808",
                                    "007", "+5", "1.5", "hello", "with space", String(repeating: "a", count: 21),
                                    String(repeating: "abcdefgh", count: 40), String(repeating: "xyz", count: 30_000)]
            for (i, v) in values.enumerated() {
                d.keys.append(Key(db: 0, key: Array("s\(i)".utf8), value: Array(v.utf8), pxat: nil))
            }
            d.keys.append(Key(db: 0, key: [0, 1, 2, 13, 10, 255], value: [0, 0, 13, 10, 0x80, 0xFF, 0], pxat: nil))
            d.keys.append(Key(db: 0, key: Array("ttl-ms".utf8), value: Array("v".utf8), pxat: nowMs + 3_600_123))
            d.keys.append(Key(db: 0, key: Array("ttl-far".utf8), value: Array("42".utf8), pxat: 4_102_444_800_123))
            for db in [1, 5, 15] {
                for i in 0..<50 {
                    d.keys.append(Key(db: db, key: Array("db\(db)-\(i)".utf8), value: Array("value \(i) in \(db)".utf8),
                                      pxat: i % 10 == 0 ? nowMs + 7_200_000 + Int64(i) : nil))
                }
            }
            return d
        }

        func write(to c: RESPConnection) throws {
            var db = -1
            for k in keys {
                if k.db != db {
                    XCTAssertEqual(try c.command("SELECT", String(k.db)), "+OK\r\n")
                    db = k.db
                }
                var argv = [Array("SET".utf8), k.key, k.value]
                if let at = k.pxat { argv += [Array("PXAT".utf8), Array(String(at).utf8)] }
                XCTAssertEqual(try c.commandBytes(argv), Array("+OK\r\n".utf8))
            }
            _ = try c.command("SELECT", "0")
        }

        /// Asserts a server holds exactly these keys (GET, PEXPIRETIME, DBSIZE per database).
        func verify(on c: RESPConnection, label: String, file: StaticString = #filePath, line: UInt = #line) throws {
            var counts: [Int: Int] = [:]
            for k in keys { counts[k.db, default: 0] += 1 }
            for (db, n) in counts {
                _ = try c.command("SELECT", String(db))
                XCTAssertEqual(try c.command("DBSIZE"), ":\(n)\r\n", "\(label) db \(db)", file: file, line: line)
            }
            var db = -1
            for k in keys {
                if k.db != db { _ = try c.command("SELECT", String(k.db)); db = k.db }
                let got = try c.commandBytes([Array("GET".utf8), k.key])
                XCTAssertEqual(SnapshotIntegrationTests.bulkBody(got), k.value, "\(label) GET \(k.key)", file: file, line: line)
                let ttl = String(decoding: try c.commandBytes([Array("PEXPIRETIME".utf8), k.key]), as: UTF8.self)
                XCTAssertEqual(ttl, ":\(k.pxat ?? -1)\r\n", "\(label) PEXPIRETIME \(k.key)", file: file, line: line)
            }
            _ = try c.command("SELECT", "0")
        }
    }

    func copyFile(_ from: String, _ to: String) throws {
        if FileManager.default.fileExists(atPath: to) { try FileManager.default.removeItem(atPath: to) }
        try FileManager.default.copyItem(atPath: from, toPath: to)
    }

    // MARK: restart

    func testDataSurvivesShutdownAndRestart() throws {
        let s = try cairn(["--save", "3600 1"])
        let c = try s.connect()
        let data = Dataset.standard(nowMs: Int64(Date().timeIntervalSince1970 * 1000))
        try data.write(to: c)
        let digest = try c.command("DEBUG", "DIGEST")
        XCTAssertNotEqual(digest, "+0000000000000000000000000000000000000000\r\n")
        try c.send(RESPConnection.encode([Array("SHUTDOWN".utf8)]))
        XCTAssertTrue(c.isClosedByPeer())
        XCTAssertEqual(waitForExit(s), 0)
        XCTAssertTrue(s.log().contains("Saving the final RDB snapshot before exiting."), s.log())
        let dump = try Data(contentsOf: URL(fileURLWithPath: s.dir + "/dump.rdb"))
        XCTAssertEqual(Array(dump.prefix(4)), [0x04, 0x22, 0x4D, 0x18])   // LZ4 frame by default

        let again = try cairn(["--save", "3600 1"], dir: s.dir)
        let c2 = try again.connect()
        XCTAssertEqual(try c2.command("DEBUG", "DIGEST"), digest)
        try data.verify(on: c2, label: "after restart")
        XCTAssertTrue(again.log().contains("Done loading RDB, keys loaded: \(data.keys.count), keys expired: 0."), again.log())
        XCTAssertEqual(try infoField(c2, "rdb_last_load_keys_loaded"), String(data.keys.count))
    }

    func testShutdownNosaveDoesNotSaveAndSigtermSaves() throws {
        let s = try cairn(["--save", "3600 1"])
        let c = try s.connect()
        XCTAssertEqual(try c.command("SET", "a", "1"), "+OK\r\n")
        try c.send(RESPConnection.encode([Array("SHUTDOWN".utf8), Array("NOSAVE".utf8)]))
        XCTAssertTrue(c.isClosedByPeer())
        waitForExit(s)
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.dir + "/dump.rdb"))

        let t = try cairn(["--save", "3600 1"], dir: s.dir)
        let c2 = try t.connect()
        XCTAssertEqual(try c2.command("DBSIZE"), ":0\r\n")
        XCTAssertEqual(try c2.command("SET", "b", "2"), "+OK\r\n")
        XCTAssertEqual(try c2.command("SHUTDOWN", "SAVE", "NOSAVE"), "-ERR syntax error\r\n")
        t.stop()   // SIGTERM: saves because save points are set
        let u = try cairn(["--save", ""], dir: s.dir)
        XCTAssertEqual(try u.connect().command("GET", "b"), "$1\r\n2\r\n")
    }

    func testBgsaveOverTheWire() throws {
        let s = try cairn(["--rdbcompression", "zlib"])
        let c = try s.connect()
        for i in 0..<1000 { _ = try c.command("SET", "key:\(i)", "value:\(i)") }
        let before = try c.command("LASTSAVE")
        XCTAssertEqual(try c.command("BGSAVE"), "+Background saving started\r\n")
        var status: String?
        for _ in 0..<500 {
            if try infoField(c, "rdb_bgsave_in_progress") == "0" { status = try infoField(c, "rdb_last_bgsave_status"); break }
            usleep(10_000)
        }
        XCTAssertEqual(status, "ok")
        XCTAssertEqual(try infoField(c, "rdb_saves"), "1")
        XCTAssertEqual(try infoField(c, "rdb_changes_since_last_save"), "0")
        XCTAssertGreaterThanOrEqual(try c.command("LASTSAVE"), before)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: s.dir + "/dump.rdb")))
        XCTAssertEqual(bytes.first, 0x78)
        let rdb = try readRDB(try decompress(bytes))
        XCTAssertEqual(rdb.keys.count, 1000)
        XCTAssertEqual(rdb.record(Bytes("key:7"))?.value, .string(Bytes("value:7")))
        XCTAssertTrue(s.log().contains("Background saving terminated with success"), s.log())
    }

    // MARK: Redis → Cairn

    func testCairnLoadsARedisDumpKeyByKey() throws {
        let r = try redis()
        let rc = try r.connect()
        let data = Dataset.standard(nowMs: Int64(Date().timeIntervalSince1970 * 1000))
        try data.write(to: rc)
        XCTAssertEqual(try rc.command("SAVE"), "+OK\r\n")
        let dir = newDir()
        try copyFile(r.dir + "/dump.rdb", dir + "/dump.rdb")
        let s = try cairn([], dir: dir)
        XCTAssertTrue(s.log().contains("Loading RDB produced by version 7.0.15"), s.log())
        try data.verify(on: try s.connect(), label: "Redis dump in Cairn")
    }

    // MARK: Cairn → Redis

    @discardableResult
    func checkRedisCheckRdb(_ file: String, label: String) throws -> String {
        guard let check = Harness.which("redis-check-rdb") else { throw XCTSkip("redis-check-rdb is not installed") }
        let (status, out, err) = Harness.run(check, [file])
        XCTAssertEqual(status, 0, "\(label): \(out)\(err)")
        XCTAssertTrue(out.contains("\\o/ RDB looks OK! \\o/"), "\(label): \(out)")
        return out
    }

    func checkRedisLoads(_ file: String, _ data: Dataset, label: String) throws {
        let out = try checkRedisCheckRdb(file, label: label)
        XCTAssertTrue(out.contains("[info] \(data.keys.count) keys read"), "\(label): \(out)")
        let dir = newDir()
        try copyFile(file, dir + "/dump.rdb")
        let r = try redis([], dir: dir)
        try data.verify(on: try r.connect(), label: label)
        r.cleanup()
    }

    func testRedisAcceptsCairnSnapshotsWithLZFAndWithoutCompression() throws {
        for setting in ["lzf", "no", "yes"] {
            let s = try cairn(["--rdbcompression", setting])
            let c = try s.connect()
            let data = Dataset.standard(nowMs: Int64(Date().timeIntervalSince1970 * 1000))
            try data.write(to: c)
            XCTAssertEqual(try c.command("SAVE"), "+OK\r\n")
            let path = s.dir + "/dump.rdb"
            XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: path)).prefix(9)), Array("REDIS0010".utf8))
            try checkRedisLoads(path, data, label: "rdbcompression \(setting)")
        }
    }

    func testLZ4DecompressedDefaultSnapshotLoadsInRedis() throws {
        guard let lz4 = Harness.which("lz4") else { throw XCTSkip("lz4 is not installed") }
        let s = try cairn()
        let c = try s.connect()
        let data = Dataset.standard(nowMs: Int64(Date().timeIntervalSince1970 * 1000))
        try data.write(to: c)
        XCTAssertEqual(try c.command("SAVE"), "+OK\r\n")
        let plain = newDir() + "/plain.rdb"
        let (status, _, err) = Harness.run(lz4, ["-d", "-f", s.dir + "/dump.rdb", plain])
        XCTAssertEqual(status, 0, err)
        try checkRedisLoads(plain, data, label: "lz4 -d")

        guard let flate = Harness.which("zlib-flate") else { return }
        XCTAssertEqual(try c.command("CONFIG", "SET", "rdbcompression", "zlib"), "+OK\r\n")
        XCTAssertEqual(try c.command("SAVE"), "+OK\r\n")
        let zplain = newDir() + "/plain.rdb"
        let r = Harness.run("/bin/sh", ["-c", "\(flate) -uncompress < '\(s.dir)/dump.rdb' > '\(zplain)'"])
        XCTAssertEqual(r.0, 0, r.2)
        try checkRedisLoads(zplain, data, label: "zlib-flate -uncompress")
    }

    /// Enough data for several 4 MiB LZ4 blocks (about 11 MB of RDB): strings (half with a
    /// TTL), hashes, lists, intsets and plain sets, sorted sets, in databases 0 and 2.
    static func multiBlockCommands() -> [[[UInt8]]] {
        var cmds: [[[UInt8]]] = []
        func c(_ a: String...) { cmds.append(a.map { Array($0.utf8) }) }
        let filler = String((0..<1000).map { Character(UnicodeScalar(UInt8(0x61 + ($0 * 7919) % 26))) })
        for db in [0, 2] {
            c("SELECT", String(db))
            for i in 0..<(db == 0 ? 36_000 : 1_200) {
                switch i % 6 {
                case 0, 1:
                    let v = "\(i)-" + filler.prefix(600 + i % 400)
                    if i % 2 == 0 { c("SET", "str:\(i)", v, "PXAT", String(4_102_444_800_000 + i)) } else { c("SET", "str:\(i)", v) }
                case 2: c("HSET", "hash:\(i)", "f1", "v\(i)", "f2", String(i * 3), "f3", "long-" + filler.prefix(80))
                case 3: c("RPUSH", "list:\(i)", "a\(i)", String(i), "b", "c")
                case 4:
                    if i % 12 == 4 { c("SADD", "set:\(i)", "1", String(i), "70000") } else { c("SADD", "set:\(i)", "m\(i)", "n\(i)") }
                default: c("ZADD", "zset:\(i)", "1.5", "a\(i)", String(i), "b", "-2", "c")
                }
            }
        }
        c("SELECT", "0")
        return cmds
    }

    /// Sends the commands 1000 at a time and checks no reply is an error.
    func pipeline(_ c: RESPConnection, _ cmds: [[[UInt8]]], file: StaticString = #filePath, line: UInt = #line) throws {
        var i = 0
        while i < cmds.count {
            let batch = cmds[i..<min(i + 1000, cmds.count)]
            var out: [UInt8] = []
            for a in batch { out += RESPConnection.encode(a) }
            try c.send(out)
            for _ in batch {
                let reply = try c.readReply()
                XCTAssertNotEqual(reply.first, UInt8(ascii: "-"), String(decoding: reply, as: UTF8.self), file: file, line: line)
            }
            i += batch.count
        }
    }

    /// The block sizes of an LZ4 frame (compressed bytes; bit 31 = stored), without decoding.
    static func lz4BlockSizes(_ file: [UInt8]) -> [Int] {
        var sizes: [Int] = []
        var at = 7   // magic, FLG, BD, HC (no content size)
        while at + 4 <= file.count {
            let word = Int(file[at]) | Int(file[at + 1]) << 8 | Int(file[at + 2]) << 16 | Int(file[at + 3]) << 24
            at += 4
            if word == 0 { break }
            sizes.append(word & 0x7FFF_FFFF)
            at += word & 0x7FFF_FFFF
        }
        return sizes
    }

    /// A BGSAVE that spans several LZ4 blocks: `lz4 -d` gives a file redis-check-rdb accepts and
    /// Redis loads to the same DEBUG DIGEST as Redis fed the same commands; Cairn restarts from it
    /// and DEBUG RELOADs (SAVE then load) with its own digest unchanged.
    func testMultiBlockSnapshotRoundTripsThroughLZ4DecompressAndRedis() throws {
        guard let lz4 = Harness.which("lz4") else { throw XCTSkip("lz4 is not installed") }
        let cmds = Self.multiBlockCommands()
        let s = try cairn()
        let c = try s.connect()
        try pipeline(c, cmds)
        let digest = try c.command("DEBUG", "DIGEST")
        XCTAssertEqual(try c.command("BGSAVE"), "+Background saving started\r\n")
        var status: String?
        for _ in 0..<3000 {
            if try infoField(c, "rdb_bgsave_in_progress") == "0" { status = try infoField(c, "rdb_last_bgsave_status"); break }
            usleep(10_000)
        }
        XCTAssertEqual(status, "ok")
        let file = Array(try Data(contentsOf: URL(fileURLWithPath: s.dir + "/dump.rdb")))
        XCTAssertEqual(Array(file.prefix(7)), [0x04, 0x22, 0x4D, 0x18, 0x64, 0x70, 0xB9])
        let plainBytes = try decompress(file)
        XCTAssertGreaterThan(plainBytes.count, 8 << 20)
        // The header block, then at least ceil(plain / 4 MiB) key blocks.
        XCTAssertGreaterThanOrEqual(Self.lz4BlockSizes(file).count, 1 + (plainBytes.count + (4 << 20) - 1) / (4 << 20))
        XCTAssertEqual(try readRDB(plainBytes).keys.count, 37_200)

        let plain = newDir() + "/plain.rdb"
        let (status2, _, err) = Harness.run(lz4, ["-d", "-f", s.dir + "/dump.rdb", plain])
        XCTAssertEqual(status2, 0, err)
        let check = try checkRedisCheckRdb(plain, label: "multi-block lz4 -d")
        XCTAssertTrue(check.contains("[info] 37200 keys read"), check)
        let fed = try redis(["--enable-debug-command", "yes"])
        let fc = try fed.connect()
        try pipeline(fc, cmds)
        let loadDir = newDir()
        try copyFile(plain, loadDir + "/dump.rdb")
        let loaded = try redis(["--enable-debug-command", "yes"], dir: loadDir)
        XCTAssertEqual(try loaded.connect().command("DEBUG", "DIGEST"), try fc.command("DEBUG", "DIGEST"))

        try c.send(RESPConnection.encode([Array("SHUTDOWN".utf8), Array("NOSAVE".utf8)]))
        XCTAssertTrue(c.isClosedByPeer())
        waitForExit(s)
        let again = try cairn([], dir: s.dir)
        let c2 = try again.connect()
        XCTAssertEqual(try c2.command("DEBUG", "DIGEST"), digest)
        XCTAssertEqual(try c2.command("DEBUG", "RELOAD"), "+OK\r\n")
        XCTAssertEqual(try c2.command("DEBUG", "DIGEST"), digest)
        let saved = Array(try Data(contentsOf: URL(fileURLWithPath: s.dir + "/dump.rdb")))
        XCTAssertEqual(try readRDB(try decompress(saved)).keys.count, 37_200)
        XCTAssertGreaterThanOrEqual(Self.lz4BlockSizes(saved).count, 1 + (plainBytes.count + (4 << 20) - 1) / (4 << 20))
    }

    // MARK: crashes and damage

    func testKill9DuringBgsaveLeavesThePreviousSnapshotIntact() throws {
        // 20 ms per key written: the background save of 500 keys takes 10 s.
        let s = try cairn(["--rdb-key-save-delay", "20000", "--save", ""])
        let c = try s.connect()
        for i in 0..<500 { _ = try c.command("SET", "k\(i)", "first-\(i)") }
        XCTAssertEqual(try c.command("SAVE"), "+OK\r\n")
        let digest = try c.command("DEBUG", "DIGEST")
        let saved = try Data(contentsOf: URL(fileURLWithPath: s.dir + "/dump.rdb"))
        for i in 0..<500 { _ = try c.command("SET", "k\(i)", "second-\(i)") }
        XCTAssertEqual(try c.command("BGSAVE"), "+Background saving started\r\n")
        usleep(300_000)
        XCTAssertEqual(try infoField(c, "rdb_bgsave_in_progress"), "1")
        let temps = try FileManager.default.contentsOfDirectory(atPath: s.dir).filter { $0.hasPrefix("temp-") }
        XCTAssertEqual(temps, ["temp-\(s.process.processIdentifier).rdb"])
        kill(s.process.processIdentifier, SIGKILL)
        s.process.waitUntilExit()
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: s.dir + "/dump.rdb")), saved)

        let again = try cairn(["--save", ""], dir: s.dir)
        let c2 = try again.connect()
        XCTAssertEqual(try c2.command("DEBUG", "DIGEST"), digest)
        XCTAssertEqual(try c2.command("GET", "k7"), "$7\r\nfirst-7\r\n")
    }

    func testCorruptSnapshotRefusesStartupWithTheOffsetInTheLog() throws {
        let s = try cairn(["--rdbcompression", "no"])
        let c = try s.connect()
        for i in 0..<100 { _ = try c.command("SET", "key\(i)", "value-\(i)") }
        XCTAssertEqual(try c.command("SAVE"), "+OK\r\n")
        s.stop()
        let path = s.dir + "/dump.rdb"
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        // Turn one value's length byte into an invalid length encoding (10xxxxxx, not 0x80/0x81).
        let marker = Array("key50".utf8)
        let at = bytes.indices.first { bytes[$0...].starts(with: marker) }! + marker.count
        bytes[at] = 0x9F
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try cairn(["--rdbcompression", "no"], dir: s.dir))
        let log = try String(contentsOfFile: s.dir + "/server.log", encoding: .utf8)
        XCTAssertTrue(log.contains("Fatal error loading the DB \(s.dir)/dump.rdb at byte offset \(at), key \"key50\": invalid length encoding 0x9f"), log)
        XCTAssertFalse(log.contains("Ready to accept connections"), log)

        // A truncated LZ4 file: the container's offset.
        try Data(try compress(Array(bytes.prefix(bytes.count - 100)), format: .lz4).dropLast(10)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try cairn([], dir: s.dir))
        let log2 = try String(contentsOfFile: s.dir + "/server.log", encoding: .utf8)
        XCTAssertTrue(log2.contains("Fatal error loading the DB \(s.dir)/dump.rdb at "), log2)
        XCTAssertTrue(log2.contains("offset"), log2)
    }

    // MARK: loading

    static let loadingReply = "-LOADING Redis is loading the dataset in memory\r\n"

    /// A snapshot of `n` keys in a fresh directory (written by a server that is then stopped).
    func savedDataset(_ n: Int, redis useRedis: Bool = false) throws -> (dir: String, bytes: Data) {
        let s = useRedis ? try redis() : try cairn(["--save", ""])
        let c = try s.connect()
        for i in 0..<n { _ = try c.command("SET", "key:\(i)", "value-\(i)") }
        XCTAssertEqual(try c.command("SAVE"), "+OK\r\n")
        s.stop()
        return (s.dir, try Data(contentsOf: URL(fileURLWithPath: s.dir + "/dump.rdb")))
    }

    /// While the start-up load runs (made slow with key-load-delay), clients are served:
    /// PING and DBSIZE get -LOADING, INFO shows loading:1 and the loading_* fields; then PONG
    /// and the whole dataset.
    func testClientsGetLOADINGWhileTheSnapshotLoadsThenPONG() throws {
        let (dir, bytes) = try savedDataset(3000)
        let s = try cairnLoading(["--key-load-delay", "500"], dir: dir)   // 3000 keys: about 2 s
        let c = try s.connect()
        XCTAssertEqual(try loadingScript(c), Self.loadingScriptReplies)
        XCTAssertEqual(try infoField(c, "loading"), "1")
        XCTAssertEqual(try infoField(c, "loading_total_bytes"), String(bytes.count))
        let loaded = Int(try XCTUnwrap(infoField(c, "loading_loaded_bytes"))) ?? -1
        XCTAssertTrue((0...bytes.count).contains(loaded), "\(loaded)")
        XCTAssertNotNil(try infoField(c, "loading_eta_seconds"))
        XCTAssertNotNil(try infoField(c, "loading_loaded_perc"))
        let deadline = Date().addingTimeInterval(60)
        var reply = ""
        repeat {
            reply = try c.command("PING")
            if reply != "+PONG\r\n" { usleep(20_000) }
        } while reply == Self.loadingReply && Date() < deadline
        XCTAssertEqual(reply, "+PONG\r\n")
        XCTAssertEqual(try c.command("DBSIZE"), ":3000\r\n")
        XCTAssertEqual(try c.command("GET", "key:2999"), "$10\r\nvalue-2999\r\n")
        XCTAssertEqual(try infoField(c, "loading"), "0")
        XCTAssertNil(try infoField(c, "loading_total_bytes"))
        XCTAssertEqual(try infoField(c, "rdb_last_load_keys_loaded"), "3000")
        let log = s.log()
        let initialized = try XCTUnwrap(log.range(of: "Server initialized"))
        let ready = try XCTUnwrap(log.range(of: "Ready to accept connections"))
        XCTAssertTrue(initialized.lowerBound < ready.lowerBound, log)
    }

    /// Commands while loading, and what Redis 7.0 answers to them.
    static let loadingScriptReplies = [loadingReply, loadingReply, "$10\r\nstill here\r\n", "+OK\r\n", loadingReply,
                                       "-EXECABORT Transaction discarded because of previous errors.\r\n"]

    func loadingScript(_ c: RESPConnection) throws -> [String] {
        [try c.command("PING"), try c.command("DBSIZE"), try c.command("ECHO", "still here"),
         try c.command("MULTI"), try c.command("GET", "key:1"), try c.command("EXEC")]
    }

    /// The replies above are Redis's: redis-server loading with the same delay (and its event
    /// processing every KB, so a small file is served while it loads too).
    func testRedisAnswersTheSameWhileItLoads() throws {
        guard let path = Harness.which("redis-server") else { throw XCTSkip("redis-server is not installed") }
        let (dir, _) = try savedDataset(3000, redis: true)
        let s = try ServerProcess(binary: path, extraArgs: ["--key-load-delay", "500", "--loading-process-events-interval-bytes", "1024"],
                                  dir: dir, waitForPong: false)
        servers.append(s)
        XCTAssertEqual(try loadingScript(try s.connect()), Self.loadingScriptReplies)
    }

    /// SHUTDOWN (even SHUTDOWN SAVE, with save points set) during the load stops it and exits
    /// without saving: dump.rdb is left byte for byte as it was.
    func testShutdownDuringTheLoadExitsWithoutSaving() throws {
        let (dir, bytes) = try savedDataset(3000)
        let s = try cairnLoading(["--key-load-delay", "500", "--save", "1 1"], dir: dir)
        let c = try s.connect()
        XCTAssertEqual(try c.command("PING"), Self.loadingReply)
        try c.send(RESPConnection.encode([Array("SHUTDOWN".utf8), Array("SAVE".utf8)]))
        XCTAssertTrue(c.isClosedByPeer())
        XCTAssertEqual(waitForExit(s), 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/dump.rdb")), bytes)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("temp-") }, [])
        XCTAssertTrue(s.log().contains("the load is stopped, nothing is saved"), s.log())
        XCTAssertFalse(s.log().contains("Ready to accept connections"), s.log())
    }

    /// SIGTERM during the load: the same, although save points would save on a SIGTERM after it.
    func testSigtermDuringTheLoadExitsWithoutSaving() throws {
        let (dir, bytes) = try savedDataset(3000)
        let s = try cairnLoading(["--key-load-delay", "500", "--save", "1 1"], dir: dir)
        XCTAssertEqual(try s.connect().command("PING"), Self.loadingReply)
        kill(s.process.processIdentifier, SIGTERM)
        XCTAssertEqual(waitForExit(s), 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/dump.rdb")), bytes)
        XCTAssertTrue(s.log().contains("Received SIGTERM"), s.log())
        XCTAssertFalse(s.log().contains("DB saved on disk"), s.log())
    }

    // MARK: collections

    /// Writes hashes, lists, sets and sorted sets in both of their encodings.
    func writeCollections(_ c: RESPConnection) throws {
        _ = try c.command("HSET", "h-small", "f1", "v1", "f2", "22")
        _ = try c.command("HSET", "h-long", "f", String(repeating: "v", count: 100))
        _ = try c.command("RPUSH", "l-small", "a", "b", "3")
        _ = try c.command("SADD", "s-ints", "3", "1", "2", "-7", "70000", "5000000000")
        _ = try c.command("SADD", "s-strs", "x", "y", "1")
        _ = try c.command("ZADD", "z-small", "1.5", "a", "-2", "b", "3", "c", "inf", "d")
        for i in 0..<600 {
            _ = try c.command("HSET", "h-big", "field\(i)", "value\(i)")
            _ = try c.command("RPUSH", "l-big", "element-\(i)")
            _ = try c.command("SADD", "s-big", String(i * 7))
            _ = try c.command("ZADD", "z-big", String(Double(i) / 3), "member\(i)")
            if i < 200 { _ = try c.command("SADD", "s-strs-big", "member-\(i)") }
        }
        _ = try c.command("PEXPIRE", "z-big", "3600000")
        _ = try c.command("SELECT", "3")
        _ = try c.command("HSET", "h3", "a", "b")
        _ = try c.command("SELECT", "0")
    }

    static let collectionKeys = ["h-small", "h-long", "h-big", "l-small", "l-big", "s-ints", "s-strs", "s-strs-big", "s-big",
                                 "z-small", "z-big"]

    /// Redis → Cairn → Redis: Redis's own DEBUG DIGEST (order-independent) is unchanged.
    func testCollectionsGoFromRedisThroughCairnBackToRedisUnchanged() throws {
        let r = try redis(["--enable-debug-command", "yes"])
        let rc = try r.connect()
        try writeCollections(rc)
        let digest = try rc.command("DEBUG", "DIGEST")
        XCTAssertEqual(try rc.command("SAVE"), "+OK\r\n")

        let dir = newDir()
        try copyFile(r.dir + "/dump.rdb", dir + "/dump.rdb")
        let s = try cairn(["--rdbcompression", "lzf"], dir: dir)
        let cc = try s.connect()
        for key in Self.collectionKeys {
            XCTAssertEqual(try cc.command("TYPE", key), try rc.command("TYPE", key), key)
            // A small set of strings is a listpack in Cairn, as Redis 7.2 loads it (issue #3);
            // Redis 7.0 has no such encoding and says hashtable.
            let encoding = key == "s-strs" ? "$8\r\nlistpack\r\n" : try rc.command("OBJECT", "ENCODING", key)
            XCTAssertEqual(try cc.command("OBJECT", "ENCODING", key), encoding, key)
        }
        XCTAssertEqual(try rc.command("OBJECT", "ENCODING", "s-strs"), "$9\r\nhashtable\r\n")
        XCTAssertEqual(try cc.command("LRANGE", "l-big", "0", "-1"), try rc.command("LRANGE", "l-big", "0", "-1"))
        XCTAssertEqual(try cc.command("ZRANGE", "z-big", "0", "-1", "WITHSCORES"), try rc.command("ZRANGE", "z-big", "0", "-1", "WITHSCORES"))
        XCTAssertEqual(try cc.command("ZRANGE", "z-small", "0", "-1", "WITHSCORES"), try rc.command("ZRANGE", "z-small", "0", "-1", "WITHSCORES"))
        XCTAssertEqual(try cc.command("HGET", "h-big", "field599"), "$8\r\nvalue599\r\n")
        XCTAssertEqual(try cc.command("SISMEMBER", "s-ints", "5000000000"), ":1\r\n")
        XCTAssertEqual(try cc.command("PEXPIRETIME", "z-big"), try rc.command("PEXPIRETIME", "z-big"))
        XCTAssertEqual(try cc.command("SAVE"), "+OK\r\n")

        try checkRedisCheckRdb(dir + "/dump.rdb", label: "collections")
        let back = newDir()
        try copyFile(dir + "/dump.rdb", back + "/dump.rdb")
        let r2 = try redis(["--enable-debug-command", "yes"], dir: back)
        XCTAssertEqual(try r2.connect().command("DEBUG", "DIGEST"), digest)
    }

    func testCollectionDumpsMoveBetweenRedisAndCairn() throws {
        let r = try redis(["--enable-debug-command", "yes"])
        let s = try cairn()
        let rc = try r.connect(), cc = try s.connect()
        try writeCollections(rc)
        for key in Self.collectionKeys {
            let fromRedis = try XCTUnwrap(Self.bulkBody(try rc.commandBytes([Array("DUMP".utf8), Array(key.utf8)])), key)
            XCTAssertEqual(try cc.commandBytes([Array("RESTORE".utf8), Array(key.utf8), Array("0".utf8), fromRedis]), Array("+OK\r\n".utf8), key)
            let fromCairn = try XCTUnwrap(Self.bulkBody(try cc.commandBytes([Array("DUMP".utf8), Array(key.utf8)])), key)
            let back = Array("back-\(key)".utf8)
            // Redis's value digest marks keys with a TTL: give the copy of z-big one too.
            let ttl = key == "z-big" ? "3600000" : "0"
            XCTAssertEqual(try rc.commandBytes([Array("RESTORE".utf8), back, Array(ttl.utf8), fromCairn]), Array("+OK\r\n".utf8), key)
            let a = try rc.command("DEBUG", "DIGEST-VALUE", key)
            let b = try rc.command("DEBUG", "DIGEST-VALUE", "back-\(key)")
            XCTAssertEqual(a, b, key)
            XCTAssertEqual(try rc.command("OBJECT", "ENCODING", "back-\(key)"), try rc.command("OBJECT", "ENCODING", key), key)
        }
    }

    // MARK: DUMP / RESTORE

    func testDumpFromRedisRestoresIntoCairnAndTheReverse() throws {
        let r = try redis()
        let s = try cairn()
        let rc = try r.connect(), cc = try s.connect()
        let values: [[UInt8]] = ["", "1", "-300", "70000", "9999999999", "hello", String(repeating: "lzf", count: 50)].map { Array($0.utf8) }
            + [[0, 255, 13, 10]]
        for (i, v) in values.enumerated() {
            let key = Array("v\(i)".utf8)
            XCTAssertEqual(try rc.commandBytes([Array("SET".utf8), key, v]), Array("+OK\r\n".utf8))
            XCTAssertEqual(try cc.commandBytes([Array("SET".utf8), key, v]), Array("+OK\r\n".utf8))
            let fromRedis = try XCTUnwrap(Self.bulkBody(try rc.commandBytes([Array("DUMP".utf8), key])))
            let fromCairn = try XCTUnwrap(Self.bulkBody(try cc.commandBytes([Array("DUMP".utf8), key])))
            let restored = Array("r\(i)".utf8)
            XCTAssertEqual(try cc.commandBytes([Array("RESTORE".utf8), restored, Array("5000".utf8), fromRedis]), Array("+OK\r\n".utf8))
            XCTAssertEqual(try rc.commandBytes([Array("RESTORE".utf8), restored, Array("5000".utf8), fromCairn]), Array("+OK\r\n".utf8))
            XCTAssertEqual(Self.bulkBody(try cc.commandBytes([Array("GET".utf8), restored])), v)
            XCTAssertEqual(Self.bulkBody(try rc.commandBytes([Array("GET".utf8), restored])), v)
            XCTAssertEqual(try cc.commandBytes([Array("OBJECT".utf8), Array("ENCODING".utf8), restored]),
                           try rc.commandBytes([Array("OBJECT".utf8), Array("ENCODING".utf8), restored]))
            let pttl = String(decoding: try cc.commandBytes([Array("PTTL".utf8), restored]), as: UTF8.self)
            XCTAssertTrue(pttl.hasPrefix(":4") || pttl == ":5000\r\n", pttl)
        }
        // Both refuse the same damage with the same words.
        var bad = try XCTUnwrap(Self.bulkBody(try rc.commandBytes([Array("DUMP".utf8), Array("v5".utf8)])))
        bad[2] ^= 0x01
        let refusal = Array("-ERR DUMP payload version or checksum are wrong\r\n".utf8)
        XCTAssertEqual(try rc.commandBytes([Array("RESTORE".utf8), Array("bad".utf8), Array("0".utf8), bad]), refusal)
        XCTAssertEqual(try cc.commandBytes([Array("RESTORE".utf8), Array("bad".utf8), Array("0".utf8), bad]), refusal)
        XCTAssertEqual(try cc.command("RESTORE", "v0", "0", "x"), try rc.command("RESTORE", "v0", "0", "x"))
    }
}
