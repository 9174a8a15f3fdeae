import XCTest
@testable import CairnEngine
import CairnFormats

// LCS (longest common subsequence), driven
// through `Engine.execute` and compared byte for byte with the RESP a client would read.
//
// Every expected reply was produced by Redis 7.0.15 on loopback: each test's commands ran on a
// fresh FLUSHALL'd server (proto-max-bulk-len set as the test sets it, HELLO 3 for RESP3
// tests). Expected propagation is the AOF that server wrote for the same commands
// (appendonly yes); Cairn's replication log carries the same records.
//
// Strings here are Latin-1: each character U+0000…U+00FF is one byte, so "\u{ff}" is 0xFF.

final class LCSCommandTests: XCTestCase {
    func testLcsReturnsTheSubsequence() {
        let t = ByteExactHarness()
        t.expect(["SET", "a", "ohmytext"], "+OK\r\n")
        t.expect(["SET", "b", "mynewtext"], "+OK\r\n")
        t.expect(["LCS", "a", "b"], "$6\r\nmytext\r\n")
        t.expect(["LCS", "b", "a"], "$6\r\nmytext\r\n")
        t.expect(["LCS", "a", "a"], "$8\r\nohmytext\r\n")
        t.expect(["LCS", "a", "missing"], "$0\r\n\r\n")
        t.expect(["LCS", "missing", "missing2"], "$0\r\n\r\n")
    }

    func testLcsLen() {
        let t = ByteExactHarness()
        t.expect(["SET", "a", "ohmytext"], "+OK\r\n")
        t.expect(["SET", "b", "mynewtext"], "+OK\r\n")
        t.expect(["LCS", "a", "b", "LEN"], ":6\r\n")
        t.expect(["LCS", "a", "b", "len", "WITHMATCHLEN"], ":6\r\n")
        t.expect(["LCS", "a", "missing", "LEN"], ":0\r\n")
    }

    func testLcsIdxListsMatchesFromTheEnd() {
        let t = ByteExactHarness()
        t.expect(["SET", "a", "ohmytext"], "+OK\r\n")
        t.expect(["SET", "b", "mynewtext"], "+OK\r\n")
        t.expect(["LCS", "a", "b", "IDX"], "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n")
        t.expect(["LCS", "a", "b", "IDX", "WITHMATCHLEN"], "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n")
        t.expect(["LCS", "b", "a", "idx", "withmatchlen"], "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:5\r\n:8\r\n*2\r\n:4\r\n:7\r\n:4\r\n*3\r\n*2\r\n:0\r\n:1\r\n*2\r\n:2\r\n:3\r\n:2\r\n$3\r\nlen\r\n:6\r\n")
    }

    /// MINMATCHLEN only filters the IDX list; negative counts as 0; the last one wins.
    func testLcsMinMatchLenFiltersShortRuns() {
        let t = ByteExactHarness()
        t.expect(["SET", "a", "ohmytext"], "+OK\r\n")
        t.expect(["SET", "b", "mynewtext"], "+OK\r\n")
        t.expect(["LCS", "a", "b", "IDX", "MINMATCHLEN", "4"], "*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n")
        t.expect(["LCS", "a", "b", "IDX", "MINMATCHLEN", "5", "WITHMATCHLEN"], "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:6\r\n")
        t.expect(["LCS", "a", "b", "IDX", "MINMATCHLEN", "-7", "WITHMATCHLEN"], "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n")
        t.expect(["LCS", "a", "b", "MINMATCHLEN", "4"], "$6\r\nmytext\r\n")
        t.expect(["LCS", "a", "b", "IDX", "MINMATCHLEN", "2", "MINMATCHLEN", "0"], "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n")
    }

    func testLcsTracebackPrefersTheSecondStringOnTies() {
        let t = ByteExactHarness()
        t.expect(["SET", "a", "abcbdab"], "+OK\r\n")
        t.expect(["SET", "b", "bdcaba"], "+OK\r\n")
        t.expect(["LCS", "a", "b"], "$4\r\nbdab\r\n")
        t.expect(["LCS", "b", "a"], "$4\r\nbcba\r\n")
        t.expect(["LCS", "a", "b", "IDX", "WITHMATCHLEN"], "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:5\r\n:6\r\n*2\r\n:3\r\n:4\r\n:2\r\n*3\r\n*2\r\n:3\r\n:4\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:4\r\n")
        t.expect(["LCS", "b", "a", "IDX", "WITHMATCHLEN"], "*4\r\n$7\r\nmatches\r\n*4\r\n*3\r\n*2\r\n:5\r\n:5\r\n*2\r\n:5\r\n:5\r\n:1\r\n*3\r\n*2\r\n:4\r\n:4\r\n*2\r\n:3\r\n:3\r\n:1\r\n*3\r\n*2\r\n:2\r\n:2\r\n*2\r\n:2\r\n:2\r\n:1\r\n*3\r\n*2\r\n:0\r\n:0\r\n*2\r\n:1\r\n:1\r\n:1\r\n$3\r\nlen\r\n:4\r\n")
        t.expect(["SET", "c", "aaaa"], "+OK\r\n")
        t.expect(["SET", "d", "aa"], "+OK\r\n")
        t.expect(["LCS", "c", "d", "IDX"], "*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:2\r\n")
        t.expect(["LCS", "d", "c", "IDX"], "*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:0\r\n:1\r\n*2\r\n:2\r\n:3\r\n$3\r\nlen\r\n:2\r\n")
    }

