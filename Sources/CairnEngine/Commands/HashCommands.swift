// Hash commands. Effects are the commands themselves except:
//   HINCRBYFLOAT  → HSET key field <result>     (the float formatting stays on the primary)
//   HRANDFIELD    → nothing (read-only)
// A hash whose last field is deleted is deleted.

extension Engine {
    func registerHashCommands() {
        let rw: CommandFlags = [.write, .denyOOM]
        func reg(_ name: String, _ arity: Int, _ flags: CommandFlags, _ summary: String,
                 since: String = "2.0.0", complexity: String = "O(1)", _ h: @escaping CommandHandler) {
            commands.register(CommandSpec(name, arity: arity, flags: flags, keys: (1, 1, 1), group: "hash",
                                          summary: summary, since: since, complexity: complexity, handler: h))
        }

        reg("hset", -4, rw.union(.fast), "Creates or modifies the value of a field in a hash.", complexity: "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.") { c in
            guard let n = c.hashSetPairs() else { return }
            c.reply.integer(n)
        }
        reg("hmset", -4, rw.union(.fast), "Sets the values of multiple fields.", complexity: "O(N) where N is the number of fields being set.") { c in
            guard c.hashSetPairs() != nil else { return }
            c.reply.ok()
        }

        reg("hsetnx", 4, rw.union(.fast), "Sets the value of a field in a hash only when the field doesn't exist.") { c in
            guard let f = c.fetchHash(c.argv[1], write: true) else { return }
            switch f {
            case .found(let e, let h):
                if h.contains(c.argv[2]) { c.reply.integer(0); return }
                h.convertIfAnyLonger(than: c.limits.hashMaxListpackValue, c.argv[2...3], seed: c.engine.seed)
                h.set(c.argv[2], c.argv[3], limits: c.limits)
                c.touched(e)
            case .missing:
                let h = HashValue()
                h.set(c.argv[2], c.argv[3], limits: c.limits)
                c.setKey(c.argv[1], .hash(h))
            }
            c.reply.integer(1)
        }

        reg("hget", 3, [.readonly, .fast], "Returns the value of a field in a hash.") { c in
            guard let f = c.fetchHash(c.argv[1]) else { return }
            guard case .found(_, let h) = f, let v = h.get(c.argv[2]) else { c.reply.null(); return }
            c.reply.bulk(v)
        }

        reg("hmget", -3, [.readonly, .fast], "Returns the values of all fields in a hash.", complexity: "O(N) where N is the number of fields being requested.") { c in
            guard let f = c.fetchHash(c.argv[1]) else { return }
            c.reply.arrayHeader(c.argv.count - 2)
            for field in c.argv.dropFirst(2) {
                if case .found(_, let h) = f, let v = h.get(field) { c.reply.bulk(v) } else { c.reply.null() }
            }
        }

        reg("hdel", -3, [.write, .fast], "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", complexity: "O(N) where N is the number of fields to be removed.") { c in
            guard let f = c.fetchHash(c.argv[1], write: true) else { return }
            guard case .found(let e, let h) = f else { c.reply.integer(0); return }
            var n = 0
            for field in c.argv.dropFirst(2) where h.remove(field) {
                n += 1
                if h.count == 0 { break }
            }
            if n > 0 { c.changedOrDeleted(e, c.argv[1], isEmpty: h.count == 0) }
            c.reply.integer(n)
        }

        reg("hlen", 2, [.readonly, .fast], "Returns the number of fields in a hash.") { c in
            guard let f = c.fetchHash(c.argv[1]) else { return }
            if case .found(_, let h) = f { c.reply.integer(h.count) } else { c.reply.integer(0) }
        }

        reg("hstrlen", 3, [.readonly, .fast], "Returns the length of the value of a field.", since: "3.2.0") { c in
            guard let f = c.fetchHash(c.argv[1]) else { return }
            if case .found(_, let h) = f { c.reply.integer(h.valueLength(c.argv[2])) } else { c.reply.integer(0) }
        }

        reg("hexists", 3, [.readonly, .fast], "Determines whether a field exists in a hash.") { c in
            guard let f = c.fetchHash(c.argv[1]) else { return }
            if case .found(_, let h) = f, h.contains(c.argv[2]) { c.reply.integer(1) } else { c.reply.integer(0) }
        }

        reg("hkeys", 2, [.readonly], "Returns all fields in a hash.", complexity: "O(N) where N is the size of the hash.") { c in
            c.hashDump(fields: true, values: false)
        }
        reg("hvals", 2, [.readonly], "Returns all values in a hash.", complexity: "O(N) where N is the size of the hash.") { c in
            c.hashDump(fields: false, values: true)
        }
        reg("hgetall", 2, [.readonly], "Returns all fields and values in a hash.", complexity: "O(N) where N is the size of the hash.") { c in
            c.hashDump(fields: true, values: true)
        }

        reg("hincrby", 4, rw.union(.fast), "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.") { c in
            guard let incr = c.int(3) else { return }
            guard let f = c.fetchHash(c.argv[1], write: true) else { return }
            var current: Int64 = 0
            if case .found(_, let h) = f, let old = h.get(c.argv[2]) {
                guard let v = old.withUnsafeBytes({ parseInt64($0) }) else {
                    c.error("ERR hash value is not an integer"); return
                }
                current = v
            }
            let (sum, overflow) = current.addingReportingOverflow(incr)
            if overflow { c.error("ERR increment or decrement would overflow"); return }
            c.hashStore(f, c.argv[2], Bytes(sum))
            c.reply.integer(sum)
        }

        reg("hincrbyfloat", 4, rw.union(.fast), "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", since: "2.6.0") { c in
            guard let incr = c.argv[3].withUnsafeBytes({ parseLongDouble($0) }) else {
                c.error("ERR value is not a valid float"); return
            }
            if !incr.isFinite { c.error("ERR value is NaN or Infinity"); return }
            guard let f = c.fetchHash(c.argv[1], write: true) else { return }
            var current: Float80 = 0
            if case .found(_, let h) = f, let old = h.get(c.argv[2]) {
                guard let v = old.withUnsafeBytes({ parseLongDouble($0) }) else {
                    c.error("ERR hash value is not a float"); return
                }
                current = v
            }
            let sum = current + incr
            if !sum.isFinite { c.error("ERR increment would produce NaN or Infinity"); return }
            let text = Bytes(array: formatLongDouble(sum))
            // A field longer than the packed limit converts the hash first (hashTypeTryConversion
            // looks at the field and the increment's text).
            if case .found(_, let h) = f {
                h.convertIfAnyLonger(than: c.limits.hashMaxListpackValue, c.argv[2...3], seed: c.engine.seed)
            }
            c.hashStore(f, c.argv[2], text)
            c.reply.bulk(text)
            c.propagate([Bytes("HSET"), c.argv[1], c.argv[2], text])
        }

        reg("hrandfield", -2, [.readonly], "Returns one or more random fields from a hash.", since: "6.2.0", complexity: "O(N) where N is the number of fields returned") { c in
            c.hrandfield()
        }

        reg("hscan", -3, [.readonly], "Iterates over fields and values of a hash.", since: "2.8.0", complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.") { c in
            guard let cursor = c.scanCursor() else { return }
            guard let f = c.fetchHash(c.argv[1]) else { return }
            guard case .found(_, let h) = f else { c.replyScan(0, []); return }
            guard let options = c.scanOptions(cursor: cursor) else { return }
            var items: [Bytes] = []
            var next: UInt64 = 0
            if let t = h.table {
                next = c.scanTable(t, options) { n in
                    if options.matches(n.key) { items.append(n.key); items.append(n.value) }
                }
            } else {
                h.forEach { k, v in if options.matches(k) { items.append(k); items.append(v) } }
            }
            c.replyScan(next, items)
        }
    }
}

