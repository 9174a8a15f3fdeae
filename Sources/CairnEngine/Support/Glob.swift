// Glob matching with the exact semantics of Redis 7.0's `stringmatchlen`, the matcher behind
// KEYS, SCAN/HSCAN/SSCAN/ZSCAN MATCH, PSUBSCRIBE and CONFIG GET.
//
// Pattern language (one "token" consumes exactly one byte of the string, except `*`):
//
//   *        any run of bytes, including none
//   ?        any one byte
//   [set]    one byte in the set; `[^set]` negates. Inside a set:
//              \x     the byte x itself (exact, even when caseInsensitive)
//              a-z    a range; reversed ranges (`z-a`) are swapped first
//              ]      closes the set, unless it is the end of a range (`[a-]]`)
//   \x       the byte x itself; a trailing `\` is a literal backslash
//   other    that byte (ASCII letters folded when caseInsensitive)
//
// Redis quirks kept on purpose, because a client can observe every one of them:
//
//   * The string must be non-empty for anything but the empty pattern to match: Redis's loop never
//     runs on an empty string, so `*` does NOT match "". KEYS and SCAN only return the empty key
//     for MATCH * because they skip the matcher when the pattern is exactly "*"; callers must keep
//     that shortcut (`pattern == "*"` → match everything) to stay compatible.
//   * An unclosed `[` takes the rest of the pattern as its set (`[abc` matches one of a, b, c),
//     `[` alone matches nothing, `[^` alone matches any one byte, `[]` matches nothing and `[^]`
//     matches any one byte.
//   * Bytes are compared as C `char`, which is signed on the platforms Redis ships for: in a range
//     the bytes 0x80...0xFF sort *below* 0x00 (so `[\x00-\xff]` is the range -1...0, i.e. only
//     0xFF and 0x00). Equality is unaffected.
//   * Case folding is C-locale `tolower`: only A-Z fold. In a range the ends are swapped *before*
//     folding, so `[Z-a]` with caseInsensitive folds to z...a and matches nothing.
//   * Redis reads its NUL terminator when a set runs off the end of the pattern; that byte is
//     modelled as a virtual 0 just past the end, never read from memory.
//
// Bounds. Redis recurses once per `*` and prunes with a "skip longer matches" flag; Cairn instead
// walks the pattern once with a single backtrack point (the most recent `*`). Because every
// token other than `*` consumes exactly one byte, retrying only the latest star is complete, and
// the two agree on every input (GlobTests cross-checks against a literal port of the recursive
// definition). Work is O(pattern × string) in the worst case, with no recursion and no allocation.

/// Reports whether `string` matches the glob `pattern` exactly as Redis 7.0's `stringmatchlen`
/// does (see the file comment for the quirks, notably that `*` does not match the empty string).
public func globMatch(
    pattern: UnsafeRawBufferPointer,
    string: UnsafeRawBufferPointer,
    caseInsensitive: Bool = false
) -> Bool {
    let patternLen = pattern.count
    let stringLen = string.count
    // Redis's main loop runs only while both sides have bytes left.
    if stringLen == 0 { return patternLen == 0 }

    var p = 0  // next pattern byte
    var s = 0  // next string byte
    var starPattern = -1  // pattern index just after the most recent `*`, or -1
    var starString = 0  // string index that star's match currently ends at

    while s < stringLen {
        if p < patternLen && pattern[p] == UInt8(ascii: "*") {
            // Consecutive stars are one star.
            p += 1
            while p < patternLen && pattern[p] == UInt8(ascii: "*") { p += 1 }
            if p == patternLen { return true }  // trailing star eats the rest
            starPattern = p
            starString = s
            continue
        }
        if p < patternLen {
            let (matched, next) = globMatchToken(
                pattern: pattern, at: p, byte: string[s], caseInsensitive: caseInsensitive)
            if matched {
                p = next
                s += 1
                continue
            }
        }
        // Mismatch (or pattern exhausted with string left): let the last star eat one more byte.
        guard starPattern >= 0 else { return false }
        starString += 1
        s = starString
        p = starPattern
    }
    // String consumed: only stars may remain.
    while p < patternLen && pattern[p] == UInt8(ascii: "*") { p += 1 }
    return p == patternLen
}

/// Convenience for tests and callers holding arrays.
@inlinable
public func globMatch(pattern: [UInt8], string: [UInt8], caseInsensitive: Bool = false) -> Bool {
    pattern.withUnsafeBytes { p in
        string.withUnsafeBytes { s in
            globMatch(pattern: p, string: s, caseInsensitive: caseInsensitive)
        }
    }
}

/// Matches the single non-star token starting at `pattern[p]` against one string byte.
/// Returns whether it matched and the index of the token after it. How far the token reaches
/// never depends on the byte, which is what makes single-point backtracking sound.
@inline(__always)
private func globMatchToken(
    pattern: UnsafeRawBufferPointer, at start: Int, byte: UInt8, caseInsensitive: Bool
) -> (matched: Bool, next: Int) {
    let n = pattern.count
    var p = start
    switch pattern[p] {
    case UInt8(ascii: "?"):
        return (true, p + 1)

    case UInt8(ascii: "["):
        // `at(i)` is Redis's view of the pattern: its NUL terminator sits at index n.
        @inline(__always) func at(_ i: Int) -> UInt8 { i < n ? pattern[i] : 0 }
        p += 1
        let negate = at(p) == UInt8(ascii: "^")
        if negate { p += 1 }
        var matched = false
        while true {
            let c = at(p)
            if c == UInt8(ascii: "\\") && n - p >= 2 {
                p += 1
                if pattern[p] == byte { matched = true }
            } else if c == UInt8(ascii: "]") {
                break
            } else if p == n {
                // Unclosed set: Redis steps back onto the last pattern byte so that the
                // main loop's increment lands exactly on the end.
                p -= 1
                break
            } else if n - p >= 3 && pattern[p + 1] == UInt8(ascii: "-") {
                var lo = signedChar(c)
                var hi = signedChar(pattern[p + 2])
                var b = signedChar(byte)
                if lo > hi { swap(&lo, &hi) }
                if caseInsensitive {
                    lo = cLower(lo)
                    hi = cLower(hi)
                    b = cLower(b)
                }
                p += 2
                if b >= lo && b <= hi { matched = true }
            } else if caseInsensitive {
                if cLower(signedChar(c)) == cLower(signedChar(byte)) { matched = true }
            } else if c == byte {
                matched = true
            }
            p += 1
        }
        return (matched != negate, p + 1)

    case UInt8(ascii: "\\"):
        if n - p >= 2 { p += 1 }  // escaped byte; a trailing `\` is itself
        fallthrough

    default:
        let c = pattern[p]
        if caseInsensitive {
            return (cLower(signedChar(c)) == cLower(signedChar(byte)), p + 1)
        }
        return (c == byte, p + 1)
    }
}

/// The value C sees for this byte through a (signed) `char`.
@inline(__always)
private func signedChar(_ b: UInt8) -> Int { Int(Int8(bitPattern: b)) }

/// C-locale `tolower`: folds A-Z only.
@inline(__always)
private func cLower(_ c: Int) -> Int {
    c >= 65 && c <= 90 ? c + 32 : c
}
