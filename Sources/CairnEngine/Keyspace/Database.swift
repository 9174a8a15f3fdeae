// One logical database (SELECT n): the key table and the index of keys with a TTL.
//
// Expiry is kept in the entry (absolute milliseconds) and, for keys that have one, in a second
// table so the active expiry cycle samples only volatile keys, as Redis samples its `expires`
// dict. The two tables are kept in step by the only functions that change TTLs here.

#if canImport(Glibc)
import Glibc
#endif

/// One key: its metadata, its key bytes and (when short) its string value in ONE allocation.
///
///   [ object header 16 ][ header 36 ][ key bytes ][ value region ]
///   header: chainNext 8 | expireAtMs 8 | boxed 8 | accessClock 4 | keyCount 4 | valueWord 4
///
/// The value region holds an inline string (up to `inlineStringLimit` bytes, or whatever fits in
/// the allocation when it is overwritten) or an Int64 (unaligned, 8 bytes, always reserved).
/// Collections and long strings live in `boxed`, one reference. A 16-byte key with a 100-byte
/// value costs one 176-byte malloc chunk instead of an entry object plus a value array.
/// `value` still answers with a `Value`, so commands read and write values as before; the hot
/// string paths use `storageKind` and `withInlineString` to avoid building one.
public final class KeyEntry: ManagedBuffer<KeyEntryHeader, UInt8>, HashNode {
    public static let noExpiry: Int64 = -1
    /// Strings up to this length are stored inside the entry when it is created. Longer ones
    /// get their own array, so a later short overwrite does not strand a big allocation.
    public static let inlineStringLimit = 512

    /// Makes an entry. Keys longer than UInt32.max bytes cannot exist (proto-max-bulk-len and
    /// the query buffer limit stop them long before), so the count is stored in 32 bits.
    public static func make(key: Bytes, value: Value, expireAtMs: Int64 = KeyEntry.noExpiry,
                            clock: UInt32) -> KeyEntry {
        key.withUnsafeBytes { make(key: $0, value: value, expireAtMs: expireAtMs, clock: clock) }
    }

    public static func make(key: UnsafeRawBufferPointer, value: Value,
                            expireAtMs: Int64 = KeyEntry.noExpiry, clock: UInt32) -> KeyEntry {
        var valueRoom = 8
        if case .string(let b) = value, b.count <= inlineStringLimit { valueRoom = max(8, b.count) }
        let entry = allocate(key: key, valueRoom: valueRoom, expireAtMs: expireAtMs, clock: clock)
        entry.store(value)
        return entry
    }

