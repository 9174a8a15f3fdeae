// Listpack: the compact sequence Redis 7 uses for small hashes, sets, sorted sets, list nodes and
// stream nodes (listpack.c). Layout:
//
//   <total-bytes u32 LE> <num-elements u16 LE> <entry> ... <entry> <0xFF>
//   num-elements 65535 means "count them".
//
// Each entry is <encoding+data> <backlen>:
//
//   0xxxxxxx                      7-bit unsigned int
//   10llllll + l bytes            string, up to 63 bytes
//   110xxxxx yyyyyyyy             13-bit signed int (two's complement)
//   1110llll llllllll + l bytes   string, up to 4095 bytes (length big-endian in these 12 bits)
//   11110000 + u32 LE + l bytes   string, up to 2^32-1 bytes
//   F1 / F2 / F3 / F4             int16 / int24 / int32 / int64, little-endian
//   FF                            end
//
// backlen = size of encoding+data, 1-5 bytes of 7 bits, read right to left: the rightmost byte
// holds the lowest 7 bits, and bit 7 set means "another byte to the left". So it can be walked
// backwards; we only walk forwards but check it, as Redis's integrity check does.

public enum Listpack {
    public static let headerSize = 6
    public static let unknownCount = 65535

    /// Validates the whole listpack (header size, count, every entry and its backlen, the
    /// terminator) and calls `body` with each element and its offset in the blob, in order.
    public static func forEach(_ lp: UnsafeRawBufferPointer,
                               _ body: (PackedElement, Int) throws -> Void) throws {
        try forEachRef(lp) { e, off in try body(e.element, off) }
    }

    /// `forEach` with each element borrowed from the blob instead of copied (same checks, same
    /// order of calls and errors).
    public static func forEachRef(_ lp: UnsafeRawBufferPointer,
                                  _ body: (PackedRef, Int) throws -> Void) throws {
        let size = lp.count
        guard size >= headerSize + 1 else {
            throw BlobFormatError(offset: 0, reason: "listpack of \(size) bytes is shorter than its header")
        }
        let total = Int(loadLE(lp, 0, 4))
        guard total == size else {
            throw BlobFormatError(offset: 0, reason: "listpack header says \(total) bytes, blob has \(size)")
        }
        let declared = Int(loadLE(lp, 4, 2))
        guard lp[size - 1] == 0xFF else {
            throw BlobFormatError(offset: size - 1, reason: "listpack does not end with 0xFF")
        }
        let last = size - 1  // position of the terminator
        var p = headerSize
        var count = 0
        while p < last {
            let b = lp[p]
            var encLen: Int
            var strLen = 0
            var isInt = true
            var int: Int64 = 0
            func need(_ n: Int) throws {
                guard n <= last - p else {
                    throw BlobFormatError(offset: p, reason: "listpack entry runs past the end")
                }
            }
            if b & 0x80 == 0 {
                encLen = 1
                int = Int64(b)
            } else if b & 0xC0 == 0x80 {
                strLen = Int(b & 0x3F)
                encLen = 1
                isInt = false
            } else if b & 0xE0 == 0xC0 {
                try need(2)
                var v = (Int64(b & 0x1F) << 8) | Int64(lp[p + 1])
                if v >= 1 << 12 { v -= 1 << 13 }
                encLen = 2
                int = v
            } else if b & 0xF0 == 0xE0 {
                try need(2)
                strLen = (Int(b & 0x0F) << 8) | Int(lp[p + 1])
                encLen = 2
                isInt = false
            } else {
                switch b {
                case 0xF0:
                    try need(5)
                    strLen = Int(loadLE(lp, p + 1, 4))
                    encLen = 5
                    isInt = false
                case 0xF1:
                    try need(3)
                    encLen = 3
                    int = Int64(Int16(truncatingIfNeeded: loadLE(lp, p + 1, 2)))
                case 0xF2:
                    try need(4)
                    encLen = 4
                    let raw = Int64(loadLE(lp, p + 1, 3))
                    int = raw >= 1 << 23 ? raw - (1 << 24) : raw
                case 0xF3:
                    try need(5)
                    encLen = 5
                    int = Int64(Int32(truncatingIfNeeded: loadLE(lp, p + 1, 4)))
                case 0xF4:
                    try need(9)
                    encLen = 9
                    int = Int64(bitPattern: loadLE(lp, p + 1, 8))
                default:
                    throw BlobFormatError(offset: p, reason: "invalid listpack entry encoding 0x" + hexByte(b))
                }
            }
            // strLen is at most 2^32-1 and last-p fits an Int: no overflow below.
            let entryLen = encLen + strLen
            try need(entryLen)
            let backlen = backlenSize(entryLen)
            guard backlen <= last - p - entryLen else {
                throw BlobFormatError(offset: p, reason: "listpack entry backlen runs past the end")
            }
            let decoded = decodeBacklen(lp, rightmost: p + entryLen + backlen - 1)
            guard decoded == entryLen else {
                throw BlobFormatError(offset: p + entryLen, reason: "listpack backlen \(decoded.map(String.init) ?? "invalid") does not match entry size \(entryLen)")
            }
            if isInt {
                try body(PackedRef(int: int), p)
            } else {
                try body(PackedRef(bytes: UnsafeRawBufferPointer(rebasing: lp[(p + encLen)..<(p + entryLen)])), p)
            }
            count += 1
            p += entryLen + backlen
        }
        if declared != unknownCount && declared != count {
            throw BlobFormatError(offset: 4, reason: "listpack header says \(declared) elements, found \(count)")
        }
    }

