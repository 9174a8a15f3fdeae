// SnapshotValueBuilder: builds one key's KeyEntry from its elements, element call by element
// call (RDBValueSink), for the start-up load. The building stage replays into it what the
// parsing stage recorded (SnapshotElementRecorder; duplicates are refused there already, so
// `elementsAreDistinct` skips the lookups); a value too big to record gets the reader's
// calls directly on the parsing thread, duplicate checks included.
//
// A string value is copied into the entry (through one reused scratch buffer, since the entry
// is made after the value's last call): one allocation per key.
//
// It ends in exactly the value `ValueCodec.value(from:)` builds from the whole `RDBValue` by
// inserting element after element (same encoding, same packed bytes, same members), only
// without the intermediate arrays and per-element lookups:
//
//   hash   packed entries appended as they come; a field is looked for in the entries so
//          far (that lookup is the file's duplicate check, when asked); over a listpack limit the
//          packed part becomes the table, as HashValue.set converts
//   zset   while members come in (score, member) order, which is how every writer stores a
//          packed zset, entries are appended; the first one out of order, a long member or
//          one too many, and the rest go through ZSetValue.insert from that point on
//   set    as Redis 7.2 loads a plain set or intset (SetValue.loading / addLoaded): the table,
//          sized once, when the declared count is over set-max-intset-entries; otherwise an
//          intset while members are integers, then a listpack (one buffer, sized from the first
//          string member's length times the members still to come, trimmed at the end) while
//          the set fits set-max-listpack-*, then the table. An RDB listpack (type 20, told by
//          setIsListpack) stays a listpack in file order unless it has more than
//          set-max-listpack-entries members, as Redis 7.2 keeps it
//   list   elements encoded end to end into a scratch buffer (reused from key to key), then
//          split into nodes as pushes would split them, each node buffer exactly its size
//
// A file's count hint sizes things only up to `hintCap`.

import CairnFormats

final class SnapshotValueBuilder: RDBValueSink {
    let limits: CollectionLimits
    /// The most elements a count hint from the file may reserve room for.
    static let hintCap = 1 << 16

    private var kind = RDBValueKind.string
    private var countHint = 0

    /// The last string value (its bytes in `stringBytes`, reused from key to key).
    private var stringBytes = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
    private var stringCapacity = 64
    private var stringCount = 0
    /// A string value too long to live inside its entry, kept whole instead.
    private var longString: Bytes?
    /// A list's elements so far, as list entries end to end (ListEntry), and their number.
    private var listEntries = UnsafeMutableRawPointer.allocate(byteCount: 1024, alignment: 8)
    private var listCapacity = 1024
    private var listBytes = 0
    private var listCount = 0

    // hash
    private var packed = PackedList()
    private var hash: HashValue?            // once it is a table
    private var fieldAt = 0                 // packed offset of the field awaiting its value
    private var pendingKey = Bytes()        // table mode: the field awaiting its value

    // zset
    private var zset: ZSetValue?            // once elements go through ZSetValue.insert
    private var lastScore = 0.0
    private var lastMemberAt = -1           // packed offset of the previous member
    private var memberAt = 0                // packed offset of the member awaiting its score

    // set
    private var set = SetValue()
    private var setIsRDBListpack = false    // type 20: kept a listpack as Redis 7.2 keeps it

    /// The bytes the current hash or zset's entries take packed, when the caller knows them
    /// (0: not known): its packed buffer is allocated at that size once. Reset by `begin`.
    var packedBytesHint = 0
    /// Bytes reserved in `packed` and not used yet (appends within them skip the capacity check).
    private var packedRoom = 0

    /// Set when the value holds something the engine cannot (hash fields with a TTL).
    private(set) var unsupported: ValueCodec.UnsupportedValue?
    /// The elements come from a SnapshotElementRecorder, which refused duplicates already:
    /// members and fields are not looked for before they are added.
    var elementsAreDistinct = false

    init(limits: CollectionLimits) {
        self.limits = limits
        super.init()
    }

    deinit {
        stringBytes.deallocate()
        listEntries.deallocate()
    }

