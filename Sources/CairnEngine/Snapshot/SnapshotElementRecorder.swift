// SnapshotElementRecorder: the parsing stage's value sink in a pipelined start-up load. It writes
// each key's elements, flat, into the batch's arena, and answers the reader's "seen already?"
// questions itself; the building stage (on the process's main thread) later replays the
// elements into a SnapshotValueBuilder.
//
// Why split parsing from building: building allocates (entries, values, nodes), and glibc grows
// the heap of a thread's own arena by one mprotect call per page, so every allocation of the
// load stays on the main thread, whose arena grows with brk. Parsing allocates nothing (the
// arenas are reused batch after batch), so it runs on a thread of its own.
//
// An arena, per key (after its key bytes):
//
//   string   the value's bytes
//   list     element*                          element = length (8 bytes LE) + bytes
//   set      [mark] element*                    mark = 8 bytes FF: an RDB listpack (type 20)
//   hash     (field element, value element)*
//   zset     (member element, score)*          score = a Double's 8 bytes LE
//
// A key whose elements grow past `flatBytesMax` stops being recorded: what was recorded is
// replayed into a builder of this stage's own, which takes the rest directly (and answers the
// duplicate questions), and the key leaves this stage as a finished entry. So a huge value is
// never held twice, and allocates on this thread only for the rare keys that big.
//
// Duplicates are decided by bytes, as SnapshotValueBuilder decides them (its integer sets hold
// only canonical integers, whose text is unique), so the reader fails at the same element with
// the same error either way.

import CairnFormats

/// Bytes end to end in one buffer of our own (no copy-on-write, no reference count): a batch's
/// keys and recorded elements. Owned by one LoadBatch, which frees it; lent to the recorder by
/// swapping while a batch is filled.
struct ByteArena {
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var count = 0
    private var capacity = 0

    /// Appends bytes; returns where they start.
    @discardableResult
    mutating func append(_ bytes: UnsafeRawBufferPointer) -> Int {
        let at = count
        reserve(bytes.count)
        if let src = bytes.baseAddress, bytes.count > 0 {
            (base! + count).copyMemory(from: src, byteCount: bytes.count)
        }
        count += bytes.count
        return at
    }

    /// Appends an element: its length, then its bytes. Returns where it starts.
    @discardableResult
    mutating func appendElement(_ bytes: UnsafeRawBufferPointer) -> Int {
        let at = count
        reserve(8 + bytes.count)
        (base! + count).storeBytes(of: UInt64(bytes.count).littleEndian, as: UInt64.self)
        if let src = bytes.baseAddress, bytes.count > 0 {
            (base! + count + 8).copyMemory(from: src, byteCount: bytes.count)
        }
        count += 8 + bytes.count
        return at
    }

    /// The length field that marks a set recorded from an RDB listpack (no element is that long).
    static let listpackSetMark = UInt64.max

    /// Records that the set that just began is an RDB listpack (before its elements).
    mutating func appendListpackSetMark() {
        reserve(8)
        (base! + count).storeBytes(of: ByteArena.listpackSetMark.littleEndian, as: UInt64.self)
        count += 8
    }

    /// Whether the 8 bytes at `at` are the listpack-set mark.
    func isListpackSetMark(at: Int) -> Bool {
        UInt64(littleEndian: (base! + at).loadUnaligned(as: UInt64.self)) == ByteArena.listpackSetMark
    }

    mutating func appendDouble(_ d: Double) {
        reserve(8)
        (base! + count).storeBytes(of: d.bitPattern.littleEndian, as: UInt64.self)
        count += 8
    }

    @inline(__always)
    private mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(n) }
    }

    private mutating func grow(_ n: Int) {
        let bigger = max(64 * 1024, 2 * capacity, count + n)
        let grown = UnsafeMutableRawPointer.allocate(byteCount: bigger, alignment: 8)
        if let old = base {
            grown.copyMemory(from: old, byteCount: count)
            old.deallocate()
        }
        base = grown
        capacity = bigger
    }

    mutating func truncate(to n: Int) { count = min(count, n) }

    func bytes(at: Int, count n: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base.map { $0 + at }, count: n)
    }

    /// The element recorded at `at`, and where the next one starts.
    @inline(__always)
    func element(at: Int) -> (bytes: UnsafeRawBufferPointer, next: Int) {
        let p = base! + at
        let n = Int(UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
        return (UnsafeRawBufferPointer(start: p + 8, count: n), at + 8 + n)
    }

    @inline(__always)
    func double(at: Int) -> Double {
        Double(bitPattern: UInt64(littleEndian: (base! + at).loadUnaligned(as: UInt64.self)))
    }

    /// Frees the buffer (the owner's deinit).
    mutating func free() {
        base?.deallocate()
        base = nil
        count = 0
        capacity = 0
    }
}

