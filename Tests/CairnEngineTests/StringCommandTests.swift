import XCTest
@testable import CairnEngine

// Replies below were recorded from Redis 7.0.15 (redis-server with default config) by sending the
// same commands in the same order; tests state them as literals so they run without a server.

/// Drives an `Engine` with an injected clock and named clients, and checks exact reply bytes.
/// Shared by the engine test files (StringCommandTests, KeyspaceCommandTests, TransactionTests,
/// ReplicationLogTests).
final class EngineHarness {
    /// 2023-11-14T22:13:20Z: a fixed "now" so TTL replies and effect records are deterministic.
    static let startMs: Int64 = 1_700_000_000_000

    var nowMs: Int64 = EngineHarness.startMs
    private(set) var engine: Engine!
    private var sessions: [Int: ClientSession] = [:]

    init(config: EngineConfig = EngineConfig()) {
        engine = Engine(config: config, seed: SipHashSeed(k0: 0x5eed, k1: 0xcafe),
                        clock: { [unowned self] in self.nowMs })
    }

    convenience init(protoMaxBulkLen: Int) {
        var config = EngineConfig()
        config.protoMaxBulkLen = protoMaxBulkLen
        self.init(config: config)
    }

    /// Moves the injected wall clock forward.
    func advance(_ ms: Int64) { nowMs += ms }

    func client(_ n: Int) -> ClientSession {
        if let c = sessions[n] { return c }
        let c = engine.connect()
        sessions[n] = c
        return c
    }

    /// Runs one command and returns the raw reply bytes.
    @discardableResult
    func send(client n: Int = 0, _ argv: [Bytes]) -> [UInt8] {
        let c = client(n)
        engine.execute(c, argv)
        return c.reply.take()
    }

    @discardableResult
    func run(client n: Int = 0, _ argv: [String]) -> String {
        String(decoding: send(client: n, argv.map { Bytes($0) }), as: UTF8.self)
    }

    func expect(client n: Int = 0, _ argv: [String], _ reply: String,
                file: StaticString = #filePath, line: UInt = #line) {
        let got = send(client: n, argv.map { Bytes($0) })
        XCTAssertEqual(escaped(got), escaped(Array(reply.utf8)), "reply to \(argv.joined(separator: " "))",
                       file: file, line: line)
    }

    /// Checks that the reply starts with `prefix` (for replies whose tail depends on the hash seed).
    func expectPrefix(client n: Int = 0, _ argv: [String], _ prefix: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        let got = send(client: n, argv.map { Bytes($0) })
        XCTAssertTrue(got.starts(with: Array(prefix.utf8)),
                      "reply to \(argv.joined(separator: " ")): \(escaped(got)) does not start with \(escaped(Array(prefix.utf8)))",
                      file: file, line: line)
    }

    /// KEYS pattern, sorted (the table's order is not Redis's).
    func keys(_ pattern: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        guard case .array(let items?)? = RESPReply.parse(send([Bytes("KEYS"), Bytes(pattern)])) else {
            XCTFail("KEYS did not reply with an array", file: file, line: line)
            return []
        }
        return items.compactMap { $0.text }.sorted()
    }

    /// The bytes of the replication log from offset 0.
    var logBytes: [UInt8] { engine.log.backlog.bytes(from: 0) ?? [] }
    var logText: String { String(decoding: logBytes, as: UTF8.self) }
}

/// Printable form of reply bytes for assertion messages (CR/LF and non-ASCII shown escaped).
func escaped(_ bytes: [UInt8]) -> String {
    var s = ""
    for b in bytes {
        switch b {
        case 13: s += "\\r"
        case 10: s += "\\n"
        case 0x20..<0x7F: s.unicodeScalars.append(UnicodeScalar(b))
        default: s += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
        }
    }
    return s
}

/// A minimal RESP2 reply decoder for tests that need to look inside a reply (SCAN, KEYS, EXEC).
indirect enum RESPReply: Equatable {
    case simple(String), error(String), integer(Int64), bulk([UInt8]?), array([RESPReply]?)

    var text: String? {
        switch self {
        case .bulk(let b?): return String(decoding: b, as: UTF8.self)
        case .simple(let s): return s
        default: return nil
        }
    }

    static func parse(_ bytes: [UInt8]) -> RESPReply? {
        var i = 0
        guard let r = parse(bytes, &i), i == bytes.count else { return nil }
        return r
    }

    private static func parse(_ b: [UInt8], _ i: inout Int) -> RESPReply? {
        func line() -> String? {
            guard let lf = b[i...].firstIndex(of: 10), lf > i, b[lf - 1] == 13 else { return nil }
            let s = String(decoding: b[(i + 1)..<(lf - 1)], as: UTF8.self)
            i = lf + 1
            return s
        }
        guard i < b.count else { return nil }
        let type = b[i]
        guard let l = line() else { return nil }
        switch type {
        case UInt8(ascii: "+"): return .simple(l)
        case UInt8(ascii: "-"): return .error(l)
        case UInt8(ascii: ":"): return Int64(l).map { .integer($0) }
        case UInt8(ascii: "$"):
            guard let n = Int(l) else { return nil }
            if n < 0 { return .bulk(nil) }
            guard i + n + 2 <= b.count else { return nil }
            let payload = Array(b[i..<(i + n)])
            i += n + 2
            return .bulk(payload)
        case UInt8(ascii: "*"):
            guard let n = Int(l) else { return nil }
            if n < 0 { return .array(nil) }
            var items: [RESPReply] = []
            for _ in 0..<n {
                guard let item = parse(b, &i) else { return nil }
                items.append(item)
            }
            return .array(items)
        default: return nil
        }
    }
}

