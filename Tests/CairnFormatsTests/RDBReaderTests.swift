import XCTest
import Foundation
@testable import CairnFormats

/// Hand-built RDB pieces for the cases no Redis we can run writes.
struct RDBBytes {
    var bytes: [UInt8]

    init(version: Int) {
        bytes = Array(("REDIS" + String(repeating: "0", count: 4 - String(version).count) + String(version)).utf8)
    }

    mutating func raw(_ b: [UInt8]) { bytes += b }
    mutating func len(_ n: UInt64) {
        let w = RDBWriter(version: 10)
        w.length(n)
        bytes += w.takeOutput()
    }
    mutating func str(_ s: Bytes) {
        let w = RDBWriter(version: 10, compressStrings: false)
        w.string(s)
        bytes += w.takeOutput()
    }
    mutating func blob(_ b: [UInt8]) { len(UInt64(b.count)); bytes += b }
    mutating func le(_ v: UInt64, _ width: Int) { for k in 0..<width { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) } }
    /// EOF and a correct checksum.
    func finished() -> [UInt8] {
        var b = bytes + [0xFF]
        let crc = CRC64.checksum(b)
        for k in 0..<8 { b.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt64(k)))) }
        return b
    }
}

/// Hands out at most `chunk` bytes per read, to exercise buffer refills at every boundary.
final class TrickleSource: RDBByteSource {
    let bytes: [UInt8]
    let chunk: Int
    var position = 0
    init(_ bytes: [UInt8], chunk: Int) {
        self.bytes = bytes
        self.chunk = chunk
    }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(chunk, buffer.count, bytes.count - position)
        for i in 0..<n { buffer[i] = bytes[position + i] }
        position += n
        return n
    }
}

func moduleID(_ name: String, encodingVersion: UInt64) -> UInt64 {
    let charset = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    var id: UInt64 = 0
    for c in name { id = (id << 6) | UInt64(charset.firstIndex(of: c)!) }
    return (id << 10) | encodingVersion
}

func rdbError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> RDBError? {
    do {
        try body()
        XCTFail("expected an RDBError", file: file, line: line)
        return nil
    } catch let e as RDBError {
        return e
    } catch {
        XCTFail("expected an RDBError, got \(error)", file: file, line: line)
        return nil
    }
}

final class RDBReaderTests: XCTestCase {
    // MARK: streaming

    func testSmallReadsGiveTheSameEventsAsOneBuffer() throws {
        let bytes = try RDBFixtures.bytes("redis7-alltypes.rdb")
        let whole = try allEvents(bytes).map { "\($0)" }
        for chunk in [1, 7, 4096] {
            let r = RDBReader(source: TrickleSource(bytes, chunk: chunk))
            var got = [String]()
            while let e = try r.next() { got.append("\(e)") }
            XCTAssertEqual(got, whole, "chunk \(chunk)")
            XCTAssertEqual(r.offset, bytes.count)
        }
    }

    func testNextReturnsNilAfterEndAndOffsetIsTheFileSize() throws {
        let bytes = try RDBFixtures.bytes("hash-ziplist.rdb")
        let r = RDBReader(source: RDBMemorySource(bytes))
        while try r.next() != nil {}
        XCTAssertEqual(r.offset, bytes.count)
        XCTAssertNil(try r.next())
        XCTAssertNil(try r.next())
    }

    func testErrorsAreSticky() throws {
        var b = RDBBytes(version: 10)
        b.raw([0xFE, 0x00, 0x02])
        b.str("k")
        b.len(0)
        let r = RDBReader(source: RDBMemorySource(b.finished()))
        var first: RDBError?
        do { while try r.next() != nil {} } catch let e as RDBError { first = e }
        let e1 = try XCTUnwrap(first)
        XCTAssertThrowsError(try r.next()) { XCTAssertEqual(($0 as? RDBError)?.offset, e1.offset) }
    }

    func testKeyEndReportsTheValueBytes() throws {
        let w = RDBWriter(version: 10, compressStrings: false)
        w.header()
        w.string(key: "k", value: .repeating("v", 10))
        w.end()
        let events = try allEvents(w.takeOutput())
        guard case .keyEnd("k", 11) = events[events.count - 2] else { return XCTFail("\(events)") }
    }

