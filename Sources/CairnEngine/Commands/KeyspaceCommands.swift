// Generic keyspace commands: existence, deletion, renames, TTLs, iteration and OBJECT.
// Relative expiries are propagated as PEXPIREAT with an absolute time; an expiry already in the
// past deletes the key and is propagated as DEL, as Redis 7.0 does.

extension Engine {
    func registerKeyspaceCommands() {
        func reg(_ name: String, _ arity: Int, _ flags: CommandFlags, _ keys: (Int, Int, Int),
                 _ summary: String, since: String = "1.0.0", complexity: String = "O(1)",
                 _ h: @escaping CommandHandler) {
            commands.register(CommandSpec(name, arity: arity, flags: flags, keys: keys, group: "generic",
                                          summary: summary, since: since, complexity: complexity, handler: h))
        }

        let del: CommandHandler = { c in
            var n = 0
            for key in c.argv.dropFirst() where c.deleteKey(key) { n += 1 }
            c.reply.integer(n)
        }
        reg("del", -2, [.write], (1, -1, 1), "Deletes one or more keys.", complexity: "O(N) where N is the number of keys that will be removed.", del)
        reg("unlink", -2, [.write, .fast], (1, -1, 1), "Asynchronously deletes one or more keys.", since: "4.0.0", del)

        reg("exists", -2, [.readonly, .fast], (1, -1, 1), "Determines whether one or more keys exist.", complexity: "O(N) where N is the number of keys to check.") { c in
            var n = 0
            for key in c.argv.dropFirst() where c.lookupReadNoTouch(key) != nil { n += 1 }
            c.reply.integer(n)
        }

        reg("type", 2, [.readonly, .fast], (1, 1, 1), "Determines the type of value stored at a key.") { c in
            if let e = c.lookupReadNoTouch(c.argv[1]) { c.reply.simple(e.value.typeName) } else { c.reply.simple("none") }
        }

        reg("rename", 3, [.write], (1, 2, 1), "Renames a key and overwrites the destination.") { c in
            c.rename(nx: false)
        }
        reg("renamenx", 3, [.write, .fast], (1, 2, 1), "Renames a key only when the target key name doesn't exist.") { c in
            c.rename(nx: true)
        }

        reg("copy", -3, [.write, .denyOOM], (1, 2, 1), "Copies the value of a key to a new key.", since: "6.2.0", complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.") { c in
            var targetDB = c.client.db
            var replace = false
            var i = 3
            while i < c.argv.count {
                if c.argv[i].isKeyword("replace") { replace = true }
                else if c.argv[i].isKeyword("db") && i + 1 < c.argv.count {
                    guard let d = c.argv[i + 1].withUnsafeBytes({ parseInt64($0) }) else { c.notInteger(); return }
                    guard d >= 0 && d < Int64(c.engine.databases.count) else { c.error("ERR DB index is out of range"); return }
                    targetDB = Int(d); i += 1
                } else { c.syntaxError(); return }
                i += 1
            }
            let src = c.argv[1], dst = c.argv[2]
            if targetDB == c.client.db && src == dst { c.error("ERR source and destination objects are the same"); return }
            guard let e = c.lookupWrite(src) else { c.reply.integer(0); return }
            let target = c.engine.databases[targetDB]
            if dst.withUnsafeBytes({ c.engine.lookup(target, $0) }) != nil {
                if !replace { c.reply.integer(0); return }
                c.deleteKey(dst, in: target)
            }
            let copy = KeyEntry.make(key: dst, value: e.value.deepCopy(), expireAtMs: e.expireAtMs, clock: c.engine.lruClock)
            target.add(copy)
            c.engine.keyModified(targetDB, dst)
            c.engine.dirty += 1
            c.reply.integer(1)
        }

        reg("move", 3, [.write, .fast], (1, 1, 1), "Moves a key to another database.") { c in
            guard let d = c.argv[2].withUnsafeBytes({ parseInt64($0) }) else { c.notInteger(); return }
            guard d >= 0 && d < Int64(c.engine.databases.count) else { c.error("ERR DB index is out of range"); return }
            if Int(d) == c.client.db { c.error("ERR source and destination objects are the same"); return }
            let key = c.argv[1]
            guard let e = c.lookupWrite(key) else { c.reply.integer(0); return }
            let target = c.engine.databases[Int(d)]
            if key.withUnsafeBytes({ c.engine.lookup(target, $0) }) != nil { c.reply.integer(0); return }
            c.db.remove(key)
            target.add(KeyEntry.make(key: key, value: e.value, expireAtMs: e.expireAtMs, clock: e.accessClock))
            c.engine.keyModified(c.client.db, key)
            c.engine.keyModified(Int(d), key)
            c.engine.dirty += 1
            c.reply.integer(1)
        }

        reg("keys", 2, [.readonly], (0, 0, 0), "Returns all key names that match a pattern.", complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.") { c in
            let pattern = c.argv[1]
            let all = pattern.count == 1 && pattern[0] == UInt8(ascii: "*")
            var out: [Bytes] = []
            c.db.keys.forEach { e in
                if c.engine.isExpired(e) { return }
                if all || pattern.withUnsafeBytes({ p in e.withKeyBytes { globMatch(pattern: p, string: $0) } }) {
                    out.append(e.key)
                }
            }
            c.reply.bulkArray(out)
        }

        reg("scan", -2, [.readonly], (0, 0, 0), "Iterates over the key names in the database.", since: "2.8.0", complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.") { c in
            c.scanKeys()
        }

        reg("randomkey", 1, [.readonly], (0, 0, 0), "Returns a random key name from the database.") { c in
            // Expired keys met on the way are deleted, so the loop ends. Only when they cannot
            // be deleted (writes paused) does it give up after some tries and return an expired
            // name, as a Redis replica does.
            var tries = 0
            while let e = c.db.keys.randomNode(using: &c.engine.rng) {
                if !c.engine.isExpired(e) { c.reply.bulk(e.key); return }
                if c.engine.writesPaused {
                    tries += 1
                    if tries > 100 { c.reply.bulk(e.key); return }
                    continue
                }
                c.engine.expireKey(c.db, e)
            }
            c.reply.null()
        }

        reg("touch", -2, [.readonly, .fast], (1, -1, 1), "Returns the number of existing keys out of those specified after updating the time they were last accessed.", since: "3.2.1", complexity: "O(N) where N is the number of keys that will be touched.") { c in
            var n = 0
            for key in c.argv.dropFirst() where c.lookupRead(key) != nil { n += 1 }
            c.reply.integer(n)
        }

        reg("expire", -3, [.write, .fast], (1, 1, 1), "Sets the expiration time of a key in seconds.") { c in c.expireCommand(unit: .seconds) }
        reg("pexpire", -3, [.write, .fast], (1, 1, 1), "Sets the expiration time of a key in milliseconds.", since: "2.6.0") { c in c.expireCommand(unit: .milliseconds) }
        reg("expireat", -3, [.write, .fast], (1, 1, 1), "Sets the expiration time of a key to a Unix timestamp.", since: "1.2.0") { c in c.expireCommand(unit: .unixSeconds) }
        reg("pexpireat", -3, [.write, .fast], (1, 1, 1), "Sets the expiration time of a key to a Unix milliseconds timestamp.", since: "2.6.0") { c in c.expireCommand(unit: .unixMilliseconds) }

        reg("ttl", 2, [.readonly, .fast], (1, 1, 1), "Returns the expiration time in seconds of a key.") { c in c.ttlCommand(ms: false, absolute: false) }
        reg("pttl", 2, [.readonly, .fast], (1, 1, 1), "Returns the expiration time in milliseconds of a key.", since: "2.6.0") { c in c.ttlCommand(ms: true, absolute: false) }
        reg("expiretime", 2, [.readonly, .fast], (1, 1, 1), "Returns the expiration time of a key as a Unix timestamp.", since: "7.0.0") { c in c.ttlCommand(ms: false, absolute: true) }
        reg("pexpiretime", 2, [.readonly, .fast], (1, 1, 1), "Returns the expiration time of a key as a Unix milliseconds timestamp.", since: "7.0.0") { c in c.ttlCommand(ms: true, absolute: true) }

        reg("persist", 2, [.write, .fast], (1, 1, 1), "Removes the expiration time of a key.", since: "2.2.0") { c in
            guard let e = c.lookupWrite(c.argv[1]), e.hasExpiry else { c.reply.integer(0); return }
            c.db.removeExpiry(e)
            c.touched(e)
            c.reply.integer(1)
        }

        let object = CommandSpec("object", arity: -2, flags: [], group: "generic", summary: "A container for object introspection commands.", since: "2.2.3", complexity: "Depends on subcommand.") { c in
            c.error("ERR wrong number of arguments for 'object' command")
        }
        func objectSub(_ name: String, _ summary: String, _ h: @escaping CommandHandler) {
            object.addSubcommand(CommandSpec(name, arity: 3, flags: [.readonly], keys: (2, 2, 1), group: "generic", summary: summary, since: "2.2.3", handler: h))
        }
        objectSub("encoding", "Returns the internal encoding of a Redis object.") { c in
            guard let e = c.objectLookup() else { return }
            c.reply.bulk(e.encodingName)
        }
        objectSub("refcount", "Returns the reference count of a value of a key.") { c in
            guard let e = c.objectLookup() else { return }
            if case .int(let v) = e.value, v >= 0 && v < 10000 { c.reply.integer(Int(Int32.max)) } else { c.reply.integer(1) }
        }
        objectSub("idletime", "Returns the time since the last access to a Redis object.") { c in
            guard let e = c.objectLookup() else { return }
            c.reply.integer(Int(max(0, Int64(c.engine.lruClock) - Int64(e.accessClock))))
        }
        objectSub("freq", "Returns the logarithmic access frequency counter of a Redis object.") { c in
            guard c.objectLookup() != nil else { return }
            c.error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
        }
        object.addSubcommand(CommandSpec("help", arity: 2, flags: [.loading, .stale], group: "generic", summary: "Returns helpful text about the different subcommands.", since: "6.2.0") { c in
            c.help("OBJECT", [
                "ENCODING <key>",
                "    Return the kind of internal representation used in order to store the value",
                "    associated with a <key>.",
                "FREQ <key>",
                "    Return the access frequency index of the <key>. The returned integer is",
                "    proportional to the logarithm of the recent access frequency of the key.",
                "IDLETIME <key>",
                "    Return the idle time of the <key>, that is the approximated number of",
                "    seconds elapsed since the last access to the key.",
                "REFCOUNT <key>",
                "    Return the number of references of the value associated with the specified",
                "    <key>.",
            ])
        })
        commands.register(object)
    }
}