    /// Makes an entry holding the string `value` as it is (no integer form chosen), without a
    /// `Bytes` in between: inline up to `inlineStringLimit`, else boxed (the snapshot loader).
    public static func make(key: UnsafeRawBufferPointer, string value: UnsafeRawBufferPointer,
                            expireAtMs: Int64 = KeyEntry.noExpiry, clock: UInt32) -> KeyEntry {
        guard value.count <= inlineStringLimit else {
            return make(key: key, value: .string(Bytes(value)), expireAtMs: expireAtMs, clock: clock)
        }
        let entry = allocate(key: key, valueRoom: max(8, value.count), expireAtMs: expireAtMs, clock: clock)
        let offset = key.count
        if let base = value.baseAddress, value.count > 0 {
            entry.withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0 + offset).copyMemory(from: base, byteCount: value.count) }
        }
        entry.header.valueWord = KeyEntry.inlineWord(value.count)
        return entry
    }

    /// The allocation with the header and key bytes set (value: the integer 0).
    private static func allocate(key: UnsafeRawBufferPointer, valueRoom: Int, expireAtMs: Int64, clock: UInt32) -> KeyEntry {
        precondition(key.count <= Int(UInt32.max), "key too long")
        let buffer = KeyEntry.create(minimumCapacity: key.count + valueRoom) { _ in
            KeyEntryHeader(chainNext: nil, expireAtMs: expireAtMs, boxed: .none, accessClock: clock,
                           keyCount: UInt32(key.count), valueWord: KeyEntry.intKind)
        }
        let entry = unsafeDowncast(buffer, to: KeyEntry.self)
        if let base = key.baseAddress, key.count > 0 {
            entry.withUnsafeMutablePointerToElements { $0.initialize(from: base.assumingMemoryBound(to: UInt8.self), count: key.count) }
        }
        return entry
    }

    // valueWord: low 2 bits are the kind, bit 2 the raw-encoding mark, the rest (>> 3) the
    // inline string's length.
    @usableFromInline static let inlineKind: UInt32 = 0
    @usableFromInline static let intKind: UInt32 = 1
    @usableFromInline static let boxedKind: UInt32 = 2
    @usableFromInline static let rawMark: UInt32 = 4

    /// The valueWord of an inline string of `n` bytes (unmarked).
    @inline(__always)
    static func inlineWord(_ n: Int) -> UInt32 { UInt32(truncatingIfNeeded: n) << 3 | inlineKind }

    public enum StorageKind { case inlineString, int, boxed }

    @inlinable
    public var storageKind: StorageKind {
        switch header.valueWord & 3 {
        case KeyEntry.inlineKind: return .inlineString
        case KeyEntry.intKind: return .int
        default: return .boxed
        }
    }

    public var chainNext: KeyEntry? {
        @inline(__always) get { header.chainNext }
        @inline(__always) set { header.chainNext = newValue }
    }

    public var chainNextAddress: UnsafeRawPointer? {
        // chainNext is the header's first field; an optional reference is one nullable address.
        @inline(__always) get { withUnsafeMutablePointerToHeader { UnsafeRawPointer($0).load(as: UnsafeRawPointer?.self) } }
    }

    /// Absolute expiry in Unix milliseconds; `KeyEntry.noExpiry` when the key is persistent.
    public var expireAtMs: Int64 {
        @inline(__always) get { header.expireAtMs }
        @inline(__always) set { header.expireAtMs = newValue }
    }

    /// Last access time in seconds (OBJECT IDLETIME) or, under an LFU policy, the LFU counter.
    public var accessClock: UInt32 {
        @inline(__always) get { header.accessClock }
        @inline(__always) set { header.accessClock = newValue }
    }

    public var hasExpiry: Bool { header.expireAtMs != KeyEntry.noExpiry }

    @inlinable
    public var keyCount: Int { Int(header.keyCount) }

    /// The key as Bytes (a copy; prefer `withKeyBytes` on hot paths).
    public var key: Bytes { withKeyBytes { Bytes($0) } }

    @inlinable
    public func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let n = Int(header.keyCount)
        return try withUnsafeMutablePointerToElements { try body(UnsafeRawBufferPointer(start: $0, count: n)) }
    }

    @inlinable
    public func keyEquals(_ other: UnsafeRawBufferPointer) -> Bool {
        let n = Int(header.keyCount)
        guard n == other.count else { return false }
        if n == 0 { return true }
        return withUnsafeMutablePointerToElements { memcmp($0, other.baseAddress!, n) == 0 }
    }

    /// Calls `body` with the bytes of an inline string value; nil for any other storage.
    @inlinable
    public func withInlineString<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        let word = header.valueWord
        guard word & 3 == KeyEntry.inlineKind else { return nil }
        let offset = Int(header.keyCount)
        return try withUnsafeMutablePointerToElements {
            try body(UnsafeRawBufferPointer(start: $0 + offset, count: Int(word >> 3)))
        }
    }

    /// The integer of an int-encoded value (call only when `storageKind == .int`).
    @inlinable
    public var intValue: Int64 {
        let offset = Int(header.keyCount)
        return withUnsafeMutablePointerToElements { UnsafeRawPointer($0 + offset).loadUnaligned(as: Int64.self) }
    }

    /// The value. Reading an inline string copies it into a Bytes; writing stores a string
    /// inline when it fits the allocation, an integer inline always, anything else boxed.
    public var value: Value {
        get {
            switch header.valueWord & 3 {
            case KeyEntry.inlineKind: return .string(withInlineString { Bytes($0) }!)
            case KeyEntry.intKind: return .int(intValue)
            default:
                switch header.boxed {
                case .bytes(let a): return .string(Bytes(array: a))
                case .hash(let h): return .hash(h)
                case .list(let l): return .list(l)
                case .set(let s): return .set(s)
                case .zset(let z): return .zset(z)
                case .none: return .string(Bytes())
                }
            }
        }
        set { store(newValue) }
    }

    @usableFromInline
    func store(_ value: Value) {
        switch value {
        case .string(let b):
            let n = b.count
            let room = capacity - Int(header.keyCount)
            if n <= room && n < (1 << 29) {
                header.boxed = .none
                let offset = Int(header.keyCount)
                b.withUnsafeBytes { src in
                    if n > 0 { withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0 + offset).copyMemory(from: src.baseAddress!, byteCount: n) } }
                }
                header.valueWord = KeyEntry.inlineWord(n)
            } else {
                header.boxed = .bytes(b.array)
                header.valueWord = KeyEntry.boxedKind
            }
        case .int(let v):
            header.boxed = .none
            let offset = Int(header.keyCount)
            withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0 + offset).storeBytes(of: v, as: Int64.self) }
            header.valueWord = KeyEntry.intKind
        case .hash(let h): header.boxed = .hash(h); header.valueWord = KeyEntry.boxedKind
        case .list(let l): header.boxed = .list(l); header.valueWord = KeyEntry.boxedKind
        case .set(let s): header.boxed = .set(s); header.valueWord = KeyEntry.boxedKind
        case .zset(let z): header.boxed = .zset(z); header.valueWord = KeyEntry.boxedKind
        }
    }

    /// Marks a string as modified in place (APPEND, SETRANGE, SETBIT, BITFIELD, BITOP): Redis
    /// then reports it as "raw" whatever its length. Storing a new value clears the mark.
    public func markRawEncoding() { header.valueWord |= KeyEntry.rawMark }

    /// The OBJECT ENCODING reply, with Redis's names: a string is "embstr" up to 44 bytes
    /// unless it was modified in place.
    public var encodingName: String {
        let word = header.valueWord
        let raw = word & KeyEntry.rawMark != 0
        switch word & 3 {
        case KeyEntry.intKind: return "int"
        case KeyEntry.inlineKind: return raw || word >> 3 > 44 ? "raw" : "embstr"
        default:
            if case .bytes(let a) = header.boxed { return raw || a.count > 44 ? "raw" : "embstr" }
            return value.encodingName
        }
    }

    /// Heap bytes of a boxed value (0 for inline strings and integers).
    public var boxedBytes: Int {
        switch header.boxed {
        case .none: return 0
        case .bytes(let a): return MemoryAccounting.arrayBytes(a)
        case .hash(let h): return h.memoryBytes
        case .list(let l): return l.memoryBytes
        case .set(let s): return s.memoryBytes
        case .zset(let z): return z.memoryBytes
        }
    }
}

