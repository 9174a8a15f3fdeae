// RDBReader: a streaming reader of Redis RDB files, versions 1 through 12, every encoding Redis
// has written. docs/formats/snapshot.md is the grammar; RDBConstants.swift holds the codes.
//
// It reads hostile input. The rules it keeps:
//
//   1. Never trap, never hang. Every length from the file is range-checked before arithmetic.
//   2. Never allocate on the file's word: strings are read in chunks as their bytes actually
//      arrive, counts are never used to reserve capacity, and an LZF string's declared length is
//      believed only up to what its (already read) compressed bytes can expand to.
//   3. Every blob (ziplist, listpack, intset, zipmap, stream node) is validated whole before any
//      of its elements is handed out: header sizes, counts, terminators, prev-lengths/backlens.
//   4. Anything wrong is an RDBError carrying the file offset, the key being read and the
//      reason; truncation is "unexpected end of file". Errors are sticky: once next() has
//      thrown, it throws the same error again.
//   5. Duplicates (set members, hash fields, zset members, stream groups, consumers, PEL IDs)
//      and empty aggregates are errors, never silently collapsed. Redis 7 skips empty keys with a
//      log line; a key that would vanish on load is reported instead.
//
// Events come out in file order. An aggregate is keyBegin, its elements, keyEnd; elements of
// plain (non-blob) encodings are read one at a time, so a huge set never sits in memory twice.
//
//   state machine of next():
//
//     header ──▶ top ──(type byte + key)──▶ value(start) ──▶ value(elements…) ──▶ value(finish)
//                 ▲  │                                                                 │
//                 │  └─(opcode: aux, selectdb, resizedb, function, …)──▶ event          │
//                 └────────────────────────────────────── keyEnd ◀─────────────────────┘
//                 top ──(EOF + checksum)──▶ finished (next() returns nil)

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct RDBError: Error, CustomStringConvertible {
    /// File offset (bytes from the start of the RDB stream) where the problem was found.
    public let offset: Int
    /// The key whose value was being read, if any.
    public let key: Bytes?
    public let reason: String

    public init(offset: Int, key: Bytes?, reason: String) {
        self.offset = offset
        self.key = key
        self.reason = reason
    }

    public var description: String {
        if let key = key {
            return "RDB error at offset \(offset) (key \"\(key.debugText)\"): \(reason)"
        }
        return "RDB error at offset \(offset): \(reason)"
    }
}

/// Where the reader gets bytes. `read` fills some prefix of the buffer and returns how many
/// bytes it wrote; 0 means end of input.
public protocol RDBByteSource: AnyObject {
    func read(into: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A source that computes the RDB checksum itself, as it produces the bytes (on the thread that
/// decompresses ahead, say), so the reader's thread does not.
public protocol RDBChecksummingSource: RDBByteSource {
    /// Whether it does (asked once, before the first read).
    var computesChecksum: Bool { get }
    /// CRC64 (as `CRC64.update` from 0) of the first `count` bytes it has handed out; the
    /// reader asks once, at the EOF opcode, for a count at most one reader buffer behind what
    /// it has been handed. nil when it cannot say.
    func crc64(ofFirst count: Int) -> UInt64?
}

public final class RDBMemorySource: RDBByteSource {
    let bytes: [UInt8]
    var position = 0

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - position)
        if n > 0 {
            bytes.withUnsafeBytes { src in
                buffer.baseAddress!.copyMemory(from: src.baseAddress! + position, byteCount: n)
            }
            position += n
        }
        return n
    }
}

public enum RDBValueKind: Sendable {
    case string, list, set, zset, hash, stream, module
}

public enum RDBEvent {
    case header(version: Int)
    case aux(key: Bytes, value: Bytes)
    case selectDB(Int)
    case resizeDB(dbSize: UInt64, expiresSize: UInt64)
    case slotInfo(slot: UInt64, size: UInt64, expiresSize: UInt64)
    /// A function library (FUNCTION2 opcode): the whole `#!lua name=…` source.
    case function(source: Bytes)
    /// Module auxiliary data, skipped (its items are walked, not interpreted).
    case moduleAux(moduleID: UInt64, name: String, when: UInt64)
    case keyBegin(key: Bytes, kind: RDBValueKind, encoding: UInt8, expireAtMs: Int64?, idle: UInt64?, freq: UInt8?)
    case string(Bytes)
    case listElement(Bytes)
    case setMember(Bytes)
    case hashField(field: Bytes, value: Bytes, expireAtMs: Int64?)
    case zsetMember(member: Bytes, score: Double)
    /// A live stream entry, in ID order. Deleted entries still in a node are not reported.
    case streamEntry(RDBStreamEntry)
    /// After all entries of a stream.
    case streamMeta(RDBStreamMeta)
    /// After the meta, one per consumer group.
    case streamGroup(RDBStreamGroup)
    /// `valueBytes`: bytes the value occupied in the file, from the end of the key to here.
    case keyEnd(key: Bytes, valueBytes: Int)
    /// `checksum` is nil for RDB versions without one (< 5). `checksumVerified` is false when
    /// the stored checksum is 0 ("not computed") or verification was turned off.
    case end(checksum: UInt64?, checksumVerified: Bool)
}

public final class RDBReader {
    // MARK: input buffer

    let source: RDBByteSource
    let verifyChecksum: Bool
    public static let bufferCapacity = 1 << 16
    let buffer: UnsafeMutableRawBufferPointer
    var pos = 0            // next unread byte in buffer
    var end = 0            // end of valid bytes in buffer
    var base = 0           // file offset of buffer[0]
    var sourceDone = false
    var crc: UInt64 = 0
    var crcPos = 0         // buffer bytes before this index are already in `crc`
    /// Set when the source computes the checksum (then `crc` is not kept here).
    let checksummingSource: RDBChecksummingSource?

    /// Bytes consumed so far (the file offset of the next byte to read).
    public var offset: Int { base + pos }

    // MARK: parse state

    enum Phase {
        case header, top, value, finished
    }

    enum ValueState {
        case start(RDBType)
        case plainList(remaining: UInt64)
        case plainSet(remaining: UInt64)
        case plainHash(remaining: UInt64)
        case plainZset(remaining: UInt64, binary: Bool)
        case hashMetadata(remaining: UInt64, minExpire: UInt64?)
        case quicklist(remaining: UInt64, v2: Bool)
        case streamNodes(remaining: UInt64)
        case streamGroups(remaining: UInt64)
        case finish
    }

    var phase = Phase.header
    var valueState = ValueState.finish
    public private(set) var version = 0
    var failure: RDBError?

    var pending: [RDBEvent] = []
    var pendingIndex = 0

    // Prefix opcodes apply to the next key only.
    var nextExpireAtMs: Int64?
    var nextIdle: UInt64?
    var nextFreq: UInt8?

