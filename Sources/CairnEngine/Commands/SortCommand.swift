// SORT and SORT_RO over lists, sets and sorted sets, as Redis 7.0's sortCommandGeneric:
//
//   SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
//            [STORE destination]
//
// Elements are compared as numbers (C strtod of the element or of the BY key's value; ties
// broken by the element bytes) or, with ALPHA, as bytes. A BY pattern without '*' means "do
// not sort": lists and sorted sets keep their order, sets too unless STORE is given (then they
// are sorted ALPHA so the stored result, and so its effect, is deterministic). Patterns
// substitute the element for the first '*'; "->field" after it reads a hash field; "#" is
// the element itself. STORE writes a list (or deletes the destination when the result is
// empty) and is propagated as the command itself.
//
// ALPHA compares bytes (memcmp); Redis uses strcoll, which is the same in the C locale the
// server normally runs in.

extension Engine {
    func registerSortCommands() {
        commands.register(CommandSpec("sort", arity: -2, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "generic",
                                      summary: "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.",
                                      since: "1.0.0", complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).") { c in
            c.sortCommand(readonly: false)
        })
        commands.register(CommandSpec("sort_ro", arity: -2, flags: [.readonly], keys: (1, 1, 1), group: "generic",
                                      summary: "Returns the sorted elements of a list, a set, or a sorted set.",
                                      since: "7.0.0", complexity: "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).") { c in
            c.sortCommand(readonly: true)
        })
    }
}

/// C's strtod over the whole argument (leading spaces allowed, an empty string is 0); nil
/// when something is left over, the value overflows or it is NaN, as SORT checks it.
func parseSortScore(_ b: Bytes) -> Double? {
    b.withUnsafeBytes { s in
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: s.count + 1) { buf -> Double? in
            let base = buf.baseAddress!
            if let src = s.baseAddress, s.count > 0 {
                UnsafeMutableRawPointer(base).copyMemory(from: src, byteCount: s.count)
            }
            base[s.count] = 0
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let v = strtod(base, &end)
            guard let end, end.pointee == 0, errno != ERANGE, !v.isNaN else { return nil }
            return v
        }
    }
}

extension CommandCall {
    /// The value a SORT pattern names for `element`: "#" is the element; otherwise the first
    /// '*' is replaced by the element and the string key read, or with "->field" after the
    /// '*', that field of the hash. nil when there is no such key, field or no '*'.
    mutating func sortLookup(_ pattern: Bytes, _ element: Bytes) -> Bytes? {
        let p = pattern.array
        if p == [UInt8(ascii: "#")] { return element }
        guard let star = p.firstIndex(of: UInt8(ascii: "*")) else { return nil }
        var fieldStart: Int? = nil
        if star + 1 < p.count {
            var i = star + 1
            while i + 1 < p.count {
                if p[i] == UInt8(ascii: "-") && p[i + 1] == UInt8(ascii: ">") {
                    if i + 2 < p.count { fieldStart = i }
                    break
                }
                i += 1
            }
        }
        let postfixEnd = fieldStart ?? p.count
        var key = Array(p[0..<star])
        key.append(contentsOf: element.array)
        key.append(contentsOf: p[(star + 1)..<postfixEnd])
        guard let e = lookupRead(Bytes(array: key)) else { return nil }
        if let fs = fieldStart {
            guard case .hash(let h) = e.value else { return nil }
            return h.get(Bytes(p[(fs + 2)...]))
        }
        switch e.value {
        case .string(let b): return b
        case .int(let v): return Bytes(v)
        default: return nil
        }
    }

