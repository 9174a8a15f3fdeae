// DUMP and RESTORE, with Redis's payload so values move between Cairn and Redis both ways.
//
// The payload (Redis's createDumpPayload / verifyDumpPayload):
//
//   +------+----------------------+----------------+------------------+
//   | type | value (RDB encoding) | u16le version  | u64le CRC64      |
//   +------+----------------------+----------------+------------------+
//    1 byte                         RDB version      CRC64/Jones of every byte before it
//
// e.g. DUMP of "hello" from Redis 7.0: 00 05 68 65 6c 6c 6f | 0a 00 | 63 72 df 76 65 34 20 0a.
//
// It is one key record of an RDB file without the key, so both directions go through the RDB
// code: encoding writes a record with an empty key (one 0x00 byte) and removes it; decoding
// puts the payload back into a minimal RDB stream ("REDIS00vv", type, empty key, value, EOF,
// a zero checksum meaning "not computed") and reads it with RDBReader, which validates every
// byte as it does for files (hostile input).
//
// Versions: DUMP writes rdb-version (10 by default, what Redis 7.0 accepts). RESTORE accepts
// payloads up to RDB 12 (Redis 7.4); Redis 7.0 itself refuses anything above 10.

public enum DumpPayload {
    /// The DUMP payload of a value.
    public static func encode(_ value: Value, version: Int = 10, compressStrings: Bool = true) -> [UInt8] {
        let writer = RDBWriter(version: version, compressStrings: compressStrings, checksum: false)
        ValueCodec.write(writer, key: Bytes(), value: value, expireAtMs: nil)
        var out = writer.takeOutput()
        precondition(out.count >= 2 && out[1] == 0, "a record with an empty key has 0x00 after the type")
        out.remove(at: 1)
        out.append(UInt8(truncatingIfNeeded: version))
        out.append(UInt8(truncatingIfNeeded: version >> 8))
        let crc = CRC64.checksum(out)
        for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: crc >> UInt64(8 * k))) }
        return out
    }

    /// The payload's RDB version when its footer is valid (version we can read, checksum
    /// matches), nil otherwise (Redis's verifyDumpPayload).
    public static func verify(_ payload: [UInt8]) -> Int? {
        let n = payload.count
        guard n >= 10 else { return nil }
        let version = Int(payload[n - 10]) | Int(payload[n - 9]) << 8
        guard version >= RDBVersion.minimum && version <= RDBVersion.maximum else { return nil }
        var stored: UInt64 = 0
        for k in 0..<8 { stored |= UInt64(payload[n - 8 + k]) << UInt64(8 * k) }
        let computed = payload.withUnsafeBytes { CRC64.update(0, UnsafeRawBufferPointer(rebasing: $0[0..<(n - 8)])) }
        return stored == computed ? version : nil
    }

    /// The value in a payload whose footer `verify` accepted, built with `engine`'s encoding
    /// limits. Throws for anything malformed.
    public static func decode(_ payload: [UInt8], version: Int, for engine: Engine) throws -> Value {
        let n = payload.count
        precondition(n >= 10)
        var rdb = Array("REDIS".utf8)
        let digits = String(version)
        rdb += Array((String(repeating: "0", count: max(0, 4 - digits.count)) + digits).utf8)
        rdb.append(payload[0])
        rdb.append(0)                       // the empty key
        rdb += payload[1..<(n - 10)]
        rdb.append(RDBOpcode.eof.rawValue)
        if version >= RDBVersion.firstWithChecksum { rdb += [UInt8](repeating: 0, count: 8) }
        let reader = RDBReader(source: RDBMemorySource(rdb), verifyChecksum: false)
        var assembler = RDBKeyAssembler()
        var found: RDBValue?
        var keys = 0
        while let event = try reader.next() {
            switch event {
            case .keyBegin: keys += 1
            case .header, .keyEnd, .end, .string, .listElement, .setMember, .hashField, .zsetMember,
                 .streamEntry, .streamMeta, .streamGroup: break
            default:
                // An opcode where the type byte should be: not a value payload.
                throw RDBError(offset: reader.offset, key: nil, reason: "not a value payload")
            }
            if let v = assembler.feed(event) { found = v }
        }
        guard keys == 1, let value = found else {
            throw RDBError(offset: reader.offset, key: nil, reason: "not a value payload")
        }
        return try ValueCodec.value(from: value, for: engine, rdbType: assembler.encoding)
    }
}

