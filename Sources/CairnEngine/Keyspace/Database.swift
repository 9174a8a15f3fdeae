// One logical database (SELECT n): the key table and the index of keys with a TTL.
//
// Expiry is kept in the entry (absolute milliseconds) and, for keys that have one, in a second
// table so the active expiry cycle samples only volatile keys, as Redis samples its `expires`
// dict. The two tables are kept in step by the only functions that change TTLs here.

public final class KeyEntry: ChainedNode {
    // Stored properties are laid out in declaration order: the 4-byte clock sits in the
    // padding after `value`, which keeps the object at 88 bytes (a 96-byte malloc chunk).
    public let key: Bytes
    public var value: Value
    /// Last access time in seconds (OBJECT IDLETIME) or, under an LFU policy, the LFU counter.
    public var accessClock: UInt32
    /// Absolute expiry in Unix milliseconds; `KeyEntry.noExpiry` when the key is persistent.
    public var expireAtMs: Int64
    public var chainNext: KeyEntry?

    public static let noExpiry: Int64 = -1

    public init(key: Bytes, value: Value, expireAtMs: Int64 = KeyEntry.noExpiry, clock: UInt32) {
        self.key = key
        self.value = value
        self.expireAtMs = expireAtMs
        self.accessClock = clock
    }

    public var hasExpiry: Bool { expireAtMs != KeyEntry.noExpiry }
}

public final class VolatileNode: ChainedNode {
    public let key: Bytes
    public unowned let entry: KeyEntry
    public var chainNext: VolatileNode?
    init(_ entry: KeyEntry) { self.key = entry.key; self.entry = entry }
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

    public func find(_ key: UnsafeRawBufferPointer) -> KeyEntry? { keys.find(key) }

    public func find(_ key: Bytes) -> KeyEntry? { keys.find(key) }

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
        entry.key.withUnsafeBytes { _ = volatile.remove($0) }
        entry.expireAtMs = KeyEntry.noExpiry
    }

    /// Empties the database, returning the detached tables (release them off the engine
    /// loop for a lazy free).
    public func takeAll() -> [AnyObject] {
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
        if snapshotEpoch != 0 { entry.key.withUnsafeBytes { willMutate($0) } }
    }
}
