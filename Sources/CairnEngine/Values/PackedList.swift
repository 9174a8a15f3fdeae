// The compact encoding of small hashes and sorted sets (Redis's "listpack"): every element is
// a byte string laid end to end in one array, so a 10-field hash is one allocation of a few
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
// This is Cairn's in-memory form, not the RDB listpack layout (that lives in CairnFormats and
// is produced by the snapshot writer).

public struct PackedList {
    /// The entries, end to end.
    public private(set) var storage: [UInt8] = []
    /// Number of entries.
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }
    /// Offset one past the last entry.
    @inlinable public var endOffset: Int { storage.count }

    // MARK: reading

    /// The payload range and the offset of the next entry for the entry at `offset`.
    @inline(__always)
    func entry(at offset: Int) -> (start: Int, length: Int, next: Int) {
        storage.withUnsafeBufferPointer { p in
            var i = offset
            var length = 0
            var shift = 0
            while true {
                let b = p[i]
                i += 1
                length |= Int(b & 0x7f) << shift
                if b < 0x80 { break }
                shift += 7
            }
            return (i, length, i + length)
        }
    }

    /// The offset of the entry after the one at `offset`.
    @inline(__always)
    public func next(after offset: Int) -> Int { entry(at: offset).next }

    /// The payload of the entry at `offset`.
    public func bytes(at offset: Int) -> Bytes {
        let e = entry(at: offset)
        return storage.withUnsafeBytes { Bytes(UnsafeRawBufferPointer(rebasing: $0[e.start..<e.start + e.length])) }
    }

    /// Runs `body` on the payload of the entry at `offset` without copying it.
    public func withPayload<R>(at offset: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let e = entry(at: offset)
        return storage.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[e.start..<e.start + e.length])) }
    }

    /// The offset of the first entry, among entries 0, stride, 2·stride, …, whose payload
    /// equals `needle`; nil when none does.
    public func find(_ needle: UnsafeRawBufferPointer, stride: Int = 1) -> Int? {
        storage.withUnsafeBytes { p -> Int? in
            var offset = 0
            var index = 0
            let end = p.count
            while offset < end {
                var i = offset
                var length = 0
                var shift = 0
                while true {
                    let b = p[i]
                    i += 1
                    length |= Int(b & 0x7f) << shift
                    if b < 0x80 { break }
                    shift += 7
                }
                if index % stride == 0 && length == needle.count
                    && (length == 0 || memcmp(p.baseAddress! + i, needle.baseAddress!, length) == 0) {
                    return offset
                }
                offset = i + length
                index += 1
            }
            return nil
        }
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
        storage.withUnsafeBytes { p in
            var offset = 0
            while offset < p.count {
                let e = entry(at: offset)
                if !body(UnsafeRawBufferPointer(rebasing: p[e.start..<e.start + e.length])) { return }
                offset = e.next
            }
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
    public var memoryBytes: Int { storage.capacity }

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

    /// The encoded form of one entry.
    static func encode(_ payload: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        var prefix = lengthPrefix(payload.count)
        withUnsafeBytes(of: &prefix.bytes) { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[0..<prefix.count])) }
        out.append(contentsOf: payload)
    }

    public mutating func append(_ payload: UnsafeRawBufferPointer) {
        PackedList.encode(payload, into: &storage)
        count += 1
    }

    public mutating func append(_ payload: Bytes) {
        payload.withUnsafeBytes { append($0) }
    }

    /// Inserts the entries `payloads` before the entry at `offset` (or at the end when
    /// `offset == endOffset`).
    public mutating func insert(_ payloads: [Bytes], at offset: Int) {
        var encoded: [UInt8] = []
        for p in payloads { p.withUnsafeBytes { PackedList.encode($0, into: &encoded) } }
        storage.insert(contentsOf: encoded, at: offset)
        count += payloads.count
    }

    /// Removes `entries` consecutive entries starting at `offset`.
    public mutating func remove(at offset: Int, entries: Int = 1) {
        var end = offset
        for _ in 0..<entries { end = next(after: end) }
        storage.removeSubrange(offset..<end)
        count -= entries
    }

    /// Replaces the payload of the entry at `offset`.
    public mutating func replace(at offset: Int, with payload: Bytes) {
        let old = entry(at: offset)
        var encoded: [UInt8] = []
        payload.withUnsafeBytes { PackedList.encode($0, into: &encoded) }
        storage.replaceSubrange(offset..<old.next, with: encoded)
    }

    public mutating func removeAll() {
        storage = []
        count = 0
    }

    /// Makes room for `bytes` more bytes of entries (a builder that knows the size).
    public mutating func reserveCapacity(bytes: Int) {
        storage.reserveCapacity(storage.count + bytes)
    }
}

#if canImport(Glibc)
import Glibc
#endif
