import XCTest
@testable import CairnEngine

/// One glob case whose expected result was taken from Redis 7.0.15: `KEYS pattern` in a database
/// holding only the key `string` (case-sensitive table), or `CONFIG GET pattern` listing the
/// config name `string` (case-insensitive table).
private struct GlobCase {
    let pattern: [UInt8]
    let string: [UInt8]
    let match: Bool
    init(_ pattern: [UInt8], _ string: [UInt8], _ match: Bool) {
        self.pattern = pattern
        self.string = string
        self.match = match
    }
}

private func a(_ s: String) -> [UInt8] { Array(s.utf8) }

private func show(_ b: [UInt8]) -> String {
    b.map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }
        .joined()
}

/// Expected results from Redis 7.0.15 `KEYS` (see GlobCase).
private let redisKeysCases: [GlobCase] = [
    GlobCase(a("hello"), a("hello"), true),
    GlobCase(a("hello"), a("hellO"), false),
    GlobCase(a("hello"), a("hell"), false),
    GlobCase(a("hello"), a("helloo"), false),
    GlobCase(a("h?llo"), a("hallo"), true),
    GlobCase(a("h?llo"), a("hllo"), false),
    GlobCase(a("???"), a("abc"), true),
    GlobCase(a("???"), a("ab"), false),
    GlobCase(a("?"), [0xFF], true),
    GlobCase(a("h*llo"), a("hllo"), true),
    GlobCase(a("h*llo"), a("heeeello"), true),
    GlobCase(a("h*llo"), a("heeeellox"), false),
    GlobCase(a("*o"), a("hello"), true),
    GlobCase(a("*x"), a("hello"), false),
    GlobCase(a("**"), a("a"), true),
    GlobCase(a("a**b"), a("ab"), true),
    GlobCase(a("*a*b*c*"), a("xxaxxbxxcxx"), true),
    GlobCase(a("*a*b*c*"), a("xxaxxcxxbxx"), false),
    GlobCase(a("a*"), a("a"), true),
    GlobCase(a("a*?"), a("a"), false),
    GlobCase(a("a*?"), a("ab"), true),
    GlobCase(a("*?*?"), a("a"), false),
    GlobCase(a("*?*?"), a("ab"), true),
    GlobCase(a("*a"), a("aa"), true),
    GlobCase(a("a*a"), a("a"), false),
    GlobCase(a("a*a"), a("aa"), true),
    GlobCase(a("*ab"), a("aab"), true),
    GlobCase(a("h[ae]llo"), a("hello"), true),
    GlobCase(a("h[ae]llo"), a("hillo"), false),
    GlobCase(a("h[^e]llo"), a("hallo"), true),
    GlobCase(a("h[^e]llo"), a("hello"), false),
    GlobCase(a("h[a-b]llo"), a("hbllo"), true),
    GlobCase(a("h[a-b]llo"), a("hcllo"), false),
    GlobCase(a("h[z-a]llo"), a("hmllo"), true),
    GlobCase(a("h[z-a]llo"), a("hZllo"), false),
    GlobCase(a("[a-]"), a("a"), true),
    GlobCase(a("[a-]"), a("]"), true),
    GlobCase(a("[a-]"), a("-"), false),
    GlobCase(a("[a-]]"), a("a"), true),
    GlobCase(a("[a-]]"), a("a]"), false),
    GlobCase(a("[a-]x]"), a("x"), true),
    GlobCase(a("[]"), a("a"), false),
    GlobCase(a("[]a]"), a("a]"), false),
    GlobCase(a("[]a]"), a("a"), false),
    GlobCase(a("[^]"), a("a"), true),
    GlobCase(a("[^]"), a("]"), true),
    GlobCase(a("[^]x"), a("ax"), true),
    GlobCase(a("["), a("a"), false),
    GlobCase(a("["), a("["), false),
    GlobCase(a("[^"), a("a"), true),
    GlobCase(a("[^"), a("^"), true),
    GlobCase(a("[abc"), a("b"), true),
    GlobCase(a("[abc"), a("d"), false),
    GlobCase(a("[abc"), a("["), false),
    GlobCase(a("[a-c"), a("b"), true),
    GlobCase(a("[a-c"), a("-"), false),
    GlobCase(a("x[a"), a("xa"), true),
    GlobCase(a("[\\]]"), a("]"), true),
    GlobCase(a("[\\]]"), a("\\"), false),
    GlobCase(a("[\\-z]"), a("-"), true),
    GlobCase(a("[\\-z]"), a("m"), false),
    GlobCase(a("[\\-z]"), a("z"), true),
    GlobCase(a("[a\\"), a("\\"), true),
    GlobCase(a("[a\\"), a("a"), true),
    GlobCase(a("[--z]"), a("-"), true),
    GlobCase(a("[--z]"), a("m"), true),
    GlobCase(a("[!-#]"), a("\""), true),
    GlobCase(a("[^a-c]"), a("d"), true),
    GlobCase(a("[^a-c]"), a("b"), false),
    GlobCase(a("[a-c-e]"), a("d"), false),
    GlobCase(a("[a-c-e]"), a("-"), true),
    GlobCase(a("[a-c-e]"), a("e"), true),
    GlobCase(a("\\*"), a("*"), true),
    GlobCase(a("\\*"), a("a"), false),
    GlobCase(a("\\?"), a("?"), true),
    GlobCase(a("\\?"), a("x"), false),
    GlobCase(a("\\[a]"), a("[a]"), true),
    GlobCase(a("\\[a]"), a("a"), false),
    GlobCase(a("a\\"), a("a\\"), true),
    GlobCase(a("a\\"), a("a"), false),
    GlobCase(a("\\"), a("\\"), true),
    GlobCase(a("\\\\"), a("\\"), true),
    GlobCase(a("\\a"), a("a"), true),
    GlobCase(a("*\\"), a("x\\"), true),
    GlobCase(a("*\\*"), a("ab*"), true),
    GlobCase(a("*\\*"), a("ab"), false),
    GlobCase(a("[") + [0x00] + a("-") + [0xFF] + a("]"), [0x00], true),
    GlobCase(a("[") + [0x00] + a("-") + [0xFF] + a("]"), [0xFF], true),
    GlobCase(a("[") + [0x00] + a("-") + [0xFF] + a("]"), [0x80], false),
    GlobCase(a("[") + [0x00] + a("-") + [0xFF] + a("]"), a("a"), false),
    GlobCase(a("[") + [0x80] + a("-") + [0xFF] + a("]"), [0x90], true),
    GlobCase(a("[") + [0x80] + a("-") + [0xFF] + a("]"), a("a"), false),
    GlobCase(a("[a-") + [0x80] + a("]"), [0x80], true),
    GlobCase(a("[a-") + [0x80] + a("]"), [0x00], true),
    GlobCase(a("[a-") + [0x80] + a("]"), a("b"), false),
    GlobCase([0xE9] + a("*"), [0xE9] + a("t") + [0xE9], true),
    GlobCase(a("*") + [0x00] + a("*"), a("a") + [0x00] + a("b"), true),
    GlobCase(a("a") + [0x00] + a("?"), a("a") + [0x00] + a("b"), true),
    GlobCase(a("?") + [0x00], [0x00, 0x00], true),
    GlobCase(a("[^") + [0x00] + a("]"), [0x00], false),
    GlobCase(a("[^") + [0x00] + a("]"), [0x01], true),
    GlobCase([0xFF, 0xFE], [0xFF, 0xFE], true),
    GlobCase(a("[") + [0x7F] + a("-") + [0x80] + a("]"), [0x7F], true),
    GlobCase(a("[") + [0x7F] + a("-") + [0x80] + a("]"), [0x81], true),
    GlobCase(a("[") + [0x7F] + a("-") + [0x80] + a("]"), [0x00], true),
]

