// Sorted-set commands (BZPOPMIN/BZPOPMAX/BZMPOP are in Blocking.swift). Effects are the
// commands themselves except, as Redis 7.0 propagates them:
//   ZMPOP numkeys … MIN|MAX [COUNT n]  → ZPOPMIN|ZPOPMAX key <number popped>
//   ZRANDMEMBER                        → nothing (read-only)
// Scores are answered as Redis 7.0 prints them ("%.17g"; RESP3 doubles carry the same text).
// A sorted set whose last member is removed is deleted.
//
// Divergence from 7.0, on purpose: ZRANK/ZREVRANK accept WITHSCORE (Redis 7.2); 7.0 answers
// that form with an arity error.

extension Engine {
    func registerSortedSetCommands() {
        let rw: CommandFlags = [.write, .denyOOM]
        func reg(_ name: String, _ arity: Int, _ flags: CommandFlags, keys: (Int, Int, Int) = (1, 1, 1),
                 _ summary: String, since: String = "1.2.0", complexity: String = "O(log(N))",
                 _ h: @escaping CommandHandler) {
            commands.register(CommandSpec(name, arity: arity, flags: flags, keys: keys, group: "sorted-set",
                                          summary: summary, since: since, complexity: complexity, handler: h))
        }

        reg("zadd", -4, rw.union(.fast), "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.") { c in
            c.zaddCommand(incr: false)
        }
        reg("zincrby", 4, rw.union(.fast), "Increments the score of a member in a sorted set.") { c in
            c.zaddCommand(incr: true)
        }

        reg("zrem", -3, [.write, .fast], "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", complexity: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.") { c in
            guard let f = c.fetchZSet(c.argv[1], write: true) else { return }
            guard case .found(let e, let z) = f else { c.reply.integer(0); return }
            var removed = 0
            for m in c.argv.dropFirst(2) where z.remove(m) {
                removed += 1
                if z.count == 0 { break }
            }
            if removed > 0 { c.changedOrDeleted(e, c.argv[1], isEmpty: z.count == 0) }
            c.reply.integer(removed)
        }

        reg("zcard", 2, [.readonly, .fast], "Returns the number of members in a sorted set.", complexity: "O(1)") { c in
            guard let f = c.fetchZSet(c.argv[1]) else { return }
            if case .found(_, let z) = f { c.reply.integer(z.count) } else { c.reply.integer(0) }
        }

        reg("zscore", 3, [.readonly, .fast], "Returns the score of a member in a sorted set.", complexity: "O(1)") { c in
            guard let f = c.fetchZSet(c.argv[1]) else { return }
            guard case .found(_, let z) = f, let s = z.score(c.argv[2]) else { c.reply.null(); return }
            c.replyScore(s)
        }

        reg("zmscore", -3, [.readonly, .fast], "Returns the score of one or more members in a sorted set.", since: "6.2.0", complexity: "O(N) where N is the number of members being requested.") { c in
            guard let f = c.fetchZSet(c.argv[1]) else { return }
            c.reply.arrayHeader(c.argv.count - 2)
            for m in c.argv.dropFirst(2) {
                if case .found(_, let z) = f, let s = z.score(m) { c.replyScore(s) } else { c.reply.null() }
            }
        }

        reg("zrank", -3, [.readonly, .fast], "Returns the index of a member in a sorted set ordered by ascending scores.", since: "2.0.0") { c in
            c.zrankCommand(reverse: false)
        }
        reg("zrevrank", -3, [.readonly, .fast], "Returns the index of a member in a sorted set ordered by descending scores.", since: "2.0.0") { c in
            c.zrankCommand(reverse: true)
        }

        reg("zcount", 4, [.readonly, .fast], "Returns the count of members in a sorted set that have scores within a range.", since: "2.0.0") { c in
            guard let range = c.scoreRange(c.argv[2], c.argv[3]) else { return }
            guard let f = c.fetchZSet(c.argv[1]) else { return }
            if case .found(_, let z) = f { c.reply.integer(z.ranks(in: range).count) } else { c.reply.integer(0) }
        }

        reg("zlexcount", 4, [.readonly, .fast], "Returns the number of members in a sorted set within a lexicographical range.", since: "2.8.9") { c in
            guard let range = c.lexRange(c.argv[2], c.argv[3]) else { return }
            guard let f = c.fetchZSet(c.argv[1]) else { return }
            if case .found(_, let z) = f { c.reply.integer(z.ranks(in: range).count) } else { c.reply.integer(0) }
        }

        let rangeComplexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."
        reg("zrange", -4, [.readonly], "Returns members in a sorted set within a range of indexes.", complexity: rangeComplexity) { c in
            c.zrangeCommand(ZRangeRequest(argStart: 1, type: nil, reverse: nil))
        }
        reg("zrangestore", -5, rw, keys: (1, 2, 1), "Stores a range of members from sorted set in a key.", since: "6.2.0", complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.") { c in
            c.zrangeCommand(ZRangeRequest(argStart: 2, type: nil, reverse: nil, store: c.argv[1]))
        }
        reg("zrevrange", -4, [.readonly], "Returns members in a sorted set within a range of indexes in reverse order.", complexity: rangeComplexity) { c in
            c.zrangeCommand(ZRangeRequest(argStart: 1, type: .rank, reverse: true))
        }
        reg("zrangebyscore", -4, [.readonly], "Returns members in a sorted set within a range of scores.", since: "1.0.5", complexity: rangeComplexity) { c in
            c.zrangeCommand(ZRangeRequest(argStart: 1, type: .score, reverse: false))
        }
        reg("zrevrangebyscore", -4, [.readonly], "Returns members in a sorted set within a range of scores in reverse order.", since: "2.2.0", complexity: rangeComplexity) { c in
            c.zrangeCommand(ZRangeRequest(argStart: 1, type: .score, reverse: true))
        }
        reg("zrangebylex", -4, [.readonly], "Returns members in a sorted set within a lexicographical range.", since: "2.8.9", complexity: rangeComplexity) { c in
            c.zrangeCommand(ZRangeRequest(argStart: 1, type: .lex, reverse: false))
        }
        reg("zrevrangebylex", -4, [.readonly], "Returns members in a sorted set within a lexicographical range in reverse order.", since: "2.8.9", complexity: rangeComplexity) { c in
            c.zrangeCommand(ZRangeRequest(argStart: 1, type: .lex, reverse: true))
        }

        let remComplexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."
        reg("zremrangebyrank", 4, [.write], "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", since: "2.0.0", complexity: remComplexity) { c in
            c.zremrangeCommand(.rank)
        }
        reg("zremrangebyscore", 4, [.write], "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", complexity: remComplexity) { c in
            c.zremrangeCommand(.score)
        }
        reg("zremrangebylex", 4, [.write], "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", since: "2.8.9", complexity: remComplexity) { c in
            c.zremrangeCommand(.lex)
        }

        reg("zpopmin", -2, [.write, .fast], "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", since: "5.0.0", complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.") { c in
            c.zpopCommand(.head)
        }
        reg("zpopmax", -2, [.write, .fast], "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", since: "5.0.0", complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.") { c in
            c.zpopCommand(.tail)
        }
        reg("zmpop", -4, [.write], keys: (0, 0, 0), "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.", since: "7.0.0", complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.") { c in
            guard let p = c.mpopArguments(numKeysIndex: 1, ends: false) else { return }
            for key in p.keys {
                guard let f = c.fetchZSet(key, write: true) else { return }
                guard case .found(let e, let z) = f else { continue }
                c.zpopReplyWithKey(e, key, z, p.end, count: p.count)
                return
            }
            c.reply.nullArray()
        }

        reg("zrandmember", -2, [.readonly], "Returns one or more random members from a sorted set.", since: "6.2.0", complexity: "O(N) where N is the number of members returned") { c in
            c.zrandmemberCommand()
        }

        let setOpComplexity = "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set."
        reg("zunion", -3, [.readonly], keys: (0, 0, 0), "Returns the union of multiple sorted sets.", since: "6.2.0", complexity: setOpComplexity) { c in
            c.zsetOperation(.union, numKeysIndex: 1, store: nil)
        }
        reg("zunionstore", -4, rw, keys: (1, 1, 1), "Stores the union of multiple sorted sets in a key.", since: "2.0.0", complexity: setOpComplexity) { c in
            c.zsetOperation(.union, numKeysIndex: 2, store: c.argv[1])
        }
        reg("zinter", -3, [.readonly], keys: (0, 0, 0), "Returns the intersect of multiple sorted sets.", since: "6.2.0", complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.") { c in
            c.zsetOperation(.inter, numKeysIndex: 1, store: nil)
        }
        reg("zinterstore", -4, rw, keys: (1, 1, 1), "Stores the intersect of multiple sorted sets in a key.", since: "2.0.0", complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.") { c in
            c.zsetOperation(.inter, numKeysIndex: 2, store: c.argv[1])
        }
        reg("zdiff", -3, [.readonly], keys: (0, 0, 0), "Returns the difference between multiple sorted sets.", since: "6.2.0", complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.") { c in
            c.zsetOperation(.diff, numKeysIndex: 1, store: nil)
        }
        reg("zdiffstore", -4, rw, keys: (1, 1, 1), "Stores the difference of multiple sorted sets in a key.", since: "6.2.0", complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.") { c in
            c.zsetOperation(.diff, numKeysIndex: 2, store: c.argv[1])
        }
        reg("zintercard", -3, [.readonly], keys: (0, 0, 0), "Returns the number of members of the intersect of multiple sorted sets.", since: "7.0.0", complexity: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.") { c in
            c.zsetOperation(.inter, numKeysIndex: 1, store: nil, cardinalityOnly: true)
        }

        reg("zscan", -3, [.readonly], "Iterates over members and scores of a sorted set.", since: "2.8.0", complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.") { c in
            guard let cursor = c.scanCursor() else { return }
            guard let f = c.fetchZSet(c.argv[1]) else { return }
            guard case .found(_, let z) = f else { c.replyScan(0, []); return }
            guard let options = c.scanOptions(cursor: cursor) else { return }
            var items: [Bytes] = []
            var next: UInt64 = 0
            if let index = z.index {
                next = c.scanTable(index, options) { n in
                    if options.matches(n.key) { items.append(n.key); items.append(Bytes(array: formatScore(ZSetNode(n).score))) }
                }
            } else {
                z.forEach(ranks: 0..<z.count) { m, s in
                    if options.matches(m) { items.append(m); items.append(Bytes(array: formatScore(s))) }
                }
            }
            c.replyScan(next, items)
        }
    }
}

