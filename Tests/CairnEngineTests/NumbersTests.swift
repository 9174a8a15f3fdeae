import XCTest
@testable import CairnEngine

#if canImport(Glibc)
import Glibc
#endif

// Every expected value below was produced by Redis 7.0.15 (redis-server on loopback):
//   parseInt64        INCRBY k <input> with k = "0": integer reply or
//                     "ERR value is not an integer or out of range" (nil)
//   parseDouble       ZADD zd <input> m into a skiplist-encoded zset: the ZSCORE reply, or
//                     "ERR value is not a valid float" (nil)
//   parseLongDouble   INCRBYFLOAT k <input> on a missing key
//   formatScore       ZSCORE reply over RESP2; formatDoubleRESP3 the same over RESP3 (HELLO 3)
//   formatLongDouble  INCRBYFLOAT replies, which equalled GET k, HINCRBYFLOAT and HGET

private func a(_ s: String) -> [UInt8] { Array(s.utf8) }

private func text(_ b: [UInt8]?) -> String {
    guard let b else { return "nil" }
    return b.map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }
        .joined()
}

private func parseInt64(_ b: [UInt8]) -> Int64? { b.withUnsafeBytes { CairnEngine.parseInt64($0) } }
private func parseDouble(_ b: [UInt8]) -> Double? { b.withUnsafeBytes { CairnEngine.parseDouble($0) } }
private func parseLongDouble(_ b: [UInt8]) -> Float80? {
    b.withUnsafeBytes { CairnEngine.parseLongDouble($0) }
}

private enum IncrOutcome {
    case reply([UInt8])
    /// A reply too long to spell out here: its length and first and last 30 bytes.
    case longReply(count: Int, head: [UInt8], tail: [UInt8])
    case infinite
}

private let redisInt64Cases: [(input: [UInt8], value: Int64?)] = [
    (a("0"), 0),
    (a("1"), 1),
    (a("-1"), -1),
    (a("9223372036854775807"), 9223372036854775807),
    (a("9223372036854775808"), nil),
    (a("-9223372036854775808"), -9223372036854775808),
    (a("-9223372036854775809"), nil),
    (a(" 1"), nil),
    (a("1 "), nil),
    (a("+1"), nil),
    (a("01"), nil),
    (a("-0"), nil),
    (a(""), nil),
    (a("-"), nil),
    (a("00"), nil),
    (a("-01"), nil),
    (a("12a"), nil),
    (a("1.0"), nil),
    (a("18446744073709551615"), nil),
    (a("18446744073709551616"), nil),
    (a("99999999999999999999"), nil),
    (a("-99999999999999999999"), nil),
    (a("000000000000000000001"), nil),
    (a("123456789"), 123456789),
    (a("1") + [0x00], nil),
    ([0x00] + a("1"), nil),
    (a("0x10"), nil),
    (a("1e3"), nil),
    (a("-123"), -123),
    ([0x09] + a("1"), nil),
]