    /// All elements, validated.
    public static func elements(_ lp: UnsafeRawBufferPointer) throws -> [PackedElement] {
        var out = [PackedElement]()
        try forEach(lp) { e, _ in out.append(e) }
        return out
    }

    public static func elements(_ lp: [UInt8]) throws -> [PackedElement] {
        try lp.withUnsafeBytes { try elements($0) }
    }

    /// Number of bytes the backlen of an entry of `l` bytes takes.
    static func backlenSize(_ l: Int) -> Int {
        if l <= 127 { return 1 }
        if l < 16383 { return 2 }
        if l < 2_097_151 { return 3 }
        if l < 268_435_455 { return 4 }
        return 5
    }

    /// Reads a backlen ending at `rightmost`, walking left; nil if it does not terminate within
    /// 5 bytes.
    static func decodeBacklen(_ lp: UnsafeRawBufferPointer, rightmost: Int) -> Int? {
        var value = 0
        var shift = 0
        var i = rightmost
        for _ in 0..<5 {
            guard i >= 0 else { return nil }
            let b = Int(lp[i])
            value |= (b & 127) << shift
            if b & 128 == 0 { return value }
            shift += 7
            i -= 1
        }
        return nil
    }

    static func appendBacklen(_ out: inout [UInt8], _ l: Int) {
        switch backlenSize(l) {
        case 1:
            out.append(UInt8(l))
        case 2:
            out.append(UInt8(l >> 7))
            out.append(UInt8(l & 127) | 128)
        case 3:
            out.append(UInt8(l >> 14))
            out.append(UInt8((l >> 7) & 127) | 128)
            out.append(UInt8(l & 127) | 128)
        case 4:
            out.append(UInt8(l >> 21))
            out.append(UInt8((l >> 14) & 127) | 128)
            out.append(UInt8((l >> 7) & 127) | 128)
            out.append(UInt8(l & 127) | 128)
        default:
            out.append(UInt8(truncatingIfNeeded: l >> 28))
            out.append(UInt8((l >> 21) & 127) | 128)
            out.append(UInt8((l >> 14) & 127) | 128)
            out.append(UInt8((l >> 7) & 127) | 128)
            out.append(UInt8(l & 127) | 128)
        }
    }
}

/// Builds a listpack the way Redis's lpAppend does: strings that are canonical integers are
/// stored as integers in the smallest encoding.
public struct ListpackBuilder {
    public private(set) var count = 0
    var bytes: [UInt8] = [0, 0, 0, 0, 0, 0]

    public init() {}

    /// Size of the finished listpack so far (header + entries + terminator).
    public var byteCount: Int { bytes.count + 1 }

    /// Bytes `append(string)` would add, for node-size decisions.
    public static func entrySize(_ s: UnsafeRawBufferPointer) -> Int {
        if let v = DecimalText.canonicalInt64(s) { return intEntrySize(v) }
        let n = s.count
        let enc = n < 64 ? 1 : (n < 4096 ? 2 : 5)
        return enc + n + Listpack.backlenSize(enc + n)
    }

    static func intEntrySize(_ v: Int64) -> Int {
        let enc: Int
        if v >= 0 && v <= 127 { enc = 1 }
        else if v >= -4096 && v <= 4095 { enc = 2 }
        else if v >= -32768 && v <= 32767 { enc = 3 }
        else if v >= -8_388_608 && v <= 8_388_607 { enc = 4 }
        else if v >= -2_147_483_648 && v <= 2_147_483_647 { enc = 5 }
        else { enc = 9 }
        return enc + 1
    }

    public mutating func append(_ s: UnsafeRawBufferPointer) {
        if let v = DecimalText.canonicalInt64(s) {
            append(int: v)
            return
        }
        let n = s.count
        let start = bytes.count
        if n < 64 {
            bytes.append(0x80 | UInt8(n))
        } else if n < 4096 {
            bytes.append(0xE0 | UInt8(n >> 8))
            bytes.append(UInt8(n & 0xFF))
        } else {
            bytes.append(0xF0)
            appendLE(&bytes, UInt64(n), 4)
        }
        bytes.append(contentsOf: s)
        Listpack.appendBacklen(&bytes, bytes.count - start)
        count += 1
    }

    public mutating func append(_ b: Bytes) {
        b.withUnsafeBytes { append($0) }
    }

    public mutating func append(int v: Int64) {
        let start = bytes.count
        if v >= 0 && v <= 127 {
            bytes.append(UInt8(v))
        } else if v >= -4096 && v <= 4095 {
            let u = UInt16(bitPattern: Int16(v)) & 0x1FFF
            bytes.append(0xC0 | UInt8(u >> 8))
            bytes.append(UInt8(u & 0xFF))
        } else if v >= -32768 && v <= 32767 {
            bytes.append(0xF1)
            appendLE(&bytes, UInt64(bitPattern: v), 2)
        } else if v >= -8_388_608 && v <= 8_388_607 {
            bytes.append(0xF2)
            appendLE(&bytes, UInt64(bitPattern: v), 3)
        } else if v >= -2_147_483_648 && v <= 2_147_483_647 {
            bytes.append(0xF3)
            appendLE(&bytes, UInt64(bitPattern: v), 4)
        } else {
            bytes.append(0xF4)
            appendLE(&bytes, UInt64(bitPattern: v), 8)
        }
        Listpack.appendBacklen(&bytes, bytes.count - start)
        count += 1
    }

    /// The finished listpack; the builder is spent.
    public func finish() -> [UInt8] {
        var out = bytes
        out.append(0xFF)
        storeLE(&out, at: 0, UInt64(out.count), 4)
        storeLE(&out, at: 4, UInt64(count < Listpack.unknownCount ? count : Listpack.unknownCount), 2)
        return out
    }
}
