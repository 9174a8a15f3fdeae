// Our writer's files against the real thing: redis-check-rdb must accept them and a real
// redis-server 7.0 must load them with the same data. Skipped only when redis-server is not
// installed. Each server runs on a free loopback port with a temporary --dir and is always
// stopped at the end of its test.
import Foundation
import XCTest
@testable import CairnFormats
#if canImport(Glibc)
import Glibc
#endif

final class RedisProcess {
    let process = Process()
    let port: Int
    let dir: URL

    /// Starts redis-server on `rdb` (copied as dump.rdb into a fresh directory) and waits until
    /// it answers PING (the load is done by then).
    init(rdb: [UInt8], binary: String) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-rdb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(rdb).write(to: dir.appendingPathComponent("dump.rdb"))
        port = try RedisProcess.freePort()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--dir", dir.path, "--dbfilename", "dump.rdb",
                             "--save", "", "--appendonly", "no", "--enable-debug-command", "yes", "--daemonize", "no",
                             "--logfile", dir.appendingPathComponent("redis.log").path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if !process.isRunning {
                throw NSError(domain: "redis", code: 1, userInfo: [NSLocalizedDescriptionKey: "redis-server exited: \(log)"])
            }
            if (try? cli("PING")) == "PONG" { return }
            usleep(50_000)
        }
        stop()
        throw NSError(domain: "redis", code: 2, userInfo: [NSLocalizedDescriptionKey: "redis-server did not answer: \(log)"])
    }

    var log: String {
        (try? String(contentsOf: dir.appendingPathComponent("redis.log"), encoding: .utf8)) ?? ""
    }

    /// redis-cli's raw output, trailing newline removed.
    func cli(_ args: String..., db: Int = 0) throws -> String {
        try cli(args, db: db)
    }

    func cli(_ args: [String], db: Int = 0) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: RDBInteropTests.tool("redis-cli") ?? "/usr/bin/redis-cli")
        p.arguments = ["-p", "\(port)", "-n", "\(db)"] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        var s = String(decoding: data, as: UTF8.self)
        if s.hasSuffix("\n") { s.removeLast() }
        return s
    }

    func lines(_ args: String..., db: Int = 0) throws -> [String] {
        let s = try cli(args, db: db)
        return s.isEmpty ? [] : s.components(separatedBy: "\n")
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dir)
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NSError(domain: "socket", code: Int(errno)) }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw NSError(domain: "bind", code: Int(errno)) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

final class RDBInteropTests: XCTestCase {
    static func tool(_ name: String) -> String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
            + ["/usr/bin", "/usr/local/bin", "/usr/sbin"]
        return dirs.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func redisServer() throws -> String {
        guard let path = RDBInteropTests.tool("redis-server") else { throw XCTSkip("redis-server is not installed") }
        return path
    }

