// List values (LPUSH and friends).
//
// A quicklist, as in Redis: a deque of nodes, each a packed run of elements in one malloc'd
// buffer, so a list of short elements costs about two bytes per element beyond the bytes
// themselves (an array of Bytes cost 24 plus a heap block for elements over 22 bytes).
//
//   ring of nodes   [ n0 ][ n1 ][ n2 ]            O(1) push/pop of whole nodes at both ends
//                     │                          (a list of one node keeps it in `solo`, no ring)
//   node buffer     [ free ][ e ][ e ][ e ][ free ]
//                           ^start        ^end     elements between start and end
//
//   entry := len payload backlen
//   len     LEB128 varint of the payload's byte count (1 byte up to 127)
//   backlen the same digits written backwards (least significant byte last), so an entry
//           can be stepped over from either end, like listpack's backlen
//
// A node keeps free space on the side it grows from, so pushing or popping at either end of
// the list is O(1) amortized (Redis moves the whole listpack on every LPUSH). A node takes
// elements while it stays within list-max-listpack-size, read when the list is created as
// Redis's quicklistSetOptions does: -1…-5 cap a node at 4/8/16/32/64 KiB of entries, a positive
// value caps the element count (with the 8 KiB safety limit); one element always fits an empty
// node. Inserting in the middle splits a node that outgrows the cap; removing merges a node
// that falls under half the cap into a neighbour when the two fit in one.
//
// Access by index walks node counts from the nearer end and then entries inside one node, so
// LINDEX/LSET are O(nodes + node size) as in Redis; LRANGE, LPOS, LREM and LINSERT iterate.
//
// Redis 7.0 reports every list as "quicklist" (7.2 added a listpack form for small lists), so
// OBJECT ENCODING says "quicklist" whatever the size. The RDB writer regroups the elements into
// quicklist-2 nodes of list-max-listpack-size.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: entry encoding

enum ListEntry {
    @inline(__always)
    static func varintSize(_ n: Int) -> Int {
        var size = 1
        var v = n >> 7
        while v != 0 { size += 1; v >>= 7 }
        return size
    }

    /// Bytes an entry with an `n`-byte payload takes.
    @inline(__always)
    static func size(payload n: Int) -> Int { n + 2 * varintSize(n) }

    /// Writes an entry at `p`; returns its size.
    @inline(__always)
    static func write(_ payload: UnsafeRawBufferPointer, at p: UnsafeMutableRawPointer) -> Int {
        let n = payload.count
        let k = varintSize(n)
        var v = n
        for i in 0..<k {
            p.storeBytes(of: UInt8(truncatingIfNeeded: v & 0x7f) | (i < k - 1 ? 0x80 : 0), toByteOffset: i, as: UInt8.self)
            v >>= 7
        }
        if n > 0 { (p + k).copyMemory(from: payload.baseAddress!, byteCount: n) }
        // Backwards: least significant digit last, a continuation bit on every digit that has
        // more (more significant) digits before it.
        v = n
        let back = p + k + n
        for i in 0..<k {
            back.storeBytes(of: UInt8(truncatingIfNeeded: v & 0x7f) | (i < k - 1 ? 0x80 : 0), toByteOffset: k - 1 - i, as: UInt8.self)
            v >>= 7
        }
        return n + 2 * k
    }

    /// The payload of the entry starting at `p`, and the entry's size.
    @inline(__always)
    static func forward(_ p: UnsafeRawPointer) -> (payload: UnsafeRawBufferPointer, size: Int) {
        var i = 0
        var n = 0
        var shift = 0
        while true {
            let b = p.load(fromByteOffset: i, as: UInt8.self)
            i += 1
            n |= Int(b & 0x7f) << shift
            if b < 0x80 { break }
            shift += 7
        }
        return (UnsafeRawBufferPointer(start: p + i, count: n), n + 2 * i)
    }

    /// The size of the entry that ends just before `end`.
    @inline(__always)
    static func sizeBefore(_ end: UnsafeRawPointer) -> Int {
        var i = 1
        var n = 0
        var shift = 0
        while true {
            let b = end.load(fromByteOffset: -i, as: UInt8.self)
            n |= Int(b & 0x7f) << shift
            if b < 0x80 { break }
            shift += 7
            i += 1
        }
        return n + 2 * i
    }
}

