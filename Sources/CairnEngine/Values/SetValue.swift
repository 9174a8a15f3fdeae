// Set values (SADD and friends).
//
// Three encodings, as in Redis 7.2 (OBJECT ENCODING answers with these names):
//
//   intset     a sorted array of 64-bit integers, while every member is a canonical integer
//              (string2ll rules: "12", not "012" or "+12") and there are at most
//              set-max-intset-entries of them. SMEMBERS answers in ascending order, as Redis.
//   listpack   the members' bytes end to end in one PackedList, in insertion order, while there
//              are at most set-max-listpack-entries members of at most set-max-listpack-value
//              bytes each. A set of ten "member-N" strings is one object and one ~112-byte
//              buffer instead of a table and ten nodes (about a third of the memory).
//   hashtable  one 32-byte node per member (link + member) in a MemberTable.
//
// Conversions (Redis 7.2's t_set.c; a set never converts back, except the few commands that
// build a new value, below):
//
//   intset ──non-integer member──▶ listpack   when the result fits the listpack limits: fewer
//      │                                      than set-max-listpack-entries before the add,
//      │                                      the new member and the longest integer's text
//      │                                      within set-max-listpack-value. The integers go
//      │                                      first, ascending, then the new member.
//      ├──non-integer member, too big──▶ hashtable
//      └──more than set-max-intset-entries──▶ hashtable (not listpack: Redis's
//                                              maybeConvertIntset goes straight to the table)
//   listpack ──a member too long, or one too many──▶ hashtable
//
// Creation (setTypeCreate, with the number of members the command is about to add as the
// size hint): intset when the first member is an integer and the hint fits
// set-max-intset-entries, else listpack when the hint fits set-max-listpack-entries, else a
// hashtable sized for the hint. SADD on an existing set converts it first when the hint alone
// exceeds the current encoding's limit (setTypeMaybeConvert) - the hint counts arguments, so
// `SADD s a a a …` with 129 arguments makes a hashtable of one member, as in Redis.
//
// Loading follows Redis 7.2's rdbLoadObject (`loading` / `addLoaded` for plain sets and intsets,
// `loadingListpack` / `addLoadedListpackMember` for RDB listpacks, which stay listpacks); see
// docs/formats/snapshot.md for what each RDB version stores.
//
// Values built whole by a command follow their Redis 7.2 recipes (SetCommands.swift):
// SUNION(STORE)/SDIFF(STORE) results start as an intset, SINTERSTORE results as an intset
// (first set an intset) or a listpack and become an intset when every member is an integer,
// SPOP's survivors become a listpack (or stay an intset).

public final class SetValue {
    public enum Encoding: UInt8 {
        case intset, listpack, hashtable
    }

    /// What holds the members besides `packed`: one word (the enum keeps its tag in the
    /// references' spare bits), so a set is a 40-byte object, a 48-byte malloc chunk, like
    /// before listpacks existed (SetValueTests pins it).
    private enum Storage {
        /// Members in ascending order.
        case intset([Int64])
        /// The members are in `packed`, in insertion order.
        case listpack
        /// Its nodes belong to this value.
        case table(MemberTable)
    }
    private var storage: Storage = .intset([])
    private(set) var packed = PackedList()

    public var encoding: Encoding {
        switch storage {
        case .intset: return .intset
        case .listpack: return .listpack
        case .table: return .hashtable
        }
    }
    /// Members in ascending order while the set is an intset (empty otherwise).
    public var ints: [Int64] {
        if case .intset(let a) = storage { return a }
        return []
    }
    /// The table once converted.
    public var table: MemberTable? {
        if case .table(let t) = storage { return t }
        return nil
    }

    /// Changes the intset's array in place (no copy: the enum lets go of it meanwhile).
    @inline(__always)
    private func mutateInts<R>(_ body: (inout [Int64]) -> R) -> R {
        guard case .intset(var a) = storage else { preconditionFailure("not an intset") }
        storage = .listpack
        defer { storage = .intset(a) }
        return body(&a)
    }

    /// Bytes of a member node: the table's link and key, no payload.
    static let nodeSize = MemberNode.payloadOffset
    /// The most bytes a listpack may hold (Redis's LISTPACK_MAX_SAFETY_SIZE, lpSafeToAdd).
    static let listpackBytesMax = 1 << 30