/// The elements of one key seen so far (set members, hash fields, zset members), by bytes:
/// a scan of the first few, then an open-addressing table over their arena offsets. Plain
/// buffers of its own (no reference counting on the parsing thread's hot path); the owner
/// frees them.
struct RecordedElementIndex {
    /// Arena offsets of the elements, in order.
    private var offsets: UnsafeMutablePointer<Int>
    private var count = 0
    private var offsetsCapacity = 64
    /// Offset + 1 of an element, 0 for an empty slot; used once `count` is past `scanMax`.
    private var table: UnsafeMutablePointer<Int>?
    private var tableCapacity = 0
    let seed: SipHashSeed
    static let scanMax = 16

    init(seed: SipHashSeed) {
        self.seed = seed
        offsets = .allocate(capacity: offsetsCapacity)
    }

    mutating func free() {
        offsets.deallocate()
        table?.deallocate()
        table = nil
    }

    mutating func reset() {
        count = 0
        tableCapacity = 0   // the table's memory is kept for the next big key
    }

    @inline(__always)
    private static func equal(_ e: UnsafeRawBufferPointer, _ at: Int, _ arena: ByteArena) -> Bool {
        let stored = arena.element(at: at).bytes
        let n = e.count
        guard stored.count == n else { return false }
        guard n > 0 else { return true }
        let x = stored.baseAddress!, y = e.baseAddress!
        // Up to 16 bytes by two overlapping word loads (no memcmp call: most fields and
        // members are that short); the last bytes first, since members and fields of one key
        // tend to share a prefix and differ at the end ("member-1041", "member-1042").
        if n >= 8 {
            if x.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) != y.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) {
                return false
            }
            if n <= 16 { return x.loadUnaligned(as: UInt64.self) == y.loadUnaligned(as: UInt64.self) }
            return memcmp(x, y, n - 8) == 0
        }
        if n >= 4 {
            return x.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self) == y.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
                && x.loadUnaligned(as: UInt32.self) == y.loadUnaligned(as: UInt32.self)
        }
        for i in 0..<n where x.load(fromByteOffset: i, as: UInt8.self) != y.load(fromByteOffset: i, as: UInt8.self) {
            return false
        }
        return true
    }

    func contains(_ e: UnsafeRawBufferPointer, in arena: ByteArena) -> Bool {
        if tableCapacity == 0 {
            for i in 0..<count where Self.equal(e, offsets[i], arena) { return true }
            return false
        }
        let t = table!
        let mask = tableCapacity - 1
        var i = Int(truncatingIfNeeded: sipHash13(e, seed: seed)) & mask
        while t[i] != 0 {
            if Self.equal(e, t[i] - 1, arena) { return true }
            i = (i + 1) & mask
        }
        return false
    }

    /// Adds the element recorded at `at` (not in the index yet).
    mutating func add(_ at: Int, in arena: ByteArena) {
        if count == offsetsCapacity {
            let bigger = UnsafeMutablePointer<Int>.allocate(capacity: 2 * offsetsCapacity)
            bigger.moveInitialize(from: offsets, count: count)
            offsets.deallocate()
            offsets = bigger
            offsetsCapacity *= 2
        }
        offsets[count] = at
        count += 1
        if tableCapacity == 0 {
            if count > Self.scanMax { rebuild(capacity: 64, arena) }
        } else if count * 2 > tableCapacity {
            rebuild(capacity: 2 * tableCapacity, arena)
        } else {
            place(at, arena)
        }
    }

    private mutating func rebuild(capacity: Int, _ arena: ByteArena) {
        if table == nil || capacity > allocatedTableCapacity {
            table?.deallocate()
            table = .allocate(capacity: capacity)
            allocatedTableCapacity = capacity
        }
        table!.initialize(repeating: 0, count: capacity)
        tableCapacity = capacity
        for i in 0..<count { place(offsets[i], arena) }
    }
    private var allocatedTableCapacity = 0

    private func place(_ at: Int, _ arena: ByteArena) {
        let t = table!
        let mask = tableCapacity - 1
        var i = Int(truncatingIfNeeded: sipHash13(arena.element(at: at).bytes, seed: seed)) & mask
        while t[i] != 0 { i = (i + 1) & mask }
        t[i] = at + 1
    }
}

final class SnapshotElementRecorder: RDBValueSink {
    /// The most bytes one key's elements may take in a batch before the key is built here.
    static let flatBytesMax = 1 << 20

    let limits: CollectionLimits
    /// The batch's arena while a batch is filled (SnapshotDecoder swaps it in and out).
    var arena = ByteArena()
    private var members: RecordedElementIndex

    private(set) var kind = RDBValueKind.string
    private(set) var countHint: Int?
    /// Where the current key's elements start in the arena.
    private(set) var elementsAt = 0
    /// Set when the value holds something the engine cannot (hash fields with a TTL).
    private(set) var unsupported: ValueCodec.UnsupportedValue?
    /// Set once the current key outgrew `flatBytesMax`: it is built here.
    private(set) var direct: SnapshotValueBuilder?
    private var spareBuilder: SnapshotValueBuilder?

