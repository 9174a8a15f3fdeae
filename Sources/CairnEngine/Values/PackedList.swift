// The compact encoding of small hashes and sorted sets (Redis's "listpack"): every element is
// a byte string laid end to end in one buffer, so a 10-field hash is one allocation of a few
// hundred bytes instead of twenty objects.
//
//   entry  := length payload
//   length := LEB128 varint of the payload's byte count (1 byte up to 127)
//
//   [03]['f' 'o' 'o'][01]['1'][03]['b' 'a' 'r'][02]['4' '2']     hash {foo: 1, bar: 42}
//    ^ offset 0        ^ 4     ^ 6                ^ 10
//
// Elements are found by a linear scan from the front; the owners keep these runs short
// (hash-max-listpack-entries / zset-max-listpack-entries) and switch to a real structure
// beyond that. Positions are byte offsets of an entry's length prefix; an offset is valid only
// until the next mutation.
//
// Memory: the buffer is a plain malloc block whose capacity is what malloc_usable_size says,
// grown by an eighth at a time (or exactly, when the owner knows what is coming). Small
// packed values are numerous, so the 32-byte header of an array and the quarter of unused
// capacity a doubling array averages were real memory: 10k hashes of 20 short fields took
// 96 bytes more each. The list is noncopyable (it owns the block); `copy()` duplicates it.
//
// This is Cairn's in-memory form, not the RDB listpack layout (that lives in CairnFormats and
// is produced by the snapshot writer).

#if canImport(Glibc)
import Glibc
import CMalloc
#endif

public struct PackedList: ~Copyable {
    private var base: UnsafeMutableRawPointer?
    /// Bytes of entries (the offset one past the last entry).
    private var used: UInt32 = 0
    /// Number of entries.
    private var entries: UInt32 = 0

    public init() {}

    deinit { free(base) }

    /// A separate copy of the entries (COPY, DUMP of a value).
    public func copy() -> PackedList {
        var out = PackedList()
        if used > 0 {
            out.base = malloc(Int(used))!
            out.base!.copyMemory(from: base!, byteCount: Int(used))
            out.used = used
            out.entries = entries
        }
        return out
    }

    /// Number of entries.
    public var count: Int { Int(entries) }
    public var isEmpty: Bool { entries == 0 }
    /// Offset one past the last entry.
    public var endOffset: Int { Int(used) }

    /// The buffer's usable size.
    private var capacity: Int { base.map { Int(malloc_usable_size($0)) } ?? 0 }