private let redisZaddCases: [(input: [UInt8], zscore: [UInt8]?)] = [
    (a("1"), a("1")),
    (a("1.5"), a("1.5")),
    (a("-1.5"), a("-1.5")),
    (a(".5"), a("0.5")),
    (a("5."), a("5")),
    (a("1e3"), a("1000")),
    (a("1E3"), a("1000")),
    (a("1e"), nil),
    (a("1e+"), nil),
    (a("-.5e-3"), a("-0.00050000000000000001")),
    (a("inf"), a("inf")),
    (a("+inf"), a("inf")),
    (a("-inf"), a("-inf")),
    (a("Inf"), a("inf")),
    (a("INF"), a("inf")),
    (a("infinity"), a("inf")),
    (a("+Infinity"), a("inf")),
    (a("-INFINITY"), a("-inf")),
    (a("infinit"), nil),
    (a("infx"), nil),
    (a("nan"), nil),
    (a("NaN"), nil),
    (a("-nan"), nil),
    (a("nan(1)"), nil),
    (a("0x10"), a("16")),
    (a("0x1p3"), a("8")),
    (a("0X1P-2"), a("0.25")),
    (a("0x"), nil),
    (a("0x.8"), a("0.5")),
    (a("1e400"), nil),
    (a("-1e400"), nil),
    (a("1e-400"), nil),
    (a("-1e-400"), nil),
    (a("4e-320"), a("3.999955468730732e-320")),
    (a("2.2250738585072014e-308"), a("2.2250738585072014e-308")),
    (a("1e-320"), a("9.9998886718268301e-321")),
    (a("0e-400"), a("0")),
    (a(" 1"), nil),
    (a("1 "), nil),
    ([0x09] + a("1"), nil),
    (a("1") + [0x09], nil),
    ([0x0A] + a("1"), nil),
    ([0x0B] + a("1"), nil),
    (a(""), nil),
    (a("+"), nil),
    (a("-"), nil),
    (a("."), nil),
    (a("+.5"), a("0.5")),
    (a("++1"), nil),
    (a("1") + [0x00], nil),
    (a("1") + [0x00] + a("2"), nil),
    (a("--1"), nil),
    (a("1_000"), nil),
    (a("1,5"), nil),
    (a("0.1"), a("0.10000000000000001")),
    (a("00001"), a("1")),
    (a("1e0001"), a("10")),
    (a("+0"), a("0")),
    (a("-0"), a("-0")),
    (a("1.7976931348623157e308"), a("1.7976931348623157e+308")),
    (a("1.7976931348623159e308"), nil),
    (a(String(repeating: "1", count: 400)), nil),
    (a("0." + String(repeating: "0", count: 400) + "1"), nil),
    (a("   "), nil),
    (a("e5"), nil),
    (a("0x1.fffffffffffffp1023"), a("1.7976931348623157e+308")),
    (a("0x1p1024"), nil),
    (a("0x1p-1074"), a("4.9406564584124654e-324")),
    (a("0x1p-1075"), nil),
    (a("0x1p-1076"), nil),
    (a("i"), nil),
    (a("in"), nil),
    (a("1e-310"), a("9.9999999999999694e-311")),
    (a("-4e-320"), a("-3.999955468730732e-320")),
    (a("1.5e300"), a("1.5000000000000001e+300")),
    (a("0X1P-1074"), a("4.9406564584124654e-324")),
]

