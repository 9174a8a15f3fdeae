// Generated from Redis 7.0.15 replies by the oracle script; the replies are literals so the
// tests run without a server.

import XCTest
@testable import CairnEngine

final class BlockingCommandTests: XCTestCase {
    /// Records the clients the engine reports as unblocked.
    final class UnblockLog {
        var ids: [UInt64] = []
        init(_ h: EngineHarness) { h.engine.onClientUnblocked = { [unowned self] in self.ids.append($0.id) } }
    }

    func testBLPopServedByPush() {
        let h = EngineHarness()
        let log = UnblockLog(h)
        h.expect(client: 1, ["BLPOP", "l", "0"], "")
        XCTAssertTrue(h.client(1).isBlocked)
        XCTAssertEqual(log.ids, [])
        h.expect(["RPUSH", "l", "a", "b"], ":2\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*2\r\n$1\r\nl\r\n$1\r\na\r\n".utf8)))
        XCTAssertFalse(h.client(1).isBlocked)
        XCTAssertEqual(log.ids, [h.client(1).id])
        h.expect(["LRANGE", "l", "0", "-1"], "*1\r\n$1\r\nb\r\n")
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*4\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nl\r\n")
    }

    func testFirstBlockedFirstServed() {
        let h = EngineHarness()
        h.expect(client: 1, ["BLPOP", "l", "0"], "")
        h.expect(client: 2, ["BRPOP", "l", "0"], "")
        h.expect(client: 3, ["BLMOVE", "l", "d", "left", "right", "0"], "")
        h.expect(client: 4, ["BLPOP", "l", "0"], "")
        h.expect(["LPUSH", "l", "a", "b", "c"], ":3\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*2\r\n$1\r\nl\r\n$1\r\nc\r\n".utf8)))
        XCTAssertEqual(escaped(h.client(2).reply.take()), escaped(Array("*2\r\n$1\r\nl\r\n$1\r\na\r\n".utf8)))
        XCTAssertEqual(escaped(h.client(3).reply.take()), escaped(Array("$1\r\nb\r\n".utf8)))
        XCTAssertTrue(h.client(4).isBlocked)
        h.expect(["LRANGE", "d", "0", "-1"], "*1\r\n$1\r\nb\r\n")
        h.expect(["EXISTS", "l"], ":0\r\n")
        h.expect(["RPUSH", "l", "z"], ":1\r\n")
        XCTAssertEqual(escaped(h.client(4).reply.take()), escaped(Array("*2\r\n$1\r\nl\r\n$1\r\nz\r\n".utf8)))
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*5\r\n$5\r\nLPUSH\r\n$1\r\nl\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nl\r\n*2\r\n$4\r\nRPOP\r\n$1\r\nl\r\n*5\r\n$5\r\nLMOVE\r\n$1\r\nl\r\n$1\r\nd\r\n$4\r\nleft\r\n$5\r\nright\r\n*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\nz\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nl\r\n")
    }

    func testBlockOnSeveralKeys() {
        let h = EngineHarness()
        h.expect(client: 1, ["BLPOP", "a", "b", "c", "0"], "")
        h.expect(client: 2, ["BRPOP", "c", "b", "0"], "")
        h.expect(["RPUSH", "b", "x", "y", "z"], ":3\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*2\r\n$1\r\nb\r\n$1\r\nx\r\n".utf8)))
        XCTAssertEqual(escaped(h.client(2).reply.take()), escaped(Array("*2\r\n$1\r\nb\r\n$1\r\nz\r\n".utf8)))
        h.expect(["LRANGE", "b", "0", "-1"], "*1\r\n$1\r\ny\r\n")
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*5\r\n$5\r\nRPUSH\r\n$1\r\nb\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nb\r\n*2\r\n$4\r\nRPOP\r\n$1\r\nb\r\n")
    }

    func testImmediatePopsPropagateAsNonBlocking() {
        let h = EngineHarness()
        h.expect(["RPUSH", "l", "a", "b", "c", "d", "e", "f"], ":6\r\n")
        h.expect(["BLPOP", "nokey", "l", "0"], "*2\r\n$1\r\nl\r\n$1\r\na\r\n")
        h.expect(["BRPOP", "l", "0"], "*2\r\n$1\r\nl\r\n$1\r\nf\r\n")
        h.expect(["BLMOVE", "l", "d", "RIGHT", "LEFT", "0"], "$1\r\ne\r\n")
        h.expect(["BRPOPLPUSH", "l", "d", "0"], "$1\r\nd\r\n")
        h.expect(["BLMPOP", "0", "2", "nokey", "l", "LEFT", "COUNT", "5"], "*2\r\n$1\r\nl\r\n*2\r\n$1\r\nb\r\n$1\r\nc\r\n")
        h.expect(["ZADD", "z", "1", "a", "2", "b", "3", "c"], ":3\r\n")
        h.expect(["BZPOPMIN", "z", "0"], "*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n")
        h.expect(["BZPOPMAX", "nokey", "z", "0"], "*3\r\n$1\r\nz\r\n$1\r\nc\r\n$1\r\n3\r\n")
        h.expect(["BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"], "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n")
        h.expect(["EXISTS", "l", "z"], ":0\r\n")
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*8\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nl\r\n*2\r\n$4\r\nRPOP\r\n$1\r\nl\r\n*5\r\n$5\r\nLMOVE\r\n$1\r\nl\r\n$1\r\nd\r\n$5\r\nRIGHT\r\n$4\r\nLEFT\r\n*3\r\n$9\r\nRPOPLPUSH\r\n$1\r\nl\r\n$1\r\nd\r\n*3\r\n$4\r\nLPOP\r\n$1\r\nl\r\n$1\r\n2\r\n*8\r\n$4\r\nZADD\r\n$1\r\nz\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\nc\r\n*2\r\n$7\r\nZPOPMIN\r\n$1\r\nz\r\n*2\r\n$7\r\nZPOPMAX\r\n$1\r\nz\r\n*3\r\n$7\r\nZPOPMIN\r\n$1\r\nz\r\n$1\r\n1\r\n")
    }

    func testServedBlockedPopsPropagate() {
        let h = EngineHarness()
        h.expect(client: 1, ["BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "5"], "")
        h.expect(client: 2, ["BZPOPMIN", "z", "0"], "")
        h.expect(client: 3, ["BZMPOP", "0", "2", "z2", "z", "MAX", "COUNT", "10"], "")
        h.expect(client: 4, ["BRPOPLPUSH", "src", "dst", "0"], "")
        h.expect(client: 5, ["BLMOVE", "src2", "dst", "RIGHT", "LEFT", "0"], "")
        h.expect(["RPUSH", "l", "a", "b", "c"], ":3\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*2\r\n$1\r\nl\r\n*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n".utf8)))
        h.expect(["ZADD", "z", "1", "a", "2", "b", "3", "c"], ":3\r\n")
        XCTAssertEqual(escaped(h.client(2).reply.take()), escaped(Array("*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n".utf8)))
        XCTAssertEqual(escaped(h.client(3).reply.take()), escaped(Array("*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n".utf8)))
        h.expect(["RPUSH", "src", "x"], ":1\r\n")
        XCTAssertEqual(escaped(h.client(4).reply.take()), escaped(Array("$1\r\nx\r\n".utf8)))
        h.expect(["RPUSH", "src2", "y"], ":1\r\n")
        XCTAssertEqual(escaped(h.client(5).reply.take()), escaped(Array("$1\r\ny\r\n".utf8)))
        h.expect(["LRANGE", "dst", "0", "-1"], "*2\r\n$1\r\ny\r\n$1\r\nx\r\n")
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*5\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n*3\r\n$4\r\nRPOP\r\n$1\r\nl\r\n$1\r\n3\r\n*8\r\n$4\r\nZADD\r\n$1\r\nz\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\nc\r\n*2\r\n$7\r\nZPOPMIN\r\n$1\r\nz\r\n*3\r\n$7\r\nZPOPMAX\r\n$1\r\nz\r\n$1\r\n2\r\n*3\r\n$5\r\nRPUSH\r\n$3\r\nsrc\r\n$1\r\nx\r\n*3\r\n$9\r\nRPOPLPUSH\r\n$3\r\nsrc\r\n$3\r\ndst\r\n*3\r\n$5\r\nRPUSH\r\n$4\r\nsrc2\r\n$1\r\ny\r\n*5\r\n$5\r\nLMOVE\r\n$4\r\nsrc2\r\n$3\r\ndst\r\n$5\r\nright\r\n$4\r\nleft\r\n")
    }

    func testTimeouts() {
        let h = EngineHarness()
        h.expect(client: 1, ["BLPOP", "l", "0.1"], "")
        h.advance(100); h.engine.cron()
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*-1\r\n".utf8)))
        h.expect(client: 2, ["BLMOVE", "l", "d", "LEFT", "LEFT", "0.1"], "")
        h.advance(100); h.engine.cron()
        XCTAssertEqual(escaped(h.client(2).reply.take()), escaped(Array("*-1\r\n".utf8)))
        h.expect(client: 3, ["BZPOPMIN", "z", "0.05"], "")
        h.advance(100); h.engine.cron()
        XCTAssertEqual(escaped(h.client(3).reply.take()), escaped(Array("*-1\r\n".utf8)))
        h.expect(client: 4, ["BLMPOP", "0.1", "1", "l", "LEFT"], "")
        h.advance(100); h.engine.cron()
        XCTAssertEqual(escaped(h.client(4).reply.take()), escaped(Array("*-1\r\n".utf8)))
        h.expect(client: 5, ["BZMPOP", "0.1", "1", "z", "MIN"], "")
        h.advance(100); h.engine.cron()
        XCTAssertEqual(escaped(h.client(5).reply.take()), escaped(Array("*-1\r\n".utf8)))
        h.expect(client: 6, ["BRPOPLPUSH", "l", "d", "0.1"], "")
        h.advance(100); h.engine.cron()
        XCTAssertEqual(escaped(h.client(6).reply.take()), escaped(Array("*-1\r\n".utf8)))
        XCTAssertEqual(h.engine.blocking.blockedClients, 0)
        h.expect(["RPUSH", "l", "a"], ":1\r\n")
        h.expect(["LLEN", "l"], ":1\r\n")
    }

    func testTimeoutInRESP3() {
        let h = EngineHarness()
        h.client(1).protocolVersion = 3
        h.expect(client: 1, ["BLPOP", "l", "0.1"], "")
        h.advance(100); h.engine.cron()
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("_\r\n".utf8)))
        h.expect(client: 1, ["BZPOPMAX", "z", "1"], "")
        h.expect(["ZADD", "z", "1.5", "a"], ":1\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*3\r\n$1\r\nz\r\n$1\r\na\r\n,1.5\r\n".utf8)))
    }

    func testServedAfterExec() {
        let h = EngineHarness()
        h.expect(client: 1, ["BLPOP", "l", "0"], "")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["LPUSH", "l", "a"], "+QUEUED\r\n")
        h.expect(["LPUSH", "l", "b"], "+QUEUED\r\n")
        XCTAssertEqual(h.client(1).reply.buffer.count, 0)
        h.expect(["EXEC"], "*2\r\n:1\r\n:2\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*2\r\n$1\r\nl\r\n$1\r\nb\r\n".utf8)))
        h.expect(["LRANGE", "l", "0", "-1"], "*1\r\n$1\r\na\r\n")
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$5\r\nLPUSH\r\n$1\r\nl\r\n$1\r\na\r\n*3\r\n$5\r\nLPUSH\r\n$1\r\nl\r\n$1\r\nb\r\n*1\r\n$4\r\nEXEC\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nl\r\n")
    }

    func testTransactionThatEmptiesTheKeyServesNobody() {
        let h = EngineHarness()
        h.expect(client: 1, ["BLPOP", "l", "0"], "")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["LPUSH", "l", "a"], "+QUEUED\r\n")
        h.expect(["LPOP", "l"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*2\r\n:1\r\n$1\r\na\r\n")
        XCTAssertTrue(h.client(1).isBlocked)
        h.expect(["RPUSH", "l", "z"], ":1\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*2\r\n$1\r\nl\r\n$1\r\nz\r\n".utf8)))
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$5\r\nLPUSH\r\n$1\r\nl\r\n$1\r\na\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nl\r\n*1\r\n$4\r\nEXEC\r\n*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\nz\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nl\r\n")
    }

    func testBlockingCommandsInsideMultiDoNotBlock() {
        let h = EngineHarness()
        h.expect(["RPUSH", "full", "x"], ":1\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["BLPOP", "nokey", "0"], "+QUEUED\r\n")
        h.expect(["BRPOP", "nokey", "1"], "+QUEUED\r\n")
        h.expect(["BLMOVE", "nokey", "d", "LEFT", "LEFT", "0"], "+QUEUED\r\n")
        h.expect(["BRPOPLPUSH", "nokey", "d", "0"], "+QUEUED\r\n")
        h.expect(["BLMPOP", "0", "1", "nokey", "LEFT"], "+QUEUED\r\n")
        h.expect(["BZPOPMIN", "nokey", "0"], "+QUEUED\r\n")
        h.expect(["BZMPOP", "0", "1", "nokey", "MIN"], "+QUEUED\r\n")
        h.expect(["BLPOP", "full", "0"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*8\r\n*-1\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n*-1\r\n*-1\r\n*2\r\n$4\r\nfull\r\n$1\r\nx\r\n")
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$5\r\nRPUSH\r\n$4\r\nfull\r\n$1\r\nx\r\n*2\r\n$4\r\nLPOP\r\n$4\r\nfull\r\n")
    }

    func testKeyTypeChangeKeepsClientBlocked() {
        let h = EngineHarness()
        h.expect(client: 1, ["BLPOP", "k", "0"], "")
        h.expect(["SET", "k", "str"], "+OK\r\n")
        XCTAssertTrue(h.client(1).isBlocked)
        h.expect(["DEL", "k"], ":1\r\n")
        h.expect(["ZADD", "k", "1", "a"], ":1\r\n")
        XCTAssertTrue(h.client(1).isBlocked)
        h.expect(["DEL", "k"], ":1\r\n")
        h.expect(["RPUSH", "k", "v"], ":1\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*2\r\n$1\r\nk\r\n$1\r\nv\r\n".utf8)))
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nstr\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n*4\r\n$4\r\nZADD\r\n$1\r\nk\r\n$1\r\n1\r\n$1\r\na\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n*3\r\n$5\r\nRPUSH\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nk\r\n")
    }

    func testListAndSortedSetWaitersOnOneKey() {
        let h = EngineHarness()
        h.expect(client: 1, ["BLPOP", "k", "0"], "")
        h.expect(client: 2, ["BZPOPMIN", "k", "0"], "")
        h.expect(["ZADD", "k", "1", "a"], ":1\r\n")
        XCTAssertEqual(escaped(h.client(2).reply.take()), escaped(Array("*3\r\n$1\r\nk\r\n$1\r\na\r\n$1\r\n1\r\n".utf8)))
        XCTAssertTrue(h.client(1).isBlocked)
        h.expect(["RPUSH", "k", "x"], ":1\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*2\r\n$1\r\nk\r\n$1\r\nx\r\n".utf8)))
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*4\r\n$4\r\nZADD\r\n$1\r\nk\r\n$1\r\n1\r\n$1\r\na\r\n*2\r\n$7\r\nZPOPMIN\r\n$1\r\nk\r\n*3\r\n$5\r\nRPUSH\r\n$1\r\nk\r\n$1\r\nx\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nk\r\n")
    }

    func testRenameMoveCopySortStoreWakeClients() {
        let h = EngineHarness()
        h.expect(client: 1, ["BLPOP", "dst", "0"], "")
        h.expect(["RPUSH", "src", "a"], ":1\r\n")
        h.expect(["RENAME", "src", "dst"], "+OK\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*2\r\n$3\r\ndst\r\n$1\r\na\r\n".utf8)))
        h.expect(client: 1, ["BLPOP", "dst2", "0"], "")
        h.expect(["RPUSH", "src", "b"], ":1\r\n")
        h.expect(["COPY", "src", "dst2"], ":1\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*2\r\n$4\r\ndst2\r\n$1\r\nb\r\n".utf8)))
        h.expect(client: 2, ["BLPOP", "dst3", "0"], "")
        h.expect(["SORT", "src", "ALPHA", "STORE", "dst3"], ":1\r\n")
        XCTAssertEqual(escaped(h.client(2).reply.take()), escaped(Array("*2\r\n$4\r\ndst3\r\n$1\r\nb\r\n".utf8)))
        h.expect(client: 3, ["BZPOPMIN", "zdst", "0"], "")
        h.expect(["ZADD", "zs", "1", "m"], ":1\r\n")
        h.expect(["ZUNIONSTORE", "zdst", "1", "zs"], ":1\r\n")
        XCTAssertEqual(escaped(h.client(3).reply.take()), escaped(Array("*3\r\n$4\r\nzdst\r\n$1\r\nm\r\n$1\r\n1\r\n".utf8)))
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$5\r\nRPUSH\r\n$3\r\nsrc\r\n$1\r\na\r\n*3\r\n$6\r\nRENAME\r\n$3\r\nsrc\r\n$3\r\ndst\r\n*2\r\n$4\r\nLPOP\r\n$3\r\ndst\r\n*3\r\n$5\r\nRPUSH\r\n$3\r\nsrc\r\n$1\r\nb\r\n*3\r\n$4\r\nCOPY\r\n$3\r\nsrc\r\n$4\r\ndst2\r\n*2\r\n$4\r\nLPOP\r\n$4\r\ndst2\r\n*5\r\n$4\r\nSORT\r\n$3\r\nsrc\r\n$5\r\nALPHA\r\n$5\r\nSTORE\r\n$4\r\ndst3\r\n*2\r\n$4\r\nLPOP\r\n$4\r\ndst3\r\n*4\r\n$4\r\nZADD\r\n$2\r\nzs\r\n$1\r\n1\r\n$1\r\nm\r\n*4\r\n$11\r\nZUNIONSTORE\r\n$4\r\nzdst\r\n$1\r\n1\r\n$2\r\nzs\r\n*2\r\n$7\r\nZPOPMIN\r\n$4\r\nzdst\r\n")
    }

    func testSwapDBWakesClients() {
        let h = EngineHarness()
        h.expect(client: 1, ["BLPOP", "l", "0"], "")
        h.expect(["SELECT", "9"], "+OK\r\n")
        h.expect(["RPUSH", "l", "a"], ":1\r\n")
        h.expect(["SWAPDB", "0", "9"], "+OK\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*2\r\n$1\r\nl\r\n$1\r\na\r\n".utf8)))
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n9\r\n*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n*3\r\n$6\r\nSWAPDB\r\n$1\r\n0\r\n$1\r\n9\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nl\r\n")
    }

    func testBlockedClientInAnotherDatabase() {
        let h = EngineHarness()
        h.expect(client: 1, ["SELECT", "3"], "+OK\r\n")
        h.expect(client: 1, ["BLPOP", "l", "0"], "")
        h.expect(["SELECT", "3"], "+OK\r\n")
        h.expect(["RPUSH", "l", "a"], ":1\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*2\r\n$1\r\nl\r\n$1\r\na\r\n".utf8)))
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nl\r\n")
    }

    func testBLMoveChain() {
        let h = EngineHarness()
        h.expect(client: 1, ["BLMOVE", "a", "b", "LEFT", "RIGHT", "0"], "")
        h.expect(client: 2, ["BLPOP", "b", "0"], "")
        h.expect(["RPUSH", "a", "x"], ":1\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("$1\r\nx\r\n".utf8)))
        XCTAssertEqual(escaped(h.client(2).reply.take()), escaped(Array("*2\r\n$1\r\nb\r\n$1\r\nx\r\n".utf8)))
        h.expect(["EXISTS", "a", "b"], ":0\r\n")
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$5\r\nRPUSH\r\n$1\r\na\r\n$1\r\nx\r\n*5\r\n$5\r\nLMOVE\r\n$1\r\na\r\n$1\r\nb\r\n$4\r\nleft\r\n$5\r\nright\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nb\r\n")
    }

    func testBLMoveToWrongTypeDestination() {
        let h = EngineHarness()
        h.expect(["SET", "dst", "str"], "+OK\r\n")
        h.expect(client: 1, ["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"], "")
        h.expect(["RPUSH", "src", "a"], ":1\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n".utf8)))
        h.expect(["LRANGE", "src", "0", "-1"], "*1\r\n$1\r\na\r\n")
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$3\r\ndst\r\n$3\r\nstr\r\n*3\r\n$5\r\nRPUSH\r\n$3\r\nsrc\r\n$1\r\na\r\n")
    }

    func testBlockingErrors() {
        let h = EngineHarness()
        h.expect(["BLPOP", "l", "x"], "-ERR timeout is not a float or out of range\r\n")
        h.expect(["BLPOP", "l", "-1"], "-ERR timeout is negative\r\n")
        h.expect(["BLPOP", "l", "inf"], "-ERR timeout is negative\r\n")
        h.expect(["BLPOP", "l", "1e16"], "-ERR timeout is negative\r\n")
        h.expect(["BLPOP", "l", ""], "-ERR timeout is not a float or out of range\r\n")
        h.expect(["BLPOP", "l"], "-ERR wrong number of arguments for 'blpop' command\r\n")
        h.expect(["BRPOP", "l"], "-ERR wrong number of arguments for 'brpop' command\r\n")
        h.expect(["BLMOVE", "a", "b", "LEFT"], "-ERR wrong number of arguments for 'blmove' command\r\n")
        h.expect(["BLMOVE", "a", "b", "UP", "LEFT", "0"], "-ERR syntax error\r\n")
        h.expect(["BLMOVE", "a", "b", "LEFT", "RIGHT", "x"], "-ERR timeout is not a float or out of range\r\n")
        h.expect(["BRPOPLPUSH", "a", "b", "x"], "-ERR timeout is not a float or out of range\r\n")
        h.expect(["BLMPOP", "0", "0", "l", "LEFT"], "-ERR numkeys should be greater than 0\r\n")
        h.expect(["BLMPOP", "0", "1", "l"], "-ERR wrong number of arguments for 'blmpop' command\r\n")
        h.expect(["BLMPOP", "x", "1", "l", "LEFT"], "-ERR timeout is not a float or out of range\r\n")
        h.expect(["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "0"], "-ERR count should be greater than 0\r\n")
        h.expect(["BLMPOP", "0", "2", "l", "LEFT"], "-ERR syntax error\r\n")
        h.expect(["BZPOPMIN", "z", "x"], "-ERR timeout is not a float or out of range\r\n")
        h.expect(["BZMPOP", "0", "1", "z", "LEFT"], "-ERR syntax error\r\n")
        h.expect(["BZMPOP", "0", "1", "z", "MIN", "COUNT", "-1"], "-ERR count should be greater than 0\r\n")
        h.expect(["BZMPOP", "-1", "1", "z", "MIN"], "-ERR timeout is negative\r\n")
        h.expect(["SET", "s", "x"], "+OK\r\n")
        h.expect(["BLPOP", "nokey", "s", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["BRPOP", "s", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["BLMOVE", "s", "d", "LEFT", "LEFT", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["RPUSH", "l", "a"], ":1\r\n")
        h.expect(["BLMOVE", "l", "s", "LEFT", "LEFT", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["BLMPOP", "0", "1", "s", "LEFT"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["BZPOPMIN", "s", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["BZMPOP", "0", "1", "s", "MIN"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["LLEN", "l"], ":1\r\n")
    }

    func testBlockedResp3Replies() {
        let h = EngineHarness()
        h.client(1).protocolVersion = 3
        h.expect(client: 1, ["BZPOPMIN", "z", "0"], "")
        h.expect(["ZADD", "z", "2.5", "a"], ":1\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*3\r\n$1\r\nz\r\n$1\r\na\r\n,2.5\r\n".utf8)))
        h.expect(client: 1, ["BZMPOP", "0", "1", "z", "MAX", "COUNT", "2"], "")
        h.expect(["ZADD", "z", "1", "a", "2", "b"], ":2\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n".utf8)))
        h.expect(client: 1, ["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "2"], "")
        h.expect(["RPUSH", "l", "a"], ":1\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n".utf8)))
    }

    func testDisconnectedBlockedClientLeavesNothingBehind() {
        let h = EngineHarness()
        h.expect(client: 1, ["BLPOP", "l", "0"], "")
        h.expect(client: 2, ["BLPOP", "l", "0"], "")
        h.engine.disconnect(h.client(1))
        XCTAssertEqual(h.engine.blocking.blockedClients, 1)
        h.expect(["RPUSH", "l", "a", "b"], ":2\r\n")
        XCTAssertEqual(escaped(h.client(2).reply.take()), escaped(Array("*2\r\n$1\r\nl\r\n$1\r\na\r\n".utf8)))
        h.expect(["LRANGE", "l", "0", "-1"], "*1\r\n$1\r\nb\r\n")
        XCTAssertEqual(h.engine.blocking.blockedClients, 0)
        XCTAssertEqual(h.engine.blocking.blockingKeys, 0)
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*4\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nl\r\n")
    }

    func testTimeoutIsCheckedAfterAnyCommand() {
        let h = EngineHarness()
        h.expect(client: 1, ["BRPOP", "l", "0.2"], "")
        h.advance(100)
        h.expect(["PING"], "+PONG\r\n")
        XCTAssertTrue(h.client(1).isBlocked)
        h.advance(150)
        h.expect(["PING"], "+PONG\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*-1\r\n".utf8)))
        XCTAssertFalse(h.client(1).isBlocked)
    }

    func testFractionalTimeoutIsNotRoundedToSeconds() {
        let h = EngineHarness()
        h.expect(client: 1, ["BLPOP", "l", "0.6"], "")
        h.advance(200)
        h.expect(["PING"], "+PONG\r\n")
        XCTAssertTrue(h.client(1).isBlocked)
        h.expect(["RPUSH", "l", "a"], ":1\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*2\r\n$1\r\nl\r\n$1\r\na\r\n".utf8)))
    }

    func testHeldRequestsOfAServedClientRunAfterOtherWaiters() {
        let h = EngineHarness()
        // As the server does: the hook runs the client's held requests right away.
        var held: [UInt64: [[String]]] = [:]
        h.engine.onClientUnblocked = { [unowned h] c in for argv in held[c.id] ?? [] { h.engine.execute(c, argv.map { Bytes($0) }) }; held[c.id] = nil }
        h.expect(client: 1, ["BLPOP", "l", "0"], "")
        h.expect(client: 2, ["BLPOP", "l", "0"], "")
        held[h.client(1).id] = [["LPUSH", "l", "x"]]
        h.expect(["RPUSH", "l", "a", "b"], ":2\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*2\r\n$1\r\nl\r\n$1\r\na\r\n:1\r\n".utf8)))
        XCTAssertEqual(escaped(h.client(2).reply.take()), escaped(Array("*2\r\n$1\r\nl\r\n$1\r\nb\r\n".utf8)))
        // (the oracle: client 1 sends its LPUSH once served)
        h.expect(["LRANGE", "l", "0", "-1"], "*1\r\n$1\r\nx\r\n")
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*4\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nl\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nl\r\n*3\r\n$5\r\nLPUSH\r\n$1\r\nl\r\n$1\r\nx\r\n")
    }
}
