import XCTest
@testable import CairnFormats

/// Keys covering every type in its compact and its big encoding, for round trips and interop.
enum RDBSample {
    static let far: Int64 = 4_102_444_800_000

    static func records(version: Int) -> [RDBKeyRecord] {
        var r = [RDBKeyRecord]()
        func add(_ key: String, _ v: RDBValue, db: Int = 0, expire: Int64? = nil) {
            r.append(RDBKeyRecord(db: db, key: Bytes(key), value: v, expireAtMs: expire))
        }
        add("s:raw", .string("hello"))
        add("s:int8", .string("-7"))
        add("s:int16", .string("3000"))
        add("s:int32", .string("-2000000000"))
        add("s:int64", .string("9223372036854775807"))
        add("s:leadingzero", .string("007"))
        add("s:lzf", .string(.repeating("q", 500)))
        add("s:incompressible", .string(Bytes(array: (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) })))
        add("s:empty", .string(""))
        add("s:binary", .string(Bytes(array: [0, 255, 13, 10, 0])))
        add("s:expire", .string("bye"), expire: far)
        add("l:small", .list(strings(["a", "1", "-1", "4095", "4096", "-4096", "70000", "-8388608", "3000000000", "x"])))
        add("l:big", .list((0..<3000).map { Bytes("element-number-\($0)") }))
        add("l:long-elements", .list([.repeating("E", 5000), .repeating("F", 70_000), "short"]))
        add("set:intset", .set(strings(["5", "-3", "100000", "7"])))
        add("set:intset64", .set(strings(["1", "-9000000000"])))
        add("set:strings", .set(strings(["x", "y", "zz"])))
        add("set:big", .set((0..<700).map { Bytes("member-\($0)") }))
        add("set:bigints", .set((0..<600).map { Bytes("\($0 * 3)") }))
        add("h:small", .hash([("f", "v", nil), ("n", "42", nil), ("neg", "-1", nil)]))
        add("h:big", .hash((0..<600).map { (Bytes("f\($0)"), Bytes("v\($0)"), nil) }))
        add("h:longvalue", .hash([("k", .repeating("V", 65), nil)]))
        add("z:small", .zset([("a", 1), ("b", 2.5), ("c", -3), ("d", .infinity), ("e", -.infinity), ("f", 0.1), ("g", 1e20), ("h", -0.0)]))
        add("z:big", .zset((0..<300).map { (Bytes("m\($0)"), Double($0) / 4) }))
        add("z:longmember", .zset([(.repeating("M", 65), 5)]))
        if version >= 9 {
            add("x:small", .stream(smallStream(version: version)))
            add("x:big", .stream(bigStream(version: version)))
        }
        add("db2:s", .string("two"), db: 2, expire: far)
        add("db2:l", .list(["q"]), db: 2)
        return r
    }

    static func smallStream(version: Int) -> RDBStream {
        let e = [
            RDBStreamEntry(id: RDBStreamID(ms: 10, seq: 0), fields: [("a", "1"), ("b", "2")]),
            RDBStreamEntry(id: RDBStreamID(ms: 10, seq: 1), fields: [("a", "3"), ("b", "4")]),
            RDBStreamEntry(id: RDBStreamID(ms: 20, seq: 0), fields: [("c", "text")]),
        ]
        let v2 = version >= 10
        let v3 = version >= 11
        return RDBStream(
            entries: e,
            meta: RDBStreamMeta(length: 3, lastID: RDBStreamID(ms: 20, seq: 0),
                                firstID: v2 ? RDBStreamID(ms: 10, seq: 0) : nil,
                                maxDeletedID: v2 ? .zero : nil, entriesAdded: v2 ? 3 : nil),
            groups: [
                RDBStreamGroup(name: "grp", lastID: RDBStreamID(ms: 10, seq: 1), entriesRead: v2 ? 2 : nil,
                               pending: [
                                   RDBStreamPendingEntry(id: RDBStreamID(ms: 10, seq: 0), deliveryTimeMs: 1_700_000_000_000, deliveryCount: 2, consumer: "c1"),
                                   RDBStreamPendingEntry(id: RDBStreamID(ms: 10, seq: 1), deliveryTimeMs: 1_700_000_000_500, deliveryCount: 1, consumer: "c2"),
                               ],
                               consumers: [
                                   RDBStreamConsumer(name: "c1", seenTimeMs: 1_700_000_001_000, activeTimeMs: v3 ? 1_700_000_000_900 : nil,
                                                     pending: [RDBStreamID(ms: 10, seq: 0)]),
                                   RDBStreamConsumer(name: "c2", seenTimeMs: 1_700_000_002_000, activeTimeMs: v3 ? 1_700_000_002_000 : nil,
                                                     pending: [RDBStreamID(ms: 10, seq: 1)]),
                                   RDBStreamConsumer(name: "idle", seenTimeMs: 1_700_000_003_000, activeTimeMs: v3 ? 1_700_000_003_000 : nil, pending: []),
                               ]),
                RDBStreamGroup(name: "empty", lastID: .zero, entriesRead: v2 ? 0 : nil, pending: [], consumers: []),
            ])
    }

    static func bigStream(version: Int) -> RDBStream {
        var e = [RDBStreamEntry]()
        for i in 0..<450 {
            let id = RDBStreamID(ms: 1_000 + UInt64(i / 3), seq: UInt64(i % 3))
            var fields: [(field: Bytes, value: Bytes)]
            if i % 7 == 0 {
                fields = [(Bytes("other"), Bytes("\(i)"))]
            } else {
                fields = [(Bytes("temp"), Bytes("\(i * 10)")), (Bytes("unit"), Bytes("C"))]
            }
            e.append(RDBStreamEntry(id: id, fields: fields))
        }
        let v2 = version >= 10
        return RDBStream(entries: e, meta: RDBStreamMeta(length: 450, lastID: e.last!.id, firstID: v2 ? e[0].id : nil,
                                                         maxDeletedID: v2 ? .zero : nil, entriesAdded: v2 ? 450 : nil))
    }

    /// A whole file of these records, with aux fields and a function for RDB 10+.
    static func file(version: Int, compress: Bool = true, checksum: Bool = true) -> [UInt8] {
        let w = RDBWriter(version: version, compressStrings: compress, checksum: checksum)
        w.header()
        w.aux("redis-ver", "7.0.15")
        w.aux("redis-bits", "64")
        if version >= 10 {
            w.function(source: Bytes(functionSource))
        }
        let records = self.records(version: version)
        for db in Set(records.map { $0.db }).sorted() {
            let inDB = records.filter { $0.db == db }
            w.selectDB(db)
            w.resizeDB(dbSize: UInt64(inDB.count), expiresSize: UInt64(inDB.filter { $0.expireAtMs != nil }.count))
            for r in inDB { w.value(key: r.key, r.value, expireAtMs: r.expireAtMs) }
        }
        w.end()
        return w.takeOutput()
    }

    static let functionSource = "#!lua name=cairnlib\nredis.register_function('cairn_echo', function(keys, args) return args[1] end)"
}