extension Engine {
    func registerDumpRestoreCommands() {
        commands.register(CommandSpec("dump", arity: 2, flags: [.readonly], keys: (1, 1, 1), group: "generic",
                                      summary: "Returns a serialized representation of the value stored at a key.", since: "2.6.0",
                                      complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).") { c in
            c.dumpCommand()
        })
        commands.register(CommandSpec("restore", arity: -4, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "generic",
                                      summary: "Creates a key from the serialized representation of a value.", since: "2.6.0",
                                      complexity: "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).") { c in
            c.restoreCommand()
        })
    }
}

extension CommandCall {
    mutating func dumpCommand() {
        guard let e = lookupRead(argv[1]) else { reply.null(); return }
        let payload = DumpPayload.encode(e.value, version: engine.config.rdbVersion,
                                         compressStrings: engine.config.rdbCompressStrings)
        reply.bulk(payload)
    }

    /// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency], checked
    /// in Redis's order: options, BUSYKEY, TTL, payload footer, payload body.
    mutating func restoreCommand() {
        var replace = false, absTTL = false
        var idle: Int64 = -1, freq: Int64 = -1
        var j = 4
        while j < argv.count {
            let more = argv.count - j - 1
            if argv[j].isKeyword("replace") {
                replace = true
            } else if argv[j].isKeyword("absttl") {
                absTTL = true
            } else if argv[j].isKeyword("idletime") && more >= 1 && freq == -1 {
                guard let v = argv[j + 1].withUnsafeBytes({ parseInt64($0) }) else { notInteger(); return }
                guard v >= 0 else { error("ERR Invalid IDLETIME value, must be >= 0"); return }
                idle = v
                j += 1
            } else if argv[j].isKeyword("freq") && more >= 1 && idle == -1 {
                guard let v = argv[j + 1].withUnsafeBytes({ parseInt64($0) }) else { notInteger(); return }
                guard v >= 0 && v <= 255 else { error("ERR Invalid FREQ value, must be >= 0 and <= 255"); return }
                freq = v
                j += 1
            } else {
                syntaxError()
                return
            }
            j += 1
        }
        let key = argv[1]
        let existing = lookupWrite(key)
        if !replace && existing != nil {
            error("BUSYKEY Target key name already exists.")
            return
        }
        guard let ttl = argv[2].withUnsafeBytes({ parseInt64($0) }) else { notInteger(); return }
        guard ttl >= 0 else { error("ERR Invalid TTL value, must be >= 0"); return }
        let payload = argv[3].array
        guard let version = DumpPayload.verify(payload) else {
            error("ERR DUMP payload version or checksum are wrong")
            return
        }
        guard let value = try? DumpPayload.decode(payload, version: version, for: engine) else {
            error("ERR Bad data format")
            return
        }

        var deleted = false
        if replace, existing != nil, let old = db.remove(key) {
            engine.releaseValue(old)
            deleted = true
        }
        var expireAt: Int64? = nil
        if ttl > 0 {
            let (sum, overflow) = ttl.addingReportingOverflow(absTTL ? 0 : engine.nowMs)
            expireAt = overflow ? Int64.max : sum
        }
        if let at = expireAt, at <= engine.nowMs {
            // Already expired: nothing is created; a replaced key is simply gone.
            if deleted {
                engine.keyModified(db.id, key)
                engine.dirty += 1
                propagate([Bytes("DEL"), key])
            } else {
                propagateNothing()
            }
            reply.ok()
            return
        }
        let entry = KeyEntry.make(key: key, value: value, expireAtMs: expireAt ?? KeyEntry.noExpiry, clock: engine.lruClock)
        // No LFU policy exists, so FREQ is accepted and ignored (Redis ignores it under LRU
        // policies too); IDLETIME back-dates the access clock.
        if idle >= 0 {
            entry.accessClock = UInt32(truncatingIfNeeded: max(0, Int64(engine.lruClock) - idle))
        }
        _ = freq
        db.add(entry)
        engine.keyModified(db.id, key)
        engine.dirty += 1
        if let at = expireAt, !absTTL {
            // Propagate the TTL as an absolute time, as Redis rewrites it.
            var rewritten = argv
            rewritten[2] = Bytes(at)
            rewritten.append(Bytes("ABSTTL"))
            propagate(rewritten)
        }
        reply.ok()
    }
}
