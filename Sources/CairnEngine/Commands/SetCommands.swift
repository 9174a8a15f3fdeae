// Set commands. Encodings follow Redis 7.2 (intset / listpack / hashtable, see SetValue.swift);
// effects are the commands themselves except, as Redis 7.0 propagates them:
//   SPOP key            → SREM key <member>
//   SPOP key count      → one SREM key <member> per popped member (MULTI/EXEC around them
//                         when more than one), or DEL key when the count takes the whole set
//   SRANDMEMBER         → nothing (read-only)
// A set whose last member is removed is deleted.

extension Engine {
    func registerSetCommands() {
        let rw: CommandFlags = [.write, .denyOOM]
        func reg(_ name: String, _ arity: Int, _ flags: CommandFlags, keys: (Int, Int, Int) = (1, 1, 1),
                 _ summary: String, since: String = "1.0.0", complexity: String = "O(1)",
                 _ h: @escaping CommandHandler) {
            commands.register(CommandSpec(name, arity: arity, flags: flags, keys: keys, group: "set",
                                          summary: summary, since: since, complexity: complexity, handler: h))
        }

        reg("sadd", -3, rw.union(.fast), "Adds one or more members to a set. Creates the key if it doesn't exist.", complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.") { c in
            guard let f = c.fetchSet(c.argv[1], write: true) else { return }
            let limits = c.limits
            // The number of members given is the size hint of Redis 7.2's setTypeCreate /
            // setTypeMaybeConvert: it picks (or converts to) the encoding before any is added.
            let hint = c.argv.count - 2
            switch f {
            case .found(let e, let s):
                s.convertIfHintExceedsLimits(hint, limits: limits)
                var added = 0
                for m in c.argv.dropFirst(2) where s.add(m, limits: limits) { added += 1 }
                if added > 0 { c.touched(e) }
                c.reply.integer(added)
            case .missing:
                let s = SetValue.creating(for: c.argv[2], sizeHint: hint, limits: limits)
                s.reserve(members: c.argv.dropFirst(2), limits: limits)
                var added = 0
                for m in c.argv.dropFirst(2) where s.add(m, limits: limits) { added += 1 }
                c.setKey(c.argv[1], .set(s))
                c.reply.integer(added)
            }
        }

        reg("srem", -3, [.write, .fast], "Removes one or more members from a set. Deletes the set if the last member was removed.", complexity: "O(N) where N is the number of members to be removed.") { c in
            guard let f = c.fetchSet(c.argv[1], write: true) else { return }
            guard case .found(let e, let s) = f else { c.reply.integer(0); return }
            var removed = 0
            for m in c.argv.dropFirst(2) where s.remove(m) {
                removed += 1
                if s.count == 0 { break }
            }
            if removed > 0 { c.changedOrDeleted(e, c.argv[1], isEmpty: s.count == 0) }
            c.reply.integer(removed)
        }

        reg("scard", 2, [.readonly, .fast], "Returns the number of members in a set.") { c in
            guard let f = c.fetchSet(c.argv[1]) else { return }
            if case .found(_, let s) = f { c.reply.integer(s.count) } else { c.reply.integer(0) }
        }

        reg("sismember", 3, [.readonly, .fast], "Determines whether a member belongs to a set.") { c in
            guard let f = c.fetchSet(c.argv[1]) else { return }
            if case .found(_, let s) = f, s.contains(c.argv[2]) { c.reply.integer(1) } else { c.reply.integer(0) }
        }

        reg("smismember", -3, [.readonly, .fast], "Determines whether multiple members belong to a set.", since: "6.2.0", complexity: "O(N) where N is the number of elements being checked for membership") { c in
            guard let f = c.fetchSet(c.argv[1]) else { return }
            c.reply.arrayHeader(c.argv.count - 2)
            for m in c.argv.dropFirst(2) {
                if case .found(_, let s) = f, s.contains(m) { c.reply.integer(1) } else { c.reply.integer(0) }
            }
        }

        reg("smembers", 2, [.readonly], "Returns all members of a set.", complexity: "O(N) where N is the set cardinality.") { c in
            guard let f = c.fetchSet(c.argv[1]) else { return }
            guard case .found(_, let s) = f else { c.reply.setHeader(0); return }
            c.reply.setHeader(s.count)
            s.forEach { c.reply.bulk($0) }
        }

        reg("spop", -2, [.write, .fast], "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.") { c in
            c.spopCommand()
        }

        reg("srandmember", -2, [.readonly], "Get one or multiple random members from a set", complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.") { c in
            c.srandmemberCommand()
        }

        reg("smove", 4, [.write, .fast], keys: (1, 2, 1), "Moves a member from one set to another.") { c in
            c.smoveCommand()
        }

        reg("sinter", -2, [.readonly], keys: (1, -1, 1), "Returns the intersect of multiple sets.", complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.") { c in
            c.sinter(keys: Array(c.argv.dropFirst()), store: nil, limit: nil)
        }
        reg("sinterstore", -3, rw, keys: (1, -1, 1), "Stores the intersect of multiple sets in a key.", complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.") { c in
            c.sinter(keys: Array(c.argv.dropFirst(2)), store: c.argv[1], limit: nil)
        }
        reg("sintercard", -3, [.readonly], keys: (0, 0, 0), "Returns the number of members of the intersect of multiple sets.", since: "7.0.0", complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.") { c in
            guard let n = c.numKeys(1, available: c.argv.count - 2) else { return }
            var limit = 0
            var j = 2 + n
            while j < c.argv.count {
                if c.argv[j].isKeyword("limit") && j + 1 < c.argv.count {
                    guard let v = c.argv[j + 1].withUnsafeBytes({ parseInt64($0) }), v >= 0 else {
                        c.error("ERR LIMIT can't be negative"); return
                    }
                    limit = Int(v)
                    j += 2
                } else {
                    c.syntaxError(); return
                }
            }
            c.sinter(keys: Array(c.argv[2..<(2 + n)]), store: nil, limit: limit)
        }

        reg("sunion", -2, [.readonly], keys: (1, -1, 1), "Returns the union of multiple sets.", complexity: "O(N) where N is the total number of elements in all given sets.") { c in
            c.sunionDiff(keys: Array(c.argv.dropFirst()), store: nil, diff: false)
        }
        reg("sunionstore", -3, rw, keys: (1, -1, 1), "Stores the union of multiple sets in a key.", complexity: "O(N) where N is the total number of elements in all given sets.") { c in
            c.sunionDiff(keys: Array(c.argv.dropFirst(2)), store: c.argv[1], diff: false)
        }
        reg("sdiff", -2, [.readonly], keys: (1, -1, 1), "Returns the difference of multiple sets.", complexity: "O(N) where N is the total number of elements in all given sets.") { c in
            c.sunionDiff(keys: Array(c.argv.dropFirst()), store: nil, diff: true)
        }
        reg("sdiffstore", -3, rw, keys: (1, -1, 1), "Stores the difference of multiple sets in a key.", complexity: "O(N) where N is the total number of elements in all given sets.") { c in
            c.sunionDiff(keys: Array(c.argv.dropFirst(2)), store: c.argv[1], diff: true)
        }

        reg("sscan", -3, [.readonly], "Iterates over members of a set.", since: "2.8.0", complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.") { c in
            guard let cursor = c.scanCursor() else { return }
            guard let f = c.fetchSet(c.argv[1]) else { return }
            guard case .found(_, let s) = f else { c.replyScan(0, []); return }
            guard let options = c.scanOptions(cursor: cursor) else { return }
            var items: [Bytes] = []
            var next: UInt64 = 0
            if let t = s.table {
                next = c.scanTable(t, options) { n in if options.matches(n.key) { items.append(n.key) } }
            } else {
                // An intset or listpack is answered whole, cursor 0 (as Redis for small encodings).
                s.forEach { if options.matches($0) { items.append($0) } }
            }
            c.replyScan(next, items)
        }
    }
}

