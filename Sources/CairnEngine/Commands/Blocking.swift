// Blocking pops: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX BZMPOP.
//
// A blocking command first behaves like its non-blocking twin: if one of its keys holds
// elements it pops right away, replies, and its effect is the non-blocking command (BLPOP →
// LPOP key, BLMOVE → LMOVE …, BLMPOP → LPOP key <n>, BZPOPMIN → ZPOPMIN key). Otherwise
// the client blocks: it is queued, first-blocked-first-served, under every key it waits on,
// `client.isBlocked` is set and the server holds the client's further requests.
//
//   blocked ──(a key it waits on becomes ready)──▶ served: reply written, effect propagated
//      │                                                  with the client's database
//      ├──(timeout passes: cron or end of a command)──▶ null-array reply
//      └──(disconnect)──▶ forgotten
//   each of the three ends: isBlocked = false, registry entries removed, then
//   `Engine.onClientUnblocked` (not for a disconnect).
//
// The hook is called only once the whole serving pass is over (every ready key served, every
// timeout handled), never in the middle of it: the server runs the unblocked client's held
// requests from the hook, and those must come after the other waiters were served, as in
// Redis (which runs them from beforeSleep). Keys those requests make ready are served by the
// same pass, which loops until nothing is ready and nobody is left to notify.
//
// "Ready" is signalled by `Engine.keyModified` for every key that has waiters, whatever the
// change (push, ZADD, RENAME onto it, MOVE/COPY into it, SORT … STORE, a served BLMOVE's
// push, SWAPDB bringing a list in). Ready keys are served after the top-level command
// completes — after EXEC for a transaction, so clients see its final state — in signal order;
// for each key, waiters in FIFO order while the key holds a non-empty value of the type they
// wait for (a list for the list commands, a sorted set for the Z ones). A key deleted or
// turned into another type leaves its waiters blocked, as in Redis 7.0. Each served client's
// effect is its own record, after the command that made the key ready.
//
// Inside MULTI/EXEC (a nested call) a blocking command never blocks: with nothing to pop it
// answers as if it timed out.

/// The key a client waits on.
struct BlockKey: Hashable {
    let db: Int
    let key: Bytes
}

/// What a blocked client will do once a key is ready.
enum BlockedOperation {
    /// BLPOP / BRPOP
    case pop(ListEnd)
    /// BLMOVE / BRPOPLPUSH
    case move(from: ListEnd, to: ListEnd, destination: Bytes, rpoplpush: Bool)
    /// BLMPOP
    case popCount(ListEnd, count: Int)
    /// BZPOPMIN / BZPOPMAX
    case zpop(ListEnd)
    /// BZMPOP
    case zpopCount(ListEnd, count: Int)

    var waitsForList: Bool {
        switch self {
        case .pop, .move, .popCount: return true
        case .zpop, .zpopCount: return false
        }
    }
}

final class BlockedClient {
    let client: ClientSession
    let spec: CommandSpec
    let argv: [Bytes]
    let db: Int
    let keys: [Bytes]
    /// Absolute Unix ms; 0 waits forever.
    let timeoutAtMs: Int64
    let operation: BlockedOperation

    init(client: ClientSession, spec: CommandSpec, argv: [Bytes], db: Int, keys: [Bytes],
         timeoutAtMs: Int64, operation: BlockedOperation) {
        self.client = client
        self.spec = spec
        self.argv = argv
        self.db = db
        self.keys = keys
        self.timeoutAtMs = timeoutAtMs
        self.operation = operation
    }
}

/// The engine's blocked clients: per key in arrival order, per client, and the keys made
/// ready since they were last served.
public final class BlockingRegistry {
    var waiters: [BlockKey: [BlockedClient]] = [:]
    var byClient: [UInt64: BlockedClient] = [:]
    var ready: [BlockKey] = []
    var readySet: Set<BlockKey> = []
    /// The earliest timeout of any blocked client (Int64.max when none).
    var nextTimeoutMs = Int64.max
    /// Clients unblocked whose `onClientUnblocked` has not been called yet.
    var pendingNotifications: [ClientSession] = []
    /// True while the serving pass runs (its hooks may run commands; those do not start a
    /// nested pass).
    var passRunning = false

    public init() {}

    /// Number of blocked clients (INFO clients blocked_clients).
    public var blockedClients: Int { byClient.count }
    /// Number of keys with blocked clients (INFO keyspace... blocking_keys in 7.2).
    public var blockingKeys: Int { waiters.count }

    @inline(__always) var isEmpty: Bool { byClient.isEmpty && pendingNotifications.isEmpty }