// MARK: - parsing

/// A score-range bound as Redis's zslParseRange reads it: C's strtod over the argument, which
/// must stop at the end (or at an embedded NUL, where C sees the end), NaN rejected. strtod
/// also accepts leading spaces and an empty string (0), and so does Redis.
func parseRangeScore(_ s: UnsafeRawBufferPointer) -> Double? {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: s.count + 1) { buf -> Double? in
        let base = buf.baseAddress!
        if let src = s.baseAddress, s.count > 0 {
            UnsafeMutableRawPointer(base).copyMemory(from: src, byteCount: s.count)
        }
        base[s.count] = 0
        var end: UnsafeMutablePointer<CChar>? = nil
        let v = strtod(base, &end)
        guard let end, end.pointee == 0, !v.isNaN else { return nil }
        return v
    }
}

extension CommandCall {
    /// min/max of ZRANGEBYSCORE & co ("ERR min or max is not a float").
    mutating func scoreRange(_ min: Bytes, _ max: Bytes) -> ScoreRange? {
        func bound(_ b: Bytes) -> (Double, Bool)? {
            b.withUnsafeBytes { raw -> (Double, Bool)? in
                if raw.count > 0 && raw[0] == UInt8(ascii: "(") {
                    return parseRangeScore(UnsafeRawBufferPointer(rebasing: raw[1...])).map { ($0, true) }
                }
                return parseRangeScore(raw).map { ($0, false) }
            }
        }
        guard let lo = bound(min), let hi = bound(max) else {
            error("ERR min or max is not a float")
            return nil
        }
        return ScoreRange(min: lo.0, max: hi.0, minExclusive: lo.1, maxExclusive: hi.1)
    }

