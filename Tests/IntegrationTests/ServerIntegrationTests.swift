import Foundation
import XCTest

final class ServerIntegrationTests: XCTestCase {
    var servers: [ServerProcess] = []

    override func tearDown() {
        for s in servers { s.cleanup() }
        servers = []
    }

    func start(_ extra: [String] = [], configFile: String? = nil, dir: String? = nil) throws -> ServerProcess {
        let s = try ServerProcess(extraArgs: extra, configFile: configFile, dir: dir)
        servers.append(s)
        return s
    }

    // MARK: protocol

    func testStringRepliesAreExactBytes() throws {
        let c = try start().connect()
        XCTAssertEqual(try c.command("SET", "k", "v"), "+OK\r\n")
        XCTAssertEqual(try c.command("GET", "k"), "$1\r\nv\r\n")
        XCTAssertEqual(try c.command("GET", "missing"), "$-1\r\n")
        XCTAssertEqual(try c.command("INCR", "n"), ":1\r\n")
        XCTAssertEqual(try c.command("INCR", "k"), "-ERR value is not an integer or out of range\r\n")
        XCTAssertEqual(try c.command("GET"), "-ERR wrong number of arguments for 'get' command\r\n")
        XCTAssertEqual(try c.command("NOPE", "a"), "-ERR unknown command 'NOPE', with args beginning with: 'a' \r\n")
        XCTAssertEqual(try c.command("SET", "e", "1", "EX", "0"), "-ERR invalid expire time in 'set' command\r\n")
    }

    func testBinaryKeysThatAreEqualSwiftStringsAreDistinct() throws {
        let c = try start().connect()
        let precomposed: [UInt8] = [0xC3, 0xA9]            // "é"
        let combining: [UInt8] = [0x65, 0xCC, 0x81]         // "e" + U+0301
        XCTAssertEqual(String(decoding: precomposed, as: UTF8.self), String(decoding: combining, as: UTF8.self))
        XCTAssertEqual(try c.commandBytes([Array("SET".utf8), precomposed, Array("one".utf8)]), Array("+OK\r\n".utf8))
        XCTAssertEqual(try c.commandBytes([Array("SET".utf8), combining, Array("two".utf8)]), Array("+OK\r\n".utf8))
        XCTAssertEqual(try c.commandBytes([Array("GET".utf8), precomposed]), Array("$3\r\none\r\n".utf8))
        XCTAssertEqual(try c.commandBytes([Array("GET".utf8), combining]), Array("$3\r\ntwo\r\n".utf8))
        XCTAssertEqual(try c.command("DBSIZE"), ":2\r\n")
        // Arbitrary bytes, including NUL and CRLF, survive as values.
        let binary: [UInt8] = [0, 13, 10, 255, 0x80, 0]
        XCTAssertEqual(try c.commandBytes([Array("SET".utf8), Array("b".utf8), binary]), Array("+OK\r\n".utf8))
        XCTAssertEqual(try c.commandBytes([Array("GET".utf8), Array("b".utf8)]), Array("$6\r\n".utf8) + binary + [13, 10])
    }

    func testPipelineOf1000CommandsInOneWriteGetsEveryReplyInOrder() throws {
        let c = try start().connect()
        var batch: [UInt8] = []
        for i in 0..<1000 { batch += RESPConnection.encode([Array("INCR".utf8), Array("counter".utf8)]); _ = i }
        try c.send(batch)
        for i in 1...1000 {
            XCTAssertEqual(String(decoding: try c.readReply(), as: UTF8.self), ":\(i)\r\n")
        }
    }