    // MARK: header

    func testRejectsVersionsOutsideOneToTwelveAndBadMagic() {
        for v in ["0000", "0013", "0080", "00x1"] {
            let e = rdbError { _ = try readRDB(Array("REDIS\(v)".utf8) + [0xFF]) }
            XCTAssertEqual(e?.offset, 5, v)
        }
        XCTAssertEqual(rdbError { _ = try readRDB(Array("VALKEY080".utf8)) }?.reason, "not an RDB file: no \"REDIS\" magic")
        XCTAssertTrue(rdbError { _ = try readRDB(Array("REDI".utf8)) }?.reason.contains("unexpected end of file") ?? false)
    }

    // MARK: opcodes

    func testLegacySecondsExpiryOpcode() throws {
        var b = RDBBytes(version: 6)
        b.raw([0xFE, 0x00, 0xFD])
        b.le(1_700_000_000, 4)
        b.raw([0x00])
        b.str("k")
        b.str("v")
        let file = try readRDB(b.finished())
        XCTAssertEqual(file.record("k")?.expireAtMs, 1_700_000_000_000)
    }

    func testSlotInfoAndModuleAuxAreReportedAndSkipped() throws {
        var b = RDBBytes(version: 12)
        let id = moduleID("cairntest", encodingVersion: 3)
        b.raw([0xF7]); b.len(id); b.len(2); b.len(1)
        b.len(1); b.len(77)                          // SINT
        b.len(2); b.len(1 << 40)                     // UINT
        b.len(3); b.le(0x3F80_0000, 4)               // FLOAT
        b.len(4); b.le(Double(2.5).bitPattern, 8)    // DOUBLE
        b.len(5); b.str("module payload")            // STRING
        b.len(0)                                     // EOF
        b.raw([0xFE, 0x00, 0xF4]); b.len(1234); b.len(1); b.len(0)
        b.raw([0x00]); b.str("k"); b.str("v")
        let events = try allEvents(b.finished())
        XCTAssertTrue(events.contains { if case .moduleAux(id, "cairntest", 1) = $0 { return true } else { return false } })
        XCTAssertTrue(events.contains { if case .slotInfo(1234, 1, 0) = $0 { return true } else { return false } })
        XCTAssertEqual(try readRDB(b.finished()).record("k")?.value, .string("v"))
    }

    func testModuleValueIsRefusedNamingTheModule() {
        var b = RDBBytes(version: 10)
        b.raw([0xFE, 0x00, 0x07])
        b.str("doc")
        b.len(moduleID("ReJSON-RL", encodingVersion: 3))
        b.len(0)
        let e = rdbError { _ = try readRDB(b.finished()) }
        XCTAssertEqual(e?.key, "doc")
        XCTAssertEqual(e?.offset, 11)
        XCTAssertTrue(e?.reason.contains("'ReJSON-RL'") ?? false, e?.reason ?? "")
    }

    func testPreGAFunctionOpcodeIsRefused() {
        var b = RDBBytes(version: 10)
        b.raw([0xF6])
        b.str("#!lua name=x")
        XCTAssertTrue(rdbError { _ = try readRDB(b.finished()) }?.reason.contains("pre-GA function") ?? false)
    }

    func testUnknownTypeAndBadLengthEncodingAreErrors() {
        var b = RDBBytes(version: 10)
        b.raw([0x08])
        XCTAssertEqual(rdbError { _ = try readRDB(b.finished()) }?.reason, "unknown RDB value type 8")
        var c = RDBBytes(version: 10)
        c.raw([0x00, 0x82])
        XCTAssertTrue(rdbError { _ = try readRDB(c.finished()) }?.reason.contains("invalid length encoding 0x82") ?? false)
        var d = RDBBytes(version: 10)
        d.raw([0x00, 0xC4])
        XCTAssertTrue(rdbError { _ = try readRDB(d.finished()) }?.reason.contains("unknown string encoding 4") ?? false)
    }

