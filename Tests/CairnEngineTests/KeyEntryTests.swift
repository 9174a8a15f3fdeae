@testable import CairnEngine
import CairnFormats
import XCTest

final class KeyEntryTests: XCTestCase {
    func testHeaderStaysThirtySixBytes() {
        // The header size decides the malloc size class of every key; see KeyEntry.
        XCTAssertEqual(MemoryLayout<KeyEntryHeader>.size, 36)
        XCTAssertEqual(MemoryLayout<BoxedValue>.size, 8)
    }

    func testSixteenByteKeyWithHundredByteValueIsOneChunk() {
        let e = KeyEntry.make(key: Bytes(String(repeating: "k", count: 16)),
                              value: .string(Bytes([UInt8](repeating: 7, count: 100))), clock: 0)
        // 16 object header + 36 header + 116 tail = 168 bytes requested: glibc's 176-byte chunk.
        XCTAssertEqual(MemoryAccounting.objectBytes(e), 168)
        XCTAssertEqual(e.storageKind, .inlineString)
        XCTAssertEqual(e.boxedBytes, 0)
        XCTAssertEqual(e.key, Bytes(String(repeating: "k", count: 16)))
        XCTAssertEqual(e.value.stringBytes, Bytes([UInt8](repeating: 7, count: 100)))
    }

    func testValueKindsRoundTripAndSwitchStorage() {
        let e = KeyEntry.make(key: Bytes("key"), value: .int(-42), clock: 9)
        XCTAssertEqual(e.storageKind, .int)
        XCTAssertEqual(e.intValue, -42)
        guard case .int(let v) = e.value else { return XCTFail() }
        XCTAssertEqual(v, -42)
        XCTAssertEqual(e.accessClock, 9)
        XCTAssertFalse(e.hasExpiry)

        // A short string fits the 8 bytes reserved for an integer.
        e.value = .string(Bytes("abc"))
        XCTAssertEqual(e.storageKind, .inlineString)
        XCTAssertEqual(e.withInlineString { Array($0) }, Array("abc".utf8))

        // A longer one than the allocation holds goes to its own array.
        let long = Bytes([UInt8](repeating: 0x41, count: 300))
        e.value = .string(long)
        XCTAssertEqual(e.storageKind, .boxed)
        XCTAssertNil(e.withInlineString { _ in 0 })
        XCTAssertEqual(e.value.stringBytes, long)
        XCTAssertGreaterThanOrEqual(e.boxedBytes, 300)

        // Back to an integer: stored inline again, the array released.
        e.value = .int(Int64.max)
        XCTAssertEqual(e.storageKind, .int)
        XCTAssertEqual(e.intValue, Int64.max)
        XCTAssertEqual(e.boxedBytes, 0)

        let h = HashValue()
        e.value = .hash(h)
        XCTAssertEqual(e.storageKind, .boxed)
        guard case .hash(let back) = e.value else { return XCTFail() }
        XCTAssertTrue(back === h)
        XCTAssertEqual(e.key, Bytes("key"))   // the key bytes are untouched by value changes
    }

    func testOverwriteInPlaceWhenItFits() {
        let e = KeyEntry.make(key: Bytes("k"), value: .string(Bytes([UInt8](repeating: 1, count: 100))), clock: 0)
        let before = MemoryAccounting.objectBytes(e)
        e.value = .string(Bytes([UInt8](repeating: 2, count: 90)))
        XCTAssertEqual(e.storageKind, .inlineString)
        XCTAssertEqual(e.value.stringBytes, Bytes([UInt8](repeating: 2, count: 90)))
        XCTAssertEqual(MemoryAccounting.objectBytes(e), before)
        e.value = .string(Bytes())
        XCTAssertEqual(e.value.stringBytes, Bytes())
    }

    func testLongValuesAreBoxedAtCreation() {
        let big = Bytes([UInt8](repeating: 3, count: KeyEntry.inlineStringLimit + 1))
        let e = KeyEntry.make(key: Bytes("k"), value: .string(big), clock: 0)
        XCTAssertEqual(e.storageKind, .boxed)
        XCTAssertEqual(e.value.stringBytes, big)
        let edge = Bytes([UInt8](repeating: 3, count: KeyEntry.inlineStringLimit))
        XCTAssertEqual(KeyEntry.make(key: Bytes("k"), value: .string(edge), clock: 0).storageKind, .inlineString)
    }

