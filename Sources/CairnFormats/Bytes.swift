// Bytes: the one byte-string type for keys and values.
//
// Redis keys and values are arbitrary bytes. Swift's String compares by Unicode canonical
// equivalence ("é" precomposed == "e" + combining accent), so two different Redis keys could
// collide; Bytes compares and orders byte by byte, like memcmp.
//
//   layout (24 bytes, no allocation up to 22 bytes):
//   .small: [ 22 data bytes ][ count ][ tag ]
//   .large: [ Array<UInt8> reference ]              (copy-on-write, amortised append)
//
// Anything short (most keys, counters, flags) lives inline; longer data goes to one heap array.

public struct Bytes: @unchecked Sendable {
    @usableFromInline
    typealias Small = (UInt64, UInt64, UInt32, UInt16, UInt8)

    @usableFromInline
    enum Storage {
        case small(Small)
        case large([UInt8])
    }

    @usableFromInline var storage: Storage

    public static let inlineCapacity = 22

    @inlinable
    public init() { storage = .small((0, 0, 0, 0, 0)) }

    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer) {
        #if _endian(little)
        if buffer.count <= Bytes.inlineCapacity, let base = buffer.baseAddress {
            storage = .small(Bytes.packSmall(base, buffer.count))
            return
        }
        #endif
        if buffer.count <= Bytes.inlineCapacity {
            var small: Small = (0, 0, 0, 0, UInt8(truncatingIfNeeded: buffer.count))
            withUnsafeMutableBytes(of: &small) { dst in
                if let base = buffer.baseAddress, buffer.count > 0 {
                    dst.baseAddress!.copyMemory(from: base, byteCount: buffer.count)
                }
            }
            storage = .small(small)
        } else {
            storage = .large(Array(buffer))
        }
    }

    /// The inline form of `n` ≤ 22 bytes at `p`, built in registers: a few unaligned loads
    /// that stay inside the `n` bytes (overlapping where `n` is not a multiple of the width),
    /// so no byte past the buffer is read and no stack copy is needed. Bytes past `n` are 0.
    @inlinable
    static func packSmall(_ p: UnsafeRawPointer, _ n: Int) -> Small {
        @inline(__always) func load8(_ at: Int) -> UInt64 { p.loadUnaligned(fromByteOffset: at, as: UInt64.self) }
        @inline(__always) func load4(_ at: Int) -> UInt64 { UInt64(p.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        let count = UInt8(truncatingIfNeeded: n)
        if n >= 16 {
            // Positions 16..<n are the top n-16 bytes of the last eight.
            let rest = load8(n &- 8) >> UInt64(8 &* (24 &- n))
            return (load8(0), load8(8), UInt32(truncatingIfNeeded: rest), UInt16(truncatingIfNeeded: rest >> 32), count)
        }
        if n >= 8 {
            return (load8(0), load8(n &- 8) >> UInt64(8 &* (16 &- n)), 0, 0, count)
        }
        if n >= 4 {
            // Two overlapping halves; the shared bytes are equal, so OR joins them.
            return (load4(0) | (load4(n &- 4) << UInt64(8 &* (n &- 4))), 0, 0, 0, count)
        }
        var w: UInt64 = 0
        for i in 0..<n { w |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << UInt64(8 &* i) }
        return (w, 0, 0, 0, count)
    }

    @inlinable
    public init<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        let array = Array(bytes)
        if array.count <= Bytes.inlineCapacity {
            self = array.withUnsafeBytes { Bytes($0) }
        } else {
            storage = .large(array)
        }
    }

    /// Takes ownership of an array without copying when it is too long to inline.
    @inlinable
    public init(array: [UInt8]) {
        if array.count <= Bytes.inlineCapacity {
            self = array.withUnsafeBytes { Bytes($0) }
        } else {
            storage = .large(array)
        }
    }

    @inlinable
    public init(_ string: String) {
        var s = string
        self = s.withUTF8 { Bytes(UnsafeRawBufferPointer($0)) }
    }

    @inlinable
    public init(_ value: Int64) {
        self.init(String(value))
    }

    @inlinable
    public init(_ value: Int) {
        self.init(String(value))
    }

    @inlinable
    public var count: Int {
        switch storage {
        case .small(let s): return Int(s.4)
        case .large(let a): return a.count
        }
    }

    @inlinable
    public var isEmpty: Bool { count == 0 }

    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .small(let s):
            var copy = s
            return try Swift.withUnsafeBytes(of: &copy) { raw in
                try body(UnsafeRawBufferPointer(rebasing: raw[0..<Int(s.4)]))
            }
        case .large(let a):
            return try a.withUnsafeBytes(body)
        }
    }

    @inlinable
    public var array: [UInt8] {
        switch storage {
        case .small: return withUnsafeBytes { Array($0) }
        case .large(let a): return a
        }
    }

    @inlinable
    public subscript(index: Int) -> UInt8 {
        precondition(index >= 0 && index < count, "Bytes index out of range")
        return withUnsafeBytes { $0[index] }
    }

    /// Bytes in [lower, upper); the caller has range-checked.
    @inlinable
    public func slice(_ lower: Int, _ upper: Int) -> Bytes {
        precondition(lower >= 0 && lower <= upper && upper <= count)
        return withUnsafeBytes { Bytes(UnsafeRawBufferPointer(rebasing: $0[lower..<upper])) }
    }

    @inlinable
    public mutating func append(_ other: UnsafeRawBufferPointer) {
        let newCount = count + other.count
        if newCount <= Bytes.inlineCapacity {
            var merged = [UInt8]()
            merged.reserveCapacity(newCount)
            withUnsafeBytes { merged.append(contentsOf: $0) }
            merged.append(contentsOf: other)
            self = Bytes(array: merged)
            return
        }
        switch storage {
        case .large(var a):
            storage = .small((0, 0, 0, 0, 0))  // drop our reference so `a` is uniquely held
            a.append(contentsOf: other)
            storage = .large(a)
        case .small:
            var a = [UInt8]()
            a.reserveCapacity(newCount)
            withUnsafeBytes { a.append(contentsOf: $0) }
            a.append(contentsOf: other)
            storage = .large(a)
        }
    }

    @inlinable
    public mutating func append(_ other: Bytes) {
        other.withUnsafeBytes { append($0) }
    }

    @inlinable
    public mutating func append(contentsOf other: [UInt8]) {
        other.withUnsafeBytes { append($0) }
    }

    /// Mutable access to a heap copy of the bytes; used by SETRANGE, SETBIT and friends.
    @inlinable
    public mutating func withMutableArray<R>(_ body: (inout [UInt8]) throws -> R) rethrows -> R {
        var a: [UInt8]
        switch storage {
        case .small: a = array
        case .large(let existing): a = existing
        }
        storage = .small((0, 0, 0, 0, 0))
        defer { self = Bytes(array: a) }
        return try body(&a)
    }

    /// The bytes as text, for logs and error messages only (invalid UTF-8 is repaired).
    public var debugText: String { withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }

    /// The heap array when the bytes are not stored inline (memory accounting).
    public var heapArray: [UInt8]? {
        if case .large(let a) = storage { return a }
        return nil
    }
}