    /// min/max of ZRANGEBYLEX & co ("ERR min or max not valid string range item").
    mutating func lexRange(_ min: Bytes, _ max: Bytes) -> LexRange? {
        func bound(_ b: Bytes) -> LexRange.Bound? {
            guard b.count > 0 else { return nil }
            switch b[0] {
            case UInt8(ascii: "+"): return b.count == 1 || b[1] == 0 ? .positiveInfinity : nil
            case UInt8(ascii: "-"): return b.count == 1 || b[1] == 0 ? .negativeInfinity : nil
            case UInt8(ascii: "("): return .exclusive(b.slice(1, b.count))
            case UInt8(ascii: "["): return .inclusive(b.slice(1, b.count))
            default: return nil
            }
        }
        guard let lo = bound(min), let hi = bound(max) else {
            error("ERR min or max not valid string range item")
            return nil
        }
        return LexRange(min: lo, max: hi)
    }

    /// A score reply: "%.17g" as a bulk string in RESP2, a double in RESP3.
    mutating func replyScore(_ v: Double) {
        if reply.isResp3 { reply.double(text: formatDoubleRESP3(v)) } else { reply.bulk(formatScore(v)) }
    }

    /// An array of members, with scores when asked: flat in RESP2, [member, score] pairs in
    /// RESP3.
    mutating func replyMembers(_ items: [(member: Bytes, score: Double)], withScores: Bool) {
        if withScores && !reply.isResp3 { reply.arrayHeader(items.count * 2) } else { reply.arrayHeader(items.count) }
        for (m, s) in items {
            if withScores && reply.isResp3 { reply.arrayHeader(2) }
            reply.bulk(m)
            if withScores { replyScore(s) }
        }
    }
}

