// RDBWriter: produces RDB byte streams that Redis loads (docs/formats/snapshot.md).
//
// Policy: write what Redis of the target version would write, so that a file from Cairn is
// indistinguishable in kind from one of Redis's own and loads into it:
//
//   version 10 (default, Redis 7.0)  listpack hashes/zsets (16/17), quicklist2 lists (18),
//                                    intset or plain sets (11/2), zset2 (5), streams v2 (19)
//   version 11 (Redis 7.2)           + listpack sets (20), streams v3 (21)
//   version 12 (Redis 7.4)           + hashes with field TTLs (24/25)
//   versions 7–9 (Redis 3.2–6.2)     ziplists instead of listpacks (13/12, quicklist 14),
//                                    streams v1 (15, version 9)
//
// The compact-encoding thresholds are parameters with Redis's defaults (config names in the
// parameter docs), so the engine can pass its own configuration. Strings go through Redis's
// rdbSaveRawString rules: canonical integers that fit 32 bits as C0/C1/C2, longer than 20 bytes
// LZF-compressed when that saves at least 4 bytes, otherwise raw.
//
// Output accumulates in memory until takeOutput() drains it, so a snapshot can be streamed in
// pieces to a compressor or a socket; the running CRC64 covers every byte produced.
// Misuse (a version outside 7...12, a NaN score, a function before version 10) is a programmer
// error and traps: the writer never sees untrusted input.

public final class RDBWriter {
    public let version: Int
    public let compressStrings: Bool
    public let checksum: Bool

    var out: [UInt8] = []
    var crc: UInt64 = 0
    var crcPos = 0
    /// Total bytes produced so far (drained or not).
    public private(set) var bytesWritten = 0

    public init(version: Int = 10, compressStrings: Bool = true, checksum: Bool = true) {
        precondition(version >= 7 && version <= RDBVersion.maximum, "RDBWriter writes RDB versions 7...12")
        self.version = version
        self.compressStrings = compressStrings
        self.checksum = checksum
        out.reserveCapacity(1 << 16)
    }

    /// Drains the bytes produced so far.
    public func takeOutput() -> [UInt8] {
        foldCRC()
        let result = out
        out = []
        out.reserveCapacity(1 << 16)
        crcPos = 0
        return result
    }

    func foldCRC() {
        if crcPos < out.count {
            crc = out.withUnsafeBytes { CRC64.update(crc, UnsafeRawBufferPointer(rebasing: $0[crcPos...])) }
            crcPos = out.count
        }
    }

    // MARK: primitives

    func byte(_ b: UInt8) {
        out.append(b)
        bytesWritten += 1
    }

    func raw(_ bytes: UnsafeRawBufferPointer) {
        out.append(contentsOf: bytes)
        bytesWritten += bytes.count
    }

