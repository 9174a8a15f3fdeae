// used_memory comes from the CAllocCounter layer: every malloc, calloc, realloc, aligned
// allocation and free is counted by its usable size, and a Swift object by its allocation.

import XCTest
import Glibc
import CMalloc
@testable import CairnEngine

private final class Payload {
    var words: (Int, Int, Int, Int, Int) = (1, 2, 3, 4, 5)
}

final class MemoryAccountingTests: XCTestCase {
    /// Asserts that `step` changes the allocated total by exactly the bytes it returns. `prepare`
    /// runs outside the measurement. Other threads of the test process may flush their own
    /// counts in between (in steps of at least the flush threshold), so a disturbed measurement
    /// is retried a few times.
    private func assertCounted<T>(_ what: String, prepare: () -> T, _ step: (T) -> Int,
                                  file: StaticString = #filePath, line: UInt = #line) {
        var seen: [(change: Int, expected: Int)] = []
        seen.reserveCapacity(5)
        for _ in 0..<5 {
            let input = prepare()
            let before = MemoryAccounting.allocatedBytes()
            let expected = step(input)
            let change = MemoryAccounting.allocatedBytes() - before
            if change == expected { return }
            seen.append((change, expected))
        }
        XCTFail("\(what): \(seen)", file: file, line: line)
    }

    private func usable(_ p: UnsafeMutableRawPointer?) -> Int { Int(malloc_usable_size(p)) }

    /// Blocks allocated inside measurements, freed at the end (outside any measurement).
    private var held: [UnsafeMutableRawPointer] = []

    override func setUp() { held.reserveCapacity(64) }
    override func tearDown() { held.forEach { free($0) }; held.removeAll() }

    // Below and above the flush threshold (64 KiB), and above glibc's mmap threshold.
    private let sizes = [24, 1000, 100_000, 4 << 20]

    func testMallocAndFreeAreCountedByUsableSize() {
        for size in sizes {
            assertCounted("malloc(\(size))", prepare: {}) {
                let p = malloc(size)!
                held.append(p)
                XCTAssertGreaterThanOrEqual(usable(p), size)
                return usable(p)
            }
            assertCounted("free of \(size)", prepare: { malloc(size)! }) { p in
                let u = usable(p)
                free(p)
                return -u
            }
        }
        assertCounted("free(nil)", prepare: {}) { free(nil); return 0 }
    }

    func testCallocReallocAndAlignedAreCounted() {
        for size in sizes {
            assertCounted("calloc", prepare: {}) {
                let p = calloc(size, 1)!
                held.append(p)
                return usable(p)
            }
            assertCounted("realloc grow", prepare: { malloc(16)! }) { p in
                let old = usable(p)
                let q = realloc(p, size * 2)!
                held.append(q)
                return usable(q) - old
            }
            assertCounted("realloc shrink", prepare: { malloc(size * 2)! }) { p in
                let old = usable(p)
                let q = realloc(p, 8)!
                held.append(q)
                return usable(q) - old
            }
            assertCounted("realloc(nil)", prepare: {}) {
                let q = realloc(nil, size)!
                held.append(q)
                return usable(q)
            }
            assertCounted("posix_memalign", prepare: {}) {
                var p: UnsafeMutableRawPointer?
                XCTAssertEqual(posix_memalign(&p, 4096, size), 0)
                XCTAssertEqual(Int(bitPattern: p) % 4096, 0)
                held.append(p!)
                return usable(p)
            }
            assertCounted("aligned_alloc", prepare: {}) {
                let p = aligned_alloc(64, (size + 63) & ~63)!
                XCTAssertEqual(Int(bitPattern: p) % 64, 0)
                held.append(p)
                return usable(p)
            }
        }
        var p: UnsafeMutableRawPointer?
        XCTAssertEqual(posix_memalign(&p, 3, 64), EINVAL)
        XCTAssertNil(p)
    }

    func testSwiftObjectsAreCounted() {
        var objects: [Payload] = []
        objects.reserveCapacity(8)
        assertCounted("Swift object", prepare: {}) {
            let o = Payload()
            objects.append(o)
            return MemoryAccounting.objectBytes(o)
        }
        // Its release frees exactly its allocation.
        assertCounted("Swift object release", prepare: { () -> Int in
            objects.append(Payload())
            return MemoryAccounting.objectBytes(objects.last!)
        }) { bytes in
            objects.removeLast()
            return -bytes
        }
    }

    func testPeakIsAtLeastTheHighestTotal() {
        let p = malloc(8 << 20)!
        let high = MemoryAccounting.allocatedBytes()
        free(p)
        XCTAssertGreaterThanOrEqual(MemoryAccounting.peakAllocated + MemoryAccounting.flushThreshold * 8, high)
        XCTAssertLessThan(MemoryAccounting.allocatedBytes(), high - (8 << 20) + MemoryAccounting.flushThreshold * 8)
    }
}