// MARK: - ZADD

extension CommandCall {
    mutating func zaddCommand(incr incrCommand: Bool) {
        var nx = false, xx = false, gt = false, lt = false, ch = false, incr = incrCommand
        var scoreIndex = 2
        while scoreIndex < argv.count {
            let a = argv[scoreIndex]
            if a.isKeyword("nx") { nx = true }
            else if a.isKeyword("xx") { xx = true }
            else if a.isKeyword("ch") { ch = true }
            else if a.isKeyword("incr") { incr = true }
            else if a.isKeyword("gt") { gt = true }
            else if a.isKeyword("lt") { lt = true }
            else { break }
            scoreIndex += 1
        }
        let pairsArgs = argv.count - scoreIndex
        if pairsArgs % 2 != 0 || pairsArgs == 0 { syntaxError(); return }
        let pairs = pairsArgs / 2
        if nx && xx { error("ERR XX and NX options at the same time are not compatible"); return }
        if (gt && nx) || (lt && nx) || (gt && lt) {
            error("ERR GT, LT, and/or NX options at the same time are not compatible"); return
        }
        if incr && pairs > 1 { error("ERR INCR option supports a single increment-element pair"); return }
        var scores: [Double] = []
        scores.reserveCapacity(pairs)
        for j in 0..<pairs {
            guard let s = argv[scoreIndex + 2 * j].withUnsafeBytes({ parseDouble($0) }) else {
                error("ERR value is not a valid float"); return
            }
            scores.append(s)
        }
        let key = argv[1]
        guard let f = fetchZSet(key, write: true) else { return }
        let z: ZSetValue
        var entry: KeyEntry? = nil
        switch f {
        case .found(let e, let existing):
            z = existing
            entry = e
        case .missing:
            if xx {
                if incr { reply.null() } else { reply.integer(0) }
                return
            }
            z = ZSetValue()
        }
        let limits = self.limits
        var added = 0, updated = 0, processed = 0
        var lastScore = 0.0
        for j in 0..<pairs {
            var score = scores[j]
            let member = argv[scoreIndex + 2 * j + 1]
            let probe = z.probe(member)
            if let current = probe.score {
                if nx { continue }
                if incr {
                    score += current
                    // Only INCR (a single pair) gets here, so nothing has changed yet.
                    if score.isNaN { error("ERR resulting score is not a number (NaN)"); return }
                }
                if (lt && score >= current) || (gt && score <= current) { continue }
                if score != current {
                    z.update(member, to: score, probe: probe)
                    updated += 1
                }
                processed += 1
                lastScore = score
            } else if !xx {
                z.insert(member, score, probe: probe, limits: limits)
                added += 1
                processed += 1
                lastScore = score
            }
        }
        if added + updated > 0 {
            if let e = entry { touched(e) } else { setKey(key, .zset(z)) }
        }
        if incr {
            if processed > 0 { replyScore(lastScore) } else { reply.null() }
        } else {
            reply.integer(ch ? added + updated : added)
        }
    }