extension CommandCall {
    /// HSET/HMSET: sets every pair; returns how many fields were new (nil after an error).
    mutating func hashSetPairs() -> Int? {
        guard argv.count % 2 == 0 else {
            error("ERR wrong number of arguments for '\(spec.name)' command")
            return nil
        }
        guard let f = fetchHash(argv[1], write: true) else { return nil }
        let h: HashValue
        switch f {
        case .found(_, let existing): h = existing
        case .missing: h = HashValue()
        }
        let limits = self.limits
        h.convertIfAnyLonger(than: limits.hashMaxListpackValue, argv[2...], seed: engine.seed)
        if case .missing = f, (argv.count - 2) / 2 <= limits.hashMaxListpackEntries { h.reserve(pairs: argv[2...]) }
        var created = 0
        var i = 2
        while i < argv.count {
            if h.set(argv[i], argv[i + 1], limits: limits) { created += 1 }
            i += 2
        }
        switch f {
        case .found(let e, _): touched(e)
        case .missing: setKey(argv[1], .hash(h))
        }
        return created
    }

    /// Sets one field of a fetched (or missing, then created) hash.
    mutating func hashStore(_ f: Fetched<HashValue>, _ field: Bytes, _ value: Bytes) {
        switch f {
        case .found(let e, let h):
            h.set(field, value, limits: limits)
            touched(e)
        case .missing:
            let h = HashValue()
            h.set(field, value, limits: limits)
            setKey(argv[1], .hash(h))
        }
    }

