import XCTest
@testable import CairnEngine

/// Engine.prefetchMembers (Values/MemberPrefetch.swift): a pipeline's member lookups on big
/// sets and hashes are prefetched before its commands run, and that changes nothing.
final class MemberPrefetchTests: XCTestCase {
    func cmd(_ words: String...) -> [Bytes] { words.map { Bytes($0) } }

    func run(_ engine: Engine, _ client: ClientSession, _ argv: [Bytes]) -> String {
        engine.execute(client, argv)
        return String(decoding: client.reply.take(), as: UTF8.self)
    }

    func memberTable(_ engine: Engine, _ key: String) -> MemberTable? {
        switch engine.database(0).find(Bytes(key))?.value {
        case .set(let s): return s.table
        case .hash(let h): return h.table
        default: return nil
        }
    }

    /// Table order, count and rehash position of a member table.
    func layout(_ t: MemberTable) -> [String] {
        var out = ["count \(t.count)", "rehash \(t.rehashIndex)", "buckets \(t.bucketCount)"]
        t.forEach { out.append($0.key.debugText) }
        return out
    }

    func testPrefetchingAPipelineChangesNoTableAndTheCommandsAnswerAsWithout() {
        let engine = Engine()
        let client = engine.connect()
        // A set in table encoding caught just as it starts growing (512 members fill its 512
        // buckets; the 513th starts the move to 1024), a big hash, and keys of other kinds.
        XCTAssertEqual(run(engine, client, [Bytes("SADD"), Bytes("big")] + (0..<300).map { Bytes("m\($0)") }), ":300\r\n")
        for i in 300..<513 { XCTAssertEqual(run(engine, client, cmd("SADD", "big", "m\(i)")), ":1\r\n") }
        XCTAssertEqual(run(engine, client, [Bytes("HSET"), Bytes("bigh")] + (0..<600).flatMap { [Bytes("f\($0)"), Bytes("v\($0)")] }), ":600\r\n")
        XCTAssertEqual(run(engine, client, cmd("SADD", "small", "a", "b")), ":2\r\n")
        XCTAssertEqual(run(engine, client, cmd("SET", "str", "v")), "+OK\r\n")
        XCTAssertEqual(run(engine, client, cmd("ZADD", "z", "1", "a")), ":1\r\n")
        guard let big = memberTable(engine, "big"), let bigh = memberTable(engine, "bigh") else {
            return XCTFail("big and bigh should be in table encoding")
        }
        XCTAssertNil(memberTable(engine, "small"))
        XCTAssertTrue(big.isRehashing)

        // argv[2] of every kind: members, a field, a destination key, a cursor, a score, a
        // missing key, too few arguments, and more requests than are prefetched.
        var batch: [[Bytes]] = [
            cmd("SADD", "big", "new"), cmd("HSET", "bigh", "f1", "x"), cmd("SISMEMBER", "big", "m5"),
            cmd("SADD", "small", "c"), cmd("GET", "str"), cmd("ZADD", "z", "2", "b"),
            cmd("SMOVE", "big", "small", "m1"), cmd("HSCAN", "bigh", "0", "COUNT", "1"), cmd("PING"),
            cmd("SADD", "big"), cmd("SADD", "missing", "x"), [], cmd("HGET", "bigh", "nofield"),
        ]
        for i in 0..<(Engine.memberPrefetchMax + 10) { batch.append(cmd("SISMEMBER", "big", "m\(i * 7)")) }
        let keysBefore = (engine.database(0).count, engine.database(0).keys.rehashIndex)
        let bigBefore = layout(big), bighBefore = layout(bigh)
        engine.prefetchKeys(client, batch[...])
        XCTAssertEqual(layout(big), bigBefore, "no rehash step, no change")
        XCTAssertEqual(layout(bigh), bighBefore)
        XCTAssertEqual(engine.database(0).count, keysBefore.0)
        XCTAssertEqual(engine.database(0).keys.rehashIndex, keysBefore.1)

        let expected = [":1\r\n", ":0\r\n", ":1\r\n", ":1\r\n", "$1\r\nv\r\n", ":1\r\n", ":1\r\n"]
        for (argv, reply) in zip(batch, expected) { XCTAssertEqual(run(engine, client, argv), reply, "\(argv)") }
        XCTAssertEqual(run(engine, client, cmd("HGET", "bigh", "f1")), "$1\r\nx\r\n")
        XCTAssertEqual(run(engine, client, cmd("SCARD", "big")), ":513\r\n", "513 + new - m1")
        XCTAssertEqual(run(engine, client, cmd("SISMEMBER", "small", "m1")), ":1\r\n")
    }

    func testOnlySetAndHashCommandNamesArePrefetchedFor() {
        for name in ["SADD", "sadd", "SRem", "SISMEMBER", "SMISMEMBER", "SMOVE", "HSET", "hget", "HDEL",
                     "HINCRBYFLOAT", "HMGET", "HSETNX", "HSCAN"] {
            XCTAssertTrue(Engine.mayNameMember(Bytes(name)), name)
        }
        for name in ["SET", "set", "SETEX", "setrange", "SELECT", "GET", "ZADD", "LPUSH", "MSET", "INCRBY",
                     "", "S", "HS", "SAD", "\u{D3}ADD"] {
            XCTAssertFalse(Engine.mayNameMember(Bytes(name)), name)
        }
    }

    func testPeekFindsWhatFindFindsWithoutMovingTheRehash() {
        let t = HashTable<TestNode>(seed: SipHashSeed(k0: 1, k1: 2))
        for i in 0..<1025 { t.insert(TestNode("k\(i)")) }   // growing to 2048 buckets
        XCTAssertTrue(t.isRehashing)
        let at = t.rehashIndex
        for i in 0..<1100 {
            let peeked = Bytes("k\(i)").withUnsafeBytes { t.peek($0) }
            XCTAssertEqual(peeked?.key, i < 1025 ? Bytes("k\(i)") : nil)
        }
        XCTAssertEqual(t.rehashIndex, at)
        XCTAssertTrue(Bytes("k7").withUnsafeBytes { t.peek($0) } === t.find(Bytes("k7")))
        XCTAssertNil(HashTable<TestNode>(seed: SipHashSeed(k0: 1, k1: 2)).peek(UnsafeRawBufferPointer(start: nil, count: 0)))
    }
}
