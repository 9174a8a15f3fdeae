// Redis's number rules: which byte strings are numbers, and how numbers are printed.
//
// Every function here reproduces a Redis 7.0 routine byte for byte, because clients see the
// difference: `INCRBY k 01` is an error, `ZSCORE` of 0.1 is "0.10000000000000001", and
// `INCRBYFLOAT` of 10.5 by 0.1 is "10.6" only because Redis adds in `long double`.
//
//   parseInt64        string2ll      INCR family, integer arguments, integer-encoded values
//   parseDouble       string2d       ZADD/ZINCRBY scores, ZRANGEBYSCORE bounds, other doubles
//   parseLongDouble   string2ld      INCRBYFLOAT/HINCRBYFLOAT operands and stored values
//   formatLongDouble  ld2string HUMAN  INCRBYFLOAT/HINCRBYFLOAT reply and stored value
//   formatScore       addReplyDouble (RESP2 bulk payload, "%.17g")
//   formatDoubleRESP3 addReplyDouble (RESP3 `,` payload; identical text in 7.0)
//   formatInt64       ll2string
//
// Parsing of floats delegates to glibc's strtod/strtold, as Redis does, so the accepted syntax
// (hex floats, "infinity", exponents, denormals) is strtod's by construction; what Redis adds is
// the checks around the call, reproduced below. Like Redis, this relies on LC_NUMERIC being "C"
// (the process default; Cairn never calls setlocale).
//
// Nothing here allocates except where a function returns a fresh [UInt8]; the `append…(into:)`
// forms write into a caller's buffer.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Integers

/// Parses a decimal `Int64` with Redis's `string2ll` rules: an optional '-', then either "0"
/// alone or a digit 1-9 followed by digits; nothing else. So no '+', no leading zeros, no
/// spaces, no "-0", at most 20 bytes, and values outside Int64 are rejected (nil).
public func parseInt64(_ s: UnsafeRawBufferPointer) -> Int64? {
    let n = s.count
    // 20 bytes is "-9223372036854775808"; Redis rejects anything longer before looking at it.
    if n == 0 || n > 20 { return nil }
    if n == 1 && s[0] == UInt8(ascii: "0") { return 0 }

    var i = 0
    let negative = s[0] == UInt8(ascii: "-")
    if negative {
        i = 1
        if n == 1 { return nil }
    }
    let first = s[i] &- UInt8(ascii: "0")
    guard first >= 1 && first <= 9 else { return nil }
    var v = UInt64(first)
    i += 1
    while i < n {
        let d = s[i] &- UInt8(ascii: "0")
        guard d <= 9 else { return nil }
        let (times10, o1) = v.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(UInt64(d))
        if o1 || o2 { return nil }
        v = sum
        i += 1
    }
    if negative {
        if v > UInt64(Int64.max) + 1 { return nil }
        return Int64(bitPattern: 0 &- v)
    }
    if v > UInt64(Int64.max) { return nil }
    return Int64(v)
}

/// Number of decimal digits in `v` (1 for 0), as Redis's `digits10`.
@inlinable
public func digits(_ v: UInt64) -> Int {
    var count = 1
    var x = v
    while x >= 10_000 {
        x /= 10_000
        count += 4
    }
    if x >= 1000 { return count + 3 }
    if x >= 100 { return count + 2 }
    if x >= 10 { return count + 1 }
    return count
}

/// Appends the decimal text of `v` (as Redis's `ll2string`) to `out` without building a String.
public func formatInt64(_ v: Int64, into out: inout [UInt8]) {
    if v < 0 {
        out.append(UInt8(ascii: "-"))
        appendDecimal(v.magnitude, into: &out)
    } else {
        appendDecimal(UInt64(v), into: &out)
    }
}

/// Appends the decimal digits of `v`.
@inline(__always)
func appendDecimal(_ v: UInt64, into out: inout [UInt8]) {
    let count = digits(v)
    let start = out.count
    out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: count))
    out.withUnsafeMutableBufferPointer { buf in
        var x = v
        var i = start + count
        while x >= 10 {
            i -= 1
            buf[i] = UInt8(truncatingIfNeeded: x % 10) &+ UInt8(ascii: "0")
            x /= 10
        }
        buf[i - 1] = UInt8(truncatingIfNeeded: x) &+ UInt8(ascii: "0")
    }
}

// MARK: - Parsing doubles

