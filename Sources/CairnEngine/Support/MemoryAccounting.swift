// Memory accounting from the allocator itself: the CAllocCounter layer counts the usable size
// of every block malloc and friends hand out and take back (Redis's used_memory, as zmalloc
// counts it), and malloc_usable_size gives the real size of one allocation. MEMORY USAGE sums
// the allocations that make up one key.
//
// glibc's mallinfo2 gave the same figure, but walks every free chunk of every arena: after a
// million-member set was freed one call took ~0.5 s, and the cron's call every tick stalled
// the engine loop.

#if canImport(Glibc)
import Glibc
import CMalloc
#endif
import CAllocCounter

public enum MemoryAccounting {
    /// Allocated bytes when the server finished starting (set by the server).
    nonisolated(unsafe) public static var startupAllocated = 0

    /// Bytes currently allocated through malloc (Redis's used_memory). Exact for the calling
    /// thread's own allocations; each other thread may hold up to `flushThreshold` uncounted.
    public static func allocatedBytes() -> Int { Int(cairn_allocated_bytes()) }

    /// The most ever allocated at once (used_memory_peak).
    public static var peakAllocated: Int { Int(cairn_peak_allocated_bytes()) }

    /// How far another thread's allocations may be from the total (see allocatedBytes).
    public static var flushThreshold: Int { Int(cairn_alloc_flush_threshold()) }

    /// Real size of a heap object's allocation.
    public static func objectBytes(_ object: AnyObject) -> Int {
        Int(malloc_usable_size(Unmanaged.passUnretained(object).toOpaque()))
    }

    /// Real size of an array's heap buffer (0 for the shared empty array).
    public static func arrayBytes(_ a: [UInt8]) -> Int {
        guard a.capacity > 0 else { return 0 }
        // A native array's elements start 32 bytes after its heap object on 64-bit Linux.
        return a.withUnsafeBufferPointer { p in
            Int(malloc_usable_size(UnsafeMutableRawPointer(mutating: p.baseAddress!) - 32))
        }
    }

    /// Bytes one key costs: its entry (key and short value inside), a boxed value, its table
    /// slot(s).
    public static func entryBytes(_ e: KeyEntry) -> Int {
        var total = objectBytes(e) + e.boxedBytes + 12
        if e.hasExpiry { total += 48 + 12 }   // VolatileNode + its slot
        return total
    }
}
