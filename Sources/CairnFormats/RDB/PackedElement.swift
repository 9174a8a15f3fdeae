// Shared pieces of the embedded blob formats (listpack, ziplist, zipmap, intset).

/// One element of a listpack or ziplist: blobs store integers in binary, everything else as bytes.
/// Redis hands integers back to clients as their decimal text, and so does `bytes`.
public enum PackedElement: Equatable, Sendable {
    case int(Int64)
    case bytes(Bytes)

    /// The element as Redis returns it: integers as canonical decimal text.
    public var asBytes: Bytes {
        switch self {
        case .int(let v): return DecimalText.bytes(v)
        case .bytes(let b): return b
        }
    }

    /// Runs `body` on the element as Redis returns it, without building a `Bytes`.
    @inline(__always)
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .bytes(let b): return try b.withUnsafeBytes(body)
        case .int(let v): return try DecimalText.withBytes(v, body)
        }
    }
}

/// An element of a listpack or ziplist seen in place, for walks that want no copy: an integer,
/// or bytes borrowed from the blob (valid only inside the callback that received them).
public struct PackedRef {
    /// The element's bytes; nil when it is an integer.
    public let bytes: UnsafeRawBufferPointer?
    /// The integer (0 when `bytes` is set).
    public let int: Int64

    @inline(__always)
    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.int = 0
    }

    @inline(__always)
    init(int: Int64) {
        self.bytes = nil
        self.int = int
    }

    /// The element as an owned value.
    public var element: PackedElement {
        if let b = bytes { return .bytes(Bytes(b)) }
        return .int(int)
    }

    /// Runs `body` on the element as Redis returns it (integers as decimal text).
    @inline(__always)
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let b = bytes { return try body(b) }
        return try DecimalText.withBytes(int, body)
    }
}

/// A structural error inside a blob, at `offset` bytes from the blob's start. The RDB reader
/// turns it into an RDBError with the file offset and the key.
public struct BlobFormatError: Error, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }
    public var description: String { "\(reason) (blob byte \(offset))" }
}

/// Decimal text of integers, and the "canonical integer" test Redis applies before storing a
/// string as an integer (string2ll + round-trip: no sign "+", no leading zeros, no "-0", no
/// spaces, fits in 64 bits).
enum DecimalText {
    /// Runs `body` on the decimal text of `v`, formatted on the stack.
    static func withBytes<R>(_ v: Int64, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buf -> R in
            var n = v.magnitude
            var i = 20
            repeat {
                i -= 1
                buf[i] = UInt8(truncatingIfNeeded: 48 + n % 10)
                n /= 10
            } while n != 0
            if v < 0 {
                i -= 1
                buf[i] = 45  // "-"
            }
            return try body(UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buf)[i..<20]))
        }
    }

    static func bytes(_ v: Int64) -> Bytes {
        withBytes(v) { Bytes($0) }
    }

    /// The integer if `s` is exactly the canonical decimal form of an Int64.
    static func canonicalInt64(_ s: UnsafeRawBufferPointer) -> Int64? {
        let n = s.count
        guard n > 0, n <= 20 else { return nil }
        if n == 1 && s[0] == 48 { return 0 }
        var i = 0
        var negative = false
        if s[0] == 45 {
            negative = true
            i = 1
            guard n > 1 else { return nil }
        }
        guard s[i] >= 49 && s[i] <= 57 else { return nil }  // first digit 1-9
        var magnitude: UInt64 = 0
        while i < n {
            let d = s[i]
            guard d >= 48 && d <= 57 else { return nil }
            let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (m2, o2) = m1.addingReportingOverflow(UInt64(d - 48))
            if o1 || o2 { return nil }
            magnitude = m2
            i += 1
        }
        if negative {
            if magnitude > UInt64(Int64.max) + 1 { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        if magnitude > UInt64(Int64.max) { return nil }
        return Int64(magnitude)
    }

    static func canonicalInt64(_ b: Bytes) -> Int64? {
        b.withUnsafeBytes { canonicalInt64($0) }
    }
}

/// Little-endian loads with explicit bounds (callers check ranges first).
@inline(__always)
func loadLE(_ p: UnsafeRawBufferPointer, _ at: Int, _ width: Int) -> UInt64 {
    var v: UInt64 = 0
    for k in 0..<width { v |= UInt64(p[at + k]) << (8 * UInt64(k)) }
    return v
}

@inline(__always)
func loadBE(_ p: UnsafeRawBufferPointer, _ at: Int, _ width: Int) -> UInt64 {
    var v: UInt64 = 0
    for k in 0..<width { v = (v << 8) | UInt64(p[at + k]) }
    return v
}

@inline(__always)
func appendLE(_ out: inout [UInt8], _ v: UInt64, _ width: Int) {
    for k in 0..<width { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(k)))) }
}

@inline(__always)
func storeLE(_ out: inout [UInt8], at: Int, _ v: UInt64, _ width: Int) {
    for k in 0..<width { out[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
}

/// Two lowercase hex digits, for error messages (no Foundation in this module's hot files).
func hexByte(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}