    func add(_ b: BlockedClient) {
        byClient[b.client.id] = b
        for k in b.keys {
            let bk = BlockKey(db: b.db, key: k)
            if waiters[bk]?.contains(where: { $0 === b }) == true { continue }
            waiters[bk, default: []].append(b)
        }
        if b.timeoutAtMs != 0 && b.timeoutAtMs < nextTimeoutMs { nextTimeoutMs = b.timeoutAtMs }
    }

    /// Forgets a client; returns its record if it was blocked.
    @discardableResult
    func remove(_ client: ClientSession) -> BlockedClient? {
        guard let b = byClient.removeValue(forKey: client.id) else { return nil }
        for k in b.keys {
            let bk = BlockKey(db: b.db, key: k)
            guard var list = waiters[bk] else { continue }
            list.removeAll { $0 === b }
            waiters[bk] = list.isEmpty ? nil : list
        }
        if byClient.isEmpty { nextTimeoutMs = Int64.max }
        return b
    }

    /// Marks a key ready if anyone waits on it.
    @inline(__always)
    func signal(_ db: Int, _ key: Bytes) {
        let bk = BlockKey(db: db, key: key)
        guard waiters[bk] != nil, !readySet.contains(bk) else { return }
        readySet.insert(bk)
        ready.append(bk)
    }
}

extension Engine {
    // MARK: hooks called from Engine.swift

    /// After every top-level command (and from the cron): serves clients whose keys became
    /// ready, times out those whose time has come, then tells the server about each.
    func afterTopLevelCommand() {
        if blocking.isEmpty || blocking.passRunning { return }
        blocking.passRunning = true
        defer { blocking.passRunning = false }
        while true {
            if !blocking.ready.isEmpty { serveReadyKeys() }
            if nowMs >= blocking.nextTimeoutMs { timeOutExpiredClients() }
            if blocking.pendingNotifications.isEmpty { break }
            let batch = blocking.pendingNotifications
            blocking.pendingNotifications = []
            for client in batch { onClientUnblocked?(client) }
        }
    }

    /// SWAPDB: every key with waiters in either database may now hold something else.
    func signalSwappedDatabases(_ a: Int, _ b: Int) {
        if blocking.isEmpty { return }
        for bk in blocking.waiters.keys where bk.db == a || bk.db == b { blocking.signal(bk.db, bk.key) }
    }

    /// Times out every blocked client whose deadline is not after the current time and serves
    /// what is ready (the cron calls this, the end of every command does the same; call it after unblocking a
    /// client from outside a command).
    public func handleBlockedClients() {
        afterTopLevelCommand()
    }

    private func timeOutExpiredClients() {
        guard nowMs >= blocking.nextTimeoutMs else { return }
        var next = Int64.max
        var expired: [BlockedClient] = []
        for b in blocking.byClient.values where b.timeoutAtMs != 0 {
            if b.timeoutAtMs <= nowMs { expired.append(b) } else { next = min(next, b.timeoutAtMs) }
        }
        blocking.nextTimeoutMs = next
        // Oldest first, so replies go out in a stable order.
        for b in expired.sorted(by: { $0.client.id < $1.client.id }) {
            blocking.remove(b.client)
            b.client.reply.nullArray()
            finishUnblock(b.client)
        }
    }

    /// CLIENT UNBLOCK: ends a client's wait as a timeout would or with an UNBLOCKED error.
    /// Returns false when the client was not blocked. The server hears about it through
    /// `onClientUnblocked` when the current command has completed.
    @discardableResult
    public func unblockClient(_ client: ClientSession, withError: Bool) -> Bool {
        guard blocking.remove(client) != nil else { return false }
        if withError {
            countError("UNBLOCKED client unblocked via CLIENT UNBLOCK")
            client.reply.error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
        } else {
            client.reply.nullArray()
        }
        finishUnblock(client)
        return true
    }

    private func finishUnblock(_ client: ClientSession) {
        client.isBlocked = false
        blocking.pendingNotifications.append(client)
    }

    // MARK: serving

    private func serveReadyKeys() {
        while !blocking.ready.isEmpty {
            let keys = blocking.ready
            blocking.ready = []
            blocking.readySet = []
            for bk in keys { serve(bk) }
        }
    }

    /// Serves the waiters of one key, oldest first, while the key can feed them.
    private func serve(_ bk: BlockKey) {
        var skipped = 0
        while let list = blocking.waiters[bk], skipped < list.count {
            let b = list[skipped]
            guard let e = bk.key.withUnsafeBytes({ lookup(databases[bk.db], $0) }) else { return }
            switch (e.value, b.operation.waitsForList) {
            case (.list(let l), true) where !l.isEmpty:
                blocking.remove(b.client)
                serveList(b, bk.key, e, l)
            case (.zset(let z), false) where z.count > 0:
                blocking.remove(b.client)
                serveZSet(b, bk.key, e, z)
            case (.list, true), (.zset, false):
                return   // empty: nothing more to give
            default:
                skipped += 1   // waits for the other type
                continue
            }
            finishUnblock(b.client)
        }
    }

