import XCTest
@testable import CairnEngine

// Effect records in the replication log. The expected record streams are the ones Redis 7.0.15
// wrote to its AOF (appendonly yes, default config unless a test says otherwise) for the same
// commands; absolute times differ because Cairn's clock is injected (EngineHarness.startMs).

/// One RESP multibulk record, encoded here independently of the engine's encoder.
private func record(_ args: String...) -> String {
    var s = "*\(args.count)\r\n"
    for a in args { s += "$\(a.utf8.count)\r\n\(a)\r\n" }
    return s
}

private let now = EngineHarness.startMs

final class ReplicationLogTests: XCTestCase {
    func expectLog(_ h: EngineHarness, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(escaped(h.logBytes), escaped(Array(expected.utf8)), file: file, line: line)
        XCTAssertEqual(h.engine.log.offset, Int64(expected.utf8.count), "offset is the byte count",
                       file: file, line: line)
    }

    func testFirstWriteIsPrecededBySelect() {
        let h = EngineHarness()
        XCTAssertEqual(h.engine.log.offset, 0)
        h.run(["SET", "k", "v"])
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
        XCTAssertEqual(h.engine.log.offset, 50)
        h.run(["SET", "k", "w"])
        expectLog(h, record("SELECT", "0") + record("SET", "k", "v") + record("SET", "k", "w"))
    }

    func testOffsetCountsEveryByteAndTheBacklogServesAnyHeldOffset() {
        let h = EngineHarness()
        h.run(["SET", "a", "1"])
        let mid = h.engine.log.offset
        h.run(["APPEND", "a", "xyz"])
        h.run(["DEL", "a"])
        let tail = record("APPEND", "a", "xyz") + record("DEL", "a")
        XCTAssertEqual(h.engine.log.backlog.bytes(from: mid), Array(tail.utf8))
        XCTAssertEqual(h.engine.log.backlog.bytes(from: h.engine.log.offset), [])
        XCTAssertNil(h.engine.log.backlog.bytes(from: h.engine.log.offset + 1))
        XCTAssertEqual(h.engine.log.offset, mid + Int64(tail.utf8.count))
    }

    func testRelativeExpiriesOfSetBecomePXAT() {
        let h = EngineHarness()
        h.run(["SET", "a", "v", "EX", "100"])
        h.run(["SET", "b", "v", "PX", "1500"])
        h.run(["SET", "c", "v", "EXAT", "4102444800"])
        h.run(["SET", "d", "v", "PXAT", "4102444800123"])
        h.run(["SETEX", "e", "100", "v"])
        h.run(["PSETEX", "f", "100", "v"])
        h.run(["SET", "g", "v", "NX", "EX", "10"])
        expectLog(h, record("SELECT", "0")
                  + record("SET", "a", "v", "PXAT", "\(now + 100_000)")
                  + record("SET", "b", "v", "PXAT", "\(now + 1500)")
                  + record("SET", "c", "v", "PXAT", "4102444800000")
                  + record("SET", "d", "v", "PXAT", "4102444800123")
                  + record("SET", "e", "v", "PXAT", "\(now + 100_000)")
                  + record("SET", "f", "v", "PXAT", "\(now + 100)")
                  + record("SET", "g", "v", "PXAT", "\(now + 10_000)"))
    }

    func testSetIsPropagatedWithoutItsGetOption() {
        let h = EngineHarness()
        h.run(["SET", "b", "v", "GET", "GET"])
        h.run(["SET", "b", "v", "get"])
        h.run(["SET", "b", "v", "XX", "GET", "KEEPTTL"])
        h.run(["SET", "b", "v", "PXAT", "4102444800000", "GET"])
        h.run(["SET", "b", "v", "EX", "10", "GET"])
        expectLog(h, record("SELECT", "0")
                  + record("SET", "b", "v")
                  + record("SET", "b", "v")
                  + record("SET", "b", "v", "XX", "KEEPTTL")
                  + record("SET", "b", "v", "PXAT", "4102444800000")
                  + record("SET", "b", "v", "PXAT", "\(now + 10_000)"))
    }