    mutating func zrankCommand(reverse: Bool) {
        var withScore = false
        if argv.count > 4 { error("ERR wrong number of arguments for '\(spec.name)' command"); return }
        if argv.count == 4 {
            guard argv[3].isKeyword("withscore") else { syntaxError(); return }
            withScore = true
        }
        guard let f = fetchZSet(argv[1]) else { return }
        guard case .found(_, let z) = f, let r = z.rank(argv[2]) else {
            if withScore { reply.nullArray() } else { reply.null() }
            return
        }
        let rank = reverse ? z.count - 1 - r : r
        if withScore {
            reply.arrayHeader(2)
            reply.integer(rank)
            replyScore(z.score(argv[2])!)
        } else {
            reply.integer(rank)
        }
    }
}

// MARK: - ranges

enum ZRangeType { case rank, score, lex }

struct ZRangeRequest {
    /// Index of the source key in argv.
    var argStart: Int
    /// Fixed by the command name, or nil when ZRANGE/ZRANGESTORE options choose.
    var type: ZRangeType?
    var reverse: Bool?
    var store: Bytes? = nil
}

extension CommandCall {
    /// ZRANGE and its older forms, ZRANGESTORE (Redis's zrangeGenericCommand): options, then
    /// the range, then the key.
    mutating func zrangeCommand(_ request: ZRangeRequest) {
        let key = argv[request.argStart]
        var minIndex = request.argStart + 1
        var maxIndex = request.argStart + 2
        var type = request.type
        var reverse = request.reverse
        var withScores = false
        var offset: Int64 = 0
        var limit: Int64 = -1
        var j = request.argStart + 3
        while j < argv.count {
            let left = argv.count - j - 1
            let a = argv[j]
            if request.store == nil && a.isKeyword("withscores") {
                withScores = true
            } else if a.isKeyword("limit") && left >= 2 {
                guard let o = int(j + 1), let l = int(j + 2) else { return }
                offset = o
                limit = l
                j += 2
            } else if request.reverse == nil && reverse == nil && a.isKeyword("rev") {
                reverse = true
            } else if request.type == nil && type == nil && a.isKeyword("bylex") {
                type = .lex
            } else if request.type == nil && type == nil && a.isKeyword("byscore") {
                type = .score
            } else {
                syntaxError()
                return
            }
            j += 1
        }
        let rev = reverse ?? false
        let kind = type ?? .rank
        if limit != -1 && kind == .rank {
            error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"); return
        }
        if withScores && kind == .lex {
            error("ERR syntax error, WITHSCORES not supported in combination with BYLEX"); return
        }
        if rev && kind != .rank { swap(&minIndex, &maxIndex) }

        var startIndex: Int64 = 0, endIndex: Int64 = 0
        var scoreRange: ScoreRange? = nil
        var lexRange: LexRange? = nil
        switch kind {
        case .rank:
            guard let s = int(minIndex), let e = int(maxIndex) else { return }
            startIndex = s; endIndex = e
        case .score:
            guard let r = self.scoreRange(argv[minIndex], argv[maxIndex]) else { return }
            scoreRange = r
        case .lex:
            guard let r = self.lexRange(argv[minIndex], argv[maxIndex]) else { return }
            lexRange = r
        }

        guard let f = fetchZSet(key) else { return }
        guard case .found(_, let z) = f else {
            if let dst = request.store {
                deleteKey(dst)
                reply.integer(0)
            } else {
                reply.arrayHeader(0)
            }
            return
        }

        // Ascending ranks selected, then walked from the low or the high end.
        var ranks: Range<Int>
        switch kind {
        case .rank:
            let r = listRange(startIndex, endIndex, count: z.count)
            ranks = rev ? (z.count - r.upperBound)..<(z.count - r.lowerBound) : r
        case .score:
            ranks = applyLimit(z.ranks(in: scoreRange!), offset: offset, limit: limit, reverse: rev)
        case .lex:
            ranks = applyLimit(z.ranks(in: lexRange!), offset: offset, limit: limit, reverse: rev)
        }
        if ranks.isEmpty { ranks = 0..<0 }
        var items: [(member: Bytes, score: Double)] = []
        items.reserveCapacity(ranks.count)
        z.forEach(ranks: ranks, reverse: rev) { items.append(($0, $1)) }

        if let dst = request.store {
            let out = ZSetValue()
            let limits = self.limits
            for (m, s) in items { out.insert(m, s, limits: limits) }
            storeResult(dst, .zset(out), isEmpty: items.isEmpty)
            reply.integer(items.count)
            return
        }
        replyMembers(items, withScores: withScores)
    }

