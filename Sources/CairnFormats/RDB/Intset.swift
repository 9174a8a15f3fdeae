// Intset: the sorted integer array of small all-integer sets (intset.h), RDB type 11. Layout:
//
//   <encoding u32 LE: 2, 4 or 8> <length u32 LE> <length elements, ascending, LE signed>

public enum Intset {
    public static let headerSize = 8

    /// Validates the intset (encoding, exact size, strictly ascending) and calls `body` with each
    /// element.
    public static func forEach(_ blob: UnsafeRawBufferPointer, _ body: (Int64) throws -> Void) throws {
        let size = blob.count
        guard size >= headerSize else {
            throw BlobFormatError(offset: 0, reason: "intset of \(size) bytes is shorter than its header")
        }
        let width = Int(loadLE(blob, 0, 4))
        guard width == 2 || width == 4 || width == 8 else {
            throw BlobFormatError(offset: 0, reason: "invalid intset encoding \(width)")
        }
        let count = Int(loadLE(blob, 4, 4))
        let (bodyBytes, overflow) = count.multipliedReportingOverflow(by: width)
        guard !overflow, bodyBytes == size - headerSize else {
            throw BlobFormatError(offset: 4, reason: "intset of \(count) x \(width)-byte elements does not fill \(size) bytes")
        }
        var previous: Int64? = nil
        for i in 0..<count {
            let at = headerSize + i * width
            let raw = loadLE(blob, at, width)
            let v: Int64
            switch width {
            case 2: v = Int64(Int16(truncatingIfNeeded: raw))
            case 4: v = Int64(Int32(truncatingIfNeeded: raw))
            default: v = Int64(bitPattern: raw)
            }
            if let prev = previous, v <= prev {
                throw BlobFormatError(offset: at, reason: "intset elements not strictly ascending (\(prev) then \(v))")
            }
            previous = v
            try body(v)
        }
    }

    /// An intset of the given values (sorted and de-duplicated here), in the smallest encoding.
    public static func encode(_ values: [Int64]) -> [UInt8] {
        let sorted = Array(Set(values)).sorted()
        var width = 2
        for v in sorted {
            if v < Int64(Int32.min) || v > Int64(Int32.max) { width = 8; break }
            if v < Int64(Int16.min) || v > Int64(Int16.max) { width = 4 }
        }
        var out = [UInt8]()
        out.reserveCapacity(headerSize + sorted.count * width)
        appendLE(&out, UInt64(width), 4)
        appendLE(&out, UInt64(sorted.count), 4)
        for v in sorted { appendLE(&out, UInt64(bitPattern: v), width) }
        return out
    }
}
