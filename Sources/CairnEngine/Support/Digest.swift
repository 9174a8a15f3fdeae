// DEBUG DIGEST: an order-independent fingerprint of the dataset.
//
// Each key contributes hash(db, key, value, expiry); contributions are combined with XOR, so
// the digest does not depend on table layout or insertion order, and two datasets with the
// same keys, values and TTLs give the same digest (the property DEBUG RELOAD and replica
// checks rely on). An empty dataset is forty zeros, as in Redis. The digest is Cairn's own
// (Redis hashes with SHA-1); compare Cairn with Cairn.

public enum Digest {
    public typealias Value160 = (UInt64, UInt64, UInt64)
    public static let zero: Value160 = (0, 0, 0)

    private static let seeds: [SipHashSeed] = [
        SipHashSeed(k0: 0x0123456789abcdef, k1: 0xfedcba9876543210),
        SipHashSeed(k0: 0x0f1e2d3c4b5a6978, k1: 0x8796a5b4c3d2e1f0),
        SipHashSeed(k0: 0x1122334455667788, k1: 0x99aabbccddeeff00),
    ]

    static func hash(_ bytes: [UInt8]) -> Value160 {
        bytes.withUnsafeBytes { raw in
            (sipHash13(raw, seed: seeds[0]), sipHash13(raw, seed: seeds[1]), sipHash13(raw, seed: seeds[2]))
        }
    }

    /// A canonical byte serialization of a value for hashing (type tag + contents).
    static func canonical(_ v: Value) -> [UInt8] {
        switch v {
        case .string(let b): return [0] + b.array
        case .int(let i): return [0] + Array(String(i).utf8)
        case .list(let l):
            var out: [UInt8] = [1]
            for e in l.elements { appendLengthPrefixed(e, to: &out) }
            return out
        case .set(let s):
            var out: [UInt8] = [2]
            for m in s.members.sorted() { appendLengthPrefixed(m, to: &out) }
            return out
        case .zset(let z):
            var out: [UInt8] = [3]
            for (m, score) in z.elements {
                appendLengthPrefixed(m, to: &out)
                withUnsafeBytes(of: score.bitPattern.littleEndian) { out += $0 }
            }
            return out
        case .hash(let h):
            var out: [UInt8] = [4]
            for (f, v) in h.pairs.sorted(by: { $0.field < $1.field }) {
                appendLengthPrefixed(f, to: &out)
                appendLengthPrefixed(v, to: &out)
            }
            return out
        }
    }

    /// Length, then bytes: keeps element boundaries in the canonical form (order-independent
    /// types are sorted first, so two encodings of the same set hash alike).
    private static func appendLengthPrefixed(_ b: Bytes, to out: inout [UInt8]) {
        withUnsafeBytes(of: Int64(b.count).littleEndian) { out += $0 }
        b.withUnsafeBytes { out += $0 }
    }

    public static func value(_ v: Value) -> Value160 { hash(canonical(v)) }

    public static func dataset(_ engine: Engine) -> Value160 {
        var acc = zero
        for db in engine.databases where db.count > 0 {
            db.keys.forEach { e in
                if engine.isExpired(e) { return }
                var bytes: [UInt8] = []
                withUnsafeBytes(of: Int64(db.id).littleEndian) { bytes += $0 }
                withUnsafeBytes(of: Int64(e.keyCount).littleEndian) { bytes += $0 }
                e.withKeyBytes { bytes += $0 }
                withUnsafeBytes(of: e.expireAtMs.littleEndian) { bytes += $0 }
                bytes += canonical(e.value)
                let h = hash(bytes)
                acc = (acc.0 ^ h.0, acc.1 ^ h.1, acc.2 ^ h.2)
            }
        }
        return acc
    }

    /// 40 lowercase hex digits (160 bits).
    public static func hex(_ d: Value160) -> String {
        func h(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return String((h(d.0) + h(d.1) + h(d.2)).prefix(40))
    }
}