/// The fixed part of a KeyEntry (see KeyEntry). 36 bytes: keep it that way, it decides which
/// malloc size class a key falls into.
public struct KeyEntryHeader {
    @usableFromInline var chainNext: KeyEntry?
    @usableFromInline var expireAtMs: Int64
    @usableFromInline var boxed: BoxedValue
    @usableFromInline var accessClock: UInt32
    @usableFromInline var keyCount: UInt32
    @usableFromInline var valueWord: UInt32
}

/// A value kept outside the entry: one reference (the enum packs its tag into spare pointer bits).
@usableFromInline
enum BoxedValue {
    case none
    case bytes([UInt8])
    case hash(HashValue)
    case list(ListValue)
    case set(SetValue)
    case zset(ZSetValue)
}

/// A key's place in the table of keys with a TTL. It borrows the key from its entry, which the
/// database keeps alive for as long as this node is in the table.
public final class VolatileNode: HashNode {
    public unowned(unsafe) let entry: KeyEntry
    public var chainNext: VolatileNode?
    init(_ entry: KeyEntry) { self.entry = entry }

    @inlinable
    public func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try entry.withKeyBytes(body)
    }
    @inlinable
    public func keyEquals(_ other: UnsafeRawBufferPointer) -> Bool { entry.keyEquals(other) }
}

