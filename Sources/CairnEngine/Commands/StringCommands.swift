// String commands. Effects are rewritten to deterministic forms where Redis 7.0 does so:
//   SET … EX/PX/EXAT, SETEX, PSETEX   → SET key value PXAT <abs-ms>
//   GETEX EX/PX/EXAT/PXAT             → PEXPIREAT key <abs-ms>;  GETEX PERSIST → PERSIST key
//   GETSET                            → SET key value
//   GETDEL                            → DEL key
//   INCRBYFLOAT                       → SET key <result> KEEPTTL

extension Engine {
    func registerStringCommands() {
        let rw: CommandFlags = [.write, .denyOOM]
        func reg(_ name: String, _ arity: Int, _ flags: CommandFlags, _ keys: (Int, Int, Int),
                 _ summary: String, since: String = "1.0.0", complexity: String = "O(1)",
                 group: String = "string", _ h: @escaping CommandHandler) {
            commands.register(CommandSpec(name, arity: arity, flags: flags, keys: keys, group: group,
                                          summary: summary, since: since, complexity: complexity, handler: h))
        }

        reg("get", 2, [.readonly, .fast], (1, 1, 1), "Returns the string value of a key.") { c in
            guard let e = c.lookupRead(c.argv[1]) else { c.reply.null(); return }
            switch e.storageKind {
            case .inlineString: e.withInlineString { c.reply.bulk($0) }
            case .int: c.reply.bulk(integerText: e.intValue)
            case .boxed:
                if case .string(let b) = e.value { c.reply.bulk(b) } else { c.wrongType() }
            }
        }

        reg("set", -3, rw, (1, 1, 1), "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.") { c in
            c.setCommand()
        }

        reg("setnx", 3, rw.union(.fast), (1, 1, 1), "Set the string value of a key only when the key doesn't exist.") { c in
            if c.lookupWrite(c.argv[1]) != nil { c.reply.integer(0); return }
            c.setKey(c.argv[1], .string(compacting: c.argv[2]))
            c.reply.integer(1)
        }

        reg("setex", 4, rw, (1, 1, 1), "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", since: "2.0.0") { c in
            guard let at = c.absoluteExpiry(c.argv[2], unit: .seconds, command: "setex") else { return }
            c.storeWithExpiry(c.argv[1], c.argv[3], at)
            c.reply.ok()
        }

        reg("psetex", 4, rw, (1, 1, 1), "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", since: "2.6.0") { c in
            guard let at = c.absoluteExpiry(c.argv[2], unit: .milliseconds, command: "psetex") else { return }
            c.storeWithExpiry(c.argv[1], c.argv[3], at)
            c.reply.ok()
        }

        reg("getset", 3, rw.union(.fast), (1, 1, 1), "Returns the previous string value of a key after setting it to a new value.") { c in
            guard let old = c.stringValue(c.argv[1], forWrite: true) else { return }
            c.setKey(c.argv[1], .string(compacting: c.argv[2]))
            if case .found(_, let b) = old { c.reply.bulk(b) } else { c.reply.null() }
            c.propagate([Bytes("SET"), c.argv[1], c.argv[2]])
        }

        reg("getdel", 2, [.write, .fast], (1, 1, 1), "Returns the string value of a key after deleting the key.", since: "6.2.0") { c in
            guard let old = c.stringValue(c.argv[1], forWrite: true) else { return }
            guard case .found(_, let b) = old else { c.reply.null(); return }
            c.deleteKey(c.argv[1])
            c.reply.bulk(b)
            c.propagate([Bytes(c.engine.config.lazyfreeLazyUserDel ? "UNLINK" : "DEL"), c.argv[1]])
        }

        reg("getex", -2, [.write, .fast], (1, 1, 1), "Returns the string value of a key after setting its expiration time.", since: "6.2.0") { c in
            c.getexCommand()
        }

        reg("mget", -2, [.readonly, .fast], (1, -1, 1), "Atomically returns the string values of one or more keys.", complexity: "O(N) where N is the number of keys to retrieve.") { c in
            c.reply.arrayHeader(c.argv.count - 1)
            for key in c.argv.dropFirst() {
                guard let e = c.lookupRead(key) else { c.reply.null(); continue }
                switch e.storageKind {
                case .inlineString: e.withInlineString { c.reply.bulk($0) }
                case .int: c.reply.bulk(integerText: e.intValue)
                case .boxed:
                    // MGET answers nil for a key of another type
                    if case .string(let b) = e.value { c.reply.bulk(b) } else { c.reply.null() }
                }
            }
        }

        reg("mset", -3, rw, (1, -1, 2), "Atomically creates or modifies the string values of one or more keys.", since: "1.0.1", complexity: "O(N) where N is the number of keys to set.") { c in
            guard c.argv.count % 2 == 1 else { c.error("ERR wrong number of arguments for 'mset' command"); return }
            var i = 1
            while i < c.argv.count {
                c.setKey(c.argv[i], .string(compacting: c.argv[i + 1]))
                i += 2
            }
            c.reply.ok()
        }

        reg("msetnx", -3, rw, (1, -1, 2), "Atomically modifies the string values of one or more keys only when all keys don't exist.", since: "1.0.1", complexity: "O(N) where N is the number of keys to set.") { c in
            guard c.argv.count % 2 == 1 else { c.error("ERR wrong number of arguments for 'msetnx' command"); return }
            var i = 1
            while i < c.argv.count {
                if c.lookupWrite(c.argv[i]) != nil { c.reply.integer(0); return }
                i += 2
            }
            i = 1
            while i < c.argv.count {
                c.setKey(c.argv[i], .string(compacting: c.argv[i + 1]))
                i += 2
            }
            c.reply.integer(1)
        }

        reg("append", 3, rw, (1, 1, 1), "Appends a string to the value of a key. Creates the key if it doesn't exist.", since: "2.0.0") { c in
            let e: KeyEntry
            switch c.stringValue(c.argv[1], forWrite: true) {
            case nil: return
            case .missing?:
                // A new key gets the value as SET would store it ("123" is int-encoded).
                c.setKey(c.argv[1], .string(compacting: c.argv[2]))
                c.reply.integer(c.argv[2].count)
                return
            case .found(let entry, let current)?:
                guard c.checkStringLength(current.count, adding: c.argv[2].count) else { return }
                e = entry
            }
            // The lookup's copy of the bytes is gone with the switch, so after takeStringBytes
            // ours is the only reference and the append is amortised O(1), not a full copy.
            var b = c.takeStringBytes(e)
            b.append(c.argv[2])
            e.value = .string(b)
            e.markRawEncoding()
            c.touched(e)
            c.reply.integer(b.count)
        }

        reg("strlen", 2, [.readonly, .fast], (1, 1, 1), "Returns the length of a string value.", since: "2.2.0") { c in
            guard let found = c.stringValue(c.argv[1]) else { return }
            if case .found(_, let b) = found { c.reply.integer(b.count) } else { c.reply.integer(0) }
        }

        let getrange: CommandHandler = { c in
            guard let start = c.int(2), let end = c.int(3) else { return }
            guard let found = c.stringValue(c.argv[1]) else { return }
            guard case .found(_, let b) = found else { c.reply.bulk([UInt8]()); return }
            let n = Int64(b.count)
            var s = start, e = end
            if s < 0 && e < 0 && s > e { c.reply.bulk([UInt8]()); return }
            if s < 0 { s = n + s }
            if e < 0 { e = n + e }
            if s < 0 { s = 0 }
            if e < 0 { e = 0 }
            if e >= n { e = n - 1 }
            if s > e || n == 0 { c.reply.bulk([UInt8]()); return }
            c.reply.bulk(b.slice(Int(s), Int(e) + 1))
        }
        reg("getrange", 4, [.readonly], (1, 1, 1), "Returns a substring of the string stored at a key.", since: "2.4.0", complexity: "O(N) where N is the length of the returned string.", getrange)
        reg("substr", 4, [.readonly], (1, 1, 1), "Returns a substring from a string value.", getrange)

        reg("setrange", 4, rw, (1, 1, 1), "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", since: "2.2.0") { c in
            guard let offset = c.int(2) else { return }
            guard offset >= 0 else { c.error("ERR offset is out of range"); return }
            let value = c.argv[3]
            let e: KeyEntry
            switch c.stringValue(c.argv[1], forWrite: true) {
            case nil: return
            case .missing?:
                if value.isEmpty { c.reply.integer(0); return }
                guard c.checkStringLength(Int(min(offset, Int64(Int32.max) * 1024)), adding: value.count) else { return }
                var a = [UInt8].zeros(Int(offset))
                a.append(contentsOf: value.array)
                c.setKey(c.argv[1], .string(Bytes(array: a)), rawEncoding: true)
                c.reply.integer(a.count)
                return
            case .found(let entry, let current)?:
                if value.isEmpty { c.reply.integer(current.count); return }
                guard c.checkStringLength(Int(min(offset, Int64(Int32.max) * 1024)), adding: value.count) else { return }
                e = entry
            }
            // As in APPEND: ours is the only reference, so the overwrite is in place.
            var b = c.takeStringBytes(e)
            let off = Int(offset)
            b.withMutableArray { a in
                a.zeroExtend(to: off + value.count)
                value.withUnsafeBytes { src in
                    a.withUnsafeMutableBytes { dst in
                        dst.baseAddress!.advanced(by: off).copyMemory(from: src.baseAddress!, byteCount: src.count)
                    }
                }
            }
            e.value = .string(b)
            e.markRawEncoding()
            c.touched(e)
            c.reply.integer(b.count)
        }

        reg("incr", 2, rw.union(.fast), (1, 1, 1), "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.") { c in
            c.incrBy(1)
        }
        reg("decr", 2, rw.union(.fast), (1, 1, 1), "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.") { c in
            c.incrBy(-1)
        }
        reg("incrby", 3, rw.union(.fast), (1, 1, 1), "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.") { c in
            guard let n = c.int(2) else { return }
            c.incrBy(n)
        }
        reg("decrby", 3, rw.union(.fast), (1, 1, 1), "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.") { c in
            guard let n = c.int(2) else { return }
            if n == Int64.min { c.error("ERR decrement would overflow"); return }
            c.incrBy(-n)
        }

        reg("incrbyfloat", 3, rw.union(.fast), (1, 1, 1), "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", since: "2.6.0") { c in
            guard let incr = c.argv[2].withUnsafeBytes({ parseLongDouble($0) }) else {
                c.error("ERR value is not a valid float"); return
            }
            guard let found = c.stringValue(c.argv[1], forWrite: true) else { return }
            var current: Float80 = 0
            if case .found(_, let b) = found {
                guard let v = b.withUnsafeBytes({ parseLongDouble($0) }) else {
                    c.error("ERR value is not a valid float"); return
                }
                current = v
            }
            let result = current + incr
            guard result.isFinite else { c.error("ERR increment would produce NaN or Infinity"); return }
            let text = Bytes(array: formatLongDouble(result))
            c.setKey(c.argv[1], .string(text), keepTTL: true)
            c.reply.bulk(text)
            c.propagate([Bytes("SET"), c.argv[1], text, Bytes("KEEPTTL")])
        }
    }
}

