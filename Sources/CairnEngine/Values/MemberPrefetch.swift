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
// Only a hint. Requests are picked by the first letters of their name (`mayNameMember`), so
// that a pipeline of SETs or ZADDs pays nothing but that test; argv[2] is then taken for a
// member whatever the command (SMOVE's destination key, HSCAN's cursor, a count …), and
// guessing wrong costs a key lookup, one hash and a few prefetches. Nothing here changes the
// keyspace or the tables (no rehash step, no lazy expiry).

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

    /// Called by prefetchKeys after its own passes (the keys' entries are on their way).
    func prefetchMembers(_ keys: HashTable<KeyEntry>, _ batch: ArraySlice<[Bytes]>) {
        withUnsafeTemporaryAllocation(of: PendingMember.self, capacity: Engine.memberPrefetchMax) { pending in
            var n = 0
            // The previous request's key and what it held (nil: no big set or hash), so a
            // pipeline on one key looks it up once.
            var previousKey: Bytes? = nil
            var previous: (table: Unmanaged<MemberTable>, lastByte: Int)? = nil
            for argv in batch where argv.count >= 3 && Engine.mayNameMember(argv[0]) {
                if n == pending.count { break }
                if previousKey == nil || previousKey! != argv[1] {
                    previousKey = argv[1]
                    previous = nil
                    guard let e = argv[1].withUnsafeBytes({ keys.peek($0) }), e.storageKind == .boxed else { continue }
                    switch e.header.boxed {
                    case .set(let s):
                        if let t = s.table { previous = (.passUnretained(t), SetValue.nodeSize - 1) }
                    case .hash(let h):
                        if let t = h.table { previous = (.passUnretained(t), HashFieldNode.size - 1) }
                    default:
                        break
                    }
                }
                guard let (tableRef, lastByte) = previous else { continue }
                let table = tableRef.takeUnretainedValue()
                let h = argv[2].withUnsafeBytes { table.hash($0) }
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
        }
    }
}
