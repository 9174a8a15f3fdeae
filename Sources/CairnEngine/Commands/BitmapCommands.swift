// Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.
//
// A bitmap is a string value read as a bit array, most significant bit of byte 0 first:
//
//   byte       0                 1
//   bit        0 1 2 3 4 5 6 7   8 9 10 11 12 13 14 15
//   "A"=0x41   0 1 0 0 0 0 0 1   ...
//
// Bits past the end read as 0; a write past the end first grows the string with zero bytes.
// An integer-encoded string is read as its decimal text, and every write stores a byte string.
//
// Limits. A bit offset is accepted only when offset >> 3 < proto-max-bulk-len (2^32 bits with
// the default 512 MB), so a write can never build a string much longer than that limit, and
// every offset fits in 32 bits plus the 6-bit field width before any arithmetic on it. BITFIELD's
// `#N` offsets are N × width computed with two's-complement wrap, exactly as Redis's C code
// computes them (`#288230376151711745` with i64 wraps to bit 64), and then range-checked.
//
// Changes and propagation (Redis 7.0). A write that leaves the string as it was is not a
// change: SETBIT of a bit that already has the value, BITFIELD SET of the value already there,
// BITFIELD INCRBY 0, or an OVERFLOW FAIL that writes nothing. Such a command does not bump
// `dirty`, does not touch WATCHers and is therefore not propagated. Creating or growing the
// string is a change, except for BITFIELD, which counts one change per write that was not
// refused by OVERFLOW FAIL: a BITFIELD whose every write fails leaves a new (zeroed) key behind
// that is neither counted nor propagated — Redis does exactly this, and replicas see the same
// replies either way because missing bits read as zeros.

extension Engine {
    func registerBitmapCommands() {
        func reg(_ name: String, _ arity: Int, _ flags: CommandFlags, _ keys: (Int, Int, Int),
                 _ summary: String, since: String, complexity: String = "O(1)",
                 _ h: @escaping CommandHandler) {
            commands.register(CommandSpec(name, arity: arity, flags: flags, keys: keys, group: "bitmap",
                                          summary: summary, since: since, complexity: complexity, handler: h))
        }

        reg("setbit", 4, [.write, .denyOOM], (1, 1, 1),
            "Sets or clears the bit at offset in the string value stored at key", since: "2.2.0") { c in
            c.setbitCommand()
        }
        reg("getbit", 3, [.readonly, .fast], (1, 1, 1),
            "Returns the bit value at offset in the string value stored at key", since: "2.2.0") { c in
            c.getbitCommand()
        }
        reg("bitcount", -2, [.readonly], (1, 1, 1),
            "Count set bits in a string", since: "2.6.0", complexity: "O(N)") { c in
            c.bitcountCommand()
        }
        reg("bitpos", -3, [.readonly], (1, 1, 1),
            "Find first bit set or clear in a string", since: "2.8.7", complexity: "O(N)") { c in
            c.bitposCommand()
        }
        reg("bitop", -4, [.write, .denyOOM], (2, -1, 1),
            "Perform bitwise operations between strings", since: "2.6.0", complexity: "O(N)") { c in
            c.bitopCommand()
        }
        reg("bitfield", -2, [.write, .denyOOM], (1, 1, 1),
            "Perform arbitrary bitfield integer operations on strings", since: "3.2.0",
            complexity: "O(1) for each subcommand specified") { c in
            c.bitfieldCommand(readOnlyVariant: false)
        }
        reg("bitfield_ro", -2, [.readonly, .fast], (1, 1, 1),
            "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
            since: "6.0.0", complexity: "O(1) for each subcommand specified") { c in
            c.bitfieldCommand(readOnlyVariant: true)
        }

        registerLCSCommand()
    }
}

// MARK: - Argument parsing