    /// LIMIT offset count over a rank range: a negative offset selects nothing, a negative
    /// count everything after the offset (Redis's loops over `offset--` / `limit--`).
    func applyLimit(_ r: Range<Int>, offset: Int64, limit: Int64, reverse: Bool) -> Range<Int> {
        if offset < 0 { return 0..<0 }
        if offset >= Int64(r.count) { return 0..<0 }
        let o = Int(offset)
        let available = r.count - o
        let n = limit < 0 ? available : min(available, Int(clamping: limit))
        if reverse { return (r.upperBound - o - n)..<(r.upperBound - o) }
        return (r.lowerBound + o)..<(r.lowerBound + o + n)
    }

    mutating func zremrangeCommand(_ kind: ZRangeType) {
        var startIndex: Int64 = 0, endIndex: Int64 = 0
        var scoreRange: ScoreRange? = nil
        var lexRange: LexRange? = nil
        switch kind {
        case .rank:
            guard let s = int(2), let e = int(3) else { return }
            startIndex = s; endIndex = e
        case .score:
            guard let r = self.scoreRange(argv[2], argv[3]) else { return }
            scoreRange = r
        case .lex:
            guard let r = self.lexRange(argv[2], argv[3]) else { return }
            lexRange = r
        }
        guard let f = fetchZSet(argv[1], write: true) else { return }
        guard case .found(let e, let z) = f else { reply.integer(0); return }
        let ranks: Range<Int>
        switch kind {
        case .rank: ranks = listRange(startIndex, endIndex, count: z.count)
        case .score: ranks = z.ranks(in: scoreRange!)
        case .lex: ranks = z.ranks(in: lexRange!)
        }
        let removed = z.removeRanks(ranks)
        if removed > 0 { changedOrDeleted(e, argv[1], isEmpty: z.count == 0) }
        reply.integer(removed)
    }
}

// MARK: - pops and random members

extension CommandCall {
    /// ZPOPMIN/ZPOPMAX key [count].
    mutating func zpopCommand(_ end: ListEnd) {
        if argv.count > 3 { syntaxError(); return }
        var count = -1
        if argv.count == 3 {
            guard let v = argv[2].withUnsafeBytes({ parseInt64($0) }), v >= 0 else {
                error("ERR value is out of range, must be positive"); return
            }
            count = Int(v)
        }
        let nested = reply.isResp3 && count != -1
        guard let f = fetchZSet(argv[1], write: true) else { return }
        guard case .found(let e, let z) = f else { reply.arrayHeader(0); return }
        if count == 0 { reply.arrayHeader(0); return }
        let popped = zpop(z, end, count: count == -1 ? 1 : count)
        reply.arrayHeader(nested ? popped.count : popped.count * 2)
        for (m, s) in popped {
            if nested { reply.arrayHeader(2) }
            reply.bulk(m)
            replyScore(s)
        }
        changedOrDeleted(e, argv[1], isEmpty: z.count == 0)
    }

    /// Removes up to `count` elements from the low (`.head`) or high end.
    func zpop(_ z: ZSetValue, _ end: ListEnd, count: Int) -> [(member: Bytes, score: Double)] {
        let n = min(count, z.count)
        let ranks = end == .head ? 0..<n : (z.count - n)..<z.count
        var out: [(member: Bytes, score: Double)] = []
        out.reserveCapacity(n)
        z.forEach(ranks: ranks, reverse: end == .tail) { out.append(($0, $1)) }
        z.removeRanks(ranks)
        return out
    }