    func checkRDB(_ bytes: [UInt8]) throws -> String {
        guard let tool = RDBInteropTests.tool("redis-check-rdb") else { throw XCTSkip("redis-check-rdb is not installed") }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-check-\(UUID().uuidString).rdb")
        try Data(bytes).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = [path.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return out
    }

    func testRedisCheckRDBAcceptsOurFiles() throws {
        _ = try redisServer()
        for (version, compress, checksum) in [(10, true, true), (10, false, true), (10, true, false), (9, true, true)] {
            let out = try checkRDB(RDBSample.file(version: version, compress: compress, checksum: checksum))
            XCTAssertTrue(out.contains("RDB looks OK"), "v\(version) compress \(compress) checksum \(checksum):\n\(out)")
        }
    }

    func testRedisServerLoadsEveryTypeWeWrite() throws {
        let server = try RedisProcess(rdb: RDBSample.file(version: 10), binary: try redisServer())
        defer { server.stop() }
        let records = RDBSample.records(version: 10)
        XCTAssertEqual(try server.cli("DBSIZE"), "\(records.filter { $0.db == 0 }.count)")
        XCTAssertEqual(try server.cli("DBSIZE", db: 2), "2")
        let typeName: [RDBValueKind: String] = [.string: "string", .list: "list", .set: "set", .zset: "zset", .hash: "hash", .stream: "stream"]
        for r in records {
            XCTAssertEqual(try server.cli(["TYPE", r.key.debugText], db: r.db), typeName[r.value.kind], r.key.debugText)
            switch r.value {
            case .string(let s) where r.key != "s:binary" && r.key != "s:incompressible":
                XCTAssertEqual(try server.cli(["GET", r.key.debugText], db: r.db), s.debugText, r.key.debugText)
            case .string(let s):
                XCTAssertEqual(try server.cli(["STRLEN", r.key.debugText], db: r.db), "\(s.count)")
            case .list(let l):
                XCTAssertEqual(try server.lines("LRANGE", r.key.debugText, "0", "-1", db: r.db), l.map { $0.debugText }, r.key.debugText)
            case .set(let s):
                XCTAssertEqual(try server.lines("SMEMBERS", r.key.debugText, db: r.db).sorted(), s.map { $0.debugText }.sorted())
            case .hash(let h):
                let flat = try server.lines("HGETALL", r.key.debugText, db: r.db)
                var got = [String: String]()
                for i in stride(from: 0, to: flat.count, by: 2) { got[flat[i]] = flat[i + 1] }
                XCTAssertEqual(got, Dictionary(uniqueKeysWithValues: h.map { ($0.field.debugText, $0.value.debugText) }), r.key.debugText)
            case .zset(let z):
                let flat = try server.lines("ZRANGE", r.key.debugText, "0", "-1", "WITHSCORES", db: r.db)
                let sorted = z.sorted { $0.score != $1.score ? $0.score < $1.score : $0.member < $1.member }
                XCTAssertEqual(stride(from: 0, to: flat.count, by: 2).map { flat[$0] }, sorted.map { $0.member.debugText }, r.key.debugText)
                XCTAssertEqual(stride(from: 1, to: flat.count, by: 2).map { Double(flat[$0]) ?? .nan }, sorted.map { $0.score }, r.key.debugText)
            case .stream(let s):
                XCTAssertEqual(try server.cli("XLEN", r.key.debugText, db: r.db), "\(s.entries.count)")
                let ids = try server.lines("XRANGE", r.key.debugText, "-", "+", "COUNT", "1000", db: r.db)
                    .filter { $0.contains("-") && $0.first!.isNumber && $0.allSatisfy { $0.isNumber || $0 == "-" } }
                XCTAssertEqual(ids, s.entries.map { $0.id.description }, r.key.debugText)
            }
            if let expire = r.expireAtMs {
                XCTAssertEqual(try server.cli(["PEXPIRETIME", r.key.debugText], db: r.db), "\(expire)")
            } else {
                XCTAssertEqual(try server.cli(["PTTL", r.key.debugText], db: r.db), "-1")
            }
        }
        // Consumer groups, their PEL and consumers.
        // Extended XPENDING: id, consumer, idle ms (time dependent), delivery count.
        let pel = try server.lines("XPENDING", "x:small", "grp", "-", "+", "10")
        XCTAssertEqual(pel.count, 8)
        if pel.count == 8 {
            XCTAssertEqual([pel[0], pel[1], pel[3], pel[4], pel[5], pel[7]], ["10-0", "c1", "2", "10-1", "c2", "1"])
        }
        let groups = try server.lines("XINFO", "GROUPS", "x:small")
        XCTAssertTrue(groups.contains("grp") && groups.contains("empty"), "\(groups)")
        let consumers = try server.lines("XINFO", "CONSUMERS", "x:small", "grp")
        XCTAssertEqual(consumers.indices.filter { $0 > 0 && consumers[$0 - 1] == "name" }.map { consumers[$0] }, ["c1", "c2", "idle"])
        // The function library is loaded and callable.
        XCTAssertEqual(try server.cli("FCALL", "cairn_echo", "0", "hi"), "hi")
    }

    /// The same data written as RDB 9 (ziplists, quicklist 14, stream v1) and as RDB 10 loads
    /// into the same dataset.
    func testVersion9AndVersion10FilesLoadToTheSameData() throws {
        let binary = try redisServer()
        let v9 = try RedisProcess(rdb: RDBSample.file(version: 9), binary: binary)
        defer { v9.stop() }
        let v10 = try RedisProcess(rdb: RDBSample.file(version: 10), binary: binary)
        defer { v10.stop() }
        for r in RDBSample.records(version: 9) {
            XCTAssertEqual(try v9.cli(["DEBUG", "DIGEST-VALUE", r.key.debugText], db: r.db),
                           try v10.cli(["DEBUG", "DIGEST-VALUE", r.key.debugText], db: r.db), r.key.debugText)
        }
        XCTAssertEqual(try v9.cli("DBSIZE"), try v10.cli("DBSIZE"))
    }

    /// Redis's own file, read by us and written back by us, has the same DEBUG DIGEST in a real
    /// redis-server as the original.
    func testRedisFixtureRewrittenByUsHasTheSameDigest() throws {
        let binary = try redisServer()
        let original = try RDBFixtures.bytes("redis7-alltypes.rdb")
        let file = try readRDB(original)
        let w = RDBWriter(version: 10)
        w.header()
        for (k, v) in file.aux { w.aux(k.debugText, v) }
        for f in file.functions { w.function(source: f) }
        for db in Set(file.keys.map { $0.db }).sorted() {
            let inDB = file.keys.filter { $0.db == db }
            w.selectDB(db)
            w.resizeDB(dbSize: UInt64(inDB.count), expiresSize: UInt64(inDB.filter { $0.expireAtMs != nil }.count))
            for r in inDB { w.value(key: r.key, r.value, expireAtMs: r.expireAtMs) }
        }
        w.end()
        let rewritten = w.takeOutput()

        let a = try RedisProcess(rdb: original, binary: binary)
        defer { a.stop() }
        let b = try RedisProcess(rdb: rewritten, binary: binary)
        defer { b.stop() }
        for db in [0, 1, 5] {
            XCTAssertEqual(try b.cli("DBSIZE", db: db), try a.cli("DBSIZE", db: db))
        }
        let digestA = try a.cli("DEBUG", "DIGEST")
        XCTAssertEqual(digestA.count, 40)
        XCTAssertEqual(try b.cli("DEBUG", "DIGEST"), digestA)
        for key in file.keys where key.db == 0 {
            XCTAssertEqual(try b.cli("DEBUG", "DIGEST-VALUE", key.key.debugText), try a.cli("DEBUG", "DIGEST-VALUE", key.key.debugText),
                           key.key.debugText)
        }
        XCTAssertEqual(try b.cli("FCALL", "myfunc", "0", "x"), "x")
    }
}