    /// An empty intset (Redis starts SUNION/SDIFF results and integer members this way).
    public init() {}

    private init(storage: Storage) { self.storage = storage }

    /// An empty table sized for `n` members.
    private convenience init(tableFor n: Int, seed: SipHashSeed) {
        let t = MemberTable(seed: seed)
        t.reserve(n)
        self.init(storage: .table(t))
    }

    /// An empty listpack (Redis's createSetListpackObject).
    public static func emptyListpack() -> SetValue { SetValue(storage: .listpack) }

    /// A new set that can hold `first`, for a command about to add `sizeHint` members
    /// (Redis 7.2's setTypeCreate).
    public static func creating(for first: Bytes, sizeHint: Int, limits: CollectionLimits) -> SetValue {
        if sizeHint <= intsetMaxEntries(limits) && integer(first) != nil { return SetValue() }
        if sizeHint <= limits.setMaxListpackEntries { return emptyListpack() }
        // The hint may oversize the table (duplicates); Redis takes that risk too.
        return SetValue(tableFor: sizeHint, seed: limits.seed)
    }

    /// An empty set for loading `count` members from a file (Redis 7.2's rdbLoadObject for a
    /// plain set): the table straight away when there are more than an intset holds,
    /// otherwise an intset that `addLoaded` turns into a listpack or table as members come.
    /// `reserveAtMost` caps what a count read from a file may reserve.
    public static func loading(count: Int, limits: CollectionLimits, reserveAtMost: Int = 1 << 16) -> SetValue {
        if count > intsetMaxEntries(limits) {
            return SetValue(tableFor: min(count, reserveAtMost), seed: limits.seed)
        }
        return SetValue()
    }

    /// An empty set for loading an RDB listpack (type 20) of `count` members: a listpack, as
    /// Redis 7.2 keeps it, unless it has more than set-max-listpack-entries (then the table).
    public static func loadingListpack(count: Int, limits: CollectionLimits, reserveAtMost: Int = 1 << 16) -> SetValue {
        if count > limits.setMaxListpackEntries {
            return SetValue(tableFor: min(count, reserveAtMost), seed: limits.seed)
        }
        return emptyListpack()
    }

    /// Adds a member of an RDB listpack loaded as one (`loadingListpack`): appended in file
    /// order whatever it holds (Redis checks neither integers nor set-max-listpack-value
    /// there). Returns false for a duplicate.
    public func addLoadedListpackMember(_ member: UnsafeRawBufferPointer, limits: CollectionLimits, checkDuplicate: Bool) -> Bool {
        guard case .listpack = storage,
              packed.endOffset + PackedList.entrySize(member.count) <= SetValue.listpackBytesMax else {
            if isListpack { convertToTable(seed: limits.seed, reserve: count + 1) }
            return add(member, limits: limits, checkDuplicate: checkDuplicate)
        }
        if checkDuplicate && packed.find(member) != nil { return false }
        packed.append(member)
        return true
    }

    /// The end of a loaded RDB listpack: one with more members than its count said and than
    /// set-max-listpack-entries allows becomes the table, as Redis converts it after loading.
    public func finishLoadedListpack(limits: CollectionLimits) {
        if isListpack && count > limits.setMaxListpackEntries { convertToTable(seed: limits.seed) }
        shrinkListpackToFit()
    }

    deinit { table?.forEach { $0.free() } }

    public var count: Int {
        switch storage {
        case .intset(let a): return a.count
        case .listpack: return packed.count
        case .table(let t): return t.count
        }
    }
    public var isIntset: Bool { encoding == .intset }
    public var isListpack: Bool { encoding == .listpack }
    public var encodingName: String {
        switch encoding {
        case .intset: return "intset"
        case .listpack: return "listpack"
        case .hashtable: return "hashtable"
        }
    }

    /// set-max-intset-entries, capped at 2^30 as Redis caps it (intset internals).
    @inline(__always)
    static func intsetMaxEntries(_ limits: CollectionLimits) -> Int {
        min(limits.setMaxIntsetEntries, 1 << 30)
    }

    @inline(__always)
    static func integer(_ b: Bytes) -> Int64? {
        b.count <= 20 ? b.withUnsafeBytes { parseInt64($0) } : nil
    }