    override func begin(kind: RDBValueKind, countHint: Int?) {
        self.kind = kind
        self.countHint = min(countHint ?? 0, SnapshotValueBuilder.hintCap)
        unsupported = nil
        packedBytesHint = 0
        packedRoom = 0
        switch kind {
        case .list:
            listBytes = 0
            listCount = 0
        case .hash:
            packed = PackedList()
            hash = nil
            if (countHint ?? 0) > limits.hashMaxListpackEntries {
                let h = HashValue()
                h.convertToTable(seed: limits.seed)
                h.table!.reserve(self.countHint)
                hash = h
            }
        case .zset:
            packed = PackedList()
            lastMemberAt = -1
            // More members than a listpack holds: insert one by one as ValueCodec does (the
            // conversion point decides which scores were normalised on the way).
            zset = (countHint ?? 0) > limits.zsetMaxListpackEntries ? ZSetValue() : nil
        case .set:
            set = SetValue.loading(count: countHint ?? 0, limits: limits, reserveAtMost: SnapshotValueBuilder.hintCap)
            setIsRDBListpack = false
        case .string, .stream, .module:
            break
        }
    }

    /// The finished key (call after the reader's readValue(into:) returned). A string that is
    /// a canonical integer is kept as one, as `Value.string(compacting:)` does.
    func makeEntry(key: Bytes, expireAtMs: Int64, clock: UInt32) -> KeyEntry {
        key.withUnsafeBytes { makeEntry(key: $0, expireAtMs: expireAtMs, clock: clock) }
    }

    func makeEntry(key: UnsafeRawBufferPointer, expireAtMs: Int64, clock: UInt32) -> KeyEntry {
        guard kind == .string else {
            return KeyEntry.make(key: key, value: take(), expireAtMs: expireAtMs, clock: clock)
        }
        if let long = longString.take() {
            return KeyEntry.make(key: key, value: .string(long), expireAtMs: expireAtMs, clock: clock)
        }
        let value = UnsafeRawBufferPointer(start: stringBytes, count: stringCount)
        if value.count <= 20, let v = parseInt64(value) {
            return KeyEntry.make(key: key, value: .int(v), expireAtMs: expireAtMs, clock: clock)
        }
        return KeyEntry.make(key: key, string: value, expireAtMs: expireAtMs, clock: clock)
    }

    /// The finished value (call after the reader's readValue(into:) returned).
    func take() -> Value {
        switch kind {
        case .string:
            if let long = longString.take() { return .string(long) }
            return Value.string(compacting: Bytes(UnsafeRawBufferPointer(start: stringBytes, count: stringCount)))
        case .list:
            return .list(ListValue(entries: UnsafeRawBufferPointer(start: listEntries, count: listBytes), count: listCount,
                                   fill: limits.listMaxListpackSize))
        case .hash:
            if let h = hash { return .hash(h) }
            return .hash(HashValue(packed: takePacked()))
        case .zset:
            if let z = zset { return .zset(z) }
            return .zset(ZSetValue(packed: takePacked()))
        case .set:
            if setIsRDBListpack { set.finishLoadedListpack(limits: limits) } else { set.shrinkListpackToFit() }
            return .set(set)
        case .stream, .module:
            preconditionFailure("streams are not built by SnapshotValueBuilder")
        }
    }

    /// The packed entries built so far, leaving an empty list in their place.
    private func takePacked() -> PackedList {
        packedRoom = 0
        var out = PackedList()
        swap(&out, &packed)
        return out
    }

    // MARK: RDBValueSink

    override func string(_ value: UnsafeRawBufferPointer) {
        longString = nil
        if value.count > KeyEntry.inlineStringLimit {
            longString = Bytes(value)
            return
        }
        if value.count > stringCapacity {
            stringBytes.deallocate()
            stringCapacity = max(value.count, 2 * stringCapacity)
            stringBytes = UnsafeMutableRawPointer.allocate(byteCount: stringCapacity, alignment: 8)
        }
        if let base = value.baseAddress, value.count > 0 {
            stringBytes.copyMemory(from: base, byteCount: value.count)
        }
        stringCount = value.count
    }

    override func listElement(_ element: UnsafeRawBufferPointer) {
        let size = ListEntry.size(payload: element.count)
        if listBytes + size > listCapacity {
            let bigger = max(listBytes + size, 2 * listCapacity)
            let grown = UnsafeMutableRawPointer.allocate(byteCount: bigger, alignment: 8)
            grown.copyMemory(from: listEntries, byteCount: listBytes)
            listEntries.deallocate()
            listEntries = grown
            listCapacity = bigger
        }
        listBytes += ListEntry.write(element, at: listEntries + listBytes)
        listCount += 1
    }

    override func setIsListpack() {
        setIsRDBListpack = true
        set = SetValue.loadingListpack(count: countHint, limits: limits, reserveAtMost: SnapshotValueBuilder.hintCap)
    }