final class StringCommandTests: XCTestCase {
    func testGetReturnsValueOrNullBulk() {
        let h = EngineHarness()
        h.expect(["SET", "k", "v"], "+OK\r\n")
        h.expect(["GET", "k"], "$1\r\nv\r\n")
        h.expect(["GET", "missing"], "$-1\r\n")
        h.expect(["GET"], "-ERR wrong number of arguments for 'get' command\r\n")
        h.expect(["GET", "a", "b"], "-ERR wrong number of arguments for 'get' command\r\n")
    }

    func testSetNXWithXXIsASyntaxErrorInEitherOrder() {
        let h = EngineHarness()
        h.expect(["SET", "k", "v", "NX", "XX"], "-ERR syntax error\r\n")
        h.expect(["SET", "k", "v", "XX", "NX"], "-ERR syntax error\r\n")
        h.expect(["EXISTS", "k"], ":0\r\n")
    }

    func testSetRejectsNonPositiveExpireTimes() {
        let h = EngineHarness()
        h.expect(["SET", "k", "v", "EX", "0"], "-ERR invalid expire time in 'set' command\r\n")
        h.expect(["SET", "k", "v", "EX", "-1"], "-ERR invalid expire time in 'set' command\r\n")
        h.expect(["SET", "k", "v", "PX", "0"], "-ERR invalid expire time in 'set' command\r\n")
        h.expect(["SET", "k", "v", "PX", "-100"], "-ERR invalid expire time in 'set' command\r\n")
        h.expect(["SET", "k", "v", "EXAT", "0"], "-ERR invalid expire time in 'set' command\r\n")
        h.expect(["SET", "k", "v", "PXAT", "-1"], "-ERR invalid expire time in 'set' command\r\n")
        h.expect(["EXISTS", "k"], ":0\r\n")
    }

    func testSetRejectsExpireTimesThatOverflow() {
        let h = EngineHarness()
        h.expect(["SET", "k", "v", "EX", "9223372036854775807"], "-ERR invalid expire time in 'set' command\r\n")
        h.expect(["SET", "k", "v", "EX", "9223372036854776"], "-ERR invalid expire time in 'set' command\r\n")
        h.expect(["SET", "k", "v", "EX", "9223372036854775"], "-ERR invalid expire time in 'set' command\r\n")
        h.expect(["SET", "k", "v", "PX", "9223372036854775807"], "-ERR invalid expire time in 'set' command\r\n")
        h.expect(["SET", "k", "v", "EXAT", "9223372036854776"], "-ERR invalid expire time in 'set' command\r\n")
        h.expect(["EXISTS", "k"], ":0\r\n")
    }

    func testSetAcceptsTheLargestAbsoluteExpireTimes() {
        let h = EngineHarness()
        h.expect(["SET", "k", "v", "EXAT", "9223372036854775"], "+OK\r\n")
        h.expect(["EXPIRETIME", "k"], ":9223372036854775\r\n")
        h.expect(["SET", "k", "v", "PXAT", "9223372036854775807"], "+OK\r\n")
        h.expect(["PEXPIRETIME", "k"], ":9223372036854775807\r\n")
        h.expect(["EXPIRETIME", "k"], ":9223372036854776\r\n")
        h.expect(["SET", "k", "v", "PXAT", "9223372036854775499"], "+OK\r\n")
        h.expect(["EXPIRETIME", "k"], ":9223372036854775\r\n")
    }

