import XCTest
@testable import CairnEngine

/// The prefetching of ZADD/ZINCRBY on big sorted sets (Values/MemberPrefetch.swift,
/// SkipList.prefetchPaths): the walks find the places the commands will, the requests they
/// are made for are exactly the ones whose commands descend, and prefetching a pipeline
/// changes no reply and no value.
final class SortedSetPrefetchTests: XCTestCase {
    func cmd(_ words: String...) -> [Bytes] { words.map { Bytes($0) } }

    /// A member of 1 to 40 bytes (both inline and heap Bytes), from a small alphabet so
    /// that prefixes are shared.
    func member(_ rng: inout SplitMix64) -> Bytes {
        let n = Int.random(in: 1...40, using: &rng)
        return Bytes((0..<n).map { _ in UInt8(ascii: "a") + UInt8.random(in: 0..<3, using: &rng) })
    }

    func elements(_ l: SkipList) -> [String] {
        var out: [String] = []
        var n = l.first
        while let x = n { out.append("\(x.score) \(x.key.debugText)"); n = l.next(x) }
        return out
    }

    func testPathWalksEndAtTheLastNodeBeforeTheirTargets() {
        var rng = SplitMix64(seed: 21)
        let l = SkipList(seed: 99)
        var inserted: [(Double, Bytes)] = []
        var seen = Set<Bytes>()
        while inserted.count < 3000 {
            let m = member(&rng)
            guard seen.insert(m).inserted else { continue }
            // 50 scores for 3000 members: most comparisons are ties decided by the bytes.
            let s = Double(Int.random(in: 0..<50, using: &rng))
            l.insert(s, m)
            inserted.append((s, m))
        }
        let before = elements(l)
        // Every target: absent members at scores in and around the list's, and members present.
        var targets: [(Double, Bytes)] = (0..<400).map { _ in (Double(Int.random(in: -1...50, using: &rng)), member(&rng)) }
        targets += (0..<200).map { _ in inserted[Int.random(in: 0..<inserted.count, using: &rng)] }
        targets.append((-.infinity, Bytes()))
        targets.append((.infinity, Bytes("zzz")))

        /// The last node before (score, member), by walking level 0; nil for the header.
        func lastBefore(_ score: Double, _ m: Bytes) -> ZSetNode? {
            var last: ZSetNode? = nil
            var n = l.first
            while let x = n, SkipList.less(x, score, m) { last = x; n = l.next(x) }
            return last
        }

        var checked = 0
        for group in [1, 2, 7, 64] {
            var at = 0
            while at < targets.count {
                let chunk = targets[at..<min(at + group, targets.count)]
                withUnsafeTemporaryAllocation(of: SkipList.PathCursor.self, capacity: chunk.count) { cursors in
                    for (i, t) in chunk.enumerated() {
                        (cursors.baseAddress! + i).initialize(to: SkipList.PathCursor(l, t.0, t.1))
                    }
                    SkipList.prefetchPaths(cursors)
                    for c in cursors {
                        XCTAssertEqual(c.level, -1)
                        let expected = lastBefore(c.score, c.member)
                        XCTAssertEqual(c.node, expected ?? l.header, "\(c.score) \(c.member.debugText)")
                        checked += 1
                    }
                    cursors.deinitialize()
                }
                at += group
            }
        }
        XCTAssertEqual(checked, 4 * targets.count)
        XCTAssertEqual(elements(l), before, "walks only read")
    }

    func testZAddRequestsAreReadAsZAddReadsThem() {
        func parsed(_ words: String...) -> String {
            guard let (r, i) = ZAddRequest.parse(words.map { Bytes($0) }) else { return "nil" }
            let flags = [("nx", r.nx), ("xx", r.xx), ("gt", r.gt), ("lt", r.lt), ("incr", r.incr)]
                .filter { $0.1 }.map { $0.0 }
            return "\(r.score) @\(i)" + (flags.isEmpty ? "" : " " + flags.joined(separator: ","))
        }
        XCTAssertEqual(parsed("ZADD", "z", "1", "m"), "1.0 @3")
        XCTAssertEqual(parsed("zadd", "z", "-2.5", "m"), "-2.5 @3")
        XCTAssertEqual(parsed("ZADD", "z", "NX", "ch", "7", "m"), "7.0 @5 nx")
        XCTAssertEqual(parsed("ZADD", "z", "xx", "GT", "CH", "INCR", "+inf", "m"), "inf @7 xx,gt,incr")
        XCTAssertEqual(parsed("ZADD", "z", "LT", "3", "nx"), "3.0 @4 lt", "a member named like an option")
        XCTAssertEqual(parsed("ZINCRBY", "z", "0.5", "m"), "0.5 @3 incr")
        XCTAssertEqual(parsed("ZINCRBY", "z", "0.5", "m", "x"), "nil")
        XCTAssertEqual(parsed("ZADD", "z", "1", "a", "2", "b"), "nil", "one pair only")
        XCTAssertEqual(parsed("ZADD", "z", "NX", "1"), "nil")
        XCTAssertEqual(parsed("ZADD", "z", "one", "m"), "nil")
        XCTAssertEqual(parsed("ZADD", "z", "nan", "m"), "nil")
        XCTAssertEqual(parsed("ZADD", "z", "1"), "nil")
        XCTAssertEqual(parsed("ZSCORE", "z", "m", "x"), "nil")
        XCTAssertEqual(parsed("ZADDX", "z", "1", "m"), "nil")
        XCTAssertEqual(parsed("SADD", "z", "1", "m"), "nil")
    }