public final class Database {
    public let id: Int
    public private(set) var keys: HashTable<KeyEntry>
    public private(set) var volatile: HashTable<VolatileNode>
    /// Running sum of TTLs seen by the active expiry cycle, for INFO keyspace avg_ttl.
    public var avgTTL: Int64 = 0

    public init(id: Int, seed: SipHashSeed) {
        self.id = id
        self.keys = HashTable(seed: seed)
        self.volatile = HashTable(seed: seed)
    }

    public var count: Int { keys.count }
    public var expiresCount: Int { volatile.count }

    // The table is borrowed for the lookup, not retained: a lookup never replaces it.
    @inline(__always)
    public func find(_ key: UnsafeRawBufferPointer) -> KeyEntry? {
        Unmanaged.passUnretained(keys)._withUnsafeGuaranteedRef { $0.find(key) }
    }

    @inline(__always)
    public func find(_ key: Bytes) -> KeyEntry? {
        Unmanaged.passUnretained(keys)._withUnsafeGuaranteedRef { $0.find(key) }
    }

    /// Pre-sizes empty tables (snapshot loading, from the file's RESIZEDB hint).
    public func reserve(keys: Int, expires: Int) {
        self.keys.reserve(keys)
        volatile.reserve(expires)
    }

    /// Adds a key that does not exist.
    public func add(_ entry: KeyEntry) {
        keys.insert(entry)
        if entry.hasExpiry { volatile.insert(VolatileNode(entry)) }
    }

    /// Adds a key unless it exists (the snapshot loader): false, and nothing changed, when
    /// the key is there. `hash` is `keys.hash` of the key (the TTL table shares the seed);
    /// `volatileNode` is the entry's node for the TTL table, made by the caller when the
    /// entry has a TTL.
    func addIfAbsent(_ entry: __owned KeyEntry, volatileNode: __owned VolatileNode?, hash: UInt64) -> Bool {
        // Everything read from the entry before it is handed to the table (moved, not retained).
        let ttlNode = entry.hasExpiry ? (volatileNode ?? VolatileNode(entry)) : nil
        if keys.insertIfAbsent(entry, hash: hash) != nil { return false }
        if let ttlNode { volatile.insert(ttlNode, hash: hash) }
        return true
    }

    /// Removes a key; returns its entry.
    @discardableResult
    public func remove(_ key: UnsafeRawBufferPointer) -> KeyEntry? {
        guard let e = keys.remove(key) else { return nil }
        if e.hasExpiry { volatile.remove(key) }
        return e
    }

    @discardableResult
    public func remove(_ key: Bytes) -> KeyEntry? { key.withUnsafeBytes { remove($0) } }

    public func setExpiry(_ entry: KeyEntry, _ at: Int64) {
        keys.willMutate(entryKey: entry)
        if !entry.hasExpiry { volatile.insert(VolatileNode(entry)) }
        entry.expireAtMs = at
    }

    public func removeExpiry(_ entry: KeyEntry) {
        guard entry.hasExpiry else { return }
        keys.willMutate(entryKey: entry)
        entry.withKeyBytes { _ = volatile.remove($0) }
        entry.expireAtMs = KeyEntry.noExpiry
    }

    /// Empties the database, returning the detached tables (release them off the engine
    /// loop for a lazy free). The avg_ttl estimate starts over, as Redis's emptyData does.
    public func takeAll() -> [AnyObject] {
        avgTTL = 0
        let a = keys.takeAll()
        let b = volatile.takeAll()
        return [a, b]
    }

    /// Swaps contents with another database (SWAPDB).
    public func swapContents(with other: Database) {
        swap(&keys, &other.keys)
        swap(&volatile, &other.volatile)
        swap(&avgTTL, &other.avgTTL)
    }
}

extension HashTable where Node == KeyEntry {
    @inline(__always)
    func willMutate(entryKey entry: KeyEntry) {
        if snapshotEpoch != 0 { entry.withKeyBytes { willMutate($0) } }
    }
}