extension CommandCall {
    /// The sets named by `keys` (nil for a missing key); nil after WRONGTYPE.
    mutating func setOperands(_ keys: [Bytes]) -> [SetValue?]? {
        var out: [SetValue?] = []
        out.reserveCapacity(keys.count)
        for k in keys {
            guard let f = fetchSet(k) else { return nil }
            if case .found(_, let s) = f { out.append(s) } else { out.append(nil) }
        }
        return out
    }

    /// SINTER / SINTERSTORE / SINTERCARD (`limit` set: count only, 0 = no limit).
    mutating func sinter(keys: [Bytes], store: Bytes?, limit: Int?) {
        guard let operands = setOperands(keys) else { return }
        if operands.contains(where: { $0 == nil }) {
            if let dst = store {
                deleteKey(dst)
                reply.integer(0)
            } else if limit != nil {
                reply.integer(0)
            } else {
                reply.setHeader(0)
            }
            return
        }
        // Smallest first (a stable sort, like glibc's qsort), iterate it, probe the others.
        let sets = operands.map { $0! }.enumerated().sorted {
            $0.element.count != $1.element.count ? $0.element.count < $1.element.count : $0.offset < $1.offset
        }.map { $0.element }
        var result: [Bytes] = []
        var cardinality = 0
        sets[0].forEach { m in
            if let limit, limit > 0, cardinality >= limit { return }
            for other in sets.dropFirst() where other !== sets[0] && !other.contains(m) { return }
            cardinality += 1
            if limit == nil { result.append(m) }
        }
        if limit != nil { reply.integer(cardinality); return }
        if let dst = store {
            // Redis 7.2: an intset when the smallest set is one, else a listpack (converting
            // as it grows), and an intset in the end when every member is an integer.
            let s = sets[0].isIntset ? SetValue() : SetValue.emptyListpack()
            let limits = self.limits
            for m in result { s.add(m, limits: limits) }
            s.convertToIntsetIfAllIntegers(limits: limits)
            storeResult(dst, .set(s), isEmpty: s.count == 0)
            reply.integer(s.count)
            return
        }
        reply.setHeader(result.count)
        for m in result { reply.bulk(m) }
    }