final class RDBWriterTests: XCTestCase {
    /// The worked example of the reference (§1.12): 72 bytes, byte for byte, with its CRC.
    func testWritesTheReferenceWorkedExampleExactly() {
        let w = RDBWriter(version: 11)
        w.header()
        w.aux("redis-ver", "7.2.4")
        w.aux("redis-bits", "64")
        w.selectDB(0)
        w.resizeDB(dbSize: 1, expiresSize: 1)
        w.string(key: "foo", value: "bar", expireAtMs: 1_735_689_600_000)
        w.end()
        let out = w.takeOutput()
        let expected: [UInt8] = Array("REDIS0011".utf8)
            + [0xFA, 0x09] + Array("redis-ver".utf8) + [0x05] + Array("7.2.4".utf8)
            + [0xFA, 0x0A] + Array("redis-bits".utf8) + [0xC0, 0x40]
            + [0xFE, 0x00, 0xFB, 0x01, 0x01]
            + [0xFC, 0x00, 0x7C, 0x29, 0x1F, 0x94, 0x01, 0x00, 0x00]
            + [0x00, 0x03] + Array("foo".utf8) + [0x03] + Array("bar".utf8)
            + [0xFF, 0x75, 0x0C, 0x0E, 0xB4, 0x9B, 0x8E, 0x35, 0xDA]
        XCTAssertEqual(out, expected)
        XCTAssertEqual(out.count, 72)
    }