/// Expected results from Redis 7.0.15 `CONFIG GET`, which matches case-insensitively.
private let redisConfigGetCases: [GlobCase] = [
    GlobCase(a("MAXMEMOR?"), a("maxmemory"), true),
    GlobCase(a("[L-M]axmemory"), a("maxmemory"), true),
    GlobCase(a("[^M]axmemory"), a("maxmemory"), false),
    GlobCase(a("[\\M]axmemory"), a("maxmemory"), false),
    GlobCase(a("[\\m]axmemory"), a("maxmemory"), true),
    GlobCase(a("\\Maxmemory*"), a("maxmemory"), true),
    GlobCase(a("[Y-Z]"), a("hz"), false),
    GlobCase(a("H[Y-Z]"), a("hz"), true),
    GlobCase(a("H[a-Z]"), a("hz"), false),
    GlobCase(a("H[A-z]"), a("hz"), true),
    GlobCase(a("H[Z-a]"), a("hz"), false),
    GlobCase(a("h[z-Z]"), a("hz"), true),
    GlobCase(a("[H]Z"), a("hz"), true),
    GlobCase(a("[^H]Z"), a("hz"), false),
    GlobCase(a("*MEMORY"), a("maxmemory"), true),
    GlobCase(a("*MEMORY"), a("maxmemory-policy"), false),
]

