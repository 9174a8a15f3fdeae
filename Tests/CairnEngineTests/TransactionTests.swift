import XCTest
@testable import CairnEngine

// MULTI/EXEC/DISCARD/WATCH. Replies recorded from Redis 7.0.15 (two connections where a test
// names client 1); see EngineHarness in StringCommandTests.swift.

final class TransactionTests: XCTestCase {
    func testMultiExecRunsQueuedCommandsInOrder() {
        let h = EngineHarness()
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["SET", "k", "1"], "+QUEUED\r\n")
        h.expect(["INCR", "k"], "+QUEUED\r\n")
        h.expect(["GET", "k"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n")
        h.expect(["GET", "k"], "$1\r\n2\r\n")
    }

    func testEmptyMultiExecRepliesWithAnEmptyArray() {
        let h = EngineHarness()
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["EXEC"], "*0\r\n")
    }

    func testDiscardDropsTheQueue() {
        let h = EngineHarness()
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["SET", "k", "1"], "+QUEUED\r\n")
        h.expect(["DISCARD"], "+OK\r\n")
        h.expect(["GET", "k"], "$-1\r\n")
        h.expect(["EXEC"], "-ERR EXEC without MULTI\r\n")
        h.expect(["DISCARD"], "-ERR DISCARD without MULTI\r\n")
    }

    func testExecAndDiscardWithoutMulti() {
        let h = EngineHarness()
        h.expect(["EXEC"], "-ERR EXEC without MULTI\r\n")
        h.expect(["DISCARD"], "-ERR DISCARD without MULTI\r\n")
    }

    func testNestedMultiIsAnErrorAndKeepsTheTransaction() {
        let h = EngineHarness()
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["SET", "k", "1"], "+QUEUED\r\n")
        h.expect(["MULTI"], "-ERR MULTI calls can not be nested\r\n")
        h.expect(["EXEC"], "*1\r\n+OK\r\n")
        h.expect(["GET", "k"], "$1\r\n1\r\n")
    }

    func testWatchInsideMultiIsAnErrorAndKeepsTheTransaction() {
        let h = EngineHarness()
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["WATCH", "k"], "-ERR WATCH inside MULTI is not allowed\r\n")
        h.expect(["SET", "k", "1"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*1\r\n+OK\r\n")
    }

    func testUnknownCommandInMultiAbortsExec() {
        let h = EngineHarness()
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["SET", "k", "1"], "+QUEUED\r\n")
        h.expect(["NOSUCHCOMMAND", "a"], "-ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'a' \r\n")
        h.expect(["EXEC"], "-EXECABORT Transaction discarded because of previous errors.\r\n")
        h.expect(["GET", "k"], "$-1\r\n")
    }

    func testArityErrorInMultiAbortsExec() {
        let h = EngineHarness()
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["SET", "k", "1"], "+QUEUED\r\n")
        h.expect(["GET"], "-ERR wrong number of arguments for 'get' command\r\n")
        h.expect(["INCR", "k"], "+QUEUED\r\n")
        h.expect(["EXEC"], "-EXECABORT Transaction discarded because of previous errors.\r\n")
        h.expect(["GET", "k"], "$-1\r\n")
    }

    /// the other commands still run
    func testRuntimeErrorInsideExecIsRepliedInPlace() {
        let h = EngineHarness()
        h.expect(["SET", "s", "abc"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["SET", "a", "1"], "+QUEUED\r\n")
        h.expect(["INCR", "s"], "+QUEUED\r\n")
        h.expect(["INCR", "a"], "+QUEUED\r\n")
        h.expect(["SET", "b", "v", "EX", "0"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*4\r\n+OK\r\n-ERR value is not an integer or out of range\r\n:2\r\n-ERR invalid expire time in 'set' command\r\n")
        h.expect(["MGET", "a", "s", "b"], "*3\r\n$1\r\n2\r\n$3\r\nabc\r\n$-1\r\n")
    }

    func testWatchedKeyModifiedByAnotherClientFailsExec() {
        let h = EngineHarness()
        h.expect(["SET", "k", "1"], "+OK\r\n")
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["SET", "k", "2"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["INCR", "k"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*-1\r\n")
        h.expect(["GET", "k"], "$1\r\n2\r\n")
    }

    func testWatchedKeyUnmodifiedLetsExecRun() {
        let h = EngineHarness()
        h.expect(["SET", "k", "1"], "+OK\r\n")
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["SET", "other", "2"], "+OK\r\n")
        h.expect(client: 1, ["GET", "k"], "$1\r\n1\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["INCR", "k"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*1\r\n:2\r\n")
    }

    func testWatchedMissingKeyCreatedByAnotherClientFailsExec() {
        let h = EngineHarness()
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["SET", "k", "x"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["SET", "k", "mine"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*-1\r\n")
        h.expect(["GET", "k"], "$1\r\nx\r\n")
    }

    func testWatchedKeyDeletedFailsExec() {
        let h = EngineHarness()
        h.expect(["SET", "k", "1"], "+OK\r\n")
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["DEL", "k"], ":1\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["PING"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*-1\r\n")
    }

    func testWatchedKeyExpireChangeFailsExec() {
        let h = EngineHarness()
        h.expect(["SET", "k", "1"], "+OK\r\n")
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["EXPIRE", "k", "100"], ":1\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["PING"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*-1\r\n")
    }

    /// SET NX on an existing key changes nothing
    func testFailedWriteToWatchedKeyDoesNotFailExec() {
        let h = EngineHarness()
        h.expect(["SET", "k", "1"], "+OK\r\n")
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["SET", "k", "2", "NX"], "$-1\r\n")
        h.expect(client: 1, ["EXPIRE", "k", "100", "XX"], ":0\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["GET", "k"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*1\r\n$1\r\n1\r\n")
    }

    func testOwnWriteBeforeMultiFailsExec() {
        let h = EngineHarness()
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(["SET", "k", "1"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["GET", "k"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*-1\r\n")
    }

    func testUnwatchForgetsWatchedKeys() {
        let h = EngineHarness()
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["SET", "k", "2"], "+OK\r\n")
        h.expect(["UNWATCH"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["GET", "k"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*1\r\n$1\r\n2\r\n")
    }

    func testExecClearsWatchesEvenWhenItFails() {
        let h = EngineHarness()
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["SET", "k", "2"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["EXEC"], "*-1\r\n")
        h.expect(client: 1, ["SET", "k", "3"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["GET", "k"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*1\r\n$1\r\n3\r\n")
    }

    func testDiscardClearsWatches() {
        let h = EngineHarness()
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["SET", "k", "2"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["DISCARD"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["GET", "k"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*1\r\n$1\r\n2\r\n")
    }

    func testWatchedKeyInAnotherDatabaseIsSeparate() {
        let h = EngineHarness()
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["SELECT", "1"], "+OK\r\n")
        h.expect(client: 1, ["SET", "k", "x"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["GET", "k"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*1\r\n$-1\r\n")
    }

    func testFlushallFailsExecWhenAWatchedKeyExisted() {
        let h = EngineHarness()
        h.expect(["SET", "k", "1"], "+OK\r\n")
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["FLUSHALL"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["PING"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*-1\r\n")
    }

    func testFlushdbFailsExecWhenAWatchedKeyExisted() {
        let h = EngineHarness()
        h.expect(["SET", "k", "1"], "+OK\r\n")
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["FLUSHDB"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["PING"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*-1\r\n")
    }

    func testFlushallDoesNotFailExecWhenNoWatchedKeyExisted() {
        let h = EngineHarness()
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["FLUSHALL"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["PING"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*1\r\n+PONG\r\n")
    }

    func testSwapdbFailsExecWhenAWatchedKeyIsAffected() {
        let h = EngineHarness()
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["SELECT", "1"], "+OK\r\n")
        h.expect(client: 1, ["SET", "k", "in-db1"], "+OK\r\n")
        h.expect(client: 1, ["SWAPDB", "0", "1"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["GET", "k"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*-1\r\n")
    }

    func testSwapdbFailsExecWhenAWatchedKeyIsSwappedAway() {
        let h = EngineHarness()
        h.expect(["SET", "k", "1"], "+OK\r\n")
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["SWAPDB", "0", "1"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["GET", "k"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*-1\r\n")
    }

    func testWatchedKeyExpiringFailsExec() {
        let h = EngineHarness()
        h.expect(["SET", "k", "1", "PX", "50"], "+OK\r\n")
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.advance(100)
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["PING"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*-1\r\n")
    }

    func testWatchedKeyAlreadyExpiredAtWatchDoesNotFailExec() {
        let h = EngineHarness()
        h.engine.config.activeExpireEnabled = false
        h.expect(["SET", "k", "1", "PX", "50"], "+OK\r\n")
        h.advance(100)
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["PING"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*1\r\n+PONG\r\n")
    }

    func testMultiQueuesOnlyAndAnswersQueued() {
        let h = EngineHarness()
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["SET", "k", "v"], "+QUEUED\r\n")
        h.expect(["GET", "k"], "+QUEUED\r\n")
        h.expect(client: 1, ["GET", "k"], "$-1\r\n")
        h.expect(["EXEC"], "*2\r\n+OK\r\n$1\r\nv\r\n")
    }

    func testWatchArityAndMultiArity() {
        let h = EngineHarness()
        h.expect(["WATCH"], "-ERR wrong number of arguments for 'watch' command\r\n")
        h.expect(["MULTI", "x"], "-ERR wrong number of arguments for 'multi' command\r\n")
        h.expect(["EXEC", "x"], "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n")
        h.expect(["UNWATCH", "x"], "-ERR wrong number of arguments for 'unwatch' command\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["EXEC", "x"], "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n")
        h.expect(["EXEC"], "-ERR EXEC without MULTI\r\n")
    }

    /// deleting an already-expired key is no logical change
    func testLazyExpiryOfAKeyExpiredAtWatchDoesNotFailExec() {
        let h = EngineHarness()
        h.engine.config.activeExpireEnabled = false
        h.expect(["SET", "k", "1", "PX", "20"], "+OK\r\n")
        h.advance(50)
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["GET", "k"], "$-1\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["PING"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*1\r\n+PONG\r\n")
    }

    func testRecreatingAKeyExpiredAtWatchFailsExec() {
        let h = EngineHarness()
        h.engine.config.activeExpireEnabled = false
        h.expect(["SET", "k", "1", "PX", "20"], "+OK\r\n")
        h.advance(50)
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["SET", "k", "new"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["PING"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*-1\r\n")
    }

    func testFlushallDeletingAKeyExpiredAtWatchDoesNotFailExec() {
        let h = EngineHarness()
        h.engine.config.activeExpireEnabled = false
        h.expect(["SET", "k", "1", "PX", "20"], "+OK\r\n")
        h.advance(50)
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(client: 1, ["FLUSHALL"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["PING"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*1\r\n+PONG\r\n")
    }

    /// only MULTI, EXEC, DISCARD and WATCH run at once inside MULTI
    func testUnwatchInsideMultiIsQueued() {
        let h = EngineHarness()
        h.expect(["WATCH", "k"], "+OK\r\n")
        h.expect(["MULTI"], "+OK\r\n")
        h.expect(["UNWATCH"], "+QUEUED\r\n")
        h.expect(client: 1, ["SET", "k", "changed"], "+OK\r\n")
        h.expect(["GET", "k"], "+QUEUED\r\n")
        h.expect(["EXEC"], "*-1\r\n")
    }


    // END RECORDED
}
