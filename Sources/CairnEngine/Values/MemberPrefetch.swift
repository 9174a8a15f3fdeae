// Prefetching the members a pipeline's commands are about to look up.
//
// Engine.prefetchKeys overlaps the cache misses of a pipeline's key lookups. For a command on
// a big set or hash (SADD key member, HSET key field value, SISMEMBER, HGET, …) the key is
// usually the cheap part: the lookup that misses is the member's, in a MemberTable of up to
// millions of buckets, two dependent misses (bucket, then node). With these requests
//
//   SADD myset m1   SADD myset m2   …   SADD myset m16
//
// one after another, each command waits for its own two misses. Here, before the first runs:
//
//   pass 1  for each request: find the key (prefetchKeys has it loading), hash argv[2] with
//           the member table's seed, start loading its bucket
//   pass 2  for each request: start loading the node that bucket points to
//
// so the 32 misses overlap and the commands find their buckets and nodes in the cache.
//
// ZADD and ZINCRBY on a big sorted set also descend its skip list, once for a new member and
// twice for one whose score moves (unlink at the old place, link at the new): a chain of
// some 37 dependent loads each at 632k members, the lower levels' all misses, most of the
// command's time. After the member passes:
//
//   pass 3  for each of them: look the member up (its bucket and node have arrived), and
//           start loading an existing member's neighbours (ZSetValue.update compares them)
//   pass 4  the descents the commands will make (none when the score stays between the
//           neighbours, or NX/XX/GT/LT leave the member alone), walked side by side by
//           SkipList.prefetchPaths so their misses overlap too
//
// A single ZADD (no pipeline) gains little from walking its own two descents side by side
// (measured: 3.2 µs against 3.8 µs for two descents of a 632k-member list, and the change
// then repeats them in the cache), so only pipelines are prefetched.
//
// Only a hint. Requests are picked by the first letters of their name (`mayNameMember`), so
// that a pipeline of SETs pays nothing but that test; argv[2] is then taken for a member
// whatever the command (SMOVE's destination key, HSCAN's cursor, a count …), and guessing
// wrong costs a key lookup, one hash and a few prefetches. ZADD's arguments are read as the
// command reads them (`ZAddRequest`), one pair only. Nothing here changes the keyspace or
// the tables (no rehash step, no lazy expiry).

/// What a ZADD of one score and member, or a ZINCRBY, asks for, as far as the reads it makes
/// are concerned (pass 4).
struct ZAddRequest {
    var score: Double
    var nx = false, xx = false, gt = false, lt = false, incr = false

    /// Reads a request as zaddCommand reads it: ZADD with one pair or ZINCRBY, and the index
    /// of the member in argv; nil for any other request or form (including a bad score).
    static func parse(_ argv: [Bytes]) -> (request: ZAddRequest, memberIndex: Int)? {
        guard argv.count >= 4 else { return nil }
        var r = ZAddRequest(score: 0)
        var at = 2
        if argv[0].isKeyword("zincrby") {
            guard argv.count == 4 else { return nil }
            r.incr = true
        } else if argv[0].isKeyword("zadd") {
            while at < argv.count {
                let a = argv[at]
                if a.isKeyword("nx") { r.nx = true }
                else if a.isKeyword("xx") { r.xx = true }
                else if a.isKeyword("gt") { r.gt = true }
                else if a.isKeyword("lt") { r.lt = true }
                else if a.isKeyword("incr") { r.incr = true }
                else if !a.isKeyword("ch") { break }
                at += 1
            }
            guard argv.count - at == 2 else { return nil }
        } else {
            return nil
        }
        guard let s = argv[at].withUnsafeBytes({ parseDouble($0) }) else { return nil }
        r.score = s
        return (r, at + 1)
    }

    /// The descents the change makes for a member whose node is `node` (nil when absent):
    /// the scores it descends to, to unlink (`old`) and to link (`new`). The decisions are
    /// zaddCommand's and SkipList.updateScore's; `node`'s neighbours are read.
    func descents(_ node: ZSetNode?, _ member: Bytes) -> (old: Double?, new: Double?) {
        guard let node else { return (nil, xx ? nil : score) }
        if nx { return (nil, nil) }
        let old = node.score
        let new = incr ? old + score : score
        if new.isNaN || new == old || (lt && new >= old) || (gt && new <= old) { return (nil, nil) }
        let prevOK = node.backward.map { SkipList.less($0, new, member) } ?? true
        let nextOK = node.forward(0).map { SkipList.less(new, member, $0) } ?? true
        if prevOK && nextOK { return (nil, nil) }
        return (old, new)
    }
}

extension ZSetValue {
    /// Bytes of a skip-list node that the lookup and the neighbour test read: link, member,
    /// score, level-0 link and the backward link.
    static let probedBytes = ZSetNode.backwardOffset + 8
}

extension Engine {
    /// The most member lookups of one batch that are prefetched: a pipeline of 64 requests
    /// loads at most 64 × 3 lines (bucket, and the node's one or two) ahead of its commands,
    /// which are still cached when those commands run.
    static let memberPrefetchMax = 64

    /// Whether a request's name may be that of a set or hash command with a member or field
    /// at argv[2]: SADD, SREM, SISMEMBER, HSET, HGET, HDEL, HINCRBY, … start with S or H; SET,
    /// SETEX, SETRANGE, SELECT and the other SE… commands are not set commands.
    @inline(__always)
    static func mayNameMember(_ name: Bytes) -> Bool {
        name.withUnsafeBytes { raw in
            guard raw.count >= 4 else { return false }
            let first = raw[0] | 0x20, second = raw[1] | 0x20
            return first == UInt8(ascii: "h") || (first == UInt8(ascii: "s") && second != UInt8(ascii: "e"))
        }
    }