extension CommandCall {
    /// Redis's getBitOffsetFromArgument. `fieldWidth` > 0 allows the `#N` form (BITFIELD), which
    /// means bit N × fieldWidth. Replies with the error and returns nil when the offset is not an
    /// integer, is negative, or addresses a byte at or past proto-max-bulk-len.
    mutating func bitOffset(_ i: Int, fieldWidth: Int = 0) -> UInt64? {
        let arg = argv[i]
        let parsed: Int64? = arg.withUnsafeBytes { raw in
            if fieldWidth > 0, raw.count > 0, raw[0] == UInt8(ascii: "#") {
                guard let n = parseInt64(UnsafeRawBufferPointer(rebasing: raw[1...])) else { return nil }
                // Wraps like the C multiplication it mirrors; the range check below follows.
                return n &* Int64(fieldWidth)
            }
            return parseInt64(raw)
        }
        guard let offset = parsed, offset >= 0,
              offset >> 3 < Int64(engine.config.protoMaxBulkLen) else {
            error("ERR bit offset is not an integer or out of range")
            return nil
        }
        return UInt64(offset)
    }
}

/// Where a bitmap write lands: a missing key or an existing string entry.
enum BitmapWriteTarget {
    case missing
    case found(KeyEntry)
}

extension CommandCall {
    /// Looks `key` up for a bitmap write; nil after a WRONGTYPE reply. Returns only the entry so
    /// no second reference to the bytes stays alive while the caller mutates them in place.
    mutating func bitmapWriteTarget(_ key: Bytes) -> BitmapWriteTarget? {
        guard let found = stringValue(key, forWrite: true) else { return nil }
        if case .found(let e, _) = found { return .found(e) }
        return .missing
    }

    /// Takes the bytes out of `e` as a uniquely held array, so changing them does not copy.
    /// The caller must store them back (`e.value = .string(...)`).
    func takeBitmapBytes(_ e: KeyEntry) -> [UInt8] {
        db.keys.willMutate(entryKey: e)
        var bytes = e.value.stringBytes ?? Bytes()
        e.value = .string(Bytes())
        var out: [UInt8] = []
        bytes.withMutableArray { swap(&out, &$0) }
        return out
    }
}

// MARK: - SETBIT, GETBIT

extension CommandCall {
    mutating func setbitCommand() {
        guard let offset = bitOffset(2) else { return }
        let bitError = "ERR bit is not an integer or out of range"
        guard let on = argv[3].withUnsafeBytes({ parseInt64($0) }) else { error(bitError); return }
        guard on == 0 || on == 1 else { error(bitError); return }
        guard let target = bitmapWriteTarget(argv[1]) else { return }

        let byte = Int(offset >> 3)
        let mask = UInt8(0x80) >> UInt8(offset & 7)
        switch target {
        case .missing:
            var a = [UInt8].zeros(byte + 1)
            if on == 1 { a[byte] = mask }
            setKey(argv[1], .string(Bytes(array: a)), rawEncoding: true)
            reply.integer(0)
        case .found(let e):
            // Read in a closure so no reference to the bytes outlives it (the write is in place).
            let (length, wasSet): (Int, Bool) = {
                let current = e.value.stringBytes ?? Bytes()
                return (current.count, byte < current.count && current[byte] & mask != 0)
            }()
            if byte < length && wasSet == (on == 1) {
                reply.integer(wasSet ? 1 : 0)     // nothing changes: not dirty, not propagated
                return
            }
            var a = takeBitmapBytes(e)
            a.zeroExtend(to: byte + 1)
            if on == 1 { a[byte] |= mask } else { a[byte] &= ~mask }
            e.value = .string(Bytes(array: a))
            e.markRawEncoding()
            touched(e)
            reply.integer(wasSet ? 1 : 0)
        }
    }

    mutating func getbitCommand() {
        guard let offset = bitOffset(2) else { return }
        guard let found = stringValue(argv[1]) else { return }
        guard case .found(_, let b) = found else { reply.integer(0); return }
        let byte = offset >> 3
        let set = byte < UInt64(b.count) && b[Int(byte)] & (UInt8(0x80) >> UInt8(offset & 7)) != 0
        reply.integer(set ? 1 : 0)
    }
}