// MARK: nodes

/// One packed run of elements. Its buffer is malloc'd (so it can be realloc'd in place).
final class ListNode {
    var base: UnsafeMutableRawPointer?
    var capacity = 0
    var start = 0
    var end = 0
    var count = 0

    var bytes: Int { end - start }

    init() {}

    deinit { free(base) }

    /// A node holding `count` entries already encoded (`entries`), in a buffer of exactly their
    /// size (the snapshot loader, which knows every element before it builds the list).
    init(entries: UnsafeRawBufferPointer, count: Int) {
        if entries.count > 0 {
            base = malloc(entries.count)!
            base!.copyMemory(from: entries.baseAddress!, byteCount: entries.count)
        }
        capacity = entries.count
        end = entries.count
        self.count = count
    }

    /// A node holding a copy of `other`'s entries, with no free space.
    init(copying other: ListNode) {
        if other.bytes > 0 {
            base = malloc(other.bytes)!
            base!.copyMemory(from: other.base! + other.start, byteCount: other.bytes)
        }
        capacity = other.bytes
        end = other.bytes
        count = other.count
    }

    @inline(__always)
    var data: UnsafeMutableRawPointer { base! }

    /// Makes `needed` free bytes at the front (`front`) or the back, growing the buffer when
    /// there is not enough free space in total. New space goes to the side asked for.
    private func makeRoom(_ needed: Int, front: Bool, limit: Int) {
        let used = bytes
        if capacity - used < needed {
            // Doubling up to the node cap keeps pushes amortized O(1); a full node then has
            // little slack. One element bigger than the cap gets exactly its size.
            let grown = Swift.max(used + needed, Swift.min(Swift.max(limit, used + needed), Swift.max(64, capacity * 2)))
            if front || start > 0 {
                let fresh = malloc(grown)!
                let at = front ? grown - used : 0
                if used > 0 { (fresh + at).copyMemory(from: base! + start, byteCount: used) }
                free(base)
                base = fresh
                start = at
            } else {
                base = realloc(base, grown)!
            }
            capacity = grown
            end = start + used
            return
        }
        if front && start < needed {
            let at = capacity - used
            memmove(base! + at, base! + start, used)
            start = at
            end = capacity
        } else if !front && capacity - end < needed {
            memmove(base!, base! + start, used)
            start = 0
            end = used
        }
    }

    /// Gives memory back when a node shrank to under a quarter of its buffer.
    private func shrinkIfSparse() {
        guard capacity > 256 && bytes * 4 < capacity else { return }
        let used = bytes
        let smaller = Swift.max(64, used * 2)
        let fresh = malloc(smaller)!
        let at = (smaller - used) / 2
        if used > 0 { (fresh + at).copyMemory(from: base! + start, byteCount: used) }
        free(base)
        base = fresh
        capacity = smaller
        start = at
        end = at + used
    }

    func pushFront(_ payload: UnsafeRawBufferPointer, limit: Int) {
        let size = ListEntry.size(payload: payload.count)
        makeRoom(size, front: true, limit: limit)
        start -= size
        _ = ListEntry.write(payload, at: data + start)
        count += 1
    }

    func pushBack(_ payload: UnsafeRawBufferPointer, limit: Int) {
        let size = ListEntry.size(payload: payload.count)
        makeRoom(size, front: false, limit: limit)
        end += ListEntry.write(payload, at: data + end)
        count += 1
    }

    func popFront() -> Bytes {
        let e = ListEntry.forward(data + start)
        let out = Bytes(e.payload)
        start += e.size
        count -= 1
        shrinkIfSparse()
        return out
    }

    func popBack() -> Bytes {
        let size = ListEntry.sizeBefore(data + end)
        end -= size
        let out = Bytes(ListEntry.forward(data + end).payload)
        count -= 1
        shrinkIfSparse()
        return out
    }

    /// Byte offset (from `base`) of entry `k`, walking from the nearer end; `end` for `count`.
    func offset(ofEntry k: Int) -> Int {
        if k <= count / 2 {
            var at = start
            for _ in 0..<k { at += ListEntry.forward(data + at).size }
            return at
        }
        var at = end
        for _ in 0..<(count - k) { at -= ListEntry.sizeBefore(data + at) }
        return at
    }

