// LZF: the compression Redis applies to RDB strings longer than 20 bytes (`rdbcompression yes`).
//
// The stream is a sequence of instructions, each starting with a control byte:
//
//   000LLLLL                       literal run: copy the next LLLLL+1 bytes (1..32)
//   LLLooooo oooooooo              back-reference, LLL = 1..6: copy LLL+2 bytes
//   111ooooo EEEEEEEE oooooooo     back-reference, long form: copy 7+EEEEEEEE+2 bytes (9..264)
//
// The 13-bit offset o (high 5 bits in the control byte) addresses `out - o - 1`, so a reference
// reaches at most 8192 bytes back. Source and destination may overlap (run-length style), so the
// copy goes byte by byte. Any conforming compressor is fine: the decoder is the contract, and the
// output of ours is checked against Redis's own decoder by loading our files in redis-server.
//
// RDB framing (see RDBReader/RDBWriter): 0xC3, len(compressed), len(original), compressed bytes.
// Redis writes it only when the original is longer than 20 bytes and compression saves at least
// 4 bytes (the output buffer is capped at original-4).

public enum LZF {
    public struct DecodeError: Error, CustomStringConvertible {
        /// Offset in the compressed input where decoding failed.
        public let inputOffset: Int
        public let reason: String
        public var description: String { "LZF: \(reason) at compressed byte \(inputOffset)" }
    }

    /// The longest output one input byte can produce: a 3-byte back-reference yields 264 bytes.
    /// A reader uses it to reject an implausible declared length before allocating.
    public static let maxExpansionRatio = 88

    /// Decompresses `input`, which must decode to exactly `outputLength` bytes.
    public static func decompress(_ input: UnsafeRawBufferPointer, outputLength: Int) throws -> [UInt8] {
        guard outputLength >= 0 else {
            throw DecodeError(inputOffset: 0, reason: "negative output length")
        }
        guard outputLength <= input.count &* maxExpansionRatio else {
            throw DecodeError(inputOffset: 0, reason: "declared length \(outputLength) exceeds what \(input.count) compressed bytes can produce")
        }
        var out = [UInt8](repeating: 0, count: outputLength)
        let produced = try out.withUnsafeMutableBufferPointer { dst -> Int in
            var ip = 0
            var op = 0
            let n = input.count
            while ip < n {
                let ctrl = Int(input[ip])
                let ctrlAt = ip
                ip += 1
                if ctrl < 32 {
                    let run = ctrl + 1
                    guard ip + run <= n else {
                        throw DecodeError(inputOffset: ctrlAt, reason: "literal run of \(run) bytes runs past the input")
                    }
                    guard op + run <= outputLength else {
                        throw DecodeError(inputOffset: ctrlAt, reason: "output longer than the declared \(outputLength) bytes")
                    }
                    for k in 0..<run { dst[op + k] = input[ip + k] }
                    ip += run
                    op += run
                } else {
                    var len = ctrl >> 5
                    if len == 7 {
                        guard ip < n else {
                            throw DecodeError(inputOffset: ctrlAt, reason: "truncated back-reference")
                        }
                        len += Int(input[ip])
                        ip += 1
                    }
                    guard ip < n else {
                        throw DecodeError(inputOffset: ctrlAt, reason: "truncated back-reference")
                    }
                    let distance = ((ctrl & 0x1F) << 8) + Int(input[ip]) + 1
                    ip += 1
                    let count = len + 2
                    guard distance <= op else {
                        throw DecodeError(inputOffset: ctrlAt, reason: "back-reference \(distance) bytes before the start of the output")
                    }
                    guard op + count <= outputLength else {
                        throw DecodeError(inputOffset: ctrlAt, reason: "output longer than the declared \(outputLength) bytes")
                    }
                    var from = op - distance
                    for _ in 0..<count {
                        dst[op] = dst[from]
                        op += 1
                        from += 1
                    }
                }
            }
            return op
        }
        guard produced == outputLength else {
            throw DecodeError(inputOffset: input.count, reason: "decoded \(produced) bytes, declared \(outputLength)")
        }
        return out
    }

    public static func decompress(_ input: [UInt8], outputLength: Int) throws -> [UInt8] {
        try input.withUnsafeBytes { try decompress($0, outputLength: outputLength) }
    }

    // Compressor parameters. A hash of up to 2^14 entries of the next 3 bytes remembers the last position
    // each trigram was seen; a hit within the 8 KiB window that really matches becomes a
    // back-reference, extended greedily up to 264 bytes.
    static let hashBits = 14
    static let maxOffset = 1 << 13
    static let maxMatch = 264
    static let maxLiteral = 32

    /// Compresses `input`. Returns nil when the output would exceed `maxOutput` bytes (Redis
    /// passes original-4) or the input is empty.
    public static func compress(_ input: UnsafeRawBufferPointer, maxOutput: Int) -> [UInt8]? {
        let n = input.count
        guard n > 0, maxOutput > 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(min(maxOutput, n + n / 32 + 2))
        // Small inputs get a small table: zero-filling 64 KiB for a 30-byte string would cost
        // more than compressing it.
        var bits = 8
        while bits < hashBits && (1 << bits) < n { bits += 1 }
        var table = [Int32](repeating: -1, count: 1 << bits)
        var literalStart = 0  // first input byte of the pending literal run
        var ip = 0

        func hash(_ p: Int) -> Int {
            let v = (UInt32(input[p]) << 16) | (UInt32(input[p + 1]) << 8) | UInt32(input[p + 2])
            return Int((v &* 2_654_435_761) >> UInt32(32 - bits))
        }
        func flushLiterals(upTo end: Int) -> Bool {
            var s = literalStart
            while s < end {
                let run = min(maxLiteral, end - s)
                if out.count + 1 + run > maxOutput { return false }
                out.append(UInt8(run - 1))
                for k in 0..<run { out.append(input[s + k]) }
                s += run
            }
            literalStart = end
            return true
        }

        while ip + 2 < n {
            let h = hash(ip)
            let ref = Int(table[h])
            table[h] = Int32(ip)
            if ref >= 0, ip - ref <= maxOffset,
               input[ref] == input[ip], input[ref + 1] == input[ip + 1], input[ref + 2] == input[ip + 2] {
                var len = 3
                let limit = min(maxMatch, n - ip)
                while len < limit && input[ref + len] == input[ip + len] { len += 1 }
                guard flushLiterals(upTo: ip) else { return nil }
                let distance = ip - ref - 1
                let stored = len - 2
                if stored < 7 {
                    if out.count + 2 > maxOutput { return nil }
                    out.append(UInt8((stored << 5) | (distance >> 8)))
                } else {
                    if out.count + 3 > maxOutput { return nil }
                    out.append(UInt8((7 << 5) | (distance >> 8)))
                    out.append(UInt8(stored - 7))
                }
                out.append(UInt8(distance & 0xFF))
                // Remember the positions inside the match too, for better later matches.
                var k = ip + 1
                ip += len
                while k < ip && k + 2 < n {
                    table[hash(k)] = Int32(k)
                    k += 1
                }
                literalStart = ip
            } else {
                ip += 1
            }
        }
        guard flushLiterals(upTo: n) else { return nil }
        return out
    }

    public static func compress(_ input: [UInt8], maxOutput: Int) -> [UInt8]? {
        input.withUnsafeBytes { compress($0, maxOutput: maxOutput) }
    }
}
