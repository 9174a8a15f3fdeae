// List commands (the blocking ones are in Blocking.swift). Effects are the commands themselves
// except LMPOP, which becomes LPOP/RPOP key <number popped>, as Redis 7.0 propagates it.
// A list whose last element is removed is deleted.

enum ListEnd {
    case head, tail

    /// "left" / "right" as Redis writes them into effects of served blocked clients.
    var word: Bytes { self == .head ? Bytes("left") : Bytes("right") }
    var popCommand: Bytes { self == .head ? Bytes("LPOP") : Bytes("RPOP") }
}

extension ListValue {
    func push(_ e: Bytes, _ end: ListEnd) {
        if end == .head { pushFront(e) } else { pushBack(e) }
    }

    func pop(_ end: ListEnd) -> Bytes? {
        end == .head ? popFront() : popBack()
    }
}

extension Engine {
    func registerListCommands() {
        let rw: CommandFlags = [.write, .denyOOM]
        func reg(_ name: String, _ arity: Int, _ flags: CommandFlags, keys: (Int, Int, Int) = (1, 1, 1),
                 _ summary: String, since: String = "1.0.0", complexity: String = "O(1)",
                 _ h: @escaping CommandHandler) {
            commands.register(CommandSpec(name, arity: arity, flags: flags, keys: keys, group: "list",
                                          summary: summary, since: since, complexity: complexity, handler: h))
        }

        reg("lpush", -3, rw.union(.fast), "Prepends one or more elements to a list. Creates the key if it doesn't exist.", complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.") { c in
            c.pushCommand(.head, onlyIfExists: false)
        }
        reg("rpush", -3, rw.union(.fast), "Appends one or more elements to a list. Creates the key if it doesn't exist.", complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.") { c in
            c.pushCommand(.tail, onlyIfExists: false)
        }
        reg("lpushx", -3, rw.union(.fast), "Prepends one or more elements to a list only when the list exists.", since: "2.2.0", complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.") { c in
            c.pushCommand(.head, onlyIfExists: true)
        }
        reg("rpushx", -3, rw.union(.fast), "Appends an element to a list only when the list exists.", since: "2.2.0", complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.") { c in
            c.pushCommand(.tail, onlyIfExists: true)
        }

        reg("lpop", -2, [.write, .fast], "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", complexity: "O(N) where N is the number of elements returned") { c in
            c.popCommand(.head)
        }
        reg("rpop", -2, [.write, .fast], "Returns and removes the last elements of a list. Deletes the list if the last element was popped.", complexity: "O(N) where N is the number of elements returned") { c in
            c.popCommand(.tail)
        }

        reg("llen", 2, [.readonly, .fast], "Returns the length of a list.") { c in
            guard let f = c.fetchList(c.argv[1]) else { return }
            if case .found(_, let l) = f { c.reply.integer(l.count) } else { c.reply.integer(0) }
        }

        reg("lrange", 4, [.readonly], "Returns a range of elements from a list.", complexity: "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.") { c in
            guard let start = c.int(2), let end = c.int(3) else { return }
            guard let f = c.fetchList(c.argv[1]) else { return }
            guard case .found(_, let l) = f else { c.reply.arrayHeader(0); return }
            let r = listRange(start, end, count: l.count)
            c.reply.arrayHeader(r.count)
            l.forEach(in: r) { _, e in c.reply.bulk(e); return true }
        }

        reg("lindex", 3, [.readonly], "Returns an element from a list by its index.", complexity: "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).") { c in
            guard let f = c.fetchList(c.argv[1]) else { return }
            guard case .found(_, let l) = f else { c.reply.null(); return }
            guard let index = c.int(2) else { return }
            guard let i = listIndex(index, count: l.count) else { c.reply.null(); return }
            c.reply.bulk(l[i])
        }

        reg("lset", 4, rw, "Sets the value of an element in a list by its index.", complexity: "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).") { c in
            guard let f = c.fetchList(c.argv[1], write: true) else { return }
            guard case .found(let e, let l) = f else { c.error("ERR no such key"); return }
            guard let index = c.int(2) else { return }
            guard let i = listIndex(index, count: l.count) else { c.error("ERR index out of range"); return }
            l[i] = c.argv[3]
            c.touched(e)
            c.reply.ok()
        }

        reg("linsert", 5, rw, "Inserts an element before or after another element in a list.", since: "2.2.0", complexity: "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).") { c in
            let after: Bool
            if c.argv[2].isKeyword("after") { after = true }
            else if c.argv[2].isKeyword("before") { after = false }
            else { c.syntaxError(); return }
            guard let f = c.fetchList(c.argv[1], write: true) else { return }
            guard case .found(let e, let l) = f else { c.reply.integer(0); return }
            var at: Int? = nil
            c.argv[3].withUnsafeBytes { pivot in
                l.forEach(in: 0..<l.count) { i, e in
                    if Bytes.equal(e, pivot) { at = i; return false }
                    return true
                }
            }
            guard let pivot = at else { c.reply.integer(-1); return }
            l.insert(c.argv[4], at: after ? pivot + 1 : pivot)
            c.touched(e)
            c.reply.integer(l.count)
        }

        reg("lrem", 4, [.write], "Removes elements from a list. Deletes the list if the last element was removed.", complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.") { c in
            guard let toRemove = c.int(2) else { return }
            guard let f = c.fetchList(c.argv[1], write: true) else { return }
            guard case .found(let e, let l) = f else { c.reply.integer(0); return }
            var removed = 0
            c.argv[3].withUnsafeBytes { target in
                if toRemove >= 0 {
                    let limit = toRemove == 0 ? Int.max : Int(clamping: toRemove)
                    removed = l.removeAll { _, x in
                        guard removed < limit, Bytes.equal(x, target) else { return false }
                        removed += 1
                        return true
                    }
                } else {
                    // From the tail: find where the last match to remove is, then remove every
                    // match from there on.
                    let limit = Int(clamping: toRemove.magnitude)
                    var found = 0
                    var from = 0
                    l.forEach(in: 0..<l.count, reverse: true) { i, x in
                        if Bytes.equal(x, target) { found += 1; from = i }
                        return found < limit
                    }
                    if found > 0 {
                        removed = l.removeAll { i, x in i >= from && Bytes.equal(x, target) }
                    }
                }
            }
            if removed > 0 { c.changedOrDeleted(e, c.argv[1], isEmpty: l.isEmpty) }
            c.reply.integer(removed)
        }

        reg("ltrim", 4, [.write], "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", complexity: "O(N) where N is the number of elements to be removed by the operation.") { c in
            guard let start = c.int(2), let end = c.int(3) else { return }
            guard let f = c.fetchList(c.argv[1], write: true) else { return }
            guard case .found(let e, let l) = f else { c.reply.ok(); return }
            let keep = listRange(start, end, count: l.count)
            if keep.count == l.count {
                // Nothing removed: the key counts as touched (WATCH) but not as changed.
                c.engine.keyModified(c.client.db, c.argv[1])
            } else {
                l.keep(keep)
                c.changedOrDeleted(e, c.argv[1], isEmpty: l.isEmpty)
            }
            c.reply.ok()
        }

        reg("lpos", -3, [.readonly], "Returns the index of matching elements in a list.", since: "6.0.6", complexity: "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.") { c in
            c.lposCommand()
        }

        reg("lmove", 5, rw, keys: (1, 2, 1), "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", since: "6.2.0") { c in
            guard let from = c.listEnd(3), let to = c.listEnd(4) else { return }
            c.moveCommand(from, to)
        }
        reg("rpoplpush", 3, rw, keys: (1, 2, 1), "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", since: "1.2.0") { c in
            c.moveCommand(.tail, .head)
        }

        reg("lmpop", -4, [.write], keys: (0, 0, 0), "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", since: "7.0.0", complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.") { c in
            guard let p = c.mpopArguments(numKeysIndex: 1, ends: true) else { return }
            for key in p.keys {
                guard let f = c.fetchList(key, write: true) else { return }
                guard case .found(let e, let l) = f else { continue }
                c.popRangeReplyWithKey(e, key, l, p.end, count: p.count)
                return
            }
            c.reply.nullArray()
        }
    }
}