    func testDescentsAreTheOnesTheChangeMakes() {
        let z = ZSetValue()
        var limits = CollectionLimits(EngineConfig(), seed: SipHashSeed(k0: 1, k1: 2))
        limits.zsetMaxListpackEntries = 0
        for (i, m) in ["a", "b", "c", "d"].enumerated() { z.insert(Bytes(m), Double(10 * (i + 1)), limits: limits) }
        XCTAssertFalse(z.isPacked)
        func node(_ m: String) -> ZSetNode { ZSetNode(z.index!.find(Bytes(m))!) }
        func descents(_ r: ZAddRequest, _ m: String) -> String {
            let found = z.index!.find(Bytes(m)).map(ZSetNode.init)
            let (old, new) = r.descents(found, Bytes(m))
            return "\(old.map { "\($0)" } ?? "-") \(new.map { "\($0)" } ?? "-")"
        }
        // b = 20 between a = 10 and c = 30.
        XCTAssertEqual(descents(ZAddRequest(score: 5), "new"), "- 5.0")
        XCTAssertEqual(descents(ZAddRequest(score: 5, xx: true), "new"), "- -")
        XCTAssertEqual(descents(ZAddRequest(score: 5, nx: true), "new"), "- 5.0")
        XCTAssertEqual(descents(ZAddRequest(score: 25), "b"), "- -", "still between its neighbours")
        XCTAssertEqual(descents(ZAddRequest(score: 30), "b"), "- -", "ties with c, and b < c")
        XCTAssertEqual(descents(ZAddRequest(score: 10), "b"), "- -", "ties with a, and a < b: stays")
        XCTAssertEqual(descents(ZAddRequest(score: 10), "c"), "30.0 10.0", "ties with a, after b = 20: moves")
        XCTAssertEqual(descents(ZAddRequest(score: 35), "b"), "20.0 35.0")
        XCTAssertEqual(descents(ZAddRequest(score: 20), "b"), "- -", "same score")
        XCTAssertEqual(descents(ZAddRequest(score: 35, nx: true), "b"), "- -")
        XCTAssertEqual(descents(ZAddRequest(score: 35, xx: true), "b"), "20.0 35.0")
        XCTAssertEqual(descents(ZAddRequest(score: 5, gt: true), "b"), "- -")
        XCTAssertEqual(descents(ZAddRequest(score: 35, lt: true), "b"), "- -")
        XCTAssertEqual(descents(ZAddRequest(score: 5, lt: true), "b"), "20.0 5.0")
        XCTAssertEqual(descents(ZAddRequest(score: 15, incr: true), "b"), "20.0 35.0")
        XCTAssertEqual(descents(ZAddRequest(score: 1, incr: true), "b"), "- -", "21 stays between")
        XCTAssertEqual(descents(ZAddRequest(score: 0, incr: true), "a"), "- -")
        XCTAssertEqual(descents(ZAddRequest(score: -100, incr: true), "d"), "40.0 -60.0")
        XCTAssertEqual(descents(ZAddRequest(score: 100), "d"), "- -", "the last node has no next")
        z.update(Bytes("d"), to: .infinity)
        XCTAssertEqual(descents(ZAddRequest(score: -.infinity, incr: true), "d"), "- -", "inf - inf is NaN: an error")
        XCTAssertEqual(node("d").score, .infinity)
    }