    // The key being read.
    var currentKey: Bytes?
    /// The key whose `.keyBegin` next() returned last, and its expiry and idle time: the same
    /// as the event carries, for loaders that switch on the event without binding its payload
    /// (copying the payload out of the event was a measurable share of a start-up load).
    public var key: Bytes? { currentKey }
    public private(set) var keyExpireAtMs: Int64?
    public private(set) var keyIdle: UInt64?
    var currentType: RDBType = .string
    var valueStart = 0
    var elementCount: UInt64 = 0
    var seen = Set<Bytes>()
    /// Set while `readValue(into:)` runs: elements go to the sink instead of becoming events.
    /// Unretained (the caller of readValue(into:) holds it for the call) and called as a
    /// guaranteed reference: a stored strong reference was retained and released around
    /// every element, a measurable share of a start-up load.
    var sinkRef: Unmanaged<RDBValueSink>?
    var sink: RDBValueSink? { sinkRef?.takeUnretainedValue() }
    /// Elements handed out for the current blob (its emptiness check).
    var emitted = 0
    /// The field (or member) whose value (or score) comes next, on the event path.
    var pendingField = Bytes()

    // Stream being read.
    var streamLive: UInt64 = 0
    var streamLastMaster: RDBStreamID?
    var streamLastEntry: RDBStreamID?

    public init(source: RDBByteSource, verifyChecksum: Bool = true) {
        self.source = source
        self.verifyChecksum = verifyChecksum
        if verifyChecksum, let s = source as? RDBChecksummingSource, s.computesChecksum {
            checksummingSource = s
        } else {
            checksummingSource = nil
        }
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: RDBReader.bufferCapacity, alignment: 8)
    }

    deinit {
        buffer.deallocate()
    }

    /// The next event, or nil after `.end`.
    public func next() throws -> RDBEvent? {
        if let failure = failure { throw failure }
        if pendingIndex < pending.count {
            return popPending()
        }
        return try guarded { try step() }
    }

    /// Reads the value of the key whose `.keyBegin` `next()` just returned into `sink` (see
    /// RDBValueSink.swift) and consumes the key's `.keyEnd`. Returns false without reading
    /// anything for a stream; the caller then goes on with `next()`.
    public func readValue(into sink: RDBValueSink) throws -> Bool {
        if let failure = failure { throw failure }
        guard phase == .value, pendingIndex == pending.count, case .start(let type) = valueState else {
            throw fail("readValue(into:) called outside a key's value")
        }
        switch type {
        case .streamListpacks, .streamListpacks2, .streamListpacks3: return false
        default: break
        }
        try withExtendedLifetime(sink) {
            sinkRef = Unmanaged.passUnretained(sink)
            defer { sinkRef = nil }
            try guarded {
                while phase == .value {
                    if case .finish = valueState {
                        // finishKey without its `.keyEnd` event: nobody reads it here.
                        currentKey = nil
                        if !seen.isEmpty { seen.removeAll(keepingCapacity: false) }
                        phase = .top
                        break
                    }
                    _ = try readValue()
                }
            }
        }
        return true
    }