    /// Inserts an entry at byte offset `at` (an entry boundary); returns the offset after the
    /// new entry may have moved the buffer (the entry starts there).
    @discardableResult
    func insert(_ payload: UnsafeRawBufferPointer, at offset: Int, limit: Int) -> Int {
        let size = ListEntry.size(payload: payload.count)
        let before = offset - start
        makeRoom(size, front: false, limit: limit)
        let at = start + before
        if end > at { memmove(data + at + size, data + at, end - at) }
        _ = ListEntry.write(payload, at: data + at)
        end += size
        count += 1
        return at
    }

    /// Removes the entry at byte offset `at`.
    func remove(at offset: Int) {
        let size = ListEntry.forward(data + offset).size
        if offset - start < end - offset - size {
            memmove(data + start + size, data + start, offset - start)
            start += size
        } else {
            memmove(data + offset, data + offset + size, end - offset - size)
            end -= size
        }
        count -= 1
        shrinkIfSparse()
    }

    /// Replaces the payload of the entry at byte offset `at`.
    func replace(at offset: Int, with payload: UnsafeRawBufferPointer, limit: Int) {
        let oldSize = ListEntry.forward(data + offset).size
        let newSize = ListEntry.size(payload: payload.count)
        var at = offset
        if newSize > oldSize {
            let before = offset - start
            makeRoom(newSize - oldSize, front: false, limit: limit)
            at = start + before
        }
        let tail = end - at - oldSize
        if newSize != oldSize && tail > 0 { memmove(data + at + newSize, data + at + oldSize, tail) }
        _ = ListEntry.write(payload, at: data + at)
        end += newSize - oldSize
        if newSize < oldSize { shrinkIfSparse() }
    }

    /// Moves the entries from entry `k` on into a new node, which is returned.
    func split(atEntry k: Int) -> ListNode {
        let at = offset(ofEntry: k)
        let tail = ListNode()
        let n = end - at
        if n > 0 {
            tail.base = malloc(n)!
            tail.base!.copyMemory(from: data + at, byteCount: n)
        }
        tail.capacity = n
        tail.end = n
        tail.count = count - k
        end = at
        count = k
        shrinkIfSparse()
        return tail
    }

    /// Appends all of `other`'s entries.
    func append(_ other: ListNode, limit: Int) {
        guard other.count > 0 else { return }
        let n = other.bytes
        makeRoom(n, front: false, limit: limit)
        (data + end).copyMemory(from: other.data + other.start, byteCount: n)
        end += n
        count += other.count
    }

    /// Removes the first `k` entries.
    func removeFirst(_ k: Int) {
        start = offset(ofEntry: k)
        count -= k
        shrinkIfSparse()
    }

    /// Removes the last `k` entries.
    func removeLast(_ k: Int) {
        end = offset(ofEntry: count - k)
        count -= k
        shrinkIfSparse()
    }

    /// Keeps the entries for which `keep` returns true, in order (compacting in place);
    /// `index` is the list position of the node's first entry.
    func filter(firstIndex index: Int, _ keep: (Int, UnsafeRawBufferPointer) -> Bool) {
        var read = start
        var write = start
        var kept = 0
        for k in 0..<count {
            let e = ListEntry.forward(data + read)
            if keep(index + k, e.payload) {
                if write != read { memmove(data + write, data + read, e.size) }
                write += e.size
                kept += 1
            }
            read += e.size
        }
        end = write
        count = kept
        shrinkIfSparse()
    }
}

// MARK: the list

public final class ListValue {
    // Most lists are short and have one node, so the object is kept to a 64-byte malloc chunk
    // (16 bytes of object header and 40 of fields) and a one-node list has no ring: the node
    // sits in `solo` and the ring is made when a second node comes (its array alone was an
    // 80-byte chunk per list).