    mutating func sortCommand(readonly: Bool) {
        var desc = false, alpha = false, dontSort = false
        var limitStart: Int64 = 0, limitCount: Int64 = -1
        var sortBy: Bytes? = nil
        var store: Bytes? = nil
        var gets: [Bytes] = []
        var j = 2
        while j < argv.count {
            let left = argv.count - j - 1
            let a = argv[j]
            if a.isKeyword("asc") { desc = false }
            else if a.isKeyword("desc") { desc = true }
            else if a.isKeyword("alpha") { alpha = true }
            else if a.isKeyword("limit") && left >= 2 {
                guard let s = int(j + 1), let n = int(j + 2) else { return }
                limitStart = s
                limitCount = n
                j += 2
            } else if !readonly && a.isKeyword("store") && left >= 1 {
                store = argv[j + 1]
                j += 1
            } else if a.isKeyword("by") && left >= 1 {
                sortBy = argv[j + 1]
                if !argv[j + 1].array.contains(UInt8(ascii: "*")) { dontSort = true }
                j += 1
            } else if a.isKeyword("get") && left >= 1 {
                gets.append(argv[j + 1])
                j += 1
            } else {
                syntaxError()
                return
            }
            j += 1
        }

        // The elements, in the collection's own order.
        var elements: [Bytes] = []
        var isSet = false
        if let e = lookupRead(argv[1]) {
            switch e.value {
            case .list(let l): elements = l.elements
            case .set(let s): elements = s.members; isSet = true
            case .zset(let z): elements = z.elements.map { $0.member }
            default: wrongType(); return
            }
        }
        if dontSort && isSet && store != nil {
            dontSort = false
            alpha = true
            sortBy = nil
        }

        let count = Int64(elements.count)
        var start = limitStart < 0 ? 0 : limitStart
        var end = limitCount < 0 ? count - 1 : start &+ limitCount &- 1
        if start >= count {
            start = count - 1
            end = count - 2
        }
        if end >= count { end = count - 1 }

        var ordered: [Bytes]
        if dontSort {
            ordered = desc && !isSet ? elements.reversed() : elements
        } else {
            // Precompute the sort keys, then a stable sort (glibc's qsort is a merge sort).
            var scores: [Double] = []
            var keys: [Bytes?] = []
            if alpha {
                if let by = sortBy { keys = elements.map { sortLookup(by, $0) } }
            } else {
                scores.reserveCapacity(elements.count)
                for el in elements {
                    let source = sortBy.map { sortLookup($0, el) } ?? el
                    guard let text = source else { scores.append(0); continue }
                    guard let v = parseSortScore(text) else {
                        error("ERR One or more scores can't be converted into double")
                        return
                    }
                    scores.append(v)
                }
            }
            let byPattern = sortBy != nil
            var order = Array(0..<elements.count)
            order.sort { x, y in
                var cmp: Int
                if !alpha {
                    if scores[x] > scores[y] { cmp = 1 }
                    else if scores[x] < scores[y] { cmp = -1 }
                    else { cmp = elements[x] < elements[y] ? -1 : (elements[y] < elements[x] ? 1 : 0) }
                } else if byPattern {
                    switch (keys[x], keys[y]) {
                    case (nil, nil): cmp = 0
                    case (nil, _): cmp = -1
                    case (_, nil): cmp = 1
                    case (let a?, let b?): cmp = a < b ? -1 : (b < a ? 1 : 0)
                    }
                } else {
                    cmp = elements[x] < elements[y] ? -1 : (elements[y] < elements[x] ? 1 : 0)
                }
                if desc { cmp = -cmp }
                return cmp < 0
            }
            ordered = order.map { elements[$0] }
        }
        let selected = end >= start && start >= 0 ? Array(ordered[Int(start)...Int(end)]) : []

        if let dst = store {
            let out = engine.newList()
            for el in selected {
                if gets.isEmpty { out.pushBack(el); continue }
                for g in gets { out.pushBack(sortLookup(g, el) ?? Bytes()) }
            }
            storeResult(dst, .list(out), isEmpty: out.isEmpty)
            reply.integer(out.count)
            return
        }
        reply.arrayHeader(gets.isEmpty ? selected.count : selected.count * gets.count)
        for el in selected {
            if gets.isEmpty { reply.bulk(el); continue }
            for g in gets {
                if let v = sortLookup(g, el) { reply.bulk(v) } else { reply.null() }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