// MARK: - BITCOUNT, BITPOS

/// A BITCOUNT/BITPOS range resolved to bits: [firstBit, lastBit], both inclusive, inside the
/// string. Redis clamps the arguments the way GETRANGE does, in bytes or (BIT) in bits.
struct BitRange {
    var firstBit: Int
    var lastBit: Int
    var isEmpty: Bool { firstBit > lastBit }

    /// `start`/`end` as given (negative counts from the end) clamped to `units` bytes or bits.
    static func clamp(start: Int64, end: Int64, units: Int64) -> (Int64, Int64) {
        var s = start, e = end
        if s < 0 { s = units + s }
        if e < 0 { e = units + e }
        if s < 0 { s = 0 }
        if e < 0 { e = 0 }
        if e >= units { e = units - 1 }
        return (s, e)
    }

    init(start: Int64, end: Int64, inBits: Bool, length: Int) {
        let units = Int64(length) * (inBits ? 8 : 1)
        let (s, e) = BitRange.clamp(start: start, end: end, units: units)
        if s > e {
            firstBit = 1; lastBit = 0
        } else if inBits {
            firstBit = Int(s); lastBit = Int(e)
        } else {
            firstBit = Int(s) * 8; lastBit = Int(e) * 8 + 7
        }
    }

    init(wholeStringOf length: Int) {
        firstBit = 0
        lastBit = length * 8 - 1
    }
}

extension CommandCall {
    /// BYTE or BIT at argv[i]; nil after a syntax error.
    mutating func bitRangeUnit(_ i: Int) -> Bool? {
        if argv[i].isKeyword("bit") { return true }
        if argv[i].isKeyword("byte") { return false }
        syntaxError()
        return nil
    }

    // Redis 7.0 looks the key up before parsing the range: a missing key answers 0 whatever
    // the other arguments are.
    mutating func bitcountCommand() {
        guard let found = stringValue(argv[1]) else { return }
        guard case .found(_, let b) = found else { reply.integer(0); return }
        let range: BitRange
        switch argv.count {
        case 2:
            range = BitRange(wholeStringOf: b.count)
        case 4, 5:
            guard let start = int(2), let end = int(3) else { return }
            // Redis answers this empty range before it looks at BYTE|BIT.
            if start < 0 && end < 0 && start > end { reply.integer(0); return }
            var inBits = false
            if argv.count == 5 {
                guard let unit = bitRangeUnit(4) else { return }
                inBits = unit
            }
            range = BitRange(start: start, end: end, inBits: inBits, length: b.count)
        default:
            syntaxError()
            return
        }
        if range.isEmpty { reply.integer(0); return }
        reply.integer(b.withUnsafeBytes { countSetBits($0, range) })
    }

    // Argument order is Redis's: bit, (key lookup), start, BYTE|BIT, end.
    mutating func bitposCommand() {
        guard let bit = int(2) else { return }
        guard bit == 0 || bit == 1 else { error("ERR The bit argument must be 1 or 0."); return }
        guard let found = stringValue(argv[1]) else { return }
        // A missing key is an infinite run of zeros.
        guard case .found(_, let b) = found else { reply.integer(bit == 1 ? -1 : 0); return }
        let range: BitRange
        var endGiven = false
        switch argv.count {
        case 3:
            range = BitRange(wholeStringOf: b.count)
        case 4, 5, 6:
            guard let start = int(3) else { return }
            var inBits = false
            if argv.count == 6 {
                guard let unit = bitRangeUnit(5) else { return }
                inBits = unit
            }
            var end = Int64(b.count) - 1
            if argv.count >= 5 {
                guard let e = int(4) else { return }
                end = e
                endGiven = true
            }
            range = BitRange(start: start, end: end, inBits: inBits, length: b.count)
        default:
            syntaxError()
            return
        }
        if range.isEmpty { reply.integer(-1); return }
        if let pos = b.withUnsafeBytes({ firstBit(bit == 1, in: $0, range) }) {
            reply.integer(pos)
        } else if bit == 0 && !endGiven {
            // Looking for a clear bit with no explicit end: the string is as if padded with
            // zeros, so the answer is the first bit after the range.
            reply.integer(range.lastBit + 1)
        } else {
            reply.integer(-1)
        }
    }
}