    private func serveList(_ b: BlockedClient, _ key: Bytes, _ e: KeyEntry, _ l: ListValue) {
        var c = CommandCall(engine: self, client: b.client, spec: b.spec, argv: b.argv)
        c.db.keys.willMutate(entryKey: e)
        switch b.operation {
        case .pop(let end):
            let v = l.pop(end)!
            c.reply.arrayHeader(2)
            c.reply.bulk(key)
            c.reply.bulk(v)
            c.changedOrDeleted(e, key, isEmpty: l.isEmpty)
            c.propagate([end.popCommand, key])
        case .popCount(let end, let count):
            c.popRangeReplyWithKey(e, key, l, end, count: count)
        case .move(let from, let to, let dst, let rpoplpush):
            let de = c.lookupWrite(dst)
            if let de, !(de.value.isList) {
                c.wrongType()
                return
            }
            let v = l.pop(from)!
            if let de, case .list(let dl) = de.value {
                c.db.keys.willMutate(entryKey: de)
                dl.push(v, to)
                c.touched(de)
            } else {
                let dl = c.engine.newList()
                dl.push(v, to)
                c.setKey(dst, .list(dl))
            }
            c.reply.bulk(v)
            c.changedOrDeleted(e, key, isEmpty: l.isEmpty)
            c.propagate(rpoplpush ? [Bytes("RPOPLPUSH"), key, dst] : [Bytes("LMOVE"), key, dst, from.word, to.word])
        case .zpop, .zpopCount:
            break
        }
    }

    private func serveZSet(_ b: BlockedClient, _ key: Bytes, _ e: KeyEntry, _ z: ZSetValue) {
        var c = CommandCall(engine: self, client: b.client, spec: b.spec, argv: b.argv)
        c.db.keys.willMutate(entryKey: e)
        switch b.operation {
        case .zpop(let end):
            let (m, s) = c.zpop(z, end, count: 1)[0]
            c.reply.arrayHeader(3)
            c.reply.bulk(key)
            c.reply.bulk(m)
            c.replyScore(s)
            c.changedOrDeleted(e, key, isEmpty: z.count == 0)
            c.propagate([Bytes(end == .head ? "ZPOPMIN" : "ZPOPMAX"), key])
        case .zpopCount(let end, let count):
            c.zpopReplyWithKey(e, key, z, end, count: count)
        default:
            break
        }
    }

    // MARK: commands

    func registerBlockingCommands() {
        func reg(_ name: String, _ arity: Int, _ flags: CommandFlags, _ keys: (Int, Int, Int), group: String,
                 _ summary: String, since: String, complexity: String, _ h: @escaping CommandHandler) {
            commands.register(CommandSpec(name, arity: arity, flags: flags.union(.blocking), keys: keys, group: group,
                                          summary: summary, since: since, complexity: complexity, handler: h))
        }
        reg("blpop", -3, [.write, .noscript], (1, -2, 1), group: "list", "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", since: "2.0.0", complexity: "O(N) where N is the number of provided keys.") { c in
            c.blockingPop(.head)
        }
        reg("brpop", -3, [.write, .noscript], (1, -2, 1), group: "list", "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", since: "2.0.0", complexity: "O(N) where N is the number of provided keys.") { c in
            c.blockingPop(.tail)
        }
        reg("blmove", 6, [.write, .denyOOM, .noscript], (1, 2, 1), group: "list", "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", since: "6.2.0", complexity: "O(1)") { c in
            guard let from = c.listEnd(3), let to = c.listEnd(4) else { return }
            c.blockingMove(from, to, timeoutIndex: 5, rpoplpush: false)
        }
        reg("brpoplpush", 4, [.write, .denyOOM, .noscript], (1, 2, 1), group: "list", "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", since: "2.2.0", complexity: "O(1)") { c in
            c.blockingMove(.tail, .head, timeoutIndex: 3, rpoplpush: true)
        }
        reg("blmpop", -5, [.write], (0, 0, 0), group: "list", "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", since: "7.0.0", complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.") { c in
            guard let p = c.mpopArguments(numKeysIndex: 2, ends: true) else { return }
            guard let timeout = c.blockingTimeout(1) else { return }
            for key in p.keys {
                guard let f = c.fetchList(key, write: true) else { return }
                guard case .found(let e, let l) = f else { continue }
                c.popRangeReplyWithKey(e, key, l, p.end, count: p.count)
                return
            }
            c.block(p.keys, timeout, .popCount(p.end, count: p.count))
        }
        reg("bzpopmin", -3, [.write, .fast, .noscript], (1, -2, 1), group: "sorted-set", "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", since: "5.0.0", complexity: "O(log(N)) with N being the number of elements in the sorted set.") { c in
            c.blockingZPop(.head)
        }
        reg("bzpopmax", -3, [.write, .fast, .noscript], (1, -2, 1), group: "sorted-set", "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.", since: "5.0.0", complexity: "O(log(N)) with N being the number of elements in the sorted set.") { c in
            c.blockingZPop(.tail)
        }
        reg("bzmpop", -5, [.write], (0, 0, 0), group: "sorted-set", "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", since: "7.0.0", complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.") { c in
            guard let p = c.mpopArguments(numKeysIndex: 2, ends: false) else { return }
            guard let timeout = c.blockingTimeout(1) else { return }
            for key in p.keys {
                guard let f = c.fetchZSet(key, write: true) else { return }
                guard case .found(let e, let z) = f else { continue }
                c.zpopReplyWithKey(e, key, z, p.end, count: p.count)
                return
            }
            c.block(p.keys, timeout, .zpopCount(p.end, count: p.count))
        }
    }
}