    init(limits: CollectionLimits) {
        self.limits = limits
        self.members = RecordedElementIndex(seed: limits.seed)
        super.init()
    }

    deinit {
        arena.free()
        members.free()
    }

    override func begin(kind: RDBValueKind, countHint: Int?) {
        self.kind = kind
        self.countHint = countHint
        elementsAt = arena.count
        unsupported = nil
        direct = nil
        members.reset()
    }

    override func string(_ value: UnsafeRawBufferPointer) {
        if value.count > SnapshotElementRecorder.flatBytesMax {
            buildHere()
            direct!.string(value)
            return
        }
        arena.append(value)
    }

    override func listElement(_ element: UnsafeRawBufferPointer) {
        if let d = direct { d.listElement(element); return }
        arena.appendElement(element)
        checkSize()
    }

    override func setIsListpack() {
        if let d = direct { d.setIsListpack(); return }
        arena.appendListpackSetMark()
    }

    override func setMember(_ member: UnsafeRawBufferPointer) -> Bool {
        if let d = direct { return d.setMember(member) }
        if members.contains(member, in: arena) { return false }
        members.add(arena.appendElement(member), in: arena)
        checkSize()
        return true
    }

    override func hashField(_ field: UnsafeRawBufferPointer) -> Bool {
        if let d = direct { return d.hashField(field) }
        if members.contains(field, in: arena) { return false }
        members.add(arena.appendElement(field), in: arena)
        return true
    }

    override func hashValue(_ value: UnsafeRawBufferPointer, expireAtMs: Int64?) {
        if expireAtMs != nil && unsupported == nil {
            unsupported = ValueCodec.UnsupportedValue(kind: .hash, detail: ValueCodec.hashFieldTTLDetail)
        }
        if let d = direct { d.hashValue(value, expireAtMs: expireAtMs); return }
        arena.appendElement(value)
        checkSize()   // after the pair: a switch never splits a field from its value
    }

    override func zsetMember(_ member: UnsafeRawBufferPointer) -> Bool {
        if let d = direct { return d.zsetMember(member) }
        if members.contains(member, in: arena) { return false }
        members.add(arena.appendElement(member), in: arena)
        return true
    }

    override func zsetScore(_ score: Double) {
        if let d = direct { d.zsetScore(score); return }
        arena.appendDouble(score)
        checkSize()
    }

    @inline(__always)
    private func checkSize() {
        if arena.count - elementsAt > SnapshotElementRecorder.flatBytesMax { buildHere() }
    }

    /// From here on the key is built on this thread: what was recorded goes into a builder,
    /// and leaves the arena.
    private func buildHere() {
        let b = spareBuilder ?? SnapshotValueBuilder(limits: limits)
        spareBuilder = b
        b.begin(kind: kind, countHint: countHint)
        Self.replay(arena.bytes(at: elementsAt, count: arena.count - elementsAt), startingAt: elementsAt,
                    in: arena, kind: kind, into: b)
        arena.truncate(to: elementsAt)
        direct = b
    }

    /// Feeds recorded elements (`region`, at arena offset `start`) to a builder that has had
    /// `begin`. Duplicates were refused when they were recorded, so every answer is yes.
    static func replay(_ region: UnsafeRawBufferPointer, startingAt start: Int, in arena: ByteArena,
                       kind: RDBValueKind, into b: SnapshotValueBuilder) {
        let end = start + region.count
        var at = start
        switch kind {
        case .string:
            b.string(region)
        case .list:
            while at < end {
                let e = arena.element(at: at)
                b.listElement(e.bytes)
                at = e.next
            }
        case .set:
            if at < end && arena.isListpackSetMark(at: at) {
                b.setIsListpack()
                at += 8
            }
            while at < end {
                let e = arena.element(at: at)
                _ = b.setMember(e.bytes)
                at = e.next
            }
        case .hash:
            // The packed size first, so a hash that stays packed gets its buffer in one
            // allocation of exactly its size.
            var packedBytes = 0
            while at < end {
                let e = arena.element(at: at)
                packedBytes += PackedList.entrySize(e.bytes.count)
                at = e.next
            }
            b.packedBytesHint = packedBytes
            at = start
            while at < end {
                let f = arena.element(at: at)
                _ = b.hashField(f.bytes)
                let v = arena.element(at: f.next)
                b.hashValue(v.bytes, expireAtMs: nil)
                at = v.next
            }
        case .zset:
            var packedBytes = 0
            while at < end {
                let m = arena.element(at: at)
                packedBytes += PackedList.entrySize(m.bytes.count)
                    + ZSetValue.withScoreEntry(arena.double(at: m.next)) { PackedList.entrySize($0.count) }
                at = m.next + 8
            }
            b.packedBytesHint = packedBytes
            at = start
            while at < end {
                let m = arena.element(at: at)
                _ = b.zsetMember(m.bytes)
                b.zsetScore(arena.double(at: m.next))
                at = m.next + 8
            }
        case .stream, .module:
            break   // never recorded
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