    override func setMember(_ member: UnsafeRawBufferPointer) -> Bool {
        if setIsRDBListpack {
            if set.isListpack && set.count == 0 {
                set.reserveListpack(bytes: min(countHint, limits.setMaxListpackEntries) * PackedList.entrySize(member.count))
            }
            return set.addLoadedListpackMember(member, limits: limits, checkDuplicate: !elementsAreDistinct)
        }
        let wasIntset = set.isIntset
        let added = set.addLoaded(member, limits: limits, checkDuplicate: !elementsAreDistinct)
        if wasIntset && set.isListpack {
            // Just became a listpack: room for the members still to come, guessed from this one.
            let toCome = max(0, min(countHint, limits.setMaxListpackEntries, SnapshotValueBuilder.hintCap) - set.count)
            set.reserveListpack(bytes: toCome * PackedList.entrySize(member.count))
        }
        return added
    }

    override func hashField(_ field: UnsafeRawBufferPointer) -> Bool {
        if hash == nil && field.count > limits.hashMaxListpackValue { hashToTable() }
        if let t = hash?.table {
            if !elementsAreDistinct && t.find(field) != nil { return false }
            pendingKey = Bytes(field)
            return true
        }
        if !elementsAreDistinct && packed.find(field, stride: 2) != nil { return false }
        if packed.count == 0 { reservePacked(packedBytesHint > 0 ? packedBytesHint : min(countHint, 128) * 2 * 12) }
        fieldAt = packed.endOffset
        appendPacked(field)
        return true
    }

    override func hashValue(_ value: UnsafeRawBufferPointer, expireAtMs: Int64?) {
        if expireAtMs != nil && unsupported == nil {
            unsupported = ValueCodec.UnsupportedValue(kind: .hash, detail: ValueCodec.hashFieldTTLDetail)
        }
        if hash == nil && value.count > limits.hashMaxListpackValue {
            // The field went in packed; it moves to the table with the rest.
            pendingKey = packed.bytes(at: fieldAt)
            packed.remove(at: fieldAt)   // (may shrink the buffer: no room is counted on after it)
            packedRoom = 0
            hashToTable()
        }
        if let t = hash?.table {
            t.insert(HashFieldNode.allocate(pendingKey, Bytes(value)))
            return
        }
        appendPacked(value)
        if packed.count / 2 > limits.hashMaxListpackEntries { hashToTable() }
    }

    private func reservePacked(_ bytes: Int) {
        packed.reserveCapacity(bytes: bytes)
        packedRoom = bytes
    }

    @inline(__always)
    private func appendPacked(_ payload: UnsafeRawBufferPointer) {
        let size = PackedList.entrySize(payload.count)
        if size <= packedRoom {
            packed.appendWithinCapacity(payload)
            packedRoom -= size
        } else {
            packed.append(payload)
            packedRoom = 0
        }
    }

    private func hashToTable() {
        let h = HashValue(packed: takePacked())
        h.convertToTable(seed: limits.seed)
        hash = h
    }

    override func zsetMember(_ member: UnsafeRawBufferPointer) -> Bool {
        if zset == nil && member.count > limits.zsetMaxListpackValue { zsetToInserts() }
        if let z = zset {
            let m = Bytes(member)
            if !elementsAreDistinct && z.score(m) != nil { return false }
            pendingKey = m
            return true
        }
        if !elementsAreDistinct && packed.find(member, stride: 2) != nil { return false }
        if packed.count == 0 { reservePacked(packedBytesHint > 0 ? packedBytesHint : min(countHint, 128) * (12 + 9)) }
        memberAt = packed.endOffset
        appendPacked(member)
        return true
    }

    override func zsetScore(_ score: Double) {
        if zset == nil {
            let inOrder = lastMemberAt < 0 || lastScore < score || (lastScore == score && packed.withPayload(at: lastMemberAt) { prev in
                packed.withPayload(at: memberAt) { Bytes.compare(prev, $0) < 0 }
            })
            if inOrder && packed.count / 2 < limits.zsetMaxListpackEntries {
                // As ZSetValue's packed insert stores it: -0 as 0.
                ZSetValue.withScoreEntry(score == 0 ? 0 : score) { appendPacked($0) }
                lastScore = score
                lastMemberAt = memberAt
                return
            }
            pendingKey = packed.bytes(at: memberAt)
            packed.remove(at: memberAt)
            packedRoom = 0
            zsetToInserts()
        }
        zset!.insert(pendingKey, score, limits: limits)
    }

    private func zsetToInserts() {
        zset = ZSetValue(packed: takePacked())
    }
}