extension CommandCall {
    /// Moves a string entry's bytes out (an integer becomes its decimal text), leaving the entry
    /// holding an empty string until the caller stores the result back. With no other copy
    /// alive, the caller's mutation of the returned bytes happens in place.
    func takeStringBytes(_ e: KeyEntry) -> Bytes {
        db.keys.willMutate(entryKey: e)
        let b = e.value.stringBytes ?? Bytes()
        e.value = .string(Bytes())
        return b
    }

    /// Redis's checkStringLength: the result must not exceed proto-max-bulk-len.
    mutating func checkStringLength(_ current: Int, adding: Int) -> Bool {
        let (total, overflow) = current.addingReportingOverflow(adding)
        if overflow || total > engine.config.protoMaxBulkLen {
            error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
            return false
        }
        return true
    }

    mutating func storeWithExpiry(_ key: Bytes, _ value: Bytes, _ at: Int64) {
        setKey(key, .string(compacting: value))
        if let e = lookupWrite(key) { db.setExpiry(e, at) }
        propagate([Bytes("SET"), key, value, Bytes("PXAT"), Bytes(at)])
    }

    mutating func incrBy(_ delta: Int64) {
        let key = argv[1]
        guard let e = lookupWrite(key) else {
            setKey(key, .int(delta))
            reply.integer(delta)
            return
        }
        let current: Int64
        switch e.value {
        case .int(let v): current = v
        case .string(let b):
            guard let v = b.withUnsafeBytes({ parseInt64($0) }) else { notInteger(); return }
            current = v
        default:
            wrongType()
            return
        }
        let (sum, overflow) = current.addingReportingOverflow(delta)
        if overflow { error("ERR increment or decrement would overflow"); return }
        db.keys.willMutate(entryKey: e)
        e.value = .int(sum)     // in place: INCR keeps the TTL
        touched(e)
        reply.integer(sum)
    }