    /// docs/formats/snapshot.md, "Worked example": keep the two in step.
    func testWritesTheSnapshotDocWorkedExample() throws {
        let w = RDBWriter(version: 10)
        w.header()
        w.aux("redis-bits", "64")
        w.selectDB(0)
        w.resizeDB(dbSize: 3, expiresSize: 1)
        w.string(key: "foo", value: "bar", expireAtMs: 1_735_689_600_000)
        w.hash(key: "h", fields: [("f", "1")])
        w.set(key: "s", members: ["1", "2"])
        w.end()
        let hex = """
            52 45 44 49 53 30 30 31 30 fa 0a 72 65 64 69 73 2d 62 69 74 73 c0 40 fe 00 fb 03 01 fc 00 7c 29 1f 94 01 00 00
            00 03 66 6f 6f 03 62 61 72 10 01 68 0c 0c 00 00 00 02 00 81 66 02 01 01 ff 0b 01 73 0c 02 00 00 00 02 00 00 00
            01 00 02 00 ff 53 5a 64 ed 2b 1c b5 85
            """
        let expected = hex.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { UInt8($0, radix: 16)! }
        let out = w.takeOutput()
        XCTAssertEqual(out, expected)
        XCTAssertEqual(out.count, 87)
        let file = try readRDB(out)
        XCTAssertEqual(file.record("foo")?.expireAtMs, 1_735_689_600_000)
        XCTAssertEqual(file.record("h")?.value, .hash([("f", "1", nil)]))
        XCTAssertEqual(file.record("s")?.value, .set(["1", "2"]))
    }

    func testVersion10TrailerMatchesTheReference() {
        let w = RDBWriter(version: 10)
        w.header()
        w.aux("redis-ver", "7.2.4")
        w.aux("redis-bits", "64")
        w.selectDB(0)
        w.resizeDB(dbSize: 1, expiresSize: 1)
        w.string(key: "foo", value: "bar", expireAtMs: 1_735_689_600_000)
        w.end()
        XCTAssertEqual(Array(w.takeOutput().suffix(8)), [0x91, 0x18, 0xFE, 0x80, 0x3D, 0x0A, 0xA2, 0x2E])
    }

