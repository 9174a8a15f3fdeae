import Foundation
import XCTest

final class CollectionIntegrationTests: XCTestCase {
    var servers: [ServerProcess] = []
    override func tearDown() { for s in servers { s.cleanup() }; servers = [] }

    func start(_ extra: [String] = []) throws -> ServerProcess {
        let s = try ServerProcess(extraArgs: extra)
        servers.append(s)
        return s
    }

    func testBlockedPopIsServedByAnotherConnectionsPushAndHoldsPipelinedCommands() throws {
        let s = try start()
        let waiter = try s.connect(), pusher = try s.connect()
        // BLPOP then a pipelined PING: the PING must wait until the pop is served.
        try waiter.send(RESPConnection.encode([Array("BLPOP".utf8), Array("q".utf8), Array("5".utf8)])
                        + RESPConnection.encode([Array("PING".utf8)]))
        usleep(100_000)
        let list = try pusher.command("CLIENT", "LIST")
        XCTAssertTrue(list.contains("flags=b "), list)
        XCTAssertTrue(try pusher.command("INFO", "clients").contains("\r\nblocked_clients:1\r\n"))
        XCTAssertEqual(try pusher.command("RPUSH", "q", "job1", "job2"), ":2\r\n")
        XCTAssertEqual(String(decoding: try waiter.readReply(), as: UTF8.self), "*2\r\n$1\r\nq\r\n$4\r\njob1\r\n")
        XCTAssertEqual(String(decoding: try waiter.readReply(), as: UTF8.self), "+PONG\r\n")
        XCTAssertEqual(try pusher.command("LRANGE", "q", "0", "-1"), "*1\r\n$4\r\njob2\r\n")
    }

    func testBlockedPopTimesOutAndClientUnblock() throws {
        let s = try start()
        let waiter = try s.connect(), admin = try s.connect()
        XCTAssertEqual(try waiter.command("BLPOP", "none", "0.2"), "*-1\r\n")
        let id = try waiter.command("CLIENT", "ID").dropFirst().dropLast(1)
        try waiter.send(RESPConnection.encode([Array("BRPOP".utf8), Array("none".utf8), Array("0".utf8)]))
        usleep(100_000)
        XCTAssertEqual(try admin.command("CLIENT", "UNBLOCK", String(id), "ERROR"), ":1\r\n")
        XCTAssertEqual(String(decoding: try waiter.readReply(), as: UTF8.self), "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n")
        XCTAssertEqual(try admin.command("CLIENT", "UNBLOCK", String(id)), ":0\r\n")
    }

    func testEncodingThresholdsFollowConfigSet() throws {
        let c = try start().connect()
        XCTAssertEqual(try c.command("CONFIG", "SET", "hash-max-ziplist-entries", "2"), "+OK\r\n")
        XCTAssertEqual(try c.command("CONFIG", "GET", "hash-max-listpack-entries"), "*2\r\n$25\r\nhash-max-listpack-entries\r\n$1\r\n2\r\n")
        XCTAssertEqual(try c.command("HSET", "h", "a", "1", "b", "2"), ":2\r\n")
        XCTAssertEqual(try c.command("OBJECT", "ENCODING", "h"), "$8\r\nlistpack\r\n")
        XCTAssertEqual(try c.command("HSET", "h", "c", "3"), ":1\r\n")
        XCTAssertEqual(try c.command("OBJECT", "ENCODING", "h"), "$9\r\nhashtable\r\n")
        XCTAssertEqual(try c.command("SADD", "s", "1", "2"), ":2\r\n")
        XCTAssertEqual(try c.command("OBJECT", "ENCODING", "s"), "$6\r\nintset\r\n")
        // Redis 7.2's set-max-listpack-* (issue #3).
        XCTAssertEqual(try c.command("CONFIG", "GET", "set-max-listpack-*"),
                       "*4\r\n$24\r\nset-max-listpack-entries\r\n$3\r\n128\r\n$22\r\nset-max-listpack-value\r\n$2\r\n64\r\n")
        XCTAssertEqual(try c.command("SADD", "p", "a", "b"), ":2\r\n")
        XCTAssertEqual(try c.command("OBJECT", "ENCODING", "p"), "$8\r\nlistpack\r\n")
        XCTAssertEqual(try c.command("CONFIG", "SET", "set-max-listpack-entries", "2", "set-max-listpack-value", "3"), "+OK\r\n")
        XCTAssertEqual(try c.command("SADD", "p", "c"), ":1\r\n")
        XCTAssertEqual(try c.command("OBJECT", "ENCODING", "p"), "$9\r\nhashtable\r\n")
        XCTAssertEqual(try c.command("SADD", "q", "abcd"), ":1\r\n")
        XCTAssertEqual(try c.command("OBJECT", "ENCODING", "q"), "$9\r\nhashtable\r\n")
        XCTAssertEqual(try c.command("SADD", "r", "abc"), ":1\r\n")
        XCTAssertEqual(try c.command("OBJECT", "ENCODING", "r"), "$8\r\nlistpack\r\n")
        XCTAssertEqual(try c.command("CONFIG", "SET", "set-max-listpack-entries", "-1"),
                       "-ERR CONFIG SET failed (possibly related to argument 'set-max-listpack-entries') - argument must be between 0 and 9223372036854775807 inclusive\r\n")
    }