/// nil: "ERR value is not a valid float"; `.infinite`: parsed, but the command answered
/// "ERR increment would produce NaN or Infinity"; `.reply`: the reply to INCRBYFLOAT on a missing key.
private let redisIncrByFloatParseCases: [(input: [UInt8], outcome: IncrOutcome?)] = [
    (a("1"), .reply(a("1"))),
    (a("1.5"), .reply(a("1.5"))),
    (a("-1.5"), .reply(a("-1.5"))),
    (a(".5"), .reply(a("0.5"))),
    (a("5."), .reply(a("5"))),
    (a("1e3"), .reply(a("1000"))),
    (a("1E3"), .reply(a("1000"))),
    (a("1e"), nil),
    (a("1e+"), nil),
    (a("-.5e-3"), .reply(a("-0.0005"))),
    (a("inf"), .infinite),
    (a("+inf"), .infinite),
    (a("-inf"), .infinite),
    (a("Inf"), .infinite),
    (a("INF"), .infinite),
    (a("infinity"), .infinite),
    (a("+Infinity"), .infinite),
    (a("-INFINITY"), .infinite),
    (a("infinit"), nil),
    (a("infx"), nil),
    (a("nan"), nil),
    (a("NaN"), nil),
    (a("-nan"), nil),
    (a("nan(1)"), nil),
    (a("0x10"), .reply(a("16"))),
    (a("0x1p3"), .reply(a("8"))),
    (a("0X1P-2"), .reply(a("0.25"))),
    (a("0x"), nil),
    (a("0x.8"), .reply(a("0.5"))),
    (a("1e400"),
        .longReply(count: 401, head: a("100000000000000000002818806839"), tail: a("309734806343732497430221946880"))),
    (a("-1e400"),
        .longReply(count: 402, head: a("-10000000000000000000281880683"), tail: a("309734806343732497430221946880"))),
    (a("1e-400"), .reply(a("0"))),
    (a("-1e-400"), .reply(a("0"))),
    (a("4e-320"), .reply(a("0"))),
    (a("2.2250738585072014e-308"), .reply(a("0"))),
    (a("1e-320"), .reply(a("0"))),
    (a("0e-400"), .reply(a("0"))),
    (a(" 1"), nil),
    (a("1 "), nil),
    ([0x09] + a("1"), nil),
    (a("1") + [0x09], nil),
    ([0x0A] + a("1"), nil),
    ([0x0B] + a("1"), nil),
    (a(""), nil),
    (a("+"), nil),
    (a("-"), nil),
    (a("."), nil),
    (a("+.5"), .reply(a("0.5"))),
    (a("++1"), nil),
    (a("1") + [0x00], nil),
    (a("1") + [0x00] + a("2"), nil),
    (a("--1"), nil),
    (a("1_000"), nil),
    (a("1,5"), nil),
    (a("0.1"), .reply(a("0.1"))),
    (a("00001"), .reply(a("1"))),
    (a("1e0001"), .reply(a("10"))),
    (a("+0"), .reply(a("0"))),
    (a("-0"), .reply(a("0"))),
    (a("1.7976931348623157e308"),
        .longReply(count: 309, head: a("179769313486231569995921046774"), tail: a("159985926376802466863339536384"))),
    (a("1.7976931348623159e308"),
        .longReply(count: 309, head: a("179769313486231590003050712178"), tail: a("241790085370897720263009370112"))),
    (a(String(repeating: "1", count: 400)),
        .longReply(count: 400, head: a("111111111111111111108949370646"), tail: a("448598598168943092888590352384"))),
    (a("0." + String(repeating: "0", count: 400) + "1"), .reply(a("0"))),
    (a("   "), nil),
    (a("e5"), nil),
    (a("0x1.fffffffffffffp1023"),
        .longReply(count: 309, head: a("179769313486231570814527423731"), tail: a("919299881250404026184124858368"))),
    (a("0x1p1024"),
        .longReply(count: 309, head: a("179769313486231590772930519078"), tail: a("479716304835356329624224137216"))),
    (a("0x1p-1074"), .reply(a("0"))),
    (a("0x1p-1075"), .reply(a("0"))),
    (a("0x1p-1076"), .reply(a("0"))),
    (a("i"), nil),
    (a("in"), nil),
    (a("1e4932"),
        .longReply(count: 4933, head: a("100000000000000000000601894938"), tail: a("163141086538418113791886622720"))),
    (a("1e4933"), nil),
    (a("1e-4950"), .reply(a("0"))),
    (a("1e-4951"), nil),
    (a("1e309"),
        .longReply(count: 309, head: a("999999999999999999986349424581"), tail: a("453659621446207643423114002432"))),
    (a("1e-330"), .reply(a("0"))),
    (a("0x1p-16445"), .reply(a("0"))),
    (a("0x1p-16446"), nil),
]