    @inline(__always)
    private var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: Int(used)) }

    // MARK: reading

    /// The LEB128 length prefix at `offset`, and the offset just after it.
    @inline(__always)
    static func readLength(_ p: UnsafeMutableRawPointer, at offset: Int) -> (length: Int, next: Int) {
        var i = offset
        var length = 0
        var shift = 0
        while true {
            let b = p.load(fromByteOffset: i, as: UInt8.self)
            i += 1
            length |= Int(b & 0x7f) << shift
            if b < 0x80 { break }
            shift += 7
        }
        return (length, i)
    }

    /// The payload range and the offset of the next entry for the entry at `offset`.
    @inline(__always)
    func entry(at offset: Int) -> (start: Int, length: Int, next: Int) {
        precondition(offset >= 0 && offset < Int(used))
        let (length, i) = PackedList.readLength(base!, at: offset)
        return (i, length, i + length)
    }

    /// The offset of the entry after the one at `offset`.
    @inline(__always)
    public func next(after offset: Int) -> Int { entry(at: offset).next }

    /// The payload of the entry at `offset`.
    public func bytes(at offset: Int) -> Bytes {
        let e = entry(at: offset)
        return Bytes(UnsafeRawBufferPointer(start: base! + e.start, count: e.length))
    }

    /// Runs `body` on the payload of the entry at `offset` without copying it.
    public func withPayload<R>(at offset: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let e = entry(at: offset)
        return body(UnsafeRawBufferPointer(start: base! + e.start, count: e.length))
    }

    /// The offset of the first entry, among entries 0, stride, 2·stride, …, whose payload
    /// equals `needle`; nil when none does.
    public func find(_ needle: UnsafeRawBufferPointer, stride: Int = 1) -> Int? {
        guard let p = base else { return nil }
        var offset = 0
        var index = 0
        let end = Int(used)
        while offset < end {
            let (length, i) = PackedList.readLength(p, at: offset)
            if index % stride == 0 && length == needle.count
                && (length == 0 || memcmp(p + i, needle.baseAddress!, length) == 0) {
                return offset
            }
            offset = i + length
            index += 1
        }
        return nil
    }

    public func find(_ needle: Bytes, stride: Int = 1) -> Int? {
        needle.withUnsafeBytes { find($0, stride: stride) }
    }

    /// The offset of entry number `index` (0-based); `endOffset` when `index == count`.
    public func offset(ofEntry index: Int) -> Int {
        var offset = 0
        var i = 0
        while i < index { offset = next(after: offset); i += 1 }
        return offset
    }

    /// Calls `body` with each entry's payload in order; stop by returning false.
    public func forEach(_ body: (UnsafeRawBufferPointer) -> Bool) {
        var offset = 0
        while offset < Int(used) {
            let e = entry(at: offset)
            if !body(UnsafeRawBufferPointer(start: base! + e.start, count: e.length)) { return }
            offset = e.next
        }
    }

    /// Every payload as Bytes, in order.
    public var elements: [Bytes] {
        var out: [Bytes] = []
        out.reserveCapacity(count)
        forEach { out.append(Bytes($0)); return true }
        return out
    }

    /// Bytes of memory held (MEMORY USAGE).
    public var memoryBytes: Int { capacity }

    // MARK: writing

    @inline(__always)
    static func lengthPrefix(_ n: Int) -> (bytes: (UInt8, UInt8, UInt8, UInt8, UInt8), count: Int) {
        var v = UInt(n)
        var out: (UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0)
        var k = 0
        withUnsafeMutableBytes(of: &out) { raw in
            repeat {
                var b = UInt8(v & 0x7f)
                v >>= 7
                if v != 0 { b |= 0x80 }
                raw[k] = b
                k += 1
            } while v != 0
        }
        return (out, k)
    }

    /// Bytes an entry with an `n`-byte payload takes.
    @inline(__always)
    public static func entrySize(_ n: Int) -> Int { n + lengthPrefix(n).count }

    /// Writes one entry at `p`; returns its size.
    @inline(__always)
    static func encode(_ payload: UnsafeRawBufferPointer, at p: UnsafeMutableRawPointer) -> Int {
        if payload.count < 0x80 {
            // One length byte (nearly every entry): no prefix buffer and no copy call for it.
            p.storeBytes(of: UInt8(truncatingIfNeeded: payload.count), as: UInt8.self)
            if payload.count > 0 { (p + 1).copyMemory(from: payload.baseAddress!, byteCount: payload.count) }
            return payload.count + 1
        }
        var prefix = lengthPrefix(payload.count)
        withUnsafeBytes(of: &prefix.bytes) { p.copyMemory(from: $0.baseAddress!, byteCount: prefix.count) }
        if payload.count > 0 { (p + prefix.count).copyMemory(from: payload.baseAddress!, byteCount: payload.count) }
        return prefix.count + payload.count
    }

    /// Makes room for `extra` more bytes: an eighth of slack when `exactly` is false (appends
    /// stay amortized O(1)), none when the owner knows everything that is coming.
    private mutating func reserve(extra: Int, exactly: Bool = false) {
        let needed = Int(used) + extra
        precondition(needed <= Int(UInt32.max), "packed value too large")
        if needed <= capacity { return }
        let size = exactly ? needed : Swift.min(needed + needed / 8, Int(UInt32.max))
        base = realloc(base, size)!
    }

    /// Sizes the buffer for exactly `extra` more bytes of entries (a value built by one
    /// command that knows everything it will append).
    public mutating func reserveExactly(extra: Int) {
        reserve(extra: extra, exactly: true)
    }

    public mutating func append(_ payload: UnsafeRawBufferPointer) {
        reserve(extra: PackedList.entrySize(payload.count))
        used += UInt32(PackedList.encode(payload, at: base! + Int(used)))
        entries += 1
    }

    /// Appends an entry into room the caller reserved (`reserveCapacity(bytes:)`) and has not
    /// used yet: no capacity check (a builder of many values skips a malloc_usable_size call
    /// per entry).
    mutating func appendWithinCapacity(_ payload: UnsafeRawBufferPointer) {
        used += UInt32(PackedList.encode(payload, at: base! + Int(used)))
        entries += 1
    }

    public mutating func append(_ payload: Bytes) {
        payload.withUnsafeBytes { append($0) }
    }

    /// Inserts the entries `payloads` before the entry at `offset` (or at the end when
    /// `offset == endOffset`).
    public mutating func insert(_ payloads: [Bytes], at offset: Int) {
        precondition(offset >= 0 && offset <= Int(used))
        var size = 0
        for p in payloads { size += PackedList.entrySize(p.count) }
        reserve(extra: size)
        let p = base!
        memmove(p + offset + size, p + offset, Int(used) - offset)
        var at = offset
        for x in payloads { at += x.withUnsafeBytes { PackedList.encode($0, at: p + at) } }
        used += UInt32(size)
        entries += UInt32(payloads.count)
    }

    /// Removes `entries` consecutive entries starting at `offset`.
    public mutating func remove(at offset: Int, entries n: Int = 1) {
        var end = offset
        for _ in 0..<n { end = next(after: end) }
        memmove(base! + offset, base! + end, Int(used) - end)
        used -= UInt32(end - offset)
        entries -= UInt32(n)
        shrinkIfSparse()
    }

    /// Replaces the payload of the entry at `offset`.
    public mutating func replace(at offset: Int, with payload: Bytes) {
        let old = entry(at: offset)
        let oldSize = old.next - offset
        let newSize = PackedList.entrySize(payload.count)
        if newSize > oldSize { reserve(extra: newSize - oldSize) }
        let p = base!
        if newSize != oldSize { memmove(p + offset + newSize, p + old.next, Int(used) - old.next) }
        _ = payload.withUnsafeBytes { PackedList.encode($0, at: p + offset) }
        used = UInt32(Int(used) + newSize - oldSize)
        if newSize < oldSize { shrinkIfSparse() }
    }

    /// Gives memory back when the entries fill under half the buffer.
    private mutating func shrinkIfSparse() {
        guard let p = base else { return }
        if used == 0 {
            free(p)
            base = nil
            return
        }
        let cap = capacity
        if cap > 64 && Int(used) * 2 < cap {
            base = realloc(p, Int(used) + Int(used) / 8)!
        }
    }

    public mutating func removeAll() {
        free(base)
        base = nil
        used = 0
        entries = 0
    }

    /// Gives back capacity beyond the entries (a value whose building is over, such as a
    /// loaded set that reserved for an estimate).
    public mutating func shrinkToFit() {
        guard let p = base, capacity > Int(used) else { return }
        if used == 0 { removeAll(); return }
        base = realloc(p, Int(used))!
    }

    /// Makes room for `bytes` more bytes of entries (a builder that knows the size).
    public mutating func reserveCapacity(bytes: Int) {
        reserve(extra: bytes, exactly: true)
    }
}
