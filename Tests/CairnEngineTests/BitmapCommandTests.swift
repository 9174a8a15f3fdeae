import XCTest
@testable import CairnEngine
import CairnFormats

// Bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO), driven
// through `Engine.execute` and compared byte for byte with the RESP a client would read.
//
// Every expected reply was produced by Redis 7.0.15 on loopback: each test's commands ran on a
// fresh FLUSHALL'd server (proto-max-bulk-len set as the test sets it, HELLO 3 for RESP3
// tests). Expected propagation is the AOF that server wrote for the same commands
// (appendonly yes); Cairn's replication log carries the same records.
//
// Strings here are Latin-1: each character U+0000…U+00FF is one byte, so "\u{ff}" is 0xFF.

final class BitmapCommandTests: XCTestCase {
    func testSetbitReturnsThePreviousBitAndGrowsTheStringWithZeroBytes() {
        let t = ByteExactHarness()
        t.expect(["SETBIT", "k", "7", "1"], ":0\r\n")
        t.expect(["SETBIT", "k", "7", "1"], ":1\r\n")
        t.expect(["SETBIT", "k", "7", "0"], ":1\r\n")
        t.expect(["SETBIT", "k", "0", "1"], ":0\r\n")
        t.expect(["GET", "k"], "$1\r\n\u{80}\r\n")
        t.expect(["SETBIT", "k", "25", "1"], ":0\r\n")
        t.expect(["STRLEN", "k"], ":4\r\n")
        t.expect(["GET", "k"], "$4\r\n\u{80}\u{00}\u{00}@\r\n")
        t.expect(["SETBIT", "k", "100", "0"], ":0\r\n")
        t.expect(["STRLEN", "k"], ":13\r\n")
    }