/// ZADD input → ZSCORE reply (RESP2 bulk payload, and RESP3 `,` payload), skiplist encoding.
private let redisScoreCases: [(input: String, resp2: String, resp3: String)] = [
    ("0", "0", "0"),
    ("-0", "-0", "-0"),
    ("1", "1", "1"),
    ("-1", "-1", "-1"),
    ("1.5", "1.5", "1.5"),
    ("-2.5", "-2.5", "-2.5"),
    ("0.5", "0.5", "0.5"),
    ("0.1", "0.10000000000000001", "0.10000000000000001"),
    ("0.2", "0.20000000000000001", "0.20000000000000001"),
    ("0.3", "0.29999999999999999", "0.29999999999999999"),
    ("0.3333333333333333", "0.33333333333333331", "0.33333333333333331"),
    ("0.6666666666666666", "0.66666666666666663", "0.66666666666666663"),
    ("100", "100", "100"),
    ("3.14159", "3.1415899999999999", "3.1415899999999999"),
    ("1234.5678", "1234.5678", "1234.5678"),
    ("1e15", "1000000000000000", "1000000000000000"),
    ("1e16", "10000000000000000", "10000000000000000"),
    ("1e17", "1e+17", "1e+17"),
    ("1e18", "1e+18", "1e+18"),
    ("1e20", "1e+20", "1e+20"),
    ("1e21", "1e+21", "1e+21"),
    ("1e22", "1e+22", "1e+22"),
    ("1e23", "9.9999999999999992e+22", "9.9999999999999992e+22"),
    ("123456789012345678", "1.2345678901234568e+17", "1.2345678901234568e+17"),
    ("12345678901234567", "12345678901234568", "12345678901234568"),
    ("99999999999999999", "1e+17", "1e+17"),
    ("9007199254740992", "9007199254740992", "9007199254740992"),
    ("9007199254740993", "9007199254740992", "9007199254740992"),
    ("0.0001", "0.0001", "0.0001"),
    ("0.00001", "1.0000000000000001e-05", "1.0000000000000001e-05"),
    ("1e-7", "9.9999999999999995e-08", "9.9999999999999995e-08"),
    ("1.5e-7", "1.4999999999999999e-07", "1.4999999999999999e-07"),
    ("5e-324", "4.9406564584124654e-324", "4.9406564584124654e-324"),
    ("1.7976931348623157e308", "1.7976931348623157e+308", "1.7976931348623157e+308"),
    ("inf", "inf", "inf"),
    ("-inf", "-inf", "-inf"),
    ("2000000000000000.25", "2000000000000000.2", "2000000000000000.2"),
    ("-0.1", "-0.10000000000000001", "-0.10000000000000001"),
    ("1e-300", "1e-300", "1e-300"),
    ("123.456e10", "1234560000000", "1234560000000"),
    ("0.000123456789", "0.000123456789", "0.000123456789"),
    ("99999999999999984", "99999999999999984", "99999999999999984"),
    ("0.30000000000000004", "0.30000000000000004", "0.30000000000000004"),
    ("-123456.789e-20", "-1.23456789e-15", "-1.23456789e-15"),
    ("1e100", "1e+100", "1e+100"),
    ("4.35", "4.3499999999999996", "4.3499999999999996"),
    ("0.000099999999999999999", "0.0001", "0.0001"),
]

/// ZINCRBY zi 0.1 m, ZINCRBY zi 0.2 m (RESP2 reply), then ZINCRBY zi 1e17 m (RESP3 reply).
private let redisZincrbyReplies = (resp2: "0.30000000000000004", resp3: "1e+17")

/// INCRBYFLOAT k <increment> with k holding <initial> (nil: missing). Reply nil: "ERR increment would
/// produce NaN or Infinity". Redis's GET k and HINCRBYFLOAT/HGET returned the same bytes.
private let redisIncrByFloatSequences: [(initial: String?, increment: String, reply: String?)] = [
    (nil, "10.5", "10.5"),
    ("10.5", "0.1", "10.6"),
    ("0", "3.0e3", "3000"),
    ("0", "1.1e-5", "0.000011"),
    ("1e20", "1", "100000000000000000000"),
    ("0", "1e20", "100000000000000000000"),
    ("-5", "-1.5", "-6.5"),
    ("5.0e3", "0", "5000"),
    ("0.1", "0.2", "0.3"),
    ("-0", "-0", "0"),
    ("0", "-1e-30", "0"),
    ("1", "1e-17", "1.00000000000000001"),
    ("1", "5e-18", "1"),
    ("1", "6e-18", "1.00000000000000001"),
    ("3", "0x1p-2", "3.25"),
    ("0", "123456789.123456789", "123456789.12345678899873747"),
    ("0", "0.00000000000000001", "0.00000000000000001"),
    ("0", "0.000000000000000005", "0"),
    ("0", "0.000000000000000015", "0.00000000000000002"),
    ("0", "-0.000000000000000004", "0"),
    ("1e4932", "1e4932", nil),
    ("1.5", "-1.5", "0"),
    ("0", "1e-5", "0.00001"),
    (nil, "-0", "0"),
    ("0", "3.5e-1", "0.35"),
    ("100", "-0.001", "99.999"),
    ("9223372036854775807", "1", "9223372036854775808"),
    ("0", "1e17", "100000000000000000"),
    ("0", "0.1", "0.1"),
    ("1.1", "2.2", "3.3"),
    ("-1e4932", "-1e4932", nil),
    ("5", "inf", nil),
    ("1e-4950", "-1e-4950", "0"),
    ("0.1", "0.1", "0.2"),
    ("12345678901234567890", "0.5", "12345678901234567890"),
    ("-2.5", "1", "-1.5"),
]

