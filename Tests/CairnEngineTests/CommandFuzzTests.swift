@testable import CairnEngine
import XCTest

/// Random commands with hostile arguments must never trap (Swift traps on overflow and bad
/// indexes, which for a server is a remote crash). Every reply must be well-formed RESP.
final class CommandFuzzTests: XCTestCase {

    static let hostileNumbers = ["0", "1", "-1", "2", "-2", "9223372036854775807", "-9223372036854775808",
                                 "9223372036854775806", "-9223372036854775807", "4294967296", "4294967295",
                                 "2147483647", "-2147483648", "536870911", "536870912", "100000000000",
                                 "1.5", "-0", "+1", "01", "inf", "-inf", "nan", "1e400", "", " ", "3 ", "0x10"]
    static let words = ["k", "k2", "key", "EX", "PX", "EXAT", "PXAT", "NX", "XX", "GT", "LT", "GET", "KEEPTTL",
                        "PERSIST", "COUNT", "MATCH", "TYPE", "*", "?", "[", "\\", "BYTE", "BIT", "AND", "OR",
                        "XOR", "NOT", "OVERFLOW", "WRAP", "SAT", "FAIL", "i64", "u63", "i8", "u1", "#3",
                        "INCRBY", "SET", "LEN", "IDX", "MINMATCHLEN", "WITHMATCHLEN", "REPLACE", "DB",
                        "ASYNC", "SYNC", "string", "SAMPLES", "WITHSCORES", "LIMIT", "REV", "BYSCORE", "BYLEX"]

    func randomArg(_ rng: inout SplitMix64) -> Bytes {
        switch rng.next() % 5 {
        case 0, 1: return Bytes(Self.hostileNumbers[Int(rng.next() % UInt64(Self.hostileNumbers.count))])
        case 2, 3: return Bytes(Self.words[Int(rng.next() % UInt64(Self.words.count))])
        default:
            let n = Int(rng.next() % 40)
            return Bytes((0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        }
    }

    /// Skips commands that would sleep or block the test for real.
    static let skipped: Set<String> = ["debug", "monitor", "shutdown", "blpop", "brpop", "blmove", "brpoplpush",
                                       "blmpop", "bzpopmin", "bzpopmax", "bzmpop", "wait", "waitaof"]

    func testRandomCommandsNeverTrapAndAlwaysReplyWithValidRESP() {
        let engine = Engine()
        let client = engine.connect()
        let names = engine.commands.all.map { $0.name }.filter { !Self.skipped.contains($0) }.sorted()
        // CAIRN_FUZZ_SEED / CAIRN_FUZZ_SECONDS run a longer or different search (tools/soak).
        let env = ProcessInfo.processInfo.environment
        var rng = SplitMix64(state: env["CAIRN_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0xC0FFEE)
        let deadline = Date().addingTimeInterval(env["CAIRN_FUZZ_SECONDS"].flatMap { Double($0) } ?? 6)
        var executed = 0
        while Date() < deadline {
            let spec = engine.commands.lookup(Bytes(names[Int(rng.next() % UInt64(names.count))]))!
            var argv = [Bytes(spec.name)]
            if !spec.subcommands.isEmpty {
                let subs = spec.subcommands.keys.sorted()
                argv.append(Bytes(subs[Int(rng.next() % UInt64(subs.count))]))
            }
            for _ in 0..<Int(rng.next() % 7) { argv.append(randomArg(&rng)) }
            let started = threadCPUSeconds()
            engine.execute(client, argv)
            let reply = client.reply.take()
            // A hang detector, not a performance threshold: no command on a small dataset
            // may run for seconds (huge client-supplied counts must be refused or bounded).
            // CPU time of this thread, so a busy machine descheduling the test cannot trip it.
            XCTAssertLessThan(threadCPUSeconds() - started, 2, "slow: \(argv.map { $0.debugText })")
            XCTAssertTrue(isCompleteRESP(reply), "malformed reply to \(argv.map { $0.debugText })")
            if client.inMulti && rng.next() % 10 == 0 { engine.execute(client, [Bytes("EXEC")]); _ = client.reply.take() }
            if rng.next() % 500 == 0 { engine.execute(client, [Bytes("FLUSHALL")]); _ = client.reply.take() }
            executed += 1
        }
        XCTAssertGreaterThan(executed, 10_000)
    }

    func testRandomBytesIntoTheParserNeverTrap() {
        var rng = SplitMix64(state: 42)
        let pieces: [[UInt8]] = ["*", "$", "\r\n", "\n", "-1", "3", "99999999999999999999", "*2\r\n", "$3\r\nfoo\r\n",
                                 "\"", "'", "\\x4", "\\", " ", "SET", "0"].map { Array($0.utf8) }
        for _ in 0..<20_000 {
            let parser = RESPRequestParser()
            var input: [UInt8] = []
            for _ in 0..<Int(rng.next() % 12) {
                if rng.next() % 4 == 0 { input.append(UInt8(truncatingIfNeeded: rng.next())) }
                else { input += pieces[Int(rng.next() % UInt64(pieces.count))] }
            }
            // Feed in random chunks.
            var i = 0
            while i < input.count {
                let n = 1 + Int(rng.next() % UInt64(input.count - i))
                let ok: Bool = input[i..<(i + n)].withUnsafeBytes { raw in
                    (try? parser.parse(raw) { argv in XCTAssertFalse(argv.isEmpty) }) != nil
                }
                if !ok { break }
                i += n
            }
        }
    }
}

/// True when `bytes` is a sequence of complete RESP2/RESP3 values.
func isCompleteRESP(_ bytes: [UInt8]) -> Bool {
    var pos = 0
    func line() -> String? {
        var i = pos
        while i + 1 < bytes.count {
            if bytes[i] == 13 && bytes[i + 1] == 10 {
                let s = String(decoding: bytes[pos..<i], as: UTF8.self)
                pos = i + 2
                return s
            }
            i += 1
        }
        return nil
    }
    func value() -> Bool {
        guard pos < bytes.count else { return false }
        let type = bytes[pos]
        pos += 1
        guard let header = line() else { return false }
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "#"), UInt8(ascii: "_"):
            return true
        case UInt8(ascii: "$"), UInt8(ascii: "="):
            guard let n = Int(header) else { return false }
            if n < 0 { return true }
            guard pos + n + 2 <= bytes.count, bytes[pos + n] == 13, bytes[pos + n + 1] == 10 else { return false }
            pos += n + 2
            return true
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"):
            guard let n = Int(header) else { return false }
            if n < 0 { return true }
            for _ in 0..<(type == UInt8(ascii: "%") ? 2 * n : n) where !value() { return false }
            return true
        default:
            return false
        }
    }
    while pos < bytes.count { if !value() { return false } }
    return true
}

/// CPU seconds this thread has used.
private func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