    /// The only node of a list that has one (nil otherwise).
    private var solo: ListNode?
    /// The nodes of a list of two or more, a ring: node k is `ring[(head + k) & (ring.count - 1)]`,
    /// k < nodeCount; empty while the list has at most one node.
    private var ring: [ListNode?] = []
    private var head32: Int32 = 0
    private var nodeCount32: Int32 = 0
    public private(set) var count = 0
    /// list-max-listpack-size when the list was created (the config's range is Int32's).
    private let fill32: Int32

    public init(fill: Int = -2) {
        fill32 = Int32(clamping: fill)
    }

    /// list-max-listpack-size when the list was created.
    public var fill: Int { Int(fill32) }

    private var head: Int {
        @inline(__always) get { Int(head32) }
        @inline(__always) set { head32 = Int32(truncatingIfNeeded: newValue) }
    }

    /// Nodes in the list (fewer than 2^31: each holds at least one element in a malloc block).
    private var nodeCount: Int {
        @inline(__always) get { Int(nodeCount32) }
        @inline(__always) set { nodeCount32 = Int32(truncatingIfNeeded: newValue) }
    }

    /// Node cap in entry bytes and in elements (see the header comment), from `fill`.
    private var limitBytes: Int {
        @inline(__always) get { fill32 < 0 ? 4096 << (Swift.min(Int(fill32.magnitude), 5) - 1) : 8192 }
    }
    private var limitCount: Int {
        @inline(__always) get { fill32 < 0 ? Int.max : Int(fill32) }
    }

    /// A list of `count` elements already encoded as entries, end to end in `entries` (the
    /// snapshot loader): split into nodes where pushing them one by one would start a new node,
    /// each buffer exactly its entries' size.
    init(entries: UnsafeRawBufferPointer, count: Int, fill: Int) {
        fill32 = Int32(clamping: fill)
        guard count > 0, let p = entries.baseAddress else { return }
        let limitBytes = self.limitBytes, limitCount = self.limitCount
        var nodeStart = 0, nodeElements = 0, at = 0
        while at < entries.count {
            let size = ListEntry.forward(p + at).size
            // As `allows`: one element always fits an empty node.
            if nodeElements > 0 && (nodeElements >= limitCount || at - nodeStart + size > limitBytes) {
                insertNode(ListNode(entries: UnsafeRawBufferPointer(rebasing: entries[nodeStart..<at]), count: nodeElements),
                           at: nodeCount)
                nodeStart = at
                nodeElements = 0
            }
            at += size
            nodeElements += 1
        }
        insertNode(ListNode(entries: UnsafeRawBufferPointer(rebasing: entries[nodeStart..<at]), count: nodeElements),
                   at: nodeCount)
        self.count = count
    }

    public convenience init<S: Sequence>(_ elements: S, fill: Int = -2) where S.Element == Bytes {
        self.init(fill: fill)
        for e in elements { pushBack(e) }
    }

    public var isEmpty: Bool { count == 0 }
    public var encodingName: String { "quicklist" }
    /// Number of nodes (tests, MEMORY USAGE).
    public var nodeCountForTesting: Int { nodeCount }

    // MARK: the ring of nodes

    @inline(__always)
    private func node(_ k: Int) -> ListNode {
        if nodeCount32 == 1 { return solo.unsafelyUnwrapped }
        return ring[(head + k) & (ring.count - 1)].unsafelyUnwrapped
    }

    /// Runs `body` on node `k` without retaining it (the list holds it). For the push and pop
    /// paths, where Swift otherwise retains the node around every call into it. `body` must
    /// not remove the node from the list.
    @inline(__always)
    private func withNode<R>(_ k: Int, _ body: (ListNode) -> R) -> R {
        Unmanaged.passUnretained(node(k))._withUnsafeGuaranteedRef(body)
    }

    private func growRing() {
        let newCapacity = Swift.max(4, ring.count * 2)
        var bigger = [ListNode?](repeating: nil, count: newCapacity)
        for k in 0..<nodeCount { bigger[k] = node(k) }
        ring = bigger
        head = 0
        solo = nil
    }

    private func insertNode(_ n: ListNode, at k: Int) {
        if nodeCount == 0 {
            solo = n
            nodeCount = 1
            return
        }
        if nodeCount == 1 || nodeCount == ring.count { growRing() }   // (from `solo` to a ring)
        let mask = ring.count - 1
        if k == 0 {
            head = (head - 1) & mask
            ring[head] = n
        } else {
            var j = nodeCount
            while j > k { ring[(head + j) & mask] = ring[(head + j - 1) & mask]; j -= 1 }
            ring[(head + k) & mask] = n
        }
        nodeCount += 1
    }