    func testChecksumMismatchIsAnErrorUnlessVerificationIsOff() throws {
        var bytes = try RDBFixtures.bytes("hash-ziplist.rdb")
        bytes[bytes.count - 1] ^= 0x01
        let e = rdbError { _ = try readRDB(bytes) }
        XCTAssertEqual(e?.offset, bytes.count - 8)
        XCTAssertTrue(e?.reason.hasPrefix("RDB CRC error") ?? false)
        let events = try allEvents(bytes, verifyChecksum: false)
        guard case .end(_, false) = events.last else { return XCTFail() }
    }

    // MARK: 7.4 hash field TTL types, by hand

    func testHashMetadataRelativeTTLs() throws {
        var b = RDBBytes(version: 12)
        b.raw([0xFE, 0x00, RDBType.hashMetadata.rawValue])
        b.str("h")
        b.le(1_800_000_000_000, 8)
        b.len(3)
        b.len(0); b.str("none"); b.str("1")
        b.len(1); b.str("min"); b.str("2")
        b.len(501); b.str("later"); b.str("3")
        XCTAssertEqual(try readRDB(b.finished()).record("h")?.value,
                       .hash([("none", "1", nil), ("min", "2", 1_800_000_000_000), ("later", "3", 1_800_000_000_500)]))
    }

    func testPreGAHashTypesUseAbsoluteTTLs() throws {
        var b = RDBBytes(version: 12)
        b.raw([0xFE, 0x00, RDBType.hashMetadataPreGA.rawValue])
        b.str("a")
        b.len(2)
        b.len(1_700_000_000_000); b.str("f"); b.str("v")
        b.len(0); b.str("g"); b.str("w")
        var lp = ListpackBuilder()
        lp.append("x"); lp.append("y"); lp.append(int: 1_750_000_000_000)
        b.raw([RDBType.hashListpackExPreGA.rawValue])
        b.str("b")
        b.blob(lp.finish())
        let file = try readRDB(b.finished())
        XCTAssertEqual(file.record("a")?.value, .hash([("f", "v", 1_700_000_000_000), ("g", "w", nil)]))
        XCTAssertEqual(file.record("b")?.value, .hash([("x", "y", 1_750_000_000_000)]))
    }

    func testHashFieldTTLBeyond48BitsIsRejected() {
        var b = RDBBytes(version: 12)
        b.raw([0xFE, 0x00, RDBType.hashMetadataPreGA.rawValue])
        b.str("a")
        b.len(1)
        b.len(1 << 48)
        b.str("f"); b.str("v")
        XCTAssertTrue(rdbError { _ = try readRDB(b.finished()) }?.reason.contains("invalid hash field expire time") ?? false)
    }

    // MARK: duplicates and bad scores

    func testDuplicatesAreErrorsInEveryEncoding() {
        func file(_ type: RDBType, _ body: (inout RDBBytes) -> Void) -> [UInt8] {
            var b = RDBBytes(version: 11)
            b.raw([0xFE, 0x00, type.rawValue])
            b.str("k")
            body(&b)
            return b.finished()
        }
        let plainSet = file(.set) { b in b.len(2); b.str("a"); b.str("a") }
        let plainHash = file(.hash) { b in b.len(2); b.str("f"); b.str("1"); b.str("f"); b.str("2") }
        let zset2 = file(.zset2) { b in b.len(2); b.str("m"); b.le(0, 8); b.str("m"); b.le(0, 8) }
        var lp = ListpackBuilder()
        lp.append("f"); lp.append("1"); lp.append("f"); lp.append("2")
        let lpHash = file(.hashListpack) { b in b.blob(lp.finish()) }
        var sp = ListpackBuilder()
        sp.append("7"); sp.append("x"); sp.append(int: 7)
        let lpSet = file(.setListpack) { b in b.blob(sp.finish()) }
        for (name, f) in [("set", plainSet), ("hash", plainHash), ("zset2", zset2), ("hash listpack", lpHash), ("set listpack", lpSet)] {
            let e = rdbError { _ = try readRDB(f) }
            XCTAssertTrue(e?.reason.contains("duplicate") ?? false, "\(name): \(e?.reason ?? "")")
            XCTAssertEqual(e?.key, "k", name)
        }
    }