    mutating func setCommand() {
        enum Condition { case none, nx, xx }
        var condition = Condition.none
        var wantGet = false
        var keepTTL = false
        var expiry: (Bytes, ExpiryUnit)? = nil
        var expiryIsPXAT = false
        var i = 3
        while i < argv.count {
            let a = argv[i]
            let hasNext = i + 1 < argv.count
            // As Redis's parseExtendedStringArgumentsOrReply: an option may repeat (the last
            // expiry value wins) but may not be combined with a conflicting one.
            func expiryAllowed(_ unit: ExpiryUnit) -> Bool {
                !keepTTL && hasNext && (expiry == nil || expiry!.1 == unit)
            }
            if a.isKeyword("nx") && condition != .xx { condition = .nx }
            else if a.isKeyword("xx") && condition != .nx { condition = .xx }
            else if a.isKeyword("get") { wantGet = true }
            else if a.isKeyword("keepttl") && expiry == nil { keepTTL = true }
            else if a.isKeyword("ex") && expiryAllowed(.seconds) { expiry = (argv[i + 1], .seconds); i += 1 }
            else if a.isKeyword("px") && expiryAllowed(.milliseconds) { expiry = (argv[i + 1], .milliseconds); i += 1 }
            else if a.isKeyword("exat") && expiryAllowed(.unixSeconds) { expiry = (argv[i + 1], .unixSeconds); i += 1 }
            else if a.isKeyword("pxat") && expiryAllowed(.unixMilliseconds) { expiry = (argv[i + 1], .unixMilliseconds); expiryIsPXAT = true; i += 1 }
            else { syntaxError(); return }
            i += 1
        }
        var at: Int64? = nil
        if let (arg, unit) = expiry {
            guard let ms = absoluteExpiry(arg, unit: unit, command: "set") else { return }
            at = ms
        }
        let key = argv[1]
        var old: StringLookup = .missing
        if wantGet {
            guard let o = stringValue(key, forWrite: true) else { return }
            old = o
        }
        if condition != .none {
            let exists: Bool
            if wantGet { if case .found = old { exists = true } else { exists = false } }
            else { exists = lookupWrite(key) != nil }
            if (condition == .nx && exists) || (condition == .xx && !exists) {
                if wantGet, case .found(_, let b) = old { reply.bulk(b) } else { reply.null() }
                propagateNothing()
                return
            }
        }
        setKey(key, .string(compacting: argv[2]), keepTTL: keepTTL)
        if let at, let e = lookupWrite(key) { db.setExpiry(e, at) }
        if wantGet {
            if case .found(_, let b) = old { reply.bulk(b) } else { reply.null() }
        } else {
            reply.ok()
        }
        if let at, !expiryIsPXAT {
            propagate([Bytes("SET"), key, argv[2], Bytes("PXAT"), Bytes(at)])
        } else if wantGet {
            // Redis propagates SET without its GET option(s).
            propagate([argv[0]] + argv.dropFirst().enumerated().filter { $0.offset < 2 || !$0.element.isKeyword("get") }.map { $0.element })
        }
    }