    private func removeNode(at k: Int) {
        if nodeCount == 1 {
            solo = nil
            nodeCount = 0
            return
        }
        let mask = ring.count - 1
        if k == 0 {
            ring[head] = nil
            head = (head + 1) & mask
        } else {
            for j in k..<(nodeCount - 1) { ring[(head + j) & mask] = ring[(head + j + 1) & mask] }
            ring[(head + nodeCount - 1) & mask] = nil
        }
        nodeCount -= 1
        if nodeCount == 1 {
            // Back to one node: it leaves the ring.
            solo = ring[head]
            ring = []
            head = 0
        } else if ring.count > 16 && nodeCount * 4 < ring.count { shrinkRing() }
    }

    private func shrinkRing() {
        var capacity = 4
        while capacity < nodeCount * 2 { capacity <<= 1 }
        var smaller = [ListNode?](repeating: nil, count: capacity)
        for k in 0..<nodeCount { smaller[k] = node(k) }
        ring = smaller
        head = 0
    }

    @inline(__always)
    private func allows(_ n: ListNode, _ payloadCount: Int) -> Bool {
        n.count == 0 || (n.count < limitCount && n.bytes + ListEntry.size(payload: payloadCount) <= limitBytes)
    }

    /// The node holding position `i` and the position of its first element, walking node
    /// counts from the nearer end.
    private func locate(_ i: Int) -> (k: Int, first: Int) {
        if i < count / 2 {
            var first = 0
            var k = 0
            while first + node(k).count <= i { first += node(k).count; k += 1 }
            return (k, first)
        }
        var first = count
        var k = nodeCount
        repeat { k -= 1; first -= node(k).count } while first > i
        return (k, first)
    }

    /// Merges node k into a neighbour when it fell under half the cap and the two fit in one
    /// node; drops it when empty.
    private func rebalance(_ k: Int) {
        let n = node(k)
        if n.count == 0 { removeNode(at: k); return }
        guard n.bytes * 2 < limitBytes else { return }
        if k > 0 {
            let p = node(k - 1)
            if p.bytes + n.bytes <= limitBytes && p.count + n.count <= limitCount {
                p.append(n, limit: limitBytes)
                removeNode(at: k)
                return
            }
        }
        if k + 1 < nodeCount {
            let q = node(k + 1)
            if q.bytes + n.bytes <= limitBytes && q.count + n.count <= limitCount {
                n.append(q, limit: limitBytes)
                removeNode(at: k + 1)
            }
        }
    }

    // MARK: ends

    public var first: Bytes? { count > 0 ? self[0] : nil }
    public var last: Bytes? { count > 0 ? self[count - 1] : nil }

    public func pushFront(_ e: Bytes) {
        e.withUnsafeBytes { p in
            if nodeCount != 0 {
                let pushed = withNode(0) { n in
                    guard allows(n, p.count) else { return false }
                    n.pushFront(p, limit: limitBytes)
                    return true
                }
                if pushed { return }
            }
            let n = ListNode()
            insertNode(n, at: 0)
            n.pushFront(p, limit: limitBytes)
        }
        count += 1
    }

    public func pushBack(_ e: Bytes) {
        e.withUnsafeBytes { p in
            if nodeCount != 0 {
                let pushed = withNode(nodeCount - 1) { n in
                    guard allows(n, p.count) else { return false }
                    n.pushBack(p, limit: limitBytes)
                    return true
                }
                if pushed { return }
            }
            let n = ListNode()
            insertNode(n, at: nodeCount)
            n.pushBack(p, limit: limitBytes)
        }
        count += 1
    }

    public func popFront() -> Bytes? {
        guard count > 0 else { return nil }
        let (e, emptied) = withNode(0) { n in (n.popFront(), n.count == 0) }
        count -= 1
        if emptied { removeNode(at: 0) }
        return e
    }