    @inline(__always)
    static func integer(_ b: UnsafeRawBufferPointer) -> Int64? {
        b.count <= 20 ? parseInt64(b) : nil
    }

    /// Bytes of `v`'s decimal text ("-12" is 3), Redis's sdigits10.
    static func decimalLength(_ v: Int64) -> Int {
        var n = v < 0 ? 2 : 1
        var m = v.magnitude
        while m >= 10 { m /= 10; n += 1 }
        return n
    }

    /// Index of `v` in `ints`, or where it would be inserted.
    @inline(__always)
    static func intIndex(_ ints: [Int64], _ v: Int64) -> (index: Int, found: Bool) {
        var lo = 0, hi = ints.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if ints[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return (lo, lo < ints.count && ints[lo] == v)
    }

    public func contains(_ member: Bytes) -> Bool {
        member.withUnsafeBytes { contains($0) }
    }

    public func contains(_ member: UnsafeRawBufferPointer) -> Bool {
        switch storage {
        case .table(let t): return t.find(member) != nil
        case .listpack: return packed.find(member) != nil
        case .intset(let a):
            guard let v = SetValue.integer(member) else { return false }
            return SetValue.intIndex(a, v).found
        }
    }

    // MARK: adding

    /// Adds a member; returns true when it was not there (Redis 7.2's setTypeAdd).
    @discardableResult
    public func add(_ member: Bytes, limits: CollectionLimits) -> Bool {
        member.withUnsafeBytes { add($0, limits: limits, checkDuplicate: true) }
    }

    /// Adds a member read from a file (Redis 7.2's plain-set load): as `add`, except that an
    /// intset is never outgrown here (`loading(count:)` chose the table up front) unless the
    /// file's count was wrong. `checkDuplicate: false` when the caller has refused duplicates
    /// already. Returns false for a duplicate.
    public func addLoaded(_ member: UnsafeRawBufferPointer, limits: CollectionLimits, checkDuplicate: Bool) -> Bool {
        add(member, limits: limits, checkDuplicate: checkDuplicate)
    }

    private func add(_ member: UnsafeRawBufferPointer, limits: CollectionLimits, checkDuplicate: Bool) -> Bool {
        switch storage {
        case .table(let t):
            let h = t.hash(member)
            if checkDuplicate && t.find(member, hash: h) != nil { return false }
            t.insert(MemberNode.allocate(size: SetValue.nodeSize, key: Bytes(member)), hash: h)
            return true

        case .listpack:
            if checkDuplicate && packed.find(member) != nil { return false }
            if packed.count < limits.setMaxListpackEntries && member.count <= limits.setMaxListpackValue
                && packed.endOffset + PackedList.entrySize(member.count) <= SetValue.listpackBytesMax {
                packed.append(member)
            } else {
                convertToTable(seed: limits.seed, reserve: packed.count + 1)
                table!.insert(MemberNode.allocate(size: SetValue.nodeSize, key: Bytes(member)))
            }
            return true

        case .intset:
            if let v = SetValue.integer(member) {
                let grown: Int? = mutateInts { a in
                    let (i, found) = SetValue.intIndex(a, v)
                    if found { return nil }
                    a.insert(v, at: i)
                    return a.count
                }
                guard let n = grown else { return false }
                if n > SetValue.intsetMaxEntries(limits) {
                    convertToTable(seed: limits.seed, reserve: n)
                }
                return true
            }
            let ints = self.ints
            // Not an integer: a listpack when everything fits one, else the table.
            var longest = 0
            if let lo = ints.first, let hi = ints.last {
                longest = max(SetValue.decimalLength(lo), SetValue.decimalLength(hi))
            }
            if ints.count < limits.setMaxListpackEntries && member.count <= limits.setMaxListpackValue
                && longest <= limits.setMaxListpackValue
                && ints.count * PackedList.entrySize(longest) + PackedList.entrySize(member.count) <= SetValue.listpackBytesMax {
                convertToListpack(extraBytes: PackedList.entrySize(member.count))
                packed.append(member)
            } else {
                convertToTable(seed: limits.seed, reserve: ints.count + 1)
                table!.insert(MemberNode.allocate(size: SetValue.nodeSize, key: Bytes(member)))
            }
            return true
        }
    }

    /// Converts ahead of adding `sizeHint` members when the hint alone is over the current
    /// encoding's limit (Redis 7.2's setTypeMaybeConvert, SADD on an existing set).
    public func convertIfHintExceedsLimits(_ sizeHint: Int, limits: CollectionLimits) {
        if (encoding == .listpack && sizeHint > limits.setMaxListpackEntries)
            || (encoding == .intset && sizeHint > limits.setMaxIntsetEntries) {
            convertToTable(seed: limits.seed, reserve: sizeHint)
        }
    }

    /// Sizes an empty listpack for `members` (the arguments of the SADD that creates it), so
    /// it is built in one allocation. Nothing when a member could not go in a listpack.
    public func reserve(members: ArraySlice<Bytes>, limits: CollectionLimits) {
        guard encoding == .listpack && packed.isEmpty && members.count <= limits.setMaxListpackEntries else { return }
        var bytes = 0
        for m in members {
            if m.count > limits.setMaxListpackValue { return }
            bytes += PackedList.entrySize(m.count)
        }
        // set-max-listpack-value may be configured huge: never reserve past the listpack cap.
        if bytes <= SetValue.listpackBytesMax { packed.reserveExactly(extra: bytes) }
    }

    /// Turns a set whose members are all integers into an intset when it has at most
    /// set-max-intset-entries (Redis 7.2's maybeConvertToIntset, SINTERSTORE's last step).
    public func convertToIntsetIfAllIntegers(limits: CollectionLimits) {
        guard !isIntset && count <= SetValue.intsetMaxEntries(limits) else { return }
        var values: [Int64] = []
        values.reserveCapacity(count)
        var allIntegers = true
        forEachRaw { m in
            guard let v = SetValue.integer(m) else { allIntegers = false; return false }
            values.append(v)
            return true
        }
        guard allIntegers else { return }
        values.sort()
        dropStorage()
        storage = .intset(values)
    }

    // MARK: removing

    /// Removes a member; returns whether it was there.
    @discardableResult
    public func remove(_ member: Bytes) -> Bool {
        switch storage {
        case .table(let t):
            guard let n = t.remove(member) else { return false }
            n.free()
            t.shrinkIfNeeded()
            return true
        case .listpack:
            guard let at = packed.find(member) else { return false }
            packed.remove(at: at)
            return true
        case .intset:
            guard let v = SetValue.integer(member) else { return false }
            return mutateInts { a in
                let (i, found) = SetValue.intIndex(a, v)
                if found { a.remove(at: i) }
                return found
            }
        }
    }

    // MARK: reading

    /// Visits every member (ascending for an intset, insertion order for a listpack, table
    /// order for a table).
    public func forEach(_ body: (Bytes) -> Void) {
        switch storage {
        case .table(let t): t.forEach { body($0.key) }
        case .listpack: packed.forEach { body(Bytes($0)); return true }
        case .intset(let ints): for v in ints { body(Bytes(v)) }
        }
    }

    /// Visits every member's bytes without copying them where the encoding allows; stop by
    /// returning false.
    func forEachRaw(_ body: (UnsafeRawBufferPointer) -> Bool) {
        switch storage {
        case .table(let t):
            var going = true
            t.forEach { n in if going { going = n.key.withUnsafeBytes { body($0) } } }
        case .listpack:
            packed.forEach(body)
        case .intset(let ints):
            for v in ints {
                let b = Bytes(v)
                if !b.withUnsafeBytes({ body($0) }) { return }
            }
        }
    }

    public var members: [Bytes] {
        var out: [Bytes] = []
        out.reserveCapacity(count)
        forEach { out.append($0) }
        return out
    }

    /// A uniformly chosen member (close to uniform for the table: bucket, then chain).
    public func randomMember<G: RandomNumberGenerator>(using rng: inout G) -> Bytes? {
        switch storage {
        case .table(let t): return t.randomNode(using: &rng)?.key
        case .listpack:
            guard !packed.isEmpty else { return nil }
            return packed.bytes(at: packed.offset(ofEntry: Int.random(in: 0..<packed.count, using: &rng)))
        case .intset(let ints):
            guard !ints.isEmpty else { return nil }
            return Bytes(ints[Int.random(in: 0..<ints.count, using: &rng)])
        }
    }

    /// `k` distinct members of a listpack chosen uniformly, in listpack order (selection
    /// sampling: Redis's lpNextRandom walk, which SPOP and SRANDMEMBER use on listpacks), and
    /// the entries' indexes.
    func listpackSample<G: RandomNumberGenerator>(_ k: Int, using rng: inout G) -> [(index: Int, member: Bytes)] {
        precondition(encoding == .listpack && k >= 0 && k <= packed.count)
        var out: [(index: Int, member: Bytes)] = []
        out.reserveCapacity(k)
        var needed = k
        var left = packed.count
        var index = 0
        packed.forEach { payload in
            if needed == 0 { return false }
            if Int.random(in: 0..<left, using: &rng) < needed {
                out.append((index, Bytes(payload)))
                needed -= 1
            }
            left -= 1
            index += 1
            return true
        }
        return out
    }

    /// Removes the listpack entries at `indexes` (ascending) in one pass.
    func removeListpackEntries(_ indexes: [Int]) {
        precondition(encoding == .listpack)
        guard !indexes.isEmpty else { return }
        var kept = PackedList()
        var bytes = 0
        var next = 0, index = 0
        packed.forEach { payload in
            if next < indexes.count && indexes[next] == index { next += 1 } else { bytes += PackedList.entrySize(payload.count) }
            index += 1
            return true
        }
        kept.reserveExactly(extra: bytes)
        next = 0
        index = 0
        packed.forEach { payload in
            if next < indexes.count && indexes[next] == index { next += 1 } else { kept.append(payload) }
            index += 1
            return true
        }
        swap(&packed, &kept)
    }

    // MARK: conversions

    /// Drops the current members' storage (the caller installs the new encoding's).
    private func dropStorage() {
        if let t = table { t.forEach { $0.free() } }
        storage = .listpack
        packed.removeAll()
    }

    public func convertToTable(seed: SipHashSeed) {
        convertToTable(seed: seed, reserve: count)
    }

    /// Converts to the table sized for `n` members (Redis's setTypeConvertAndExpand).
    func convertToTable(seed: SipHashSeed, reserve n: Int) {
        guard table == nil else { return }
        let t = MemberTable(seed: seed)
        t.reserve(max(n, count))
        forEach { t.insert(MemberNode.allocate(size: SetValue.nodeSize, key: $0)) }
        packed.removeAll()
        storage = .table(t)
    }

    /// Intset → listpack: the integers' text in ascending order, with room for `extraBytes`
    /// more (the member that caused the conversion).
    private func convertToListpack(extraBytes: Int) {
        guard case .intset(let ints) = storage else { preconditionFailure("not an intset") }
        var lp = PackedList()
        var bytes = extraBytes
        for v in ints { bytes += PackedList.entrySize(SetValue.decimalLength(v)) }
        lp.reserveExactly(extra: bytes)
        for v in ints { lp.append(Bytes(v)) }
        packed = lp
        storage = .listpack
    }

    /// Gives back the spare capacity of a listpack that is complete (after a load).
    func shrinkListpackToFit() {
        if encoding == .listpack { packed.shrinkToFit() }
    }

    /// Room for `bytes` more bytes of listpack entries (a loader that can estimate them from a
    /// count in the file: so at most 64 KiB, whatever the estimate).
    func reserveListpack(bytes: Int) {
        if encoding == .listpack && bytes > 0 && bytes <= 1 << 16 { packed.reserveExactly(extra: bytes) }
    }

    public func copy() -> SetValue {
        switch storage {
        case .table(let t):
            let nt = MemberTable(seed: t.seed)
            nt.reserve(t.count)
            t.forEach { nt.insert(MemberNode.allocate(size: SetValue.nodeSize, key: $0.key)) }
            return SetValue(storage: .table(nt))
        case .listpack:
            let out = SetValue(storage: .listpack)
            out.packed = packed.copy()
            return out
        case .intset(let ints):
            return SetValue(storage: .intset(ints))
        }
    }

    /// O(1) estimate (see HashValue.memoryBytes): a 48-byte malloc chunk per member node.
    public var memoryBytes: Int {
        switch storage {
        case .table(let t): return t.bucketCount * 8 + t.count * 48
        case .listpack: return packed.memoryBytes
        case .intset(let ints): return ints.capacity * 8
        }
    }
}