    func testLcsRunsReachingTheStartOfEitherString() {
        let t = ByteExactHarness()
        t.expect(["SET", "a", "xabcyabc"], "+OK\r\n")
        t.expect(["SET", "b", "abc"], "+OK\r\n")
        t.expect(["LCS", "a", "b", "IDX", "WITHMATCHLEN"], "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:5\r\n:7\r\n*2\r\n:0\r\n:2\r\n:3\r\n$3\r\nlen\r\n:3\r\n")
        t.expect(["LCS", "b", "a", "IDX", "WITHMATCHLEN"], "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:0\r\n:2\r\n*2\r\n:5\r\n:7\r\n:3\r\n$3\r\nlen\r\n:3\r\n")
        t.expect(["SET", "c", "a\u{00}b\u{ff}"], "+OK\r\n")
        t.expect(["SET", "d", "\u{ff}a\u{00}\u{ff}"], "+OK\r\n")
        t.expect(["LCS", "c", "d"], "$3\r\na\u{00}\u{ff}\r\n")
        t.expect(["LCS", "c", "d", "IDX"], "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:3\r\n:3\r\n*2\r\n:3\r\n:3\r\n*2\r\n*2\r\n:0\r\n:1\r\n*2\r\n:1\r\n:2\r\n$3\r\nlen\r\n:3\r\n")
    }

    func testLcsOnIntegerValues() {
        let t = ByteExactHarness()
        t.expect(["SET", "a", "123456"], "+OK\r\n")
        t.expect(["SET", "b", "-2460"], "+OK\r\n")
        t.expect(["LCS", "a", "b"], "$3\r\n246\r\n")
        t.expect(["LCS", "a", "b", "IDX", "WITHMATCHLEN"], "*4\r\n$7\r\nmatches\r\n*3\r\n*3\r\n*2\r\n:5\r\n:5\r\n*2\r\n:3\r\n:3\r\n:1\r\n*3\r\n*2\r\n:3\r\n:3\r\n*2\r\n:2\r\n:2\r\n:1\r\n*3\r\n*2\r\n:1\r\n:1\r\n*2\r\n:1\r\n:1\r\n:1\r\n$3\r\nlen\r\n:3\r\n")
    }

    func testLcsIdxInResp3IsAMap() {
        let t = ByteExactHarness(resp3: true)
        t.expect(["SET", "a", "ohmytext"], "+OK\r\n")
        t.expect(["SET", "b", "mynewtext"], "+OK\r\n")
        t.expect(["LCS", "a", "b", "IDX", "MINMATCHLEN", "3", "WITHMATCHLEN"], "%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n")
        t.expect(["LCS", "a", "b", "LEN"], ":6\r\n")
        t.expect(["LCS", "a", "missing", "IDX"], "%2\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n")
    }

    /// Options are checked after the key lookups and in order; LEN with IDX is refused after them.
    func testLcsErrors() {
        let t = ByteExactHarness()
        t.expect(["SET", "a", "x"], "+OK\r\n")
        t.expect(["LCS", "a", "b", "LEN", "IDX"], "-ERR If you want both the length and indexes, please just use IDX.\r\n")
        t.expect(["LCS", "a", "b", "IDX", "LEN"], "-ERR If you want both the length and indexes, please just use IDX.\r\n")
        t.expect(["LCS", "a", "b", "FOO"], "-ERR syntax error\r\n")
        t.expect(["LCS", "a", "b", "MINMATCHLEN"], "-ERR syntax error\r\n")
        t.expect(["LCS", "a", "b", "MINMATCHLEN", "x"], "-ERR value is not an integer or out of range\r\n")
        t.expect(["LCS", "a", "b", "MINMATCHLEN", "1.5", "LEN"], "-ERR value is not an integer or out of range\r\n")
        t.expect(["LCS", "a"], "-ERR wrong number of arguments for 'lcs' command\r\n")
        t.expect(["LCS", "a", "b", "IDX", "MINMATCHLEN", "9223372036854775808"], "-ERR value is not an integer or out of range\r\n")
    }

    /// The (len1 + 1) × (len2 + 1) × 4-byte table may be at most proto-max-bulk-len bytes:
    /// 512 × 512 × 4 is exactly 1mb; 512 × 513 × 4 is over.
    func testLcsTableIsLimitedByProtoMaxBulkLen() {
        let t = ByteExactHarness(protoMaxBulkLen: 1048576)
        t.expect(["SET", "a", String(repeating: "x", count: 511)], "+OK\r\n")
        t.expect(["SET", "b", String(repeating: "y", count: 511)], "+OK\r\n")
        t.expect(["SET", "c", String(repeating: "x", count: 512)], "+OK\r\n")
        t.expect(["LCS", "a", "b", "LEN"], ":0\r\n")
        t.expect(["LCS", "a", "c", "LEN"], "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n")
        t.expect(["LCS", "c", "c"], "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n")
    }
}
