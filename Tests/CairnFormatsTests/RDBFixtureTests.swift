// Every file in Fixtures/redis-rdb read with exact expectations. The redis7-* files come from
// tools/make-fixtures.sh (real redis-server 7.0); the others are copies of Redis's own test
// assets (tests/assets in the Redis repository).
import XCTest
@testable import CairnFormats

final class RDBFixtureTests: XCTestCase {
    func value(_ file: RDBFile, _ key: String, db: Int = 0, line: UInt = #line) throws -> RDBKeyRecord {
        try XCTUnwrap(file.record(Bytes(key), db: db), "no key \(key) in db \(db)", line: line)
    }

    // MARK: Redis test assets

    func testEncodingsRDBVersion4HasEveryLegacyEncoding() throws {
        let file = try readRDB(RDBFixtures.bytes("encodings.rdb"))
        XCTAssertEqual(file.version, 4)
        XCTAssertNil(file.checksum)
        XCTAssertEqual(file.keys.count, 13)
        let eight = strings(["1", "2", "3", "a", "b", "c", "100000", "6000000000"])

        let zset = try value(file, "zset")
        XCTAssertEqual(zset.encoding, RDBType.zset.rawValue)
        XCTAssertEqual(zset.value, .zset([("bb", 20), ("cc", 30), ("bbb", 200), ("bbbb", 5_000_000_000), ("ccc", 300),
                                          ("cccc", 123_456_789), ("a", 1), ("aa", 10), ("b", 2), ("aaa", 100), ("c", 3),
                                          ("aaaa", 1000)]))
        XCTAssertEqual(try value(file, "set_zipped_1").value, .set(strings(["1", "2", "3", "4"])))
        XCTAssertEqual(try value(file, "set_zipped_1").encoding, RDBType.setIntset.rawValue)
        XCTAssertEqual(try value(file, "set_zipped_2").value, .set(strings(["100000", "200000", "300000", "400000"])))
        XCTAssertEqual(try value(file, "set_zipped_3").value,
                       .set(strings(["1000000000", "2000000000", "3000000000", "4000000000", "5000000000", "6000000000"])))
        XCTAssertEqual(try value(file, "list_zipped").value, .list(eight))
        XCTAssertEqual(try value(file, "list_zipped").encoding, RDBType.listZiplist.rawValue)
        XCTAssertEqual(try value(file, "string").value, .string("Hello World"))
        XCTAssertEqual(try value(file, "compressible").value, .string(.repeating("a", 137)))
        XCTAssertEqual(try value(file, "number").value, .string("10"))
        XCTAssertEqual(try value(file, "set").value, .set(strings(["6000000000", "100000", "a", "1", "b", "2", "c", "3"])))
        XCTAssertEqual(try value(file, "list").value, .list(eight + eight + eight))
        XCTAssertEqual(try value(file, "list").encoding, RDBType.list.rawValue)
        XCTAssertEqual(try value(file, "hash_zipped").value, .hash([("a", "1", nil), ("b", "2", nil), ("c", "3", nil)]))
        XCTAssertEqual(try value(file, "hash_zipped").encoding, RDBType.hashZiplist.rawValue)
        XCTAssertEqual(try value(file, "zset_zipped").value, .zset([("a", 1), ("b", 2), ("c", 3)]))
        XCTAssertEqual(try value(file, "zset_zipped").encoding, RDBType.zsetZiplist.rawValue)
        XCTAssertEqual(try value(file, "hash").value, .hash([
            ("b", "2", nil), ("aa", "10", nil), ("c", "3", nil), ("aaa", "100", nil), ("bb", "20", nil), ("cc", "30", nil),
            ("bbb", "200", nil), ("ccc", "300", nil), ("ddd", "400", nil), ("eee", "5000000000", nil), ("a", "1", nil),
        ]))
        XCTAssertEqual(file.byteCount, 667)
    }