/// LRANGE/LTRIM index normalization: negative indexes count from the end, the range is
/// clipped to the list, an inverted or out-of-list range is empty.
func listRange(_ start: Int64, _ end: Int64, count: Int) -> Range<Int> {
    let n = Int64(count)
    var s = start < 0 ? n + start : start
    var e = end < 0 ? n + end : end
    if s < 0 { s = 0 }
    if s > e || s >= n { return 0..<0 }
    if e >= n { e = n - 1 }
    return Int(s)..<Int(e + 1)
}

/// LINDEX/LSET: a position, or nil when out of range.
func listIndex(_ index: Int64, count: Int) -> Int? {
    let i = index < 0 ? Int64(count) + index : index
    return i >= 0 && i < Int64(count) ? Int(i) : nil
}

/// The parsed arguments of LMPOP/BLMPOP/ZMPOP/BZMPOP.
struct MPopArguments {
    var keys: [Bytes]
    var end: ListEnd
    var count: Int
}

extension CommandCall {
    /// LEFT / RIGHT (syntax error otherwise).
    mutating func listEnd(_ i: Int) -> ListEnd? {
        if argv[i].isKeyword("left") { return .head }
        if argv[i].isKeyword("right") { return .tail }
        syntaxError()
        return nil
    }

    /// `numkeys key… LEFT|RIGHT [COUNT n]` (lists, `ends`) or `numkeys key… MIN|MAX [COUNT n]`
    /// (sorted sets; MIN is `.head`).
    mutating func mpopArguments(numKeysIndex: Int, ends: Bool) -> MPopArguments? {
        guard let n = argv[numKeysIndex].withUnsafeBytes({ parseInt64($0) }), n >= 1 else {
            error("ERR numkeys should be greater than 0"); return nil
        }
        // n comes from the client: bound it by argc before any arithmetic.
        guard n < Int64(argv.count) else { syntaxError(); return nil }
        // Compared before adding, so numkeys near 2^63 cannot overflow.
        guard n < Int64(argv.count - numKeysIndex - 1) else { syntaxError(); return nil }
        let w = numKeysIndex + Int(n) + 1
        let end: ListEnd
        if ends {
            guard let e = listEnd(w) else { return nil }
            end = e
        } else if argv[w].isKeyword("min") { end = .head }
        else if argv[w].isKeyword("max") { end = .tail }
        else { syntaxError(); return nil }
        var count = -1
        var j = w + 1
        while j < argv.count {
            if count == -1 && argv[j].isKeyword("count") && j + 1 < argv.count {
                guard let v = argv[j + 1].withUnsafeBytes({ parseInt64($0) }), v >= 1 else {
                    error("ERR count should be greater than 0"); return nil
                }
                count = Int(v)
                j += 2
            } else {
                syntaxError()
                return nil
            }
        }
        return MPopArguments(keys: Array(argv[(numKeysIndex + 1)..<w]), end: end, count: count == -1 ? 1 : count)
    }

