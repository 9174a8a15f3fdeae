// Generated from Redis 7.0.15 replies by the oracle script; the replies are literals so the
// tests run without a server.

import XCTest
@testable import CairnEngine

final class HashCommandTests: XCTestCase {

    func testHSetAndHGet() {
        let h = EngineHarness()
        h.expect(["HSET", "h", "f1", "v1", "f2", "v2"], ":2\r\n")
        h.expect(["HSET", "h", "f1", "v1b", "f3", "v3"], ":1\r\n")
        h.expect(["HGET", "h", "f1"], "$3\r\nv1b\r\n")
        h.expect(["HGET", "h", "nofield"], "$-1\r\n")
        h.expect(["HGET", "nokey", "f"], "$-1\r\n")
        h.expect(["HGETALL", "h"], "*6\r\n$2\r\nf1\r\n$3\r\nv1b\r\n$2\r\nf2\r\n$2\r\nv2\r\n$2\r\nf3\r\n$2\r\nv3\r\n")
        h.expect(["HLEN", "h"], ":3\r\n")
        h.expect(["HLEN", "nokey"], ":0\r\n")
        h.expect(["HKEYS", "h"], "*3\r\n$2\r\nf1\r\n$2\r\nf2\r\n$2\r\nf3\r\n")
        h.expect(["HVALS", "h"], "*3\r\n$3\r\nv1b\r\n$2\r\nv2\r\n$2\r\nv3\r\n")
        h.expect(["HKEYS", "nokey"], "*0\r\n")
        h.expect(["HVALS", "nokey"], "*0\r\n")
        h.expect(["HGETALL", "nokey"], "*0\r\n")
        h.expect(["TYPE", "h"], "+hash\r\n")
        h.expect(["OBJECT", "ENCODING", "h"], "$8\r\nlistpack\r\n")
    }