    func testNaNScoresAreRejected() {
        var b = RDBBytes(version: 10)
        b.raw([0xFE, 0x00, RDBType.zset2.rawValue])
        b.str("z"); b.len(1); b.str("m"); b.le(Double.nan.bitPattern, 8)
        XCTAssertTrue(rdbError { _ = try readRDB(b.finished()) }?.reason.contains("NaN") ?? false)
        var c = RDBBytes(version: 4)
        c.raw([0xFE, 0x00, RDBType.zset.rawValue])
        c.str("z"); c.len(1); c.str("m"); c.raw([253])
        XCTAssertTrue(rdbError { _ = try readRDB(c.bytes + [0xFF]) }?.reason.contains("NaN") ?? false)
        var lp = ListpackBuilder()
        lp.append("m"); lp.append("not-a-number")
        var d = RDBBytes(version: 10)
        d.raw([0xFE, 0x00, RDBType.zsetListpack.rawValue])
        d.str("z"); d.blob(lp.finish())
        XCTAssertTrue(rdbError { _ = try readRDB(d.finished()) }?.reason.contains("invalid zset score") ?? false)
    }

    func testLegacyStringScoresIncludingInfinities() throws {
        var b = RDBBytes(version: 4)
        b.raw([0xFE, 0x00, RDBType.zset.rawValue])
        b.str("z"); b.len(3)
        b.str("a"); b.raw([254])
        b.str("b"); b.raw([255])
        b.str("c"); b.raw([4]); b.raw(Array("-1.5".utf8))
        XCTAssertEqual(try readRDB(b.bytes + [0xFF]).record("z")?.value, .zset([("a", .infinity), ("b", -.infinity), ("c", -1.5)]))
    }

    // MARK: hostile lengths