/// Parses a double with Redis's `string2d` rules (ZADD, ZINCRBY, score ranges):
/// the whole input must be one strtod number — no leading or trailing whitespace, no embedded
/// NUL, not empty; "inf"/"infinity" in any case and with a sign are accepted; NaN is rejected;
/// a value that overflows to ±inf or underflows to zero is rejected, while one that lands in the
/// denormal range is kept. Hex floats ("0x1p3") are accepted because strtod accepts them.
public func parseDouble(_ s: UnsafeRawBufferPointer) -> Double? {
    let n = s.count
    if n == 0 || isCSpace(s[0]) { return nil }
    // Fast path: a plain integer of up to 16 bytes. Int64 → Double rounds to nearest-even, as
    // strtod does, so the result is the same without the copy and the libc call.
    if n <= 16, let v = parseInt64(s) { return Double(v) }

    return withNulTerminatedCopy(of: s) { (cstr: UnsafePointer<CChar>) -> Double? in
        var end: UnsafeMutablePointer<CChar>? = nil
        errno = 0
        let v = strtod(cstr, &end)
        let rangeError = errno == ERANGE
        guard let end, end - UnsafeMutablePointer(mutating: cstr) == n else { return nil }
        if rangeError && (v.isInfinite || v == 0) { return nil }
        if v.isNaN { return nil }
        return v
    }
}

/// Inputs of this many bytes or more are rejected by `parseLongDouble`, as Redis's
/// MAX_LONG_DOUBLE_CHARS (5 KiB) buffer rejects them.
public let longDoubleCharsMax = 5 * 1024

/// Parses a long double with Redis's `string2ld` rules (INCRBYFLOAT, HINCRBYFLOAT operands and
/// the values they update): as `parseDouble`, but in extended precision and only for inputs
/// shorter than `longDoubleCharsMax` bytes. "inf" parses; the command then rejects the infinite
/// *result* with "increment would produce NaN or Infinity".
public func parseLongDouble(_ s: UnsafeRawBufferPointer) -> Float80? {
    let n = s.count
    if n == 0 || n >= longDoubleCharsMax || isCSpace(s[0]) { return nil }
    return withNulTerminatedCopy(of: s) { (cstr: UnsafePointer<CChar>) -> Float80? in
        var end: UnsafeMutablePointer<CChar>? = nil
        errno = 0
        let v = strtold(cstr, &end)
        let err = errno
        guard let end, end - UnsafeMutablePointer(mutating: cstr) == n else { return nil }
        if err == ERANGE && (v.isInfinite || v == 0) { return nil }
        if err == EINVAL || v.isNaN { return nil }
        return v
    }
}

/// C-locale `isspace`: space, \t, \n, \v, \f, \r.
@inline(__always)
private func isCSpace(_ b: UInt8) -> Bool {
    b == 0x20 || (b >= 0x09 && b <= 0x0D)
}

/// Runs `body` on a NUL-terminated copy of `s` (strtod needs a terminator; RESP arguments carry
/// none). Short inputs, the common case, stay on the stack.
@inline(__always)
private func withNulTerminatedCopy<R>(
    of s: UnsafeRawBufferPointer, _ body: (UnsafePointer<CChar>) -> R
) -> R {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: s.count + 1) { buf in
        let base = buf.baseAddress!
        if let src = s.baseAddress {
            UnsafeMutableRawPointer(base).copyMemory(from: src, byteCount: s.count)
        }
        base[s.count] = 0
        return body(UnsafePointer(base))
    }
}

// MARK: - Printing long doubles (INCRBYFLOAT)

/// INCRBYFLOAT/HINCRBYFLOAT reply (and stored value) for a `Double` result.
///
/// Redis adds in long double, so for exact parity the caller should do the arithmetic with
/// `parseLongDouble` + `Float80` + `formatLongDouble`; this overload prints the given double as
/// that path would print the same value (10.5 + 0.1 computed in Double prints
/// "10.59999999999999964", whereas Redis replies "10.6").
public func formatIncrByFloat(_ v: Double) -> [UInt8] {
    formatLongDouble(Float80(v))
}

