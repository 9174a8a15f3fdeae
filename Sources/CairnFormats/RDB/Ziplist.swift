// Ziplist: the compact sequence of Redis 2.6–6.2 (ziplist.c), still found in RDB 7–9 files as
// hash (13), zset (12), list (10) and quicklist node (14) blobs. Layout:
//
//   <zlbytes u32 LE> <zltail u32 LE> <zllen u16 LE> <entry> ... <entry> <0xFF>
//   zltail = offset of the last entry; zllen 65535 means "count them".
//
// Each entry is <prevlen> <encoding> <data>:
//
//   prevlen   1 byte (0..253) or 0xFE + u32 LE: the total size of the previous entry
//   00pppppp                 string, 6-bit length
//   01pppppp qqqqqqqq        string, 14-bit length, big-endian
//   10______ + u32 BE        string, 32-bit length
//   C0 / D0 / E0             int16 / int32 / int64 LE
//   F0 / FE                  int24 / int8 LE
//   F1 ... FD                immediate 0 ... 12 (low nibble - 1), no data
//
// Writers here produce ziplists only for RDB versions below 10 (Redis 7.0 converts them to
// listpacks on load).

public enum Ziplist {
    public static let headerSize = 10
    public static let unknownCount = 65535

    /// Validates the ziplist (sizes, prevlens, encodings, tail offset, count, terminator) and
    /// calls `body` with each element and its blob offset.
    public static func forEach(_ zl: UnsafeRawBufferPointer,
                               _ body: (PackedElement, Int) throws -> Void) throws {
        try forEachRef(zl) { e, off in try body(e.element, off) }
    }

    /// `forEach` with each element borrowed from the blob instead of copied (same checks, same
    /// order of calls and errors).
    public static func forEachRef(_ zl: UnsafeRawBufferPointer,
                                  _ body: (PackedRef, Int) throws -> Void) throws {
        let size = zl.count
        guard size >= headerSize + 1 else {
            throw BlobFormatError(offset: 0, reason: "ziplist of \(size) bytes is shorter than its header")
        }
        let total = Int(loadLE(zl, 0, 4))
        guard total == size else {
            throw BlobFormatError(offset: 0, reason: "ziplist header says \(total) bytes, blob has \(size)")
        }
        let tail = Int(loadLE(zl, 4, 4))
        let declared = Int(loadLE(zl, 8, 2))
        let last = size - 1
        guard zl[last] == 0xFF else {
            throw BlobFormatError(offset: last, reason: "ziplist does not end with 0xFF")
        }
        guard tail <= last else {
            throw BlobFormatError(offset: 4, reason: "ziplist tail offset \(tail) is past the end")
        }
        var p = headerSize
        var prevSize = 0
        var lastEntry = -1
        var count = 0
        while p < last {
            let start = p
            // prevlen
            var prevlen: Int
            if zl[p] < 0xFE {
                prevlen = Int(zl[p])
                p += 1
            } else {
                guard last - p >= 5 else {
                    throw BlobFormatError(offset: p, reason: "ziplist prevlen runs past the end")
                }
                prevlen = Int(loadLE(zl, p + 1, 4))
                p += 5
            }
            guard prevlen == prevSize else {
                throw BlobFormatError(offset: start, reason: "ziplist prevlen \(prevlen) does not match previous entry size \(prevSize)")
            }
            guard p < last else {
                throw BlobFormatError(offset: start, reason: "ziplist entry has no encoding byte")
            }
            let enc = zl[p]
            var immediate: Int64? = nil
            var dataLen = 0
            var headerLen = 1
            switch enc >> 6 {
            case 0:
                dataLen = Int(enc & 0x3F)
            case 1:
                guard last - p >= 2 else {
                    throw BlobFormatError(offset: p, reason: "ziplist entry length runs past the end")
                }
                dataLen = (Int(enc & 0x3F) << 8) | Int(zl[p + 1])
                headerLen = 2
            case 2:
                guard last - p >= 5 else {
                    throw BlobFormatError(offset: p, reason: "ziplist entry length runs past the end")
                }
                dataLen = Int(loadBE(zl, p + 1, 4))
                headerLen = 5
            default:
                switch enc {
                case 0xC0: dataLen = 2
                case 0xD0: dataLen = 4
                case 0xE0: dataLen = 8
                case 0xF0: dataLen = 3
                case 0xFE: dataLen = 1
                case 0xF1...0xFD: immediate = Int64(enc & 0x0F) - 1
                default:
                    throw BlobFormatError(offset: p, reason: "invalid ziplist entry encoding 0x" + hexByte(enc))
                }
            }
            guard dataLen <= last - p - headerLen else {
                throw BlobFormatError(offset: start, reason: "ziplist entry of \(dataLen) bytes runs past the end")
            }
            let data = p + headerLen
            let element: PackedRef
            if let v = immediate {
                element = PackedRef(int: v)
            } else if enc >> 6 != 3 {
                element = PackedRef(bytes: UnsafeRawBufferPointer(rebasing: zl[data..<(data + dataLen)]))
            } else {
                let raw = loadLE(zl, data, dataLen)
                switch dataLen {
                case 1: element = PackedRef(int: Int64(Int8(truncatingIfNeeded: raw)))
                case 2: element = PackedRef(int: Int64(Int16(truncatingIfNeeded: raw)))
                case 3: element = PackedRef(int: raw >= 1 << 23 ? Int64(raw) - (1 << 24) : Int64(raw))
                case 4: element = PackedRef(int: Int64(Int32(truncatingIfNeeded: raw)))
                default: element = PackedRef(int: Int64(bitPattern: raw))
                }
            }
            p = data + dataLen
            prevSize = p - start
            lastEntry = start
            try body(element, start)
            count += 1
        }
        if lastEntry >= 0 && tail != lastEntry {
            throw BlobFormatError(offset: 4, reason: "ziplist tail offset \(tail) is not the last entry (\(lastEntry))")
        }
        if declared != unknownCount && declared != count {
            throw BlobFormatError(offset: 8, reason: "ziplist header says \(declared) elements, found \(count)")
        }
    }