    func testChecksumOffWritesZeroTrailer() {
        let w = RDBWriter(version: 10, checksum: false)
        w.header()
        w.end()
        XCTAssertEqual(w.takeOutput(), Array("REDIS0010".utf8) + [0xFF, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    func testStringEncodingsFollowRedisRules() {
        func encoded(_ s: Bytes, compress: Bool = true) -> [UInt8] {
            let w = RDBWriter(version: 10, compressStrings: compress)
            w.string(s)
            return w.takeOutput()
        }
        XCTAssertEqual(encoded("0"), [0xC0, 0x00])
        XCTAssertEqual(encoded("-128"), [0xC0, 0x80])
        XCTAssertEqual(encoded("128"), [0xC1, 0x80, 0x00])
        XCTAssertEqual(encoded("-32769"), [0xC2, 0xFF, 0x7F, 0xFF, 0xFF])
        XCTAssertEqual(encoded("2147483648"), [0x0A] + Array("2147483648".utf8))  // beyond int32: raw
        XCTAssertEqual(encoded("01"), [0x02, 0x30, 0x31])  // not canonical: raw
        XCTAssertEqual(encoded("-0"), [0x02, 0x2D, 0x30])
        XCTAssertEqual(encoded("+1"), [0x02, 0x2B, 0x31])
        XCTAssertEqual(encoded(""), [0x00])
        XCTAssertEqual(encoded(.repeating("a", 20)), [0x14] + Array(repeating: 0x61, count: 20))  // 20 bytes: never LZF
        XCTAssertEqual(encoded(.repeating("a", 21)).first, 0xC3)
        XCTAssertEqual(encoded(.repeating("a", 21), compress: false).first, 0x15)
        XCTAssertEqual(encoded(.repeating("a", 64)).prefix(1), [0xC3])
        let long = encoded(.repeating("b", 100), compress: false)
        XCTAssertEqual(Array(long.prefix(2)), [0x40, 0x64])  // 14-bit length, big-endian
        let huge = encoded(.repeating("c", 70_000), compress: false)
        XCTAssertEqual(Array(huge.prefix(5)), [0x80, 0x00, 0x01, 0x11, 0x70])  // 32-bit big-endian
    }

    func testEncodingChoicesForVersion10() throws {
        let file = try readRDB(RDBSample.file(version: 10))
        func enc(_ k: String, db: Int = 0) -> RDBType? { file.record(Bytes(k), db: db).flatMap { RDBType(rawValue: $0.encoding) } }
        XCTAssertEqual(enc("l:small"), .listQuicklist2)
        XCTAssertEqual(enc("l:big"), .listQuicklist2)
        XCTAssertEqual(enc("set:intset"), .setIntset)
        XCTAssertEqual(enc("set:intset64"), .setIntset)
        XCTAssertEqual(enc("set:strings"), .set)  // no set listpack before RDB 11
        XCTAssertEqual(enc("set:big"), .set)
        XCTAssertEqual(enc("set:bigints"), .set)  // 600 > set-max-intset-entries
        XCTAssertEqual(enc("h:small"), .hashListpack)
        XCTAssertEqual(enc("h:big"), .hash)
        XCTAssertEqual(enc("h:longvalue"), .hash)
        XCTAssertEqual(enc("z:small"), .zsetListpack)
        XCTAssertEqual(enc("z:big"), .zset2)
        XCTAssertEqual(enc("z:longmember"), .zset2)
        XCTAssertEqual(enc("x:small"), .streamListpacks2)
        XCTAssertEqual(file.functions, [Bytes(RDBSample.functionSource)])
    }

    func testEncodingChoicesForOtherVersions() throws {
        let v11 = try readRDB(RDBSample.file(version: 11))
        XCTAssertEqual(v11.record("set:strings")?.encoding, RDBType.setListpack.rawValue)
        XCTAssertEqual(v11.record("x:small")?.encoding, RDBType.streamListpacks3.rawValue)
        let v9 = try readRDB(RDBSample.file(version: 9))
        XCTAssertEqual(v9.record("l:big")?.encoding, RDBType.listQuicklist.rawValue)
        XCTAssertEqual(v9.record("h:small")?.encoding, RDBType.hashZiplist.rawValue)
        XCTAssertEqual(v9.record("z:small")?.encoding, RDBType.zsetZiplist.rawValue)
        XCTAssertEqual(v9.record("x:small")?.encoding, RDBType.streamListpacks.rawValue)
        XCTAssertEqual(v9.functions, [])
    }

    func testEveryTypeRoundTripsThroughTheReaderForVersions9To12() throws {
        for version in [9, 10, 11, 12] {
            for compress in [true, false] {
                let bytes = RDBSample.file(version: version, compress: compress)
                let file = try readRDB(bytes)
                XCTAssertEqual(file.version, version)
                let expected = RDBSample.records(version: version)
                XCTAssertEqual(file.keys.count, expected.count, "v\(version)")
                for r in expected {
                    guard let got = file.record(r.key, db: r.db) else {
                        XCTFail("v\(version): missing \(r.key)"); continue
                    }
                    XCTAssertEqual(normalized(got.value), normalized(r.value), "v\(version) compress \(compress): \(r.key)")
                    XCTAssertEqual(got.expireAtMs, r.expireAtMs, "v\(version): \(r.key)")
                }
                XCTAssertEqual(file.auxValue("redis-bits"), "64")
            }
        }
    }

    func testListNodesRespectListMaxListpackSize() throws {
        let elements = (0..<1000).map { Bytes("e\($0)") }
        func nodeCount(_ fill: Int) throws -> Int {
            let w = RDBWriter(version: 10)
            w.list(key: "k", elements: elements, listpackMaxSize: fill)
            let out = w.takeOutput()
            // type, key "k", then the node count.
            XCTAssertEqual(Array(out.prefix(3)), [RDBType.listQuicklist2.rawValue, 0x01, 0x6B])
            let b = out[3]
            return b < 64 ? Int(b) : (Int(b & 0x3F) << 8) | Int(out[4])
        }
        XCTAssertEqual(try nodeCount(10), 100)       // 10 elements per node
        XCTAssertEqual(try nodeCount(128), 8)        // ceil(1000 / 128)
        XCTAssertEqual(try nodeCount(-2), 1)         // 1000 short elements fit 8 KiB
        XCTAssertGreaterThan(try nodeCount(-1), 1)   // but not 4 KiB
    }

    func testPlainNodesForElementsAtThePackedThreshold() throws {
        let w = RDBWriter(version: 10)
        w.header()
        w.list(key: "k", elements: ["a", .repeating("B", 200), "c"], packedThreshold: 100)
        w.end()
        let bytes = w.takeOutput()
        XCTAssertEqual(try readRDB(bytes).record("k")?.value, .list(["a", .repeating("B", 200), "c"]))
        // node count 3; node 2 has container 1 (PLAIN).
        let events = try allEvents(bytes)
        XCTAssertEqual(events.filter { if case .listElement = $0 { return true } else { return false } }.count, 3)
        let i = 9 + 3  // header, type, len, "k"
        XCTAssertEqual(bytes[i], 3)
    }

    func testHashFieldExpiryRoundTripsInBothVersion12Encodings() throws {
        let small: [(field: Bytes, value: Bytes, expireAtMs: Int64?)] = [
            ("persist", "p", nil), ("late", "l", 1_900_000_000_000), ("early", "e", 1_800_000_000_000),
        ]
        let big: [(field: Bytes, value: Bytes, expireAtMs: Int64?)] = (0..<600).map {
            (Bytes("f\($0)"), Bytes("v\($0)"), $0 % 2 == 0 ? 1_800_000_000_000 + Int64($0) : nil)
        }
        let w = RDBWriter(version: 12)
        w.header()
        w.selectDB(0)
        w.hash(key: "small", fieldsWithExpiry: small)
        w.hash(key: "big", fieldsWithExpiry: big)
        w.end()
        let file = try readRDB(w.takeOutput())
        XCTAssertEqual(file.record("small")?.encoding, RDBType.hashListpackEx.rawValue)
        XCTAssertEqual(file.record("big")?.encoding, RDBType.hashMetadata.rawValue)
        // Listpack order: by expiry, persistent fields last.
        XCTAssertEqual(file.record("small")?.value, .hash([("early", "e", 1_800_000_000_000), ("late", "l", 1_900_000_000_000), ("persist", "p", nil)]))
        XCTAssertEqual(file.record("big")?.value, .hash(big))
    }

    func testTakeOutputInPiecesGivesTheSameBytesAndChecksum() throws {
        let whole = RDBSample.file(version: 10)
        let w = RDBWriter(version: 10)
        var pieces = [UInt8]()
        w.header()
        w.aux("redis-ver", "7.0.15")
        pieces += w.takeOutput()
        w.aux("redis-bits", "64")
        w.function(source: Bytes(RDBSample.functionSource))
        let records = RDBSample.records(version: 10)
        for db in Set(records.map { $0.db }).sorted() {
            let inDB = records.filter { $0.db == db }
            w.selectDB(db)
            w.resizeDB(dbSize: UInt64(inDB.count), expiresSize: UInt64(inDB.filter { $0.expireAtMs != nil }.count))
            for r in inDB {
                w.value(key: r.key, r.value, expireAtMs: r.expireAtMs)
                pieces += w.takeOutput()
            }
        }
        w.end()
        pieces += w.takeOutput()
        XCTAssertEqual(pieces, whole)
        XCTAssertEqual(w.bytesWritten, whole.count)
    }

    func testIdleAndFreqPrefixesRoundTrip() throws {
        let w = RDBWriter(version: 10)
        w.header()
        w.string(key: "a", value: "1", idle: 300)
        w.string(key: "b", value: "2", freq: 9)
        w.end()
        let file = try readRDB(w.takeOutput())
        XCTAssertEqual(file.record("a")?.idle, 300)
        XCTAssertNil(file.record("a")?.freq)
        XCTAssertEqual(file.record("b")?.freq, 9)
    }
}