    mutating func pushCommand(_ end: ListEnd, onlyIfExists: Bool) {
        let key = argv[1]
        guard let f = fetchList(key, write: true) else { return }
        switch f {
        case .found(let e, let l):
            for i in 2..<argv.count { l.push(argv[i], end) }
            touched(e)
            reply.integer(l.count)
        case .missing:
            if onlyIfExists { reply.integer(0); return }
            let l = engine.newList()
            for i in 2..<argv.count { l.push(argv[i], end) }
            setKey(key, .list(l))
            reply.integer(l.count)
        }
    }

    /// LPOP/RPOP key [count].
    mutating func popCommand(_ end: ListEnd) {
        if argv.count > 3 { error("ERR wrong number of arguments for '\(spec.name)' command"); return }
        let hasCount = argv.count == 3
        var count = 0
        if hasCount {
            guard let v = argv[2].withUnsafeBytes({ parseInt64($0) }), v >= 0 else {
                error("ERR value is out of range, must be positive"); return
            }
            count = Int(v)
        }
        guard let f = fetchList(argv[1], write: true) else { return }
        guard case .found(let e, let l) = f else {
            if hasCount { reply.nullArray() } else { reply.null() }
            return
        }
        if hasCount && count == 0 { reply.arrayHeader(0); return }
        if !hasCount {
            reply.bulk(l.pop(end)!)
        } else {
            let n = min(count, l.count)
            reply.arrayHeader(n)
            for _ in 0..<n { reply.bulk(l.pop(end)!) }
        }
        changedOrDeleted(e, argv[1], isEmpty: l.isEmpty)
    }