    func testKeyComparisonIsByBytes() {
        // "é" precomposed and "e" + combining accent are equal Strings but different keys.
        let a = KeyEntry.make(key: Bytes(Array("\u{E9}".utf8)), value: .int(1), clock: 0)
        Bytes(Array("e\u{301}".utf8)).withUnsafeBytes { XCTAssertFalse(a.keyEquals($0)) }
        Bytes(Array("\u{E9}".utf8)).withUnsafeBytes { XCTAssertTrue(a.keyEquals($0)) }
        let empty = KeyEntry.make(key: Bytes(), value: .int(1), clock: 0)
        Bytes().withUnsafeBytes { XCTAssertTrue(empty.keyEquals($0)) }
        Bytes("x").withUnsafeBytes { XCTAssertFalse(empty.keyEquals($0)) }
    }

    func testVolatileTableBorrowsTheEntryKey() {
        let db = Database(id: 0, seed: SipHashSeed(k0: 1, k1: 2))
        for i in 0..<1000 {
            db.add(KeyEntry.make(key: Bytes("key:\(i)"), value: .int(Int64(i)),
                                 expireAtMs: i % 2 == 0 ? 1_000 + Int64(i) : KeyEntry.noExpiry, clock: 0))
        }
        XCTAssertEqual(db.count, 1000)
        XCTAssertEqual(db.expiresCount, 500)
        Bytes("key:10").withUnsafeBytes { XCTAssertEqual(db.volatile.find($0)?.entry.intValue, 10) }
        db.remove(Bytes("key:10"))
        Bytes("key:10").withUnsafeBytes { XCTAssertNil(db.volatile.find($0)) }
        XCTAssertEqual(db.expiresCount, 499)
        let e = db.find(Bytes("key:11"))!
        db.setExpiry(e, 5)
        XCTAssertEqual(db.expiresCount, 500)
        db.removeExpiry(e)
        XCTAssertEqual(db.expiresCount, 499)
        XCTAssertEqual(e.expireAtMs, KeyEntry.noExpiry)
    }

    func testChainNextAddressReadsTheHeaderField() {
        // Lookups read chainNext as a raw address; it must be exactly the stored reference.
        let a = KeyEntry.make(key: Bytes("a"), value: .int(1), clock: 0)
        let b = KeyEntry.make(key: Bytes("b"), value: .int(2), clock: 0)
        XCTAssertNil(a.chainNextAddress)
        a.chainNext = b
        XCTAssertEqual(a.chainNextAddress, UnsafeRawPointer(Unmanaged.passUnretained(b).toOpaque()))
        a.chainNext = nil
        XCTAssertNil(a.chainNextAddress)
    }
}

final class PrefetchTests: XCTestCase {
    func testPrefetchAcceptsAnyHashOnAnyTable() {
        // Prefetching is a hint: empty tables, any hash value (negative ones included) and
        // pipelines of non-key commands must neither trap nor change anything.
        let engine = Engine()
        let client = engine.connect()
        engine.prefetchKeys(client, [[Bytes("PING")], [Bytes("GET"), Bytes("nokey")]][...])
        let table = engine.database(0).keys
        for h in [0, 1, -1, Int.min, Int.max] { table.prefetchBucket(h); table.prefetchChainHead(h) }
        engine.execute(client, [Bytes("SET"), Bytes("a"), Bytes("1")])
        _ = client.reply.take()
        for h in [0, 1, -1, Int.min, Int.max] { table.prefetchBucket(h); table.prefetchChainHead(h) }
        engine.prefetchKeys(client, [[Bytes("GET"), Bytes("a")], [Bytes("SET"), Bytes("b"), Bytes("2")], []][...])
        XCTAssertEqual(engine.database(0).count, 1)
        engine.execute(client, [Bytes("GET"), Bytes("a")])
        XCTAssertEqual(client.reply.take(), Array("$1\r\n1\r\n".utf8))
    }
}
