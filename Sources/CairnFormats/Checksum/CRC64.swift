// CRC64: the checksum at the end of every RDB file (docs/formats/snapshot.md, "Trailer").
//
// This is Redis's crc64.c variant ("CRC-64/Jones" as Redis uses it):
//
//   polynomial      0xAD93D23594C935A9 (normal form), 0x95AC9329AC4BC9B5 reflected
//   reflected       input and output
//   initial value   0          (not all ones: the pycrc comment in crc64.c says otherwise,
//   final xor       0           but the code starts from 0 and only that matches the check value)
//   check value     crc64(0, "123456789") == 0xe9c6d914c4b8d9ca
//
// The RDB checksum covers every byte from the "R" of "REDIS" through the 0xFF EOF opcode and is
// stored after it as 8 little-endian bytes. A stored value of 0 means "not computed".
//
// Speed: two implementations, the same function.
//   - Carry-less multiply folding (x86-64 with PCLMULQDQ + SSE4.1, checked once by CPUID), in
//     the C target CCRC64 (Sources/CCRC64/crc64_clmul.c has the derivation): four 128-bit
//     blocks folded 512 bits ahead per step, merged, then a Barrett reduction to 64 bits. It
//     takes every whole 16-byte block of an input of at least `foldingMinimumBytes`; the tail
//     (< 16 bytes) goes through the tables. About 14.5 GB/s in a release build against 2.0 GB/s
//     for the tables (7x; 4 KiB calls 6.5x, 64-byte calls 3x): `CRC64SpeedTests`, command in
//     docs/benchmarks.md.
//   - Slicing-by-16 (everything else: short inputs, tails, other CPUs). Sixteen 256-entry
//     tables let one step fold 16 input bytes with 16 independent table lookups instead of 16
//     dependent shift/lookup rounds: about 1.3x the slicing-by-8 it replaced, 1.5-2 GB/s.
// CRC64Tests compares the two for every length 0...1024 at every alignment and recomputes the
// folding constants from the polynomial.

import CCRC64

public enum CRC64 {
    /// The reflected form of the Jones polynomial.
    public static let reflectedPolynomial: UInt64 = 0x95AC_9329_AC4B_C9B5

    /// `tables[k * 256 + b]`: table k of the slicing-by-16 scheme. Table 0 is the classic
    /// byte-at-a-time table; table k advances table k-1 by one more zero byte.
    @usableFromInline
    static let tables: [UInt64] = {
        var t = [UInt64](repeating: 0, count: 16 * 256)
        for i in 0..<256 {
            var crc = UInt64(i)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ reflectedPolynomial : crc >> 1
            }
            t[i] = crc
        }
        for k in 1..<16 {
            for i in 0..<256 {
                let prev = t[(k - 1) * 256 + i]
                t[k * 256 + i] = (prev >> 8) ^ t[Int(prev & 0xFF)]
            }
        }
        return t
    }()

    /// Inputs shorter than this go through the tables only: the folding kernel starts with four
    /// blocks. At 64 bytes it is already about 3x the tables (`CRC64SpeedTests`); a start with
    /// fewer blocks for 16-63 bytes is not written.
    static let foldingMinimumBytes = 64

    /// Whether `update` uses the carry-less multiply kernel on this CPU (CPUID, read once).
    static let usesCarrylessMultiply: Bool = cairn_crc64_clmul_supported() != 0

    /// Continues a running checksum over `bytes`. Start with 0; feeding a buffer in pieces gives
    /// the same result as feeding it whole.
    public static func update(_ crc: UInt64, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        if bytes.count >= foldingMinimumBytes && usesCarrylessMultiply {
            let blockBytes = bytes.count & ~15
            let folded = cairn_crc64_clmul(crc, base, blockBytes)
            return updateSlicing(folded, UnsafeRawBufferPointer(start: base + blockBytes,
                                                                count: bytes.count - blockBytes))
        }
        return updateSlicing(crc, bytes)
    }

    /// `update` by slicing-by-16 alone: the fallback and the tail of the folding path.
    static func updateSlicing(_ crc: UInt64, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return tables.withUnsafeBufferPointer { t -> UInt64 in
            var crc = crc
            var p = base
            var n = bytes.count
            while n >= 16 {
                // Two unaligned little-endian loads of 8 bytes; the running CRC folds into the
                // first. Byte j of the 16 is advanced by 15 - j zero bytes: table 15 - j.
                let w0 = crc ^ UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
                let w1 = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                crc = t[15 * 256 + Int(w0 & 0xFF)]
                    ^ t[14 * 256 + Int((w0 >> 8) & 0xFF)]
                    ^ t[13 * 256 + Int((w0 >> 16) & 0xFF)]
                    ^ t[12 * 256 + Int((w0 >> 24) & 0xFF)]
                    ^ t[11 * 256 + Int((w0 >> 32) & 0xFF)]
                    ^ t[10 * 256 + Int((w0 >> 40) & 0xFF)]
                    ^ t[9 * 256 + Int((w0 >> 48) & 0xFF)]
                    ^ t[8 * 256 + Int(w0 >> 56)]
                    ^ t[7 * 256 + Int(w1 & 0xFF)]
                    ^ t[6 * 256 + Int((w1 >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((w1 >> 16) & 0xFF)]
                    ^ t[4 * 256 + Int((w1 >> 24) & 0xFF)]
                    ^ t[3 * 256 + Int((w1 >> 32) & 0xFF)]
                    ^ t[2 * 256 + Int((w1 >> 40) & 0xFF)]
                    ^ t[1 * 256 + Int((w1 >> 48) & 0xFF)]
                    ^ t[Int(w1 >> 56)]
                p += 16
                n -= 16
            }
            while n >= 8 {
                // Unaligned little-endian load of 8 bytes.
                var word: UInt64 = 0
                withUnsafeMutableBytes(of: &word) { $0.copyMemory(from: UnsafeRawBufferPointer(start: p, count: 8)) }
                crc ^= UInt64(littleEndian: word)
                crc = t[7 * 256 + Int(crc & 0xFF)]
                    ^ t[6 * 256 + Int((crc >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((crc >> 16) & 0xFF)]
                    ^ t[4 * 256 + Int((crc >> 24) & 0xFF)]
                    ^ t[3 * 256 + Int((crc >> 32) & 0xFF)]
                    ^ t[2 * 256 + Int((crc >> 40) & 0xFF)]
                    ^ t[1 * 256 + Int((crc >> 48) & 0xFF)]
                    ^ t[Int(crc >> 56)]
                p += 8
                n -= 8
            }
            while n > 0 {
                crc = t[Int((crc ^ UInt64(p.load(as: UInt8.self))) & 0xFF)] ^ (crc >> 8)
                p += 1
                n -= 1
            }
            return crc
        }
    }

    /// The checksum of a whole byte array.
    public static func checksum(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { update(0, $0) }
    }

    /// Continues a running checksum over a byte array.
    public static func update(_ crc: UInt64, _ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { update(crc, $0) }
    }
}