    public func popBack() -> Bytes? {
        guard count > 0 else { return nil }
        let (e, emptied) = withNode(nodeCount - 1) { n in (n.popBack(), n.count == 0) }
        count -= 1
        if emptied { removeNode(at: nodeCount - 1) }
        return e
    }

    // MARK: positions

    /// The element at position `i` (0 ≤ i < count).
    public subscript(i: Int) -> Bytes {
        get {
            precondition(i >= 0 && i < count)
            let (k, first) = locate(i)
            let n = node(k)
            return Bytes(ListEntry.forward(n.data + n.offset(ofEntry: i - first)).payload)
        }
        set {
            precondition(i >= 0 && i < count)
            let (k, first) = locate(i)
            let n = node(k)
            let j = i - first
            newValue.withUnsafeBytes { n.replace(at: n.offset(ofEntry: j), with: $0, limit: limitBytes) }
            if n.count > 1 && n.bytes > limitBytes {
                // Over the cap: the element gets a node of its own, its neighbours keep theirs
                // (so only a node of one element is ever bigger than the cap).
                if j + 1 < n.count { insertNode(n.split(atEntry: j + 1), at: k + 1) }
                if j > 0 { insertNode(n.split(atEntry: j), at: k + 1) }
            }
        }
    }

    /// Inserts before position `i` (`i == count` appends).
    public func insert(_ e: Bytes, at i: Int) {
        precondition(i >= 0 && i <= count)
        if i == 0 { pushFront(e); return }
        if i == count { pushBack(e); return }
        let (k, first) = locate(i)
        let n = node(k)
        let j = i - first
        e.withUnsafeBytes { p in
            if j == 0 && k > 0 && allows(node(k - 1), p.count) {
                // At a node boundary: append to the previous node if it has room.
                node(k - 1).pushBack(p, limit: limitBytes)
            } else if allows(n, p.count) {
                n.insert(p, at: n.offset(ofEntry: j), limit: limitBytes)
            } else {
                // Full: split at the insertion point and put the element at the front of the
                // second half (or in a node of its own when that half is full too).
                let tail = n.split(atEntry: j)
                insertNode(tail, at: k + 1)
                if allows(tail, p.count) {
                    tail.pushFront(p, limit: limitBytes)
                } else {
                    let single = ListNode()
                    single.pushBack(p, limit: limitBytes)
                    insertNode(single, at: k + 1)
                }
                if n.count == 0 { removeNode(at: k) }
            }
        }
        count += 1
    }

    /// Removes the element at `i`.
    public func remove(at i: Int) {
        precondition(i >= 0 && i < count)
        let (k, first) = locate(i)
        let n = node(k)
        n.remove(at: n.offset(ofEntry: i - first))
        count -= 1
        rebalance(k)
    }

    /// Keeps only positions `range` (LTRIM).
    public func keep(_ range: Range<Int>) {
        if range.isEmpty { removeAll(); return }
        var front = range.lowerBound
        while front > 0 {
            let n = node(0)
            if n.count <= front {
                front -= n.count
                removeNode(at: 0)
            } else {
                n.removeFirst(front)
                front = 0
            }
        }
        var back = count - range.upperBound
        while back > 0 {
            let n = node(nodeCount - 1)
            if n.count <= back {
                back -= n.count
                removeNode(at: nodeCount - 1)
            } else {
                n.removeLast(back)
                back = 0
            }
        }
        count = range.count
        if nodeCount > 0 { rebalance(nodeCount - 1) }
        if nodeCount > 0 { rebalance(0) }
    }

    /// Removes the elements for which `remove` returns true (given position and payload),
    /// keeping the others in order; returns how many went.
    @discardableResult
    public func removeAll(where remove: (Int, UnsafeRawBufferPointer) -> Bool) -> Int {
        var index = 0
        var k = 0
        let before = count
        while k < nodeCount {
            let n = node(k)
            let c = n.count
            n.filter(firstIndex: index) { !remove($0, $1) }
            index += c
            k += 1
        }
        count = 0
        k = 0
        while k < nodeCount {
            count += node(k).count
            k += 1
        }
        // Drop emptied nodes and merge small neighbours, front to back.
        k = 0
        while k < nodeCount {
            let n = node(k)
            if n.count == 0 { removeNode(at: k); continue }
            if k + 1 < nodeCount {
                let q = node(k + 1)
                if q.count > 0 && n.bytes + q.bytes <= limitBytes && n.count + q.count <= limitCount
                    && (n.bytes * 2 < limitBytes || q.bytes * 2 < limitBytes) {
                    n.append(q, limit: limitBytes)
                    removeNode(at: k + 1)
                    continue
                }
            }
            k += 1
        }
        return before - count
    }

