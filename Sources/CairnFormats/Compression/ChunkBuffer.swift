// ChunkBuffer: a growable byte buffer of our own (a plain allocation, no copy-on-write, no
// reference counting of its storage), for decompressed bytes that are handed from one thread
// to another and then reused. A start-up load decompresses a 100 MB+ stream: producing each
// step into a fresh Array touched fresh pages (a page fault and a page clear per 4 KiB) and
// copied every byte twice (liblz4's output buffer → the array → the array grown); a reused
// buffer decoded into in place does neither.

public final class ChunkBuffer {
    public private(set) var base: UnsafeMutableRawPointer
    public private(set) var capacity: Int
    /// Bytes in use, from `base`.
    public private(set) var count = 0

    public init(capacity: Int = 64 * 1024) {
        self.capacity = max(capacity, 16)
        base = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
    public var isEmpty: Bool { count == 0 }

    /// Makes at least `n` bytes free after `count` (at least doubling, keeping the bytes).
    public func reserve(free n: Int) {
        precondition(n >= 0 && n <= Int.max - count, "chunk too large")
        guard capacity - count < n else { return }
        let bigger = max(count + n, capacity <= Int.max / 2 ? 2 * capacity : Int.max)
        let grown = UnsafeMutableRawPointer.allocate(byteCount: bigger, alignment: 16)
        grown.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = grown
        capacity = bigger
    }

    /// The free space after `count`; write into it, then `commit` what was written.
    public var free: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base + count, count: capacity - count)
    }

    /// Counts `n` bytes written into `free` as in use.
    public func commit(_ n: Int) {
        precondition(n >= 0 && n <= capacity - count)
        count += n
    }

    public func append(_ bytes: UnsafeRawBufferPointer) {
        guard let src = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(free: bytes.count)
        (base + count).copyMemory(from: src, byteCount: bytes.count)
        count += bytes.count
    }

    /// Empties the buffer, keeping its memory.
    public func removeAll() { count = 0 }
}
