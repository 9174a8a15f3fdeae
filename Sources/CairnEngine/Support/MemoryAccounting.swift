// Memory accounting from the allocator itself: glibc's mallinfo2 reports bytes handed out
// (in-use arena chunks plus mmapped blocks), and malloc_usable_size gives the real size of one
// allocation. MEMORY USAGE sums the allocations that make up one key.

#if canImport(Glibc)
import Glibc
import CMalloc
#endif

public enum MemoryAccounting {
    /// Allocated bytes when the server finished starting (set by the server).
    nonisolated(unsafe) public static var startupAllocated = 0
    nonisolated(unsafe) public static var peakAllocated = 0

    /// Bytes currently allocated through malloc (Redis's used_memory).
    public static func allocatedBytes() -> Int {
        #if canImport(Glibc)
        let info = mallinfo2()
        let used = Int(info.uordblks) + Int(info.hblkhd)
        if used > peakAllocated { peakAllocated = used }
        return used
        #else
        return 0
        #endif
    }

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
