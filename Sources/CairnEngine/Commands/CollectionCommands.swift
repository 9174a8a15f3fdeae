// What the hash, list, set and sorted-set commands share: typed key lookup (WRONGTYPE), the
// encoding limits from EngineConfig, *SCAN option parsing and the numkeys argument.
//
// Conventions every collection command follows, as Redis does:
//   - a collection is never stored empty: the command that removes its last element deletes
//     the key;
//   - a value is looked up for writing before it is changed in place, and `willMutate` is
//     called first so a running snapshot saves the bucket before it changes (DESIGN.md §5);
//   - effects default to the command's own argv; commands whose effect is not deterministic
//     (SPOP, HINCRBYFLOAT, the blocking pops, ...) write their own with `propagate`.

extension Engine {
    func registerCollectionCommands() {
        registerHashCommands()
        registerListCommands()
        registerSetCommands()
        registerSortedSetCommands()
        registerSortCommands()
        registerBlockingCommands()
    }

    /// The encoding limits as currently configured.
    var collectionLimits: CollectionLimits { CollectionLimits(config, seed: seed) }

    /// A new empty list with the configured node size (list-max-listpack-size), which a list
    /// keeps for its lifetime as in Redis.
    func newList() -> ListValue { ListValue(fill: config.listMaxListpackSize) }
}

/// A typed key: absent, or present with the expected type.
enum Fetched<T> {
    case missing
    case found(KeyEntry, T)
}

extension CommandCall {
    var limits: CollectionLimits { engine.collectionLimits }

    /// Looks a key up and checks its type; nil after replying WRONGTYPE. For writes, the
    /// key's bucket is marked as about to change.
    @inline(__always)
    mutating func fetch<T>(_ key: Bytes, write: Bool, _ cast: (Value) -> T?) -> Fetched<T>? {
        guard let e = write ? lookupWrite(key) : lookupRead(key) else { return .missing }
        guard let v = cast(e.value) else { wrongType(); return nil }
        if write { db.keys.willMutate(entryKey: e) }
        return .found(e, v)
    }

    mutating func fetchHash(_ key: Bytes, write: Bool = false) -> Fetched<HashValue>? {
        fetch(key, write: write) { if case .hash(let h) = $0 { return h }; return nil }
    }

    mutating func fetchList(_ key: Bytes, write: Bool = false) -> Fetched<ListValue>? {
        fetch(key, write: write) { if case .list(let l) = $0 { return l }; return nil }
    }

    mutating func fetchSet(_ key: Bytes, write: Bool = false) -> Fetched<SetValue>? {
        fetch(key, write: write) { if case .set(let s) = $0 { return s }; return nil }
    }

    mutating func fetchZSet(_ key: Bytes, write: Bool = false) -> Fetched<ZSetValue>? {
        fetch(key, write: write) { if case .zset(let z) = $0 { return z }; return nil }
    }

    /// After removing elements in place: deletes the key when the collection became empty,
    /// otherwise marks it changed.
    mutating func changedOrDeleted(_ e: KeyEntry, _ key: Bytes, isEmpty: Bool) {
        if isEmpty { deleteKey(key) } else { touched(e) }
    }

    /// Stores a freshly built collection under `key` (replacing whatever was there, TTL
    /// included), or deletes the key when the result is empty. Used by the STORE commands.
    /// Returns whether anything changed.
    @discardableResult
    mutating func storeResult(_ key: Bytes, _ value: Value, isEmpty: Bool) -> Bool {
        if isEmpty { return deleteKey(key) }
        setKey(key, value)
        return true
    }

    /// The numkeys argument of SINTERCARD and ZINTERCARD (1 ≤ numkeys ≤ keys given).
    mutating func numKeys(_ i: Int, available: Int) -> Int? {
        guard let n = argv[i].withUnsafeBytes({ parseInt64($0) }), n > 0 else {
            error("ERR numkeys should be greater than 0"); return nil
        }
        if n > Int64(available) { error("ERR Number of keys can't be greater than number of args"); return nil }
        return Int(n)
    }
}

// MARK: SCAN family

struct ScanOptions {
    var cursor: UInt64
    var pattern: Bytes?
    var count = 10

    /// The pattern is absent or exactly "*" (matching can be skipped).
    var matchesAll: Bool { pattern.map { $0.count == 1 && $0[0] == UInt8(ascii: "*") } ?? true }

    func matches(_ b: Bytes) -> Bool {
        if matchesAll { return true }
        return pattern!.withUnsafeBytes { p in b.withUnsafeBytes { globMatch(pattern: p, string: $0) } }
    }
}

extension CommandCall {
    /// HSCAN/SSCAN/ZSCAN key cursor [MATCH pattern] [COUNT count]: the cursor is parsed before
    /// the key is looked up, the options after, as in Redis's scanGenericCommand.
    mutating func scanCursor() -> UInt64? {
        guard let cursor = argv[2].withUnsafeBytes({ parseUInt64Cursor($0) }) else {
            error("ERR invalid cursor")
            return nil
        }
        return cursor
    }

    mutating func scanOptions(cursor: UInt64) -> ScanOptions? {
        var options = ScanOptions(cursor: cursor)
        var i = 3
        while i < argv.count {
            let hasNext = i + 1 < argv.count
            if argv[i].isKeyword("count") && hasNext {
                guard let n = argv[i + 1].withUnsafeBytes({ parseInt64($0) }) else { notInteger(); return nil }
                if n < 1 { syntaxError(); return nil }
                options.count = Int(min(n, Int64(Int32.max)))
                i += 2
            } else if argv[i].isKeyword("match") && hasNext {
                options.pattern = argv[i + 1]
                i += 2
            } else {
                syntaxError()
                return nil
            }
        }
        return options
    }

    /// Visits table buckets from `cursor` until `count` items were seen or 10×count buckets
    /// looked at, like Redis; returns the next cursor.
    func scanTable(_ table: MemberTable, _ options: ScanOptions, _ visit: (MemberNode) -> Void) -> UInt64 {
        var next = options.cursor
        var seen = 0
        var steps = 0
        repeat {
            next = table.scan(next) { visit($0); seen += 1 }
            steps += 1
        } while next != 0 && seen < options.count && steps < options.count * 10
        return next
    }

    /// The two-element SCAN reply: cursor, then the items.
    mutating func replyScan(_ next: UInt64, _ items: [Bytes]) {
        reply.arrayHeader(2)
        reply.bulk(Bytes(String(next)))
        reply.bulkArray(items)
    }
}

// MARK: timeouts and counts

extension CommandCall {
    /// A blocking command's timeout in seconds (fractions allowed) as an absolute Unix-ms
    /// time; 0 means forever. As Redis 7.0's getTimeoutFromObjectOrReply: the seconds are a
    /// long double, times 1000, truncated to an integer (so "-0.0001" is 0, forever, and a
    /// value too big for 64 bits becomes negative: "timeout is negative").
    mutating func blockingTimeout(_ i: Int) -> Int64? {
        guard let secs = argv[i].withUnsafeBytes({ parseLongDouble($0) }) else {
            error("ERR timeout is not a float or out of range")
            return nil
        }
        let ms = secs * 1000
        let limit: Float80 = 9_223_372_036_854_775_808.0
        let whole: Int64 = ms.isFinite && ms < limit && ms >= -limit ? Int64(ms) : Int64.min
        if whole < 0 { error("ERR timeout is negative"); return nil }
        if whole == 0 { return 0 }
        let (at, overflow) = whole.addingReportingOverflow(engine.nowMs)
        return overflow ? Int64.max : at
    }
}