/// Set bits within `range` (non-empty, inside `p`).
func countSetBits(_ p: UnsafeRawBufferPointer, _ range: BitRange) -> Int {
    let firstByte = range.firstBit >> 3, lastByte = range.lastBit >> 3
    var count = 0
    var i = firstByte
    while i + 8 <= lastByte + 1 {
        count += p.loadUnaligned(fromByteOffset: i, as: UInt64.self).nonzeroBitCount
        i += 8
    }
    while i <= lastByte {
        count += p[i].nonzeroBitCount
        i += 1
    }
    // Take off the bits of the edge bytes that lie outside the range.
    let headOutside = UInt8(truncatingIfNeeded: 0xFF00 >> (range.firstBit & 7))
    let tailOutside = UInt8(0xFF) >> UInt8((range.lastBit & 7) + 1)
    count -= (p[firstByte] & headOutside).nonzeroBitCount
    count -= (p[lastByte] & tailOutside).nonzeroBitCount
    return count
}

/// The absolute position of the first bit equal to `one` within `range` (non-empty), or nil.
func firstBit(_ one: Bool, in p: UnsafeRawBufferPointer, _ range: BitRange) -> Int? {
    let skip: UInt8 = one ? 0x00 : 0xFF     // a byte with no bit of interest
    let lastByte = range.lastBit >> 3
    var i = range.firstBit >> 3
    while i <= lastByte {
        if i + 8 <= lastByte + 1,
           p.loadUnaligned(fromByteOffset: i, as: UInt64.self) == (one ? 0 : UInt64.max) {
            i += 8
            continue
        }
        if p[i] != skip {
            // Bits of interest become 1s, then the ones outside the range are masked away.
            var v = one ? p[i] : ~p[i]
            if i == range.firstBit >> 3 { v &= UInt8(0xFF) >> UInt8(range.firstBit & 7) }
            if i == lastByte { v &= UInt8(truncatingIfNeeded: 0xFF80 >> (range.lastBit & 7)) }
            if v != 0 { return i * 8 + v.leadingZeroBitCount }
        }
        i += 1
    }
    return nil
}

// MARK: - BITOP

extension CommandCall {
    mutating func bitopCommand() {
        enum Op { case and, or, xor, not }
        let op: Op
        let name = argv[1]
        if name.isKeyword("and") { op = .and }
        else if name.isKeyword("or") { op = .or }
        else if name.isKeyword("xor") { op = .xor }
        else if name.isKeyword("not") { op = .not }
        else { syntaxError(); return }
        if op == .not && argv.count != 4 {
            error("ERR BITOP NOT must be called with a single source key.")
            return
        }

        // Missing sources are empty strings; shorter sources are zero-padded.
        var sources: [Bytes] = []
        sources.reserveCapacity(argv.count - 3)
        var maxLength = 0
        for key in argv[3...] {
            guard let found = stringValue(key) else { return }
            if case .found(_, let b) = found {
                sources.append(b)
                maxLength = max(maxLength, b.count)
            } else {
                sources.append(Bytes())
            }
        }

        let target = argv[2]
        guard maxLength > 0 else {
            // An empty result deletes the target (a change only when it existed).
            deleteKey(target)
            reply.integer(0)
            return
        }
        var result = [UInt8].zeros(maxLength)
        result.withUnsafeMutableBytes { out in
            sources[0].withUnsafeBytes { first in
                for i in 0..<first.count { out[i] = op == .not ? ~first[i] : first[i] }
            }
            for src in sources.dropFirst() {
                src.withUnsafeBytes { s in
                    switch op {
                    case .and:
                        for i in 0..<s.count { out[i] &= s[i] }
                        for i in s.count..<maxLength { out[i] = 0 }
                    case .or:
                        for i in 0..<s.count { out[i] |= s[i] }
                    case .xor:
                        for i in 0..<s.count { out[i] ^= s[i] }
                    case .not:
                        break
                    }
                }
            }
        }
        setKey(target, .string(Bytes(array: result)), rawEncoding: true)
        reply.integer(maxLength)
    }
}