extension Value {
    /// A copy that shares no mutable state with the original (COPY).
    public func deepCopy() -> Value {
        switch self {
        case .string, .int: return self
        case .hash(let h): return .hash(h.copy())
        case .list(let l): return .list(l.copy())
        case .set(let s): return .set(s.copy())
        case .zset(let z): return .zset(z.copy())
        }
    }
}

extension CommandCall {
    /// A live key for reading that leaves its access time alone (Redis's LOOKUP_NOTOUCH, used
    /// by EXISTS, TYPE and OBJECT): it still counts a keyspace hit or miss, as Redis does.
    func lookupReadNoTouch(_ key: Bytes) -> KeyEntry? {
        let e = key.withUnsafeBytes { engine.lookup(db, $0) }
        if e != nil { engine.stats.keyspaceHits += 1 } else { engine.stats.keyspaceMisses += 1 }
        return e
    }

    /// OBJECT subcommands look the key up without touching its access time.
    mutating func objectLookup() -> KeyEntry? {
        guard let e = lookupReadNoTouch(argv[2]) else {
            reply.null()
            return nil
        }
        return e
    }

    /// The standard HELP reply: "<COMMAND> <subcommand> [<arg> ...]. Subcommands are:" + lines.
    public mutating func help(_ command: String, _ lines: [String]) {
        var all = ["\(command) <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"]
        all += lines
        all += ["HELP", "    Print this help."]
        reply.arrayHeader(all.count)
        for l in all { reply.simple(l) }
    }

