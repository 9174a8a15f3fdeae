import XCTest
@testable import CairnEngine

// Model-based tests: long seeded random sequences of commands against the engine, each
// checked against a plain Swift model (Dictionary, Set, Array) of what the collection must
// hold. Every run uses small encoding limits for some keys' lifetimes (so both the compact and
// the big encodings, and the conversion between them, are exercised) and is bounded to keep
// the whole suite at a few seconds in a debug build.

extension EngineHarness {
    /// Checks a reply whose top-level array order depends on the hash table (a converted set
    /// or hash): same header, same elements as a multiset.
    func expectSorted(client n: Int = 0, _ argv: [String], _ reply: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        let got = send(client: n, argv.map { Bytes($0) })
        let a = RESPReply.parse(got), b = RESPReply.parse(Array(reply.utf8))
        func normalized(_ r: RESPReply?) -> String {
            guard case .array(let items?)? = r else { return "\(String(describing: r))" }
            return items.map { "\($0)" }.sorted().joined(separator: "|")
        }
        XCTAssertEqual(normalized(a), normalized(b), "reply to \(argv.joined(separator: " ")): \(escaped(got))",
                       file: file, line: line)
    }

    /// Runs a command and decodes the reply.
    func call(_ argv: [String]) -> RESPReply {
        let raw = send(argv.map { Bytes($0) })
        guard let r = RESPReply.parse(raw) else {
            XCTFail("undecodable reply to \(argv): \(escaped(raw))")
            return .error("undecodable")
        }
        return r
    }
}

extension RESPReply {
    var int: Int64? { if case .integer(let v) = self { return v }; return nil }
    var strings: [String]? {
        guard case .array(let items?) = self else { return nil }
        return items.map { $0.text ?? "<nil>" }
    }
    var isNull: Bool {
        switch self {
        case .bulk(nil), .array(nil): return true
        default: return false
        }
    }
}


final class CollectionModelTests: XCTestCase {
    func smallLimits() -> EngineConfig {
        var c = EngineConfig()
        c.hashMaxListpackEntries = 8
        c.hashMaxListpackValue = 16
        c.setMaxIntsetEntries = 8
        c.setMaxListpackEntries = 6
        c.setMaxListpackValue = 2
        c.zsetMaxListpackEntries = 8
        c.zsetMaxListpackValue = 16
        return c
    }

    // MARK: hashes

    func testHashAgainstDictionaryModel() {
        for (seed, config, universe) in [(UInt64(1), smallLimits(), 40), (2, EngineConfig(), 700)] {
            var rng = SplitMix64(seed: seed)
            let h = EngineHarness(config: config)
            var model: [String: String] = [:]
            func field() -> String { "f\(Int.random(in: 0..<universe, using: &rng))" }
            func value() -> String {
                Int.random(in: 0..<10, using: &rng) == 0 ? String(repeating: "v", count: Int.random(in: 17...30, using: &rng))
                                                          : "\(Int.random(in: -50..<50, using: &rng))"
            }
            for step in 0..<3000 {
                switch Int.random(in: 0..<10, using: &rng) {
                case 0, 1, 2:
                    let pairs = (0..<Int.random(in: 1...(universe / 10), using: &rng)).map { _ in (field(), value()) }
                    var created = Set<String>()
                    for (f, _) in pairs where model[f] == nil { created.insert(f) }
                    for (f, v) in pairs { model[f] = v }
                    XCTAssertEqual(h.call(["HSET", "h"] + pairs.flatMap { [$0.0, $0.1] }).int, Int64(created.count))
                case 3, 4:
                    let fs = (0..<Int.random(in: 1...3, using: &rng)).map { _ in field() }
                    var removed = 0
                    for f in Set(fs) where model.removeValue(forKey: f) != nil { removed += 1 }
                    XCTAssertEqual(h.call(["HDEL", "h"] + fs).int, Int64(removed))
                case 5:
                    let f = field()
                    let r = h.call(["HGET", "h", f])
                    if let v = model[f] { XCTAssertEqual(r.text, v) } else { XCTAssertTrue(r.isNull) }
                case 6:
                    let f = field()
                    let by = Int64.random(in: -5...5, using: &rng)
                    let r = h.call(["HINCRBY", "h", f, String(by)])
                    if let old = model[f] {
                        if let n = Int64(old) { model[f] = String(n + by); XCTAssertEqual(r.int, n + by) }
                        else { XCTAssertEqual(r, .error("ERR hash value is not an integer")) }
                    } else {
                        model[f] = String(by)
                        XCTAssertEqual(r.int, by)
                    }
                case 7:
                    let n = Int64.random(in: -6...6, using: &rng)
                    guard let got = h.call(["HRANDFIELD", "h", String(n)]).strings else { XCTFail("HRANDFIELD"); continue }
                    XCTAssertEqual(got.count, model.isEmpty ? 0 : (n < 0 ? Int(-n) : min(Int(n), model.count)))
                    for f in got { XCTAssertNotNil(model[f], "HRANDFIELD gave \(f)") }
                    if n > 0 { XCTAssertEqual(Set(got).count, got.count) }
                case 8:
                    // A full HSCAN returns every field at least once.
                    var cursor = "0"
                    var seen: [String: String] = [:]
                    repeat {
                        guard case .array(let parts?) = h.call(["HSCAN", "h", cursor, "COUNT", "3"]),
                              let next = parts[0].text, let items = parts[1].strings else { XCTFail("HSCAN"); break }
                        stride(from: 0, to: items.count, by: 2).forEach { seen[items[$0]] = items[$0 + 1] }
                        cursor = next
                    } while cursor != "0"
                    XCTAssertEqual(seen, model)
                default:
                    XCTAssertEqual(h.call(["HLEN", "h"]).int, Int64(model.count))
                }
                if step % 100 == 99 {
                    guard let all = h.call(["HGETALL", "h"]).strings else { XCTFail("HGETALL"); return }
                    var got: [String: String] = [:]
                    stride(from: 0, to: all.count, by: 2).forEach { got[all[$0]] = all[$0 + 1] }
                    XCTAssertEqual(got, model, "seed \(seed) step \(step)")
                    XCTAssertEqual(h.call(["EXISTS", "h"]).int, model.isEmpty ? 0 : 1)
                }
            }
            // Both runs grew past the packed limits.
            XCTAssertEqual(h.call(["OBJECT", "ENCODING", "h"]).text, "hashtable")
        }
    }

    // MARK: sets