// MARK: - BITFIELD

/// One BITFIELD field type: i1…i64 or u1…u63.
struct BitfieldType {
    var signed: Bool
    var bits: Int

    static let error = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."

    /// Parses "i16"/"u8". Like Redis (which reads a C string) the width stops at a NUL byte.
    init?(_ arg: Bytes) {
        let parsed: (Bool, Int64)? = arg.withUnsafeBytes { raw in
            guard raw.count > 0 else { return nil }
            let signed: Bool
            switch raw[0] {
            case UInt8(ascii: "i"): signed = true
            case UInt8(ascii: "u"): signed = false
            default: return nil
            }
            var end = 1
            while end < raw.count && raw[end] != 0 { end += 1 }
            guard let width = parseInt64(UnsafeRawBufferPointer(rebasing: raw[1..<end])) else { return nil }
            return (signed, width)
        }
        guard let (signed, width) = parsed, width >= 1, width <= (signed ? 64 : 63) else { return nil }
        self.signed = signed
        self.bits = Int(width)
    }
}

enum BitfieldOverflow { case wrap, sat, fail }

/// What a field write does when the value does not fit the type.
///
/// Signed and unsigned checks follow Redis's checkSignedBitfieldOverflow and
/// checkUnsignedBitfieldOverflow bit for bit, including their unsigned-wrapping intermediate
/// limits: SET i8 with a value within 127 of Int64.min counts as overflowing *upwards*, so
/// OVERFLOW SAT stores 127 there, as Redis does.
enum BitfieldArithmetic {
    /// nil: fits. Otherwise the value to store (WRAP/SAT; ignored for FAIL).
    static func signedOverflow(_ value: Int64, _ incr: Int64, bits: Int, _ mode: BitfieldOverflow) -> Int64?? {
        let maxValue: Int64 = bits == 64 ? .max : (Int64(1) << (bits - 1)) - 1
        let minValue = -maxValue - 1
        let maxIncr = Int64(bitPattern: UInt64(bitPattern: maxValue) &- UInt64(bitPattern: value))
        let minIncr = minValue &- value
        let up = value > maxValue || (bits != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr)
        let down = !up && (value < minValue || (bits != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr))
        guard up || down else { return .none }
        switch mode {
        case .fail: return .some(nil)
        case .sat: return .some(up ? maxValue : minValue)
        case .wrap:
            var c = UInt64(bitPattern: value) &+ UInt64(bitPattern: incr)
            if bits < 64 {
                let high = UInt64.max << UInt64(bits)
                if c & (UInt64(1) << UInt64(bits - 1)) != 0 { c |= high } else { c &= ~high }
            }
            return .some(Int64(bitPattern: c))
        }
    }

    static func unsignedOverflow(_ value: UInt64, _ incr: Int64, bits: Int, _ mode: BitfieldOverflow) -> UInt64?? {
        let maxValue = (UInt64(1) << UInt64(bits)) - 1
        let maxIncr = Int64(bitPattern: maxValue &- value)
        let minIncr = Int64(bitPattern: 0 &- value)
        let up = value > maxValue || (incr > 0 && incr > maxIncr)
        let down = !up && incr < 0 && incr < minIncr
        guard up || down else { return .none }
        switch mode {
        case .fail: return .some(nil)
        case .sat: return .some(up ? maxValue : 0)
        case .wrap: return .some((value &+ UInt64(bitPattern: incr)) & maxValue)
        }
    }