/// Redis's `ld2string(…, LD_STR_HUMAN)`: "%.17Lf", then trailing zeros after the point and a
/// bare trailing point removed, "-0" printed as "0", infinities as "inf"/"-inf".
/// Examples: 10.6 → "10.6", 3000 → "3000", 1e20 → "100000000000000000000",
/// -1e-30 → "0" (17 fraction digits round it to -0).
public func formatLongDouble(_ v: Float80) -> [UInt8] {
    if v.isInfinite { return v < 0 ? Array("-inf".utf8) : Array("inf".utf8) }
    var out = printfLongDouble(v)
    if out.contains(UInt8(ascii: ".")) {
        while out.last == UInt8(ascii: "0") { out.removeLast() }
        if out.last == UInt8(ascii: ".") { out.removeLast() }
    }
    if out.count == 2 && out[0] == UInt8(ascii: "-") && out[1] == UInt8(ascii: "0") {
        out = [UInt8(ascii: "0")]
    }
    return out
}

/// glibc's "%.17Lf" of `v`. Up to ~4950 bytes for the largest Float80, so try a small stack
/// buffer first and fall back to an exact-size heap one.
private func printfLongDouble(_ v: Float80) -> [UInt8] {
    let smallCapacity = 64
    var needed = 0
    let small: [UInt8]? = withUnsafeTemporaryAllocation(of: CChar.self, capacity: smallCapacity) {
        buf in
        let n = withVaList([v]) { vsnprintf(buf.baseAddress!, smallCapacity, "%.17Lf", $0) }
        needed = Int(n)
        guard n >= 0 && Int(n) < smallCapacity else { return nil }
        return UnsafeRawBufferPointer(start: buf.baseAddress!, count: Int(n)).map { $0 }
    }
    if let small { return small }
    precondition(needed > 0, "vsnprintf failed formatting a long double")
    var big = [CChar](repeating: 0, count: needed + 1)
    let n = withVaList([v]) { vsnprintf(&big, needed + 1, "%.17Lf", $0) }
    precondition(Int(n) == needed)
    return big[..<needed].map { UInt8(bitPattern: $0) }
}

// MARK: - Printing doubles (scores)

/// A sorted-set score as Redis 7.0 puts it in a RESP2 bulk reply (ZSCORE, ZRANGE … WITHSCORES,
/// ZINCRBY, ZADD INCR): C's "%.17g" — 17 significant digits, correctly rounded (ties to even),
/// trailing zeros dropped, exponent form when the exponent is < -4 or ≥ 17 — except that
/// infinities are "inf" and "-inf". So 0.1 → "0.10000000000000001", 1e17 → "1e+17",
/// 1e16 → "10000000000000000", -0.0 → "-0". (Redis 7.2 switched to shortest round-trip; 7.0
/// did not.)
public func formatScore(_ v: Double) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(24)
    appendScore(v, into: &out)
    return out
}

/// The payload of a RESP3 double (`,<payload>\r\n`) as Redis 7.0 sends it: the same text as
/// `formatScore` ("%.17g", "inf", "-inf"). The caller adds the ',' and CRLF.
public func formatDoubleRESP3(_ v: Double) -> [UInt8] {
    formatScore(v)
}

/// Appends `formatScore(v)` to `out`.
///
/// This is an exact reimplementation of glibc's "%.17g" (so no varargs call and no allocation
/// on the reply path): the double is m·2^e; its exact decimal expansion is m·2^e (e ≥ 0) or
/// m·5^-e · 10^e (e < 0), computed in base-10⁹ limbs, then rounded to 17 digits half-to-even.
public func appendScore(_ v: Double, into out: inout [UInt8]) {
    if v.isNaN {
        out.append(contentsOf: v.sign == .minus ? Array("-nan".utf8) : Array("nan".utf8))
        return
    }
    if v.sign == .minus { out.append(UInt8(ascii: "-")) }
    let a = v.magnitude
    if a.isInfinite {
        out.append(contentsOf: [UInt8(ascii: "i"), UInt8(ascii: "n"), UInt8(ascii: "f")])
        return
    }
    // Integers below 1e17 have at most 17 digits: "%.17g" prints them exactly, with no point.
    if a < 1e17 && a.rounded(.towardZero) == a {
        appendDecimal(UInt64(a), into: &out)
        return
    }

    let (significand, exponent10) = seventeenDigits(a)
    appendG17(significand: significand, exponent10: exponent10, into: &out)
}