    /// SUNION / SDIFF and their STORE forms: the result is built as a set that starts as an
    /// intset (so an all-integer result answers in ascending order, and a mixed one as the
    /// listpack it became: the integers ascending, then the rest in the order added).
    mutating func sunionDiff(keys: [Bytes], store: Bytes?, diff: Bool) {
        guard let operands = setOperands(keys) else { return }
        let result = SetValue()
        let limits = self.limits
        if !diff {
            for s in operands { s?.forEach { result.add($0, limits: limits) } }
        } else if let first = operands[0], !operands.dropFirst().contains(where: { $0 === first }) {
            first.forEach { m in
                for other in operands.dropFirst() where other?.contains(m) == true { return }
                result.add(m, limits: limits)
            }
        }
        if let dst = store {
            storeResult(dst, .set(result), isEmpty: result.count == 0)
            reply.integer(result.count)
            return
        }
        reply.setHeader(result.count)
        result.forEach { reply.bulk($0) }
    }

    mutating func spopCommand() {
        let key = argv[1]
        if argv.count > 3 { syntaxError(); return }
        if argv.count == 2 {
            guard let f = fetchSet(key, write: true) else { return }
            guard case .found(let e, let s) = f else { reply.null(); return }
            let m = s.randomMember(using: &engine.rng)!
            s.remove(m)
            reply.bulk(m)
            changedOrDeleted(e, key, isEmpty: s.count == 0)
            propagate([Bytes("SREM"), key, m])
            return
        }
        guard let v = argv[2].withUnsafeBytes({ parseInt64($0) }), v >= 0 else {
            error("ERR value is out of range, must be positive"); return
        }
        guard let f = fetchSet(key, write: true) else { return }
        guard case .found(let e, let s) = f, v > 0 else { reply.setHeader(0); return }
        if v >= Int64(s.count) {
            // The whole set: reply with it, delete the key, propagate the deletion.
            reply.setHeader(s.count)
            s.forEach { reply.bulk($0) }
            deleteKey(key)
            propagate([Bytes(engine.config.lazyfreeLazyServerDel ? "UNLINK" : "DEL"), key])
            return
        }
        let count = Int(v)
        var popped: [Bytes] = []
        popped.reserveCapacity(count)
        let limits = self.limits
        if s.isListpack {
            // One walk of the listpack (Redis 7.2): the popped members (case 2) or the
            // survivors (case 3) are a uniform sample taken in listpack order; the popped ones
            // are answered in that order.
            let remaining = s.count - count
            if remaining * 5 > count {
                let picks = s.listpackSample(count, using: &engine.rng)
                popped = picks.map { $0.member }
                s.removeListpackEntries(picks.map { $0.index })
            } else {
                let keep = s.listpackSample(remaining, using: &engine.rng)
                let survivors = SetValue.emptyListpack()
                for k in keep { survivors.add(k.member, limits: limits) }
                s.removeListpackEntries(keep.map { $0.index })
                popped = s.members
                e.value = .set(survivors)
            }
        } else if (s.count - count) * 5 <= count {
            // Most of the set goes: Redis's case 3 picks the survivors and builds a new set of
            // them: an intset stays one, a table's survivors become a listpack (Redis 7.2
            // starts that set from a string member) when they fit one.
            var all = s.members
            all.shuffle(using: &engine.rng)
            popped = Array(all.prefix(count))
            let survivors = s.isIntset ? SetValue() : SetValue.emptyListpack()
            for m in all.dropFirst(count) { survivors.add(m, limits: limits) }
            e.value = .set(survivors)
        } else {
            while popped.count < count {
                let m = s.randomMember(using: &engine.rng)!
                s.remove(m)
                popped.append(m)
            }
        }
        propagationHandled = true
        reply.setHeader(popped.count)
        for m in popped {
            reply.bulk(m)
            engine.propagate(db: client.db, [Bytes("SREM"), key, m])
        }
        touched(e)
    }