    /// A big sorted set (skip list) and a small one, a set, a string: which requests of a
    /// batch get their descents walked, counted exactly.
    func testAPipelineWalksTheDescentsOfItsZAddsOnBigSortedSets() {
        let engine = Engine(seed: SipHashSeed(k0: 3, k1: 4))
        let client = engine.connect()
        func run(_ argv: [Bytes]) -> String {
            engine.execute(client, argv)
            return String(decoding: client.reply.take(), as: UTF8.self)
        }
        // Scores 0, 10, 20, …: m0 … m299.
        XCTAssertEqual(run([Bytes("ZADD"), Bytes("big")] + (0..<300).flatMap { [Bytes("\($0 * 10)"), Bytes("m\($0)")] }), ":300\r\n")
        XCTAssertEqual(run(cmd("ZADD", "small", "1", "a")), ":1\r\n")
        XCTAssertEqual(run(cmd("SADD", "set", "x")), ":1\r\n")
        XCTAssertEqual(run(cmd("OBJECT", "ENCODING", "big")), "$8\r\nskiplist\r\n")
        let keys = engine.database(0).keys
        func walked(_ batch: [[Bytes]]) -> Int { engine.prefetchMembers(keys, batch[...]) }

        XCTAssertEqual(walked([cmd("ZADD", "big", "5", "new")]), 1)
        XCTAssertEqual(walked([cmd("ZADD", "big", "2500", "m1")]), 2, "unlink at 10, link at 2500")
        XCTAssertEqual(walked([cmd("ZADD", "big", "12", "m1")]), 0, "between m0 and m2")
        XCTAssertEqual(walked([cmd("ZINCRBY", "big", "1000", "m1")]), 2)
        XCTAssertEqual(walked([cmd("ZADD", "big", "INCR", "1", "m1")]), 0)
        XCTAssertEqual(walked([cmd("ZADD", "big", "NX", "2500", "m1")]), 0)
        XCTAssertEqual(walked([cmd("ZADD", "big", "XX", "5", "new")]), 0)
        XCTAssertEqual(walked([cmd("ZADD", "big", "GT", "CH", "0", "m1")]), 0)
        XCTAssertEqual(walked([cmd("ZADD", "big", "1", "a", "2", "b")]), 0, "two pairs")
        XCTAssertEqual(walked([cmd("ZADD", "big", "x", "m1")]), 0, "bad score")
        XCTAssertEqual(walked([cmd("ZADD", "small", "5", "b"), cmd("ZADD", "set", "5", "b"), cmd("ZADD", "none", "1", "a"),
                               cmd("SADD", "big", "x"), cmd("ZSCORE", "big", "m1")]), 0)
        let mixed = [cmd("ZADD", "big", "5", "new"), cmd("SET", "k", "v"), cmd("ZADD", "big", "2500", "m1"),
                     cmd("SADD", "set", "y"), cmd("ZINCRBY", "big", "-1000", "m299"), cmd("ZADD", "big", "NX", "1", "m2")]
        XCTAssertEqual(walked(mixed), 1 + 2 + 2)
        // At most memberPrefetchMax requests of a batch.
        let long = (0..<(Engine.memberPrefetchMax + 5)).map { cmd("ZADD", "big", "\($0 * 10 + 5)", "n\($0)") }
        XCTAssertEqual(walked(long), Engine.memberPrefetchMax)
    }

