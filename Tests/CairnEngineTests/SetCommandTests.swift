// Generated from Redis 7.0.15 replies by the oracle script; the replies are literals so the
// tests run without a server. Where Redis 7.2 differs (the listpack set encoding, issue #3),
// the expected replies follow 7.2's t_set.c rules and say so; Debian has no 7.2 to ask.

import XCTest
@testable import CairnEngine

final class SetCommandTests: XCTestCase {

    func testSAddSRemSCard() {
        let h = EngineHarness()
        h.expect(["SADD", "s", "3", "1", "2", "1"], ":3\r\n")
        h.expect(["SADD", "s", "2", "5"], ":1\r\n")
        h.expect(["SMEMBERS", "s"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n5\r\n")
        h.expect(["SCARD", "s"], ":4\r\n")
        h.expect(["OBJECT", "ENCODING", "s"], "$6\r\nintset\r\n")
        h.expect(["SREM", "s", "1", "7", "3"], ":2\r\n")
        h.expect(["SMEMBERS", "s"], "*2\r\n$1\r\n2\r\n$1\r\n5\r\n")
        h.expect(["SREM", "s", "2", "5"], ":2\r\n")
        h.expect(["EXISTS", "s"], ":0\r\n")
        h.expect(["SREM", "s", "1"], ":0\r\n")
        h.expect(["SCARD", "nokey"], ":0\r\n")
        h.expect(["SMEMBERS", "nokey"], "*0\r\n")
        // 7.2: small sets of strings are listpacks, members in insertion order; an intset
        // that gets a string becomes one with its integers first, ascending.
        h.expect(["SADD", "t", "a"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "t"], "$8\r\nlistpack\r\n")
        h.expect(["TYPE", "t"], "+set\r\n")
        h.expect(["SADD", "u", "1", "a"], ":2\r\n")
        h.expect(["OBJECT", "ENCODING", "u"], "$8\r\nlistpack\r\n")
        h.expect(["SADD", "u", "0"], ":1\r\n")
        h.expect(["SMEMBERS", "u"], "*3\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n0\r\n")
        h.expect(["SADD", "v", "01", "1"], ":2\r\n")
        h.expect(["OBJECT", "ENCODING", "v"], "$8\r\nlistpack\r\n")
        h.expect(["SMEMBERS", "v"], "*2\r\n$2\r\n01\r\n$1\r\n1\r\n")
        h.expect(["SADD", "i", "30", "-7", "b"], ":3\r\n")
        h.expect(["SMEMBERS", "i"], "*3\r\n$2\r\n-7\r\n$2\r\n30\r\n$1\r\nb\r\n")
        h.expect(["SADD", "w", "-9223372036854775808", "9223372036854775807"], ":2\r\n")
        h.expect(["OBJECT", "ENCODING", "w"], "$6\r\nintset\r\n")
        h.expect(["SMEMBERS", "w"], "*2\r\n$20\r\n-9223372036854775808\r\n$19\r\n9223372036854775807\r\n")
        h.expect(["SADD", "x", "9223372036854775808"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "x"], "$8\r\nlistpack\r\n")
    }

    func testSetWrongTypeAndArity() {
        let h = EngineHarness()
        h.expect(["SET", "k", "x"], "+OK\r\n")
        h.expect(["SADD", "k", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SREM", "k", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SCARD", "k"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SISMEMBER", "k", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SMISMEMBER", "k", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SMEMBERS", "k"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SPOP", "k"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SPOP", "k", "2"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SRANDMEMBER", "k"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SRANDMEMBER", "k", "2"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SMOVE", "k", "s", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SINTER", "k"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SINTERSTORE", "d", "k"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SINTERCARD", "1", "k"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SUNION", "k"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SUNIONSTORE", "d", "k"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SDIFF", "k"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SDIFFSTORE", "d", "k"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SSCAN", "k", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SADD", "s", "a"], ":1\r\n")
        h.expect(["SMOVE", "s", "k", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SINTER", "s", "k"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SINTER", "nokey", "k"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SUNION", "s", "k"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SDIFF", "nokey", "k"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SADD"], "-ERR wrong number of arguments for 'sadd' command\r\n")
        h.expect(["SADD", "s"], "-ERR wrong number of arguments for 'sadd' command\r\n")
        h.expect(["SPOP", "s", "1", "2"], "-ERR syntax error\r\n")
        h.expect(["SRANDMEMBER", "s", "1", "2"], "-ERR syntax error\r\n")
    }

    func testSIsMemberSMIsMember() {
        let h = EngineHarness()
        h.expect(["SADD", "s", "1", "2", "a"], ":3\r\n")
        h.expect(["SISMEMBER", "s", "1"], ":1\r\n")
        h.expect(["SISMEMBER", "s", "3"], ":0\r\n")
        h.expect(["SISMEMBER", "s", "a"], ":1\r\n")
        h.expect(["SISMEMBER", "nokey", "a"], ":0\r\n")
        h.expect(["SMISMEMBER", "s", "1", "x", "a"], "*3\r\n:1\r\n:0\r\n:1\r\n")
        h.expect(["SMISMEMBER", "nokey", "1", "2"], "*2\r\n:0\r\n:0\r\n")
        h.expect(["SADD", "i", "5", "10"], ":2\r\n")
        h.expect(["SISMEMBER", "i", "05"], ":0\r\n")
        h.expect(["SISMEMBER", "i", "10"], ":1\r\n")
        h.expect(["SISMEMBER", "i", "x"], ":0\r\n")
    }

    func testSMove() {
        let h = EngineHarness()
        h.expect(["SADD", "a", "1", "2", "3"], ":3\r\n")
        h.expect(["SADD", "b", "x"], ":1\r\n")
        h.expect(["SMOVE", "a", "b", "1"], ":1\r\n")
        h.expect(["SMOVE", "a", "b", "9"], ":0\r\n")
        h.expect(["SMOVE", "nokey", "b", "1"], ":0\r\n")
        h.expect(["SMOVE", "a", "c", "2"], ":1\r\n")
        h.expect(["SMOVE", "a", "a", "3"], ":1\r\n")
        h.expect(["SMOVE", "a", "a", "4"], ":0\r\n")
        h.expectSorted(["SMEMBERS", "b"], "*2\r\n$1\r\n1\r\n$1\r\nx\r\n")
        h.expect(["SMEMBERS", "c"], "*1\r\n$1\r\n2\r\n")
        h.expect(["OBJECT", "ENCODING", "c"], "$6\r\nintset\r\n")
        h.expect(["SMOVE", "a", "b", "3"], ":1\r\n")
        h.expect(["EXISTS", "a"], ":0\r\n")
        h.expect(["SET", "str", "x"], "+OK\r\n")
        h.expect(["SMOVE", "nokey", "str", "1"], ":0\r\n")
        h.expect(["SMOVE", "b", "str", "x"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SMOVE", "b", "b", "x"], ":1\r\n")
    }

    func testSInterSUnionSDiffWithIntegers() {
        let h = EngineHarness()
        h.expect(["SADD", "a", "1", "2", "3", "4", "5"], ":5\r\n")
        h.expect(["SADD", "b", "4", "5", "6", "7"], ":4\r\n")
        h.expect(["SADD", "c", "5", "7", "9"], ":3\r\n")
        h.expect(["SINTER", "a", "b"], "*2\r\n$1\r\n4\r\n$1\r\n5\r\n")
        h.expect(["SINTER", "a", "b", "c"], "*1\r\n$1\r\n5\r\n")
        h.expect(["SINTER", "a", "nokey"], "*0\r\n")
        h.expect(["SINTER", "a"], "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n")
        h.expect(["SUNION", "a", "b", "c"], "*8\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n$1\r\n7\r\n$1\r\n9\r\n")
        h.expect(["SUNION", "nokey"], "*0\r\n")
        h.expect(["SDIFF", "a", "b"], "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")
        h.expect(["SDIFF", "a", "b", "c"], "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")
        h.expect(["SDIFF", "a", "a"], "*0\r\n")
        h.expect(["SDIFF", "nokey", "a"], "*0\r\n")
        h.expect(["SDIFF", "a", "nokey"], "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n")
        h.expect(["SINTERSTORE", "d", "a", "b"], ":2\r\n")
        h.expect(["SMEMBERS", "d"], "*2\r\n$1\r\n4\r\n$1\r\n5\r\n")
        h.expect(["OBJECT", "ENCODING", "d"], "$6\r\nintset\r\n")
        h.expect(["SUNIONSTORE", "d", "a", "c"], ":7\r\n")
        h.expect(["SMEMBERS", "d"], "*7\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n7\r\n$1\r\n9\r\n")
        h.expect(["SDIFFSTORE", "d", "a", "b", "c"], ":3\r\n")
        h.expect(["SMEMBERS", "d"], "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")
        h.expect(["SINTERSTORE", "d", "a", "nokey"], ":0\r\n")
        h.expect(["EXISTS", "d"], ":0\r\n")
        h.expect(["SDIFFSTORE", "d", "a", "a"], ":0\r\n")
        h.expect(["SUNIONSTORE", "d", "nokey"], ":0\r\n")
        h.expect(["EXPIRE", "a", "100"], ":1\r\n")
        h.expect(["SUNIONSTORE", "a", "a", "b"], ":7\r\n")
        h.expect(["TTL", "a"], ":-1\r\n")
        h.expect(["SINTERSTORE"], "-ERR wrong number of arguments for 'sinterstore' command\r\n")
        h.expect(["SINTERSTORE", "d"], "-ERR wrong number of arguments for 'sinterstore' command\r\n")
    }

    func testSetOperationsWithStrings() {
        let h = EngineHarness()
        h.expect(["SADD", "a", "x", "y", "z", "1"], ":4\r\n")
        h.expect(["SADD", "b", "y", "z", "w"], ":3\r\n")
        // 7.2, listpacks: SINTER walks the smallest set (b) in order; SUNION/SDIFF build an
        // intset that becomes a listpack at the first string, so their order is exact too.
        h.expect(["SINTER", "a", "b"], "*2\r\n$1\r\ny\r\n$1\r\nz\r\n")
        h.expect(["SUNION", "a", "b"], "*5\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n$1\r\n1\r\n$1\r\nw\r\n")
        h.expect(["SUNION", "b", "a"], "*5\r\n$1\r\ny\r\n$1\r\nz\r\n$1\r\nw\r\n$1\r\nx\r\n$1\r\n1\r\n")
        h.expect(["SDIFF", "a", "b"], "*2\r\n$1\r\nx\r\n$1\r\n1\r\n")
        h.expect(["SINTERSTORE", "d", "a", "b"], ":2\r\n")
        h.expect(["OBJECT", "ENCODING", "d"], "$8\r\nlistpack\r\n")
        h.expect(["SMEMBERS", "d"], "*2\r\n$1\r\ny\r\n$1\r\nz\r\n")
        h.expect(["SDIFFSTORE", "d", "a", "b"], ":2\r\n")
        h.expect(["OBJECT", "ENCODING", "d"], "$8\r\nlistpack\r\n")
        h.expect(["SUNIONSTORE", "d", "a", "b"], ":5\r\n")
        h.expect(["OBJECT", "ENCODING", "d"], "$8\r\nlistpack\r\n")
        h.expect(["SMEMBERS", "d"], "*5\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n$1\r\n1\r\n$1\r\nw\r\n")
        h.client(0).protocolVersion = 3
        h.expect(["SINTER", "a", "b"], "~2\r\n$1\r\ny\r\n$1\r\nz\r\n")
        h.expect(["SINTER", "a", "nokey"], "~0\r\n")
        h.expect(["SUNION", "nokey"], "~0\r\n")
        h.expect(["SMEMBERS", "nokey"], "~0\r\n")
    }

    func testSInterCard() {
        let h = EngineHarness()
        h.expect(["SADD", "a", "1", "2", "3", "4", "5"], ":5\r\n")
        h.expect(["SADD", "b", "2", "3", "4", "5", "6"], ":5\r\n")
        h.expect(["SINTERCARD", "2", "a", "b"], ":4\r\n")
        h.expect(["SINTERCARD", "2", "a", "b", "LIMIT", "2"], ":2\r\n")
        h.expect(["SINTERCARD", "2", "a", "b", "LIMIT", "0"], ":4\r\n")
        h.expect(["SINTERCARD", "2", "a", "b", "LIMIT", "10"], ":4\r\n")
        h.expect(["SINTERCARD", "1", "a"], ":5\r\n")
        h.expect(["SINTERCARD", "2", "a", "nokey"], ":0\r\n")
        h.expect(["SINTERCARD", "0", "a"], "-ERR numkeys should be greater than 0\r\n")
        h.expect(["SINTERCARD", "-1", "a"], "-ERR numkeys should be greater than 0\r\n")
        h.expect(["SINTERCARD", "x", "a"], "-ERR numkeys should be greater than 0\r\n")
        h.expect(["SINTERCARD", "3", "a", "b"], "-ERR Number of keys can't be greater than number of args\r\n")
        h.expect(["SINTERCARD", "2", "a", "b", "LIMIT", "-1"], "-ERR LIMIT can't be negative\r\n")
        h.expect(["SINTERCARD", "2", "a", "b", "LIMIT", "x"], "-ERR LIMIT can't be negative\r\n")
        h.expect(["SINTERCARD", "2", "a", "b", "FOO"], "-ERR syntax error\r\n")
        h.expect(["SINTERCARD", "2", "a", "b", "LIMIT"], "-ERR syntax error\r\n")
    }

    func testSPopSRandMemberCounts() {
        let h = EngineHarness()
        h.expect(["SADD", "s", "1", "2", "3"], ":3\r\n")
        h.expect(["SPOP", "s", "0"], "*0\r\n")
        h.expect(["SPOP", "s", "-1"], "-ERR value is out of range, must be positive\r\n")
        h.expect(["SPOP", "s", "x"], "-ERR value is out of range, must be positive\r\n")
        h.expect(["SPOP", "nokey"], "$-1\r\n")
        h.expect(["SPOP", "nokey", "3"], "*0\r\n")
        h.expect(["SRANDMEMBER", "nokey"], "$-1\r\n")
        h.expect(["SRANDMEMBER", "nokey", "3"], "*0\r\n")
        h.expect(["SRANDMEMBER", "nokey", "-3"], "*0\r\n")
        h.expect(["SRANDMEMBER", "s", "0"], "*0\r\n")
        h.expect(["SRANDMEMBER", "s", "3"], "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")
        h.expect(["SRANDMEMBER", "s", "10"], "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")
        h.expect(["SRANDMEMBER", "s", "x"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["SRANDMEMBER", "s", "-9223372036854775808"], "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n")
        h.expect(["SPOP", "s", "3"], "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")
        h.expect(["EXISTS", "s"], ":0\r\n")
        h.expect(["SADD", "s", "7"], ":1\r\n")
        h.expect(["SPOP", "s"], "$1\r\n7\r\n")
        h.expect(["EXISTS", "s"], ":0\r\n")
        h.client(0).protocolVersion = 3
        h.expect(["SADD", "s", "1", "2"], ":2\r\n")
        h.expect(["SRANDMEMBER", "s", "5"], "*2\r\n$1\r\n1\r\n$1\r\n2\r\n")
        h.expect(["SPOP", "nokey", "2"], "~0\r\n")
        h.expect(["SPOP", "s", "0"], "~0\r\n")
        h.expect(["SPOP", "s", "5"], "~2\r\n$1\r\n1\r\n$1\r\n2\r\n")
    }

    func testSScan() {
        let h = EngineHarness()
        h.expect(["SADD", "s", "3", "1", "2"], ":3\r\n")
        h.expect(["SSCAN", "s", "0"], "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")
        h.expect(["SSCAN", "s", "0", "MATCH", "1*"], "*2\r\n$1\r\n0\r\n*1\r\n$1\r\n1\r\n")
        h.expect(["SSCAN", "s", "0", "COUNT", "100"], "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")
        h.expect(["SSCAN", "s", "0", "COUNT", "0"], "-ERR syntax error\r\n")
        h.expect(["SSCAN", "s", "x"], "-ERR invalid cursor\r\n")
        h.expect(["SSCAN", "nokey", "0"], "*2\r\n$1\r\n0\r\n*0\r\n")
        h.expect(["SSCAN", "s", "0", "MATCH"], "-ERR syntax error\r\n")
    }

    func testSetEncodingByIntsetEntries() {
        var config = EngineConfig()
        config.setMaxIntsetEntries = 3
        let h = EngineHarness(config: config)
        h.expect(["SADD", "s", "1", "2", "3"], ":3\r\n")
        h.expect(["OBJECT", "ENCODING", "s"], "$6\r\nintset\r\n")
        h.expect(["SADD", "s", "4"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "s"], "$9\r\nhashtable\r\n")
        h.expect(["SREM", "s", "1", "2", "3"], ":3\r\n")
        h.expect(["OBJECT", "ENCODING", "s"], "$9\r\nhashtable\r\n")
        // 7.2: four members given, more than an intset holds: a listpack from the start.
        h.expect(["SADD", "big", "1", "2", "3", "4"], ":4\r\n")
        h.expect(["OBJECT", "ENCODING", "big"], "$8\r\nlistpack\r\n")
        h.expect(["SINTERSTORE", "d", "big", "big"], ":4\r\n")
        h.expect(["OBJECT", "ENCODING", "d"], "$8\r\nlistpack\r\n")
    }

    func testSetEffects() {
        let h = EngineHarness()
        h.expect(["SADD", "s", "a", "b", "c"], ":3\r\n")
        h.expect(["SADD", "s", "a"], ":0\r\n")
        h.expect(["SREM", "s", "z"], ":0\r\n")
        h.expect(["SREM", "s", "a"], ":1\r\n")
        h.expect(["SMOVE", "s", "t", "b"], ":1\r\n")
        h.expect(["SMOVE", "s", "t", "z"], ":0\r\n")
        h.expect(["SPOP", "s", "0"], "*0\r\n")
        h.expect(["SPOP", "nokey"], "$-1\r\n")
        h.expect(["SADD", "n", "1", "2", "3"], ":3\r\n")
        h.expect(["SPOP", "n", "3"], "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")
        h.expect(["SADD", "n", "1", "2", "3"], ":3\r\n")
        h.expect(["SPOP", "n", "5"], "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")
        h.expect(["SINTERSTORE", "d", "t", "nokey"], ":0\r\n")
        h.expect(["SUNIONSTORE", "d", "t"], ":1\r\n")
        h.expect(["SINTERSTORE", "d", "nokey"], ":0\r\n")
        h.expect(["SDIFFSTORE", "d2", "nokey"], ":0\r\n")
        h.run(["SRANDMEMBER", "t"])
        h.run(["SRANDMEMBER", "t", "-3"])
        h.expect(["SADD", "r", "1"], ":1\r\n")
        h.expect(["SPOP", "r"], "$1\r\n1\r\n")
        h.expect(["ZADD", "z", "1", "a"], ":1\r\n")
        h.run(["ZRANDMEMBER", "z"])
        h.run(["ZRANDMEMBER", "z", "-2", "WITHSCORES"])
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*5\r\n$4\r\nSADD\r\n$1\r\ns\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n*3\r\n$4\r\nSREM\r\n$1\r\ns\r\n$1\r\na\r\n*4\r\n$5\r\nSMOVE\r\n$1\r\ns\r\n$1\r\nt\r\n$1\r\nb\r\n*5\r\n$4\r\nSADD\r\n$1\r\nn\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n*2\r\n$3\r\nDEL\r\n$1\r\nn\r\n*5\r\n$4\r\nSADD\r\n$1\r\nn\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n*2\r\n$3\r\nDEL\r\n$1\r\nn\r\n*3\r\n$11\r\nSUNIONSTORE\r\n$1\r\nd\r\n$1\r\nt\r\n*3\r\n$11\r\nSINTERSTORE\r\n$1\r\nd\r\n$5\r\nnokey\r\n*3\r\n$4\r\nSADD\r\n$1\r\nr\r\n$1\r\n1\r\n*3\r\n$4\r\nSREM\r\n$1\r\nr\r\n$1\r\n1\r\n*4\r\n$4\r\nZADD\r\n$1\r\nz\r\n$1\r\n1\r\n$1\r\na\r\n")
    }

    /// SPOP of most of a set builds a new set of the survivors (Redis's case 3). 7.2: an
    /// intset's survivors stay an intset, a table's become a listpack (when they fit one), a
    /// listpack's stay a listpack; the key keeps its TTL.
    func testSPopOfMostOfASetRederivesTheEncoding() {
        var config = EngineConfig()
        config.setMaxIntsetEntries = 5
        config.setMaxListpackEntries = 10
        let h = EngineHarness(config: config)
        // 8 members given, more than an intset holds: a listpack from the start.
        h.expect(["SADD", "s", "1", "2", "3", "4", "5", "6", "7", "8"], ":8\r\n")
        h.expect(["OBJECT", "ENCODING", "s"], "$8\r\nlistpack\r\n")
        h.run(["SPOP", "s", "6"])
        h.expect(["SCARD", "s"], ":2\r\n")
        h.expect(["OBJECT", "ENCODING", "s"], "$8\r\nlistpack\r\n")
        // 20 integers: over both limits, a table; its 3 survivors become a listpack.
        h.expect(["SADD", "u", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20"], ":20\r\n")
        h.expect(["OBJECT", "ENCODING", "u"], "$9\r\nhashtable\r\n")
        h.run(["SPOP", "u", "17"])
        h.expect(["SCARD", "u"], ":3\r\n")
        h.expect(["OBJECT", "ENCODING", "u"], "$8\r\nlistpack\r\n")
        // A table's survivors that do not fit a listpack stay a table.
        h.expect(["SADD", "w"] + (1...70).map { "m\($0)" }, ":70\r\n")
        h.run(["SPOP", "w", "59"])
        h.expect(["SCARD", "w"], ":11\r\n")
        h.expect(["OBJECT", "ENCODING", "w"], "$9\r\nhashtable\r\n")
        // A table that only loses a few keeps its encoding.
        h.expect(["SADD", "t"] + (1...12).map { "m\($0)" }, ":12\r\n")
        h.run(["SPOP", "t", "1"])
        h.expect(["OBJECT", "ENCODING", "t"], "$9\r\nhashtable\r\n")
        h.expect(["EXPIRE", "s", "100"], ":1\r\n")
        h.expect(["SADD", "s", "9", "10", "11", "12"], ":4\r\n")
        h.run(["SPOP", "s", "5"])
        h.expect(["SCARD", "s"], ":1\r\n")
        h.expect(["TTL", "s"], ":100\r\n")
    }

    func testSPopOfMostOfAnIntsetKeepsAnIntset() {
        let h = EngineHarness()
        h.expect(["SADD", "u"] + (1...20).map { "\($0)" }, ":20\r\n")
        h.run(["SPOP", "u", "17"])
        h.expect(["SCARD", "u"], ":3\r\n")
        h.expect(["OBJECT", "ENCODING", "u"], "$6\r\nintset\r\n")
    }

    // MARK: listpack encoding (Redis 7.2, issue #3)
    //
    // Expected replies follow Redis 7.2's t_set.c (setTypeCreate, setTypeMaybeConvert,
    // setTypeAddAux); Debian ships 7.0, which has no listpack sets, so they are not oracle output.

    static func members(_ prefix: String, _ n: Int) -> [String] { (0..<n).map { "\(prefix)\($0)" } }

    func testListpackHoldsUpTo128MembersThenBecomesATable() {
        let h = EngineHarness()
        h.expect(["SADD", "a"] + Self.members("m", 128), ":128\r\n")
        h.expect(["OBJECT", "ENCODING", "a"], "$8\r\nlistpack\r\n")
        h.expect(["SADD", "a", "m0"], ":0\r\n")
        h.expect(["OBJECT", "ENCODING", "a"], "$8\r\nlistpack\r\n")
        h.expect(["SADD", "a", "m128"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "a"], "$9\r\nhashtable\r\n")
        h.expect(["SCARD", "a"], ":129\r\n")
        // One at a time: 127 then the 128th stays a listpack, the 129th converts.
        h.expect(["SADD", "b"] + Self.members("m", 127), ":127\r\n")
        h.expect(["SADD", "b", "x"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "b"], "$8\r\nlistpack\r\n")
        h.expect(["SADD", "b", "y"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "b"], "$9\r\nhashtable\r\n")
        // 129 members given to a new key: a table from the start.
        h.expect(["SADD", "c"] + Self.members("m", 129), ":129\r\n")
        h.expect(["OBJECT", "ENCODING", "c"], "$9\r\nhashtable\r\n")
        // The hint counts arguments, duplicates included (as Redis).
        h.expect(["SADD", "d"] + Array(repeating: "a", count: 129), ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "d"], "$9\r\nhashtable\r\n")
        h.expect(["SADD", "e", "a"], ":1\r\n")
        h.expect(["SADD", "e"] + Array(repeating: "a", count: 129), ":0\r\n")
        h.expect(["OBJECT", "ENCODING", "e"], "$9\r\nhashtable\r\n")
        h.expect(["SADD", "f", "a"], ":1\r\n")
        h.expect(["SADD", "f"] + Array(repeating: "a", count: 128), ":0\r\n")
        h.expect(["OBJECT", "ENCODING", "f"], "$8\r\nlistpack\r\n")
    }

    func testListpackMembersUpTo64Bytes() {
        let h = EngineHarness()
        let m64 = String(repeating: "x", count: 64), m65 = String(repeating: "x", count: 65)
        h.expect(["SADD", "a", m64], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "a"], "$8\r\nlistpack\r\n")
        h.expect(["SADD", "b", m65], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "b"], "$9\r\nhashtable\r\n")
        h.expect(["SADD", "a", "y", m65], ":2\r\n")
        h.expect(["OBJECT", "ENCODING", "a"], "$9\r\nhashtable\r\n")
        h.expect(["SCARD", "a"], ":3\r\n")
        h.expect(["SADD", "c", "1", "2", m65], ":3\r\n")
        h.expect(["OBJECT", "ENCODING", "c"], "$9\r\nhashtable\r\n")
        h.expect(["SADD", "d", "1", "2", m64], ":3\r\n")
        h.expect(["OBJECT", "ENCODING", "d"], "$8\r\nlistpack\r\n")
    }

    func testIntsetBecomesAListpackOnlyWhenTheResultFits() {
        let h = EngineHarness()
        // 127 integers and a string: 128 members, a listpack, integers first and ascending.
        h.expect(["SADD", "a"] + (0..<127).reversed().map { "\($0)" }, ":127\r\n")
        h.expect(["OBJECT", "ENCODING", "a"], "$6\r\nintset\r\n")
        h.expect(["SADD", "a", "x"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "a"], "$8\r\nlistpack\r\n")
        let a = h.call(["SMEMBERS", "a"]).strings ?? []
        XCTAssertEqual(a, (0..<127).map { "\($0)" } + ["x"])
        // 128 integers and a string: a table.
        h.expect(["SADD", "b"] + (0..<128).map { "\($0)" }, ":128\r\n")
        h.expect(["SADD", "b", "x"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "b"], "$9\r\nhashtable\r\n")
        // More integers than an intset holds: a table, not a listpack (maybeConvertIntset).
        h.engine.config.setMaxIntsetEntries = 3
        h.expect(["SADD", "c", "1", "2", "3"], ":3\r\n")
        h.expect(["SADD", "c", "4"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "c"], "$9\r\nhashtable\r\n")
        // The longest integer's text counts against set-max-listpack-value ("-10" is 3 bytes).
        h.engine.config.setMaxListpackValue = 3
        h.expect(["SADD", "d", "-10", "5"], ":2\r\n")
        h.expect(["SADD", "d", "abc"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "d"], "$8\r\nlistpack\r\n")
        h.expect(["SMEMBERS", "d"], "*3\r\n$3\r\n-10\r\n$1\r\n5\r\n$3\r\nabc\r\n")
        h.expect(["SADD", "e", "1000"], ":1\r\n")
        h.expect(["SADD", "e", "a"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "e"], "$9\r\nhashtable\r\n")
    }

    func testEncodingsNeverConvertBack() {
        let h = EngineHarness()
        h.expect(["SADD", "a", "x", "1", "2"], ":3\r\n")
        h.expect(["SREM", "a", "x"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "a"], "$8\r\nlistpack\r\n")
        h.expect(["SMEMBERS", "a"], "*2\r\n$1\r\n1\r\n$1\r\n2\r\n")
        h.expect(["SADD", "b"] + Self.members("m", 129), ":129\r\n")
        h.expect(["SREM", "b"] + Self.members("m", 128), ":128\r\n")
        h.expect(["OBJECT", "ENCODING", "b"], "$9\r\nhashtable\r\n")
    }

    func testThresholdsAreReadWhenAMemberIsAdded() {
        let h = EngineHarness()
        h.engine.config.setMaxListpackEntries = 2
        h.expect(["SADD", "a", "x", "y"], ":2\r\n")
        h.expect(["OBJECT", "ENCODING", "a"], "$8\r\nlistpack\r\n")
        h.expect(["SADD", "a", "z"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "a"], "$9\r\nhashtable\r\n")
        h.expect(["SADD", "b", "x", "y", "z"], ":3\r\n")
        h.expect(["OBJECT", "ENCODING", "b"], "$9\r\nhashtable\r\n")
        h.engine.config.setMaxListpackEntries = 128
        h.engine.config.setMaxListpackValue = 1
        h.expect(["SADD", "c", "x"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "c"], "$8\r\nlistpack\r\n")
        h.expect(["SADD", "c", "yy"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "c"], "$9\r\nhashtable\r\n")
        // set-max-listpack-entries 0: a string set is a table from its first member.
        h.engine.config.setMaxListpackEntries = 0
        h.expect(["SADD", "d", "x"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "d"], "$9\r\nhashtable\r\n")
        h.expect(["SADD", "e", "1"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "e"], "$6\r\nintset\r\n")
    }

    func testEveryReadCommandOnAListpack() {
        let h = EngineHarness()
        h.expect(["SADD", "s", "c", "a", "10", "b", "2"], ":5\r\n")
        h.expect(["OBJECT", "ENCODING", "s"], "$8\r\nlistpack\r\n")
        h.expect(["SMEMBERS", "s"], "*5\r\n$1\r\nc\r\n$1\r\na\r\n$2\r\n10\r\n$1\r\nb\r\n$1\r\n2\r\n")
        h.expect(["SCARD", "s"], ":5\r\n")
        h.expect(["SISMEMBER", "s", "10"], ":1\r\n")
        h.expect(["SISMEMBER", "s", "010"], ":0\r\n")
        h.expect(["SMISMEMBER", "s", "a", "z", "2"], "*3\r\n:1\r\n:0\r\n:1\r\n")
        h.expect(["SSCAN", "s", "0"], "*2\r\n$1\r\n0\r\n*5\r\n$1\r\nc\r\n$1\r\na\r\n$2\r\n10\r\n$1\r\nb\r\n$1\r\n2\r\n")
        h.expect(["SSCAN", "s", "0", "COUNT", "1", "MATCH", "[ab]"], "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n")
        h.expect(["SRANDMEMBER", "s", "5"], "*5\r\n$1\r\nc\r\n$1\r\na\r\n$2\r\n10\r\n$1\r\nb\r\n$1\r\n2\r\n")
        h.expect(["SORT", "s", "ALPHA"], "*5\r\n$2\r\n10\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n")
        h.expect(["SORT", "s", "BY", "nosort"], "*5\r\n$1\r\nc\r\n$1\r\na\r\n$2\r\n10\r\n$1\r\nb\r\n$1\r\n2\r\n")
        h.expect(["SADD", "t", "2", "b", "q"], ":3\r\n")
        h.expect(["SINTER", "s", "t"], "*2\r\n$1\r\n2\r\n$1\r\nb\r\n")
        h.expect(["SINTERCARD", "2", "s", "t"], ":2\r\n")
        h.expect(["SINTERCARD", "2", "s", "t", "LIMIT", "1"], ":1\r\n")
        h.expect(["SDIFF", "s", "t"], "*3\r\n$1\r\nc\r\n$1\r\na\r\n$2\r\n10\r\n")
        h.expect(["SUNION", "t", "s"], "*6\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\nq\r\n$1\r\nc\r\n$1\r\na\r\n$2\r\n10\r\n")
        h.expect(["ZUNIONSTORE", "z", "2", "s", "t"], ":6\r\n")
        h.expect(["ZSCORE", "z", "b"], "$1\r\n2\r\n")
        h.client(0).protocolVersion = 3
        h.expect(["SMEMBERS", "t"], "~3\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\nq\r\n")
    }

    func testRandomCommandsOnAListpackKeepListpackOrder() {
        let h = EngineHarness()
        let all = Self.members("m", 20)
        h.expect(["SADD", "s"] + all, ":20\r\n")
        func isInOrder(_ got: [String]) -> Bool {
            var i = 0
            for g in got {
                guard let j = all[i...].firstIndex(of: g) else { return false }
                i = j + 1
            }
            return true
        }
        for n in 1..<20 {
            let got = h.call(["SRANDMEMBER", "s", "\(n)"]).strings ?? []
            XCTAssertEqual(got.count, n)
            XCTAssertTrue(isInOrder(got), "\(got)")
        }
        let repeated = h.call(["SRANDMEMBER", "s", "-50"]).strings ?? []
        XCTAssertEqual(repeated.count, 50)
        XCTAssertTrue(Set(repeated).isSubset(of: Set(all)))
        // SPOP few (case 2) and most (case 3): popped members come in listpack order, the rest
        // keep theirs.
        let popped = h.call(["SPOP", "s", "3"]).strings ?? []
        XCTAssertEqual(popped.count, 3)
        XCTAssertTrue(isInOrder(popped), "\(popped)")
        var left = all.filter { !popped.contains($0) }
        XCTAssertEqual(h.call(["SMEMBERS", "s"]).strings, left)
        let most = h.call(["SPOP", "s", "15"]).strings ?? []
        XCTAssertEqual(most.count, 15)
        XCTAssertTrue(isInOrder(most), "\(most)")
        left = left.filter { !most.contains($0) }
        XCTAssertEqual(h.call(["SMEMBERS", "s"]).strings, left)
        h.expect(["OBJECT", "ENCODING", "s"], "$8\r\nlistpack\r\n")
        let one = h.call(["SPOP", "s"])
        XCTAssertTrue(left.contains(one.text ?? "?"))
        XCTAssertEqual(h.call(["SCARD", "s"]).int, 1)
        let srand = h.call(["SRANDMEMBER", "s"]).text
        XCTAssertEqual(h.call(["SPOP", "s"]).text, srand)
        h.expect(["EXISTS", "s"], ":0\r\n")
    }

    func testStoreCommandsBuildTheEncodingRedis72Builds() {
        let h = EngineHarness()
        h.expect(["SADD", "p", "a", "1", "2", "3"], ":4\r\n")
        h.expect(["SADD", "q", "3", "2", "1", "b"], ":4\r\n")
        h.expect(["OBJECT", "ENCODING", "q"], "$8\r\nlistpack\r\n")
        h.expect(["SMEMBERS", "q"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\nb\r\n")
        // Every member an integer: SINTERSTORE makes an intset of the listpack result.
        h.expect(["SINTERSTORE", "d", "p", "q"], ":3\r\n")
        h.expect(["OBJECT", "ENCODING", "d"], "$6\r\nintset\r\n")
        // SUNIONSTORE / SDIFFSTORE start from an intset: all integers stay one.
        h.expect(["SDIFFSTORE", "d", "p", "q"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "d"], "$8\r\nlistpack\r\n")
        h.expect(["SADD", "r", "x", "7", "8"], ":3\r\n")
        h.expect(["SDIFFSTORE", "d", "r", "p"], ":3\r\n")
        h.expect(["SMEMBERS", "d"], "*3\r\n$1\r\nx\r\n$1\r\n7\r\n$1\r\n8\r\n")
        h.expect(["SREM", "r", "x"], ":1\r\n")
        h.expect(["SUNIONSTORE", "d", "r"], ":2\r\n")
        h.expect(["OBJECT", "ENCODING", "d"], "$6\r\nintset\r\n")
        // SMOVE into a new key: an intset for an integer, a listpack for a string.
        h.expect(["SMOVE", "p", "n1", "1"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "n1"], "$6\r\nintset\r\n")
        h.expect(["SMOVE", "p", "n2", "a"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "n2"], "$8\r\nlistpack\r\n")
        h.expect(["SMOVE", "q", "n1", "b"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "n1"], "$8\r\nlistpack\r\n")
        h.expect(["SMEMBERS", "n1"], "*2\r\n$1\r\n1\r\n$1\r\nb\r\n")
        // COPY keeps the encoding and the order.
        h.expect(["COPY", "q", "q2"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "q2"], "$8\r\nlistpack\r\n")
        h.expect(["SMEMBERS", "q2"], "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")
    }
}