/// The 17 significant decimal digits of finite, positive `a`, rounded half-to-even, as an
/// integer in 10^16 ..< 10^17, and the decimal exponent of its first digit.
private func seventeenDigits(_ a: Double) -> (UInt64, Int) {
    var m: UInt64
    var e: Int
    if a.exponentBitPattern == 0 {  // denormal
        m = a.significandBitPattern
        e = -1074
    } else {
        m = a.significandBitPattern | (1 << 52)
        e = Int(a.exponentBitPattern) - 1075
    }
    // Drop factors of two that would only cost multiplications by 5 or by 2.
    let tz = m.trailingZeroBitCount
    m >>= UInt64(tz)
    e += tz

    // Largest value: 2^53 · 5^1074 ≈ 10^767 (e < 0 side) → 86 limbs of 9 digits.
    let limbsMax = 90
    return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: limbsMax) { limbs in
        var count = 0
        // Seed with m (< 2^53 < 10^18: at most two limbs).
        limbs[0] = UInt32(m % 1_000_000_000)
        limbs[1] = UInt32(m / 1_000_000_000)
        count = limbs[1] == 0 ? 1 : 2

        @inline(__always) func multiply(by factor: UInt64) {
            var carry: UInt64 = 0
            for i in 0..<count {
                let x = UInt64(limbs[i]) * factor + carry
                limbs[i] = UInt32(x % 1_000_000_000)
                carry = x / 1_000_000_000
            }
            while carry != 0 {
                precondition(count < limbsMax)
                limbs[count] = UInt32(carry % 1_000_000_000)
                carry /= 1_000_000_000
                count += 1
            }
        }

        var pointShift = 0  // value = N · 10^pointShift
        if e >= 0 {
            var k = e
            while k >= 29 { multiply(by: 1 << 29); k -= 29 }
            if k > 0 { multiply(by: 1 << UInt64(k)) }
        } else {
            var k = -e
            while k >= 13 { multiply(by: 1_220_703_125); k -= 13 }  // 5^13
            var f: UInt64 = 1
            for _ in 0..<k { f *= 5 }
            if f > 1 { multiply(by: f) }
            pointShift = e
        }

        // Walk digits from the most significant: keep 17, look at the 18th, OR the rest.
        let topDigits = digits(UInt64(limbs[count - 1]))
        let totalDigits = (count - 1) * 9 + topDigits
        var head: UInt64 = 0
        var taken = 0
        var next: UInt64 = 0
        var sticky = false
        var limb = count - 1
        var width = topDigits
        while limb >= 0 && taken < 18 {
            var value = UInt64(limbs[limb])
            var divisor: UInt64 = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 && taken < 18 {
                let d = value / divisor
                value %= divisor
                divisor /= 10
                if taken < 17 { head = head * 10 + d } else { next = d }
                taken += 1
            }
            if value != 0 { sticky = true }  // digits of this limb past the 18th
            limb -= 1
            width = 9
        }
        while limb >= 0 && !sticky {
            if limbs[limb] != 0 { sticky = true }
            limb -= 1
        }
        // Fewer than 17 digits: pad so the significand always has 17.
        while taken < 17 { head *= 10; taken += 1 }

        var exponent10 = totalDigits - 1 + pointShift
        if next > 5 || (next == 5 && (sticky || head & 1 == 1)) {
            head += 1
            if head == 100_000_000_000_000_000 {
                head = 10_000_000_000_000_000
                exponent10 += 1
            }
        }
        return (head, exponent10)
    }
}

/// Lays out 17 significant digits the way "%.17g" does, trailing zeros removed.
private func appendG17(significand: UInt64, exponent10 x: Int, into out: inout [UInt8]) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 17) { d in
        var s = significand
        for i in stride(from: 16, through: 0, by: -1) {
            d[i] = UInt8(truncatingIfNeeded: s % 10) &+ UInt8(ascii: "0")
            s /= 10
        }
        var k = 17  // significant digits after dropping trailing zeros
        while k > 1 && d[k - 1] == UInt8(ascii: "0") { k -= 1 }

        if x < -4 || x >= 17 {
            out.append(d[0])
            if k > 1 {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: d[1..<k])
            }
            out.append(UInt8(ascii: "e"))
            out.append(x < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            let ax = x.magnitude
            if ax < 10 { out.append(UInt8(ascii: "0")) }
            appendDecimal(UInt64(ax), into: &out)
        } else if x >= 0 {
            out.append(contentsOf: d[0...x])
            if k > x + 1 {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: d[(x + 1)..<k])
            }
        } else {
            out.append(UInt8(ascii: "0"))
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -x - 1))
            out.append(contentsOf: d[0..<k])
        }
    }
}