    func testHashZipmapVersion3() throws {
        let file = try readRDB(RDBFixtures.bytes("hash-zipmap.rdb"))
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.keys.count, 1)
        let r = try value(file, "hash")
        XCTAssertEqual(r.encoding, RDBType.hashZipmap.rawValue)
        XCTAssertEqual(r.value, .hash([("f1", "v1", nil), ("f2", "v2", nil)]))
    }

    func testHashZiplistVersion9WithVerifiedChecksum() throws {
        let events = try allEvents(RDBFixtures.bytes("hash-ziplist.rdb"))
        guard case .end(let sum?, true) = events.last else { return XCTFail("no verified end") }
        XCTAssertEqual(sum, 0x8398_6916_fdd1_9c4f)
        let file = try readRDB(RDBFixtures.bytes("hash-ziplist.rdb"))
        XCTAssertEqual(file.version, 9)
        XCTAssertEqual(file.auxValue("redis-ver"), "255.255.255")
        XCTAssertEqual(file.auxValue("aof-preamble"), "0")
        let r = try value(file, "hash")
        XCTAssertEqual(r.encoding, RDBType.hashZiplist.rawValue)
        XCTAssertEqual(r.value, .hash([("f1", "v1", nil), ("f2", "v2", nil)]))
    }

    func testListQuicklistVersion8() throws {
        let file = try readRDB(RDBFixtures.bytes("list-quicklist.rdb"))
        XCTAssertEqual(file.version, 8)
        XCTAssertEqual(file.auxValue("redis-ver"), "4.0.9")
        XCTAssertEqual(file.keys.count, 2)
        XCTAssertEqual(try value(file, "list").encoding, RDBType.listQuicklist.rawValue)
        XCTAssertEqual(try value(file, "list").value, .list(["7"]))
        XCTAssertEqual(try value(file, "x").value, .string("7"))
    }

    func testZsetZiplistVersion10() throws {
        let file = try readRDB(RDBFixtures.bytes("zset-ziplist.rdb"))
        XCTAssertEqual(file.version, 10)
        let r = try value(file, "zset")
        XCTAssertEqual(r.encoding, RDBType.zsetZiplist.rawValue)
        XCTAssertEqual(r.value, .zset([("one", 1), ("two", 2)]))
    }

    func testScriptBackupHasOnlyAuxFields() throws {
        let file = try readRDB(RDBFixtures.bytes("scriptbackup.rdb"))
        XCTAssertEqual(file.keys.count, 0)
        XCTAssertEqual(file.auxValue("lua"), "return redis.call('set', 'foo', 'bar')")
        XCTAssertEqual(file.auxValue("repl-id"), "349eeafec1f98f3f56277e95fc86bc48b30651a2")
        XCTAssertEqual(file.auxValue("repl-offset"), "0")
        XCTAssertEqual(file.auxValue("repl-stream-db"), "0")
        XCTAssertEqual(file.aux.map { $0.0.debugText },
                       ["redis-ver", "redis-bits", "ctime", "used-mem", "repl-stream-db", "repl-id", "repl-offset", "aof-preamble", "lua"])
    }

    func testAOFWithRDBPreambleReadsThePreambleAndStopsAtItsEnd() throws {
        let bytes = try RDBFixtures.bytes("rdb-preamble.aof")
        let file = try readRDB(bytes)
        XCTAssertEqual(file.auxValue("aof-preamble"), "1")
        XCTAssertEqual(file.keys.map { $0.key }, ["k2", "k1"])
        XCTAssertEqual(try value(file, "k1").value, .string("v1"))
        XCTAssertEqual(try value(file, "k2").value, .string("v2"))
        XCTAssertEqual(file.byteCount, 117)
        XCTAssertEqual(Array(bytes[117...]), Array("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$2\r\nk3\r\n$2\r\nv3\r\n".utf8))
    }

    func testCorruptZiplistFailsAtTheBlobWithKeyAndOffset() throws {
        XCTAssertThrowsError(try readRDB(RDBFixtures.bytes("corrupt_ziplist.rdb"))) { error in
            guard let e = error as? RDBError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.key, "key:000000000091")
            XCTAssertEqual(e.offset, 489)
            XCTAssertTrue(e.reason.contains("hash ziplist"), e.reason)
        }
    }

    func testCorruptEmptyKeysFailsOnTheFirstEmptySet() throws {
        XCTAssertThrowsError(try readRDB(RDBFixtures.bytes("corrupt_empty_keys.rdb"))) { error in
            guard let e = error as? RDBError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.key, "set")
            XCTAssertEqual(e.offset, 99)
            XCTAssertTrue(e.reason.contains("empty set"), e.reason)
        }
    }

    func testEveryKeyOfCorruptEmptyKeysIsRejectedOnItsOwn() throws {
        // Each empty-key form of that file, each in a file of its own: all must be refused.
        let keys: [(type: UInt8, key: String, payload: [UInt8])] = [
            (2, "set", [0x00]),
            (4, "hash", [0x00]),
            (10, "list_ziplist", [0x0B, 0x0B, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0, 0xFF]),
            (5, "zset", [0x00]),
            (17, "zset_listpack", [0x07, 0x07, 0, 0, 0, 0, 0, 0xFF]),
            (16, "hash_ziplist", [0x07, 0x07, 0, 0, 0, 0, 0, 0xFF]),
            (14, "list_quicklist", [0x00]),
            (12, "zset_ziplist", [0x0B, 0x0B, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0, 0xFF]),
            (14, "list_quicklist_empty_ziplist", [0x01, 0x0B, 0x0B, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0, 0xFF]),
        ]
        for k in keys {
            var f = Array("REDIS0010".utf8) + [0xFE, 0x00, k.type, UInt8(k.key.utf8.count)] + Array(k.key.utf8) + k.payload
            f += [0xFF, 0, 0, 0, 0, 0, 0, 0, 0]
            XCTAssertThrowsError(try readRDB(f), k.key) { error in
                guard let e = error as? RDBError else { return XCTFail("\(error)") }
                XCTAssertEqual(e.key, Bytes(k.key))
                XCTAssertTrue(e.reason.contains("empty"), "\(k.key): \(e.reason)")
            }
        }
    }

    // MARK: real Redis 7.0 files

    func testRedis7AllTypesHeaderAuxAndFunctions() throws {
        let file = try readRDB(RDBFixtures.bytes("redis7-alltypes.rdb"))
        XCTAssertEqual(file.version, 10)
        XCTAssertEqual(file.aux.map { $0.0.debugText }, ["redis-ver", "redis-bits", "ctime", "used-mem", "aof-base"])
        XCTAssertEqual(file.auxValue("redis-ver"), "7.0.15")
        XCTAssertEqual(file.auxValue("redis-bits"), "64")
        XCTAssertEqual(file.auxValue("aof-base"), "0")
        XCTAssertEqual(file.functions, [Bytes("#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] end)")])
        XCTAssertNotNil(file.checksum)
        XCTAssertNotEqual(file.checksum, 0)
        XCTAssertEqual(file.keys.filter { $0.db == 0 }.count, 28)
        XCTAssertEqual(file.keys.filter { $0.db == 1 }.count, 2)
        XCTAssertEqual(file.keys.filter { $0.db == 5 }.count, 1)
        XCTAssertEqual(file.keys.count, 31)
    }

    func testRedis7AllTypesStrings() throws {
        let file = try readRDB(RDBFixtures.bytes("redis7-alltypes.rdb"))
        let expected: [(String, Bytes)] = [
            ("str:small", "hello"), ("str:int8", "-5"), ("str:int16", "1234"), ("str:int32", "123456789"),
            ("str:int64", "12345678901234"), ("str:lzf", .repeating("a", 100)),
            ("str:binary", Bytes(array: [0x00, 0x01, 0xFF, 0xFE] + Array(" bin \r\n".utf8))), ("str:empty", ""),
        ]
        for (k, v) in expected {
            let r = try value(file, k)
            XCTAssertEqual(r.value, .string(v), k)
            XCTAssertEqual(r.encoding, 0, k)
            XCTAssertNil(r.expireAtMs, k)
        }
        XCTAssertEqual(try value(file, "str:expire").value, .string("soon"))
        XCTAssertEqual(try value(file, "str:expire").expireAtMs, 4_102_444_800_000)
    }

    func testRedis7AllTypesLists() throws {
        let file = try readRDB(RDBFixtures.bytes("redis7-alltypes.rdb"))
        for k in ["list:small", "list:big", "list:compressed", "list:plain", "list:expire"] {
            XCTAssertEqual(try value(file, k).encoding, RDBType.listQuicklist2.rawValue, k)
        }
        XCTAssertEqual(try value(file, "list:small").value, .list(strings(["a", "b", "c", "1", "2", "300000", "-7"])))
        XCTAssertEqual(try value(file, "list:big").value, .list((0..<1000).map { Bytes("item-\($0)") }))
        // Nodes LZF-compressed in memory are written as LZF strings.
        XCTAssertEqual(try value(file, "list:compressed").value,
                       .list((0..<600).map { Bytes("compressible-element-\($0)-" + String(repeating: "x", count: 40)) }))
        // The middle element is a PLAIN node (container 1) between two packed nodes.
        XCTAssertEqual(try value(file, "list:plain").value, .list(["small", .repeating("P", 300), "tail"]))
        XCTAssertEqual(try value(file, "list:expire").value, .list(["x"]))
        XCTAssertEqual(try value(file, "list:expire").expireAtMs, 4_102_444_800_000)
    }

    func testRedis7AllTypesSets() throws {
        let file = try readRDB(RDBFixtures.bytes("redis7-alltypes.rdb"))
        let ints = try value(file, "set:ints")
        XCTAssertEqual(ints.encoding, RDBType.setIntset.rawValue)
        XCTAssertEqual(ints.value, .set(strings(["-100", "1", "2", "3", "70000"])))  // intsets are sorted
        XCTAssertEqual(try value(file, "set:ints64").value, .set(strings(["1", "5000000000"])))
        let strs = try value(file, "set:strs")
        XCTAssertEqual(strs.encoding, RDBType.set.rawValue)  // 7.0 has no set listpack
        XCTAssertEqual(normalized(strs.value), .set(strings(["apple", "banana", "cherry"])))
        XCTAssertEqual(normalized(try value(file, "set:big").value), .set((0..<600).map { Bytes("m\($0)") }.sorted()))
        XCTAssertEqual(try value(file, "set:bigints").encoding, RDBType.set.rawValue)
        XCTAssertEqual(normalized(try value(file, "set:bigints").value), .set((0..<600).map { Bytes("\($0)") }.sorted()))
    }

    func testRedis7AllTypesHashes() throws {
        let file = try readRDB(RDBFixtures.bytes("redis7-alltypes.rdb"))
        let small = try value(file, "hash:small")
        XCTAssertEqual(small.encoding, RDBType.hashListpack.rawValue)
        XCTAssertEqual(small.value, .hash([("f1", "v1", nil), ("f2", "2", nil), ("num", "123", nil)]))
        let big = try value(file, "hash:big")
        XCTAssertEqual(big.encoding, RDBType.hash.rawValue)
        XCTAssertEqual(normalized(big.value), normalized(.hash((0..<600).map { (Bytes("field\($0)"), Bytes("value\($0)"), nil) })))
        let long = try value(file, "hash:longval")
        XCTAssertEqual(long.encoding, RDBType.hash.rawValue)
        XCTAssertEqual(long.value, .hash([("k", .repeating("L", 100), nil)]))
    }

    func testRedis7AllTypesSortedSets() throws {
        let file = try readRDB(RDBFixtures.bytes("redis7-alltypes.rdb"))
        let small = try value(file, "zset:small")
        XCTAssertEqual(small.encoding, RDBType.zsetListpack.rawValue)
        XCTAssertEqual(small.value, .zset([("c", -3), ("e", 0.1), ("a", 1), ("b", 2.5), ("d", .infinity)]))
        let big = try value(file, "zset:big")
        XCTAssertEqual(big.encoding, RDBType.zset2.rawValue)
        guard case .zset(let members) = big.value else { return XCTFail() }
        // ZSET_2 is written from the highest score down.
        XCTAssertEqual(members.map { $0.member }, (0..<200).reversed().map { Bytes("member\($0)") })
        XCTAssertEqual(members.map { $0.score }, (0..<200).reversed().map { Double($0) * 1.5 })
        XCTAssertEqual(try value(file, "zset:longmember").value, .zset([(.repeating("M", 100), 1)]))
    }

    func testRedis7AllTypesStreamWithGroupsAndPendingEntries() throws {
        let file = try readRDB(RDBFixtures.bytes("redis7-alltypes.rdb"))
        let r = try value(file, "stream:small")
        XCTAssertEqual(r.encoding, RDBType.streamListpacks2.rawValue)
        guard case .stream(let s) = r.value else { return XCTFail() }
        XCTAssertEqual(s.entries, [
            RDBStreamEntry(id: RDBStreamID(ms: 1, seq: 1), fields: [("name", "alice"), ("age", "30")]),
            RDBStreamEntry(id: RDBStreamID(ms: 2, seq: 1), fields: [("other", "field")]),
            RDBStreamEntry(id: RDBStreamID(ms: 3, seq: 0), fields: [("name", "carol"), ("age", "41")]),
        ])
        XCTAssertEqual(s.meta, RDBStreamMeta(length: 3, lastID: RDBStreamID(ms: 3, seq: 0), firstID: RDBStreamID(ms: 1, seq: 1),
                                             maxDeletedID: RDBStreamID(ms: 1, seq: 2), entriesAdded: 4))
        XCTAssertEqual(s.groups.map { $0.name }, ["g1", "g2"])
        let g1 = s.groups[0]
        XCTAssertEqual(g1.lastID, RDBStreamID(ms: 2, seq: 1))
        XCTAssertEqual(g1.entriesRead, -1)  // 7.0 cannot count past the deleted 1-2
        XCTAssertEqual(g1.pending.map { $0.id }, [RDBStreamID(ms: 1, seq: 1), RDBStreamID(ms: 2, seq: 1)])
        XCTAssertEqual(g1.pending.map { $0.consumer }, ["alice", "alice"])
        XCTAssertEqual(g1.pending.map { $0.deliveryCount }, [1, 1])
        let ctime = Int64(try XCTUnwrap(file.auxValue("ctime")).debugText)! * 1000
        for p in g1.pending { XCTAssertLessThan(abs(p.deliveryTimeMs - ctime), 60_000) }
        XCTAssertEqual(g1.consumers.map { $0.name }, ["alice", "bob"])
        XCTAssertEqual(g1.consumers[0].pending, [RDBStreamID(ms: 1, seq: 1), RDBStreamID(ms: 2, seq: 1)])
        XCTAssertEqual(g1.consumers[1].pending, [])
        XCTAssertNil(g1.consumers[0].activeTimeMs)  // v3 field, not in RDB 10
        XCTAssertLessThan(abs(g1.consumers[0].seenTimeMs - ctime), 60_000)
        let g2 = s.groups[1]
        XCTAssertEqual(g2.lastID, RDBStreamID(ms: 3, seq: 0))
        XCTAssertEqual(g2.pending, [])
        XCTAssertEqual(g2.consumers, [])
    }

    func testRedis7AllTypesBigAndEmptiedStreams() throws {
        let file = try readRDB(RDBFixtures.bytes("redis7-alltypes.rdb"))
        guard case .stream(let big) = try value(file, "stream:big").value else { return XCTFail() }
        XCTAssertEqual(big.entries.count, 300)
        XCTAssertEqual(big.entries.map { $0.id }, (1...300).map { RDBStreamID(ms: UInt64($0), seq: 0) })
        XCTAssertEqual(big.entries.map { $0.fields[0].value }, (0..<300).map { Bytes("\($0)") })
        XCTAssertEqual(big.meta, RDBStreamMeta(length: 300, lastID: RDBStreamID(ms: 300, seq: 0), firstID: RDBStreamID(ms: 1, seq: 0),
                                               maxDeletedID: .zero, entriesAdded: 300))
        guard case .stream(let emptied) = try value(file, "stream:empty").value else { return XCTFail() }
        XCTAssertEqual(emptied.entries, [])
        XCTAssertEqual(emptied.meta, RDBStreamMeta(length: 0, lastID: RDBStreamID(ms: 5, seq: 5), firstID: .zero,
                                                   maxDeletedID: RDBStreamID(ms: 5, seq: 5), entriesAdded: 1))
    }

    func testRedis7AllTypesOtherDatabases() throws {
        let file = try readRDB(RDBFixtures.bytes("redis7-alltypes.rdb"))
        XCTAssertEqual(try value(file, "db1:key", db: 1).value, .string("in db 1"))
        XCTAssertEqual(try value(file, "db1:key", db: 1).expireAtMs, 4_102_444_800_000)
        XCTAssertEqual(try value(file, "db1:persistent", db: 1).value, .string("p"))
        XCTAssertNil(try value(file, "db1:persistent", db: 1).expireAtMs)
        XCTAssertEqual(try value(file, "db5:key", db: 5).value, .string("in db 5"))
        XCTAssertNil(file.record("db5:key", db: 0))
    }

    func testRedis7AllTypesEventStreamShape() throws {
        let events = try allEvents(RDBFixtures.bytes("redis7-alltypes.rdb"))
        guard case .header(10) = events.first else { return XCTFail("no header") }
        var dbs = [Int]()
        var resizes = [(UInt64, UInt64)]()
        var begins = 0, ends = 0
        for e in events {
            switch e {
            case .selectDB(let n): dbs.append(n)
            case .resizeDB(let a, let b): resizes.append((a, b))
            case .keyBegin: begins += 1
            case .keyEnd(_, let n): ends += 1; XCTAssertGreaterThan(n, 0)
            default: break
            }
        }
        XCTAssertEqual(dbs, [0, 1, 5])
        XCTAssertEqual(resizes.map { $0.0 }, [28, 2, 1])
        XCTAssertEqual(resizes.map { $0.1 }, [2, 1, 0])
        XCTAssertEqual(begins, 31)
        XCTAssertEqual(ends, 31)
        guard case .end(_, true) = events.last else { return XCTFail("checksum not verified") }
    }

    func testRedis7LFUFileCarriesFreqAndLRUFileCarriesIdle() throws {
        let lfu = try readRDB(RDBFixtures.bytes("redis7-lfu.rdb"))
        XCTAssertEqual(Set(lfu.keys.map { $0.key }), ["a", "b", "c"])
        for r in lfu.keys {
            XCTAssertNotNil(r.freq, r.key.debugText)
            XCTAssertNil(r.idle)
        }
        XCTAssertEqual(try value(lfu, "b").freq, 5)  // LFU_INIT_VAL for a new object
        let lru = try readRDB(RDBFixtures.bytes("redis7-lru.rdb"))
        for r in lru.keys {
            XCTAssertNotNil(r.idle, r.key.debugText)
            XCTAssertNil(r.freq)
        }
        XCTAssertEqual(try value(lru, "c").value, .hash([("f", "v", nil)]))
    }

    func testRedis7UncompressedFileWithoutChecksum() throws {
        let bytes = try RDBFixtures.bytes("redis7-plain.rdb")
        let events = try allEvents(bytes)
        guard case .end(0, false) = events.last else { return XCTFail("expected an unverified zero checksum") }
        let file = try readRDB(bytes)
        XCTAssertEqual(try value(file, "long").value, .string(.repeating("z", 100)))
        XCTAssertEqual(try value(file, "h").value, .hash([("field", .repeating("y", 50), nil)]))
        // rdbcompression no: the 100 "z" are stored raw, right after their length byte 0x40 0x64.
        let raw: [UInt8] = [0x40, 0x64] + Array(repeating: 0x7A, count: 100)
        XCTAssertTrue(bytes.indices.contains { i in i + raw.count <= bytes.count && Array(bytes[i..<(i + raw.count)]) == raw })
    }
}