    mutating func rename(nx: Bool) {
        let src = argv[1], dst = argv[2]
        guard let e = lookupWrite(src) else { error("ERR no such key"); return }
        if src == dst {
            if nx { reply.integer(0) } else { reply.ok() }
            propagateNothing()
            return
        }
        if lookupWrite(dst) != nil {
            if nx { reply.integer(0); propagateNothing(); return }
            deleteKey(dst)
        }
        db.remove(src)
        db.add(KeyEntry.make(key: dst, value: e.value, expireAtMs: e.expireAtMs, clock: e.accessClock))
        engine.keyModified(db.id, src)
        engine.keyModified(db.id, dst)
        engine.dirty += 1
        if nx { reply.integer(1) } else { reply.ok() }
    }

    mutating func expireCommand(unit: ExpiryUnit) {
        let key = argv[1]
        // Options are checked before the time argument, as Redis does.
        var nx = false, xx = false, gt = false, lt = false
        for a in argv.dropFirst(3) {
            if a.isKeyword("nx") { nx = true }
            else if a.isKeyword("xx") { xx = true }
            else if a.isKeyword("gt") { gt = true }
            else if a.isKeyword("lt") { lt = true }
            else { error("ERR Unsupported option \(a.debugText)"); return }
        }
        if nx && (xx || gt || lt) { error("ERR NX and XX, GT or LT options at the same time are not compatible"); return }
        if gt && lt { error("ERR GT and LT options at the same time are not compatible"); return }
        guard let raw = int(2) else { return }
        let name = spec.name
        // Convert to absolute milliseconds with overflow checks ("invalid expire time").
        var when = raw
        if unit == .seconds || unit == .unixSeconds {
            let (m, o) = raw.multipliedReportingOverflow(by: 1000)
            if o { error("ERR invalid expire time in '\(name)' command"); return }
            when = m
        }
        if unit == .seconds || unit == .milliseconds {
            let (s, o) = when.addingReportingOverflow(engine.nowMs)
            if o { error("ERR invalid expire time in '\(name)' command"); return }
            when = s
        }
        guard let e = lookupWrite(key) else { reply.integer(0); return }
        if nx && e.hasExpiry { reply.integer(0); return }
        if xx && !e.hasExpiry { reply.integer(0); return }
        if gt && (!e.hasExpiry || when <= e.expireAtMs) { reply.integer(0); return }
        if lt && e.hasExpiry && when >= e.expireAtMs { reply.integer(0); return }
        if when <= engine.nowMs {
            deleteKey(key)
            propagate([engine.expiryDeleteCommand, key])
        } else {
            db.setExpiry(e, when)
            touched(e)
            // Redis rewrites only the name and the time; the NX/XX/GT/LT options stay.
            propagate([Bytes("PEXPIREAT"), key, Bytes(when)] + argv.dropFirst(3))
        }
        reply.integer(1)
    }