    func testHSetArityAndWrongType() {
        let h = EngineHarness()
        h.expect(["HSET", "h", "f"], "-ERR wrong number of arguments for 'hset' command\r\n")
        h.expect(["HSET", "h", "f", "v", "g"], "-ERR wrong number of arguments for 'hset' command\r\n")
        h.expect(["HMSET", "h", "f"], "-ERR wrong number of arguments for 'hmset' command\r\n")
        h.expect(["HMSET", "h", "f", "v", "g"], "-ERR wrong number of arguments for 'hmset' command\r\n")
        h.expect(["SET", "s", "x"], "+OK\r\n")
        h.expect(["HSET", "s", "f", "v"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["HGET", "s", "f"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["HMGET", "s", "f"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["HLEN", "s"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["HDEL", "s", "f"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["HKEYS", "s"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["HVALS", "s"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["HGETALL", "s"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["HEXISTS", "s", "f"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["HSTRLEN", "s", "f"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["HSETNX", "s", "f", "v"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["HINCRBY", "s", "f", "1"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["HINCRBYFLOAT", "s", "f", "1"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["HRANDFIELD", "s"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["HRANDFIELD", "s", "2"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["HSCAN", "s", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["HSET", "h", "f", "v"], ":1\r\n")
        h.expect(["GET", "h"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["INCR", "h"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["APPEND", "h", "x"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["STRLEN", "h"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["GETRANGE", "h", "0", "1"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SETRANGE", "h", "0", "x"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["MGET", "h", "s"], "*2\r\n$-1\r\n$1\r\nx\r\n")
        h.expect(["SETBIT", "h", "0", "1"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["GETBIT", "h", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["BITCOUNT", "h"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["GETDEL", "h"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["GETEX", "h"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["GETSET", "h", "x"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["INCRBYFLOAT", "h", "1"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["DECRBY", "h", "1"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["SETNX", "h", "x"], ":0\r\n")
        h.expect(["LCS", "h", "s"], "-ERR The specified keys must contain string values\r\n")
        h.expect(["SET", "h", "x", "GET"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        h.expect(["TYPE", "h"], "+hash\r\n")
        h.expect(["SET", "h", "x"], "+OK\r\n")
        h.expect(["TYPE", "h"], "+string\r\n")
    }

    func testHMSetHSetNXHMGet() {
        let h = EngineHarness()
        h.expect(["HMSET", "h", "a", "1", "b", "2"], "+OK\r\n")
        h.expect(["HSETNX", "h", "a", "9"], ":0\r\n")
        h.expect(["HSETNX", "h", "c", "3"], ":1\r\n")
        h.expect(["HSETNX", "nokey2", "x", "y"], ":1\r\n")
        h.expect(["HMGET", "h", "a", "b", "nofield", "c"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n$1\r\n3\r\n")
        h.expect(["HMGET", "nokey", "a", "b"], "*2\r\n$-1\r\n$-1\r\n")
        h.expect(["HGETALL", "h"], "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n")
    }

    func testHDelDeletesEmptyHash() {
        let h = EngineHarness()
        h.expect(["HSET", "h", "a", "1", "b", "2", "c", "3"], ":3\r\n")
        h.expect(["HDEL", "h", "a", "x", "a"], ":1\r\n")
        h.expect(["HDEL", "h", "b", "c", "d"], ":2\r\n")
        h.expect(["EXISTS", "h"], ":0\r\n")
        h.expect(["HDEL", "h", "a"], ":0\r\n")
        h.expect(["HDEL", "nokey", "a"], ":0\r\n")
    }

    func testHExistsHStrlen() {
        let h = EngineHarness()
        h.expect(["HSET", "h", "a", "hello", "b", ""], ":2\r\n")
        h.expect(["HEXISTS", "h", "a"], ":1\r\n")
        h.expect(["HEXISTS", "h", "z"], ":0\r\n")
        h.expect(["HEXISTS", "nokey", "a"], ":0\r\n")
        h.expect(["HSTRLEN", "h", "a"], ":5\r\n")
        h.expect(["HSTRLEN", "h", "b"], ":0\r\n")
        h.expect(["HSTRLEN", "h", "z"], ":0\r\n")
        h.expect(["HSTRLEN", "nokey", "a"], ":0\r\n")
    }

    func testHIncrBy() {
        let h = EngineHarness()
        h.expect(["HINCRBY", "h", "a", "5"], ":5\r\n")
        h.expect(["HINCRBY", "h", "a", "-8"], ":-3\r\n")
        h.expect(["HINCRBY", "h", "a", "x"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["HINCRBY", "h", "a", "1.5"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["HSET", "h", "s", "abc", "big", "9223372036854775807", "small", "-9223372036854775808", "sp", " 1"], ":4\r\n")
        h.expect(["HINCRBY", "h", "s", "1"], "-ERR hash value is not an integer\r\n")
        h.expect(["HINCRBY", "h", "sp", "1"], "-ERR hash value is not an integer\r\n")
        h.expect(["HINCRBY", "h", "big", "1"], "-ERR increment or decrement would overflow\r\n")
        h.expect(["HINCRBY", "h", "small", "-1"], "-ERR increment or decrement would overflow\r\n")
        h.expect(["HINCRBY", "h", "big", "0"], ":9223372036854775807\r\n")
        h.expect(["HINCRBY", "h", "new", "9223372036854775807"], ":9223372036854775807\r\n")
        h.expect(["HGETALL", "h"], "*12\r\n$1\r\na\r\n$2\r\n-3\r\n$1\r\ns\r\n$3\r\nabc\r\n$3\r\nbig\r\n$19\r\n9223372036854775807\r\n$5\r\nsmall\r\n$20\r\n-9223372036854775808\r\n$2\r\nsp\r\n$2\r\n 1\r\n$3\r\nnew\r\n$19\r\n9223372036854775807\r\n")
    }

    func testHIncrByFloat() {
        let h = EngineHarness()
        h.expect(["HINCRBYFLOAT", "h", "a", "10.5"], "$4\r\n10.5\r\n")
        h.expect(["HINCRBYFLOAT", "h", "a", "0.1"], "$4\r\n10.6\r\n")
        h.expect(["HINCRBYFLOAT", "h", "a", "-5.6"], "$1\r\n5\r\n")
        h.expect(["HINCRBYFLOAT", "h", "a", "1e3"], "$4\r\n1005\r\n")
        h.expect(["HINCRBYFLOAT", "h", "a", "abc"], "-ERR value is not a valid float\r\n")
        h.expect(["HINCRBYFLOAT", "h", "a", "inf"], "-ERR value is NaN or Infinity\r\n")
        h.expect(["HINCRBYFLOAT", "h", "a", "-inf"], "-ERR value is NaN or Infinity\r\n")
        h.expect(["HINCRBYFLOAT", "h", "a", "nan"], "-ERR value is not a valid float\r\n")
        h.expect(["HINCRBYFLOAT", "h", "a", ""], "-ERR value is not a valid float\r\n")
        h.expect(["HINCRBYFLOAT", "h", "a", " 1"], "-ERR value is not a valid float\r\n")
        h.expect(["HSET", "h", "s", "abc", "i", "5", "big", "1.7976931348623157e308"], ":3\r\n")
        h.expect(["HINCRBYFLOAT", "h", "s", "1"], "-ERR hash value is not a float\r\n")
        h.expect(["HINCRBYFLOAT", "h", "i", "2.5"], "$3\r\n7.5\r\n")
        h.expect(["HINCRBYFLOAT", "h", "big", "1.7976931348623157e308"], "$309\r\n359538626972463139991842093548208868096772893888658356970628841530353257046248792709403737216774171128857586838851041378617416726902272110715794556052955234146997955372576789671236326588091188869859074894581254961338834769297758245552436667197907705664206565009503223382416235440319971852753604933726679072768\r\n")
        h.expect(["HINCRBYFLOAT", "h", "z", "3.0000000000000000000001"], "$1\r\n3\r\n")
        h.expect(["HINCRBYFLOAT", "h", "z2", "1e20"], "$21\r\n100000000000000000000\r\n")
        h.expect(["HINCRBYFLOAT", "h", "z3", "-0.0"], "$1\r\n0\r\n")
        h.expectSorted(["HGETALL", "h"], "*14\r\n$1\r\ni\r\n$3\r\n7.5\r\n$1\r\ns\r\n$3\r\nabc\r\n$3\r\nbig\r\n$309\r\n359538626972463139991842093548208868096772893888658356970628841530353257046248792709403737216774171128857586838851041378617416726902272110715794556052955234146997955372576789671236326588091188869859074894581254961338834769297758245552436667197907705664206565009503223382416235440319971852753604933726679072768\r\n$1\r\na\r\n$4\r\n1005\r\n$2\r\nz2\r\n$21\r\n100000000000000000000\r\n$2\r\nz3\r\n$1\r\n0\r\n$1\r\nz\r\n$1\r\n3\r\n")
    }

    func testHIncrByFloatPropagatesHSet() {
        let h = EngineHarness()
        h.expect(["HINCRBYFLOAT", "h", "f", "10.5"], "$4\r\n10.5\r\n")
        h.expect(["HINCRBYFLOAT", "h", "f", "0.1"], "$4\r\n10.6\r\n")
        h.expect(["HINCRBYFLOAT", "h", "g", "5e0"], "$1\r\n5\r\n")
        h.expect(["HINCRBYFLOAT", "h", "f", "abc"], "-ERR value is not a valid float\r\n")
        h.expect(["HINCRBY", "h", "n", "3"], ":3\r\n")
        h.run(["HRANDFIELD", "h"])
        h.expect(["HSET", "h", "n", "4"], ":0\r\n")
        h.expect(["HDEL", "h", "nofield"], ":0\r\n")
        h.expect(["HDEL", "h", "n"], ":1\r\n")
        h.expect(["HSETNX", "h", "f", "x"], ":0\r\n")
        h.expect(["HMSET", "h", "a", "1"], "+OK\r\n")
        XCTAssertEqual(h.logText, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$4\r\n10.5\r\n*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$4\r\n10.6\r\n*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\ng\r\n$1\r\n5\r\n*4\r\n$7\r\nHINCRBY\r\n$1\r\nh\r\n$1\r\nn\r\n$1\r\n3\r\n*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nn\r\n$1\r\n4\r\n*3\r\n$4\r\nHDEL\r\n$1\r\nh\r\n$1\r\nn\r\n*4\r\n$5\r\nHMSET\r\n$1\r\nh\r\n$1\r\na\r\n$1\r\n1\r\n")
    }

    func testHRandFieldCountErrors() {
        let h = EngineHarness()
        h.expect(["HSET", "h", "a", "1", "b", "2", "c", "3"], ":3\r\n")
        h.expect(["HRANDFIELD", "h", "0"], "*0\r\n")
        h.expect(["HRANDFIELD", "h", "0", "WITHVALUES"], "*0\r\n")
        h.expect(["HRANDFIELD", "h", "x"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["HRANDFIELD", "h", "1", "foo"], "-ERR syntax error\r\n")
        h.expect(["HRANDFIELD", "h", "1", "WITHVALUES", "x"], "-ERR syntax error\r\n")
        h.expect(["HRANDFIELD", "h", "-9223372036854775808"], "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n")
        h.expect(["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"], "-ERR value is out of range\r\n")
        h.expect(["HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"], "-ERR value is out of range\r\n")
        h.expect(["HRANDFIELD", "nokey"], "$-1\r\n")
        h.expect(["HRANDFIELD", "nokey", "5"], "*0\r\n")
        h.expect(["HRANDFIELD", "nokey", "-5", "WITHVALUES"], "*0\r\n")
        h.expect(["HRANDFIELD", "h", "3"], "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n")
        h.expect(["HRANDFIELD", "h", "10", "WITHVALUES"], "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n")
        h.expect(["HRANDFIELD", "h", "1", "withvalues", "x"], "-ERR syntax error\r\n")
    }

    func testHRandFieldWholeHashInRESP3() {
        let h = EngineHarness()
        h.client(0).protocolVersion = 3
        h.expect(["HSET", "h", "a", "1", "b", "2"], ":2\r\n")
        h.expect(["HRANDFIELD", "h", "5", "WITHVALUES"], "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n")
        h.expect(["HRANDFIELD", "h", "5"], "*2\r\n$1\r\na\r\n$1\r\nb\r\n")
        h.expect(["HGETALL", "h"], "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n")
        h.expect(["HGETALL", "nokey"], "%0\r\n")
        h.expect(["HRANDFIELD", "nokey", "2"], "*0\r\n")
        h.expect(["HRANDFIELD", "h", "0", "WITHVALUES"], "*0\r\n")
    }

    func testHScanSmallHash() {
        let h = EngineHarness()
        h.expect(["HSET", "h", "a", "1", "b", "2", "c", "3", "ab", "4"], ":4\r\n")
        h.expect(["HSCAN", "h", "0"], "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$2\r\nab\r\n$1\r\n4\r\n")
        h.expect(["HSCAN", "h", "0", "MATCH", "a*"], "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nab\r\n$1\r\n4\r\n")
        h.expect(["HSCAN", "h", "0", "MATCH", "*", "COUNT", "1"], "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$2\r\nab\r\n$1\r\n4\r\n")
        h.expect(["HSCAN", "h", "0", "COUNT", "0"], "-ERR syntax error\r\n")
        h.expect(["HSCAN", "h", "0", "COUNT", "x"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["HSCAN", "h", "0", "MATCH"], "-ERR syntax error\r\n")
        h.expect(["HSCAN", "h", "0", "FOO", "bar"], "-ERR syntax error\r\n")
        h.expect(["HSCAN", "h", "x"], "-ERR invalid cursor\r\n")
        h.expect(["HSCAN", "h", "-1"], "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$2\r\nab\r\n$1\r\n4\r\n")
        h.expect(["HSCAN", "nokey", "0"], "*2\r\n$1\r\n0\r\n*0\r\n")
        h.expect(["HSCAN", "nokey", "0", "COUNT", "0"], "*2\r\n$1\r\n0\r\n*0\r\n")
        h.expect(["HSCAN", "nokey", "x"], "-ERR invalid cursor\r\n")
    }

    func testHashEncodingByEntries() {
        var config = EngineConfig()
        config.hashMaxListpackEntries = 3
        let h = EngineHarness(config: config)
        h.expect(["HSET", "h", "a", "1", "b", "2", "c", "3"], ":3\r\n")
        h.expect(["OBJECT", "ENCODING", "h"], "$8\r\nlistpack\r\n")
        h.expect(["HSET", "h", "d", "4"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "h"], "$9\r\nhashtable\r\n")
        h.expect(["HDEL", "h", "a", "b", "c"], ":3\r\n")
        h.expect(["OBJECT", "ENCODING", "h"], "$9\r\nhashtable\r\n")
    }

    func testHashEncodingByValueLength() {
        var config = EngineConfig()
        config.hashMaxListpackValue = 4
        let h = EngineHarness(config: config)
        h.expect(["HSET", "h", "a", "1234"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "h"], "$8\r\nlistpack\r\n")
        h.expect(["HSET", "h", "b", "12345"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "h"], "$9\r\nhashtable\r\n")
        h.expect(["HSET", "h2", "abcde", "1"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "h2"], "$9\r\nhashtable\r\n")
        h.expect(["HSETNX", "h3", "a", "1"], ":1\r\n")
        h.expect(["HSETNX", "h3", "b", "123456"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "h3"], "$9\r\nhashtable\r\n")
        h.expect(["HINCRBYFLOAT", "h4", "a", "1"], "$1\r\n1\r\n")
        h.expect(["HINCRBYFLOAT", "h4", "a", "1.25"], "$4\r\n2.25\r\n")
        h.expect(["OBJECT", "ENCODING", "h4"], "$8\r\nlistpack\r\n")
        h.expect(["HINCRBYFLOAT", "h4", "abcdef", "1"], "$1\r\n1\r\n")
        h.expect(["OBJECT", "ENCODING", "h4"], "$9\r\nhashtable\r\n")
        h.expect(["HINCRBY", "h5", "a", "12345"], ":12345\r\n")
        h.expect(["OBJECT", "ENCODING", "h5"], "$9\r\nhashtable\r\n")
        h.expect(["HINCRBY", "h6", "a", "1"], ":1\r\n")
        h.expect(["HINCRBYFLOAT", "h6", "a", "0.0000001"], "$9\r\n1.0000001\r\n")
        h.expect(["OBJECT", "ENCODING", "h6"], "$9\r\nhashtable\r\n")
        h.expect(["HGET", "h6", "a"], "$9\r\n1.0000001\r\n")
    }

    func testHSetWithManyDuplicatesStaysPacked() {
        var config = EngineConfig()
        config.hashMaxListpackEntries = 2
        let h = EngineHarness(config: config)
        h.expect(["HSET", "h", "a", "1", "a", "2", "a", "3"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "h"], "$8\r\nlistpack\r\n")
        h.expect(["HLEN", "h"], ":1\r\n")
    }

    func testHashDefaultEncodingLimits() {
        let h = EngineHarness()
        h.expect(["HSET", "h", "f", "1234567890123456789012345678901234567890123456789012345678901234"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "h"], "$8\r\nlistpack\r\n")
        h.expect(["HSET", "h", "g", "12345678901234567890123456789012345678901234567890123456789012345"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "h"], "$9\r\nhashtable\r\n")
    }
}