    func testHugeDeclaredLengthsFailAsTruncationWithoutAllocating() {
        var s = RDBBytes(version: 10)
        s.raw([0x00]); s.str("k"); s.raw([0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertTrue(rdbError { _ = try readRDB(s.bytes) }?.reason.contains("too large") ?? false)
        var t = RDBBytes(version: 10)
        t.raw([0x00]); t.str("k"); t.raw([0x80, 0xFF, 0xFF, 0xFF, 0xF0, 0x61])
        XCTAssertTrue(rdbError { _ = try readRDB(t.bytes) }?.reason.contains("unexpected end of file") ?? false)
        var l = RDBBytes(version: 10)
        l.raw([0x01]); l.str("k"); l.len(1 << 60); l.str("one")
        XCTAssertTrue(rdbError { _ = try readRDB(l.bytes) }?.reason.contains("unexpected end of file") ?? false)
        var z = RDBBytes(version: 10)
        z.raw([0x00]); z.str("k"); z.raw([0xC3]); z.len(2); z.len(1 << 40); z.raw([0x00, 0x61])
        XCTAssertTrue(rdbError { _ = try readRDB(z.bytes) }?.reason.contains("LZF") ?? false)
        var g = RDBBytes(version: 10)
        g.raw([0x15]); g.str("k"); g.len(0); g.len(0); g.len(0); g.len(0); g.len(0); g.len(0); g.len(0); g.len(0); g.len(0)
        g.len(1 << 62)
        XCTAssertTrue(rdbError { _ = try readRDB(g.bytes) }?.reason.contains("unexpected end of file") ?? false)
    }

    // MARK: blobs

    func testListpackRoundTripsEveryEncodingAndBacklenSize() throws {
        let ints: [Int64] = [0, 127, 128, -1, -4096, 4095, 4096, -4097, 32767, -32768, 32768, 8_388_607, -8_388_608,
                             8_388_608, 2_147_483_647, -2_147_483_648, 2_147_483_648, .max, .min]
        let strs: [Bytes] = [Bytes(), "a", .repeating("b", 63), .repeating("c", 64), .repeating("d", 125), .repeating("d", 126),
                             .repeating("e", 4095), .repeating("f", 4096), .repeating("g", 16_378), .repeating("h", 16_379),
                             .repeating("i", 70_000), "007", "-0", "12345678901234567890"]
        var lp = ListpackBuilder()
        for v in ints { lp.append(int: v) }
        for s in strs { lp.append(s) }
        let blob = lp.finish()
        let els = try Listpack.elements(blob)
        XCTAssertEqual(els, ints.map { .int($0) } + strs.map { .bytes($0) })
        // canonical integer strings are stored as integers
        var lp2 = ListpackBuilder()
        lp2.append("-42")
        XCTAssertEqual(try Listpack.elements(lp2.finish()), [.int(-42)])
    }

    func testListpackCorruptionsAreRejectedWithOffsets() {
        var lp = ListpackBuilder()
        lp.append("hello"); lp.append(int: 1000)
        let good = lp.finish()
        func reason(_ b: [UInt8]) -> String? {
            do { _ = try Listpack.elements(b); return nil } catch let e as BlobFormatError { return e.reason } catch { return "\(error)" }
        }
        XCTAssertNil(reason(good))
        var wrongTotal = good; wrongTotal[0] &+= 1
        XCTAssertTrue(reason(wrongTotal)?.contains("header says") ?? false)
        var wrongCount = good; wrongCount[4] = 3
        XCTAssertTrue(reason(wrongCount)?.contains("elements, found 2") ?? false)
        var unknownCount = good; unknownCount[4] = 0xFF; unknownCount[5] = 0xFF
        XCTAssertNil(reason(unknownCount))
        var badBacklen = good; badBacklen[6 + 6] = 9
        XCTAssertTrue(reason(badBacklen)?.contains("backlen") ?? false)
        var noEnd = good; noEnd[noEnd.count - 1] = 0
        XCTAssertTrue(reason(noEnd)?.contains("0xFF") ?? false)
        var badEnc = good; badEnc[6] = 0xF5
        XCTAssertTrue(reason(badEnc)?.contains("0xf5") ?? false)
        XCTAssertNotNil(reason([0x03, 0, 0]))
    }

    func testZiplistRoundTripAndCorruptions() throws {
        var zl = ZiplistBuilder()
        let items: [Bytes] = ["0", "12", "13", "-1", "127", "-128", "128", "32767", "-32768", "40000", "8388607", "8388608",
                              "-2147483648", "9223372036854775807", "text", .repeating("x", 63), .repeating("y", 64),
                              .repeating("z", 300), .repeating("w", 17_000), "after-big-prevlen"]
        for i in items { zl.append(i) }
        let good = zl.finish()
        XCTAssertEqual(try Ziplist.elements(good).map { $0.asBytes }, items)
        func reason(_ b: [UInt8]) -> String? {
            do { _ = try Ziplist.elements(b); return nil } catch let e as BlobFormatError { return e.reason } catch { return "\(error)" }
        }
        var badTail = good; badTail[4] &+= 1
        XCTAssertTrue(reason(badTail)?.contains("tail") ?? false)
        var badCount = good; badCount[8] = 1
        XCTAssertTrue(reason(badCount)?.contains("elements, found") ?? false)
        var badPrev = good; badPrev[Ziplist.headerSize + 2] = 5  // second entry's prevlen
        XCTAssertTrue(reason(badPrev)?.contains("prevlen") ?? false)
        var badEnc = good; badEnc[Ziplist.headerSize + 1] = 0xC5
        XCTAssertTrue(reason(badEnc)?.contains("encoding") ?? false)
    }

    func testIntsetAndZipmap() throws {
        let blob = Intset.encode([5, -70000, 3])
        var got = [Int64]()
        try blob.withUnsafeBytes { try Intset.forEach($0) { got.append($0) } }
        XCTAssertEqual(got, [-70000, 3, 5])
        XCTAssertEqual(Array(blob.prefix(8)), [4, 0, 0, 0, 3, 0, 0, 0])
        var unsorted = Intset.encode([1, 2]); unsorted.swapAt(8, 10)
        XCTAssertThrowsError(try unsorted.withUnsafeBytes { try Intset.forEach($0) { _ in } })
        var overflow = Intset.encode([1]); overflow[4] = 0xFF; overflow[5] = 0xFF; overflow[6] = 0xFF; overflow[7] = 0xFF
        XCTAssertThrowsError(try overflow.withUnsafeBytes { try Intset.forEach($0) { _ in } })

        // zipmap with a free byte after a value and a 5-byte length
        let big = [UInt8](repeating: 0x41, count: 300)
        let zm: [UInt8] = [2, 1, 0x6B, 1, 1, 0x76, 0x00, 1, 0x62, 0xFE, 0x2C, 0x01, 0, 0, 0] + big + [0xFF]
        var pairs = [(Bytes, Bytes)]()
        try zm.withUnsafeBytes { try Zipmap.forEachPair($0) { f, v, _ in pairs.append((f, v)) } }
        XCTAssertEqual(pairs.map { $0.0 }, ["k", "b"])
        XCTAssertEqual(pairs.map { $0.1 }, ["v", Bytes(array: big)])
        XCTAssertThrowsError(try Array(zm.dropLast()).withUnsafeBytes { try Zipmap.forEachPair($0) { _, _, _ in } })
    }

    func testStreamNodeWithBadLPCountIsRejected() throws {
        // A v2 stream with one node whose only entry has a wrong lp-count.
        var lp = ListpackBuilder()
        for v: Int64 in [1, 0, 1] { lp.append(int: v) }
        lp.append("f"); lp.append(int: 0)
        lp.append(int: 2); lp.append(int: 0); lp.append(int: 0); lp.append("v"); lp.append(int: 9)
        var b = RDBBytes(version: 10)
        b.raw([0xFE, 0x00, RDBType.streamListpacks2.rawValue])
        b.str("s"); b.len(1)
        b.str(Bytes(array: RDBStreamID(ms: 1, seq: 0).rawBigEndian))
        b.blob(lp.finish())
        let e = rdbError { _ = try readRDB(b.finished()) }
        XCTAssertTrue(e?.reason.contains("lp-count") ?? false, e?.reason ?? "")
        XCTAssertEqual(e?.key, "s")
    }

    func testStreamPELEntryWithoutConsumerIsRejected() throws {
        var s = RDBSample.smallStream(version: 10)
        s.groups[0].consumers[1].pending = []
        let w = RDBWriter(version: 10)
        w.header()
        w.stream(key: "s", stream: s)
        w.end()
        XCTAssertTrue(rdbError { _ = try readRDB(w.takeOutput()) }?.reason.contains("has no consumer") ?? false)
    }

    /// The plain-decimal fast path of zset scores gives strtod's double, bit for bit, and
    /// leaves everything it does not take (exponents, inf, hex, 16+ digits) to strtod.
    func testPlainDecimalScoresAreWhatStrtodReads() {
        func strtodValue(_ s: String) -> Double? {
            var end: UnsafeMutablePointer<CChar>? = nil
            return s.withCString { p in
                let d = strtod(p, &end)
                return end! - UnsafeMutablePointer(mutating: p) == s.utf8.count && !s.isEmpty ? d : nil
            }
        }
        var rng = SystemRandomNumberGenerator()
        var cases = ["0", "-0", "+0", "1.5", "-1.5", "0.1", "0.2", "0.3", ".5", "5.", "-.5", "123456789012345",
                     "0.000000000000001", "999999999999999", "1234567.89012345", "00000000000001.5",
                     "1e5", "inf", "-inf", "nan", "0x10", "1234567890123456", ".", "-", "+", "", "1..2", "1.2.3", " 1"]
        for _ in 0..<20000 {
            let length = Int.random(in: 1...15, using: &rng)
            var digits = (0..<length).map { _ in String(Int.random(in: 0...9, using: &rng)) }.joined()
            if Bool.random(using: &rng) { digits.insert(".", at: digits.index(digits.startIndex, offsetBy: Int.random(in: 0...length, using: &rng))) }
            cases.append((Bool.random(using: &rng) ? "-" : "") + digits)
        }
        for text in cases {
            let fast = Array(text.utf8).withUnsafeBytes { RDBReader.plainDecimal($0) }
            if let fast {
                XCTAssertEqual(fast.bitPattern, strtodValue(text)?.bitPattern, text)
            } else {
                let plain = text.range(of: "^[+-]?[0-9]*\\.?[0-9]*$", options: .regularExpression) != nil
                let digitCount = text.filter(\.isNumber).count
                XCTAssertFalse(plain && digitCount >= 1 && digitCount <= 15, "fast path refused \(text)")
            }
        }
    }
}