    public func removeAll() {
        solo = nil
        ring = []
        head = 0
        nodeCount = 0
        count = 0
    }

    // MARK: iteration

    /// Calls `body` with the position and payload of the elements at `range`, in order
    /// (`reverse`: from the last of the range to the first); stops when `body` returns false.
    /// The payload is valid only during the call; the list must not change meanwhile.
    public func forEach(in range: Range<Int>, reverse: Bool = false,
                        _ body: (Int, UnsafeRawBufferPointer) -> Bool) {
        guard !range.isEmpty else { return }
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        if !reverse {
            var (k, first) = locate(range.lowerBound)
            var n = node(k)
            var at = n.offset(ofEntry: range.lowerBound - first)
            var i = range.lowerBound
            while i < range.upperBound {
                while at == n.end {
                    k += 1
                    n = node(k)
                    at = n.start
                }
                let e = ListEntry.forward(n.data + at)
                if !body(i, e.payload) { return }
                at += e.size
                i += 1
            }
        } else {
            let lastIndex = range.upperBound - 1
            var (k, first) = locate(lastIndex)
            var n = node(k)
            // `at` is the end of the entry to visit next.
            var at = n.offset(ofEntry: lastIndex - first + 1)
            var i = lastIndex
            while i >= range.lowerBound {
                while at == n.start {
                    k -= 1
                    n = node(k)
                    at = n.end
                }
                let size = ListEntry.sizeBefore(n.data + at)
                at -= size
                if !body(i, ListEntry.forward(n.data + at).payload) { return }
                i -= 1
            }
        }
    }

    public var elements: [Bytes] {
        var out: [Bytes] = []
        out.reserveCapacity(count)
        forEach(in: 0..<count) { _, p in out.append(Bytes(p)); return true }
        return out
    }

    /// Checks the structure (tests): node counts add up, no node is empty, and only a node of
    /// one element exceeds the caps. Returns a description of the first violation.
    func structureProblem() -> String? {
        if (solo != nil) != (nodeCount == 1) { return "solo node set with \(nodeCount) nodes" }
        if nodeCount <= 1 && !ring.isEmpty { return "a ring of \(ring.count) with \(nodeCount) nodes" }
        var total = 0
        for k in 0..<nodeCount {
            let n = node(k)
            if n.count == 0 { return "node \(k) is empty" }
            if n.count > 1 && (n.bytes > limitBytes || n.count > limitCount) {
                return "node \(k) holds \(n.count) elements in \(n.bytes) bytes"
            }
            var at = n.start
            for _ in 0..<n.count { at += ListEntry.forward(n.data + at).size }
            if at != n.end { return "node \(k): entries end at \(at), node at \(n.end)" }
            if n.start < 0 || n.end > n.capacity { return "node \(k): bounds \(n.start)..<\(n.end) of \(n.capacity)" }
            total += n.count
        }
        return total == count ? nil : "nodes hold \(total) elements, count is \(count)"
    }

    public func copy() -> ListValue {
        let out = ListValue(fill: fill)
        for k in 0..<nodeCount { out.insertNode(ListNode(copying: node(k)), at: k) }
        out.count = count
        return out
    }

    /// Bytes held: node buffers, node objects (64-byte chunks) and the ring. Like Redis's
    /// MEMORY USAGE of a quicklist, it samples: exact up to 64 nodes, beyond that the first 64
    /// nodes' average times the node count (lazy freeing asks this of every deleted value).
    public var memoryBytes: Int {
        let sampled = Swift.min(nodeCount, 64)
        var nodes = 0
        for k in 0..<sampled { nodes += node(k).capacity + 64 }
        if sampled < nodeCount { nodes = nodes / sampled * nodeCount }
        return ring.count * 8 + nodes
    }
}