    /// The `bits`-wide field at bit `offset`, most significant bit first; bits past the end of
    /// `p` read as 0.
    static func read(_ p: UnsafeRawBufferPointer, offset: UInt64, bits: Int) -> UInt64 {
        var v: UInt64 = 0
        var bit = offset
        for _ in 0..<bits {
            let byte = bit >> 3
            var b: UInt64 = 0
            if byte < UInt64(p.count) { b = UInt64((p[Int(byte)] >> UInt8(7 - (bit & 7))) & 1) }
            v = v << 1 | b
            bit += 1
        }
        return v
    }

    static func readSigned(_ p: UnsafeRawBufferPointer, offset: UInt64, bits: Int) -> Int64 {
        var v = read(p, offset: offset, bits: bits)
        if bits < 64 && v & (UInt64(1) << UInt64(bits - 1)) != 0 { v |= UInt64.max << UInt64(bits) }
        return Int64(bitPattern: v)
    }

    /// Writes the low `bits` bits of `value` at bit `offset`; `a` is long enough.
    static func write(_ a: inout [UInt8], offset: UInt64, bits: Int, _ value: UInt64) {
        var bit = offset
        for j in stride(from: bits - 1, through: 0, by: -1) {
            let byte = Int(bit >> 3)
            let mask = UInt8(0x80) >> UInt8(bit & 7)
            if (value >> UInt64(j)) & 1 != 0 { a[byte] |= mask } else { a[byte] &= ~mask }
            bit += 1
        }
    }
}

extension CommandCall {
    private struct BitfieldOp {
        enum Kind { case get, set, incrby }
        var kind: Kind
        var type: BitfieldType
        var offset: UInt64
        var value: Int64
        var overflow: BitfieldOverflow
    }