extension Bytes: Equatable {
    @inlinable
    public static func == (lhs: Bytes, rhs: Bytes) -> Bool {
        #if _endian(little)
        if case .small(let a) = lhs.storage, case .small(let b) = rhs.storage {
            return a.4 == b.4 && smallBytesEqual(a, b, count: Int(a.4))
        }
        #endif
        let n = lhs.count
        if n != rhs.count { return false }
        return lhs.withUnsafeBytes { l in rhs.withUnsafeBytes { r in Bytes.equal(l, r) } }
    }

    /// Compares the first `count` bytes of two inline values word by word, ignoring the bytes
    /// past `count` (which may hold anything). Byte i of a word is its bits 8i..<8i+8 on a
    /// little-endian machine.
    @inlinable
    static func smallBytesEqual(_ a: Small, _ b: Small, count: Int) -> Bool {
        @inline(__always) func low(_ v: UInt64, _ bytes: Int) -> UInt64 {
            bytes >= 8 ? v : bytes <= 0 ? 0 : v & ((1 &<< UInt64(bytes &* 8)) &- 1)
        }
        return low(a.0 ^ b.0, count) == 0
            && low(a.1 ^ b.1, count &- 8) == 0
            && low(UInt64(a.2 ^ b.2), count &- 16) == 0
            && low(UInt64(a.3 ^ b.3), count &- 20) == 0
    }

    @inlinable
    public static func equal(_ l: UnsafeRawBufferPointer, _ r: UnsafeRawBufferPointer) -> Bool {
        if l.count != r.count { return false }
        if l.count == 0 { return true }
        return memcmp(l.baseAddress!, r.baseAddress!, l.count) == 0
    }

    @inlinable
    public func equals(_ raw: UnsafeRawBufferPointer) -> Bool {
        withUnsafeBytes { Bytes.equal($0, raw) }
    }
}

extension Bytes: Hashable {
    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

extension Bytes: Comparable {
    /// memcmp order, shorter first on a common prefix: the order Redis uses for lex ranges.
    @inlinable
    public static func < (lhs: Bytes, rhs: Bytes) -> Bool {
        lhs.withUnsafeBytes { l in rhs.withUnsafeBytes { r in Bytes.compare(l, r) < 0 } }
    }

    @inlinable
    public static func compare(_ l: UnsafeRawBufferPointer, _ r: UnsafeRawBufferPointer) -> Int {
        let n = Swift.min(l.count, r.count)
        if n > 0 {
            let c = memcmp(l.baseAddress!, r.baseAddress!, n)
            if c != 0 { return Int(c) }
        }
        return l.count < r.count ? -1 : (l.count > r.count ? 1 : 0)
    }
}

extension Bytes: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self.init(value) }
}

extension Bytes: CustomStringConvertible {
    public var description: String { debugText }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Array where Element == UInt8 {
    /// `count` zero bytes, filled with memset (a client can ask for 512 MB with SETRANGE or
    /// SETBIT; element-by-element initialisation would take minutes in a debug build).
    public static func zeros(_ count: Int) -> [UInt8] {
        precondition(count >= 0)
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { memset(buffer.baseAddress!, 0, count) }
            initialized = count
        }
    }

    /// Grows the array with zero bytes to `newCount` (no-op when already that long).
    public mutating func zeroExtend(to newCount: Int) {
        guard newCount > count else { return }
        let old = count
        let grown = [UInt8](unsafeUninitializedCapacity: newCount) { buffer, initialized in
            withUnsafeBytes { src in
                if old > 0 { memcpy(buffer.baseAddress!, src.baseAddress!, old) }
            }
            memset(buffer.baseAddress! + old, 0, newCount - old)
            initialized = newCount
        }
        self = grown
    }
}