    func testExpireFamilyBecomesPEXPIREATKeepingItsOptions() {
        let h = EngineHarness()
        h.run(["SET", "a", "v"])
        h.run(["EXPIRE", "a", "100"])
        h.run(["PEXPIRE", "a", "200000", "GT"])
        h.run(["EXPIRE", "a", "50", "gt"])             // not applied: nothing propagated
        h.run(["EXPIREAT", "a", "4102444801", "gt"])
        h.run(["PEXPIREAT", "a", "4102444800000", "LT"])
        h.run(["EXPIRE", "a", "-1"])
        expectLog(h, record("SELECT", "0") + record("SET", "a", "v")
                  + record("PEXPIREAT", "a", "\(now + 100_000)")
                  + record("PEXPIREAT", "a", "\(now + 200_000)", "GT")
                  + record("PEXPIREAT", "a", "4102444801000", "gt")
                  + record("PEXPIREAT", "a", "4102444800000", "LT")
                  + record("DEL", "a"))
    }

    func testIncrbyfloatBecomesSetKeepTTL() {
        let h = EngineHarness()
        h.run(["INCRBYFLOAT", "h", "3"])
        h.run(["INCRBYFLOAT", "h", "0.5"])
        h.run(["INCRBYFLOAT", "h", "abc"])
        expectLog(h, record("SELECT", "0") + record("SET", "h", "3", "KEEPTTL")
                  + record("SET", "h", "3.5", "KEEPTTL"))
    }

    func testGetdelGetsetAndGetexRewrites() {
        let h = EngineHarness()
        h.run(["SET", "g", "v"])
        h.run(["GETSET", "g", "x"])
        h.run(["GETEX", "g", "EX", "100"])
        h.run(["GETEX", "g", "PERSIST"])
        h.run(["GETEX", "g", "PERSIST"])      // no TTL to remove: nothing
        h.run(["GETEX", "g"])                 // nothing
        h.run(["GETEX", "g", "PXAT", "4102444800000"])
        h.run(["GETEX", "g", "PXAT", "1"])
        h.run(["SET", "d", "v"])
        h.run(["GETDEL", "d"])
        h.run(["GETDEL", "d"])                // missing: nothing
        expectLog(h, record("SELECT", "0") + record("SET", "g", "v")
                  + record("SET", "g", "x")
                  + record("PEXPIREAT", "g", "\(now + 100_000)")
                  + record("PERSIST", "g")
                  + record("PEXPIREAT", "g", "4102444800000")
                  + record("DEL", "g")
                  + record("SET", "d", "v")
                  + record("DEL", "d"))
    }

    func testLazyfreeSettingsTurnDeletionsIntoUnlink() {
        var config = EngineConfig()
        config.lazyfreeLazyExpire = true
        config.lazyfreeLazyUserDel = true
        config.activeExpireEnabled = false
        let h = EngineHarness(config: config)
        h.run(["SET", "t", "v", "PX", "10"])
        h.run(["SET", "a", "v"])
        h.run(["SET", "b", "v"])
        h.run(["SET", "c", "v"])
        h.advance(10)
        h.run(["GET", "t"])
        h.run(["EXPIRE", "a", "-1"])
        h.run(["GETEX", "b", "PXAT", "1"])
        h.run(["GETDEL", "c"])
        h.run(["SET", "d", "v"])
        h.run(["DEL", "d"])                   // DEL stays DEL, as in Redis
        expectLog(h, record("SELECT", "0") + record("SET", "t", "v", "PXAT", "\(now + 10)")
                  + record("SET", "a", "v") + record("SET", "b", "v") + record("SET", "c", "v")
                  + record("UNLINK", "t") + record("UNLINK", "a") + record("UNLINK", "b")
                  + record("UNLINK", "c") + record("SET", "d", "v") + record("DEL", "d"))
    }

    func testLazyExpiryOfAKeyIsPropagatedAsDel() {
        let h = EngineHarness()
        h.run(["SET", "t", "v", "PX", "10"])
        h.advance(10)
        h.expect(["GET", "t"], "$-1\r\n")
        h.expect(["GET", "t"], "$-1\r\n")     // already gone: nothing more
        expectLog(h, record("SELECT", "0") + record("SET", "t", "v", "PXAT", "\(now + 10)")
                  + record("DEL", "t"))
    }

    func testActiveExpiryIsPropagatedAsDelInTheKeysDatabase() {
        let h = EngineHarness()
        h.run(["SELECT", "4"])
        h.run(["SET", "t", "v", "PX", "10"])
        h.run(["SELECT", "0"])
        h.run(["SET", "x", "1"])
        h.advance(10)
        h.engine.activeExpireCycle(timeLimitMicros: 1_000_000)
        expectLog(h, record("SELECT", "4") + record("SET", "t", "v", "PXAT", "\(now + 10)")
                  + record("SELECT", "0") + record("SET", "x", "1")
                  + record("SELECT", "4") + record("DEL", "t"))
    }