    /// BITFIELD and BITFIELD_RO. Every argument is parsed before anything runs (an error
    /// anywhere runs nothing); then the operations run in order, each seeing the ones before.
    mutating func bitfieldCommand(readOnlyVariant: Bool) {
        var ops: [BitfieldOp] = []
        var overflow = BitfieldOverflow.wrap
        var highestWriteBit: UInt64? = nil
        var j = 2
        while j < argv.count {
            let remaining = argv.count - j - 1
            let sub = argv[j]
            let kind: BitfieldOp.Kind
            if sub.isKeyword("get") && remaining >= 2 { kind = .get }
            else if sub.isKeyword("set") && remaining >= 3 { kind = .set }
            else if sub.isKeyword("incrby") && remaining >= 3 { kind = .incrby }
            else if sub.isKeyword("overflow") && remaining >= 1 {
                let mode = argv[j + 1]
                if mode.isKeyword("wrap") { overflow = .wrap }
                else if mode.isKeyword("sat") { overflow = .sat }
                else if mode.isKeyword("fail") { overflow = .fail }
                else { error("ERR Invalid OVERFLOW type specified"); return }
                j += 2
                continue
            } else {
                syntaxError()
                return
            }
            guard let type = BitfieldType(argv[j + 1]) else { error(BitfieldType.error); return }
            guard let offset = bitOffset(j + 2, fieldWidth: type.bits) else { return }
            var value: Int64 = 0
            if kind != .get {
                // offset <= Int64.max here, so the sum cannot overflow UInt64.
                let last = offset + UInt64(type.bits) - 1
                highestWriteBit = max(highestWriteBit ?? 0, last)
                guard let v = int(j + 3) else { return }
                value = v
            }
            ops.append(BitfieldOp(kind: kind, type: type, offset: offset, value: value, overflow: overflow))
            j += kind == .get ? 3 : 4
        }

        guard let highestWriteBit else {
            bitfieldReadOnly(ops)
            return
        }
        if readOnlyVariant { error("ERR BITFIELD_RO only supports the GET subcommand"); return }
        guard let target = bitmapWriteTarget(argv[1]) else { return }

        // Make room up to the last bit any write reaches (Redis's lookupStringForBitCommand).
        // A created or grown string makes every successful write a change.
        let needed = Int(highestWriteBit >> 3) + 1
        var bytes: [UInt8]
        var grown = false
        let entry: KeyEntry
        switch target {
        case .missing:
            bytes = [UInt8].zeros(needed)
            grown = true
            entry = KeyEntry.make(key: argv[1], value: .string(Bytes()), clock: engine.lruClock)
            db.add(entry)
        case .found(let e):
            entry = e
            bytes = takeBitmapBytes(e)
            if bytes.count < needed {
                bytes.zeroExtend(to: needed)
                grown = true
            }
        }

        var changes = 0
        reply.arrayHeader(ops.count)
        for op in ops {
            let width = op.type.bits
            switch op.kind {
            case .get:
                bytes.withUnsafeBytes { p in
                    if op.type.signed {
                        reply.integer(BitfieldArithmetic.readSigned(p, offset: op.offset, bits: width))
                    } else {
                        reply.integer(Int64(BitfieldArithmetic.read(p, offset: op.offset, bits: width)))
                    }
                }
            case .set, .incrby:
                let isIncr = op.kind == .incrby
                if op.type.signed {
                    let old = bytes.withUnsafeBytes { BitfieldArithmetic.readSigned($0, offset: op.offset, bits: width) }
                    let checked = isIncr ? BitfieldArithmetic.signedOverflow(old, op.value, bits: width, op.overflow)
                                         : BitfieldArithmetic.signedOverflow(op.value, 0, bits: width, op.overflow)
                    var new = isIncr ? old &+ op.value : op.value
                    if case .some(let replacement) = checked {
                        guard let replacement else { reply.null(); continue }   // OVERFLOW FAIL
                        new = replacement
                    }
                    reply.integer(isIncr ? new : old)
                    BitfieldArithmetic.write(&bytes, offset: op.offset, bits: width, UInt64(bitPattern: new))
                    if grown || old != new { changes += 1 }
                } else {
                    let old = bytes.withUnsafeBytes { BitfieldArithmetic.read($0, offset: op.offset, bits: width) }
                    let checked = isIncr ? BitfieldArithmetic.unsignedOverflow(old, op.value, bits: width, op.overflow)
                                         : BitfieldArithmetic.unsignedOverflow(UInt64(bitPattern: op.value), 0, bits: width, op.overflow)
                    var new = isIncr ? old &+ UInt64(bitPattern: op.value) : UInt64(bitPattern: op.value)
                    if case .some(let replacement) = checked {
                        guard let replacement else { reply.null(); continue }   // OVERFLOW FAIL
                        new = replacement
                    }
                    reply.integer(Int64(bitPattern: isIncr ? new : old))
                    BitfieldArithmetic.write(&bytes, offset: op.offset, bits: width, new)
                    if grown || old != new { changes += 1 }
                }
            }
        }
        entry.value = .string(Bytes(array: bytes))
        entry.markRawEncoding()
        if changes > 0 {
            engine.keyModified(db.id, argv[1])
            engine.dirty += Int64(changes)
        }
    }

    /// BITFIELD with only GETs: reads, no key created, nothing propagated.
    private mutating func bitfieldReadOnly(_ ops: [BitfieldOp]) {
        propagateNothing()
        guard let found = stringValue(argv[1]) else { return }
        var b = Bytes()
        if case .found(_, let bytes) = found { b = bytes }
        reply.arrayHeader(ops.count)
        b.withUnsafeBytes { p in
            for op in ops {
                if op.type.signed {
                    reply.integer(BitfieldArithmetic.readSigned(p, offset: op.offset, bits: op.type.bits))
                } else {
                    reply.integer(Int64(BitfieldArithmetic.read(p, offset: op.offset, bits: op.type.bits)))
                }
            }
        }
    }
}