    func testSetAgainstSetModel() {
        var packed = EngineConfig()   // sets that are listpacks most of the time
        packed.setMaxIntsetEntries = 2
        packed.setMaxListpackEntries = 12
        for (seed, config) in [(UInt64(3), smallLimits()), (4, EngineConfig()), (5, packed)] {
            var rng = SplitMix64(seed: seed)
            let h = EngineHarness(config: config)
            var model: [String: Set<String>] = ["a": [], "b": [], "c": []]
            func member() -> String {
                Int.random(in: 0..<3, using: &rng) == 0 ? "m\(Int.random(in: 0..<20, using: &rng))"
                                                         : "\(Int.random(in: -20..<20, using: &rng))"
            }
            func key() -> String { ["a", "b", "c"][Int.random(in: 0..<3, using: &rng)] }
            for step in 0..<3000 {
                let k = key()
                switch Int.random(in: 0..<12, using: &rng) {
                case 0, 1, 2:
                    let ms = (0..<Int.random(in: 1...4, using: &rng)).map { _ in member() }
                    let added = Set(ms).subtracting(model[k]!).count
                    model[k]!.formUnion(ms)
                    XCTAssertEqual(h.call(["SADD", k] + ms).int, Int64(added))
                case 3:
                    let ms = (0..<Int.random(in: 1...3, using: &rng)).map { _ in member() }
                    let removed = Set(ms).intersection(model[k]!).count
                    model[k]!.subtract(ms)
                    XCTAssertEqual(h.call(["SREM", k] + ms).int, Int64(removed))
                case 4:
                    let m = member()
                    XCTAssertEqual(h.call(["SISMEMBER", k, m]).int, model[k]!.contains(m) ? 1 : 0)
                case 5:
                    let n = Int.random(in: 0...4, using: &rng)
                    guard let got = h.call(["SPOP", k, String(n)]).strings else { XCTFail("SPOP"); continue }
                    XCTAssertEqual(got.count, min(n, model[k]!.count))
                    XCTAssertEqual(Set(got).count, got.count)
                    for m in got { XCTAssertNotNil(model[k]!.remove(m), "SPOP gave \(m)") }
                case 6:
                    let n = Int.random(in: -5...5, using: &rng)
                    guard let got = h.call(["SRANDMEMBER", k, String(n)]).strings else { XCTFail("SRANDMEMBER"); continue }
                    XCTAssertEqual(got.count, model[k]!.isEmpty ? 0 : (n < 0 ? -n : min(n, model[k]!.count)))
                    XCTAssertTrue(Set(got).isSubset(of: model[k]!))
                case 7:
                    let (x, y) = (key(), key())
                    XCTAssertEqual(Set(h.call(["SINTER", k, x, y]).strings ?? ["?"]), model[k]!.intersection(model[x]!).intersection(model[y]!))
                    XCTAssertEqual(h.call(["SINTERCARD", "3", k, x, y]).int, Int64(model[k]!.intersection(model[x]!).intersection(model[y]!).count))
                case 8:
                    let (x, y) = (key(), key())
                    XCTAssertEqual(Set(h.call(["SUNION", k, x, y]).strings ?? ["?"]), model[k]!.union(model[x]!).union(model[y]!))
                    XCTAssertEqual(Set(h.call(["SDIFF", k, x, y]).strings ?? ["?"]), model[k]!.subtracting(model[x]!).subtracting(model[y]!))
                case 9:
                    let (x, y) = (key(), key())
                    let result: Set<String>
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: result = model[x]!.intersection(model[y]!); _ = h.call(["SINTERSTORE", k, x, y])
                    case 1: result = model[x]!.union(model[y]!); _ = h.call(["SUNIONSTORE", k, x, y])
                    default: result = model[x]!.subtracting(model[y]!); _ = h.call(["SDIFFSTORE", k, x, y])
                    }
                    model[k] = result
                case 10:
                    let dst = key()
                    let m = model[k]!.randomElement(using: &rng) ?? member()
                    let moved = model[k]!.contains(m)
                    XCTAssertEqual(h.call(["SMOVE", k, dst, m]).int, moved ? 1 : 0)
                    if moved { model[k]!.remove(m); model[dst]!.insert(m) }
                default:
                    var cursor = "0"
                    var seen = Set<String>()
                    repeat {
                        guard case .array(let parts?) = h.call(["SSCAN", k, cursor, "COUNT", "2"]),
                              let next = parts[0].text, let items = parts[1].strings else { XCTFail("SSCAN"); break }
                        seen.formUnion(items)
                        cursor = next
                    } while cursor != "0"
                    XCTAssertEqual(seen, model[k]!)
                }
                if step % 100 == 99 {
                    for key in ["a", "b", "c"] {
                        XCTAssertEqual(Set(h.call(["SMEMBERS", key]).strings ?? ["?"]), model[key]!, "seed \(seed) step \(step)")
                        XCTAssertEqual(h.call(["SCARD", key]).int, Int64(model[key]!.count))
                        XCTAssertEqual(h.call(["EXISTS", key]).int, model[key]!.isEmpty ? 0 : 1)
                    }
                }
            }
        }
    }

    // MARK: lists

    func testListAgainstArrayModel() {
        // The default node size, nodes of one to three elements (every insert or removal in
        // the middle splits or merges nodes), and 4 KiB nodes with elements of up to 2.1 KB
        // (nodes of one to a few elements, two-byte lengths).
        for (seed, fill, padding) in [(UInt64(5), -2, 0), (6, 1, 0), (7, 3, 0), (8, -1, 300)] {
            var config = EngineConfig()
            config.listMaxListpackSize = fill
            listModelRun(seed: seed, config: config, padding: padding)
        }
    }

    func listModelRun(seed: UInt64, config: EngineConfig, padding: Int) {
        var rng = SplitMix64(seed: seed)
        let h = EngineHarness(config: config)
        var model: [String: [String]] = ["l": [], "m": []]
        func element() -> String {
            let i = Int.random(in: 0..<8, using: &rng)
            return "e\(i)" + String(repeating: "x", count: i * padding)
        }
        func index(_ n: Int) -> Int { Int.random(in: -(n + 2)...(n + 2), using: &rng) }
        func norm(_ i: Int, _ n: Int) -> Int { i < 0 ? n + i : i }
        for step in 0..<4000 {
            let k = Int.random(in: 0..<4, using: &rng) == 0 ? "m" : "l"
            var list = model[k]!
            let n = list.count
            switch Int.random(in: 0..<14, using: &rng) {
            case 0, 1, 2:
                let es = (0..<Int.random(in: 1...4, using: &rng)).map { _ in element() }
                if Bool.random(using: &rng) {
                    for e in es { list.insert(e, at: 0) }
                    XCTAssertEqual(h.call(["LPUSH", k] + es).int, Int64(list.count))
                } else {
                    list += es
                    XCTAssertEqual(h.call(["RPUSH", k] + es).int, Int64(list.count))
                }
            case 3:
                let c = Int.random(in: 1...3, using: &rng)
                let left = Bool.random(using: &rng)
                let got = h.call([left ? "LPOP" : "RPOP", k, String(c)])
                if n == 0 { XCTAssertTrue(got.isNull) } else {
                    let expected = left ? Array(list.prefix(c)) : Array(list.suffix(c).reversed())
                    XCTAssertEqual(got.strings, expected)
                    if left { list.removeFirst(min(c, n)) } else { list.removeLast(min(c, n)) }
                }
            case 4:
                let i = index(n)
                let j = norm(i, n)
                let got = h.call(["LINDEX", k, String(i)])
                if j >= 0 && j < n { XCTAssertEqual(got.text, list[j]) } else { XCTAssertTrue(got.isNull) }
            case 5:
                let i = index(n)
                let j = norm(i, n)
                let e = element()
                let got = h.call(["LSET", k, String(i), e])
                if n == 0 { XCTAssertEqual(got, .error("ERR no such key")) }
                else if j >= 0 && j < n { XCTAssertEqual(got, .simple("OK")); list[j] = e }
                else { XCTAssertEqual(got, .error("ERR index out of range")) }
            case 6:
                let pivot = element(), e = element()
                let after = Bool.random(using: &rng)
                let got = h.call(["LINSERT", k, after ? "AFTER" : "BEFORE", pivot, e])
                if n == 0 { XCTAssertEqual(got.int, 0) }
                else if let p = list.firstIndex(of: pivot) {
                    list.insert(e, at: after ? p + 1 : p)
                    XCTAssertEqual(got.int, Int64(list.count))
                } else { XCTAssertEqual(got.int, -1) }
            case 7:
                let c = Int.random(in: -3...3, using: &rng)
                let e = element()
                var removed = 0
                if c >= 0 {
                    var out: [String] = []
                    for x in list { if x == e && (c == 0 || removed < c) { removed += 1 } else { out.append(x) } }
                    list = out
                } else {
                    var out: [String] = []
                    for x in list.reversed() { if x == e && removed < -c { removed += 1 } else { out.append(x) } }
                    list = out.reversed()
                }
                XCTAssertEqual(h.call(["LREM", k, String(c), e]).int, Int64(removed))
            case 8:
                let (s, e) = (index(n), index(n))
                XCTAssertEqual(h.call(["LTRIM", k, String(s), String(e)]), .simple("OK"))
                list = Array(list[modelRange(s, e, n)])
            case 9, 10:
                let (s, e) = (index(n), index(n))
                XCTAssertEqual(h.call(["LRANGE", k, String(s), String(e)]).strings, Array(list[modelRange(s, e, n)]))
            case 11:
                let e = element()
                let rank = [1, 2, -1, -2][Int.random(in: 0..<4, using: &rng)]
                let maxlen = Int.random(in: 0...6, using: &rng)
                var positions: [Int] = []
                let order = rank > 0 ? Array(0..<n) : Array((0..<n).reversed())
                for (scanned, i) in order.enumerated() where maxlen == 0 || scanned < maxlen {
                    if list[i] == e { positions.append(i) }
                }
                let expected = Array(positions.dropFirst(abs(rank) - 1))
                let got = h.call(["LPOS", k, e, "RANK", String(rank), "COUNT", "0", "MAXLEN", String(maxlen)])
                guard case .array(let items?) = got else { XCTFail("LPOS"); break }
                XCTAssertEqual(items.compactMap { $0.int }.map { Int($0) }, expected)
            case 12:
                let dst = k == "l" ? "m" : "l"
                let from = Bool.random(using: &rng), to = Bool.random(using: &rng)
                let got = h.call(["LMOVE", k, dst, from ? "LEFT" : "RIGHT", to ? "LEFT" : "RIGHT"])
                if n == 0 { XCTAssertTrue(got.isNull) } else {
                    let v = from ? list.removeFirst() : list.removeLast()
                    XCTAssertEqual(got.text, v)
                    model[k] = list
                    if to { model[dst]!.insert(v, at: 0) } else { model[dst]!.append(v) }
                    list = model[k]!
                }
            default:
                XCTAssertEqual(h.call(["LLEN", k]).int, Int64(n))
            }
            model[k] = list
            if step % 100 == 99 {
                for key in ["l", "m"] {
                    XCTAssertEqual(h.call(["LRANGE", key, "0", "-1"]).strings, model[key]!, "seed \(seed) step \(step)")
                    if let e = h.engine.database(0).find(Bytes(key)), case .list(let l) = e.value {
                        XCTAssertNil(l.structureProblem(), "seed \(seed) step \(step)")
                        XCTAssertEqual(l.fill, config.listMaxListpackSize)
                    }
                    XCTAssertEqual(h.call(["EXISTS", key]).int, model[key]!.isEmpty ? 0 : 1)
                }
            }
        }
    }

    /// LRANGE/LTRIM semantics over a model array.
    func modelRange(_ start: Int, _ end: Int, _ n: Int) -> Range<Int> {
        var s = start < 0 ? n + start : start
        var e = end < 0 ? n + end : end
        if s < 0 { s = 0 }
        if s > e || s >= n { return 0..<0 }
        if e >= n { e = n - 1 }
        return s..<(e + 1)
    }

    // MARK: sorted sets

    func testSortedSetAgainstDictionaryModel() {
        for (seed, config, universe) in [(UInt64(6), smallLimits(), 30), (7, EngineConfig(), 300)] {
            var rng = SplitMix64(seed: seed)
            let h = EngineHarness(config: config)
            var model: [String: [String: Double]] = ["z": [:], "y": [:]]
            func member() -> String {
                Int.random(in: 0..<12, using: &rng) == 0 ? String(repeating: "m", count: 20) + "\(Int.random(in: 0..<3, using: &rng))"
                                                          : "m\(Int.random(in: 0..<universe, using: &rng))"
            }
            func score() -> Double { Double(Int.random(in: -20...20, using: &rng)) / 2 }
            func sorted(_ m: [String: Double]) -> [(String, Double)] {
                m.map { ($0.key, $0.value) }.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : Bytes($0.0) < Bytes($1.0) }
            }
            func text(_ d: Double) -> String { String(decoding: formatScore(d), as: UTF8.self) }
            var skiplistChecks = 0
            for step in 0..<3000 {
                let k = Int.random(in: 0..<3, using: &rng) == 0 ? "y" : "z"
                var z = model[k]!
                let order = sorted(z)
                switch Int.random(in: 0..<13, using: &rng) {
                case 0, 1, 2:
                    let flags = [[], [], ["NX"], ["XX"], ["GT"], ["LT"], ["CH"], ["XX", "GT", "CH"]][Int.random(in: 0..<8, using: &rng)]
                    let pairs = (0..<Int.random(in: 1...(universe / 10), using: &rng)).map { _ in (score(), member()) }
                    var added = 0, changed = 0
                    var working = z
                    for (s, m) in pairs {
                        if let cur = working[m] {
                            if flags.contains("NX") { continue }
                            if (flags.contains("GT") && s <= cur) || (flags.contains("LT") && s >= cur) { continue }
                            if s != cur { working[m] = s; changed += 1 }
                        } else if !flags.contains("XX") {
                            working[m] = s
                            added += 1
                        }
                    }
                    z = working
                    let expected = flags.contains("CH") ? added + changed : added
                    XCTAssertEqual(h.call(["ZADD", k] + flags + pairs.flatMap { [text($0.0), $0.1] }).int, Int64(expected))
                case 3:
                    let m = member(), by = score()
                    z[m, default: 0] += by
                    XCTAssertEqual(h.call(["ZINCRBY", k, text(by), m]).text, text(z[m]!))
                case 4:
                    let ms = (0..<Int.random(in: 1...3, using: &rng)).map { _ in member() }
                    var removed = 0
                    for m in Set(ms) where z.removeValue(forKey: m) != nil { removed += 1 }
                    XCTAssertEqual(h.call(["ZREM", k] + ms).int, Int64(removed))
                case 5:
                    let m = member()
                    let rev = Bool.random(using: &rng)
                    let got = h.call([rev ? "ZREVRANK" : "ZRANK", k, m])
                    if let i = order.firstIndex(where: { $0.0 == m }) {
                        XCTAssertEqual(got.int, Int64(rev ? order.count - 1 - i : i))
                    } else { XCTAssertTrue(got.isNull) }
                case 6:
                    let n = order.count
                    let (s, e) = (Int.random(in: -(n + 2)...(n + 2), using: &rng), Int.random(in: -(n + 2)...(n + 2), using: &rng))
                    let rev = Bool.random(using: &rng)
                    let base = rev ? Array(order.reversed()) : order
                    let expected = base[modelRange(s, e, n)].flatMap { [$0.0, text($0.1)] }
                    XCTAssertEqual(h.call(["ZRANGE", k, String(s), String(e)] + (rev ? ["REV"] : []) + ["WITHSCORES"]).strings, expected)
                case 7:
                    let (a, b) = (score(), score())
                    let (lo, hi) = (min(a, b), max(a, b))
                    let loEx = Bool.random(using: &rng), hiEx = Bool.random(using: &rng)
                    let inRange = order.filter { (loEx ? $0.1 > lo : $0.1 >= lo) && (hiEx ? $0.1 < hi : $0.1 <= hi) }
                    let minArg = (loEx ? "(" : "") + text(lo), maxArg = (hiEx ? "(" : "") + text(hi)
                    XCTAssertEqual(h.call(["ZCOUNT", k, minArg, maxArg]).int, Int64(inRange.count))
                    let offset = Int.random(in: 0...3, using: &rng), count = Int.random(in: -1...4, using: &rng)
                    let rev = Bool.random(using: &rng)
                    var sel = rev ? Array(inRange.reversed()) : inRange
                    sel = Array(sel.dropFirst(offset))
                    if count >= 0 { sel = Array(sel.prefix(count)) }
                    let argv = rev ? ["ZREVRANGEBYSCORE", k, maxArg, minArg] : ["ZRANGEBYSCORE", k, minArg, maxArg]
                    XCTAssertEqual(h.call(argv + ["LIMIT", String(offset), String(count)]).strings, sel.map { $0.0 })
                case 8:
                    let lo = score()
                    let hi = lo + Double(Int.random(in: 0...2, using: &rng))
                    let removed = order.filter { $0.1 >= lo && $0.1 <= hi }
                    for (m, _) in removed { z[m] = nil }
                    XCTAssertEqual(h.call(["ZREMRANGEBYSCORE", k, text(lo), text(hi)]).int, Int64(removed.count))
                case 9:
                    let n = order.count
                    let s = Int.random(in: -(n + 2)...(n + 2), using: &rng)
                    let e = s + Int.random(in: -1...3, using: &rng)
                    let removed = order[modelRange(s, e, n)]
                    for (m, _) in removed { z[m] = nil }
                    XCTAssertEqual(h.call(["ZREMRANGEBYRANK", k, String(s), String(e)]).int, Int64(removed.count))
                case 10:
                    let c = Int.random(in: 1...3, using: &rng)
                    let max = Bool.random(using: &rng)
                    let taken = max ? Array(order.reversed().prefix(c)) : Array(order.prefix(c))
                    for (m, _) in taken { z[m] = nil }
                    XCTAssertEqual(h.call([max ? "ZPOPMAX" : "ZPOPMIN", k, String(c)]).strings, taken.flatMap { [$0.0, text($0.1)] })
                case 11:
                    let other = k == "z" ? "y" : "z"
                    var union = model[other]!
                    for (m, s) in z { union[m, default: 0] += s }
                    let inter = union.filter { z[$0.key] != nil && model[other]![$0.key] != nil }
                    XCTAssertEqual(h.call(["ZUNION", "2", k, other, "WITHSCORES"]).strings, sorted(union).flatMap { [$0.0, text($0.1)] })
                    XCTAssertEqual(h.call(["ZINTER", "2", k, other, "WITHSCORES"]).strings, sorted(inter).flatMap { [$0.0, text($0.1)] })
                    let diff = z.filter { model[other]![$0.key] == nil }
                    XCTAssertEqual(h.call(["ZDIFF", "2", k, other, "WITHSCORES"]).strings, sorted(diff).flatMap { [$0.0, text($0.1)] })
                default:
                    let m = member()
                    let got = h.call(["ZSCORE", k, m])
                    if let s = z[m] { XCTAssertEqual(got.text, text(s)) } else { XCTAssertTrue(got.isNull) }
                }
                model[k] = z
                if step % 100 == 99 {
                    if h.call(["OBJECT", "ENCODING", "z"]).text == "skiplist" { skiplistChecks += 1 }
                    for key in ["z", "y"] {
                        XCTAssertEqual(h.call(["ZRANGE", key, "0", "-1", "WITHSCORES"]).strings,
                                       sorted(model[key]!).flatMap { [$0.0, text($0.1)] }, "seed \(seed) step \(step)")
                        XCTAssertEqual(h.call(["ZCARD", key]).int, Int64(model[key]!.count))
                    }
                }
            }
            XCTAssertGreaterThan(skiplistChecks, 5, "the skip list was exercised")
        }
    }

    /// Members that share one score ordered by bytes, queried by lex range on both encodings.
    func testLexRangesAgainstSortedArrayModel() {
        for (seed, config) in [(UInt64(8), smallLimits()), (9, EngineConfig())] {
            var rng = SplitMix64(seed: seed)
            let h = EngineHarness(config: config)
            var model = Set<String>()
            let alphabet = ["a", "b", "c", "ab", "ba", "abc", "b\u{1}", "zz", "", "A"]
            func bound() -> (arg: String, unused: Int) {
                let v = alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]
                switch Int.random(in: 0..<6, using: &rng) {
                case 0: return ("-", 0)
                case 1: return ("+", 0)
                case 2, 3: return ("[" + v, 0)
                default: return ("(" + v, 0)
                }
            }
            for _ in 0..<1500 {
                let m = alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] + "\(Int.random(in: 0..<3, using: &rng))"
                if Bool.random(using: &rng) {
                    model.insert(m)
                    _ = h.call(["ZADD", "z", "0", m])
                } else {
                    model.remove(m)
                    _ = h.call(["ZREM", "z", m])
                }
                let lo = bound(), hi = bound()
                func lower(_ s: String) -> Bool {
                    switch lo.arg.first {
                    case "-": return true
                    case "+": return false
                    case "[": return !(Bytes(s) < Bytes(String(lo.arg.dropFirst())))
                    default: return Bytes(String(lo.arg.dropFirst())) < Bytes(s)
                    }
                }
                func upper(_ s: String) -> Bool {
                    switch hi.arg.first {
                    case "-": return false
                    case "+": return true
                    case "[": return !(Bytes(String(hi.arg.dropFirst())) < Bytes(s))
                    default: return Bytes(s) < Bytes(String(hi.arg.dropFirst()))
                    }
                }
                let ordered = model.sorted { Bytes($0) < Bytes($1) }
                let inRange = ordered.filter { lower($0) && upper($0) }
                XCTAssertEqual(h.call(["ZRANGEBYLEX", "z", lo.arg, hi.arg]).strings ?? [], inRange, "\(lo.arg) \(hi.arg)")
                XCTAssertEqual(h.call(["ZLEXCOUNT", "z", lo.arg, hi.arg]).int, Int64(inRange.count))
                XCTAssertEqual(h.call(["ZREVRANGEBYLEX", "z", hi.arg, lo.arg]).strings ?? [], inRange.reversed())
            }
        }
    }

    // MARK: encodings, copies and digests

    func testEncodingsConvertAtTheConfiguredLimits() {
        var config = EngineConfig()
        config.hashMaxListpackEntries = 4
        config.setMaxIntsetEntries = 4
        config.zsetMaxListpackEntries = 4
        let h = EngineHarness(config: config)
        for i in 1...4 {
            _ = h.call(["HSET", "h", "f\(i)", "v"])
            _ = h.call(["SADD", "s", "\(i)"])
            _ = h.call(["ZADD", "z", "\(i)", "m\(i)"])
        }
        h.expect(["OBJECT", "ENCODING", "h"], "$8\r\nlistpack\r\n")
        h.expect(["OBJECT", "ENCODING", "s"], "$6\r\nintset\r\n")
        h.expect(["OBJECT", "ENCODING", "z"], "$8\r\nlistpack\r\n")
        _ = h.call(["HSET", "h", "f5", "v"])
        _ = h.call(["SADD", "s", "5"])
        _ = h.call(["ZADD", "z", "5", "m5"])
        h.expect(["OBJECT", "ENCODING", "h"], "$9\r\nhashtable\r\n")
        h.expect(["OBJECT", "ENCODING", "s"], "$9\r\nhashtable\r\n")
        h.expect(["OBJECT", "ENCODING", "z"], "$8\r\nskiplist\r\n")
        h.expect(["RPUSH", "l", "a"], ":1\r\n")
        h.expect(["OBJECT", "ENCODING", "l"], "$9\r\nquicklist\r\n")
    }

    func testCopyIsDeepForEveryCollection() {
        let h = EngineHarness(config: smallLimits())
        _ = h.call(["HSET", "h", "a", "1"])
        _ = h.call(["SADD", "s", "1", "x"])
        _ = h.call(["RPUSH", "l", "a"])
        _ = h.call(["ZADD", "z", "1", "a"])
        for k in ["h", "s", "l", "z"] { h.expect(["COPY", k, k + "2"], ":1\r\n") }
        _ = h.call(["HSET", "h", "a", "2"])
        _ = h.call(["SADD", "s", "2"])
        _ = h.call(["RPUSH", "l", "b"])
        _ = h.call(["ZADD", "z", "5", "a"])
        h.expect(["HGET", "h2", "a"], "$1\r\n1\r\n")
        h.expect(["SCARD", "s2"], ":2\r\n")
        h.expect(["LLEN", "l2"], ":1\r\n")
        h.expect(["ZSCORE", "z2", "a"], "$1\r\n1\r\n")
        h.expect(["TYPE", "z2"], "+zset\r\n")
    }

    func testDigestDoesNotDependOnEncodingOrInsertionOrder() {
        var small = EngineConfig()
        small.setMaxIntsetEntries = 1
        small.setMaxListpackEntries = 1
        small.hashMaxListpackEntries = 1
        small.zsetMaxListpackEntries = 1
        var packedSets = EngineConfig()
        packedSets.setMaxIntsetEntries = 1
        let a = EngineHarness(), b = EngineHarness(config: small), c = EngineHarness(config: packedSets)
        _ = a.call(["SADD", "s", "1", "2", "3"]); _ = b.call(["SADD", "s", "3", "2", "1"]); _ = c.call(["SADD", "s", "2", "3", "1"])
        c.expect(["OBJECT", "ENCODING", "s"], "$8\r\nlistpack\r\n")
        XCTAssertEqual(Digest.hex(Digest.dataset(a.engine)), Digest.hex(Digest.dataset(c.engine)))
        _ = a.call(["HSET", "h", "x", "1", "y", "2"]); _ = b.call(["HSET", "h", "y", "2", "x", "1"])
        _ = a.call(["ZADD", "z", "1", "a", "2", "b"]); _ = b.call(["ZADD", "z", "2", "b", "1", "a"])
        _ = a.call(["RPUSH", "l", "a", "b"]); _ = b.call(["RPUSH", "l", "a", "b"])
        b.expect(["OBJECT", "ENCODING", "s"], "$9\r\nhashtable\r\n")
        XCTAssertEqual(Digest.hex(Digest.dataset(a.engine)), Digest.hex(Digest.dataset(b.engine)))
        _ = b.call(["RPUSH", "l", "c"])
        XCTAssertNotEqual(Digest.hex(Digest.dataset(a.engine)), Digest.hex(Digest.dataset(b.engine)))
    }

    /// A skip list with thousands of members: ranks, ranges and deletion stay consistent.
    func testLargeSortedSetRanksAndRanges() {
        let h = EngineHarness()
        var rng = SplitMix64(seed: 10)
        var scores: [String: Double] = [:]
        var args = ["ZADD", "z"]
        for i in 0..<5000 {
            let s = Double(Int.random(in: 0..<1000, using: &rng))
            scores["m\(i)"] = s
            args += [String(Int(s)), "m\(i)"]
        }
        _ = h.call(args)
        h.expect(["OBJECT", "ENCODING", "z"], "$8\r\nskiplist\r\n")
        let order = scores.sorted { $0.value != $1.value ? $0.value < $1.value : Bytes($0.key) < Bytes($1.key) }.map { $0.key }
        for _ in 0..<200 {
            let i = Int.random(in: 0..<order.count, using: &rng)
            XCTAssertEqual(h.call(["ZRANK", "z", order[i]]).int, Int64(i))
            XCTAssertEqual(h.call(["ZRANGE", "z", String(i), String(i)]).strings, [order[i]])
        }
        // A full ZSCAN sees every member with its score.
        var cursor = "0"
        var seen: [String: String] = [:]
        repeat {
            guard case .array(let parts?) = h.call(["ZSCAN", "z", cursor, "COUNT", "50"]),
                  let next = parts[0].text, let items = parts[1].strings else { XCTFail("ZSCAN"); break }
            stride(from: 0, to: items.count, by: 2).forEach { seen[items[$0]] = items[$0 + 1] }
            cursor = next
        } while cursor != "0"
        XCTAssertEqual(seen, scores.mapValues { String(Int($0)) })
        XCTAssertEqual(h.call(["ZREMRANGEBYRANK", "z", "100", "3999"]).int, 3900)
        let left = Array(order[0..<100] + order[4000...])
        XCTAssertEqual(h.call(["ZRANGE", "z", "0", "-1"]).strings, left)
        XCTAssertEqual(h.call(["ZRANK", "z", left[150]]).int, 150)
        h.expect(["DEL", "z"], ":1\r\n")
    }

    /// Freeing a long list, a big set and a big sorted set must not recurse per element.
    func testFreeingLargeCollections() {
        let h = EngineHarness()
        var z = ["ZADD", "z"], s = ["SADD", "s"], l = ["RPUSH", "l"]
        for i in 0..<100_000 { z += ["\(i)", "m\(i)"]; s.append("x\(i)"); l.append("e") }
        _ = h.call(z); _ = h.call(s); _ = h.call(l)
        h.expect(["DEL", "z", "s", "l"], ":3\r\n")
    }

    // MARK: command table

    /// Arity, flags, key positions and ACL categories as Redis 7.0.15's COMMAND INFO reports
    /// them (movablekeys left out: Cairn's table has no such flag). ZRANK/ZREVRANK take
    /// Redis 7.2's WITHSCORE, so their arity is -3 where 7.0 says 3.
    func testCommandTableMatchesRedis70() {
        let e = Engine()
        let expected: [(String, Int, [String], (Int, Int, Int), [String])] = [
            ("hset", -4, ["denyoom", "fast", "write"], (1, 1, 1), ["@fast", "@hash", "@write"]),
            ("hsetnx", 4, ["denyoom", "fast", "write"], (1, 1, 1), ["@fast", "@hash", "@write"]),
            ("hget", 3, ["fast", "readonly"], (1, 1, 1), ["@fast", "@hash", "@read"]),
            ("hmget", -3, ["fast", "readonly"], (1, 1, 1), ["@fast", "@hash", "@read"]),
            ("hmset", -4, ["denyoom", "fast", "write"], (1, 1, 1), ["@fast", "@hash", "@write"]),
            ("hdel", -3, ["fast", "write"], (1, 1, 1), ["@fast", "@hash", "@write"]),
            ("hlen", 2, ["fast", "readonly"], (1, 1, 1), ["@fast", "@hash", "@read"]),
            ("hstrlen", 3, ["fast", "readonly"], (1, 1, 1), ["@fast", "@hash", "@read"]),
            ("hexists", 3, ["fast", "readonly"], (1, 1, 1), ["@fast", "@hash", "@read"]),
            ("hkeys", 2, ["readonly"], (1, 1, 1), ["@hash", "@read", "@slow"]),
            ("hvals", 2, ["readonly"], (1, 1, 1), ["@hash", "@read", "@slow"]),
            ("hgetall", 2, ["readonly"], (1, 1, 1), ["@hash", "@read", "@slow"]),
            ("hincrby", 4, ["denyoom", "fast", "write"], (1, 1, 1), ["@fast", "@hash", "@write"]),
            ("hincrbyfloat", 4, ["denyoom", "fast", "write"], (1, 1, 1), ["@fast", "@hash", "@write"]),
            ("hrandfield", -2, ["readonly"], (1, 1, 1), ["@hash", "@read", "@slow"]),
            ("hscan", -3, ["readonly"], (1, 1, 1), ["@hash", "@read", "@slow"]),
            ("lpush", -3, ["denyoom", "fast", "write"], (1, 1, 1), ["@fast", "@list", "@write"]),
            ("rpush", -3, ["denyoom", "fast", "write"], (1, 1, 1), ["@fast", "@list", "@write"]),
            ("lpushx", -3, ["denyoom", "fast", "write"], (1, 1, 1), ["@fast", "@list", "@write"]),
            ("rpushx", -3, ["denyoom", "fast", "write"], (1, 1, 1), ["@fast", "@list", "@write"]),
            ("lpop", -2, ["fast", "write"], (1, 1, 1), ["@fast", "@list", "@write"]),
            ("rpop", -2, ["fast", "write"], (1, 1, 1), ["@fast", "@list", "@write"]),
            ("llen", 2, ["fast", "readonly"], (1, 1, 1), ["@fast", "@list", "@read"]),
            ("lrange", 4, ["readonly"], (1, 1, 1), ["@list", "@read", "@slow"]),
            ("lindex", 3, ["readonly"], (1, 1, 1), ["@list", "@read", "@slow"]),
            ("lset", 4, ["denyoom", "write"], (1, 1, 1), ["@list", "@slow", "@write"]),
            ("linsert", 5, ["denyoom", "write"], (1, 1, 1), ["@list", "@slow", "@write"]),
            ("lrem", 4, ["write"], (1, 1, 1), ["@list", "@slow", "@write"]),
            ("ltrim", 4, ["write"], (1, 1, 1), ["@list", "@slow", "@write"]),
            ("lpos", -3, ["readonly"], (1, 1, 1), ["@list", "@read", "@slow"]),
            ("lmove", 5, ["denyoom", "write"], (1, 2, 1), ["@list", "@slow", "@write"]),
            ("rpoplpush", 3, ["denyoom", "write"], (1, 2, 1), ["@list", "@slow", "@write"]),
            ("lmpop", -4, ["write"], (0, 0, 0), ["@list", "@slow", "@write"]),
            ("blpop", -3, ["blocking", "noscript", "write"], (1, -2, 1), ["@blocking", "@list", "@slow", "@write"]),
            ("brpop", -3, ["blocking", "noscript", "write"], (1, -2, 1), ["@blocking", "@list", "@slow", "@write"]),
            ("blmove", 6, ["blocking", "denyoom", "noscript", "write"], (1, 2, 1), ["@blocking", "@list", "@slow", "@write"]),
            ("brpoplpush", 4, ["blocking", "denyoom", "noscript", "write"], (1, 2, 1), ["@blocking", "@list", "@slow", "@write"]),
            ("blmpop", -5, ["blocking", "write"], (0, 0, 0), ["@blocking", "@list", "@slow", "@write"]),
            ("sadd", -3, ["denyoom", "fast", "write"], (1, 1, 1), ["@fast", "@set", "@write"]),
            ("srem", -3, ["fast", "write"], (1, 1, 1), ["@fast", "@set", "@write"]),
            ("scard", 2, ["fast", "readonly"], (1, 1, 1), ["@fast", "@read", "@set"]),
            ("sismember", 3, ["fast", "readonly"], (1, 1, 1), ["@fast", "@read", "@set"]),
            ("smismember", -3, ["fast", "readonly"], (1, 1, 1), ["@fast", "@read", "@set"]),
            ("smembers", 2, ["readonly"], (1, 1, 1), ["@read", "@set", "@slow"]),
            ("spop", -2, ["fast", "write"], (1, 1, 1), ["@fast", "@set", "@write"]),
            ("srandmember", -2, ["readonly"], (1, 1, 1), ["@read", "@set", "@slow"]),
            ("smove", 4, ["fast", "write"], (1, 2, 1), ["@fast", "@set", "@write"]),
            ("sinter", -2, ["readonly"], (1, -1, 1), ["@read", "@set", "@slow"]),
            ("sintercard", -3, ["readonly"], (0, 0, 0), ["@read", "@set", "@slow"]),
            ("sunion", -2, ["readonly"], (1, -1, 1), ["@read", "@set", "@slow"]),
            ("sdiff", -2, ["readonly"], (1, -1, 1), ["@read", "@set", "@slow"]),
            ("sinterstore", -3, ["denyoom", "write"], (1, -1, 1), ["@set", "@slow", "@write"]),
            ("sunionstore", -3, ["denyoom", "write"], (1, -1, 1), ["@set", "@slow", "@write"]),
            ("sdiffstore", -3, ["denyoom", "write"], (1, -1, 1), ["@set", "@slow", "@write"]),
            ("sscan", -3, ["readonly"], (1, 1, 1), ["@read", "@set", "@slow"]),
            ("zadd", -4, ["denyoom", "fast", "write"], (1, 1, 1), ["@fast", "@sortedset", "@write"]),
            ("zincrby", 4, ["denyoom", "fast", "write"], (1, 1, 1), ["@fast", "@sortedset", "@write"]),
            ("zrem", -3, ["fast", "write"], (1, 1, 1), ["@fast", "@sortedset", "@write"]),
            ("zcard", 2, ["fast", "readonly"], (1, 1, 1), ["@fast", "@read", "@sortedset"]),
            ("zscore", 3, ["fast", "readonly"], (1, 1, 1), ["@fast", "@read", "@sortedset"]),
            ("zmscore", -3, ["fast", "readonly"], (1, 1, 1), ["@fast", "@read", "@sortedset"]),
            ("zrank", 3, ["fast", "readonly"], (1, 1, 1), ["@fast", "@read", "@sortedset"]),
            ("zrevrank", 3, ["fast", "readonly"], (1, 1, 1), ["@fast", "@read", "@sortedset"]),
            ("zcount", 4, ["fast", "readonly"], (1, 1, 1), ["@fast", "@read", "@sortedset"]),
            ("zlexcount", 4, ["fast", "readonly"], (1, 1, 1), ["@fast", "@read", "@sortedset"]),
            ("zrange", -4, ["readonly"], (1, 1, 1), ["@read", "@slow", "@sortedset"]),
            ("zrangestore", -5, ["denyoom", "write"], (1, 2, 1), ["@slow", "@sortedset", "@write"]),
            ("zrevrange", -4, ["readonly"], (1, 1, 1), ["@read", "@slow", "@sortedset"]),
            ("zrangebyscore", -4, ["readonly"], (1, 1, 1), ["@read", "@slow", "@sortedset"]),
            ("zrevrangebyscore", -4, ["readonly"], (1, 1, 1), ["@read", "@slow", "@sortedset"]),
            ("zrangebylex", -4, ["readonly"], (1, 1, 1), ["@read", "@slow", "@sortedset"]),
            ("zrevrangebylex", -4, ["readonly"], (1, 1, 1), ["@read", "@slow", "@sortedset"]),
            ("zremrangebyrank", 4, ["write"], (1, 1, 1), ["@slow", "@sortedset", "@write"]),
            ("zremrangebyscore", 4, ["write"], (1, 1, 1), ["@slow", "@sortedset", "@write"]),
            ("zremrangebylex", 4, ["write"], (1, 1, 1), ["@slow", "@sortedset", "@write"]),
            ("zpopmin", -2, ["fast", "write"], (1, 1, 1), ["@fast", "@sortedset", "@write"]),
            ("zpopmax", -2, ["fast", "write"], (1, 1, 1), ["@fast", "@sortedset", "@write"]),
            ("bzpopmin", -3, ["blocking", "fast", "noscript", "write"], (1, -2, 1), ["@blocking", "@fast", "@sortedset", "@write"]),
            ("bzpopmax", -3, ["blocking", "fast", "noscript", "write"], (1, -2, 1), ["@blocking", "@fast", "@sortedset", "@write"]),
            ("zmpop", -4, ["write"], (0, 0, 0), ["@slow", "@sortedset", "@write"]),
            ("bzmpop", -5, ["blocking", "write"], (0, 0, 0), ["@blocking", "@slow", "@sortedset", "@write"]),
            ("zrandmember", -2, ["readonly"], (1, 1, 1), ["@read", "@slow", "@sortedset"]),
            ("zunion", -3, ["readonly"], (0, 0, 0), ["@read", "@slow", "@sortedset"]),
            ("zinter", -3, ["readonly"], (0, 0, 0), ["@read", "@slow", "@sortedset"]),
            ("zdiff", -3, ["readonly"], (0, 0, 0), ["@read", "@slow", "@sortedset"]),
            ("zunionstore", -4, ["denyoom", "write"], (1, 1, 1), ["@slow", "@sortedset", "@write"]),
            ("zinterstore", -4, ["denyoom", "write"], (1, 1, 1), ["@slow", "@sortedset", "@write"]),
            ("zdiffstore", -4, ["denyoom", "write"], (1, 1, 1), ["@slow", "@sortedset", "@write"]),
            ("zintercard", -3, ["readonly"], (0, 0, 0), ["@read", "@slow", "@sortedset"]),
            ("zscan", -3, ["readonly"], (1, 1, 1), ["@read", "@slow", "@sortedset"]),
            ("sort", -2, ["denyoom", "write"], (1, 1, 1), ["@dangerous", "@list", "@set", "@slow", "@sortedset", "@write"]),
            ("sort_ro", -2, ["readonly"], (1, 1, 1), ["@dangerous", "@list", "@read", "@set", "@slow", "@sortedset"]),
        ]
        for (name, arity, flags, keys, categories) in expected {
            guard let spec = e.commands.lookup(Bytes(name)) else { XCTFail("\(name) is not registered"); continue }
            XCTAssertEqual(spec.arity, name == "zrank" || name == "zrevrank" ? -arity : arity, name)
            XCTAssertEqual(spec.flags.names.sorted(), flags, name)
            XCTAssertEqual([spec.firstKey, spec.lastKey, spec.keyStep], [keys.0, keys.1, keys.2], name)
            XCTAssertEqual(spec.aclCategories.sorted(), categories, name)
        }
    }

    // MARK: effects of random commands

    func srem(_ key: String, _ m: String) -> String {
        "*3\r\n$4\r\nSREM\r\n$\(key.utf8.count)\r\n\(key)\r\n$\(m.utf8.count)\r\n\(m)\r\n"
    }

    /// SPOP is propagated as the SREMs of what it popped (MULTI/EXEC around several), as Redis
    /// 7.0 does, whichever way the members were picked.
    func testSPopPropagatesOneSRemPerPoppedMember() {
        let h = EngineHarness()
        _ = h.call(["SADD", "s"] + (0..<10).map { "m\($0)" })
        for count in [nil, 1, 2, 5] as [Int?] {   // the last one takes "most of the set"
            let before = h.logText.utf8.count
            let reply = h.call(["SPOP", "s"] + (count.map { [String($0)] } ?? []))
            let popped = count == nil ? [reply.text ?? "?"] : (reply.strings ?? [])
            XCTAssertEqual(popped.count, count ?? 1)
            let tail = String(decoding: Array(h.logText.utf8.dropFirst(before)), as: UTF8.self)
            var expected = popped.map { srem("s", $0) }.joined()
            if popped.count > 1 { expected = "*1\r\n$5\r\nMULTI\r\n" + expected + "*1\r\n$4\r\nEXEC\r\n" }
            XCTAssertEqual(tail, expected, "SPOP count \(String(describing: count))")
            for m in popped { h.expect(["SISMEMBER", "s", m], ":0\r\n") }
        }
        h.expect(["SCARD", "s"], ":1\r\n")
    }

    func testSPopOfAWholeSetPropagatesUnlinkUnderLazyfreeServerDel() {
        var config = EngineConfig()
        config.lazyfreeLazyServerDel = true
        let h = EngineHarness(config: config)
        _ = h.call(["SADD", "s", "1", "2"])
        h.expect(["SPOP", "s", "5"], "*2\r\n$1\r\n1\r\n$1\r\n2\r\n")
        XCTAssertTrue(h.logText.hasSuffix("*2\r\n$6\r\nUNLINK\r\n$1\r\ns\r\n"))
    }

    /// A WATCHed list popped by a served BLPOP makes the watcher's EXEC fail.
    func testServedBlockedPopTouchesWatchedKeys() {
        let h = EngineHarness()
        h.expect(client: 1, ["BLPOP", "l", "0"], "")
        h.expect(client: 2, ["WATCH", "l"], "+OK\r\n")
        h.expect(["RPUSH", "l", "a", "b"], ":2\r\n")
        XCTAssertEqual(escaped(h.client(1).reply.take()), escaped(Array("*2\r\n$1\r\nl\r\n$1\r\na\r\n".utf8)))
        h.expect(client: 2, ["MULTI"], "+OK\r\n")
        h.expect(client: 2, ["LLEN", "l"], "+QUEUED\r\n")
        h.expect(client: 2, ["EXEC"], "*-1\r\n")
    }

    // MARK: hostile counts

    /// Redis 7.0 builds a reply of |count| draws for any negative count (and runs out of
    /// memory on -2^62); Cairn refuses counts whose reply could not fit proto-max-bulk-len.
    func testHugeNegativeRandomCountsAreRefused() {
        let h = EngineHarness()
        _ = h.call(["HSET", "h", "f", "v"])
        _ = h.call(["SADD", "s", "1"])
        _ = h.call(["ZADD", "z", "1", "m"])
        for argv in [["HRANDFIELD", "h", "-4611686018427387903"], ["HRANDFIELD", "h", "-100000000", "WITHVALUES"],
                     ["SRANDMEMBER", "s", "-9223372036854775807"], ["ZRANDMEMBER", "z", "-536870912"]] {
            h.expect(argv, "-ERR value is out of range\r\n")
        }
        h.expect(["HRANDFIELD", "h", "-3"], "*3\r\n$1\r\nf\r\n$1\r\nf\r\n$1\r\nf\r\n")
        h.expect(["SRANDMEMBER", "s", "-2"], "*2\r\n$1\r\n1\r\n$1\r\n1\r\n")
    }

    func testNumkeysNearInt64MaxIsASyntaxError() {
        let h = EngineHarness()
        h.expect(["LMPOP", "9223372036854775807", "l", "LEFT"], "-ERR syntax error\r\n")
        h.expect(["ZMPOP", "9223372036854775806", "z", "MIN"], "-ERR syntax error\r\n")
        h.expect(["BLMPOP", "0", "9223372036854775807", "l", "LEFT"], "-ERR syntax error\r\n")
        h.expect(["ZUNION", "9223372036854775807", "z"], "-ERR syntax error\r\n")
        h.expect(["SINTERCARD", "9223372036854775807", "s"], "-ERR Number of keys can't be greater than number of args\r\n")
    }
}