    func testOneCommandExpiringTwoKeysIsWrappedInMultiExec() {
        let h = EngineHarness()
        h.engine.config.activeExpireEnabled = false
        h.run(["SET", "t5", "v", "PX", "10"])
        h.run(["SET", "t6", "v", "PX", "10"])
        h.advance(10)
        h.run(["MGET", "t5", "t6"])
        expectLog(h, record("SELECT", "0")
                  + record("SET", "t5", "v", "PXAT", "\(now + 10)")
                  + record("SET", "t6", "v", "PXAT", "\(now + 10)")
                  + record("MULTI") + record("DEL", "t5") + record("DEL", "t6") + record("EXEC"))
    }

    func testMultiExecWithTwoWritesIsWrapped() {
        let h = EngineHarness()
        h.run(["MULTI"])
        h.run(["SET", "x", "1"])
        h.run(["GET", "x"])
        h.run(["INCR", "x"])
        h.run(["EXEC"])
        expectLog(h, record("SELECT", "0") + record("MULTI") + record("SET", "x", "1")
                  + record("INCR", "x") + record("EXEC"))
    }

    func testMultiExecWithOneWriteIsJustThatCommand() {
        let h = EngineHarness()
        h.run(["MULTI"])
        h.run(["SET", "y", "1"])
        h.run(["GET", "y"])
        h.run(["EXEC"])
        h.run(["MULTI"])
        h.run(["GET", "y"])
        h.run(["EXEC"])
        expectLog(h, record("SELECT", "0") + record("SET", "y", "1"))
    }

    func testMultiExecIncludesLazyExpiryInsideTheTransaction() {
        let h = EngineHarness()
        h.engine.config.activeExpireEnabled = false
        h.run(["SET", "t3", "v", "PX", "10"])
        h.advance(10)
        h.run(["MULTI"])
        h.run(["GET", "t3"])
        h.run(["SET", "z", "1"])
        h.run(["EXEC"])
        expectLog(h, record("SELECT", "0") + record("SET", "t3", "v", "PXAT", "\(now + 10)")
                  + record("MULTI") + record("DEL", "t3") + record("SET", "z", "1") + record("EXEC"))
    }

    func testSelectIsWrittenBeforeMultiAndWhenTheDatabaseChanges() {
        let h = EngineHarness()
        h.run(["SELECT", "2"])
        h.run(["MULTI"])
        h.run(["SET", "a", "1"])
        h.run(["SET", "b", "1"])
        h.run(["EXEC"])
        h.run(["MULTI"])
        h.run(["SET", "c", "1"])
        h.run(["SELECT", "3"])
        h.run(["SET", "d", "1"])
        h.run(["EXEC"])
        h.run(["SET", "e", "1"])
        h.run(["SELECT", "0"])
        h.run(["MULTI"])
        h.run(["SELECT", "4"])
        h.run(["SET", "f", "1"])
        h.run(["EXEC"])
        h.run(["SELECT", "0"])
        h.run(["SET", "g", "1"])
        expectLog(h, record("SELECT", "2") + record("MULTI") + record("SET", "a", "1")
                  + record("SET", "b", "1") + record("EXEC")
                  + record("MULTI") + record("SET", "c", "1") + record("SELECT", "3")
                  + record("SET", "d", "1") + record("EXEC")
                  + record("SET", "e", "1")
                  + record("SELECT", "4") + record("SET", "f", "1")
                  + record("SELECT", "0") + record("SET", "g", "1"))
    }

    func testClientsInDifferentDatabasesInterleaveWithSelects() {
        let h = EngineHarness()
        h.run(client: 1, ["SELECT", "7"])
        h.run(["SET", "a", "1"])
        h.run(client: 1, ["SET", "b", "1"])
        h.run(client: 1, ["SET", "c", "1"])
        h.run(["SET", "d", "1"])
        expectLog(h, record("SELECT", "0") + record("SET", "a", "1")
                  + record("SELECT", "7") + record("SET", "b", "1") + record("SET", "c", "1")
                  + record("SELECT", "0") + record("SET", "d", "1"))
    }