    mutating func srandmemberCommand() {
        if argv.count > 3 { syntaxError(); return }
        if argv.count == 2 {
            guard let f = fetchSet(argv[1]) else { return }
            guard case .found(_, let s) = f, let m = s.randomMember(using: &engine.rng) else { reply.null(); return }
            reply.bulk(m)
            return
        }
        guard let l = argv[2].withUnsafeBytes({ parseInt64($0) }) else { notInteger(); return }
        if l == Int64.min {
            error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
            return
        }
        guard randomCountAllowed(l) else { return }
        guard let f = fetchSet(argv[1]) else { return }
        guard case .found(_, let s) = f, l != 0 else { reply.arrayHeader(0); return }
        if l > 0 && l >= Int64(s.count) {
            // The whole set (an array in RESP3 too, unlike SMEMBERS).
            reply.arrayHeader(s.count)
            s.forEach { reply.bulk($0) }
            return
        }
        if l > 0 && s.isListpack {
            // Distinct members of a listpack come in listpack order (Redis 7.2's case 2.5).
            let picks = s.listpackSample(Int(l), using: &engine.rng)
            reply.arrayHeader(picks.count)
            for p in picks { reply.bulk(p.member) }
            return
        }
        let picks = randomPicks(count: l, size: s.count, rng: &engine.rng,
                                one: { s.randomMember(using: &$0)! }, all: { s.members })
        reply.arrayHeader(picks.count)
        for m in picks { reply.bulk(m) }
    }

    mutating func smoveCommand() {
        let src = argv[1], dst = argv[2], member = argv[3]
        let srcEntry = lookupWrite(src)
        let dstEntry = lookupWrite(dst)
        guard let se = srcEntry else { reply.integer(0); return }
        guard case .set(let ss) = se.value else { wrongType(); return }
        var ds: SetValue? = nil
        if let de = dstEntry {
            guard case .set(let s) = de.value else { wrongType(); return }
            ds = s
        }
        if ss === ds { reply.integer(ss.contains(member) ? 1 : 0); return }
        db.keys.willMutate(entryKey: se)
        guard ss.remove(member) else { reply.integer(0); return }
        changedOrDeleted(se, src, isEmpty: ss.count == 0)
        if let ds, let de = dstEntry {
            db.keys.willMutate(entryKey: de)
            if ds.add(member, limits: limits) { touched(de) }
        } else {
            let s = SetValue.creating(for: member, sizeHint: 1, limits: limits)
            s.add(member, limits: limits)
            setKey(dst, .set(s))
        }
        reply.integer(1)
    }
}