    mutating func getexCommand() {
        var expiry: (Bytes, ExpiryUnit)? = nil
        var persist = false
        var i = 2
        while i < argv.count {
            let a = argv[i]
            let hasNext = i + 1 < argv.count
            // Repeating an option is allowed (the last value wins); mixing them is not.
            func expiryAllowed(_ unit: ExpiryUnit) -> Bool {
                !persist && hasNext && (expiry == nil || expiry!.1 == unit)
            }
            if a.isKeyword("persist") && expiry == nil { persist = true }
            else if a.isKeyword("ex") && expiryAllowed(.seconds) { expiry = (argv[i + 1], .seconds); i += 1 }
            else if a.isKeyword("px") && expiryAllowed(.milliseconds) { expiry = (argv[i + 1], .milliseconds); i += 1 }
            else if a.isKeyword("exat") && expiryAllowed(.unixSeconds) { expiry = (argv[i + 1], .unixSeconds); i += 1 }
            else if a.isKeyword("pxat") && expiryAllowed(.unixMilliseconds) { expiry = (argv[i + 1], .unixMilliseconds); i += 1 }
            else { syntaxError(); return }
            i += 1
        }
        // As in Redis's getexCommand, the key is looked up before the time is validated: a
        // missing key answers nil even when the time is invalid.
        guard let found = stringValue(argv[1], forWrite: true) else { return }
        guard case .found(let e, let b) = found else { reply.null(); return }
        var at: Int64? = nil
        if let (arg, unit) = expiry {
            guard let ms = absoluteExpiry(arg, unit: unit, command: "getex") else { return }
            at = ms
        }
        reply.bulk(b)
        if let at {
            if at <= engine.nowMs {
                deleteKey(argv[1])
                propagate([engine.expiryDeleteCommand, argv[1]])
            } else {
                db.setExpiry(e, at)
                touched(e)
                propagate([Bytes("PEXPIREAT"), argv[1], Bytes(at)])
            }
        } else if persist && e.hasExpiry {
            db.removeExpiry(e)
            touched(e)
            propagate([Bytes("PERSIST"), argv[1]])
        } else {
            propagateNothing()
        }
    }
}
