// List values (LPUSH and friends).
//
// A growable ring buffer of elements: O(1) push and pop at both ends and O(1) access by
// index (Redis's quicklist is O(N) for LINDEX/LSET); inserting or removing in the middle moves
// the shorter side.
//
//   storage  [ d ][ e ][   ][   ][ a ][ b ][ c ]      capacity 8 (power of two)
//                           head ─┘                   count 5 → a b c d e
//
// Redis 7.0 reports every list as "quicklist" (7.2 added a listpack form for small lists), so
// OBJECT ENCODING says "quicklist" whatever the size. list-max-listpack-size matters to the
// RDB writer, which groups elements into quicklist nodes of that size.

public final class ListValue {
    private var storage: [Bytes]
    private var head = 0
    public private(set) var count = 0

    public init() { storage = [] }

    public init<S: Sequence>(_ elements: S) where S.Element == Bytes {
        storage = []
        let n = elements.underestimatedCount
        if n > 0 {
            // The ring's capacity at once (a power of two), instead of doubling up to it.
            var capacity = 8
            while capacity < n { capacity <<= 1 }
            storage = [Bytes](repeating: Bytes(), count: capacity)
        }
        for e in elements { pushBack(e) }
    }

    public var isEmpty: Bool { count == 0 }
    public var encodingName: String { "quicklist" }

    @inline(__always)
    private func slot(_ i: Int) -> Int { (head + i) & (storage.count - 1) }

    private func grow() {
        let newCapacity = max(8, storage.count * 2)
        var bigger = [Bytes](repeating: Bytes(), count: newCapacity)
        for i in 0..<count { bigger[i] = storage[slot(i)] }
        storage = bigger
        head = 0
    }

    /// Gives memory back when a long list shrank to under a quarter of its capacity.
    private func shrinkIfSparse() {
        guard storage.count > 64 && count * 4 < storage.count else { return }
        var capacity = 8
        while capacity < count * 2 { capacity <<= 1 }
        var smaller = [Bytes](repeating: Bytes(), count: capacity)
        for i in 0..<count { smaller[i] = storage[slot(i)] }
        storage = smaller
        head = 0
    }

    public subscript(i: Int) -> Bytes {
        get { storage[slot(i)] }
        set { storage[slot(i)] = newValue }
    }

    public var first: Bytes? { count > 0 ? self[0] : nil }
    public var last: Bytes? { count > 0 ? self[count - 1] : nil }

    public func pushFront(_ e: Bytes) {
        if count == storage.count { grow() }
        head = (head - 1) & (storage.count - 1)
        storage[head] = e
        count += 1
    }

    public func pushBack(_ e: Bytes) {
        if count == storage.count { grow() }
        storage[slot(count)] = e
        count += 1
    }

    public func popFront() -> Bytes? {
        guard count > 0 else { return nil }
        let e = storage[head]
        storage[head] = Bytes()
        head = (head + 1) & (storage.count - 1)
        count -= 1
        shrinkIfSparse()
        return e
    }

    public func popBack() -> Bytes? {
        guard count > 0 else { return nil }
        let i = slot(count - 1)
        let e = storage[i]
        storage[i] = Bytes()
        count -= 1
        shrinkIfSparse()
        return e
    }

    /// Inserts before position `i` (`i == count` appends).
    public func insert(_ e: Bytes, at i: Int) {
        precondition(i >= 0 && i <= count)
        if i == 0 { pushFront(e); return }
        if i == count { pushBack(e); return }
        if count == storage.count { grow() }
        if i < count / 2 {
            head = (head - 1) & (storage.count - 1)
            for k in 0..<i { storage[slot(k)] = storage[slot(k + 1)] }
        } else {
            var k = count
            while k > i { storage[slot(k)] = storage[slot(k - 1)]; k -= 1 }
        }
        count += 1
        storage[slot(i)] = e
    }

    /// Removes the element at `i`.
    public func remove(at i: Int) {
        precondition(i >= 0 && i < count)
        if i < count / 2 {
            var k = i
            while k > 0 { storage[slot(k)] = storage[slot(k - 1)]; k -= 1 }
            storage[head] = Bytes()
            head = (head + 1) & (storage.count - 1)
        } else {
            for k in i..<(count - 1) { storage[slot(k)] = storage[slot(k + 1)] }
            storage[slot(count - 1)] = Bytes()
        }
        count -= 1
        shrinkIfSparse()
    }

    /// Keeps only positions `range` (LTRIM).
    public func keep(_ range: Range<Int>) {
        if range.isEmpty { removeAll(); return }
        for i in 0..<range.lowerBound { storage[slot(i)] = Bytes() }
        for i in range.upperBound..<count { storage[slot(i)] = Bytes() }
        head = slot(range.lowerBound)
        count = range.count
        shrinkIfSparse()
    }

    /// Keeps the elements for which `keep` returns true, in order; returns how many went.
    @discardableResult
    public func removeAll(where remove: (Int, Bytes) -> Bool) -> Int {
        var kept: [Bytes] = []
        kept.reserveCapacity(count)
        for i in 0..<count {
            let e = self[i]
            if !remove(i, e) { kept.append(e) }
        }
        let removed = count - kept.count
        if removed > 0 {
            storage = []
            head = 0
            count = 0
            for e in kept { pushBack(e) }
        }
        return removed
    }

    public func removeAll() {
        storage = []
        head = 0
        count = 0
    }

    public var elements: [Bytes] {
        var out: [Bytes] = []
        out.reserveCapacity(count)
        for i in 0..<count { out.append(self[i]) }
        return out
    }

    public func copy() -> ListValue { ListValue(elements) }

    public var memoryBytes: Int { storage.count * 24 + count * 8 }
}