extension Value {
    var isList: Bool { if case .list = self { return true }; return false }
}

extension CommandCall {
    /// Blocks the client on `keys`, or (inside MULTI/EXEC) answers as a timeout would.
    mutating func block(_ keys: [Bytes], _ timeoutAtMs: Int64, _ operation: BlockedOperation,
                        nullBulkWhenDenied: Bool = false) {
        propagateNothing()
        if engine.isNestedCall {
            if nullBulkWhenDenied { reply.null() } else { reply.nullArray() }
            return
        }
        client.isBlocked = true
        engine.blocking.add(BlockedClient(client: client, spec: spec, argv: argv, db: client.db, keys: keys,
                                          timeoutAtMs: timeoutAtMs, operation: operation))
    }

    /// BLPOP/BRPOP key… timeout.
    mutating func blockingPop(_ end: ListEnd) {
        guard let timeout = blockingTimeout(argv.count - 1) else { return }
        let keys = Array(argv[1..<(argv.count - 1)])
        for key in keys {
            guard let f = fetchList(key, write: true) else { return }
            guard case .found(let e, let l) = f else { continue }
            let v = l.pop(end)!
            reply.arrayHeader(2)
            reply.bulk(key)
            reply.bulk(v)
            changedOrDeleted(e, key, isEmpty: l.isEmpty)
            propagate([end.popCommand, key])
            return
        }
        block(keys, timeout, .pop(end))
    }

    /// BLMOVE/BRPOPLPUSH: LMOVE when the source has elements (the effect keeps the
    /// direction arguments as given), otherwise block on the source.
    mutating func blockingMove(_ from: ListEnd, _ to: ListEnd, timeoutIndex: Int, rpoplpush: Bool) {
        guard let timeout = blockingTimeout(timeoutIndex) else { return }
        guard let f = fetchList(argv[1], write: true) else { return }
        if case .found = f {
            let failedBefore = failed
            moveCommand(from, to)
            if failed == failedBefore {
                propagate(rpoplpush ? [Bytes("RPOPLPUSH"), argv[1], argv[2]]
                                    : [Bytes("LMOVE"), argv[1], argv[2], argv[3], argv[4]])
            }
            return
        }
        block([argv[1]], timeout, .move(from: from, to: to, destination: argv[2], rpoplpush: rpoplpush),
              nullBulkWhenDenied: true)
    }

    /// BZPOPMIN/BZPOPMAX key… timeout.
    mutating func blockingZPop(_ end: ListEnd) {
        guard let timeout = blockingTimeout(argv.count - 1) else { return }
        let keys = Array(argv[1..<(argv.count - 1)])
        for key in keys {
            guard let f = fetchZSet(key, write: true) else { return }
            guard case .found(let e, let z) = f else { continue }
            let (m, s) = zpop(z, end, count: 1)[0]
            reply.arrayHeader(3)
            reply.bulk(key)
            reply.bulk(m)
            replyScore(s)
            changedOrDeleted(e, key, isEmpty: z.count == 0)
            propagate([Bytes(end == .head ? "ZPOPMIN" : "ZPOPMAX"), key])
            return
        }
        block(keys, timeout, .zpop(end))
    }
}