final class GlobTests: XCTestCase {
    func testEveryCaseMatchesWhatRedisKeysReturned() {
        XCTAssertGreaterThanOrEqual(redisKeysCases.count, 60)
        for c in redisKeysCases {
            XCTAssertEqual(
                globMatch(pattern: c.pattern, string: c.string), c.match,
                "pattern \(show(c.pattern)) string \(show(c.string))")
        }
    }

    func testEveryCaseMatchesWhatRedisConfigGetReturnedCaseInsensitively() {
        for c in redisConfigGetCases {
            XCTAssertEqual(
                globMatch(pattern: c.pattern, string: c.string, caseInsensitive: true), c.match,
                "pattern \(show(c.pattern)) string \(show(c.string))")
        }
    }

    /// Redis: with only the key "" stored, `KEYS **` and `SCAN 0 MATCH **` return nothing;
    /// `KEYS *` returns it only because KEYS skips the matcher for exactly "*".
    func testStarDoesNotMatchTheEmptyStringButEmptyPatternDoes() {
        XCTAssertFalse(globMatch(pattern: a("*"), string: a("")))
        XCTAssertFalse(globMatch(pattern: a("**"), string: a("")))
        XCTAssertFalse(globMatch(pattern: a("*?"), string: a("")))
        XCTAssertTrue(globMatch(pattern: a(""), string: a("")))
        XCTAssertFalse(globMatch(pattern: a(""), string: a("a")))
    }

    func testCaseInsensitiveFoldsOnlyASCIILetters() {
        XCTAssertTrue(globMatch(pattern: a("HeLLo"), string: a("hello"), caseInsensitive: true))
        XCTAssertFalse(globMatch(pattern: a("HeLLo"), string: a("hello")))
        // 0xC9 and 0xE9 are É/é in Latin-1; C-locale tolower leaves them alone.
        XCTAssertFalse(globMatch(pattern: [0xC9], string: [0xE9], caseInsensitive: true))
        XCTAssertTrue(globMatch(pattern: a("[A-C]x"), string: a("bX"), caseInsensitive: true))
    }