    /// Pops up to `count` elements and replies [key, [elements]] (LMPOP, BLMPOP); propagates
    /// LPOP/RPOP key <popped>.
    mutating func popRangeReplyWithKey(_ e: KeyEntry, _ key: Bytes, _ l: ListValue, _ end: ListEnd, count: Int) {
        let n = min(count, l.count)
        reply.arrayHeader(2)
        reply.bulk(key)
        reply.arrayHeader(n)
        for _ in 0..<n { reply.bulk(l.pop(end)!) }
        changedOrDeleted(e, key, isEmpty: l.isEmpty)
        propagate([end.popCommand, key, Bytes(n)])
    }

    /// LMOVE/RPOPLPUSH (and the immediate case of BLMOVE/BRPOPLPUSH).
    mutating func moveCommand(_ from: ListEnd, _ to: ListEnd) {
        let src = argv[1], dst = argv[2]
        guard let sf = fetchList(src, write: true) else { return }
        guard case .found(let se, let sl) = sf else { reply.null(); return }
        guard let df = fetchList(dst, write: true) else { return }
        let value = sl.pop(from)!
        switch df {
        case .found(let de, let dl):
            dl.push(value, to)
            touched(de)
        case .missing:
            let dl = engine.newList()
            dl.push(value, to)
            setKey(dst, .list(dl))
        }
        reply.bulk(value)
        // After the push, so a rotation of a one-element list (src == dst) keeps the key.
        changedOrDeleted(se, src, isEmpty: sl.isEmpty)
    }

    mutating func lposCommand() {
        var rank: Int64 = 1
        var count: Int64 = -1
        var maxLen: Int64 = 0
        var j = 3
        while j < argv.count {
            let more = j + 1 < argv.count
            if argv[j].isKeyword("rank") && more {
                j += 1
                guard let v = argv[j].withUnsafeBytes({ parseInt64($0) }) else { notInteger(); return }
                if v == 0 {
                    error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
                    return
                }
                rank = v
            } else if argv[j].isKeyword("count") && more {
                j += 1
                guard let v = argv[j].withUnsafeBytes({ parseInt64($0) }), v >= 0 else {
                    error("ERR COUNT can't be negative"); return
                }
                count = v
            } else if argv[j].isKeyword("maxlen") && more {
                j += 1
                guard let v = argv[j].withUnsafeBytes({ parseInt64($0) }), v >= 0 else {
                    error("ERR MAXLEN can't be negative"); return
                }
                maxLen = v
            } else {
                syntaxError()
                return
            }
            j += 1
        }
        guard let f = fetchList(argv[1]) else { return }
        guard case .found(_, let l) = f else {
            if count != -1 { reply.arrayHeader(0) } else { reply.null() }
            return
        }
        let fromTail = rank < 0
        // Redis negates the rank in a C long, so RANK -2^63 stays negative: every match
        // qualifies from the first one and a COUNT never stops the scan.
        var skip = rank == Int64.min ? 0 : rank.magnitude - 1
        let wanted = count == -1 ? 1 : (count == 0 || rank == Int64.min ? Int64.max : count)
        var matches: [Int] = []
        var scanned: Int64 = 0
        if wanted > 0 {
            argv[2].withUnsafeBytes { target in
                l.forEach(in: 0..<l.count, reverse: fromTail) { i, e in
                    if Bytes.equal(e, target) {
                        if skip == 0 { matches.append(i) } else { skip -= 1 }
                    }
                    scanned += 1
                    return Int64(matches.count) < wanted && (maxLen == 0 || scanned < maxLen)
                }
            }
        }
        if count != -1 {
            reply.arrayHeader(matches.count)
            for m in matches { reply.integer(m) }
        } else if let m = matches.first {
            reply.integer(m)
        } else {
            reply.null()
        }
    }
}