    /// ZMPOP/BZMPOP reply [key, [[member, score], …]] after popping; propagates
    /// ZPOPMIN|ZPOPMAX key <number popped>.
    mutating func zpopReplyWithKey(_ e: KeyEntry, _ key: Bytes, _ z: ZSetValue, _ end: ListEnd, count: Int) {
        let popped = zpop(z, end, count: count)
        reply.arrayHeader(2)
        reply.bulk(key)
        reply.arrayHeader(popped.count)
        for (m, s) in popped {
            reply.arrayHeader(2)
            reply.bulk(m)
            replyScore(s)
        }
        changedOrDeleted(e, key, isEmpty: z.count == 0)
        propagate([Bytes(end == .head ? "ZPOPMIN" : "ZPOPMAX"), key, Bytes(popped.count)])
    }

    mutating func zrandmemberCommand() {
        if argv.count == 2 {
            guard let f = fetchZSet(argv[1]) else { return }
            guard case .found(_, let z) = f, z.count > 0 else { reply.null(); return }
            reply.bulk(z.element(atRank: Int.random(in: 0..<z.count, using: &engine.rng)).member)
            return
        }
        guard let l = argv[2].withUnsafeBytes({ parseInt64($0) }) else { notInteger(); return }
        if l == Int64.min {
            error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
            return
        }
        if argv.count > 4 || (argv.count == 4 && !argv[3].isKeyword("withscores")) { syntaxError(); return }
        let withScores = argv.count == 4
        if withScores && (l < -(Int64.max / 2) || l > Int64.max / 2) { error("ERR value is out of range"); return }
        guard randomCountAllowed(l) else { return }
        guard let f = fetchZSet(argv[1]) else { return }
        guard case .found(_, let z) = f, l != 0 else { reply.arrayHeader(0); return }
        let picks = randomPicks(count: l, size: z.count, rng: &engine.rng,
                                one: { z.element(atRank: Int.random(in: 0..<z.count, using: &$0)) },
                                all: { z.elements.reversed() })   // a whole set comes highest first, as in Redis
        replyMembers(picks, withScores: withScores)
    }
}

// MARK: - ZUNION / ZINTER / ZDIFF

enum ZSetOperation { case union, inter, diff }

extension CommandCall {
    /// The input of a set operation: a sorted set, a plain set (every score 1) or nothing.
    enum ZSource {
        case zset(ZSetValue)
        case set(SetValue)
        case none

        var count: Int {
            switch self {
            case .zset(let z): return z.count
            case .set(let s): return s.count
            case .none: return 0
            }
        }

        func forEach(_ body: (Bytes, Double) -> Void) {
            switch self {
            case .zset(let z): z.forEach(ranks: 0..<z.count, body)
            case .set(let s): s.forEach { body($0, 1.0) }
            case .none: break
            }
        }

        func score(_ m: Bytes) -> Double? {
            switch self {
            case .zset(let z): return z.score(m)
            case .set(let s): return s.contains(m) ? 1.0 : nil
            case .none: return nil
            }
        }

        func isSameObject(_ other: ZSource) -> Bool {
            switch (self, other) {
            case (.zset(let a), .zset(let b)): return a === b
            case (.set(let a), .set(let b)): return a === b
            default: return false
            }
        }
    }

    enum Aggregate { case sum, min, max }