    func testAgreesWithTheRecursiveDefinitionOnRandomInputs() {
        // The alphabet is chosen so that stars, sets, ranges and escapes collide often.
        let alphabet: [UInt8] = Array("ab*?[]^-\\".utf8) + [0x00, 0xFF, UInt8(ascii: "A")]
        let stringAlphabet: [UInt8] = Array("ab]-^\\*?[".utf8) + [0x00, 0xFF, UInt8(ascii: "A")]
        var rng = SplitMix64(seed: 0xCA1F_6108)
        for i in 0..<60_000 {
            let p = (0..<Int(rng.next() % 9)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let s = (0..<Int(rng.next() % 7)).map { _ in stringAlphabet[Int(rng.next() % UInt64(stringAlphabet.count))] }
            let nocase = i % 3 == 0
            XCTAssertEqual(
                globMatch(pattern: p, string: s, caseInsensitive: nocase),
                referenceMatch(p[...], s[...], nocase),
                "pattern \(show(p)) string \(show(s)) nocase \(nocase)")
        }
    }

    // MARK: Bounded work on hostile patterns (a hang fails the test run by timeout).

    func testStarQuestionRepeated50000TimesAgainst100KBCompletes() {
        let pattern = [UInt8](repeating: 0, count: 100_000).enumerated().map {
            $0.offset % 2 == 0 ? UInt8(ascii: "*") : UInt8(ascii: "?")
        }
        let string = [UInt8](repeating: UInt8(ascii: "x"), count: 100_000)
        XCTAssertTrue(globMatch(pattern: pattern, string: string))
        XCTAssertFalse(globMatch(pattern: pattern, string: Array(string[..<49_999])))
        XCTAssertFalse(globMatch(pattern: pattern + a("y"), string: string))
    }

    func testManyStarsThenAMissingByteCompletes() {
        // "a*a*a*...a*b" against "aaaa...": exponential for naive recursion.
        var pattern: [UInt8] = []
        for _ in 0..<10_000 { pattern += a("a*") }
        pattern += a("b")
        let string = [UInt8](repeating: UInt8(ascii: "a"), count: 100_000)
        XCTAssertFalse(globMatch(pattern: pattern, string: string))
        XCTAssertTrue(globMatch(pattern: pattern, string: string + a("b")))
    }

    func testFiftyStarsBeforeAMissingByteCompletes() {
        // The shape behind CVE-2022-36021: unpruned recursion tries C(50000, 50) splits.
        let pattern = a(String(repeating: "a*", count: 50) + "b")
        let string = [UInt8](repeating: UInt8(ascii: "a"), count: 50_000)
        XCTAssertFalse(globMatch(pattern: pattern, string: string))
    }
}

// MARK: - Reference

/// The matcher defined the obvious way — each `*` tries every split, recursively — with Redis's
/// token rules. Exponential, so only for short random inputs.
private func referenceMatch(_ p: ArraySlice<UInt8>, _ s: ArraySlice<UInt8>, _ nocase: Bool) -> Bool {
    // Redis never enters its loop on an empty string.
    s.isEmpty ? p.isEmpty : referenceRest(p, s, nocase)
}

private func referenceRest(_ p: ArraySlice<UInt8>, _ s: ArraySlice<UInt8>, _ nocase: Bool) -> Bool {
    if s.isEmpty { return p.allSatisfy { $0 == UInt8(ascii: "*") } }
    guard let first = p.first else { return false }
    if first == UInt8(ascii: "*") {
        let rest = p.dropFirst()
        var i = s.startIndex
        while i <= s.endIndex {
            if referenceRest(rest, s[i...], nocase) { return true }
            i += 1
        }
        return false
    }
    let (ok, len) = referenceToken(p, s.first!, nocase)
    return ok && referenceRest(p.dropFirst(len), s.dropFirst(), nocase)
}

/// Matches the token at the start of `p` against `c`; returns the token's length.
private func referenceToken(_ p: ArraySlice<UInt8>, _ c: UInt8, _ nocase: Bool) -> (Bool, Int) {
    let bytes = Array(p)
    func sc(_ b: UInt8) -> Int { Int(Int8(bitPattern: b)) }
    func low(_ v: Int) -> Int { (65...90).contains(v) ? v + 32 : v }
    func eq(_ x: UInt8, _ y: UInt8) -> Bool { nocase ? low(sc(x)) == low(sc(y)) : x == y }
    switch bytes[0] {
    case UInt8(ascii: "?"):
        return (true, 1)
    case UInt8(ascii: "\\"):
        return bytes.count >= 2 ? (eq(bytes[1], c), 2) : (eq(bytes[0], c), 1)
    case UInt8(ascii: "["):
        var i = 1
        let neg = i < bytes.count && bytes[i] == UInt8(ascii: "^")
        if neg { i += 1 }
        var hit = false
        while true {
            if i >= bytes.count { return (hit != neg, bytes.count) }  // unclosed: rest of pattern
            let b = bytes[i]
            if b == UInt8(ascii: "]") { return (hit != neg, i + 1) }
            if b == UInt8(ascii: "\\") && i + 1 < bytes.count {
                if bytes[i + 1] == c { hit = true }
                i += 2
            } else if i + 2 < bytes.count && bytes[i + 1] == UInt8(ascii: "-") {
                var (lo, hi) = (sc(b), sc(bytes[i + 2]))
                if lo > hi { (lo, hi) = (hi, lo) }
                var v = sc(c)
                if nocase { (lo, hi, v) = (low(lo), low(hi), low(v)) }
                if v >= lo && v <= hi { hit = true }
                i += 3
            } else {
                if eq(b, c) { hit = true }
                i += 1
            }
        }
    default:
        return (eq(bytes[0], c), 1)
    }
}