    private struct PendingMember {
        var table: Unmanaged<MemberTable>
        var hash: Int
        var lastByte: Int
    }

    private struct PendingAdd {
        var list: Unmanaged<SkipList>
        /// Its member lookup in `pending`.
        var lookup: Int
        var request: ZAddRequest
        /// Where the request and its member are in the batch.
        var member: Int
        var argv: Int
        var node: ZSetNode?
    }

    /// Called by prefetchKeys after its own passes (the keys' entries are on their way).
    /// Returns the number of skip-list descents walked (tests).
    @discardableResult
    func prefetchMembers(_ keys: HashTable<KeyEntry>, _ batch: ArraySlice<[Bytes]>) -> Int {
        withUnsafeTemporaryAllocation(of: PendingMember.self, capacity: Engine.memberPrefetchMax) { pending in
        withUnsafeTemporaryAllocation(of: PendingAdd.self, capacity: Engine.memberPrefetchMax) { adds in
            var n = 0, nAdds = 0
            // The previous request's key and its entry (nil: not a boxed value), so a
            // pipeline on one key looks it up once.
            var previousKey: Bytes? = nil
            var previousEntry: Unmanaged<KeyEntry>? = nil
            for k in batch.indices {
                let argv = batch[k]
                guard argv.count >= 3 else { continue }
                if n == pending.count { break }
                let add: (request: ZAddRequest, memberIndex: Int)?
                if Engine.mayNameMember(argv[0]) {
                    add = nil
                } else if let a = ZAddRequest.parse(argv) {
                    add = a
                } else {
                    continue
                }
                if previousKey == nil || previousKey! != argv[1] {
                    previousKey = argv[1]
                    previousEntry = nil
                    if let e = argv[1].withUnsafeBytes({ keys.peek($0) }), e.storageKind == .boxed {
                        previousEntry = .passUnretained(e)
                    }
                }
                // The keyspace holds the entry until the commands run.
                guard let e = previousEntry?.takeUnretainedValue() else { continue }
                let table: MemberTable
                let lastByte: Int
                var memberIndex = 2
                switch e.header.boxed {
                case .set(let s) where add == nil:
                    guard let t = s.table else { continue }
                    table = t
                    lastByte = SetValue.nodeSize - 1
                case .hash(let h) where add == nil:
                    guard let t = h.table else { continue }
                    table = t
                    lastByte = HashFieldNode.size - 1
                case .zset(let z):
                    guard let add, let t = z.index, let list = z.list else { continue }
                    table = t
                    // Score, level-0 link and backward link: what the lookup and the
                    // neighbour test read.
                    lastByte = ZSetValue.probedBytes - 1
                    memberIndex = add.memberIndex
                    (adds.baseAddress! + nAdds).initialize(to: PendingAdd(
                        list: .passUnretained(list), lookup: n, request: add.request, member: add.memberIndex,
                        argv: k, node: nil))
                    nAdds += 1
                default:
                    continue
                }
                let h = argv[memberIndex].withUnsafeBytes { table.hash($0) }
                table.prefetchBucket(h)
                // The table stays alive until the commands run: the key's value holds it, and
                // nothing runs between the two passes.
                (pending.baseAddress! + n).initialize(to: PendingMember(table: .passUnretained(table), hash: h, lastByte: lastByte))
                n += 1
            }
            for i in 0..<n {
                let p = pending[i]
                p.table._withUnsafeGuaranteedRef { $0.prefetchChainHead(p.hash, lastByte: p.lastByte) }
            }
            for i in 0..<n {
                let p = pending[i]
                p.table._withUnsafeGuaranteedRef { $0.prefetchChainSecond(p.hash, lastByte: p.lastByte) }
            }
            return nAdds > 0 ? prefetchSortedSetPaths(pending, adds, nAdds, batch) : 0
        }
        }
    }

    /// Passes 3 and 4 (see the top of the file) for the batch's ZADD/ZINCRBY requests;
    /// returns the number of descents walked.
    private func prefetchSortedSetPaths(_ pending: UnsafeMutableBufferPointer<PendingMember>,
                                        _ adds: UnsafeMutableBufferPointer<PendingAdd>, _ nAdds: Int,
                                        _ batch: ArraySlice<[Bytes]>) -> Int {
        for i in 0..<nAdds {
            let a = adds[i]
            let p = pending[a.lookup]
            let member = batch[a.argv][a.member]
            let found = member.withUnsafeBytes { m in p.table._withUnsafeGuaranteedRef { $0.peek(m, hash: p.hash) } }
            guard let found else { continue }
            let node = ZSetNode(found)
            adds[i].node = node
            node.backward?.prefetch(level: 0)
            node.forward(0)?.prefetch(level: 0)
        }
        return withUnsafeTemporaryAllocation(of: SkipList.PathCursor.self, capacity: 2 * nAdds) { cursors in
            var c = 0
            for i in 0..<nAdds {
                let a = adds[i]
                let member = batch[a.argv][a.member]
                let (old, new) = a.request.descents(a.node, member)
                a.list._withUnsafeGuaranteedRef { list in
                    if let old {
                        (cursors.baseAddress! + c).initialize(to: SkipList.PathCursor(list, old, member))
                        c += 1
                    }
                    if let new {
                        (cursors.baseAddress! + c).initialize(to: SkipList.PathCursor(list, new, member))
                        c += 1
                    }
                }
            }
            let started = UnsafeMutableBufferPointer(rebasing: cursors[0..<c])
            SkipList.prefetchPaths(started)
            started.deinitialize()
            return c
        }
    }
}