    /// The thresholds can come from the config file too.
    func testSetListpackThresholdsFromTheConfigFile() throws {
        let c = try start(["--set-max-listpack-entries", "1", "--set-max-listpack-value", "1kb"]).connect()
        XCTAssertEqual(try c.command("CONFIG", "GET", "set-max-listpack-value"), "*2\r\n$22\r\nset-max-listpack-value\r\n$4\r\n1024\r\n")
        XCTAssertEqual(try c.command("SADD", "s", "a"), ":1\r\n")
        XCTAssertEqual(try c.command("OBJECT", "ENCODING", "s"), "$8\r\nlistpack\r\n")
        XCTAssertEqual(try c.command("SADD", "s", "b"), ":1\r\n")
        XCTAssertEqual(try c.command("OBJECT", "ENCODING", "s"), "$9\r\nhashtable\r\n")
    }

    func testRedisPyCollectionCalls() throws {
        guard Harness.run("/usr/bin/env", ["python3", "-c", "import redis"]).0 == 0 else {
            throw XCTSkip("python3 redis package is not installed")
        }
        let s = try start()
        let script = """
        import redis, threading, time
        r = redis.Redis(host='127.0.0.1', port=\(s.port), decode_responses=True)
        assert r.hset('user:1', mapping={'name': 'ada', 'visits': '1'}) == 2
        assert r.hgetall('user:1') == {'name': 'ada', 'visits': '1'}
        assert r.hincrby('user:1', 'visits', 5) == 6
        assert r.zadd('board', {'ann': 10, 'bob': 7.5, 'cy': 12}) == 3
        assert r.zrange('board', 0, -1, withscores=True) == [('bob', 7.5), ('ann', 10.0), ('cy', 12.0)]
        assert r.zrevrank('board', 'cy') == 0 and r.zscore('board', 'bob') == 7.5
        assert r.zincrby('board', 3, 'bob') == 10.5
        assert r.sadd('tags', 'a', 'b', 'c') == 3 and r.smembers('tags') == {'a', 'b', 'c'}
        assert r.rpush('q', 1, 2, 3) == 3 and r.lrange('q', 0, -1) == ['1', '2', '3']
        p = r.pipeline()
        p.lpop('q').rpop('q').llen('q')
        assert p.execute() == ['1', '3', 1]
        assert r.blpop(['empty'], timeout=0.2) is None
        def later():
            time.sleep(0.2); redis.Redis(host='127.0.0.1', port=\(s.port)).rpush('jobs', 'x')
        threading.Thread(target=later).start()
        assert r.blpop(['jobs'], timeout=5) == ('jobs', 'x')
        try:
            r.lpush('user:1', 'x'); raise SystemExit('no error')
        except redis.ResponseError as e:
            assert str(e).startswith('WRONGTYPE'), str(e)
        print('ok')
        """
        let result = Harness.run("/usr/bin/env", ["python3", "-c", script])
        XCTAssertEqual(result.1, "ok\n", result.2)
        XCTAssertEqual(result.0, 0)
    }
}