    func raw(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw($0) }
    }

    func le(_ v: UInt64, _ width: Int) {
        appendLE(&out, v, width)
        bytesWritten += width
    }

    /// rdbSaveLen: the smallest of the 6/14/32/64-bit forms.
    func length(_ n: UInt64) {
        if n < 1 << 6 {
            byte(UInt8(n))
        } else if n < 1 << 14 {
            byte(0x40 | UInt8(n >> 8))
            byte(UInt8(n & 0xFF))
        } else if n <= UInt64(UInt32.max) {
            byte(RDBLength.len32)
            for k in stride(from: 24, through: 0, by: -8) { byte(UInt8(truncatingIfNeeded: n >> UInt64(k))) }
        } else {
            byte(RDBLength.len64)
            for k in stride(from: 56, through: 0, by: -8) { byte(UInt8(truncatingIfNeeded: n >> UInt64(k))) }
        }
    }

    func length(_ n: Int) {
        precondition(n >= 0)
        length(UInt64(n))
    }

    /// rdbSaveRawString: int encoding, then LZF, then raw.
    func string(_ s: UnsafeRawBufferPointer) {
        let n = s.count
        if n <= 11, let v = DecimalText.canonicalInt64(s), v >= Int64(Int32.min), v <= Int64(Int32.max) {
            if v >= -128 && v <= 127 {
                byte(0xC0 | RDBStringEncoding.int8)
                le(UInt64(bitPattern: v), 1)
            } else if v >= -32768 && v <= 32767 {
                byte(0xC0 | RDBStringEncoding.int16)
                le(UInt64(bitPattern: v), 2)
            } else {
                byte(0xC0 | RDBStringEncoding.int32)
                le(UInt64(bitPattern: v), 4)
            }
            return
        }
        if compressStrings && n > 20, let compressed = LZF.compress(s, maxOutput: n - 4) {
            byte(0xC0 | RDBStringEncoding.lzf)
            length(compressed.count)
            length(n)
            raw(compressed)
            return
        }
        length(n)
        raw(s)
    }

    func string(_ b: Bytes) {
        b.withUnsafeBytes { string($0) }
    }

    func string(_ a: [UInt8]) {
        a.withUnsafeBytes { string($0) }
    }

    func keyPrefix(type: RDBType, key: Bytes, expireAtMs: Int64?, idle: UInt64?, freq: UInt8?) {
        key.withUnsafeBytes { keyPrefix(type: type, key: $0, expireAtMs: expireAtMs, idle: idle, freq: freq) }
    }

    func keyPrefix(type: RDBType, key: UnsafeRawBufferPointer, expireAtMs: Int64?, idle: UInt64?, freq: UInt8?) {
        if let expire = expireAtMs {
            byte(RDBOpcode.expireTimeMs.rawValue)
            le(UInt64(bitPattern: expire), 8)
        }
        if let idle = idle {
            byte(RDBOpcode.idle.rawValue)
            length(idle)
        }
        if let freq = freq {
            byte(RDBOpcode.freq.rawValue)
            byte(freq)
        }
        byte(type.rawValue)
        string(key)
    }

    // MARK: file structure

    /// "REDIS" and the 4-digit version.
    public func header() {
        let digits = String(version)
        raw(Array(("REDIS" + String(repeating: "0", count: 4 - digits.count) + digits).utf8))
    }

    public func aux(_ key: String, _ value: Bytes) {
        byte(RDBOpcode.aux.rawValue)
        string(Bytes(key))
        string(value)
    }

    public func aux(_ key: String, _ value: String) {
        aux(key, Bytes(value))
    }

    public func selectDB(_ db: Int) {
        byte(RDBOpcode.selectDB.rawValue)
        length(db)
    }

    public func resizeDB(dbSize: UInt64, expiresSize: UInt64) {
        byte(RDBOpcode.resizeDB.rawValue)
        length(dbSize)
        length(expiresSize)
    }

    /// One function library (FUNCTION2): its whole source, `#!lua name=…` first line included.
    public func function(source: Bytes) {
        precondition(version >= 10, "functions need RDB version 10")
        byte(RDBOpcode.function2.rawValue)
        string(source)
    }

    /// EOF, then the CRC64 of everything before it (0 when checksums are off).
    public func end() {
        byte(RDBOpcode.eof.rawValue)
        foldCRC()
        let sum = checksum ? crc : 0
        le(sum, 8)
        crcPos = out.count  // the checksum bytes are not part of the checksum
    }

    // MARK: values

    /// A string key from borrowed bytes (the snapshot driver writes entries' inline bytes).
    public func string(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, expireAtMs: Int64? = nil) {
        keyPrefix(type: .string, key: key, expireAtMs: expireAtMs, idle: nil, freq: nil)
        string(value)
    }

    public func string(key: Bytes, value: Bytes, expireAtMs: Int64? = nil, idle: UInt64? = nil, freq: UInt8? = nil) {
        keyPrefix(type: .string, key: key, expireAtMs: expireAtMs, idle: idle, freq: freq)
        string(value)
    }

    /// A list as a quicklist. `listpackMaxSize` is list-max-listpack-size: negative -1...-5 caps
    /// each node at 4/8/16/32/64 KiB, positive caps its element count (and, as in Redis 7.0, its
    /// size at 8 KiB). Elements of `packedThreshold` bytes or more get a node of their own
    /// (a PLAIN node; Redis 7's default threshold is 1 GiB).
    public func list(key: Bytes, elements: [Bytes], expireAtMs: Int64? = nil, idle: UInt64? = nil, freq: UInt8? = nil,
                     listpackMaxSize: Int = -2, packedThreshold: Int = 1 << 30) {
        precondition(!elements.isEmpty, "an empty list is not a key")
        let maxBytes: Int
        let maxCount: Int
        if listpackMaxSize < 0 {
            maxBytes = 4096 << min(4, -listpackMaxSize - 1)
            maxCount = Int.max
        } else {
            maxBytes = 8192
            maxCount = max(1, listpackMaxSize)
        }
        enum Node {
            case packed([UInt8])
            case plain(Bytes)
        }
        var nodes = [Node]()
        let useListpack = version >= 10
        var lp = ListpackBuilder()
        var zl = ZiplistBuilder()
        var inNode = 0
        func flush() {
            guard inNode > 0 else { return }
            nodes.append(.packed(useListpack ? lp.finish() : zl.finish()))
            lp = ListpackBuilder()
            zl = ZiplistBuilder()
            inNode = 0
        }
        for e in elements {
            if useListpack && e.count >= packedThreshold {
                flush()
                nodes.append(.plain(e))
                continue
            }
            let added = e.withUnsafeBytes { ListpackBuilder.entrySize($0) }
            let current = useListpack ? lp.byteCount : zl.byteCount
            if inNode > 0 && (inNode >= maxCount || current + added > maxBytes) {
                flush()
            }
            if useListpack { lp.append(e) } else { zl.append(e) }
            inNode += 1
        }
        flush()
        keyPrefix(type: useListpack ? .listQuicklist2 : .listQuicklist, key: key,
                  expireAtMs: expireAtMs, idle: idle, freq: freq)
        length(nodes.count)
        for node in nodes {
            switch node {
            case .packed(let blob):
                if useListpack { length(RDBQuicklistContainer.packed) }
                string(blob)
            case .plain(let e):
                length(RDBQuicklistContainer.plain)
                string(e)
            }
        }
    }

    /// A set: an intset when every member is a canonical integer and there are at most
    /// `maxIntsetEntries` (set-max-intset-entries); from RDB 11 a listpack when there are at most
    /// `maxListpackEntries` members of at most `maxListpackValue` bytes (set-max-listpack-*);
    /// otherwise plain. Members must be distinct.
    public func set(key: Bytes, members: [Bytes], expireAtMs: Int64? = nil, idle: UInt64? = nil, freq: UInt8? = nil,
                    maxIntsetEntries: Int = 512, maxListpackEntries: Int = 128, maxListpackValue: Int = 64) {
        precondition(!members.isEmpty, "an empty set is not a key")
        if members.count <= maxIntsetEntries {
            var ints = [Int64]()
            ints.reserveCapacity(members.count)
            for m in members {
                guard let v = DecimalText.canonicalInt64(m) else { break }
                ints.append(v)
            }
            if ints.count == members.count {
                keyPrefix(type: .setIntset, key: key, expireAtMs: expireAtMs, idle: idle, freq: freq)
                string(Intset.encode(ints))
                return
            }
        }
        if version >= 11 && members.count <= maxListpackEntries && members.allSatisfy({ $0.count <= maxListpackValue }) {
            var lp = ListpackBuilder()
            for m in members { lp.append(m) }
            keyPrefix(type: .setListpack, key: key, expireAtMs: expireAtMs, idle: idle, freq: freq)
            string(lp.finish())
            return
        }
        keyPrefix(type: .set, key: key, expireAtMs: expireAtMs, idle: idle, freq: freq)
        length(members.count)
        for m in members { string(m) }
    }

    /// A hash: a listpack (ziplist before RDB 10) when it has at most `maxListpackEntries`
    /// fields (hash-max-listpack-entries, 512) and every field and value is at most
    /// `maxListpackValue` bytes (hash-max-listpack-value, 64); otherwise plain. Fields must be
    /// distinct.
    public func hash(key: Bytes, fields: [(field: Bytes, value: Bytes)], expireAtMs: Int64? = nil, idle: UInt64? = nil,
                     freq: UInt8? = nil, maxListpackEntries: Int = 512, maxListpackValue: Int = 64) {
        precondition(!fields.isEmpty, "an empty hash is not a key")
        let compact = fields.count <= maxListpackEntries
            && fields.allSatisfy { $0.field.count <= maxListpackValue && $0.value.count <= maxListpackValue }
        if compact {
            if version >= 10 {
                var lp = ListpackBuilder()
                for (f, v) in fields { lp.append(f); lp.append(v) }
                keyPrefix(type: .hashListpack, key: key, expireAtMs: expireAtMs, idle: idle, freq: freq)
                string(lp.finish())
            } else {
                var zl = ZiplistBuilder()
                for (f, v) in fields { zl.append(f); zl.append(v) }
                keyPrefix(type: .hashZiplist, key: key, expireAtMs: expireAtMs, idle: idle, freq: freq)
                string(zl.finish())
            }
            return
        }
        keyPrefix(type: .hash, key: key, expireAtMs: expireAtMs, idle: idle, freq: freq)
        length(fields.count)
        for (f, v) in fields {
            string(f)
            string(v)
        }
    }

    /// A hash whose fields may carry their own expiry (Redis 7.4 HPEXPIREAT; RDB 12 only). With
    /// no field TTL at all it is an ordinary hash. Small ones are a listpack of (field, value,
    /// expire-or-0) ordered by expiry with the persistent fields last, as Redis keeps them;
    /// big ones store each TTL relative to the smallest.
    public func hash(key: Bytes, fieldsWithExpiry fields: [(field: Bytes, value: Bytes, expireAtMs: Int64?)],
                     expireAtMs: Int64? = nil, idle: UInt64? = nil, freq: UInt8? = nil,
                     maxListpackEntries: Int = 512, maxListpackValue: Int = 64) {
        precondition(!fields.isEmpty, "an empty hash is not a key")
        if fields.allSatisfy({ $0.expireAtMs == nil }) {
            hash(key: key, fields: fields.map { ($0.field, $0.value) }, expireAtMs: expireAtMs, idle: idle, freq: freq,
                 maxListpackEntries: maxListpackEntries, maxListpackValue: maxListpackValue)
            return
        }
        precondition(version >= 12, "hash field expiry needs RDB version 12")
        for f in fields {
            if let t = f.expireAtMs { precondition(t > 0 && UInt64(t) <= RDBHashFieldTTL.maxExpireAtMs, "field expire time out of range") }
        }
        let minExpire = UInt64(fields.compactMap { $0.expireAtMs }.min()!)
        let compact = fields.count <= maxListpackEntries
            && fields.allSatisfy { $0.field.count <= maxListpackValue && $0.value.count <= maxListpackValue }
        if compact {
            let ordered = fields.enumerated().sorted { a, b in
                switch (a.element.expireAtMs, b.element.expireAtMs) {
                case (let x?, let y?): return x != y ? x < y : a.offset < b.offset
                case (.some, nil): return true
                case (nil, .some): return false
                case (nil, nil): return a.offset < b.offset
                }
            }.map { $0.element }
            var lp = ListpackBuilder()
            for f in ordered {
                lp.append(f.field)
                lp.append(f.value)
                lp.append(int: f.expireAtMs ?? 0)
            }
            keyPrefix(type: .hashListpackEx, key: key, expireAtMs: expireAtMs, idle: idle, freq: freq)
            le(minExpire, 8)
            string(lp.finish())
            return
        }
        keyPrefix(type: .hashMetadata, key: key, expireAtMs: expireAtMs, idle: idle, freq: freq)
        le(minExpire, 8)
        length(fields.count)
        for f in fields {
            // 0 = no TTL; otherwise relative to the minimum, plus one so it is never 0.
            length(f.expireAtMs.map { UInt64($0) - minExpire + 1 } ?? 0)
            string(f.field)
            string(f.value)
        }
    }

    /// A sorted set: a listpack (ziplist before RDB 10) sorted by score then member when it
    /// has at most `maxListpackEntries` members (zset-max-listpack-entries, 128) of at most
    /// `maxListpackValue` bytes (zset-max-listpack-value, 64); otherwise ZSET_2 with binary
    /// scores, highest first as Redis writes it. Members must be distinct; scores not NaN.
    public func zset(key: Bytes, members: [(member: Bytes, score: Double)], expireAtMs: Int64? = nil, idle: UInt64? = nil,
                     freq: UInt8? = nil, maxListpackEntries: Int = 128, maxListpackValue: Int = 64) {
        precondition(!members.isEmpty, "an empty sorted set is not a key")
        precondition(!members.contains { $0.score.isNaN }, "NaN is not a valid score")
        let sorted = members.sorted { a, b in a.score != b.score ? a.score < b.score : a.member < b.member }
        if members.count <= maxListpackEntries && members.allSatisfy({ $0.member.count <= maxListpackValue }) {
            if version >= 10 {
                var lp = ListpackBuilder()
                for m in sorted {
                    lp.append(m.member)
                    appendScore(m.score) { lp.append($0) } int: { lp.append(int: $0) }
                }
                keyPrefix(type: .zsetListpack, key: key, expireAtMs: expireAtMs, idle: idle, freq: freq)
                string(lp.finish())
            } else {
                var zl = ZiplistBuilder()
                for m in sorted {
                    zl.append(m.member)
                    appendScore(m.score) { zl.append($0) } int: { zl.append(DecimalText.bytes($0)) }
                }
                keyPrefix(type: .zsetZiplist, key: key, expireAtMs: expireAtMs, idle: idle, freq: freq)
                string(zl.finish())
            }
            return
        }
        keyPrefix(type: .zset2, key: key, expireAtMs: expireAtMs, idle: idle, freq: freq)
        length(members.count)
        for m in sorted.reversed() {
            string(m.member)
            le(m.score.bitPattern, 8)
        }
    }

    /// A score inside a listpack/ziplist: integers in (-2^52, 2^52) as integers (Redis's
    /// d2string), anything else as the shortest text that reads back to the same double.
    func appendScore(_ score: Double, text: (Bytes) -> Void, int: (Int64) -> Void) {
        if score == 0 && score.sign == .minus {
            text(Bytes("-0"))
        } else if score > -4_503_599_627_370_495 && score < 4_503_599_627_370_496 && score == score.rounded(.towardZero) {
            int(Int64(score))
        } else if score.isInfinite {
            text(Bytes(score < 0 ? "-inf" : "inf"))
        } else {
            text(Bytes(score.description))
        }
    }

    /// A stream, in nodes of at most `nodeMaxEntries` entries and about `nodeMaxBytes` bytes
    /// (stream-node-max-entries / stream-node-max-bytes). Entries must be in ascending ID order.
    public func stream(key: Bytes, stream: RDBStream, expireAtMs: Int64? = nil, idle: UInt64? = nil, freq: UInt8? = nil,
                       nodeMaxEntries: Int = 100, nodeMaxBytes: Int = 4096) {
        let type: RDBType = version >= 11 ? .streamListpacks3 : (version >= 10 ? .streamListpacks2 : .streamListpacks)
        keyPrefix(type: type, key: key, expireAtMs: expireAtMs, idle: idle, freq: freq)

        // Nodes: (master ID, listpack).
        var nodes = [(RDBStreamID, [UInt8])]()
        var i = 0
        let entries = stream.entries
        while i < entries.count {
            let master = entries[i]
            let masterFields = master.fields.map { $0.field }
            var lp = ListpackBuilder()
            var inNode = 0
            var bodies = [[PackedElementInput]]()
            var j = i
            var approxBytes = 0
            while j < entries.count && inNode < max(1, nodeMaxEntries) {
                let e = entries[j]
                precondition(j == i || e.id > entries[j - 1].id, "stream entries must be in ascending ID order")
                let size = e.fields.reduce(16) { $0 + $1.field.count + $1.value.count + 4 }
                if inNode > 0 && approxBytes + size > nodeMaxBytes { break }
                approxBytes += size
                let same = e.fields.count == masterFields.count && zip(e.fields, masterFields).allSatisfy { $0.field == $1 }
                var body: [PackedElementInput] = [
                    .int(same ? RDBStreamFlag.sameFields : 0),
                    .int(Int64(bitPattern: e.id.ms &- master.id.ms)),
                    .int(Int64(bitPattern: e.id.seq &- master.id.seq)),
                ]
                if same {
                    for f in e.fields { body.append(.bytes(f.value)) }
                    body.append(.int(Int64(e.fields.count + 3)))
                } else {
                    body.append(.int(Int64(e.fields.count)))
                    for f in e.fields { body.append(.bytes(f.field)); body.append(.bytes(f.value)) }
                    body.append(.int(Int64(2 * e.fields.count + 4)))
                }
                bodies.append(body)
                inNode += 1
                j += 1
            }
            lp.append(int: Int64(inNode))
            lp.append(int: 0)
            lp.append(int: Int64(masterFields.count))
            for f in masterFields { lp.append(f) }
            lp.append(int: 0)
            for body in bodies {
                for element in body {
                    switch element {
                    case .int(let v): lp.append(int: v)
                    case .bytes(let b): lp.append(b)
                    }
                }
            }
            nodes.append((master.id, lp.finish()))
            i = j
        }
        length(nodes.count)
        for (master, lp) in nodes {
            string(master.rawBigEndian)
            string(lp)
        }
        let meta = stream.meta
        length(meta.length)
        length(meta.lastID.ms)
        length(meta.lastID.seq)
        if type != .streamListpacks {
            let first = meta.firstID ?? entries.first?.id ?? .zero
            let maxDeleted = meta.maxDeletedID ?? .zero
            length(first.ms)
            length(first.seq)
            length(maxDeleted.ms)
            length(maxDeleted.seq)
            length(meta.entriesAdded ?? meta.length)
        }
        length(stream.groups.count)
        for g in stream.groups {
            string(g.name)
            length(g.lastID.ms)
            length(g.lastID.seq)
            if type != .streamListpacks {
                length(UInt64(bitPattern: g.entriesRead ?? -1))
            }
            length(g.pending.count)
            for p in g.pending {
                raw(p.id.rawBigEndian)
                le(UInt64(bitPattern: p.deliveryTimeMs), 8)
                length(p.deliveryCount)
            }
            length(g.consumers.count)
            for c in g.consumers {
                string(c.name)
                le(UInt64(bitPattern: c.seenTimeMs), 8)
                if type == .streamListpacks3 {
                    le(UInt64(bitPattern: c.activeTimeMs ?? c.seenTimeMs), 8)
                }
                length(c.pending.count)
                for id in c.pending { raw(id.rawBigEndian) }
            }
        }
    }

    enum PackedElementInput {
        case int(Int64)
        case bytes(Bytes)
    }

    /// Writes a whole value read by RDBReader (for copying or converting files).
    public func value(key: Bytes, _ value: RDBValue, expireAtMs: Int64? = nil, idle: UInt64? = nil, freq: UInt8? = nil) {
        switch value {
        case .string(let s): string(key: key, value: s, expireAtMs: expireAtMs, idle: idle, freq: freq)
        case .list(let l): list(key: key, elements: l, expireAtMs: expireAtMs, idle: idle, freq: freq)
        case .set(let s): set(key: key, members: s, expireAtMs: expireAtMs, idle: idle, freq: freq)
        case .hash(let h):
            if h.contains(where: { $0.expireAtMs != nil }) {
                hash(key: key, fieldsWithExpiry: h, expireAtMs: expireAtMs, idle: idle, freq: freq)
            } else {
                hash(key: key, fields: h.map { ($0.field, $0.value) }, expireAtMs: expireAtMs, idle: idle, freq: freq)
            }
        case .zset(let z): zset(key: key, members: z, expireAtMs: expireAtMs, idle: idle, freq: freq)
        case .stream(let s): stream(key: key, stream: s, expireAtMs: expireAtMs, idle: idle, freq: freq)
        }
    }
}