    func testSetRejectsNonIntegerAndMissingExpireArguments() {
        let h = EngineHarness()
        h.expect(["SET", "k", "v", "EX", "abc"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["SET", "k", "v", "PX", "1.5"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["SET", "k", "v", "EX"], "-ERR syntax error\r\n")
        h.expect(["SET", "k", "v", "PXAT"], "-ERR syntax error\r\n")
        h.expect(["EXISTS", "k"], ":0\r\n")
    }

    func testSetRejectsKeepTTLCombinedWithAnExpiry() {
        let h = EngineHarness()
        h.expect(["SET", "k", "v", "KEEPTTL", "EX", "10"], "-ERR syntax error\r\n")
        h.expect(["SET", "k", "v", "EX", "10", "KEEPTTL"], "-ERR syntax error\r\n")
        h.expect(["SET", "k", "v", "PXAT", "10000", "KEEPTTL"], "-ERR syntax error\r\n")
        h.expect(["SET", "k", "v", "EX", "10", "PX", "100"], "-ERR syntax error\r\n")
        h.expect(["SET", "k", "v", "EXAT", "10", "PXAT", "100"], "-ERR syntax error\r\n")
        h.expect(["SET", "k", "v", "FOO"], "-ERR syntax error\r\n")
        h.expect(["EXISTS", "k"], ":0\r\n")
    }

    /// last EX wins, as in Redis
    func testSetAcceptsARepeatedOption() {
        let h = EngineHarness()
        h.expect(["SET", "k", "v", "EX", "10", "EX", "20"], "+OK\r\n")
        h.expect(["TTL", "k"], ":20\r\n")
        h.expect(["SET", "k", "v", "NX", "NX"], "$-1\r\n")
        h.expect(["SET", "k", "v2", "XX", "XX", "GET", "GET"], "$1\r\nv\r\n")
        h.expect(["SET", "k", "v3", "KEEPTTL", "KEEPTTL"], "+OK\r\n")
        h.expect(["TTL", "k"], ":-1\r\n")
        h.expect(["GET", "k"], "$2\r\nv3\r\n")
    }

    func testSetNXAndXXConditions() {
        let h = EngineHarness()
        h.expect(["SET", "k", "v1", "NX"], "+OK\r\n")
        h.expect(["SET", "k", "v2", "NX"], "$-1\r\n")
        h.expect(["GET", "k"], "$2\r\nv1\r\n")
        h.expect(["SET", "k", "v3", "XX"], "+OK\r\n")
        h.expect(["GET", "k"], "$2\r\nv3\r\n")
        h.expect(["SET", "other", "v", "XX"], "$-1\r\n")
        h.expect(["EXISTS", "other"], ":0\r\n")
    }

    func testSetGetReturnsThePreviousValue() {
        let h = EngineHarness()
        h.expect(["SET", "k", "v1", "GET"], "$-1\r\n")
        h.expect(["SET", "k", "v2", "GET"], "$2\r\nv1\r\n")
        h.expect(["SET", "k", "v3", "XX", "GET"], "$2\r\nv2\r\n")
        h.expect(["SET", "missing", "v", "XX", "GET"], "$-1\r\n")
        h.expect(["EXISTS", "missing"], ":0\r\n")
        h.expect(["GET", "k"], "$2\r\nv3\r\n")
    }

    func testSetGetWithNXReturnsTheOldValueWithoutSetting() {
        let h = EngineHarness()
        h.expect(["SET", "k", "old"], "+OK\r\n")
        h.expect(["SET", "k", "new", "GET", "NX"], "$3\r\nold\r\n")
        h.expect(["SET", "k", "new", "NX", "GET"], "$3\r\nold\r\n")
        h.expect(["GET", "k"], "$3\r\nold\r\n")
        h.expect(["SET", "fresh", "v", "NX", "GET"], "$-1\r\n")
        h.expect(["GET", "fresh"], "$1\r\nv\r\n")
    }

    func testSetKeepTTLKeepsAndPlainSetClearsTheTTL() {
        let h = EngineHarness()
        h.expect(["SET", "k", "v1", "EX", "100"], "+OK\r\n")
        h.expect(["SET", "k", "v2", "KEEPTTL"], "+OK\r\n")
        h.expect(["TTL", "k"], ":100\r\n")
        h.expect(["SET", "k", "v3", "EX", "200", "GET"], "$2\r\nv2\r\n")
        h.expect(["TTL", "k"], ":200\r\n")
        h.expect(["SET", "k", "v4"], "+OK\r\n")
        h.expect(["TTL", "k"], ":-1\r\n")
        h.expect(["SET", "k", "v5", "PX", "1600"], "+OK\r\n")
        // Redis may have spent a millisecond here (it replied 1600 or 1599); the injected clock has not.
        h.expect(["PTTL", "k"], ":1600\r\n")
        h.expect(["TTL", "k"], ":2\r\n")
    }

    func testSetWithAPastAbsoluteExpiryLeavesNoKey() {
        let h = EngineHarness()
        h.expect(["SET", "k", "v", "PXAT", "1"], "+OK\r\n")
        h.expect(["EXISTS", "k"], ":0\r\n")
        h.expect(["SET", "k", "v", "EXAT", "1"], "+OK\r\n")
        h.expect(["GET", "k"], "$-1\r\n")
        h.expect(["DBSIZE"], ":0\r\n")
    }

    func testSetArityError() {
        let h = EngineHarness()
        h.expect(["SET", "k"], "-ERR wrong number of arguments for 'set' command\r\n")
        h.expect(["SET"], "-ERR wrong number of arguments for 'set' command\r\n")
    }

    func testSetNXSetsOnlyMissingKeys() {
        let h = EngineHarness()
        h.expect(["SETNX", "k", "1"], ":1\r\n")
        h.expect(["SETNX", "k", "2"], ":0\r\n")
        h.expect(["GET", "k"], "$1\r\n1\r\n")
        h.expect(["SETNX", "k"], "-ERR wrong number of arguments for 'setnx' command\r\n")
    }

    func testSetexAndPsetexErrors() {
        let h = EngineHarness()
        h.expect(["SETEX", "k", "0", "v"], "-ERR invalid expire time in 'setex' command\r\n")
        h.expect(["SETEX", "k", "-5", "v"], "-ERR invalid expire time in 'setex' command\r\n")
        h.expect(["SETEX", "k", "abc", "v"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["SETEX", "k", "9223372036854775807", "v"], "-ERR invalid expire time in 'setex' command\r\n")
        h.expect(["SETEX", "k", "10"], "-ERR wrong number of arguments for 'setex' command\r\n")
        h.expect(["PSETEX", "k", "0", "v"], "-ERR invalid expire time in 'psetex' command\r\n")
        h.expect(["PSETEX", "k", "-1", "v"], "-ERR invalid expire time in 'psetex' command\r\n")
        h.expect(["PSETEX", "k", "abc", "v"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["PSETEX", "k", "9223372036854775807", "v"], "-ERR invalid expire time in 'psetex' command\r\n")
        h.expect(["EXISTS", "k"], ":0\r\n")
    }

    func testSetexAndPsetexSetValueAndTTL() {
        let h = EngineHarness()
        h.expect(["SETEX", "k", "10", "v"], "+OK\r\n")
        h.expect(["GET", "k"], "$1\r\nv\r\n")
        h.expect(["TTL", "k"], ":10\r\n")
        h.expect(["PSETEX", "p", "1600", "w"], "+OK\r\n")
        // Redis may have spent a millisecond here (it replied 1600 or 1599); the injected clock has not.
        h.expect(["PTTL", "p"], ":1600\r\n")
        h.expect(["TTL", "p"], ":2\r\n")
        h.expect(["SETEX", "k", "20", "v2"], "+OK\r\n")
        h.expect(["TTL", "k"], ":20\r\n")
    }

    func testGetsetReplacesValueAndClearsTTL() {
        let h = EngineHarness()
        h.expect(["GETSET", "k", "v1"], "$-1\r\n")
        h.expect(["GETSET", "k", "v2"], "$2\r\nv1\r\n")
        h.expect(["SET", "t", "a", "EX", "100"], "+OK\r\n")
        h.expect(["GETSET", "t", "b"], "$1\r\na\r\n")
        h.expect(["TTL", "t"], ":-1\r\n")
        h.expect(["GET", "t"], "$1\r\nb\r\n")
        h.expect(["GETSET", "k"], "-ERR wrong number of arguments for 'getset' command\r\n")
    }

    func testGetdelReturnsAndDeletes() {
        let h = EngineHarness()
        h.expect(["SET", "k", "v"], "+OK\r\n")
        h.expect(["GETDEL", "k"], "$1\r\nv\r\n")
        h.expect(["EXISTS", "k"], ":0\r\n")
        h.expect(["GETDEL", "k"], "$-1\r\n")
        h.expect(["SET", "n", "12"], "+OK\r\n")
        h.expect(["GETDEL", "n"], "$2\r\n12\r\n")
        h.expect(["GETDEL", "a", "b"], "-ERR wrong number of arguments for 'getdel' command\r\n")
    }

    func testGetexOptionsSetAndClearTTL() {
        let h = EngineHarness()
        h.expect(["SET", "k", "v"], "+OK\r\n")
        h.expect(["GETEX", "k"], "$1\r\nv\r\n")
        h.expect(["TTL", "k"], ":-1\r\n")
        h.expect(["GETEX", "k", "EX", "100"], "$1\r\nv\r\n")
        h.expect(["TTL", "k"], ":100\r\n")
        h.expect(["GETEX", "k", "PX", "5000"], "$1\r\nv\r\n")
        // Redis may have spent a millisecond here (it replied 5000 or 4999); the injected clock has not.
        h.expect(["PTTL", "k"], ":5000\r\n")
        h.expect(["GETEX", "k", "EXAT", "4102444800"], "$1\r\nv\r\n")
        h.expect(["EXPIRETIME", "k"], ":4102444800\r\n")
        h.expect(["GETEX", "k", "PXAT", "4102444800123"], "$1\r\nv\r\n")
        h.expect(["PEXPIRETIME", "k"], ":4102444800123\r\n")
        h.expect(["GETEX", "k", "PERSIST"], "$1\r\nv\r\n")
        h.expect(["TTL", "k"], ":-1\r\n")
        h.expect(["GETEX", "k", "PERSIST"], "$1\r\nv\r\n")
        h.expect(["GETEX", "missing", "EX", "10"], "$-1\r\n")
        h.expect(["GETEX", "missing"], "$-1\r\n")
    }

    func testGetexErrors() {
        let h = EngineHarness()
        h.expect(["SET", "k", "v"], "+OK\r\n")
        h.expect(["GETEX", "k", "EX", "0"], "-ERR invalid expire time in 'getex' command\r\n")
        h.expect(["GETEX", "k", "PX", "-1"], "-ERR invalid expire time in 'getex' command\r\n")
        h.expect(["GETEX", "k", "EXAT", "0"], "-ERR invalid expire time in 'getex' command\r\n")
        h.expect(["GETEX", "k", "EX", "abc"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["GETEX", "k", "EX", "9223372036854775807"], "-ERR invalid expire time in 'getex' command\r\n")
        h.expect(["GETEX", "k", "EX", "10", "PERSIST"], "-ERR syntax error\r\n")
        h.expect(["GETEX", "k", "PERSIST", "EX", "10"], "-ERR syntax error\r\n")
        h.expect(["GETEX", "k", "EX", "10", "PX", "10"], "-ERR syntax error\r\n")
        h.expect(["GETEX", "k", "EX"], "-ERR syntax error\r\n")
        h.expect(["GETEX", "k", "FOO"], "-ERR syntax error\r\n")
        h.expect(["GETEX", "k", "PERSIST", "PERSIST"], "$1\r\nv\r\n")
        h.expect(["TTL", "k"], ":-1\r\n")
        h.expect(["GETEX"], "-ERR wrong number of arguments for 'getex' command\r\n")
    }

    func testGetexWithAPastTimeDeletesTheKey() {
        let h = EngineHarness()
        h.expect(["SET", "k", "v"], "+OK\r\n")
        h.expect(["GETEX", "k", "PXAT", "1"], "$1\r\nv\r\n")
        h.expect(["EXISTS", "k"], ":0\r\n")
    }

    func testMgetReturnsNullForMissingKeys() {
        let h = EngineHarness()
        h.expect(["SET", "a", "1"], "+OK\r\n")
        h.expect(["SET", "b", "two"], "+OK\r\n")
        h.expect(["MGET", "a", "missing", "b", "a"], "*4\r\n$1\r\n1\r\n$-1\r\n$3\r\ntwo\r\n$1\r\n1\r\n")
        h.expect(["MGET"], "-ERR wrong number of arguments for 'mget' command\r\n")
    }

    func testMsetRequiresPairs() {
        let h = EngineHarness()
        h.expect(["MSET", "a"], "-ERR wrong number of arguments for 'mset' command\r\n")
        h.expect(["MSET", "a", "1", "b"], "-ERR wrong number of arguments for 'mset' command\r\n")
        h.expect(["MSET", "a", "1", "b", "2"], "+OK\r\n")
        h.expect(["MGET", "a", "b"], "*2\r\n$1\r\n1\r\n$1\r\n2\r\n")
        h.expect(["MSET", "a", "x", "a", "y"], "+OK\r\n")
        h.expect(["GET", "a"], "$1\r\ny\r\n")
    }

    func testMsetnxSetsAllOrNothing() {
        let h = EngineHarness()
        h.expect(["MSETNX", "a", "1", "b", "2"], ":1\r\n")
        h.expect(["MSETNX", "b", "3", "c", "4"], ":0\r\n")
        h.expect(["MGET", "a", "b", "c"], "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n")
        h.expect(["MSETNX", "a", "1", "b"], "-ERR wrong number of arguments for 'msetnx' command\r\n")
        h.expect(["MSETNX", "c", "1", "c", "2"], ":1\r\n")
        h.expect(["GET", "c"], "$1\r\n2\r\n")
    }

    func testAppendCreatesAndExtends() {
        let h = EngineHarness()
        h.expect(["APPEND", "k", "hello"], ":5\r\n")
        h.expect(["APPEND", "k", " world"], ":11\r\n")
        h.expect(["GET", "k"], "$11\r\nhello world\r\n")
        h.expect(["SET", "n", "12"], "+OK\r\n")
        h.expect(["APPEND", "n", "34"], ":4\r\n")
        h.expect(["GET", "n"], "$4\r\n1234\r\n")
        h.expect(["APPEND", "e", ""], ":0\r\n")
        h.expect(["EXISTS", "e"], ":1\r\n")
        h.expect(["STRLEN", "e"], ":0\r\n")
    }

    func testStrlenCountsBytes() {
        let h = EngineHarness()
        h.expect(["SET", "k", "hello"], "+OK\r\n")
        h.expect(["STRLEN", "k"], ":5\r\n")
        h.expect(["STRLEN", "missing"], ":0\r\n")
        h.expect(["SET", "n", "-123"], "+OK\r\n")
        h.expect(["STRLEN", "n"], ":4\r\n")
        h.expect(["SET", "u", "\u{e9}"], "+OK\r\n")
        h.expect(["STRLEN", "u"], ":2\r\n")
    }

    func testGetrangeHandlesNegativeAndOutOfRangeIndexes() {
        let h = EngineHarness()
        h.expect(["SET", "k", "This is a string"], "+OK\r\n")
        h.expect(["GETRANGE", "k", "0", "3"], "$4\r\nThis\r\n")
        h.expect(["GETRANGE", "k", "-3", "-1"], "$3\r\ning\r\n")
        h.expect(["GETRANGE", "k", "0", "-1"], "$16\r\nThis is a string\r\n")
        h.expect(["GETRANGE", "k", "10", "100"], "$6\r\nstring\r\n")
        h.expect(["GETRANGE", "k", "-100", "3"], "$4\r\nThis\r\n")
        h.expect(["GETRANGE", "k", "5", "3"], "$0\r\n\r\n")
        h.expect(["GETRANGE", "k", "-1", "-5"], "$0\r\n\r\n")
        h.expect(["GETRANGE", "k", "100", "200"], "$0\r\n\r\n")
        h.expect(["GETRANGE", "k", "-100", "-50"], "$1\r\nT\r\n")
        h.expect(["GETRANGE", "k", "0", "0"], "$1\r\nT\r\n")
        h.expect(["GETRANGE", "k", "-1", "-1"], "$1\r\ng\r\n")
        h.expect(["GETRANGE", "missing", "0", "-1"], "$0\r\n\r\n")
        h.expect(["GETRANGE", "k", "a", "1"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["GETRANGE", "k", "0", "9223372036854775807"], "$16\r\nThis is a string\r\n")
        h.expect(["GETRANGE", "k", "-9223372036854775808", "-9223372036854775808"], "$1\r\nT\r\n")
        h.expect(["SET", "e", ""], "+OK\r\n")
        h.expect(["GETRANGE", "e", "0", "-1"], "$0\r\n\r\n")
        h.expect(["GETRANGE", "e", "0", "0"], "$0\r\n\r\n")
        h.expect(["SET", "n", "12345"], "+OK\r\n")
        h.expect(["GETRANGE", "n", "1", "-2"], "$3\r\n234\r\n")
    }

    func testSubstrIsGetrange() {
        let h = EngineHarness()
        h.expect(["SET", "k", "Hello World"], "+OK\r\n")
        h.expect(["SUBSTR", "k", "0", "4"], "$5\r\nHello\r\n")
        h.expect(["SUBSTR", "k", "-5", "-1"], "$5\r\nWorld\r\n")
        h.expect(["SUBSTR", "k", "0"], "-ERR wrong number of arguments for 'substr' command\r\n")
    }

    /// with proto-max-bulk-len at 1 MiB
    func testSetrangePadsWithZeroBytesAndChecksOffsets() {
        let h = EngineHarness(protoMaxBulkLen: 1_048_576)
        h.expect(["SETRANGE", "k", "-1", "x"], "-ERR offset is out of range\r\n")
        h.expect(["SETRANGE", "k", "1048576", "x"], "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n")
        h.expect(["SETRANGE", "k", "1048575", "xy"], "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n")
        h.expect(["SETRANGE", "k", "9223372036854775807", "x"], "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n")
        h.expect(["SETRANGE", "k", "1048575", "x"], ":1048576\r\n")
        h.expect(["SETRANGE", "k", "abc", "x"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["SETRANGE", "k", "5", "x"], ":1048576\r\n")
        h.expect(["STRLEN", "k"], ":1048576\r\n")
        h.expect(["GETRANGE", "k", "0", "5"], "$6\r\n\u{0}\u{0}\u{0}\u{0}\u{0}x\r\n")
        h.expect(["SETRANGE", "k", "1048576", ""], ":1048576\r\n")
        h.expect(["APPEND", "k", "z"], "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n")
        h.expect(["SETRANGE", "k", "0", "ab"], ":1048576\r\n")
        h.expect(["SETRANGE", "k", "1", "zzz"], ":1048576\r\n")
        h.expect(["GETRANGE", "k", "0", "0"], "$1\r\na\r\n")
        h.expect(["SETRANGE", "empty", "3", ""], ":0\r\n")
        h.expect(["EXISTS", "empty"], ":0\r\n")
        h.expect(["SETRANGE", "k", "100", ""], ":1048576\r\n")
        h.expect(["STRLEN", "k"], ":1048576\r\n")
        h.expect(["SET", "w", "Hello World"], "+OK\r\n")
        h.expect(["SETRANGE", "w", "6", "Redis"], ":11\r\n")
        h.expect(["GET", "w"], "$11\r\nHello Redis\r\n")
        h.expect(["SET", "n", "100"], "+OK\r\n")
        h.expect(["SETRANGE", "n", "1", "5"], ":3\r\n")
        h.expect(["GET", "n"], "$3\r\n150\r\n")
    }

    func testIncrAndDecrFamily() {
        let h = EngineHarness()
        h.expect(["INCR", "c"], ":1\r\n")
        h.expect(["INCR", "c"], ":2\r\n")
        h.expect(["DECR", "c"], ":1\r\n")
        h.expect(["INCRBY", "c", "10"], ":11\r\n")
        h.expect(["DECRBY", "c", "20"], ":-9\r\n")
        h.expect(["INCRBY", "c", "-5"], ":-14\r\n")
        h.expect(["DECRBY", "c", "-5"], ":-9\r\n")
        h.expect(["GET", "c"], "$2\r\n-9\r\n")
        h.expect(["DECR", "d"], ":-1\r\n")
        h.expect(["INCRBY", "e", "0"], ":0\r\n")
        h.expect(["EXISTS", "e"], ":1\r\n")
    }

    func testIncrRejectsNonCanonicalIntegers() {
        let h = EngineHarness()
        h.expect(["SET", "k", "abc"], "+OK\r\n")
        h.expect(["INCR", "k"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["SET", "k", "-0"], "+OK\r\n")
        h.expect(["INCR", "k"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["SET", "k", "01"], "+OK\r\n")
        h.expect(["INCR", "k"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["SET", "k", " 1"], "+OK\r\n")
        h.expect(["INCR", "k"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["SET", "k", "1 "], "+OK\r\n")
        h.expect(["INCR", "k"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["SET", "k", "+1"], "+OK\r\n")
        h.expect(["INCR", "k"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["SET", "k", "1.5"], "+OK\r\n")
        h.expect(["INCR", "k"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["SET", "k", ""], "+OK\r\n")
        h.expect(["INCR", "k"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["SET", "k", "12345678901234567890"], "+OK\r\n")
        h.expect(["INCR", "k"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["GET", "k"], "$20\r\n12345678901234567890\r\n")
    }

    func testIncrbyRejectsNonCanonicalIncrements() {
        let h = EngineHarness()
        h.expect(["INCRBY", "k", "01"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["INCRBY", "k", "-0"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["INCRBY", "k", " 1"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["INCRBY", "k", "1.0"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["INCRBY", "k", "9223372036854775808"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["DECRBY", "k", "abc"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["EXISTS", "k"], ":0\r\n")
        h.expect(["INCRBY", "k", "-9223372036854775808"], ":-9223372036854775808\r\n")
        h.expect(["GET", "k"], "$20\r\n-9223372036854775808\r\n")
    }

    func testIncrOverflowIsAnErrorAndLeavesTheValue() {
        let h = EngineHarness()
        h.expect(["SET", "k", "9223372036854775807"], "+OK\r\n")
        h.expect(["INCR", "k"], "-ERR increment or decrement would overflow\r\n")
        h.expect(["INCRBY", "k", "1"], "-ERR increment or decrement would overflow\r\n")
        h.expect(["GET", "k"], "$19\r\n9223372036854775807\r\n")
        h.expect(["SET", "m", "-9223372036854775808"], "+OK\r\n")
        h.expect(["DECR", "m"], "-ERR increment or decrement would overflow\r\n")
        h.expect(["DECRBY", "m", "1"], "-ERR increment or decrement would overflow\r\n")
        h.expect(["INCRBY", "m", "-1"], "-ERR increment or decrement would overflow\r\n")
        h.expect(["DECRBY", "z", "-9223372036854775808"], "-ERR decrement would overflow\r\n")
        h.expect(["SET", "p", "1"], "+OK\r\n")
        h.expect(["DECRBY", "p", "-9223372036854775807"], "-ERR increment or decrement would overflow\r\n")
        h.expect(["GET", "p"], "$1\r\n1\r\n")
    }

    func testIncrKeepsTheTTL() {
        let h = EngineHarness()
        h.expect(["SET", "k", "5", "EX", "100"], "+OK\r\n")
        h.expect(["INCR", "k"], ":6\r\n")
        h.expect(["TTL", "k"], ":100\r\n")
        h.expect(["INCRBYFLOAT", "k", "1.5"], "$3\r\n7.5\r\n")
        h.expect(["TTL", "k"], ":100\r\n")
        h.expect(["GET", "k"], "$3\r\n7.5\r\n")
    }

    func testIncrbyfloatFormatsLikeRedis() {
        let h = EngineHarness()
        h.expect(["INCRBYFLOAT", "f", "10.5"], "$4\r\n10.5\r\n")
        h.expect(["INCRBYFLOAT", "f", "0.1"], "$4\r\n10.6\r\n")
        h.expect(["INCRBYFLOAT", "f", "-5"], "$3\r\n5.6\r\n")
        h.expect(["INCRBYFLOAT", "g", "1e20"], "$21\r\n100000000000000000000\r\n")
        h.expect(["INCRBYFLOAT", "h", "5.0e3"], "$4\r\n5000\r\n")
        h.expect(["INCRBYFLOAT", "h", "-5000"], "$1\r\n0\r\n")
        h.expect(["INCRBYFLOAT", "i", "0.1"], "$3\r\n0.1\r\n")
        h.expect(["INCRBYFLOAT", "i", "0.2"], "$3\r\n0.3\r\n")
        h.expect(["INCRBYFLOAT", "j", "1e-30"], "$1\r\n0\r\n")
        h.expect(["INCRBYFLOAT", "j2", "-1e-30"], "$1\r\n0\r\n")
        h.expect(["INCRBYFLOAT", "k", "3"], "$1\r\n3\r\n")
        h.expect(["INCRBYFLOAT", "k", "0x10"], "$2\r\n19\r\n")
        h.expect(["INCRBYFLOAT", "l", "-0"], "$1\r\n0\r\n")
        h.expect(["INCRBYFLOAT", "m", "1.23456789012345678"], "$19\r\n1.23456789012345678\r\n")
        h.expect(["INCRBYFLOAT", "n", "  1"], "-ERR value is not a valid float\r\n")
        h.expect(["INCRBYFLOAT", "n", "1  "], "-ERR value is not a valid float\r\n")
        h.expect(["INCRBYFLOAT", "n", "abc"], "-ERR value is not a valid float\r\n")
        h.expect(["INCRBYFLOAT", "n", ""], "-ERR value is not a valid float\r\n")
        h.expect(["INCRBYFLOAT", "n", "nan"], "-ERR value is not a valid float\r\n")
        h.expect(["INCRBYFLOAT", "n", "inf"], "-ERR increment would produce NaN or Infinity\r\n")
        h.expect(["INCRBYFLOAT", "n", "1e5000"], "-ERR value is not a valid float\r\n")
        h.expect(["EXISTS", "n"], ":0\r\n")
        h.expect(["SET", "s", "1.5x"], "+OK\r\n")
        h.expect(["INCRBYFLOAT", "s", "1"], "-ERR value is not a valid float\r\n")
        h.expect(["SET", "t", "7"], "+OK\r\n")
        h.expect(["INCRBYFLOAT", "t", "1.5"], "$3\r\n8.5\r\n")
        h.expect(["SET", "u", "1.7976931348623157e308"], "+OK\r\n")
        h.expect(["INCRBYFLOAT", "u", "1.7976931348623157e308"], "$309\r\n359538626972463139991842093548208868096772893888658356970628841530353257046248792709403737216774171128857586838851041378617416726902272110715794556052955234146997955372576789671236326588091188869859074894581254961338834769297758245552436667197907705664206565009503223382416235440319971852753604933726679072768\r\n")
    }

    /// Redis looks the key up before validating the time
    func testGetexOnAMissingKeyIgnoresAnInvalidTime() {
        let h = EngineHarness()
        h.expect(["GETEX", "missing", "EX", "-100"], "$-1\r\n")
        h.expect(["GETEX", "missing", "PX", "abc"], "$-1\r\n")
        h.expect(["SET", "k", "v"], "+OK\r\n")
        h.expect(["GETEX", "k", "EX", "-100"], "-ERR invalid expire time in 'getex' command\r\n")
        h.expect(["GETEX", "k", "PX", "abc"], "-ERR value is not an integer or out of range\r\n")
        h.expect(["TTL", "k"], ":-1\r\n")
    }

    func testAppendToAMissingKeyStoresTheValueAsSetWould() {
        let h = EngineHarness()
        h.expect(["APPEND", "n", "123"], ":3\r\n")
        h.expect(["OBJECT", "ENCODING", "n"], "$3\r\nint\r\n")
        h.expect(["APPEND", "s", "abc"], ":3\r\n")
        h.expect(["OBJECT", "ENCODING", "s"], "$6\r\nembstr\r\n")
    }


    // END RECORDED

    // MARK: in-place updates

    /// The address of the heap buffer holding a string value (nil when stored inline).
    func bufferAddress(_ h: EngineHarness, _ key: String) -> UnsafeRawPointer? {
        guard let e = h.engine.database(0).find(Bytes(key)), case .string(let b) = e.value else { return nil }
        return b.withUnsafeBytes { $0.baseAddress }
    }

    /// APPEND and SETRANGE change a big value in its buffer; copying it on every call would make
    /// building a string by appends quadratic (Redis's APPEND is amortised O(1)).
    func testAppendAndSetrangeChangeABigValueInPlace() {
        let h = EngineHarness()
        h.send([Bytes("SET"), Bytes("k"), Bytes(array: [UInt8](repeating: 0x61, count: 4 << 20))])
        var buffers = Set<UnsafeRawPointer?>()
        for i in 0..<20 {
            h.expect(["SETRANGE", "k", "\(i * 1000)", "xyz"], ":4194304\r\n")
            buffers.insert(bufferAddress(h, "k"))
        }
        XCTAssertEqual(buffers.count, 1, "SETRANGE inside the value never moves it")
        buffers = []
        for i in 0..<20 {
            h.expect(["APPEND", "k", "z"], ":\(4_194_305 + i)\r\n")
            buffers.insert(bufferAddress(h, "k"))
        }
        XCTAssertLessThanOrEqual(buffers.count, 2, "at most one reallocation to grow the capacity")
        h.expect(["GETRANGE", "k", "0", "3"], "$4\r\nxyza\r\n")
        h.expect(["GETRANGE", "k", "-3", "-1"], "$3\r\nzzz\r\n")
        h.expect(["STRLEN", "k"], ":4194324\r\n")
    }

    func testAppendAndSetrangeOnAnIntegerValueWorkOnItsText() {
        let h = EngineHarness()
        h.expect(["SET", "n", "12"], "+OK\r\n")
        h.expect(["APPEND", "n", "3"], ":3\r\n")
        h.expect(["SETRANGE", "n", "0", "9"], ":3\r\n")
        h.expect(["GET", "n"], "$3\r\n923\r\n")
        h.expect(["INCR", "n"], ":924\r\n")
    }

}