    func testRepliesQueuedBehindAClientThatReadsNothingArriveIntactAndInOrder() throws {
        // 1700 replies of 6000 bytes, about one request per tick, and nothing read until all
        // are sent: ~10 MB is more than loopback holds (a 4 MiB send buffer at most, a 128 KiB
        // receive buffer that grows only with reads), so later ticks refill the client's
        // output buffer while NIO still queues the bytes of earlier ones.
        let c = try start().connect()
        let value = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ ($0 >> 8)) }
        XCTAssertEqual(try c.commandBytes([Array("SET".utf8), Array("v".utf8), value]), Array("+OK\r\n".utf8))
        let count = 1700, length = 6000
        func first(_ i: Int) -> Int { (i * 97) % (value.count - length) }
        for i in 0..<count {
            try c.send(RESPConnection.encode([Array("GETRANGE".utf8), Array("v".utf8),
                                              Array(String(first(i)).utf8), Array(String(first(i) + length - 1).utf8)]))
            usleep(200)
        }
        for i in 0..<count {
            let expected = Array("$\(length)\r\n".utf8) + value[first(i)..<(first(i) + length)] + [13, 10]
            guard try c.readReply() == expected else { return XCTFail("reply \(i) is not GETRANGE v \(first(i)) \(first(i) + length - 1)") }
        }
    }

    func testATicksReplyBiggerThanOneWritePieceGoesOutInOrder() throws {
        // With 1000-byte pieces (a ByteBuffer holds under 4 GiB, so a real tick's reply is cut
        // at 1 GiB), one read of 40 pipelined GETRANGEs makes a ~80 KB reply written as ~80
        // ByteBuffers; the client must read exactly the 40 replies, in order.
        let s = try ServerProcess(environment: ["CAIRN_DEBUG_WRITE_PIECE_BYTES": "1000"])
        servers.append(s)
        let c = try s.connect()
        let value = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ ($0 >> 7)) }
        XCTAssertEqual(try c.commandBytes([Array("SET".utf8), Array("v".utf8), value]), Array("+OK\r\n".utf8))
        let count = 40, length = 2000
        var pipeline: [UInt8] = []
        for i in 0..<count {
            pipeline += RESPConnection.encode([Array("GETRANGE".utf8), Array("v".utf8),
                                               Array(String(i * 50).utf8), Array(String(i * 50 + length - 1).utf8)])
        }
        try c.send(pipeline)
        for i in 0..<count {
            let expected = Array("$\(length)\r\n".utf8) + value[(i * 50)..<(i * 50 + length)] + [13, 10]
            guard try c.readReply() == expected else { return XCTFail("reply \(i) is not GETRANGE v \(i * 50)") }
        }
        XCTAssertEqual(try c.command("PING"), "+PONG\r\n")
    }

    func testBigArgumentSplitOverManyWritesIsAssembled() throws {
        let c = try start().connect()
        let value = (0..<2_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let request = RESPConnection.encode([Array("SET".utf8), Array("big".utf8), value])
        var i = 0
        while i < request.count {
            try c.send(Array(request[i..<min(i + 1000, request.count)]))
            i += 1000
        }
        XCTAssertEqual(String(decoding: try c.readReply(), as: UTF8.self), "+OK\r\n")
        XCTAssertEqual(try c.command("STRLEN", "big"), ":2000000\r\n")
        XCTAssertEqual(try c.commandBytes([Array("GET".utf8), Array("big".utf8)]), Array("$2000000\r\n".utf8) + value + [13, 10])
    }

    func testInlineCommandsWithQuotes() throws {
        let c = try start().connect()
        try c.send("PING\r\n")
        XCTAssertEqual(String(decoding: try c.readReply(), as: UTF8.self), "+PONG\r\n")
        try c.send("SET \"a b\" 'c d'\r\n")
        XCTAssertEqual(String(decoding: try c.readReply(), as: UTF8.self), "+OK\r\n")
        try c.send("GET \"a\\x20b\"\n")
        XCTAssertEqual(String(decoding: try c.readReply(), as: UTF8.self), "$3\r\nc d\r\n")
    }

    func testMalformedMultibulkGetsProtocolErrorAndConnectionCloses() throws {
        let s = try start()
        let cases: [(String, String)] = [
            ("*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
            ("*3000000000\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
            ("*1\r\n+x\r\n", "-ERR Protocol error: expected '$', got '+'\r\n"),
            ("*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
            ("*1\r\n$999999999999\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
            ("SET \"unbalanced\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"),
        ]
        for (input, expected) in cases {
            let c = try s.connect()
            try c.send(input)
            XCTAssertEqual(String(decoding: try c.readReply(), as: UTF8.self), expected, "input \(input.debugDescription)")
            XCTAssertTrue(c.isClosedByPeer(), "connection stays open after \(input.debugDescription)")
        }
        // An inline request longer than 64 KiB without a newline.
        let c = try s.connect()
        try c.send(String(repeating: "a", count: 70_000))
        XCTAssertEqual(String(decoding: try c.readReply(), as: UTF8.self), "-ERR Protocol error: too big inline request\r\n")
        XCTAssertTrue(c.isClosedByPeer())
        // The server is still fine.
        XCTAssertEqual(try s.connect().command("PING"), "+PONG\r\n")
    }

    func testQuitRepliesOKAndCloses() throws {
        let c = try start().connect()
        XCTAssertEqual(try c.command("QUIT"), "+OK\r\n")
        XCTAssertTrue(c.isClosedByPeer())
    }

    func testResp3HelloSwitchesProtocol() throws {
        let c = try start().connect()
        let hello = try c.command("HELLO", "3")
        XCTAssertTrue(hello.hasPrefix("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:"), hello)
        XCTAssertEqual(try c.command("GET", "nothing"), "_\r\n")
        XCTAssertEqual(try c.command("HELLO", "4"), "-NOPROTO unsupported protocol version\r\n")
        XCTAssertTrue(try c.command("CONFIG", "GET", "port").hasPrefix("%1\r\n$4\r\nport\r\n"))
    }

    // MARK: transactions across clients

    func testWatchedKeyChangedByAnotherClientMakesExecReturnNull() throws {
        let s = try start()
        let a = try s.connect(), b = try s.connect()
        XCTAssertEqual(try a.command("WATCH", "w"), "+OK\r\n")
        XCTAssertEqual(try b.command("SET", "w", "1"), "+OK\r\n")
        XCTAssertEqual(try a.command("MULTI"), "+OK\r\n")
        XCTAssertEqual(try a.command("SET", "w", "2"), "+QUEUED\r\n")
        XCTAssertEqual(try a.command("EXEC"), "*-1\r\n")
        XCTAssertEqual(try a.command("GET", "w"), "$1\r\n1\r\n")
        XCTAssertEqual(try a.command("MULTI"), "+OK\r\n")
        XCTAssertEqual(try a.command("INCR", "w"), "+QUEUED\r\n")
        XCTAssertEqual(try a.command("INCR"), "-ERR wrong number of arguments for 'incr' command\r\n")
        XCTAssertEqual(try a.command("EXEC"), "-EXECABORT Transaction discarded because of previous errors.\r\n")
    }

    // MARK: real clients

    func testRedisCliCommandsAndOutput() throws {
        guard let cli = Harness.which("redis-cli") else { throw XCTSkip("redis-cli is not installed") }
        let s = try start()
        let p = String(s.port)
        XCTAssertEqual(Harness.run(cli, ["-p", p, "SET", "greeting", "hello world"]).1, "OK\n")
        XCTAssertEqual(Harness.run(cli, ["-p", p, "GET", "greeting"]).1, "hello world\n")
        XCTAssertEqual(Harness.run(cli, ["-p", p, "INCRBY", "n", "5"]).1, "5\n")
        XCTAssertEqual(Harness.run(cli, ["-p", p, "GET", "nope"]).1, "\n")
        XCTAssertEqual(Harness.run(cli, ["-p", p, "MGET", "greeting", "nope"]).1, "hello world\n\n")
        XCTAssertEqual(Harness.run(cli, ["-p", p, "INCR", "greeting"]).1, "ERR value is not an integer or out of range\n\n")
        // Piped commands (redis-cli reads stdin line by line).
        let piped = Harness.run(cli, ["-p", p], stdin: "SET a 1\nINCR a\nGET a\n")
        XCTAssertEqual(piped.1, "OK\n2\n2\n")
        // --scan uses SCAN with cursors until 0.
        for i in 0..<300 { _ = try s.connect().command("SET", "scan:\(i)", "x") }
        let scanned = Harness.run(cli, ["-p", p, "--scan", "--pattern", "scan:*"]).1
        XCTAssertEqual(Set(scanned.split(separator: "\n").map(String.init)), Set((0..<300).map { "scan:\($0)" }))
    }

    func testRedisPyUsualCalls() throws {
        guard Harness.run("/usr/bin/env", ["python3", "-c", "import redis"]).0 == 0 else {
            throw XCTSkip("python3 redis package is not installed")
        }
        let s = try start()
        let script = """
        import redis, sys
        r = redis.Redis(host='127.0.0.1', port=\(s.port), decode_responses=True)
        assert r.ping() is True
        assert r.set('a', 'x') is True
        assert r.get('a') == 'x'
        assert r.set('a', 'y', nx=True) is None
        assert r.set('t', 'v', ex=100) is True
        assert 99 <= r.ttl('t') <= 100
        assert r.incr('n') == 1 and r.incrby('n', 9) == 10
        assert abs(r.incrbyfloat('f', 1.5) - 1.5) < 1e-9
        assert r.mset({'m1': '1', 'm2': '2'}) is True
        assert r.mget(['m1', 'm2', 'none']) == ['1', '2', None]
        p = r.pipeline()                 # transactional by default: MULTI/EXEC
        p.set('p', 1).incr('p').get('p')
        assert p.execute() == [True, 2, '2']
        with r.pipeline() as p:          # WATCH + optimistic retry
            p.watch('p'); v = int(p.get('p')); p.multi(); p.set('p', v + 1); p.execute()
        assert r.get('p') == '3'
        assert r.client_setname('tester') is True and r.client_getname() == 'tester'
        info = r.info()
        assert info['redis_version'] == '7.0.15' and info['connected_clients'] >= 1
        assert r.info('keyspace')['db0']['keys'] >= 5
        assert r.config_get('maxclients') == {'maxclients': '10000'}
        assert r.dbsize() >= 5
        assert sorted(r.keys('m*')) == ['m1', 'm2']
        assert r.delete('m1', 'm2', 'nope') == 2
        assert r.expire('a', 50) is True and r.persist('a') is True and r.ttl('a') == -1
        assert r.getex('a', px=5000) == 'x' and r.pttl('a') > 4000
        r3 = redis.Redis(host='127.0.0.1', port=\(s.port), protocol=3, decode_responses=True)
        assert r3.get('a') == 'x' and r3.get('missing') is None
        try:
            r.incr('a'); sys.exit('no error')
        except redis.ResponseError as e:
            assert str(e) == 'value is not an integer or out of range', str(e)
        print('ok')
        """
        let result = Harness.run("/usr/bin/env", ["python3", "-c", script])
        XCTAssertEqual(result.1, "ok\n", result.2)
        XCTAssertEqual(result.0, 0)
    }

    func testRedisBenchmarkRunsCleanly() throws {
        guard let bench = Harness.which("redis-benchmark") else { throw XCTSkip("redis-benchmark is not installed") }
        let s = try start()
        let r = Harness.run(bench, ["-p", String(s.port), "-t", "set,get,incr,mset", "-n", "2000", "-c", "10", "-P", "4", "-q", "-r", "1000"])
        XCTAssertEqual(r.0, 0, r.2)
        for test in ["SET", "GET", "INCR", "MSET (10 keys)"] {
            XCTAssertTrue(r.1.contains("\(test): "), "missing \(test) in \(r.1)")
        }
        XCTAssertFalse(r.1.lowercased().contains("error"), r.1)
    }

    // MARK: config

    func testConfigSetGetAndAllOrNothing() throws {
        let c = try start().connect()
        XCTAssertEqual(try c.command("CONFIG", "GET", "maxclients"), "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n")
        XCTAssertEqual(try c.command("CONFIG", "SET", "maxclients", "100", "timeout", "7"), "+OK\r\n")
        XCTAssertEqual(try c.command("CONFIG", "GET", "timeout"), "*2\r\n$7\r\ntimeout\r\n$1\r\n7\r\n")
        XCTAssertEqual(try c.command("CONFIG", "SET", "timeout", "9", "maxclients", "0"),
                       "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive\r\n")
        XCTAssertEqual(try c.command("CONFIG", "GET", "timeout"), "*2\r\n$7\r\ntimeout\r\n$1\r\n7\r\n")
        XCTAssertEqual(try c.command("CONFIG", "SET", "nosuch", "1"), "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n")
        XCTAssertEqual(try c.command("CONFIG", "SET", "databases", "4"),
                       "-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config\r\n")
        XCTAssertEqual(try c.command("CONFIG", "SET", "protected-mode", "maybe"),
                       "-ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'\r\n")
        XCTAssertEqual(try c.command("CONFIG", "REWRITE"), "-ERR The server is running without a config file\r\n")
        let globbed = try c.command("CONFIG", "GET", "lazyfree-*")
        XCTAssertTrue(globbed.hasPrefix("*6\r\n"), globbed)
    }

    /// CONFIG SET port/bind rebinds on the engine loop without blocking it; a failed bind
    /// keeps the old listeners.
    func testConfigSetPortAndBindRebindListeners() throws {
        let s = try start()
        let newPort = Harness.freePort()
        XCTAssertEqual(try s.connect().command("CONFIG", "SET", "port", String(newPort)), "+OK\r\n")
        let c = try RESPConnection(port: newPort)
        XCTAssertEqual(try c.command("PING"), "+PONG\r\n")
        XCTAssertThrowsError(try RESPConnection(port: s.port))
        XCTAssertTrue(try c.command("INFO", "server").contains("\r\ntcp_port:\(newPort)\r\n"))
        XCTAssertEqual(try c.command("CONFIG", "SET", "bind", "10.255.255.1"),
                       "-ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.\r\n")
        XCTAssertEqual(try c.command("CONFIG", "GET", "bind"), "*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n")
        XCTAssertEqual(try RESPConnection(port: newPort).command("PING"), "+PONG\r\n")
    }

    func testConfigFileIsReadAndRewritten() throws {
        let dir = Harness.tempDirectory("cairn-conf")
        let file = dir + "/cairn.conf"
        try "# my settings\ntimeout 5\nhz 10\n".write(toFile: file, atomically: true, encoding: .utf8)
        let s = try start(configFile: file, dir: dir)
        let c = try s.connect()
        XCTAssertEqual(try c.command("CONFIG", "GET", "timeout"), "*2\r\n$7\r\ntimeout\r\n$1\r\n5\r\n")
        XCTAssertEqual(try c.command("CONFIG", "SET", "timeout", "12", "slowlog-max-len", "64"), "+OK\r\n")
        XCTAssertEqual(try c.command("CONFIG", "REWRITE"), "+OK\r\n")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("# my settings\ntimeout 12\nhz 10\n"), text)
        XCTAssertTrue(text.contains("slowlog-max-len 64\n"), text)
        XCTAssertTrue(text.contains("port \(s.port)\n"), text)
    }

    func testBadConfigDirectiveStopsStartupWithRedisMessage() throws {
        let dir = Harness.tempDirectory("cairn-badconf")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/bad.conf"
        try "port 7000\nnot-a-directive yes\n".write(toFile: file, atomically: true, encoding: .utf8)
        let r = Harness.run(Harness.cairnServerPath, [file])
        XCTAssertEqual(r.0, 1)
        XCTAssertTrue(r.2.contains("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'not-a-directive yes'\nBad directive or wrong number of arguments"), r.2)
    }

    // MARK: clients

    func testClientSetnameListAndKill() throws {
        let s = try start()
        let a = try s.connect(), b = try s.connect()
        XCTAssertEqual(try a.command("CLIENT", "SETNAME", "alpha"), "+OK\r\n")
        XCTAssertEqual(try a.command("CLIENT", "SETNAME", "has space"), "-ERR Client names cannot contain spaces, newlines or special characters.\r\n")
        XCTAssertEqual(try a.command("CLIENT", "GETNAME"), "$5\r\nalpha\r\n")
        let list = try b.command("CLIENT", "LIST")
        XCTAssertTrue(list.contains(" name=alpha "), list)
        XCTAssertTrue(list.contains("cmd=client|list"), list)
        let idA = try a.command("CLIENT", "ID").dropFirst().dropLast(1)
        XCTAssertEqual(try b.command("CLIENT", "KILL", "ID", String(idA)), ":1\r\n")
        XCTAssertTrue(a.isClosedByPeer())
        XCTAssertEqual(try b.command("CLIENT", "KILL", "ID", "99999"), ":0\r\n")
    }

    func testIdleClientIsClosedAfterTimeout() throws {
        let s = try start(["--timeout", "1"])
        let idle = try s.connect(), monitor = try s.connect()
        XCTAssertEqual(try idle.command("PING"), "+PONG\r\n")
        XCTAssertEqual(try monitor.command("MONITOR"), "+OK\r\n")
        usleep(2_300_000)
        XCTAssertTrue(idle.isClosedByPeer())
        let fresh = try s.connect()
        XCTAssertEqual(try fresh.command("PING"), "+PONG\r\n")
        // The monitor is exempt and sees the fresh client's command.
        XCTAssertTrue(String(decoding: try monitor.readReply(), as: UTF8.self).hasSuffix("\"PING\"\r\n"))
    }

    func testMaxclientsRefusesTheNextConnection() throws {
        let s = try start(["--maxclients", "2"])
        let a = try s.connect(), b = try s.connect()
        XCTAssertEqual(try a.command("PING"), "+PONG\r\n")
        XCTAssertEqual(try b.command("PING"), "+PONG\r\n")
        let c = try s.connect()
        XCTAssertEqual(String(decoding: try c.readReply(), as: UTF8.self), "-ERR max number of clients reached\r\n")
    }

    func testMonitorSeesOtherClientsCommands() throws {
        let s = try start()
        let m = try s.connect(), c = try s.connect()
        XCTAssertEqual(try m.command("MONITOR"), "+OK\r\n")
        XCTAssertEqual(try c.command("SET", "k", "a b\n"), "+OK\r\n")
        let line = String(decoding: try m.readReply(), as: UTF8.self)
        XCTAssertTrue(line.hasPrefix("+"), line)
        XCTAssertTrue(line.hasSuffix(" [0 127.0.0.1:\(line.split(separator: ":")[1].split(separator: "]")[0])] \"SET\" \"k\" \"a b\\n\"\r\n"), line)
    }

    func testUnixSocketListener() throws {
        let dir = Harness.tempDirectory("cairn-unix")
        let path = dir + "/cairn.sock"
        let s = try start(["--unixsocket", path, "--unixsocketperm", "700"], dir: dir)
        let c = try RESPConnection(unixPath: path)
        XCTAssertEqual(try c.command("SET", "u", "1"), "+OK\r\n")
        XCTAssertEqual(try s.connect().command("GET", "u"), "$1\r\n1\r\n")
        let attrs = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, 0o700)
    }

    func testShutdownStopsTheProcess() throws {
        let s = try start()
        let c = try s.connect()
        try c.send(RESPConnection.encode([Array("SHUTDOWN".utf8), Array("NOSAVE".utf8)]))
        XCTAssertTrue(c.isClosedByPeer())
        let deadline = Date().addingTimeInterval(10)
        while s.process.isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertFalse(s.process.isRunning)
        XCTAssertEqual(s.process.terminationStatus, 0)
        XCTAssertTrue(s.log().contains("Redis is now ready to exit, bye bye..."), s.log())
    }

    func testInfoReportsRedisSectionsAndFields() throws {
        let c = try start().connect()
        _ = try c.command("SET", "a", "1")
        _ = try c.command("GET", "a")
        _ = try c.command("GET", "b")
        let info = try c.command("INFO")
        for header in ["# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Replication", "# CPU", "# Keyspace"] {
            XCTAssertTrue(info.contains("\r\n\(header)\r\n") || info.contains("\(header)\r\n"), header)
        }
        XCTAssertTrue(info.contains("\r\nkeyspace_hits:1\r\n"), info)
        XCTAssertTrue(info.contains("\r\nkeyspace_misses:1\r\n"), info)
        XCTAssertTrue(info.contains("\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n"), info)
        XCTAssertFalse(info.contains("# Commandstats"))
        let stats = try c.command("INFO", "commandstats")
        XCTAssertTrue(stats.contains("cmdstat_get:calls=2,"), stats)
        XCTAssertTrue(stats.contains("cmdstat_set:calls=1,"), stats)
    }

    func testInfoNamesTheCommandClockOnceItsRateIsMeasured() throws {
        let c = try start().connect()
        // cron (hz 10) measures the cycle counter's rate over at least 50 ms.
        usleep(400_000)
        let info = try c.command("INFO", "server")
        guard let line = info.split(separator: "\r\n").first(where: { $0.hasPrefix("monotonic_clock:") }) else {
            return XCTFail(info)
        }
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = Set((cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") } ?? "").split(separator: " "))
        #if arch(x86_64)
        let counter = flags.contains("constant_tsc") && flags.contains("nonstop_tsc")
        #else
        let counter = false
        #endif
        if counter {
            let prefix = "monotonic_clock:X86 TSC @ ", suffix = " ticks/us"
            XCTAssertTrue(line.hasPrefix(prefix) && line.hasSuffix(suffix), String(line))
            let ticks = Int(line.dropFirst(prefix.count).dropLast(suffix.count)) ?? 0
            XCTAssertTrue((500...10_000).contains(ticks), String(line))
        } else {
            XCTAssertEqual(line, "monotonic_clock:POSIX clock_gettime")
        }
    }

    // MARK: memory

    /// Bytes of the process's brk heap ("[heap]" in /proc/PID/maps), 0 when it has none.
    private func brkHeapBytes(pid: Int32) throws -> Int {
        let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
        guard let line = maps.split(separator: "\n").first(where: { $0.hasSuffix("[heap]") }) else { return 0 }
        let range = line.split(separator: " ")[0].split(separator: "-").map { Int($0, radix: 16)! }
        return range[1] - range[0]
    }

    func testKeysWrittenByClientsGrowTheMainArenasBrkHeap() throws {
        // The engine loop allocates from glibc's main arena (Server.keepEveryThreadInTheMainArena),
        // whose heap grows with brk; in an arena of its own the 5 MB of values below would land
        // in a separately mapped heap and [heap] would not grow.
        let s = try start()
        let c = try s.connect()
        let before = try brkHeapBytes(pid: s.process.processIdentifier)
        let value = [UInt8](repeating: UInt8(ascii: "v"), count: 100)
        var batch: [UInt8] = []
        for i in 0..<50_000 { batch += RESPConnection.encode([Array("SET".utf8), Array("key:\(i)".utf8), value]) }
        try c.send(batch)
        for _ in 0..<50_000 { XCTAssertEqual(try c.readReply(), Array("+OK\r\n".utf8)) }
        XCTAssertEqual(try c.command("DBSIZE"), ":50000\r\n")
        let grown = try brkHeapBytes(pid: s.process.processIdentifier) - before
        XCTAssertGreaterThanOrEqual(grown, 50_000 * 100, "[heap] grew by \(grown) bytes")
    }
}