    mutating func ttlCommand(ms: Bool, absolute: Bool) {
        guard let e = lookupRead(argv[1]) else { reply.integer(-2); return }
        guard e.hasExpiry else { reply.integer(-1); return }
        // Seconds are rounded to nearest for the absolute form too (Redis's ttlGenericCommand).
        let ttl = absolute ? e.expireAtMs : max(0, e.expireAtMs - engine.nowMs)
        reply.integer(ms ? ttl : (ttl / 1000) + (ttl % 1000 >= 500 ? 1 : 0))
    }

    mutating func scanKeys() {
        guard let cursor = argv[1].withUnsafeBytes({ parseUInt64Cursor($0) }) else {
            error("ERR invalid cursor"); return
        }
        var pattern: Bytes? = nil
        var count = 10
        var type: Bytes? = nil
        var i = 2
        while i < argv.count {
            let hasNext = i + 1 < argv.count
            if argv[i].isKeyword("count") && hasNext {
                guard let n = argv[i + 1].withUnsafeBytes({ parseInt64($0) }) else { notInteger(); return }
                if n < 1 { syntaxError(); return }
                count = Int(min(n, Int64(Int32.max)))
                i += 2
            } else if argv[i].isKeyword("match") && hasNext {
                pattern = argv[i + 1]; i += 2
            } else if argv[i].isKeyword("type") && hasNext {
                type = asciiLowercased(argv[i + 1]); i += 2
            } else { syntaxError(); return }
        }
        var found: [KeyEntry] = []
        var next = cursor
        // Like Redis: visit buckets until `count` keys were collected or 10×count buckets looked at.
        var steps = 0
        repeat {
            next = db.keys.scan(next) { found.append($0) }
            steps += 1
        } while next != 0 && found.count < count && steps < count * 10
        var out: [Bytes] = []
        let matchAll = pattern.map { $0.count == 1 && $0[0] == UInt8(ascii: "*") } ?? true
        for e in found {
            if !matchAll, let p = pattern,
               !p.withUnsafeBytes({ pp in e.withKeyBytes { globMatch(pattern: pp, string: $0) } }) { continue }
            if let t = type, t.debugText != e.value.typeName { continue }
            if engine.isExpired(e) { engine.expireKey(db, e); continue }
            out.append(e.key)
        }
        reply.arrayHeader(2)
        reply.bulk(Bytes(String(next)))
        reply.bulkArray(out)
    }
}

/// SCAN cursors are parsed as Redis's parseScanCursorOrReply does, with C's strtoul: an
/// optional sign ("-1" wraps to 2^64-1, "+0" is 0), decimal digits, nothing after them, no
/// leading space, and not above 2^64-1. An empty argument is cursor 0.
func parseUInt64Cursor(_ s: UnsafeRawBufferPointer) -> UInt64? {
    var i = 0
    var negative = false
    if i < s.count && (s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-")) {
        negative = s[i] == UInt8(ascii: "-")
        i += 1
    }
    if i == s.count { return i == 0 ? 0 : nil }   // "" is 0; a bare sign is not a number
    var v: UInt64 = 0
    while i < s.count {
        let c = s[i]
        guard c >= 48 && c <= 57 else { return nil }
        let (m, o1) = v.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(UInt64(c - 48))
        if o1 || o2 { return nil }
        v = a
        i += 1
    }
    return negative ? 0 &- v : v
}