/// Random interleavings of blocking pops, pushes, transactions, renames, timeouts and
/// disconnects: every pushed element ends up exactly once, either handed to some client or
/// still in a list, and every blocked client gets exactly one reply.
final class BlockingModelTests: XCTestCase {
    func testElementsAreNeverLostOrDuplicated() {
        var rng = SplitMix64(seed: 11)
        var now: Int64 = 1_700_000_000_000
        let e = Engine(seed: SipHashSeed(k0: 1, k1: 2), clock: { now })
        let keys = ["a", "b", "c"]
        var clients = (0..<6).map { _ in e.connect() }
        let driver = clients[0]
        var waiting = Set<ObjectIdentifier>()
        var pushed: [String] = []
        var popped: [String] = []
        var next = 0
        var served = 0, timedOut = 0
        func run(_ c: ClientSession, _ argv: [String]) -> RESPReply? {
            e.execute(c, argv.map { Bytes($0) })
            return c === driver ? RESPReply.parse(c.reply.take()) : nil
        }
        func collect(_ c: ClientSession) {
            let raw = c.reply.take()
            guard !raw.isEmpty else { return }
            guard let r = RESPReply.parse(raw) else { XCTFail("bad reply \(escaped(raw))"); return }
            XCTAssertTrue(waiting.remove(ObjectIdentifier(c)) != nil, "reply to a client that was not waiting")
            switch r {
            case .array(let items?) where items.count == 2:
                served += 1
                if case .array(let elems?) = items[1] { popped += elems.compactMap { $0.text } }   // BLMPOP
                else if let v = items[1].text { popped.append(v) }                                  // BLPOP
            case .array(nil): timedOut += 1
            case .bulk: served += 1   // BLMOVE: the element moved to another list
            default: XCTFail("unexpected reply \(r)")
            }
        }
        for _ in 0..<4000 {
            switch Int.random(in: 0..<11, using: &rng) {
            case 0, 1:
                let k = keys[Int.random(in: 0..<3, using: &rng)]
                let els = (0..<Int.random(in: 1...3, using: &rng)).map { _ -> String in next += 1; return "e\(next)" }
                pushed += els
                _ = run(driver, [Bool.random(using: &rng) ? "LPUSH" : "RPUSH", k] + els)
            case 3:
                // A transaction that pushes and pops: waiters see only its final state.
                let k = keys[Int.random(in: 0..<3, using: &rng)]
                next += 1
                pushed.append("e\(next)")
                _ = run(driver, ["MULTI"]); _ = run(driver, ["RPUSH", k, "e\(next)"]); _ = run(driver, ["LPOP", k])
                guard case .array(let results?)? = run(driver, ["EXEC"]), results.count == 2 else { XCTFail("EXEC"); break }
                if let v = results[1].text { popped.append(v) }
            case 4:
                _ = run(driver, ["RENAMENX", keys[Int.random(in: 0..<3, using: &rng)], keys[Int.random(in: 0..<3, using: &rng)]])
            case 5, 6, 7:
                guard let c = clients.dropFirst().filter({ !$0.isBlocked }).randomElement(using: &rng) else { break }
                let timeout = ["0", "0.05", "0.2"][Int.random(in: 0..<3, using: &rng)]
                let k1 = keys[Int.random(in: 0..<3, using: &rng)], k2 = keys[Int.random(in: 0..<3, using: &rng)]
                let argv: [String]
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: argv = ["BLPOP", k1, k2, timeout]
                case 1: argv = ["BRPOP", k1, timeout]
                case 2: argv = ["BLMOVE", k1, k2, "LEFT", "RIGHT", timeout]
                default: argv = ["BLMPOP", timeout, "2", k1, k2, "LEFT", "COUNT", "2"]
                }
                waiting.insert(ObjectIdentifier(c))
                _ = run(c, argv)
            case 8, 9:
                now += Int64.random(in: 0...150, using: &rng)
                e.cron()
            default:
                // A blocked client goes away; its wait must leave nothing behind.
                if Int.random(in: 0..<3, using: &rng) == 0, let i = (1..<clients.count).first(where: { clients[$0].isBlocked }) {
                    waiting.remove(ObjectIdentifier(clients[i]))
                    e.disconnect(clients[i])
                    clients[i] = e.connect()
                }
            }
            for c in clients.dropFirst() { collect(c) }
            XCTAssertEqual(e.blocking.blockedClients, clients.filter { $0.isBlocked }.count)
            XCTAssertEqual(Set(clients.filter { $0.isBlocked }.map { ObjectIdentifier($0) }), waiting)
        }
        var remaining: [String] = []
        for k in keys { remaining += run(driver, ["LRANGE", k, "0", "-1"])?.strings ?? [] }
        XCTAssertEqual((popped + remaining).sorted(), pushed.sorted(), "elements lost or duplicated")
        XCTAssertGreaterThan(served, 100)
        XCTAssertGreaterThan(timedOut, 5)
    }
}
