// Zipmap: the hash blob of Redis <= 2.4 (zipmap.c), RDB type 9. Read-only here. Layout:
//
//   <zmlen 1 byte> <len> key <len> <free 1 byte> value <free bytes> ... <0xFF>
//
//   zmlen   number of pairs if < 254; 254 means "count them"
//   len     1 byte if < 254, else 0xFE + u32 LE (0xFF is the terminator)
//   free    unused bytes after the value (left by in-place updates), skipped

public enum Zipmap {
    /// Validates the zipmap and calls `body` with each (field, value) pair and its blob offset.
    public static func forEachPair(_ zm: UnsafeRawBufferPointer,
                                   _ body: (Bytes, Bytes, Int) throws -> Void) throws {
        let size = zm.count
        guard size >= 2 else {
            throw BlobFormatError(offset: 0, reason: "zipmap of \(size) bytes is too short")
        }
        let declared = Int(zm[0])
        var p = 1
        var count = 0

        func readLength() throws -> Int? {
            guard p < size else {
                throw BlobFormatError(offset: p, reason: "zipmap runs past the end")
            }
            let b = zm[p]
            if b == 0xFF { return nil }
            if b < 0xFE {
                p += 1
                return Int(b)
            }
            guard size - p >= 5 else {
                throw BlobFormatError(offset: p, reason: "zipmap length runs past the end")
            }
            let n = Int(loadLE(zm, p + 1, 4))
            p += 5
            return n
        }
        func take(_ n: Int) throws -> Bytes {
            guard n <= size - p else {
                throw BlobFormatError(offset: p, reason: "zipmap string of \(n) bytes runs past the end")
            }
            let b = Bytes(UnsafeRawBufferPointer(rebasing: zm[p..<(p + n)]))
            p += n
            return b
        }

        while true {
            let entryAt = p
            guard let keyLen = try readLength() else { break }
            let key = try take(keyLen)
            guard let valueLen = try readLength() else {
                throw BlobFormatError(offset: p, reason: "zipmap key without a value")
            }
            guard p < size else {
                throw BlobFormatError(offset: p, reason: "zipmap free byte runs past the end")
            }
            let free = Int(zm[p])
            p += 1
            let value = try take(valueLen)
            guard free <= size - p else {
                throw BlobFormatError(offset: p, reason: "zipmap free space runs past the end")
            }
            p += free
            try body(key, value, entryAt)
            count += 1
        }
        guard p == size - 1 else {
            throw BlobFormatError(offset: p, reason: "zipmap has \(size - 1 - p) bytes after its terminator")
        }
        if declared < 254 && declared != count {
            throw BlobFormatError(offset: 0, reason: "zipmap header says \(declared) pairs, found \(count)")
        }
    }
}