    func testReadsAndWritesThatChangeNothingAppendNothing() {
        let h = EngineHarness()
        h.run(["SET", "k", "1"])
        h.run(["SET", "s", "abc"])
        let before = h.logBytes
        for cmd: [String] in [
            ["GET", "k"], ["MGET", "k", "s"], ["EXISTS", "k"], ["TTL", "k"], ["STRLEN", "s"],
            ["GETRANGE", "s", "0", "1"], ["SCAN", "0"], ["KEYS", "*"], ["TYPE", "k"], ["DBSIZE"],
            ["RANDOMKEY"], ["PING"], ["ECHO", "x"], ["OBJECT", "ENCODING", "k"],
            ["SET", "k", "2", "NX"], ["SET", "missing", "2", "XX"], ["SETNX", "k", "3"],
            ["MSETNX", "k", "1", "n", "2"], ["EXPIRE", "missing", "10"], ["EXPIRE", "k", "10", "XX"],
            ["PERSIST", "k"], ["DEL", "missing"], ["UNLINK", "missing"], ["INCR", "s"],
            ["INCRBY", "k", "x"], ["SET", "k", "v", "EX", "0"], ["RENAME", "k", "k"],
            ["RENAMENX", "k", "s"], ["RENAME", "missing", "x"], ["COPY", "missing", "x"],
            ["MOVE", "missing", "1"], ["SETRANGE", "k", "0", ""], ["APPEND", "x"], ["GETDEL", "missing"],
            ["GETEX", "k"], ["NOSUCHCOMMAND"], ["SELECT", "3"],
        ] {
            h.run(cmd)
        }
        XCTAssertEqual(escaped(h.logBytes), escaped(before))
        XCTAssertEqual(h.engine.log.offset, Int64(before.count))
    }

    func testFlushAndSwapCommandsArePropagatedInTheClientsDatabase() {
        let h = EngineHarness()
        h.run(["SELECT", "5"])
        h.run(["FLUSHALL"])
        h.run(["FLUSHDB", "ASYNC"])
        h.run(["SWAPDB", "0", "0"])
        h.run(["SWAPDB", "0", "1"])
        expectLog(h, record("SELECT", "5") + record("FLUSHALL") + record("FLUSHDB", "ASYNC")
                  + record("SWAPDB", "0", "0") + record("SWAPDB", "0", "1"))
    }

    func testWritesThatAreReplayedVerbatim() {
        let h = EngineHarness()
        h.run(["SETNX", "n", "1"])
        h.run(["INCR", "n"])
        h.run(["APPEND", "n", "x"])
        h.run(["SETRANGE", "n", "0", "y"])
        h.run(["COPY", "n", "n2"])
        h.run(["RENAME", "n2", "n3"])
        h.run(["MOVE", "n", "1"])
        h.run(["MSET", "a", "1", "b", "2"])
        h.run(["DEL", "a", "b", "missing"])
        expectLog(h, record("SELECT", "0") + record("SETNX", "n", "1") + record("INCR", "n")
                  + record("APPEND", "n", "x") + record("SETRANGE", "n", "0", "y")
                  + record("COPY", "n", "n2") + record("RENAME", "n2", "n3") + record("MOVE", "n", "1")
                  + record("MSET", "a", "1", "b", "2") + record("DEL", "a", "b", "missing"))
    }

    func testBinaryArgumentsAreLengthPrefixedNotEscaped() {
        let h = EngineHarness()
        let key = Bytes([0x00, 0x0D, 0x0A, 0xFF])
        h.send([Bytes("SET"), key, Bytes("\r\n")])
        XCTAssertEqual(h.logBytes, Array(record("SELECT", "0").utf8)
                       + Array("*3\r\n$3\r\nSET\r\n$4\r\n".utf8) + [0x00, 0x0D, 0x0A, 0xFF]
                       + Array("\r\n$2\r\n\r\n\r\n".utf8))
    }

    // MARK: the log on its own

    func testReplicationLogSelectsOnlyWhenTheDatabaseChanges() {
        let log = ReplicationLog(replicationID: String(repeating: "a", count: 40))
        log.append(db: 3, [Bytes("SET"), Bytes("k"), Bytes("v")])
        log.append(db: 3, [Bytes("DEL"), Bytes("k")])
        log.appendGlobal([Bytes("PING")])
        log.forgetSelectedDB()
        log.append(db: 3, [Bytes("DEL"), Bytes("k")])
        let expected = record("SELECT", "3") + record("SET", "k", "v") + record("DEL", "k")
            + record("PING") + record("SELECT", "3") + record("DEL", "k")
        XCTAssertEqual(log.backlog.bytes(from: 0), Array(expected.utf8))
        XCTAssertEqual(log.offset, Int64(expected.utf8.count))
        XCTAssertEqual(log.replicationID, String(repeating: "a", count: 40))
    }

