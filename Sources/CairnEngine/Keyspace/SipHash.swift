// Seeded SipHash-1-3 over raw bytes: the keyspace hash.
//
// Keys come from clients, so the hash is keyed with a per-process random seed; an attacker who
// does not know the seed cannot pick keys that all land in one bucket (HashDoS).

#if canImport(Glibc)
import Glibc
#endif

public struct SipHashSeed: Sendable {
    public var k0: UInt64
    public var k1: UInt64
    public init(k0: UInt64, k1: UInt64) { self.k0 = k0; self.k1 = k1 }
    public static func random() -> SipHashSeed {
        var g = SystemRandomNumberGenerator()
        return SipHashSeed(k0: g.next(), k1: g.next())
    }
}

@inline(__always)
private func rotl(_ x: UInt64, _ b: UInt64) -> UInt64 { (x << b) | (x >> (64 &- b)) }

@inline(__always)
private func sipRound(_ v0: inout UInt64, _ v1: inout UInt64, _ v2: inout UInt64, _ v3: inout UInt64) {
    v0 = v0 &+ v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
    v2 = v2 &+ v3; v3 = rotl(v3, 16); v3 ^= v2
    v0 = v0 &+ v3; v3 = rotl(v3, 21); v3 ^= v0
    v2 = v2 &+ v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
}

@inlinable
public func sipHash13(_ data: UnsafeRawBufferPointer, seed: SipHashSeed) -> UInt64 {
    sipHash13Impl(data, seed.k0, seed.k1)
}

@usableFromInline
func sipHash13Impl(_ data: UnsafeRawBufferPointer, _ k0: UInt64, _ k1: UInt64) -> UInt64 {
    var v0: UInt64 = 0x736f6d6570736575 ^ k0
    var v1: UInt64 = 0x646f72616e646f6d ^ k1
    var v2: UInt64 = 0x6c7967656e657261 ^ k0
    var v3: UInt64 = 0x7465646279746573 ^ k1
    let n = data.count
    let blocks = n / 8
    var i = 0
    while i < blocks {
        let m = UInt64(littleEndian: data.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
        v3 ^= m
        sipRound(&v0, &v1, &v2, &v3)
        v0 ^= m
        i += 1
    }
    var last = UInt64(truncatingIfNeeded: n) << 56
    let tail = blocks * 8
    var shift: UInt64 = 0
    var j = tail
    while j < n {
        last |= UInt64(data[j]) << shift
        shift += 8
        j += 1
    }
    v3 ^= last
    sipRound(&v0, &v1, &v2, &v3)
    v0 ^= last
    v2 ^= 0xff
    sipRound(&v0, &v1, &v2, &v3)
    sipRound(&v0, &v1, &v2, &v3)
    sipRound(&v0, &v1, &v2, &v3)
    return v0 ^ v1 ^ v2 ^ v3
}