    /// Runs a step of the parser; errors become sticky RDBErrors.
    func guarded<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as RDBError {
            failure = error
            throw error
        } catch let error as BlobFormatError {
            let wrapped = fail(error.reason)
            failure = wrapped
            throw wrapped
        }
    }

    func popPending() -> RDBEvent {
        let e = pending[pendingIndex]
        pendingIndex += 1
        if pendingIndex == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
        }
        return e
    }

    func fail(_ reason: String, at offset: Int? = nil) -> RDBError {
        RDBError(offset: offset ?? self.offset, key: currentKey, reason: reason)
    }

    // MARK: byte level

    /// Makes at least `n` (<= capacity) bytes available at `pos`; false at end of input.
    func fill(_ n: Int) throws -> Bool {
        if end - pos >= n { return true }
        if crcPos < pos && checksummingSource == nil {
            crc = CRC64.update(crc, UnsafeRawBufferPointer(rebasing: buffer[crcPos..<pos]))
        }
        let remaining = end - pos
        if pos > 0 {
            if remaining > 0 {
                buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + pos, byteCount: remaining)
            }
            base += pos
            end = remaining
            pos = 0
        }
        crcPos = 0
        while end < n && !sourceDone {
            let space = UnsafeMutableRawBufferPointer(rebasing: buffer[end..<RDBReader.bufferCapacity])
            let got = try source.read(into: space)
            if got <= 0 {
                sourceDone = true
            } else {
                guard got <= space.count else {
                    throw fail("byte source returned \(got) bytes for a \(space.count)-byte buffer")
                }
                end += got
            }
        }
        return end - pos >= n
    }

    func truncated(_ what: String) -> RDBError {
        fail("unexpected end of file while reading \(what)")
    }

    func u8(_ what: String) throws -> UInt8 {
        guard try fill(1) else { throw truncated(what) }
        let b = buffer[pos]
        pos += 1
        return b
    }

    func fixedLE(_ width: Int, _ what: String) throws -> UInt64 {
        guard try fill(width) else { throw truncated(what) }
        let v = loadLE(UnsafeRawBufferPointer(buffer), pos, width)
        pos += width
        return v
    }

    func fixedBE(_ width: Int, _ what: String) throws -> UInt64 {
        guard try fill(width) else { throw truncated(what) }
        let v = loadBE(UnsafeRawBufferPointer(buffer), pos, width)
        pos += width
        return v
    }

    /// Reads exactly `n` bytes, growing the result as bytes arrive (never trusting `n` for the
    /// allocation size).
    func bytes(_ n: Int, _ what: String) throws -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(min(n, RDBReader.bufferCapacity))
        var remaining = n
        while remaining > 0 {
            if pos == end {
                guard try fill(1) else { throw truncated(what) }
            }
            let take = min(remaining, end - pos)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[pos..<(pos + take)]))
            pos += take
            remaining -= take
        }
        return out
    }

    /// A length, or a special string encoding (`encoded` true, value = encoding kind).
    func lengthOrEncoding(_ what: String) throws -> (value: UInt64, encoded: Bool) {
        let at = offset
        let b = try u8(what)
        switch b >> 6 {
        case 0:
            return (UInt64(b & 0x3F), false)
        case 1:
            let b2 = try u8(what)
            return ((UInt64(b & 0x3F) << 8) | UInt64(b2), false)
        case 3:
            return (UInt64(b & 0x3F), true)
        default:
            if b == RDBLength.len32 { return (try fixedBE(4, what), false) }
            if b == RDBLength.len64 { return (try fixedBE(8, what), false) }
            throw fail("invalid length encoding 0x\(hexByte(b)) for \(what)", at: at)
        }
    }

    func length(_ what: String) throws -> UInt64 {
        let at = offset
        let (v, encoded) = try lengthOrEncoding(what)
        if encoded { throw fail("expected a length for \(what), found a string encoding", at: at) }
        return v
    }

    /// A string in any encoding, with the file offset of its bytes when stored raw (nil when
    /// it was integer- or LZF-encoded, so blob errors can point into the file when possible).
    func stringBytes(_ what: String) throws -> (bytes: [UInt8], rawOffset: Int?) {
        let at = offset
        let (v, encoded) = try lengthOrEncoding(what)
        if !encoded {
            guard v <= UInt64(Int.max / 2) else { throw fail("string length \(v) for \(what) is too large", at: at) }
            let start = offset
            return (try bytes(Int(v), what), start)
        }
        switch UInt8(v) {
        case RDBStringEncoding.int8:
            let x = Int64(Int8(truncatingIfNeeded: try fixedLE(1, what)))
            return (DecimalText.bytes(x).array, nil)
        case RDBStringEncoding.int16:
            let x = Int64(Int16(truncatingIfNeeded: try fixedLE(2, what)))
            return (DecimalText.bytes(x).array, nil)
        case RDBStringEncoding.int32:
            let x = Int64(Int32(truncatingIfNeeded: try fixedLE(4, what)))
            return (DecimalText.bytes(x).array, nil)
        case RDBStringEncoding.lzf:
            let compressedLength = try length("\(what) (LZF compressed length)")
            let originalLength = try length("\(what) (LZF original length)")
            guard compressedLength <= UInt64(Int.max / 2) else {
                throw fail("LZF compressed length \(compressedLength) for \(what) is too large", at: at)
            }
            guard compressedLength > 0 else {
                throw fail("LZF string for \(what) has no compressed bytes", at: at)
            }
            let compressed = try bytes(Int(compressedLength), what)
            // Only now, with the compressed bytes really present, is the declared length checked
            // against what they can expand to, and then allocated.
            guard originalLength <= UInt64(compressed.count) &* UInt64(LZF.maxExpansionRatio) else {
                throw fail("LZF string for \(what) declares \(originalLength) bytes, more than \(compressed.count) compressed bytes can hold", at: at)
            }
            do {
                return (try LZF.decompress(compressed, outputLength: Int(originalLength)), nil)
            } catch let e as LZF.DecodeError {
                throw fail("invalid LZF string for \(what): \(e.reason) (compressed byte \(e.inputOffset))", at: at)
            }
        default:
            throw fail("unknown string encoding \(v) for \(what)", at: at)
        }
    }

    func string(_ what: String) throws -> Bytes {
        // Fast paths for the common cases, no intermediate array: a short integer, or a short
        // raw string already in the buffer.
        if end - pos >= 2 {
            let b = buffer[pos]
            if b == 0xC0 {
                let x = Int64(Int8(truncatingIfNeeded: buffer[pos + 1]))
                pos += 2
                return DecimalText.bytes(x)
            } else if b == 0xC1, end - pos >= 3 {
                let x = Int64(Int16(truncatingIfNeeded: loadLE(UnsafeRawBufferPointer(buffer), pos + 1, 2)))
                pos += 3
                return DecimalText.bytes(x)
            }
        }
        if let span = rawStringInBuffer() {
            pos = span.upperBound
            return Bytes(UnsafeRawBufferPointer(rebasing: buffer[span]))
        }
        return Bytes(array: try stringBytes(what).bytes)
    }

    /// Runs `body` on a string's bytes: straight from the input buffer when the whole raw string
    /// is there (the common case), else from a decoded copy. `body` must not read.
    func withString<R>(_ what: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        if let span = rawStringInBuffer() {
            pos = span.upperBound
            return try body(UnsafeRawBufferPointer(rebasing: buffer[span]))
        }
        return try string(what).withUnsafeBytes(body)
    }

    /// The bytes of a raw string with a 6- or 14-bit length at `pos`, when all of it is in the
    /// buffer; nil for any other encoding or a string that continues past the buffer.
    private func rawStringInBuffer() -> Range<Int>? {
        let avail = end - pos
        guard avail >= 2 else { return nil }
        let b = buffer[pos]
        let n: Int, header: Int
        if b < 0x40 {
            n = Int(b); header = 1
        } else if b < 0x80 {
            n = (Int(b & 0x3F) << 8) | Int(buffer[pos + 1]); header = 2
        } else {
            return nil
        }
        guard avail >= header + n else { return nil }
        return (pos + header)..<(pos + header + n)
    }

    // MARK: elements out (events, or the sink)
    //
    // Each returns false for a duplicate; the caller throws its own located error.

    func emitListElement(_ e: UnsafeRawBufferPointer) {
        emitted += 1
        if let p = sinkRef { p._withUnsafeGuaranteedRef { $0.listElement(e) } } else { pending.append(.listElement(Bytes(e))) }
    }

    func emitListElement(_ e: PackedRef) {
        e.withUnsafeBytes { emitListElement($0) }
    }

    func emitSetMember(_ m: UnsafeRawBufferPointer) -> Bool {
        emitted += 1
        if let p = sinkRef { return p._withUnsafeGuaranteedRef { $0.setMember(m) } }
        let b = Bytes(m)
        guard seen.insert(b).inserted else { return false }
        pending.append(.setMember(b))
        return true
    }

    /// A hash field, checked for a duplicate before its value is read; `emitHashValue`
    /// follows.
    func emitHashField(_ f: UnsafeRawBufferPointer) -> Bool {
        emitPairHead(f) { $0.hashField($1) }
    }

    func emitHashValue(_ v: UnsafeRawBufferPointer, expireAtMs: Int64?) {
        if let p = sinkRef {
            p._withUnsafeGuaranteedRef { $0.hashValue(v, expireAtMs: expireAtMs) }
        } else {
            pending.append(.hashField(field: pendingField, value: Bytes(v), expireAtMs: expireAtMs))
        }
    }

    /// A sorted-set member, checked for a duplicate before its score is read; `emitZsetScore`
    /// follows.
    func emitZsetMember(_ m: UnsafeRawBufferPointer) -> Bool {
        emitPairHead(m) { $0.zsetMember($1) }
    }

    /// The first half of a hash field or zset member pair: to the sink, or checked for a
    /// duplicate and held until its second half arrives.
    @inline(__always)
    private func emitPairHead(_ head: UnsafeRawBufferPointer,
                              _ toSink: (RDBValueSink, UnsafeRawBufferPointer) -> Bool) -> Bool {
        emitted += 1
        if let p = sinkRef { return p._withUnsafeGuaranteedRef { toSink($0, head) } }
        let b = Bytes(head)
        guard seen.insert(b).inserted else { return false }
        pendingField = b
        return true
    }

    func emitZsetScore(_ score: Double) {
        if let p = sinkRef {
            p._withUnsafeGuaranteedRef { $0.zsetScore(score) }
        } else {
            pending.append(.zsetMember(member: pendingField, score: score))
        }
    }

    /// A blob string (ziplist, listpack, …), where it starts in the file, and whether its bytes
    /// are in the file as they are (so a blob error can point at the exact file byte).
    func blob(_ what: String) throws -> (bytes: [UInt8], at: Int, raw: Bool) {
        let at = offset
        let (b, rawOffset) = try stringBytes(what)
        return (b, rawOffset ?? at, rawOffset != nil)
    }

    func blobError(_ e: BlobFormatError, _ blob: (bytes: [UInt8], at: Int, raw: Bool), _ what: String) -> RDBError {
        if blob.raw {
            return fail("\(what): \(e.reason)", at: blob.at + e.offset)
        }
        return fail("\(what): \(e.reason) (at byte \(e.offset) of the decompressed blob)", at: blob.at)
    }

    /// Runs `body` over a blob, turning its format errors into RDBErrors.
    func parseBlob(_ blob: (bytes: [UInt8], at: Int, raw: Bool), _ what: String,
                   _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        do {
            try blob.bytes.withUnsafeBytes { try body($0) }
        } catch let e as BlobFormatError {
            throw blobError(e, blob, what)
        }
    }

    /// Runs `body` on a blob and where it is in the file: straight from the input buffer when
    /// the whole raw string is there, else on `blob`'s copy. `body` must not read.
    func withBlob<R>(_ what: String, _ body: (UnsafeRawBufferPointer, (at: Int, raw: Bool)) throws -> R) throws -> R {
        let avail = end - pos
        if avail >= 2 {
            let b = buffer[pos]
            var n = -1, header = 1
            if b < 0x40 {
                n = Int(b)
            } else if b < 0x80 {
                n = (Int(b & 0x3F) << 8) | Int(buffer[pos + 1])
                header = 2
            } else if b == RDBLength.len32 && avail >= 5 {
                n = Int(loadBE(UnsafeRawBufferPointer(buffer), pos + 1, 4))
                header = 5
            }
            if n >= 0 && avail - header >= n {
                let start = pos + header
                pos = start + n
                return try body(UnsafeRawBufferPointer(rebasing: buffer[start..<(start + n)]), (base + start, true))
            }
        }
        let b = try blob(what)
        return try b.bytes.withUnsafeBytes { try body($0, (b.at, b.raw)) }
    }

    /// `parseBlob` for `withBlob`'s blobs.
    func parseBlob(_ data: UnsafeRawBufferPointer, _ place: (at: Int, raw: Bool), _ what: String,
                   _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        do {
            try body(data)
        } catch let e as BlobFormatError {
            if place.raw { throw fail("\(what): \(e.reason)", at: place.at + e.offset) }
            throw fail("\(what): \(e.reason) (at byte \(e.offset) of the decompressed blob)", at: place.at)
        }
    }

    func binaryDouble(_ what: String) throws -> Double {
        Double(bitPattern: try fixedLE(8, what))
    }

    func msTime(_ what: String) throws -> Int64 {
        Int64(bitPattern: try fixedLE(8, what))
    }

    // MARK: steps

    func step() throws -> RDBEvent? {
        while true {
            switch phase {
            case .finished:
                return nil
            case .header:
                return try readHeader()
            case .top:
                if let e = try readTop() { return e }
            case .value:
                if let e = try readValue() { return e }
                if pendingIndex < pending.count { return popPending() }
            }
        }
    }

    func readHeader() throws -> RDBEvent {
        guard try fill(9) else {
            throw fail("unexpected end of file while reading the header (\(end - pos) bytes)")
        }
        let magic: [UInt8] = Array("REDIS".utf8)
        for k in 0..<5 where buffer[pos + k] != magic[k] {
            throw fail("not an RDB file: no \"REDIS\" magic")
        }
        var v = 0
        for k in 5..<9 {
            let d = buffer[pos + k]
            guard d >= 48 && d <= 57 else { throw fail("invalid RDB version digits", at: offset + 5) }
            v = v * 10 + Int(d - 48)
        }
        guard v >= RDBVersion.minimum && v <= RDBVersion.maximum else {
            throw fail("Can't handle RDB format version \(v)", at: offset + 5)
        }
        pos += 9
        version = v
        phase = .top
        return .header(version: v)
    }

    func readTop() throws -> RDBEvent? {
        let at = offset
        let t = try u8("the next record type")
        if let op = RDBOpcode(rawValue: t) {
            switch op {
            case .eof:
                return try readEOF()
            case .selectDB:
                let db = try length("SELECTDB database number")
                guard db <= UInt64(Int32.max) else { throw fail("database number \(db) out of range", at: at) }
                return .selectDB(Int(db))
            case .expireTime:
                let seconds = Int64(Int32(truncatingIfNeeded: try fixedLE(4, "EXPIRETIME seconds")))
                nextExpireAtMs = seconds * 1000
                return nil
            case .expireTimeMs:
                nextExpireAtMs = try msTime("EXPIRETIME_MS")
                return nil
            case .resizeDB:
                let size = try length("RESIZEDB db size")
                let expires = try length("RESIZEDB expires size")
                return .resizeDB(dbSize: size, expiresSize: expires)
            case .aux:
                let k = try string("AUX key")
                let v = try string("AUX value")
                return .aux(key: k, value: v)
            case .freq:
                nextFreq = try u8("FREQ")
                return nil
            case .idle:
                nextIdle = try length("IDLE")
                return nil
            case .moduleAux:
                return try readModuleAux(at: at)
            case .functionPreGA:
                throw fail("pre-GA function format (opcode 246, Redis 7.0 release candidates) is not supported", at: at)
            case .function2:
                return .function(source: try string("FUNCTION2 library source"))
            case .slotInfo:
                let slot = try length("SLOT_INFO slot")
                let size = try length("SLOT_INFO size")
                let expires = try length("SLOT_INFO expires size")
                return .slotInfo(slot: slot, size: size, expiresSize: expires)
            }
        }
        guard let type = RDBType(rawValue: t) else {
            throw fail("unknown RDB value type \(t)", at: at)
        }
        let key = try string("a key")
        currentKey = key
        currentType = type
        valueStart = offset
        elementCount = 0
        if !seen.isEmpty { seen.removeAll(keepingCapacity: false) }
        let expire = nextExpireAtMs, idle = nextIdle, freq = nextFreq
        keyExpireAtMs = expire
        keyIdle = idle
        nextExpireAtMs = nil
        nextIdle = nil
        nextFreq = nil

        let kind: RDBValueKind
        switch type {
        case .string: kind = .string
        case .list, .listZiplist, .listQuicklist, .listQuicklist2: kind = .list
        case .set, .setIntset, .setListpack: kind = .set
        case .zset, .zset2, .zsetZiplist, .zsetListpack: kind = .zset
        case .hash, .hashZipmap, .hashZiplist, .hashListpack, .hashMetadataPreGA, .hashListpackExPreGA,
             .hashMetadata, .hashListpackEx: kind = .hash
        case .streamListpacks, .streamListpacks2, .streamListpacks3: kind = .stream
        case .moduleV1, .module2:
            let id = try length("module id")
            throw fail("the RDB file contains module data for module type '\(RDBModuleID.name(id))' (id \(id)), which Cairn cannot load", at: at)
        }
        phase = .value
        valueState = .start(type)
        return .keyBegin(key: key, kind: kind, encoding: t, expireAtMs: expire, idle: idle, freq: freq)
    }

    func readEOF() throws -> RDBEvent {
        // The checksum covers everything up to and including the EOF byte just consumed.
        let computed: UInt64
        if let s = checksummingSource {
            guard let c = s.crc64(ofFirst: offset) else {
                throw fail("RDB CRC error: the byte source cannot say the checksum of the first \(offset) bytes")
            }
            computed = c
        } else {
            crc = CRC64.update(crc, UnsafeRawBufferPointer(rebasing: buffer[crcPos..<pos]))
            computed = crc
        }
        crcPos = pos
        phase = .finished
        guard version >= RDBVersion.firstWithChecksum else {
            return .end(checksum: nil, checksumVerified: false)
        }
        let at = offset
        let stored = try fixedLE(8, "the CRC64 checksum")
        crcPos = pos
        if stored == 0 || !verifyChecksum {
            return .end(checksum: stored, checksumVerified: false)
        }
        guard stored == computed else {
            throw fail("RDB CRC error: stored checksum 0x\(String(stored, radix: 16)), computed 0x\(String(computed, radix: 16))", at: at)
        }
        return .end(checksum: stored, checksumVerified: true)
    }

    /// MODULE_AUX: module id, when-opcode (must be UINT), when, then typed items to EOF.
    func readModuleAux(at: Int) throws -> RDBEvent {
        let id = try length("MODULE_AUX module id")
        let name = RDBModuleID.name(id)
        let whenOpcode = try length("MODULE_AUX when opcode")
        guard whenOpcode == RDBModuleOpcode.uint else {
            throw fail("MODULE_AUX of module '\(name)' has invalid when-opcode \(whenOpcode)", at: at)
        }
        let when = try length("MODULE_AUX when")
        try skipModuleItems(name)
        return .moduleAux(moduleID: id, name: name, when: when)
    }

    func skipModuleItems(_ name: String) throws {
        while true {
            let at = offset
            let opcode = try length("module '\(name)' item opcode")
            switch opcode {
            case RDBModuleOpcode.eof: return
            case RDBModuleOpcode.sint, RDBModuleOpcode.uint: _ = try length("module '\(name)' integer")
            case RDBModuleOpcode.float: _ = try fixedLE(4, "module '\(name)' float")
            case RDBModuleOpcode.double: _ = try fixedLE(8, "module '\(name)' double")
            case RDBModuleOpcode.string: _ = try stringBytes("module '\(name)' string")
            default: throw fail("unknown item opcode \(opcode) in module '\(name)' data", at: at)
            }
        }
    }

    // MARK: values

    func finishKey() -> RDBEvent {
        let key = currentKey ?? Bytes()
        let e = RDBEvent.keyEnd(key: key, valueBytes: offset - valueStart)
        currentKey = nil
        if !seen.isEmpty { seen.removeAll(keepingCapacity: false) }
        phase = .top
        return e
    }

    func emptyValue(_ what: String, at: Int) -> RDBError {
        fail("empty \(what) (Redis would skip this key on load)", at: at)
    }

    func duplicate(_ what: String, _ element: UnsafeRawBufferPointer, at: Int) -> RDBError {
        fail("duplicate \(what) \"\(Bytes(element).debugText)\"", at: at)
    }

    func blobDuplicate(_ what: String, _ element: UnsafeRawBufferPointer, at: Int) -> BlobFormatError {
        BlobFormatError(offset: at, reason: "duplicate \(what) \"\(Bytes(element).debugText)\"")
    }

    func readValue() throws -> RDBEvent? {
        switch valueState {
        case .finish:
            return finishKey()

        case .start(let type):
            return try startValue(type)

        case .plainList(let remaining):
            try withString("list element") { emitListElement($0) }
            valueState = remaining > 1 ? .plainList(remaining: remaining - 1) : .finish
            return nil

        case .plainSet(let remaining):
            let at = offset
            try withString("set member") { m in
                if !emitSetMember(m) { throw duplicate("set member", m, at: at) }
            }
            valueState = remaining > 1 ? .plainSet(remaining: remaining - 1) : .finish
            return nil

        case .plainHash(let remaining):
            let at = offset
            try withString("hash field") { f in
                if !emitHashField(f) { throw duplicate("hash field", f, at: at) }
            }
            try withString("hash value") { emitHashValue($0, expireAtMs: nil) }
            valueState = remaining > 1 ? .plainHash(remaining: remaining - 1) : .finish
            return nil

        case .plainZset(let remaining, let binary):
            let at = offset
            try withString("zset member") { m in
                if !emitZsetMember(m) { throw duplicate("zset member", m, at: at) }
            }
            let scoreAt = offset
            let score = binary ? try binaryDouble("zset score") : try stringDouble()
            if score.isNaN { throw fail("zset score is NaN", at: scoreAt) }
            emitZsetScore(score)
            valueState = remaining > 1 ? .plainZset(remaining: remaining - 1, binary: binary) : .finish
            return nil

        case .hashMetadata(let remaining, let minExpire):
            let at = offset
            let ttl = try length("hash field TTL")
            var expireAt: UInt64 = 0
            if let minExpire = minExpire {
                if ttl != 0 {
                    let (sum, overflow) = ttl.addingReportingOverflow(minExpire)
                    guard !overflow else { throw fail("hash field TTL \(ttl) overflows", at: at) }
                    expireAt = sum - 1
                }
            } else {
                expireAt = ttl
            }
            guard expireAt <= RDBHashFieldTTL.maxExpireAtMs else {
                throw fail("invalid hash field expire time \(expireAt)", at: at)
            }
            let fieldAt = offset
            try withString("hash field") { f in
                if !emitHashField(f) { throw duplicate("hash field", f, at: fieldAt) }
            }
            try withString("hash value") { emitHashValue($0, expireAtMs: expireAt == 0 ? nil : Int64(expireAt)) }
            valueState = remaining > 1 ? .hashMetadata(remaining: remaining - 1, minExpire: minExpire) : .finish
            return nil

        case .quicklist(let remaining, let v2):
            try readQuicklistNode(v2: v2)
            if remaining > 1 {
                valueState = .quicklist(remaining: remaining - 1, v2: v2)
            } else {
                if elementCount == 0 { throw emptyValue("list (every quicklist node is empty)", at: valueStart) }
                valueState = .finish
            }
            return nil

        case .streamNodes(let remaining):
            if remaining == 0 {
                return try readStreamMeta()
            }
            try readStreamNode()
            valueState = .streamNodes(remaining: remaining - 1)
            return nil

        case .streamGroups(let remaining):
            if remaining == 0 {
                valueState = .finish
                return nil
            }
            let group = try readStreamGroup()
            valueState = .streamGroups(remaining: remaining - 1)
            return .streamGroup(group)
        }
    }

    func startValue(_ type: RDBType) throws -> RDBEvent? {
        let at = offset
        emitted = 0
        switch type {
        case .string:
            guard let sink else {
                let s = try string("string value")
                valueState = .finish
                return .string(s)
            }
            sink.begin(kind: .string, countHint: nil)
            try withString("string value") { sink.string($0) }
            valueState = .finish

        case .list:
            let n = try length("list length")
            if n == 0 { throw emptyValue("list", at: at) }
            sink?.begin(kind: .list, countHint: Int(clamping: n))
            valueState = .plainList(remaining: n)
        case .set:
            let n = try length("set size")
            if n == 0 { throw emptyValue("set", at: at) }
            sink?.begin(kind: .set, countHint: Int(clamping: n))
            valueState = .plainSet(remaining: n)
        case .hash:
            let n = try length("hash size")
            if n == 0 { throw emptyValue("hash", at: at) }
            sink?.begin(kind: .hash, countHint: Int(clamping: n))
            valueState = .plainHash(remaining: n)
        case .zset, .zset2:
            let n = try length("zset size")
            if n == 0 { throw emptyValue("zset", at: at) }
            sink?.begin(kind: .zset, countHint: Int(clamping: n))
            valueState = .plainZset(remaining: n, binary: type == .zset2)
        case .hashMetadata, .hashMetadataPreGA:
            var minExpire: UInt64? = nil
            if type == .hashMetadata {
                let m = try fixedLE(8, "hash minimum expire time")
                guard m <= RDBHashFieldTTL.maxExpireAtMs + 1 else {
                    throw fail("invalid hash minimum expire time \(m)", at: at)
                }
                minExpire = m
            }
            let n = try length("hash size")
            if n == 0 { throw emptyValue("hash", at: offset) }
            sink?.begin(kind: .hash, countHint: Int(clamping: n))
            valueState = .hashMetadata(remaining: n, minExpire: minExpire)

        case .listQuicklist, .listQuicklist2:
            let n = try length("quicklist node count")
            if n == 0 { throw emptyValue("list", at: at) }
            sink?.begin(kind: .list, countHint: nil)
            valueState = .quicklist(remaining: n, v2: type == .listQuicklist2)

        case .streamListpacks, .streamListpacks2, .streamListpacks3:
            let n = try length("stream listpack count")
            streamLive = 0
            streamLastMaster = nil
            streamLastEntry = nil
            valueState = .streamNodes(remaining: n)

        case .listZiplist:
            try withBlob("list ziplist") { data, place in
                sink?.begin(kind: .list, countHint: Self.packedCount(data, ziplist: true))
                try parseBlob(data, place, "list ziplist") { zl in
                    try Ziplist.forEachRef(zl) { e, _ in emitListElement(e) }
                }
            }
            if emitted == 0 { throw emptyValue("list ziplist", at: at) }
            valueState = .finish
        case .setIntset:
            try withBlob("set intset") { data, place in
                sink?.begin(kind: .set, countHint: data.count >= 8 ? Int(loadLE(data, 4, 4)) : nil)
                try parseBlob(data, place, "set intset") { blob in
                    try Intset.forEach(blob) { v in
                        // Strictly ascending (checked by Intset): never a duplicate.
                        _ = DecimalText.withBytes(v) { emitSetMember($0) }
                    }
                }
            }
            if emitted == 0 { throw emptyValue("set intset", at: at) }
            valueState = .finish
        case .setListpack:
            try withBlob("set listpack") { data, place in
                sink?.begin(kind: .set, countHint: Self.packedCount(data, ziplist: false))
                sink?.setIsListpack()
                try parseBlob(data, place, "set listpack") { lp in
                    try Listpack.forEachRef(lp) { e, off in
                        try e.withUnsafeBytes { m in
                            if !emitSetMember(m) { throw blobDuplicate("set member", m, at: off) }
                        }
                    }
                }
            }
            if emitted == 0 { throw emptyValue("set listpack", at: at) }
            valueState = .finish
        case .hashZipmap:
            try withBlob("hash zipmap") { data, place in
                sink?.begin(kind: .hash, countHint: nil)
                try parseBlob(data, place, "hash zipmap") { zm in
                    try Zipmap.forEachPair(zm) { f, v, off in
                        try f.withUnsafeBytes { fp in
                            if !emitHashField(fp) { throw blobDuplicate("hash field", fp, at: off) }
                        }
                        v.withUnsafeBytes { emitHashValue($0, expireAtMs: nil) }
                    }
                }
            }
            if emitted == 0 { throw emptyValue("hash zipmap", at: at) }
            valueState = .finish
        case .hashZiplist, .hashListpack, .zsetZiplist, .zsetListpack:
            let isHash = type == .hashZiplist || type == .hashListpack
            let isZiplist = type == .hashZiplist || type == .zsetZiplist
            let what = isHash ? (isZiplist ? "hash ziplist" : "hash listpack") : (isZiplist ? "zset ziplist" : "zset listpack")
            try withBlob(what) { data, place in
                sink?.begin(kind: isHash ? .hash : .zset, countHint: Self.packedCount(data, ziplist: isZiplist).map { $0 / 2 })
                try parseBlob(data, place, what) { data in
                    try forEachPair(data, ziplist: isZiplist, what) { first, second, off in
                        if isHash {
                            try first.withUnsafeBytes { f in
                                if !emitHashField(f) { throw blobDuplicate("hash field", f, at: off) }
                            }
                            second.withUnsafeBytes { emitHashValue($0, expireAtMs: nil) }
                        } else {
                            try first.withUnsafeBytes { m in
                                if !emitZsetMember(m) { throw blobDuplicate("zset member", m, at: off) }
                            }
                            emitZsetScore(try packedScore(second, off))
                        }
                    }
                }
            }
            if emitted == 0 { throw emptyValue(what, at: at) }
            valueState = .finish
        case .hashListpackEx, .hashListpackExPreGA:
            if type == .hashListpackEx {
                _ = try fixedLE(8, "hash minimum expire time")  // a hint; the listpack has each TTL
            }
            try withBlob("hash listpack with TTLs") { data, place in
                sink?.begin(kind: .hash, countHint: Self.packedCount(data, ziplist: false).map { $0 / 3 })
                try parseBlob(data, place, "hash listpack with TTLs") { data in
                    try forEachTuple(data, ziplist: false, arity: 3, "hash listpack with TTLs") { t, off in
                        try t[0].withUnsafeBytes { f in
                            if !emitHashField(f) { throw blobDuplicate("hash field", f, at: off) }
                        }
                        let ttl: Int64
                        switch t[2] {
                        case .int(let v): ttl = v
                        case .bytes(let s):
                            guard let v = DecimalText.canonicalInt64(s) else {
                                throw BlobFormatError(offset: off, reason: "hash field TTL is not an integer")
                            }
                            ttl = v
                        }
                        guard ttl >= 0 && UInt64(ttl) <= RDBHashFieldTTL.maxExpireAtMs else {
                            throw BlobFormatError(offset: off, reason: "invalid hash field expire time \(ttl)")
                        }
                        t[1].withUnsafeBytes { emitHashValue($0, expireAtMs: ttl == 0 ? nil : ttl) }
                    }
                }
            }
            if emitted == 0 { throw emptyValue("hash listpack with TTLs", at: at) }
            valueState = .finish
        case .moduleV1, .module2:
            throw fail("module value", at: at)  // unreachable: refused in readTop
        }
        return nil
    }

    /// The element count a listpack (u16 at 4) or ziplist (u16 at 8) header declares, for
    /// `RDBValueSink.begin`; nil when unknown. The walk checks it.
    static func packedCount(_ blob: UnsafeRawBufferPointer, ziplist: Bool) -> Int? {
        let at = ziplist ? 8 : 4
        guard blob.count >= at + 2 else { return nil }
        let n = Int(blob[at]) | Int(blob[at + 1]) << 8
        return n == (ziplist ? 65535 : Listpack.unknownCount) ? nil : n
    }

    /// Walks a ziplist or listpack in groups of `arity` elements.
    func forEachTuple(_ data: UnsafeRawBufferPointer, ziplist: Bool, arity: Int, _ what: String,
                      _ body: ([PackedElement], Int) throws -> Void) throws {
        var group = [PackedElement]()
        group.reserveCapacity(arity)
        var groupAt = 0
        func each(_ e: PackedElement, _ off: Int) throws {
            if group.isEmpty { groupAt = off }
            group.append(e)
            if group.count == arity {
                try body(group, groupAt)
                group.removeAll(keepingCapacity: true)
            }
        }
        if ziplist {
            try Ziplist.forEach(data, each)
        } else {
            try Listpack.forEach(data, each)
        }
        if !group.isEmpty {
            throw BlobFormatError(offset: groupAt, reason: "\(what) element count is not a multiple of \(arity)")
        }
    }

    /// Walks a ziplist or listpack two elements at a time, each borrowed from the blob
    /// (`forEachTuple` with arity 2, without the arrays).
    func forEachPair(_ data: UnsafeRawBufferPointer, ziplist: Bool, _ what: String,
                     _ body: (PackedRef, PackedRef, Int) throws -> Void) throws {
        var first: PackedRef? = nil
        var firstAt = 0
        func each(_ e: PackedRef, _ off: Int) throws {
            if let f = first {
                first = nil
                try body(f, e, firstAt)
            } else {
                first = e
                firstAt = off
            }
        }
        if ziplist {
            try Ziplist.forEachRef(data, each)
        } else {
            try Listpack.forEachRef(data, each)
        }
        if first != nil {
            throw BlobFormatError(offset: firstAt, reason: "\(what) element count is not a multiple of 2")
        }
    }

    func packedScore(_ e: PackedElement, _ off: Int) throws -> Double {
        switch e {
        case .int(let v):
            return Double(v)
        case .bytes(let s):
            return try s.withUnsafeBytes { try packedScore(PackedRef(bytes: $0), off) }
        }
    }

    func packedScore(_ e: PackedRef, _ off: Int) throws -> Double {
        guard let s = e.bytes else { return Double(e.int) }
        guard let d = parseDouble(s), !d.isNaN else {
            throw BlobFormatError(offset: off, reason: "invalid zset score \"\(Bytes(s).debugText)\"")
        }
        return d
    }

    /// The legacy string double of ZSET type 3: 1 length byte (253 NaN, 254 +inf, 255 -inf),
    /// then ASCII.
    func stringDouble() throws -> Double {
        let at = offset
        let n = try u8("zset score length")
        switch n {
        case 253: return .nan
        case 254: return .infinity
        case 255: return -.infinity
        default:
            let text = try bytes(Int(n), "zset score")
            guard let d = parseDouble(Bytes(array: text)) else {
                throw fail("invalid zset score \"\(Bytes(array: text).debugText)\"", at: at)
            }
            return d
        }
    }

    /// strtod over the whole of `s`; nil if any byte is left over or it is empty.
    func parseDouble(_ s: Bytes) -> Double? {
        s.withUnsafeBytes { parseDouble($0) }
    }

    /// strtod over the whole of `raw` (copied to the stack with its terminating NUL), with
    /// plain decimals taken first (`plainDecimal`, the same result).
    func parseDouble(_ raw: UnsafeRawBufferPointer) -> Double? {
        if let d = RDBReader.plainDecimal(raw) { return d }
        let n = raw.count
        guard n > 0, n < 256 else { return nil }
        if raw[0] == 32 || (raw[0] >= 9 && raw[0] <= 13) { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { p -> Double? in
            UnsafeMutableRawPointer(p.baseAddress!).copyMemory(from: raw.baseAddress!, byteCount: n)
            p[n] = 0
            var endPtr: UnsafeMutablePointer<CChar>? = nil
            let d = strtod(p.baseAddress!, &endPtr)
            guard let e = endPtr, e - p.baseAddress! == n else { return nil }
            return d
        }
    }

    /// Plain decimals ("1.5", "-20", "0.125"; no exponent, at most 15 digits) as strtod
    /// reads them, without strtod: the digits make an integer below 2^53 and the divisor is a
    /// power of ten up to 10^15, both exact doubles, so the one division is correctly rounded
    /// like strtod's result (Clinger's fast path). nil for anything else (strtod decides).
    static func plainDecimal(_ raw: UnsafeRawBufferPointer) -> Double? {
        let n = raw.count
        var i = 0
        var negative = false
        if n > 0 && (raw[0] == 43 || raw[0] == 45) {   // "+", "-"
            negative = raw[0] == 45
            i = 1
        }
        var mantissa: UInt64 = 0
        var digits = 0, fractionDigits = 0
        var seenPoint = false
        while i < n {
            let c = raw[i]
            if c >= 48 && c <= 57 {
                digits += 1
                if digits > 15 { return nil }
                mantissa = mantissa &* 10 &+ UInt64(c &- 48)
                if seenPoint { fractionDigits += 1 }
            } else if c == 46 && !seenPoint {   // "."
                seenPoint = true
            } else {
                return nil
            }
            i += 1
        }
        guard digits > 0 else { return nil }
        let v = Double(mantissa) / powersOfTen[fractionDigits]
        return negative ? -v : v
    }

    static let powersOfTen: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15]

    // MARK: lists

    func readQuicklistNode(v2: Bool) throws {
        var container = RDBQuicklistContainer.packed
        if v2 {
            let at = offset
            container = try length("quicklist node container")
            guard container == RDBQuicklistContainer.packed || container == RDBQuicklistContainer.plain else {
                throw fail("invalid quicklist node container \(container)", at: at)
            }
        }
        let at = offset
        try withBlob("quicklist node") { data, place in
            if data.isEmpty { throw fail("empty quicklist node", at: at) }
            if container == RDBQuicklistContainer.plain {
                emitListElement(data)
                elementCount += 1
                return
            }
            let what = v2 ? "quicklist listpack node" : "quicklist ziplist node"
            try parseBlob(data, place, what) { data in
                func each(_ e: PackedRef, _ off: Int) {
                    e.withUnsafeBytes { self.emitListElement($0) }
                    self.elementCount += 1
                }
                if v2 {
                    try Listpack.forEachRef(data, each)
                } else {
                    try Ziplist.forEachRef(data, each)
                }
            }
        }
    }

    // MARK: streams
    //
    // Each node: a 16-byte master ID (big-endian ms, seq) and a listpack:
    //
    //   master entry:  count  deleted  num-fields  field_1 … field_N  0
    //   each entry:    flags  ms-diff  seq-diff  [num-fields  field_1 value_1 …]  lp-count
    //                  (with the SAMEFIELDS flag: value_1 … value_N of the master fields)
    //
    // lp-count is the entry's number of listpack elements before it: N+3 with SAMEFIELDS,
    // 2N+4 without. Entry IDs are the master ID plus the (signed) diffs.

    func readStreamNode() throws {
        let keyAt = offset
        let nodeKey = try stringBytes("stream node key").bytes
        guard nodeKey.count == 16 else {
            throw fail("stream node key is \(nodeKey.count) bytes, not a 16-byte stream ID", at: keyAt)
        }
        let master = nodeKey.withUnsafeBytes { RDBStreamID(rawBigEndian: $0) }
        if let last = streamLastMaster, master <= last {
            throw fail("stream node \(master) is not after node \(last)", at: keyAt)
        }
        streamLastMaster = master
        let b = try blob("stream listpack")
        var els = [(PackedElement, Int)]()
        try parseBlob(b, "stream listpack") { lp in
            try Listpack.forEach(lp) { e, off in els.append((e, off)) }
        }
        guard !els.isEmpty else { throw fail("empty listpack inside stream", at: b.at) }
        do {
            try decodeStreamNode(els, master: master)
        } catch let e as BlobFormatError {
            throw blobError(e, b, "stream listpack")
        }
    }

    func decodeStreamNode(_ els: [(PackedElement, Int)], master: RDBStreamID) throws {
        var i = 0
        func nextElement(_ what: String) throws -> (PackedElement, Int) {
            guard i < els.count else {
                throw BlobFormatError(offset: els.last!.1, reason: "stream node ends before \(what)")
            }
            defer { i += 1 }
            return els[i]
        }
        func int(_ what: String) throws -> Int64 {
            let (e, off) = try nextElement(what)
            switch e {
            case .int(let v): return v
            case .bytes(let s):
                guard let v = DecimalText.canonicalInt64(s) else {
                    throw BlobFormatError(offset: off, reason: "stream \(what) is not an integer")
                }
                return v
            }
        }
        func count(_ what: String) throws -> Int {
            let off = i < els.count ? els[i].1 : 0
            let v = try int(what)
            guard v >= 0 && v <= Int64(els.count) else {
                throw BlobFormatError(offset: off, reason: "stream \(what) \(v) out of range")
            }
            return Int(v)
        }
        let live = try count("entry count")
        let deleted = try count("deleted count")
        let masterFieldCount = try count("master field count")
        var masterFields = [Bytes]()
        for _ in 0..<masterFieldCount { masterFields.append(try nextElement("master field").0.asBytes) }
        let zeroAt = i < els.count ? els[i].1 : 0
        guard try int("master terminator") == 0 else {
            throw BlobFormatError(offset: zeroAt, reason: "stream master entry terminator is not 0")
        }
        var liveSeen = 0, deletedSeen = 0
        let total = live + deleted
        for _ in 0..<total {
            let entryAt = i < els.count ? els[i].1 : 0
            let flags = try int("entry flags")
            let msDiff = try int("entry ms diff")
            let seqDiff = try int("entry seq diff")
            let id = RDBStreamID(ms: master.ms &+ UInt64(bitPattern: msDiff),
                                 seq: master.seq &+ UInt64(bitPattern: seqDiff))
            var fields = [(field: Bytes, value: Bytes)]()
            let expectedLPCount: Int
            if flags & RDBStreamFlag.sameFields != 0 {
                for f in masterFields { fields.append((f, try nextElement("entry value").0.asBytes)) }
                expectedLPCount = masterFieldCount + 3
            } else {
                let n = try count("entry field count")
                for _ in 0..<n {
                    let f = try nextElement("entry field").0.asBytes
                    let v = try nextElement("entry value").0.asBytes
                    fields.append((f, v))
                }
                expectedLPCount = 2 * n + 4
            }
            let lpCountAt = i < els.count ? els[i].1 : 0
            guard try int("entry lp-count") == Int64(expectedLPCount) else {
                throw BlobFormatError(offset: lpCountAt, reason: "stream entry lp-count does not match its \(fields.count) fields")
            }
            if id < master {
                throw BlobFormatError(offset: entryAt, reason: "stream entry \(id) is before its node's master ID \(master)")
            }
            if let last = streamLastEntry, id <= last {
                throw BlobFormatError(offset: entryAt, reason: "stream entry \(id) is not after \(last)")
            }
            streamLastEntry = id
            if flags & RDBStreamFlag.deleted != 0 {
                deletedSeen += 1
            } else {
                liveSeen += 1
                pending.append(.streamEntry(RDBStreamEntry(id: id, fields: fields)))
            }
        }
        guard i == els.count else {
            throw BlobFormatError(offset: els[i].1, reason: "stream node has \(els.count - i) elements after its last entry")
        }
        guard liveSeen == live, deletedSeen == deleted else {
            throw BlobFormatError(offset: els[0].1, reason: "stream node counts \(live) live / \(deleted) deleted entries, found \(liveSeen) / \(deletedSeen)")
        }
        streamLive += UInt64(liveSeen)
    }

    func streamID(_ what: String) throws -> RDBStreamID {
        let ms = try length("\(what) ms")
        let seq = try length("\(what) seq")
        return RDBStreamID(ms: ms, seq: seq)
    }

    func readStreamMeta() throws -> RDBEvent {
        let at = offset
        let length = try length("stream length")
        let lastID = try streamID("stream last ID")
        var meta = RDBStreamMeta(length: length, lastID: lastID)
        if currentType != .streamListpacks {
            meta.firstID = try streamID("stream first ID")
            meta.maxDeletedID = try streamID("stream max deleted ID")
            meta.entriesAdded = try self.length("stream entries added")
        }
        guard length == streamLive else {
            throw fail("stream length \(length) does not match its \(streamLive) entries", at: at)
        }
        if let last = streamLastEntry, lastID < last {
            throw fail("stream last ID \(lastID) is before its last entry \(last)", at: at)
        }
        let groups = try self.length("stream consumer group count")
        valueState = .streamGroups(remaining: groups)
        return .streamMeta(meta)
    }

    func readStreamGroup() throws -> RDBStreamGroup {
        let nameAt = offset
        let name = try string("consumer group name")
        guard seen.insert(name).inserted else {
            throw fail("duplicate consumer group \"\(name.debugText)\"", at: nameAt)
        }
        let lastID = try streamID("consumer group last ID")
        var entriesRead: Int64? = nil
        if currentType != .streamListpacks {
            entriesRead = Int64(bitPattern: try length("consumer group entries read"))
        }
        // Global PEL, owners filled in from the consumers' PELs below.
        let pelCount = try length("consumer group PEL size")
        var pel = [RDBStreamPendingEntry]()
        var pelIndex = [RDBStreamID: Int]()
        var remaining = pelCount
        while remaining > 0 {
            let at = offset
            let raw = try bytes(16, "PEL entry ID")
            let id = raw.withUnsafeBytes { RDBStreamID(rawBigEndian: $0) }
            let deliveryTime = try msTime("PEL delivery time")
            let deliveryCount = try length("PEL delivery count")
            guard pelIndex[id] == nil else {
                throw fail("duplicate PEL entry \(id) in group \"\(name.debugText)\"", at: at)
            }
            pelIndex[id] = pel.count
            pel.append(RDBStreamPendingEntry(id: id, deliveryTimeMs: deliveryTime, deliveryCount: deliveryCount, consumer: Bytes()))
            remaining -= 1
        }
        var owned = [Bool](repeating: false, count: pel.count)
        var consumers = [RDBStreamConsumer]()
        var consumerNames = Set<Bytes>()
        var consumerCount = try length("consumer count")
        while consumerCount > 0 {
            let cAt = offset
            let cname = try string("consumer name")
            guard consumerNames.insert(cname).inserted else {
                throw fail("duplicate consumer \"\(cname.debugText)\" in group \"\(name.debugText)\"", at: cAt)
            }
            let seenTime = try msTime("consumer seen time")
            var activeTime: Int64? = nil
            if currentType == .streamListpacks3 {
                activeTime = try msTime("consumer active time")
            }
            var ids = [RDBStreamID]()
            var n = try length("consumer PEL size")
            while n > 0 {
                let at = offset
                let raw = try bytes(16, "consumer PEL entry ID")
                let id = raw.withUnsafeBytes { RDBStreamID(rawBigEndian: $0) }
                guard let idx = pelIndex[id] else {
                    throw fail("consumer PEL entry \(id) not found in the group's PEL", at: at)
                }
                guard !owned[idx] else {
                    throw fail("PEL entry \(id) claimed by more than one consumer", at: at)
                }
                owned[idx] = true
                pel[idx].consumer = cname
                ids.append(id)
                n -= 1
            }
            consumers.append(RDBStreamConsumer(name: cname, seenTimeMs: seenTime, activeTimeMs: activeTime, pending: ids))
            consumerCount -= 1
        }
        if let orphan = owned.firstIndex(of: false) {
            throw fail("PEL entry \(pel[orphan].id) of group \"\(name.debugText)\" has no consumer")
        }
        return RDBStreamGroup(name: name, lastID: lastID, entriesRead: entriesRead, pending: pel, consumers: consumers)
    }
}