    func testPendingBytesAreHandedOutOnce() {
        let log = ReplicationLog()
        log.keepsPending = true
        log.append(db: 0, [Bytes("SET"), Bytes("a"), Bytes("1")])
        XCTAssertEqual(log.takePending(), Array((record("SELECT", "0") + record("SET", "a", "1")).utf8))
        XCTAssertEqual(log.takePending(), [])
        log.append(db: 0, [Bytes("DEL"), Bytes("a")])
        XCTAssertEqual(log.takePending(), Array(record("DEL", "a").utf8))
    }

    func testBacklogKeepsOnlyTheLastCapacityBytes() {
        let log = ReplicationLog(backlogBytesMax: 16 * 1024)
        let value = String(repeating: "x", count: 1000)
        for i in 0..<100 { log.append(db: 0, [Bytes("SET"), Bytes("k\(i)"), Bytes(value)]) }
        let backlog = log.backlog
        XCTAssertEqual(backlog.endOffset, log.offset)
        XCTAssertEqual(backlog.count, 16 * 1024)
        XCTAssertEqual(backlog.firstOffset, log.offset - 16 * 1024)
        XCTAssertNil(backlog.bytes(from: 0))
        XCTAssertNil(backlog.bytes(from: backlog.firstOffset - 1))
        let last = record("SET", "k99", value)
        XCTAssertEqual(backlog.bytes(from: log.offset - Int64(last.utf8.count)), Array(last.utf8))
        XCTAssertEqual(backlog.bytes(from: backlog.firstOffset)?.count, 16 * 1024)
    }

    func testBacklogResizeKeepsTheNewestBytes() {
        let log = ReplicationLog(backlogBytesMax: 64 * 1024)
        for i in 0..<100 { log.append(db: 0, [Bytes("SET"), Bytes("k\(i)"), Bytes(String(repeating: "y", count: 500))]) }
        let tail = log.backlog.bytes(from: log.offset - 16 * 1024)
        log.resizeBacklog(16 * 1024)
        XCTAssertEqual(log.backlog.capacity, 16 * 1024)
        XCTAssertEqual(log.backlog.endOffset, log.offset)
        XCTAssertEqual(log.backlog.bytes(from: log.offset - 16 * 1024), tail)
        log.append(db: 0, [Bytes("DEL"), Bytes("k1")])
        XCTAssertEqual(log.backlog.bytes(from: log.offset - Int64(record("DEL", "k1").utf8.count)),
                       Array(record("DEL", "k1").utf8))
    }

    func testInactiveBacklogCountsTheSameOffsetsWithoutStoringBytes() {
        // The same records into a log that keeps them and one that only counts them: equal
        // offsets after every record; the counting one stores nothing.
        let kept = ReplicationLog(replicationID: String(repeating: "a", count: 40))
        let counted = ReplicationLog(replicationID: String(repeating: "a", count: 40), backlogActive: false)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<500 {
            var argv = [Bytes("SET")]
            for _ in 0..<Int(rng.next() % 5) {
                let n = [0, 1, 9, 10, 99, 100, 1000, 12345][Int(rng.next() % 8)]
                argv.append(Bytes([UInt8](repeating: UInt8(i % 256), count: n)))
            }
            let db = Int(rng.next() % 3) * 5
            kept.append(db: db, argv)
            counted.append(db: db, argv)
            XCTAssertEqual(counted.offset, kept.offset)
        }
        XCTAssertEqual(counted.backlog.count, 0)
        XCTAssertGreaterThan(kept.backlog.count, 0)
        // Activating starts the backlog at the current offset, with a SELECT only when the next
        // record's database differs from the last one selected.
        counted.activateBacklog()
        XCTAssertTrue(counted.backlogActive)
        XCTAssertEqual(counted.backlog.firstOffset, counted.offset)
        counted.forgetSelectedDB()
        counted.append(db: 2, [Bytes("DEL"), Bytes("k")])
        XCTAssertEqual(counted.backlog.bytes(from: counted.backlog.firstOffset),
                       Array("*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n".utf8))
        counted.deactivateBacklog()
        XCTAssertFalse(counted.backlogActive)
        XCTAssertEqual(counted.backlog.count, 0)
    }
}