    /// Offsets follow string2ll (no '+', no leading zeros) and stop at 2^32 bits.
    func testSetbitOffsetErrors() {
        let t = ByteExactHarness()
        t.expect(["SETBIT", "k", "-1", "1"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["SETBIT", "k", "4294967296", "1"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["SETBIT", "k", "1x", "1"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["SETBIT", "k", "+1", "1"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["SETBIT", "k", "01", "1"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["SETBIT", "k", "#1", "1"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["SETBIT", "k", "", "1"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["SETBIT", "k", "9223372036854775808", "1"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["EXISTS", "k"], ":0\r\n")
    }

    func testSetbitValueErrorsAreCheckedAfterTheOffset() {
        let t = ByteExactHarness()
        t.expect(["SETBIT", "k", "0", "2"], "-ERR bit is not an integer or out of range\r\n")
        t.expect(["SETBIT", "k", "0", "-1"], "-ERR bit is not an integer or out of range\r\n")
        t.expect(["SETBIT", "k", "0", "x"], "-ERR bit is not an integer or out of range\r\n")
        t.expect(["SETBIT", "k", "0", ""], "-ERR bit is not an integer or out of range\r\n")
        t.expect(["SETBIT", "k", "-1", "x"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["SETBIT", "k"], "-ERR wrong number of arguments for 'setbit' command\r\n")
        t.expect(["EXISTS", "k"], ":0\r\n")
    }

    /// "12" is 0x31 0x32; after SETBIT 6 it reads "32".
    func testSetbitOnAnIntegerValueWorksOnItsDecimalText() {
        let t = ByteExactHarness()
        t.expect(["SET", "k", "12"], "+OK\r\n")
        t.expect(["GETBIT", "k", "2"], ":1\r\n")
        t.expect(["GETBIT", "k", "7"], ":1\r\n")
        t.expect(["SETBIT", "k", "6", "1"], ":0\r\n")
        t.expect(["GET", "k"], "$2\r\n32\r\n")
        t.expect(["SET", "n", "-5"], "+OK\r\n")
        t.expect(["SETBIT", "n", "20", "1"], ":0\r\n")
        t.expect(["GET", "n"], "$3\r\n-5\u{08}\r\n")
    }

    func testSetbitKeepsTheTTL() {
        let t = ByteExactHarness()
        t.expect(["SET", "k", "a", "EX", "100"], "+OK\r\n")
        t.expect(["SETBIT", "k", "1", "1"], ":1\r\n")
        t.expect(["TTL", "k"], ":100\r\n")
        t.expect(["GET", "k"], "$1\r\na\r\n")
    }

    func testGetbitReadsZeroPastTheEndAndOnMissingKeys() {
        let t = ByteExactHarness()
        t.expect(["GETBIT", "missing", "0"], ":0\r\n")
        t.expect(["GETBIT", "missing", "4294967295"], ":0\r\n")
        t.expect(["SET", "k", "A"], "+OK\r\n")
        t.expect(["GETBIT", "k", "0"], ":0\r\n")
        t.expect(["GETBIT", "k", "1"], ":1\r\n")
        t.expect(["GETBIT", "k", "7"], ":1\r\n")
        t.expect(["GETBIT", "k", "8"], ":0\r\n")
        t.expect(["GETBIT", "k", "4294967295"], ":0\r\n")
        t.expect(["GETBIT", "k", "4294967296"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["GETBIT", "k", "-1"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["GETBIT", "missing", "x"], "-ERR bit offset is not an integer or out of range\r\n")
    }

    func testBitcountWholeStringAndByteRanges() {
        let t = ByteExactHarness()
        t.expect(["SET", "k", "foobar"], "+OK\r\n")
        t.expect(["BITCOUNT", "k"], ":26\r\n")
        t.expect(["BITCOUNT", "k", "0", "0"], ":4\r\n")
        t.expect(["BITCOUNT", "k", "1", "1"], ":6\r\n")
        t.expect(["BITCOUNT", "k", "1", "-2"], ":18\r\n")
        t.expect(["BITCOUNT", "k", "-2", "-1"], ":7\r\n")
        t.expect(["BITCOUNT", "k", "-100", "100"], ":26\r\n")
        t.expect(["BITCOUNT", "k", "4", "2"], ":0\r\n")
        t.expect(["BITCOUNT", "k", "6", "10"], ":0\r\n")
        t.expect(["BITCOUNT", "k", "0", "-1", "BYTE"], ":26\r\n")
        t.expect(["BITCOUNT", "k", "-9223372036854775808", "9223372036854775807"], ":26\r\n")
    }

    /// BIT ranges count only the bits inside the range, also within a single byte.
    func testBitcountBitRanges() {
        let t = ByteExactHarness()
        t.expect(["SET", "k", "foobar"], "+OK\r\n")
        t.expect(["BITCOUNT", "k", "5", "30", "BIT"], ":17\r\n")
        t.expect(["BITCOUNT", "k", "1", "1", "bit"], ":1\r\n")
        t.expect(["BITCOUNT", "k", "0", "0", "BIT"], ":0\r\n")
        t.expect(["BITCOUNT", "k", "-1", "-1", "BIT"], ":0\r\n")
        t.expect(["BITCOUNT", "k", "-9", "-2", "BIT"], ":5\r\n")
        t.expect(["BITCOUNT", "k", "9", "14", "BIT"], ":5\r\n")
        t.expect(["BITCOUNT", "k", "0", "47", "BIT"], ":26\r\n")
        t.expect(["BITCOUNT", "k", "0", "1000", "BIT"], ":26\r\n")
        t.expect(["BITCOUNT", "k", "47", "40", "BIT"], ":0\r\n")
    }

    /// Redis 7.0 looks the key up first: a missing key answers 0 whatever the arguments;
    /// an empty negative range answers 0 before BYTE|BIT is parsed.
    func testBitcountEdgeCasesAndErrors() {
        let t = ByteExactHarness()
        t.expect(["BITCOUNT", "missing"], ":0\r\n")
        t.expect(["BITCOUNT", "missing", "a", "b"], ":0\r\n")
        t.expect(["BITCOUNT", "missing", "0"], ":0\r\n")
        t.expect(["SET", "e", ""], "+OK\r\n")
        t.expect(["BITCOUNT", "e"], ":0\r\n")
        t.expect(["BITCOUNT", "e", "0", "-1", "BIT"], ":0\r\n")
        t.expect(["SET", "k", "foobar"], "+OK\r\n")
        t.expect(["BITCOUNT", "k", "0"], "-ERR syntax error\r\n")
        t.expect(["BITCOUNT", "k", "a", "1"], "-ERR value is not an integer or out of range\r\n")
        t.expect(["BITCOUNT", "k", "0", "b"], "-ERR value is not an integer or out of range\r\n")
        t.expect(["BITCOUNT", "k", "0", "1", "bits"], "-ERR syntax error\r\n")
        t.expect(["BITCOUNT", "k", "-1", "-5", "bits"], ":0\r\n")
        t.expect(["BITCOUNT", "k", "0", "1", "BIT", "x"], "-ERR syntax error\r\n")
        t.expect(["SET", "n", "12345"], "+OK\r\n")
        t.expect(["BITCOUNT", "n"], ":17\r\n")
    }

    /// Looking for 0 without an explicit end treats the string as zero-padded on the right.
    func testBitposFindsSetAndClearBits() {
        let t = ByteExactHarness()
        t.expect(["SET", "k", "\u{ff}\u{f0}\u{00}"], "+OK\r\n")
        t.expect(["BITPOS", "k", "0"], ":12\r\n")
        t.expect(["BITPOS", "k", "1"], ":0\r\n")
        t.expect(["BITPOS", "k", "1", "1"], ":8\r\n")
        t.expect(["BITPOS", "k", "1", "2"], ":-1\r\n")
        t.expect(["BITPOS", "k", "0", "0", "0"], ":-1\r\n")
        t.expect(["BITPOS", "k", "1", "2", "-1", "BYTE"], ":-1\r\n")
        t.expect(["SET", "f", "\u{ff}\u{ff}\u{ff}"], "+OK\r\n")
        t.expect(["BITPOS", "f", "0"], ":24\r\n")
        t.expect(["BITPOS", "f", "0", "1"], ":24\r\n")
        t.expect(["BITPOS", "f", "0", "0", "-1"], ":-1\r\n")
        t.expect(["BITPOS", "f", "0", "-1"], ":24\r\n")
        t.expect(["BITPOS", "f", "1", "3"], ":-1\r\n")
    }

    func testBitposBitRanges() {
        let t = ByteExactHarness()
        t.expect(["SET", "k", "\u{00}\u{ff}\u{00}"], "+OK\r\n")
        t.expect(["BITPOS", "k", "1", "7", "15", "BIT"], ":8\r\n")
        t.expect(["BITPOS", "k", "1", "9", "15", "BIT"], ":9\r\n")
        t.expect(["BITPOS", "k", "0", "8", "15", "BIT"], ":-1\r\n")
        t.expect(["BITPOS", "k", "0", "8", "16", "BIT"], ":16\r\n")
        t.expect(["BITPOS", "k", "0", "3", "5", "bit"], ":3\r\n")
        t.expect(["BITPOS", "k", "1", "-16", "-1", "BIT"], ":8\r\n")
        t.expect(["BITPOS", "k", "1", "17", "23", "BIT"], ":-1\r\n")
        t.expect(["BITPOS", "k", "1", "15", "9", "BIT"], ":-1\r\n")
        t.expect(["BITPOS", "k", "0", "24", "100", "BIT"], ":-1\r\n")
    }

    /// The bit is checked before the key; a missing key is an endless run of zeros; BYTE|BIT is
    /// parsed before the end argument.
    func testBitposMissingKeysEmptyStringsAndErrors() {
        let t = ByteExactHarness()
        t.expect(["BITPOS", "missing", "0"], ":0\r\n")
        t.expect(["BITPOS", "missing", "1"], ":-1\r\n")
        t.expect(["BITPOS", "missing", "1", "x"], ":-1\r\n")
        t.expect(["BITPOS", "missing", "2"], "-ERR The bit argument must be 1 or 0.\r\n")
        t.expect(["BITPOS", "missing", "x"], "-ERR value is not an integer or out of range\r\n")
        t.expect(["SET", "e", ""], "+OK\r\n")
        t.expect(["BITPOS", "e", "0"], ":-1\r\n")
        t.expect(["BITPOS", "e", "1"], ":-1\r\n")
        t.expect(["SET", "k", "a"], "+OK\r\n")
        t.expect(["BITPOS", "k", "1", "x"], "-ERR value is not an integer or out of range\r\n")
        t.expect(["BITPOS", "k", "1", "0", "x"], "-ERR value is not an integer or out of range\r\n")
        t.expect(["BITPOS", "k", "1", "0", "x", "BITS"], "-ERR syntax error\r\n")
        t.expect(["BITPOS", "k", "1", "0", "1", "BIT", "x"], "-ERR syntax error\r\n")
        t.expect(["BITPOS", "k", "-1"], "-ERR The bit argument must be 1 or 0.\r\n")
    }

    func testBitopAndOrXorPadShorterSourcesWithZeros() {
        let t = ByteExactHarness()
        t.expect(["SET", "a", "abc"], "+OK\r\n")
        t.expect(["SET", "b", "\u{0f}\u{f0}"], "+OK\r\n")
        t.expect(["BITOP", "AND", "d", "a", "b"], ":3\r\n")
        t.expect(["GET", "d"], "$3\r\n\u{01}`\u{00}\r\n")
        t.expect(["BITOP", "or", "d", "a", "b"], ":3\r\n")
        t.expect(["GET", "d"], "$3\r\no\u{f2}c\r\n")
        t.expect(["BITOP", "XOR", "d", "a", "b", "missing"], ":3\r\n")
        t.expect(["GET", "d"], "$3\r\nn\u{92}c\r\n")
        t.expect(["BITOP", "AND", "d", "a", "missing"], ":3\r\n")
        t.expect(["GET", "d"], "$3\r\n\u{00}\u{00}\u{00}\r\n")
        t.expect(["BITOP", "OR", "d", "d"], ":3\r\n")
        t.expect(["GET", "d"], "$3\r\n\u{00}\u{00}\u{00}\r\n")
    }

    func testBitopNot() {
        let t = ByteExactHarness()
        t.expect(["SET", "a", "\u{0f}\u{ff}"], "+OK\r\n")
        t.expect(["BITOP", "NOT", "d", "a"], ":2\r\n")
        t.expect(["GET", "d"], "$2\r\n\u{f0}\u{00}\r\n")
        t.expect(["SET", "n", "10"], "+OK\r\n")
        t.expect(["BITOP", "NOT", "d", "n"], ":2\r\n")
        t.expect(["GET", "d"], "$2\r\n\u{ce}\u{cf}\r\n")
        t.expect(["BITOP", "NOT", "d", "a", "n"], "-ERR BITOP NOT must be called with a single source key.\r\n")
        t.expect(["BITOP", "NOT", "d"], "-ERR wrong number of arguments for 'bitop' command\r\n")
    }

    func testBitopWithEmptyResultDeletesTheTarget() {
        let t = ByteExactHarness()
        t.expect(["SET", "d", "x", "EX", "100"], "+OK\r\n")
        t.expect(["BITOP", "AND", "d", "missing1", "missing2"], ":0\r\n")
        t.expect(["EXISTS", "d"], ":0\r\n")
        t.expect(["BITOP", "OR", "d", "missing1"], ":0\r\n")
        t.expect(["SET", "e", ""], "+OK\r\n")
        t.expect(["BITOP", "XOR", "d", "e"], ":0\r\n")
    }

    func testBitopOverwritesTheTargetAndClearsItsTTL() {
        let t = ByteExactHarness()
        t.expect(["SET", "d", "old", "EX", "100"], "+OK\r\n")
        t.expect(["SET", "a", "new"], "+OK\r\n")
        t.expect(["BITOP", "OR", "d", "a"], ":3\r\n")
        t.expect(["TTL", "d"], ":-1\r\n")
        t.expect(["GET", "d"], "$3\r\nnew\r\n")
        t.expect(["BITOP", "NAND", "d", "a"], "-ERR syntax error\r\n")
        t.expect(["BITOP", "AND"], "-ERR wrong number of arguments for 'bitop' command\r\n")
    }

    func testBitfieldSignedAndUnsignedGetSetIncrby() {
        let t = ByteExactHarness()
        t.expect(["BITFIELD", "k", "SET", "i8", "0", "-100", "GET", "i8", "0", "GET", "u8", "0", "INCRBY", "i8", "0", "10"], "*4\r\n:0\r\n:-100\r\n:156\r\n:-90\r\n")
        t.expect(["BITFIELD", "k", "SET", "u4", "4", "15", "GET", "u8", "0", "GET", "i4", "4", "INCRBY", "u2", "1", "1"], "*4\r\n:6\r\n:175\r\n:-1\r\n:2\r\n")
        t.expect(["GET", "k"], "$1\r\n\u{cf}\r\n")
        t.expect(["BITFIELD", "k", "GET", "u1", "0", "GET", "i1", "0", "GET", "u16", "4", "GET", "i16", "100"], "*4\r\n:1\r\n:-1\r\n:61440\r\n:0\r\n")
        t.expect(["BITFIELD", "k", "set", "i5", "13", "-3", "incrby", "u3", "20", "-1", "get", "i5", "13"], "*3\r\n:0\r\n:7\r\n:-3\r\n")
    }

    /// `#N` is N times the width, computed with two's-complement wrap as Redis's C does:
    /// #288230376151711745 × 64 wraps to bit 64; 2^57 × 64 wraps negative and is refused.
    func testBitfieldHashOffsetsAreMultipliedByTheWidth() {
        let t = ByteExactHarness()
        t.expect(["BITFIELD", "k", "SET", "u8", "#1", "255", "SET", "u8", "#3", "1", "GET", "u8", "8", "GET", "u16", "#1"], "*4\r\n:0\r\n:0\r\n:255\r\n:1\r\n")
        t.expect(["STRLEN", "k"], ":4\r\n")
        t.expect(["BITFIELD", "k", "GET", "i64", "#288230376151711745"], "*1\r\n:0\r\n")
        t.expect(["BITFIELD", "k", "GET", "i64", "#144115188075855872"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["BITFIELD", "k", "GET", "u8", "#-1"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["BITFIELD", "k", "GET", "u8", "#"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["BITFIELD", "k", "GET", "u8", "#536870912"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["BITFIELD", "k", "GET", "u8", "#536870911"], "*1\r\n:0\r\n")
    }

    /// WRAP is the default: values wrap modulo 2^width (i64 and u63 included).
    func testBitfieldOverflowWrap() {
        let t = ByteExactHarness()
        t.expect(["BITFIELD", "k", "SET", "u8", "0", "255", "INCRBY", "u8", "0", "1", "INCRBY", "u8", "0", "-1"], "*3\r\n:0\r\n:0\r\n:255\r\n")
        t.expect(["BITFIELD", "k", "SET", "i8", "0", "127", "INCRBY", "i8", "0", "1", "INCRBY", "i8", "0", "-1"], "*3\r\n:-1\r\n:-128\r\n:127\r\n")
        t.expect(["BITFIELD", "k", "SET", "u8", "0", "256", "SET", "u8", "0", "-1", "SET", "i8", "0", "200", "GET", "i8", "0"], "*4\r\n:127\r\n:0\r\n:-1\r\n:-56\r\n")
        t.expect(["BITFIELD", "k", "SET", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "1", "INCRBY", "i64", "0", "-1"], "*3\r\n:-4035225266123964416\r\n:-9223372036854775808\r\n:9223372036854775807\r\n")
        t.expect(["BITFIELD", "k", "SET", "u63", "0", "9223372036854775807", "INCRBY", "u63", "0", "1", "GET", "u63", "0"], "*3\r\n:4611686018427387903\r\n:0\r\n:0\r\n")
        t.expect(["BITFIELD", "k", "SET", "u63", "0", "-1", "GET", "u63", "0", "GET", "i64", "0"], "*3\r\n:0\r\n:9223372036854775807\r\n:-1\r\n")
    }

    /// SAT clamps to the type's limits.
    func testBitfieldOverflowSat() {
        let t = ByteExactHarness()
        t.expect(["BITFIELD", "k", "OVERFLOW", "SAT", "SET", "u8", "0", "300", "INCRBY", "u8", "0", "10", "INCRBY", "u8", "0", "-1000"], "*3\r\n:0\r\n:255\r\n:0\r\n")
        t.expect(["BITFIELD", "k", "OVERFLOW", "sat", "SET", "i8", "0", "-300", "INCRBY", "i8", "0", "-1", "INCRBY", "i8", "0", "1000"], "*3\r\n:0\r\n:-128\r\n:127\r\n")
        t.expect(["BITFIELD", "k", "OVERFLOW", "SAT", "SET", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "1", "INCRBY", "i64", "0", "-9223372036854775808", "INCRBY", "i64", "0", "-9223372036854775808", "INCRBY", "i64", "0", "-9223372036854775808"], "*5\r\n:9151314442816847872\r\n:9223372036854775807\r\n:-1\r\n:-9223372036854775808\r\n:-9223372036854775808\r\n")
        t.expect(["BITFIELD", "k", "OVERFLOW", "SAT", "SET", "u63", "0", "-1", "INCRBY", "u63", "0", "-9223372036854775808"], "*2\r\n:4611686018427387904\r\n:0\r\n")
    }

    /// Redis's overflow test computes max - value with unsigned wrap, so an i8 SET within 127
    /// of Int64.min counts as overflowing upwards and SAT stores 127; mirrored byte for byte.
    func testBitfieldSatSetNearInt64MinSaturatesUpwardsLikeRedis() {
        let t = ByteExactHarness()
        t.expect(["BITFIELD", "k", "OVERFLOW", "SAT", "SET", "i8", "0", "-9223372036854775808", "GET", "i8", "0"], "*2\r\n:0\r\n:127\r\n")
        t.expect(["BITFIELD", "k", "OVERFLOW", "SAT", "SET", "i8", "0", "-9223372036854775681", "GET", "i8", "0"], "*2\r\n:127\r\n:127\r\n")
        t.expect(["BITFIELD", "k", "OVERFLOW", "SAT", "SET", "i8", "0", "-9223372036854775680", "GET", "i8", "0"], "*2\r\n:127\r\n:-128\r\n")
        t.expect(["BITFIELD", "k", "OVERFLOW", "SAT", "SET", "u8", "0", "-9223372036854775808", "GET", "u8", "0"], "*2\r\n:128\r\n:255\r\n")
    }

    /// A BITFIELD whose writes all fail still leaves the (zeroed) key behind, as Redis does.
    func testBitfieldOverflowFailRepliesNullAndWritesNothing() {
        let t = ByteExactHarness()
        t.expect(["BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u2", "0", "3", "INCRBY", "u2", "0", "1", "GET", "u2", "0", "SET", "u2", "0", "4", "INCRBY", "u2", "0", "-4", "INCRBY", "u2", "0", "-3"], "*6\r\n:0\r\n$-1\r\n:3\r\n$-1\r\n$-1\r\n:0\r\n")
        t.expect(["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "i8", "8", "-129", "OVERFLOW", "WRAP", "INCRBY", "i8", "8", "-129"], "*2\r\n$-1\r\n:127\r\n")
        t.expect(["BITFIELD", "new", "OVERFLOW", "FAIL", "SET", "u2", "0", "7"], "*1\r\n$-1\r\n")
        t.expect(["GET", "new"], "$1\r\n\u{00}\r\n")
    }

    func testBitfieldOverflowAppliesToTheFollowingOperationsOnly() {
        let t = ByteExactHarness()
        t.expect(["BITFIELD", "k", "SET", "u4", "0", "15", "INCRBY", "u4", "0", "1", "OVERFLOW", "SAT", "INCRBY", "u4", "0", "100", "OVERFLOW", "FAIL", "INCRBY", "u4", "0", "100", "OVERFLOW", "WRAP", "INCRBY", "u4", "0", "3"], "*5\r\n:0\r\n:0\r\n:15\r\n$-1\r\n:2\r\n")
    }

    /// Widths are i1..i64 and u1..u63 with a lowercase prefix; like Redis's C-string parse, the
    /// width stops at a NUL byte.
    func testBitfieldTypeErrors() {
        let t = ByteExactHarness()
        t.expect(["BITFIELD", "k", "GET", "u64", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n")
        t.expect(["BITFIELD", "k", "GET", "i65", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n")
        t.expect(["BITFIELD", "k", "GET", "i0", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n")
        t.expect(["BITFIELD", "k", "GET", "I8", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n")
        t.expect(["BITFIELD", "k", "GET", "x8", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n")
        t.expect(["BITFIELD", "k", "GET", "i08", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n")
        t.expect(["BITFIELD", "k", "GET", "i", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n")
        t.expect(["BITFIELD", "k", "GET", "", "0"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n")
        t.expect(["BITFIELD", "k", "GET", "i8\u{00}junk", "0"], "*1\r\n:0\r\n")
        t.expect(["BITFIELD", "k", "GET", "u63", "0", "GET", "i64", "0"], "*2\r\n:0\r\n:0\r\n")
    }

    func testBitfieldSyntaxErrorsRunNothing() {
        let t = ByteExactHarness()
        t.expect(["BITFIELD", "k"], "*0\r\n")
        t.expect(["BITFIELD", "k", "OVERFLOW", "SAT"], "*0\r\n")
        t.expect(["BITFIELD", "k", "GET", "i8"], "-ERR syntax error\r\n")
        t.expect(["BITFIELD", "k", "SET", "i8", "0"], "-ERR syntax error\r\n")
        t.expect(["BITFIELD", "k", "SET", "i8", "0", "1", "FOO"], "-ERR syntax error\r\n")
        t.expect(["BITFIELD", "k", "OVERFLOW"], "-ERR syntax error\r\n")
        t.expect(["BITFIELD", "k", "OVERFLOW", "BAD", "GET", "i8", "0"], "-ERR Invalid OVERFLOW type specified\r\n")
        t.expect(["BITFIELD", "k", "SET", "i8", "0", "1", "SET", "i8", "8", "x"], "-ERR value is not an integer or out of range\r\n")
        t.expect(["BITFIELD", "k", "SET", "i8", "-1", "1"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["BITFIELD", "k", "INCRBY", "i8", "0", "1.5"], "-ERR value is not an integer or out of range\r\n")
        t.expect(["EXISTS", "k"], ":0\r\n")
        t.expect(["BITFIELD"], "-ERR wrong number of arguments for 'bitfield' command\r\n")
    }

    /// With proto-max-bulk-len 1mb the last field may start at bit 2^23 - 1 and end 7 bytes past
    /// the limit: only its first bit is checked.
    func testBitfieldWritesAtTheOffsetLimit() {
        let t = ByteExactHarness(protoMaxBulkLen: 1048576)
        t.expect(["BITFIELD", "k", "SET", "i64", "8388607", "-1"], "*1\r\n:0\r\n")
        t.expect(["STRLEN", "k"], ":1048584\r\n")
        t.expect(["BITFIELD", "k", "GET", "u8", "8388600", "GET", "i64", "8388607", "GET", "u8", "8388608"], "-ERR bit offset is not an integer or out of range\r\n")
    }

    /// Everything is parsed before BITFIELD_RO refuses a write.
    func testBitfieldRO() {
        let t = ByteExactHarness()
        t.expect(["BITFIELD", "k", "SET", "u8", "0", "200"], "*1\r\n:0\r\n")
        t.expect(["BITFIELD_RO", "k", "GET", "u8", "0", "GET", "i8", "0"], "*2\r\n:200\r\n:-56\r\n")
        t.expect(["BITFIELD_RO", "k", "OVERFLOW", "SAT", "GET", "u4", "0"], "*1\r\n:12\r\n")
        t.expect(["BITFIELD_RO", "k", "SET", "u8", "0", "1"], "-ERR BITFIELD_RO only supports the GET subcommand\r\n")
        t.expect(["BITFIELD_RO", "k", "INCRBY", "u8", "0", "1"], "-ERR BITFIELD_RO only supports the GET subcommand\r\n")
        t.expect(["BITFIELD_RO", "k", "SET", "u88", "0", "1"], "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n")
        t.expect(["BITFIELD_RO", "k", "GET", "u8", "0", "SET", "u8", "0", "x"], "-ERR value is not an integer or out of range\r\n")
        t.expect(["BITFIELD_RO", "missing", "GET", "u8", "0"], "*1\r\n:0\r\n")
        t.expect(["EXISTS", "missing"], ":0\r\n")
        t.expect(["BITFIELD_RO", "k"], "*0\r\n")
        t.expect(["GET", "k"], "$1\r\n\u{c8}\r\n")
    }

    func testBitfieldOnAnIntegerValueAndInResp3() {
        let t = ByteExactHarness(resp3: true)
        t.expect(["SET", "k", "12"], "+OK\r\n")
        t.expect(["BITFIELD", "k", "GET", "u16", "0", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1000", "INCRBY", "u8", "0", "1"], "*3\r\n:12594\r\n_\r\n:50\r\n")
        t.expect(["GET", "k"], "$2\r\n22\r\n")
    }

    func testBitfieldKeepsTheTTL() {
        let t = ByteExactHarness()
        t.expect(["SET", "k", "a", "EX", "100"], "+OK\r\n")
        t.expect(["BITFIELD", "k", "SET", "u8", "8", "66"], "*1\r\n:0\r\n")
        t.expect(["TTL", "k"], ":100\r\n")
        t.expect(["GET", "k"], "$2\r\naB\r\n")
    }

    /// SETBIT of an unchanged bit, BITFIELD without an effective write and BITOP of nothing onto
    /// a missing target are not changes; growing the string is. The rest propagates verbatim.
    func testWritesThatChangeNothingAreNotPropagated() {
        let t = ByteExactHarness()
        t.expect(["SETBIT", "k", "7", "1"], ":0\r\n")
        t.expect(["SETBIT", "k", "7", "1"], ":1\r\n")
        t.expect(["SETBIT", "k", "6", "0"], ":0\r\n")
        t.expect(["SETBIT", "k", "9", "0"], ":0\r\n")
        t.expect(["BITFIELD", "k", "GET", "u8", "0"], "*1\r\n:1\r\n")
        t.expect(["BITFIELD", "k", "SET", "u8", "0", "1", "INCRBY", "u4", "0", "0"], "*2\r\n:1\r\n:0\r\n")
        t.expect(["BITFIELD", "k", "SET", "u8", "0", "2", "GET", "u8", "0"], "*2\r\n:1\r\n:2\r\n")
        t.expect(["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300"], "*1\r\n$-1\r\n")
        t.expect(["BITFIELD", "new", "OVERFLOW", "FAIL", "SET", "u2", "0", "7"], "*1\r\n$-1\r\n")
        t.expect(["BITFIELD_RO", "k", "GET", "u8", "0"], "*1\r\n:2\r\n")
        t.expect(["BITOP", "AND", "gone", "missing"], ":0\r\n")
        t.expect(["BITOP", "OR", "d", "k"], ":2\r\n")
        t.expect(["BITOP", "OR", "d", "missing"], ":0\r\n")
        t.expectPropagated(
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
            + "*4\r\n$6\r\nSETBIT\r\n$1\r\nk\r\n$1\r\n7\r\n$1\r\n1\r\n"
            + "*4\r\n$6\r\nSETBIT\r\n$1\r\nk\r\n$1\r\n9\r\n$1\r\n0\r\n"
            + "*9\r\n$8\r\nBITFIELD\r\n$1\r\nk\r\n$3\r\nSET\r\n$2\r\nu8\r\n$1\r\n0\r\n$1\r\n2\r\n$3\r\nGET\r\n$2\r\nu8\r\n$1\r\n0\r\n"
            + "*4\r\n$5\r\nBITOP\r\n$2\r\nOR\r\n$1\r\nd\r\n$1\r\nk\r\n"
            + "*4\r\n$5\r\nBITOP\r\n$2\r\nOR\r\n$1\r\nd\r\n$7\r\nmissing\r\n")
    }

    /// proto-max-bulk-len 1mb: the last bit is 2^23 - 1.
    func testBitOffsetsAreLimitedByProtoMaxBulkLen() {
        let t = ByteExactHarness(protoMaxBulkLen: 1048576)
        t.expect(["SETBIT", "k", "8388608", "1"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["SETBIT", "k", "8388607", "1"], ":0\r\n")
        t.expect(["STRLEN", "k"], ":1048576\r\n")
        t.expect(["GETBIT", "k", "8388608"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["BITFIELD", "k", "GET", "u8", "#1048576"], "-ERR bit offset is not an integer or out of range\r\n")
        t.expect(["BITFIELD", "k", "GET", "u8", "#1048575"], "*1\r\n:1\r\n")
    }

    /// A second client's SETBIT/BITFIELD that changes nothing leaves the transaction alone.
    func testOnlyRealChangesTouchWatchedKeys() {
        let t = ByteExactHarness()
        t.expect(["SETBIT", "k", "0", "1"], ":0\r\n")
        t.expect(["WATCH", "k", "new"], "+OK\r\n")
        t.expect(client: 1, ["SETBIT", "k", "0", "1"], ":1\r\n")
        t.expect(client: 1, ["BITFIELD", "k", "SET", "u1", "0", "1"], "*1\r\n:1\r\n")
        t.expect(client: 1, ["BITFIELD", "new", "OVERFLOW", "FAIL", "INCRBY", "u1", "0", "2"], "*1\r\n$-1\r\n")
        t.expect(["MULTI"], "+OK\r\n")
        t.expect(["GET", "k"], "+QUEUED\r\n")
        t.expect(["EXEC"], "*1\r\n$1\r\n\u{80}\r\n")
        t.expect(["WATCH", "k"], "+OK\r\n")
        t.expect(client: 1, ["SETBIT", "k", "0", "0"], ":1\r\n")
        t.expect(["MULTI"], "+OK\r\n")
        t.expect(["GET", "k"], "+QUEUED\r\n")
        t.expect(["EXEC"], "*-1\r\n")
    }
}