    /// The same random requests (ZADD with every option, ZINCRBY, ties, members old and new,
    /// several pairs, errors) on two engines: one runs them in pipelined batches of 16 with
    /// prefetchKeys before each, the other one at a time. Every reply and the final contents
    /// are the same, the prefetch alone changes nothing, and the result matches a model.
    func testPrefetchedPipelinesAnswerAsUnprefetchedRequests() {
        let seed = SipHashSeed(k0: 11, k1: 12)
        let piped = Engine(seed: seed), plain = Engine(seed: seed)
        let pc = piped.connect(), sc = plain.connect()
        var rng = SplitMix64(seed: 5)
        var model: [String: Double] = [:]
        func text(_ d: Double) -> String { String(decoding: formatScore(d), as: UTF8.self) }
        func randomMember() -> String {
            let n = Int.random(in: 0..<1500, using: &rng)
            return n % 7 == 0 ? "a-member-long-enough-for-the-heap-\(n)" : "m\(n)"
        }
        func randomScore() -> String { text(Double(Int.random(in: -40...40, using: &rng)) / 4) }
        func request() -> [String] {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0:
                return ["ZINCRBY", "z", randomScore(), randomMember()]
            case 1:
                let options = [["NX"], ["XX"], ["GT"], ["LT"], ["CH"], ["INCR"], ["XX", "GT", "CH"], ["NX", "INCR"], ["GT", "LT"]]
                return ["ZADD", "z"] + options[Int.random(in: 0..<options.count, using: &rng)] + [randomScore(), randomMember()]
            case 2:
                return ["ZADD", "z", randomScore(), randomMember(), randomScore(), randomMember()]
            case 3:
                return Bool.random(using: &rng) ? ["ZADD", "z", "notanumber", randomMember()] : ["ZADD", "str", "1", "m"]
            default:
                return ["ZADD", "z", randomScore(), randomMember()]
            }
        }
        /// What the model says ZADD/ZINCRBY answers (nil: an error, checked by comparison only).
        func apply(_ r: [String]) -> String? {
            guard r[1] == "z" else { return nil }
            var at = 2
            var flags = Set<String>()
            if r[0] == "ZINCRBY" { flags.insert("INCR") } else {
                while ["NX", "XX", "GT", "LT", "CH", "INCR"].contains(r[at]) { flags.insert(r[at]); at += 1 }
            }
            if flags.contains("NX") && (flags.contains("GT") || flags.contains("LT")) { return nil }
            if flags.contains("GT") && flags.contains("LT") { return nil }
            var pairs: [(Double, String)] = []
            while at + 1 < r.count {
                guard let s = Double(r[at]) else { return nil }
                pairs.append((s, r[at + 1]))
                at += 2
            }
            var added = 0, changed = 0
            var last: Double? = nil
            for (s, m) in pairs {
                if let cur = model[m] {
                    if flags.contains("NX") { continue }
                    let new = flags.contains("INCR") ? cur + s : s
                    if (flags.contains("GT") && new <= cur) || (flags.contains("LT") && new >= cur) { continue }
                    if new != cur { model[m] = new; changed += 1 }
                    last = new
                } else if !flags.contains("XX") {
                    model[m] = s
                    added += 1
                    last = s
                }
            }
            if flags.contains("INCR") { return last.map { "$\(text($0).utf8.count)\r\n\(text($0))\r\n" } ?? "$-1\r\n" }
            return ":\(flags.contains("CH") ? added + changed : added)\r\n"
        }

        for e in [piped, plain] {
            let c = e === piped ? pc : sc
            e.execute(c, [Bytes("ZADD"), Bytes("z")] + (0..<200).flatMap { [Bytes("\($0)"), Bytes("m\($0 * 5)")] })
            e.execute(c, cmd("SET", "str", "v"))
            _ = c.reply.take()
        }
        for i in 0..<200 { model["m\(i * 5)"] = Double(i) }
        var replies = 0
        for round in 0..<250 {
            let batch = (0..<16).map { _ in request() }
            let argvs = batch.map { $0.map { Bytes($0) } }
            guard case .zset(let z)? = piped.database(0).find(Bytes("z"))?.value, let list = z.list else {
                return XCTFail("z should be a skip list")
            }
            let listBefore = round % 25 == 0 ? elements(list) : []
            piped.prefetchKeys(pc, argvs[...])
            if round % 25 == 0 { XCTAssertEqual(elements(list), listBefore, "the prefetch changes nothing") }
            for (r, argv) in zip(batch, argvs) {
                piped.execute(pc, argv)
                plain.execute(sc, argv)
                let got = String(decoding: pc.reply.take(), as: UTF8.self)
                XCTAssertEqual(got, String(decoding: sc.reply.take(), as: UTF8.self), "\(r)")
                if let expected = apply(r) { XCTAssertEqual(got, expected, "\(r)") }
                replies += 1
            }
        }
        XCTAssertEqual(replies, 4000)
        let sorted = model.sorted { $0.value != $1.value ? $0.value < $1.value : Bytes($0.key) < Bytes($1.key) }
        var expected = "*\(2 * sorted.count)\r\n"
        for (m, s) in sorted { expected += "$\(m.utf8.count)\r\n\(m)\r\n$\(text(s).utf8.count)\r\n\(text(s))\r\n" }
        for (e, c) in [(piped, pc), (plain, sc)] {
            e.execute(c, cmd("ZRANGE", "z", "0", "-1", "WITHSCORES"))
            XCTAssertEqual(String(decoding: c.reply.take(), as: UTF8.self), expected)
        }
        // Ranks: O(log N) through the spans, checked against the order.
        for i in stride(from: 0, to: sorted.count, by: 37) {
            piped.execute(pc, cmd("ZRANK", "z", sorted[i].key))
            XCTAssertEqual(String(decoding: pc.reply.take(), as: UTF8.self), ":\(i)\r\n")
        }
    }
}