    /// HKEYS / HVALS / HGETALL (a map in RESP3).
    mutating func hashDump(fields: Bool, values: Bool) {
        guard let f = fetchHash(argv[1]) else { return }
        guard case .found(_, let h) = f else {
            if fields && values { reply.mapHeader(0) } else { reply.arrayHeader(0) }
            return
        }
        if fields && values { reply.mapHeader(h.count) } else { reply.arrayHeader(h.count) }
        h.forEach { k, v in
            if fields { reply.bulk(k) }
            if values { reply.bulk(v) }
        }
    }

    /// HRANDFIELD key [count [WITHVALUES]].
    ///
    /// A positive count gives distinct fields (at most the hash's size); a negative count
    /// gives exactly |count| fields that may repeat. The count is validated before the key is
    /// looked up, as in Redis.
    mutating func hrandfield() {
        if argv.count == 2 {
            guard let f = fetchHash(argv[1]) else { return }
            guard case .found(_, let h) = f, let p = h.randomPair(using: &engine.rng) else { reply.null(); return }
            reply.bulk(p.field)
            return
        }
        guard let l = argv[2].withUnsafeBytes({ parseInt64($0) }) else { notInteger(); return }
        if l == Int64.min {
            error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
            return
        }
        var withValues = false
        if argv.count > 4 || (argv.count == 4 && !argv[3].isKeyword("withvalues")) {
            syntaxError(); return
        }
        if argv.count == 4 {
            withValues = true
            if l < -(Int64.max / 2) || l > Int64.max / 2 { error("ERR value is out of range"); return }
        }
        guard randomCountAllowed(l) else { return }
        guard let f = fetchHash(argv[1]) else { return }
        guard case .found(_, let h) = f, l != 0 else { reply.arrayHeader(0); return }
        let picks = randomPicks(count: l, size: h.count, rng: &engine.rng,
                                one: { h.randomPair(using: &$0)! }, all: { h.pairs })
        if withValues && reply.isResp3 {
            reply.arrayHeader(picks.count)
            for p in picks { reply.arrayHeader(2); reply.bulk(p.field); reply.bulk(p.value) }
        } else {
            reply.arrayHeader(withValues ? picks.count * 2 : picks.count)
            for p in picks {
                reply.bulk(p.field)
                if withValues { reply.bulk(p.value) }
            }
        }
    }

    /// A negative HRANDFIELD/SRANDMEMBER/ZRANDMEMBER count asks for that many draws, each
    /// at least one reply element. Redis 7.0 sets no bound (a count of -2^62 makes it build a
    /// reply until memory runs out); Cairn refuses a count whose reply could not be smaller
    /// than proto-max-bulk-len bytes, with the error Redis uses for counts it rejects.
    mutating func randomCountAllowed(_ l: Int64) -> Bool {
        if l < 0 && l.magnitude > UInt64(max(engine.config.protoMaxBulkLen, 1 << 20) / 8) {
            error("ERR value is out of range")
            return false
        }
        return true
    }

    /// The elements for HRANDFIELD/SRANDMEMBER/ZRANDMEMBER with a count: |count| independent
    /// draws for a negative count; for a positive one, distinct elements — everything when the
    /// count covers the collection, otherwise a random subset of `count` taken from a
    /// shuffled copy of all of them.
    func randomPicks<T>(count l: Int64, size: Int, rng: inout SystemRandomNumberGenerator,
                        one: (inout SystemRandomNumberGenerator) -> T, all: () -> [T]) -> [T] {
        if l < 0 {
            // randomCountAllowed has bounded -l.
            let n = Int(-l)
            var out: [T] = []
            out.reserveCapacity(min(n, 1 << 20))
            for _ in 0..<n { out.append(one(&rng)) }
            return out
        }
        var everything = all()
        if Int64(size) <= l { return everything }
        everything.shuffle(using: &rng)
        return Array(everything.prefix(Int(l)))
    }
}