    /// ZUNION/ZINTER/ZDIFF[STORE] and ZINTERCARD (Redis's zunionInterDiffGenericCommand): the
    /// keys are checked for type before the options are parsed; inputs are taken smallest
    /// first for union and intersection (that order decides floating-point sums).
    mutating func zsetOperation(_ op: ZSetOperation, numKeysIndex: Int, store: Bytes?, cardinalityOnly: Bool = false) {
        guard let n = int(numKeysIndex) else { return }
        if n < 1 { error("ERR at least 1 input key is needed for '\(spec.name)' command"); return }
        if n > Int64(argv.count - numKeysIndex - 1) { syntaxError(); return }
        let setCount = Int(n)
        var sources: [(source: ZSource, weight: Double)] = []
        var j = numKeysIndex + 1
        for _ in 0..<setCount {
            let k = argv[j]
            j += 1
            let e = store != nil ? lookupWrite(k) : lookupRead(k)
            switch e?.value {
            case nil: sources.append((.none, 1))
            case .zset(let z)?: sources.append((.zset(z), 1))
            case .set(let s)?: sources.append((.set(s), 1))
            default: wrongType(); return
            }
        }
        var aggregate = Aggregate.sum
        var withScores = false
        var cardinalityLimit = 0
        do {
            while j < argv.count {
                let remaining = argv.count - j
                if cardinalityOnly {
                    guard remaining >= 2 && argv[j].isKeyword("limit") else { syntaxError(); return }
                    guard let v = argv[j + 1].withUnsafeBytes({ parseInt64($0) }), v >= 0 else {
                        error("ERR LIMIT can't be negative"); return
                    }
                    cardinalityLimit = Int(v)
                    j += 2
                } else if op != .diff && remaining >= setCount + 1 && argv[j].isKeyword("weights") {
                    j += 1
                    for i in 0..<setCount {
                        guard let w = argv[j].withUnsafeBytes({ parseDouble($0) }) else {
                            error("ERR weight value is not a float"); return
                        }
                        sources[i].weight = w
                        j += 1
                    }
                } else if op != .diff && remaining >= 2 && argv[j].isKeyword("aggregate") {
                    let a = argv[j + 1]
                    if a.isKeyword("sum") { aggregate = .sum }
                    else if a.isKeyword("min") { aggregate = .min }
                    else if a.isKeyword("max") { aggregate = .max }
                    else { syntaxError(); return }
                    j += 2
                } else if store == nil && argv[j].isKeyword("withscores") {
                    withScores = true
                    j += 1
                } else {
                    syntaxError()
                    return
                }
            }
        }
        if op != .diff {
            sources = sources.enumerated().sorted {
                $0.element.source.count != $1.element.source.count
                    ? $0.element.source.count < $1.element.source.count : $0.offset < $1.offset
            }.map { $0.element }
        }

        func combine(_ target: inout Double, _ v: Double) {
            switch aggregate {
            case .sum:
                target += v
                if target.isNaN { target = 0 }
            case .min: target = v < target ? v : target
            case .max: target = v > target ? v : target
            }
        }

        var result: [(member: Bytes, score: Double)] = []
        var cardinality = 0
        switch op {
        case .inter:
            let first = sources[0]
            if first.source.count > 0 {
                first.source.forEach { m, s in
                    if cardinalityLimit > 0 && cardinality >= cardinalityLimit { return }
                    var score = first.weight * s
                    if score.isNaN { score = 0 }
                    for other in sources.dropFirst() {
                        let v: Double
                        if other.source.isSameObject(first.source) {
                            v = s * other.weight
                        } else if let found = other.source.score(m) {
                            v = found * other.weight
                        } else {
                            return
                        }
                        combine(&score, v)
                    }
                    if cardinalityOnly { cardinality += 1 } else { result.append((m, score)) }
                }
            }
        case .union:
            var index: [Bytes: Int] = [:]
            for src in sources where src.source.count > 0 {
                src.source.forEach { m, s in
                    var score = src.weight * s
                    if score.isNaN { score = 0 }
                    if let i = index[m] {
                        combine(&result[i].score, score)
                    } else {
                        index[m] = result.count
                        result.append((m, score))
                    }
                }
            }
        case .diff:
            let first = sources[0].source
            first.forEach { m, s in
                for other in sources.dropFirst() {
                    if other.source.isSameObject(first) || other.source.score(m) != nil { return }
                }
                result.append((m, s))
            }
        }
        if cardinalityOnly { reply.integer(cardinality); return }

        result.sort { SkipList.less($0.score, $0.member, $1.score, $1.member) }
        if let dst = store {
            let out = ZSetValue()
            let limits = self.limits
            for (m, s) in result { out.insert(m, s, limits: limits) }
            storeResult(dst, .zset(out), isEmpty: result.isEmpty)
            reply.integer(result.count)
            return
        }
        replyMembers(result, withScores: withScores)
    }
}

#if canImport(Glibc)
import Glibc
#endif