    public static func elements(_ zl: [UInt8]) throws -> [PackedElement] {
        var out = [PackedElement]()
        try zl.withUnsafeBytes { try forEach($0) { e, _ in out.append(e) } }
        return out
    }
}

/// Builds a ziplist the way Redis 6.2's ziplistPush does (integers for canonical numeric
/// strings shorter than 32 bytes, in the smallest encoding).
public struct ZiplistBuilder {
    public private(set) var count = 0
    var bytes: [UInt8] = [UInt8](repeating: 0, count: Ziplist.headerSize)
    var prevSize = 0
    var lastEntry = Ziplist.headerSize

    public init() {}

    public var byteCount: Int { bytes.count + 1 }

    public mutating func append(_ s: UnsafeRawBufferPointer) {
        let start = bytes.count
        if prevSize < 0xFE {
            bytes.append(UInt8(prevSize))
        } else {
            bytes.append(0xFE)
            appendLE(&bytes, UInt64(prevSize), 4)
        }
        if s.count < 32, let v = DecimalText.canonicalInt64(s) {
            if v >= 0 && v <= 12 {
                bytes.append(0xF1 + UInt8(v))
            } else if v >= -128 && v <= 127 {
                bytes.append(0xFE); appendLE(&bytes, UInt64(bitPattern: v), 1)
            } else if v >= -32768 && v <= 32767 {
                bytes.append(0xC0); appendLE(&bytes, UInt64(bitPattern: v), 2)
            } else if v >= -8_388_608 && v <= 8_388_607 {
                bytes.append(0xF0); appendLE(&bytes, UInt64(bitPattern: v), 3)
            } else if v >= -2_147_483_648 && v <= 2_147_483_647 {
                bytes.append(0xD0); appendLE(&bytes, UInt64(bitPattern: v), 4)
            } else {
                bytes.append(0xE0); appendLE(&bytes, UInt64(bitPattern: v), 8)
            }
        } else {
            let n = s.count
            if n <= 0x3F {
                bytes.append(UInt8(n))
            } else if n <= 0x3FFF {
                bytes.append(0x40 | UInt8(n >> 8))
                bytes.append(UInt8(n & 0xFF))
            } else {
                bytes.append(0x80)
                for k in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: n >> k)) }
            }
            bytes.append(contentsOf: s)
        }
        lastEntry = start
        prevSize = bytes.count - start
        count += 1
    }

    public mutating func append(_ b: Bytes) {
        b.withUnsafeBytes { append($0) }
    }

    public func finish() -> [UInt8] {
        var out = bytes
        out.append(0xFF)
        storeLE(&out, at: 0, UInt64(out.count), 4)
        storeLE(&out, at: 4, UInt64(lastEntry), 4)
        storeLE(&out, at: 8, UInt64(min(count, Ziplist.unknownCount)), 2)
        return out
    }
}