final class NumbersTests: XCTestCase {

    // MARK: parseInt64 (string2ll)

    func testParseInt64AcceptsExactlyWhatRedisIncrbyAccepts() {
        for c in redisInt64Cases {
            XCTAssertEqual(parseInt64(c.input), c.value, "input \(text(c.input))")
        }
    }

    func testParseInt64RejectsOverflowSignsSpacesAndLeadingZeros() {
        XCTAssertEqual(parseInt64(a("9223372036854775807")), Int64.max)
        XCTAssertNil(parseInt64(a("9223372036854775808")))
        XCTAssertEqual(parseInt64(a("-9223372036854775808")), Int64.min)
        XCTAssertNil(parseInt64(a("-9223372036854775809")))
        for bad in [" 1", "1 ", "+1", "01", "-0", "", "-", "00", "-01", "1.0", "0x10"] {
            XCTAssertNil(parseInt64(a(bad)), "\"\(bad)\"")
        }
        // 21 bytes is over the limit even though the value would fit.
        XCTAssertNil(parseInt64(a("000000000000000000001")))
    }

    func testParseInt64AcceptsEveryInt64PrintedByFormatInt64() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<100_000 {
            let v = Int64(bitPattern: rng.next()) >> (rng.next() % 64)
            var out: [UInt8] = []
            formatInt64(v, into: &out)
            XCTAssertEqual(parseInt64(out), v)
        }
    }

    // MARK: parseDouble (string2d)

    func testParseDoubleAcceptsExactlyWhatRedisZaddAcceptsAndStoresTheSameScore() {
        for c in redisZaddCases {
            let v = parseDouble(c.input)
            XCTAssertEqual(v.map(formatScore), c.zscore, "input \(text(c.input))")
        }
    }

    func testParseDoubleRejectsNaNWhitespaceAndOutOfRangeButKeepsDenormalsAndInfinity() {
        for bad in ["nan", "-nan", " 1", "1 ", "\t1", "1\n", "", "1e400", "-1e-400", "0x1p-1075"] {
            XCTAssertNil(parseDouble(a(bad)), "\"\(bad)\"")
        }
        XCTAssertEqual(parseDouble(a("inf")), .infinity)
        XCTAssertEqual(parseDouble(a("-Infinity")), -.infinity)
        XCTAssertEqual(parseDouble(a("0x1p-1074")), Double.leastNonzeroMagnitude)
        XCTAssertEqual(parseDouble(a("0e-400")), 0)
        XCTAssertNil(parseDouble(a("1") + [0] + a("2")), "embedded NUL")
    }

    func testParseDoubleOfMinusZeroKeepsTheSign() {
        // ZADD b -0 m on a skiplist zset answers ZSCORE "-0".
        XCTAssertEqual(parseDouble(a("-0"))?.sign, .minus)
        XCTAssertEqual(formatScore(parseDouble(a("-0"))!), a("-0"))
    }

    func testParseDoubleHasNoLengthLimitButParseLongDoubleRejects5120Bytes() {
        // Redis: ZADD accepted both; INCRBYFLOAT answered "1" for 5119 bytes and
        // "ERR value is not a valid float" for 5120.
        let ok = a("1." + String(repeating: "0", count: 5117))
        let tooLong = a("1." + String(repeating: "0", count: 5118))
        XCTAssertEqual(ok.count, 5119)
        XCTAssertEqual(parseDouble(ok), 1)
        XCTAssertEqual(parseDouble(tooLong), 1)
        XCTAssertEqual(parseLongDouble(ok), 1)
        XCTAssertNil(parseLongDouble(tooLong))
    }

    // MARK: parseLongDouble (string2ld) and INCRBYFLOAT

    func testParseLongDoubleAcceptsExactlyWhatRedisIncrbyfloatAcceptsAndRepliesTheSame() {
        for c in redisIncrByFloatParseCases {
            let label = "input \(text(c.input))"
            let v = parseLongDouble(c.input)
            switch c.outcome {
            case nil:
                XCTAssertNil(v, label)
            case .infinite:
                XCTAssertEqual(v?.isInfinite, true, label)
            case .reply(let expected):
                XCTAssertEqual(v.map { formatLongDouble(0 + $0) }, expected, label)
            case .longReply(let count, let head, let tail):
                guard let v else { XCTFail(label); continue }
                let out = formatLongDouble(0 + v)
                XCTAssertEqual(out.count, count, label)
                XCTAssertEqual(Array(out.prefix(head.count)), head, label)
                XCTAssertEqual(Array(out.suffix(tail.count)), tail, label)
            }
        }
    }

    /// The INCRBYFLOAT algorithm: value (or 0) + increment in long double, reject a non-finite
    /// sum, reply and store formatLongDouble of the sum.
    func testIncrByFloatInLongDoubleMatchesRedisRepliesAndStoredValues() {
        for c in redisIncrByFloatSequences {
            let label = "\(c.initial ?? "(missing)") + \(c.increment)"
            guard let current = parseLongDouble(a(c.initial ?? "0")),
                let increment = parseLongDouble(a(c.increment))
            else {
                XCTFail(label)
                continue
            }
            let sum = current + increment
            if let reply = c.reply {
                XCTAssertTrue(sum.isFinite, label)
                XCTAssertEqual(text(formatLongDouble(sum)), reply, label)
            } else {
                XCTAssertFalse(sum.isFinite, label)
            }
        }
    }

    func testFormatIncrByFloatPrintsTheExactDoubleAsRedisDoesForAHexIncrement() {
        // INCRBYFLOAT k 0x1.999999999999ap-4 (the double nearest 0.1) on a missing key.
        XCTAssertEqual(formatIncrByFloat(0.1), a("0.10000000000000001"))
        // INCRBYFLOAT k 0x1.5333333333333p+3 (10.5 + 0.1 added in double) on a missing key;
        // Redis's own 10.5 + 0.1 in long double gives "10.6".
        XCTAssertEqual(formatIncrByFloat(10.5 + 0.1), a("10.59999999999999964"))
        XCTAssertEqual(formatIncrByFloat(3000), a("3000"))
        XCTAssertEqual(formatIncrByFloat(-6.5), a("-6.5"))
        XCTAssertEqual(formatIncrByFloat(-0.0), a("0"))
    }

    func testFormatLongDoubleSpellsInfinityAsLd2stringDoes() {
        XCTAssertEqual(formatLongDouble(.infinity), a("inf"))
        XCTAssertEqual(formatLongDouble(-.infinity), a("-inf"))
    }

    // MARK: formatScore / formatDoubleRESP3 (addReplyDouble)

    func testFormatScoreMatchesRedisZscoreOverRESP2() {
        XCTAssertGreaterThanOrEqual(redisScoreCases.count, 30)
        for c in redisScoreCases {
            guard let v = parseDouble(a(c.input)) else { XCTFail(c.input); continue }
            XCTAssertEqual(text(formatScore(v)), c.resp2, "ZADD \(c.input)")
        }
    }

    func testFormatDoubleRESP3MatchesRedisZscoreAfterHello3() {
        for c in redisScoreCases {
            guard let v = parseDouble(a(c.input)) else { XCTFail(c.input); continue }
            XCTAssertEqual(text(formatDoubleRESP3(v)), c.resp3, "ZADD \(c.input)")
        }
    }

    func testFormatScoreMatchesRedisZincrbyReplies() {
        XCTAssertEqual(text(formatScore(0.1 + 0.2)), redisZincrbyReplies.resp2)
        XCTAssertEqual(text(formatDoubleRESP3(0.1 + 0.2 + 1e17)), redisZincrbyReplies.resp3)
    }

    func testAppendScoreAppendsAfterExistingBytes() {
        var out = a("$")
        appendScore(1.5, into: &out)
        appendScore(-.infinity, into: &out)
        XCTAssertEqual(out, a("$1.5-inf"))
    }

    /// Redis prints scores with glibc's "%.17g"; Cairn reimplements it, so compare the two on
    /// random bit patterns, random short decimals, and exact halfway cases.
    func testFormatScoreAgreesWithGlibcPercent17g() {
        func glibc(_ v: Double) -> String {
            var buf = [CChar](repeating: 0, count: 64)
            _ = withVaList([v]) { vsnprintf(&buf, 64, "%.17g", $0) }
            return String(cString: buf)
        }
        var rng = SplitMix64(seed: 17)
        var values: [Double] = [
            2000000000000000.25, 2000000000000000.75, 1e17, 1e16, 99999999999999984, 1e-4, 1e-5,
            .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, 0.5, 1 / 3.0,
            Double(1 << 53) + 2, 1e300 * 10, 123456789.125,
        ]
        for e in -330...310 { values.append(Double("1e\(e)")!) }
        for e in -1074...1023 { values.append(Double(sign: .plus, exponent: e, significand: 1)) }
        for _ in 0..<30_000 {
            values.append(Double(bitPattern: rng.next()))
            let scale: [Double] = [1, 10, 100, 1000, 1e6]
            values.append(Double(rng.next() % 10_000_000) / scale[Int(rng.next() % 5)])
            // m / 4 with an odd m near 2^53 has 18 significant digits ending in 5: a tie.
            let step: UInt64 = rng.next() % 1_000_000
            values.append(Double((1 << 53) - 1 - 2 * step) / 4)
        }
        values.append(.nan)  // never a score, but printed as glibc does: "nan", "-nan"
        for v in values {
            XCTAssertEqual(text(formatScore(v)), glibc(v), "bits \(String(v.bitPattern, radix: 16))")
            XCTAssertEqual(text(formatScore(-v)), glibc(-v), "bits \(String((-v).bitPattern, radix: 16))")
        }
    }

    // MARK: formatInt64 / digits

    func testFormatInt64WritesWhatRedisIncrbyReplies() {
        // INCRBY k 0 with k holding each value: the integer reply's text.
        for s in ["-9223372036854775808", "9223372036854775807", "0", "-1", "10",
                  "999999999999999999", "1000000000000000000", "-100"] {
            var out = a("x")
            formatInt64(Int64(s)!, into: &out)
            XCTAssertEqual(text(out), "x" + s)
        }
    }

    func testFormatInt64MatchesSwiftDescriptionOnRandomValues() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<100_000 {
            let v = Int64(bitPattern: rng.next()) >> (rng.next() % 64)
            var out: [UInt8] = []
            formatInt64(v, into: &out)
            XCTAssertEqual(text(out), String(v))
        }
    }

    func testDigitsCountsDecimalDigitsAtEveryPowerOfTen() {
        XCTAssertEqual(digits(0), 1)
        XCTAssertEqual(digits(UInt64.max), 20)
        var p: UInt64 = 1
        for n in 1...19 {
            XCTAssertEqual(digits(p), n, "10^\(n - 1)")
            XCTAssertEqual(digits(p * 10 - 1), n, "10^\(n) - 1")
            p *= 10
        }
        XCTAssertEqual(digits(p), 20)
    }
}

