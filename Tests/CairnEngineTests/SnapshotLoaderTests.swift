@testable import CairnEngine
@testable import CairnFormats
import Foundation
import XCTest

/// The start-up loader's two ways (pipelined over threads, and all on one thread) against the
/// reference: the reader's event path (`readRDB`) turned into values by `ValueCodec`, key by
/// key. Same keys, values, encodings, TTLs, digest; same located error for damaged files.
final class SnapshotLoaderTests: XCTestCase {
    static let fixtures: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Fixtures/redis-rdb").path
    }()

    func fixture(_ name: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: SnapshotLoaderTests.fixtures + "/" + name) else {
            throw XCTSkip("fixture \(name) missing")
        }
        return [UInt8](data)
    }

    enum Outcome: Equatable {
        case loaded(digest: String, keys: [String])
        case failed(String)
    }

    /// Every key as "db/key type encoding ttl value", and DEBUG DIGEST.
    func describe(_ h: EngineHarness) -> Outcome {
        var keys: [String] = []
        for db in h.engine.databases {
            db.keys.forEach { e in
                var order = ""
                if case .set(let s) = e.value, s.isListpack {   // a listpack's order is observable
                    order = " order " + s.members.map { $0.debugText }.joined(separator: ",")
                }
                keys.append("\(db.id)/\(e.key.debugText) \(e.value.encodingName) \(e.expireAtMs) \(DatasetCopy.describe(e.value))\(order)")
            }
        }
        return .loaded(digest: h.run(["DEBUG", "DIGEST"]), keys: keys.sorted())
    }

    /// One engine for every load of a test (a load reads only its configuration; making an
    /// engine per load would make the damage test slow).
    let h = EngineHarness()

    func emptyDatabases() -> [Database] {
        (0..<h.engine.databases.count).map { Database(id: $0, seed: h.engine.seed) }
    }

    /// The reference: the event path and ValueCodec, no expired key dropped.
    func reference(_ bytes: [UInt8]) -> Outcome {
        h.engine.replaceDatabases(emptyDatabases())
        do {
            let file = try readRDB(try decompress(bytes))
            let limits = CollectionLimits(h.engine.config, seed: h.engine.seed)
            for r in file.keys {
                let value = try ValueCodec.value(from: r.value, limits: limits, rdbType: r.encoding)
                h.engine.databases[r.db].add(KeyEntry.make(key: r.key, value: value, expireAtMs: r.expireAtMs ?? KeyEntry.noExpiry, clock: 0))
            }
        } catch let e as RDBError {
            return .failed(SnapshotLoadError(offset: e.offset, container: .none, compressedOffset: nil, key: e.key, reason: e.reason).description)
        } catch {
            return .failed("\(error)")
        }
        return describe(h)
    }

    func load(_ bytes: [UInt8], pipelined: Bool, dropExpired: Bool = false, nowMs: Int64 = 0) -> (Outcome, SnapshotLoadResult?) {
        h.engine.replaceDatabases(emptyDatabases())
        do {
            let result = try SnapshotLoader.load(SnapshotInput(bytes: bytes), engine: h.engine,
                                                 options: SnapshotLoadOptions(dropExpired: dropExpired, nowMs: nowMs, pipelined: pipelined))
            h.engine.replaceDatabases(result.databases)
            return (describe(h), result)
        } catch {
            return ("\(error)" == "" ? .failed("?") : .failed("\(error)"), nil)
        }
    }

    /// Both loader ways equal the reference (errors the loader adds are allowed only where the
    /// reference loaded: a key twice, a database out of range, a value Cairn cannot hold).
    func assertSameAsReference(_ bytes: [UInt8], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let expected = reference(bytes)
        let pipelined = load(bytes, pipelined: true).0
        let sequential = load(bytes, pipelined: false).0
        XCTAssertEqual(pipelined, sequential, "\(label): pipelined and sequential differ", file: file, line: line)
        if case .failed(let why) = pipelined, case .loaded = expected {
            let loaderOnly = ["duplicate key", "databases (raise", "not supported", "function libraries", "module"]
            XCTAssertTrue(loaderOnly.contains { why.contains($0) }, "\(label): \(why)", file: file, line: line)
            return
        }
        XCTAssertEqual(pipelined, expected, label, file: file, line: line)
    }

    // MARK: datasets

    func testRedisFixturesLoadAsTheEventPathBuildsThem() throws {
        for name in ["encodings.rdb", "hash-zipmap.rdb", "hash-ziplist.rdb", "list-quicklist.rdb", "zset-ziplist.rdb",
                     "redis7-plain.rdb", "redis7-lru.rdb", "redis7-lfu.rdb", "corrupt_ziplist.rdb", "corrupt_empty_keys.rdb"] {
            assertSameAsReference(try fixture(name), name)
        }
        // The fixture with every Redis 7 type holds function libraries and streams: refused
        // with the first of them, located.
        let all = load(try fixture("redis7-alltypes.rdb"), pipelined: true).0
        guard case .failed(let why) = all else { return XCTFail("redis7-alltypes.rdb loaded") }
        XCTAssertTrue(why.contains("function libraries"), why)
    }

    /// Every collection in both of its encodings, strings of every shape, TTLs, several
    /// databases, more keys than one batch: what Cairn writes.
    func cairnSnapshot(keys: Int = 2000, big: Int = 300) -> [UInt8] {
        let h = EngineHarness()
        for db in [0, 3] {
            h.run(["SELECT", String(db)])
            for i in 0..<keys {
                switch i % 7 {
                case 0: h.run(["SET", "s\(i)", String(repeating: "v\(i)", count: 1 + i % 40), "PX", String(100_000 + i)])
                case 1: h.run(["SET", "n\(i)", String(i * 31 - 5000)])
                case 2: h.run(["HSET", "h\(i)", "a", "1", "b\(i)", "x", "c", String(repeating: "y", count: i % 80)])
                case 3: h.run(["RPUSH", "l\(i)", "a", String(i), "-3", String(repeating: "z", count: i % 50)])
                case 4: h.run(["SADD", "i\(i)", "3", String(i), "-9"])
                case 5: h.run(["SADD", "m\(i)", "x\(i)", "y", String(i)])
                default: h.run(["ZADD", "z\(i)", "1.5", "a", "-0", "b", String(i % 5), "c\(i)", "inf", "d"])
                }
            }
        }
        h.run(["SELECT", "0"])
        for i in 0..<big {
            h.run(["HSET", "hbig", "f\(i)", "v\(i)"])
            h.run(["SADD", "sbig", "m\(i)"])
            h.run(["SADD", "ibig", String(i * 3)])
            h.run(["ZADD", "zbig", String(Double(i) / 7), "m\(i)"])
            h.run(["RPUSH", "lbig", "e\(i)"])
        }
        let sink = MemorySnapshotSink()
        let driver = SnapshotDriver(engine: h.engine, sink: sink)
        driver.begin()
        driver.runToCompletion()
        return sink.bytes
    }

    func testCairnSnapshotsLoadAsTheEventPathBuildsThemInEveryContainer() throws {
        let plain = cairnSnapshot()
        for container in [CompressionFormat.none, .lz4, .zlib] {
            let bytes = try compress(plain, format: container)
            let (pipelined, result) = load(bytes, pipelined: true)
            XCTAssertEqual(result?.keysLoaded, 4005)
            XCTAssertEqual(pipelined, load(bytes, pipelined: false).0, "\(container)")
            XCTAssertEqual(pipelined, reference(bytes), "\(container)")
        }
    }

    /// Files another writer could produce that Cairn never writes: packed collections over
    /// Cairn's limits, sorted-set listpacks out of order, -0 scores, a hash value too long
    /// for a listpack arriving after packed fields.
    func testPackedValuesOverTheLimitsOrOutOfOrderLoadAsTheEventPathBuildsThem() {
        let w = RDBWriter()
        w.header()
        w.selectDB(0)
        let big = Int.max
        w.hash(key: Bytes("long-value-last"), fields: [(Bytes("a"), Bytes("1")), (Bytes("b"), Bytes(String(repeating: "x", count: 100)))],
               maxListpackEntries: big, maxListpackValue: big)
        w.hash(key: Bytes("long-field"), fields: [(Bytes(String(repeating: "f", count: 70)), Bytes("1")), (Bytes("b"), Bytes("2"))],
               maxListpackEntries: big, maxListpackValue: big)
        w.hash(key: Bytes("many-fields"), fields: (0..<200).map { (Bytes("f\($0)"), Bytes("\($0)")) },
               maxListpackEntries: big, maxListpackValue: big)
        // RDBWriter sorts; a listpack out of order is written by hand.
        var lp = ListpackBuilder()
        for (m, score) in [("c", "3"), ("a", "1"), ("b", "1"), ("z", "-0"), ("y", "0"), ("x", "0.5")] {
            lp.append(Bytes(m))
            lp.append(Bytes(score))
        }
        w.keyPrefix(type: .zsetListpack, key: Bytes("unsorted"), expireAtMs: nil, idle: nil, freq: nil)
        w.string(lp.finish())
        w.zset(key: Bytes("negative-zero"), members: [(Bytes("a"), -0.0), (Bytes("b"), 0), (Bytes("c"), 2)],
               maxListpackEntries: big, maxListpackValue: big)
        w.zset(key: Bytes("many-members"), members: (0..<200).map { (Bytes("m\($0)"), Double($0 % 13) - 0.0) },
               maxListpackEntries: big, maxListpackValue: big)
        w.zset(key: Bytes("long-member"), members: [(Bytes("a"), 1), (Bytes(String(repeating: "m", count: 70)), 2)],
               maxListpackEntries: big, maxListpackValue: big)
        w.set(key: Bytes("ints-then-string"), members: [Bytes("1"), Bytes("2"), Bytes("x")], maxIntsetEntries: 0, maxListpackEntries: 0)
        w.set(key: Bytes("many-ints"), members: (0..<600).map { Bytes("\($0)") }, maxIntsetEntries: 0, maxListpackEntries: 0)
        w.end()
        assertSameAsReference(w.takeOutput(), "crafted")
    }

    /// Sets load in the encoding Redis 7.2's rdbLoadObject gives a plain set: an intset while
    /// members are integers, then a listpack (the integers first, ascending) while it fits
    /// set-max-listpack-*, else a table; a table straight away when the count is over
    /// set-max-intset-entries. Type-11 intsets go the same way; a type-20 listpack stays a
    /// listpack in file order, whatever its members, unless it is over
    /// set-max-listpack-entries (rdbLoadObject's RDB_TYPE_SET_LISTPACK case).
    func testSetsLoadInTheEncodingRedis72Builds() {
        let w = RDBWriter(version: 11)
        w.header()
        w.selectDB(0)
        func plain(_ key: String, _ members: [String]) {
            w.set(key: Bytes(key), members: members.map { Bytes($0) }, maxIntsetEntries: 0, maxListpackEntries: 0)
        }
        plain("strs", ["b", "a", "c"])
        plain("mixed", ["3", "1", "x", "2"])
        plain("ints", ["5", "3"])
        plain("s128", (0..<128).map { "m\($0)" })
        plain("s129", (0..<129).map { "m\($0)" })
        plain("ints127-then-string", (0..<127).map { "\($0)" } + ["x"])
        plain("ints128-then-string", (0..<128).map { "\($0)" } + ["x"])
        plain("v64", ["a", String(repeating: "v", count: 64)])
        plain("v65", ["a", String(repeating: "v", count: 65)])
        w.set(key: Bytes("lp"), members: [Bytes("q"), Bytes("p")], maxIntsetEntries: 0)
        func listpack(_ key: String, _ members: [String]) {
            w.set(key: Bytes(key), members: members.map { Bytes($0) }, maxIntsetEntries: 0,
                  maxListpackEntries: .max, maxListpackValue: .max)
        }
        listpack("lp-ints", ["2", "1"])
        listpack("lp-mixed", ["5", "x", "3"])
        listpack("lp-long", ["a", String(repeating: "v", count: 65)])
        listpack("lp-129", (0..<129).map { "m\($0)" })
        w.set(key: Bytes("intset"), members: [Bytes("2"), Bytes("1")])
        w.set(key: Bytes("intset600"), members: (0..<600).map { Bytes("\($0)") }, maxIntsetEntries: .max)
        w.end()
        let bytes = w.takeOutput()
        assertSameAsReference(bytes, "sets")
        _ = load(bytes, pipelined: true)
        let expected: [(String, String)] = [
            ("strs", "listpack"), ("mixed", "listpack"), ("ints", "intset"), ("s128", "listpack"), ("s129", "hashtable"),
            ("ints127-then-string", "listpack"), ("ints128-then-string", "hashtable"), ("v64", "listpack"),
            ("v65", "hashtable"), ("lp", "listpack"), ("intset", "intset"), ("intset600", "hashtable"),
            ("lp-ints", "listpack"), ("lp-mixed", "listpack"), ("lp-long", "listpack"), ("lp-129", "hashtable"),
        ]
        for (key, encoding) in expected {
            XCTAssertEqual(h.run(["OBJECT", "ENCODING", key]), "$\(encoding.count)\r\n\(encoding)\r\n", key)
        }
        XCTAssertEqual(h.run(["SMEMBERS", "strs"]), "*3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n")
        XCTAssertEqual(h.run(["SMEMBERS", "mixed"]), "*4\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\nx\r\n$1\r\n2\r\n")
        XCTAssertEqual(h.run(["SMEMBERS", "lp"]), "*2\r\n$1\r\nq\r\n$1\r\np\r\n")
        XCTAssertEqual(h.run(["SMEMBERS", "lp-ints"]), "*2\r\n$1\r\n2\r\n$1\r\n1\r\n")
        XCTAssertEqual(h.run(["SMEMBERS", "lp-mixed"]), "*3\r\n$1\r\n5\r\n$1\r\nx\r\n$1\r\n3\r\n")
        // Over set-max-intset-entries: the table, although a listpack would hold it.
        h.engine.config.setMaxIntsetEntries = 2
        assertSameAsReference(bytes, "sets, set-max-intset-entries 2")
        _ = load(bytes, pipelined: true)
        XCTAssertEqual(h.run(["OBJECT", "ENCODING", "strs"]), "$9\r\nhashtable\r\n")
        XCTAssertEqual(h.run(["OBJECT", "ENCODING", "lp"]), "$8\r\nlistpack\r\n")
    }

    /// An RDB listpack set bigger than the parsing stage records (its mark is replayed into
    /// the builder that takes over): still a listpack, as the event path builds it.
    func testABigListpackSetPastTheRecordingLimitStaysAListpack() {
        let w = RDBWriter(version: 11)
        w.header()
        w.selectDB(0)
        let members = (0..<24).map { Bytes("\($0)-" + String(repeating: "v", count: 60_000)) }
        w.set(key: Bytes("big-lp"), members: members, maxIntsetEntries: 0, maxListpackEntries: .max, maxListpackValue: .max)
        w.string(key: Bytes("after"), value: Bytes("1"))
        w.end()
        let bytes = w.takeOutput()
        assertSameAsReference(bytes, "big listpack set")
        _ = load(bytes, pipelined: true)
        XCTAssertEqual(h.run(["OBJECT", "ENCODING", "big-lp"]), "$8\r\nlistpack\r\n")
        XCTAssertEqual(h.run(["SCARD", "big-lp"]), ":24\r\n")
        XCTAssertEqual(h.run(["SISMEMBER", "big-lp", "23-" + String(repeating: "v", count: 60_000)]), ":1\r\n")
    }

    /// Values bigger than the parsing stage records in a batch (SnapshotElementRecorder's
    /// flatBytesMax, 1 MiB): the part recorded is replayed into a builder on the parsing
    /// thread, which takes the rest. Same values as the event path; batches cut by bytes.
    func testValuesPastTheRecordingLimitLoadAsTheEventPathBuildsThem() {
        let w = RDBWriter()
        w.header()
        w.selectDB(0)
        let n = 45_000   // ~28 bytes each as recorded: 1.26 MB per collection
        let member = { (i: Int) in Bytes("member-\(i)-" + String(repeating: "x", count: 6)) }
        w.set(key: Bytes("big-set"), members: (0..<n).map(member), maxIntsetEntries: 0, maxListpackEntries: 0)
        w.hash(key: Bytes("big-hash"), fields: (0..<n).map { (member($0), Bytes("\($0)")) }, expireAtMs: EngineHarness.startMs + 5000)
        w.zset(key: Bytes("big-zset"), members: (0..<n).map { (member($0), Double($0) / 3) })
        w.list(key: Bytes("big-list"), elements: (0..<n).map(member))
        w.string(key: Bytes("big-string"), value: Bytes(String(repeating: "s", count: 1_500_000)))
        for i in 0..<12 { w.string(key: Bytes("mid\(i)"), value: Bytes(String(repeating: "m", count: 200_000 + i))) }
        w.string(key: Bytes("after"), value: Bytes("1"))
        w.end()
        assertSameAsReference(w.takeOutput(), "big values")
    }

    /// A member twice in a set, before and after the recording limit: refused at the same
    /// element with the same error as the event path (recorded elements answer by their
    /// index, the rest by the builder).
    func testDuplicatesInBigSetsAreRefusedWhereTheEventPathRefusesThem() {
        // (member repeated, where the repeat goes): while the first 16 are scanned, once the
        // index is a table, and past the recording limit (~37,000 members).
        for (dupOf, after) in [(3, 8), (10, 30), (59_990, 59_999)] {
            let w = RDBWriter()
            w.header()
            w.selectDB(0)
            w.string(key: Bytes("before"), value: Bytes("1"))
            w.keyPrefix(type: .set, key: Bytes("dup-set"), expireAtMs: nil, idle: nil, freq: nil)
            w.length(60_001)
            for i in 0..<60_000 {
                w.string(Bytes("member-\(i)-xxxxxx"))
                if i == after { w.string(Bytes("member-\(dupOf)-xxxxxx")) }
            }
            w.end()
            let bytes = w.takeOutput()
            assertSameAsReference(bytes, "duplicate of member \(dupOf)")
            let failure = load(bytes, pipelined: true).0
            guard case .failed(let why) = failure else { return XCTFail("loaded with a duplicate") }
            XCTAssertTrue(why.contains("duplicate set member \"member-\(dupOf)-xxxxxx\""), why)
        }
    }

    /// Short members (0 to 20 bytes, compared by word loads rather than memcmp) that differ
    /// from another in one byte only are all distinct; an exact repeat is refused.
    func testShortMembersDifferingInOneByteAreDistinctAndARepeatIsRefused() {
        let letters = Array("abcdefghijklmnopqrstu".utf8)
        for n in 0...20 {
            let base = Array(letters.prefix(n))
            var members = [base]
            for i in 0..<n {
                var m = base
                m[i] = UInt8(ascii: "Z")
                members.append(m)
            }
            for repeated in [false, true] {
                let w = RDBWriter()
                w.header()
                w.selectDB(0)
                w.keyPrefix(type: .set, key: Bytes("s"), expireAtMs: nil, idle: nil, freq: nil)
                w.length(members.count + (repeated ? 1 : 0))
                for m in members { w.string(Bytes(m)) }
                if repeated { w.string(Bytes(base)) }
                w.end()
                let bytes = w.takeOutput()
                assertSameAsReference(bytes, "\(n)-byte members, repeated \(repeated)")
                let (outcome, result) = load(bytes, pipelined: true)
                if repeated {
                    guard case .failed(let why) = outcome else { XCTFail("\(n) bytes: loaded with a duplicate"); continue }
                    XCTAssertTrue(why.contains("duplicate set member"), why)
                } else {
                    XCTAssertEqual(result?.keysLoaded, 1, "\(n) bytes: \(outcome)")
                    XCTAssertEqual(h.engine.databases[0].find(Bytes("s")).map { e -> Int in
                        if case .set(let v) = e.value { return v.count } else { return -1 } }, members.count, "\(n) bytes")
                }
            }
        }
    }

    // MARK: damage

    /// Every truncation point and a byte flipped at each of many positions: the loader fails
    /// exactly where, on which key and why the event path fails, pipelined or not.
    func testDamagedFilesFailWithTheEventPathsLocatedError() {
        // Big collections just over the listpack limits (tables, skip list, intset).
        let plain = cairnSnapshot(keys: 30, big: 130)
        // (Under 5 bytes the container cannot be told, which `decompress` reports its own way.)
        for n in stride(from: 5, to: plain.count, by: 13) {
            assertSameAsReference(Array(plain.prefix(n)), "truncated at \(n)")
        }
        for at in stride(from: 9, to: plain.count, by: 7) {
            var damaged = plain
            damaged[at] ^= at % 2 == 0 ? 0xFF : 0x01
            assertSameAsReference(damaged, "byte \(at) flipped")
        }
    }

    /// A key twice in a database, then damage further on: the duplicate comes first in the file,
    /// so it is the error, although the decoding thread met the damage first.
    func testADuplicateKeyIsReportedBeforeLaterDamage() {
        let w = RDBWriter()
        w.header()
        w.selectDB(0)
        var dupOffset = 0
        for i in 0..<3000 {
            if i == 1500 {
                dupOffset = w.bytesWritten
                w.string(key: Bytes("k10"), value: Bytes("again"))
            }
            w.string(key: Bytes("k\(i)"), value: Bytes("v\(i)"))
        }
        w.end()
        let bytes = Array(w.takeOutput().dropLast(100))
        for pipelined in [true, false] {
            XCTAssertEqual(load(bytes, pipelined: pipelined).0,
                           .failed("at byte offset \(dupOffset), key \"k10\": duplicate key in database 0"))
        }
    }

    func testExpiredKeysAreDroppedOnBothWays() {
        let bytes = cairnSnapshot()
        for pipelined in [true, false] {
            // s-keys expire at start + 100000 + i: half of them are past.
            let (outcome, result) = load(bytes, pipelined: pipelined, dropExpired: true, nowMs: EngineHarness.startMs + 101_000)
            XCTAssertEqual(result?.keysExpired, 2 * 143, "\(pipelined)")
            XCTAssertEqual(result?.keysLoaded, 4005 - 2 * 143, "\(pipelined)")
            guard case .loaded(_, let keys) = outcome else { return XCTFail("\(outcome)") }
            XCTAssertFalse(keys.contains { $0.hasPrefix("0/s0 ") })
            XCTAssertTrue(keys.contains { $0.hasPrefix("0/s1001 ") })
        }
    }
}
