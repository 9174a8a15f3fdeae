// RESP reply encoding, RESP2 and RESP3.
//
// One writer per client, appending into a byte array that the server flushes once per read
// batch. RESP3 types degrade to their RESP2 forms the way Redis does it: maps become flat
// arrays, sets become arrays, doubles become bulk strings, null becomes $-1 (or *-1 for a null
// array), booleans become 1/0.

public struct RESPWriter {
    public var buffer: [UInt8] = []
    /// 2 or 3, as set by HELLO.
    public var protocolVersion: Int = 2

    public init(protocolVersion: Int = 2) {
        self.protocolVersion = protocolVersion
        buffer.reserveCapacity(256)
    }

    public var isResp3: Bool { protocolVersion == 3 }

    @inlinable
    public mutating func appendRaw(_ s: StaticString) {
        s.withUTF8Buffer { buffer.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func appendRaw(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    @inlinable
    mutating func appendDecimal(_ v: Int) {
        if v >= 0 && v < 10 {
            buffer.append(UInt8(48 + v))
            return
        }
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes, enough for Int64.min
        withUnsafeMutableBytes(of: &tmp) { raw in
            var i = 24
            var magnitude = v.magnitude
            repeat {
                i -= 1
                raw[i] = UInt8(48 + magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if v < 0 { i -= 1; raw[i] = UInt8(ascii: "-") }
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[i..<24]))
        }
    }

    /// Appends "<type><decimal v>\r\n" (":42\r\n", "$5\r\n", "*3\r\n") in one append: the
    /// reply headers every command writes.
    @inlinable
    mutating func appendLine(_ type: UInt8, _ v: Int) {
        var tmp: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)   // 32 bytes: type, sign, 20 digits, CRLF
        withUnsafeMutableBytes(of: &tmp) { raw in
            raw[30] = 13
            raw[31] = 10
            var i = 30
            var magnitude = v.magnitude
            repeat {
                i -= 1
                raw[i] = UInt8(truncatingIfNeeded: 48 &+ magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if v < 0 { i -= 1; raw[i] = UInt8(ascii: "-") }
            i -= 1
            raw[i] = type
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[i..<32]))
        }
    }

    @inlinable
    mutating func appendCRLF() {
        buffer.append(13); buffer.append(10)
    }

    // MARK: simple types

    public mutating func ok() { appendRaw("+OK\r\n") }

    public mutating func simple(_ s: String) {
        buffer.append(UInt8(ascii: "+"))
        buffer.append(contentsOf: s.utf8)
        appendCRLF()
    }

    /// An error reply; `message` includes the code ("ERR ...", "WRONGTYPE ...").
    /// Newlines would break the protocol, so they become spaces, as Redis does.
    public mutating func error(_ message: String) {
        buffer.append(UInt8(ascii: "-"))
        for b in message.utf8 { buffer.append(b == 13 || b == 10 ? 32 : b) }
        appendCRLF()
    }

    @inlinable
    public mutating func integer(_ v: Int) {
        appendLine(UInt8(ascii: ":"), v)
    }

    @inlinable
    public mutating func integer(_ v: Int64) { integer(Int(v)) }

    @inlinable
    public mutating func bulk(_ bytes: UnsafeRawBufferPointer) {
        appendLine(UInt8(ascii: "$"), bytes.count)
        buffer.append(contentsOf: bytes)
        appendCRLF()
    }

    @inlinable
    public mutating func bulk(_ bytes: Bytes) {
        bytes.withUnsafeBytes { bulk($0) }
    }

    public mutating func bulk(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { bulk($0) }
    }

    public mutating func bulk(_ s: String) {
        bulk(Bytes(s))
    }

    /// A bulk reply of an integer's decimal text (GET of an integer-encoded string).
    @inlinable
    public mutating func bulk(integerText v: Int64) {
        var length = v < 0 ? 2 : 1
        var m = v.magnitude
        while m >= 10 { m /= 10; length += 1 }
        buffer.append(UInt8(ascii: "$"))
        appendDecimal(length)
        appendCRLF()
        appendDecimal(Int(v))
        appendCRLF()
    }

    /// Null bulk: `$-1` in RESP2, `_` in RESP3.
    public mutating func null() {
        if isResp3 { appendRaw("_\r\n") } else { appendRaw("$-1\r\n") }
    }

    /// Null array: `*-1` in RESP2, `_` in RESP3.
    public mutating func nullArray() {
        if isResp3 { appendRaw("_\r\n") } else { appendRaw("*-1\r\n") }
    }

    public mutating func arrayHeader(_ n: Int) {
        appendLine(UInt8(ascii: "*"), n)
    }

    /// A map of `n` pairs: `%n` in RESP3, an array of 2n in RESP2.
    public mutating func mapHeader(_ n: Int) {
        if isResp3 {
            buffer.append(UInt8(ascii: "%")); appendDecimal(n); appendCRLF()
        } else {
            arrayHeader(n * 2)
        }
    }

    /// A set of `n` members: `~n` in RESP3, an array in RESP2.
    public mutating func setHeader(_ n: Int) {
        if isResp3 {
            buffer.append(UInt8(ascii: "~")); appendDecimal(n); appendCRLF()
        } else {
            arrayHeader(n)
        }
    }

    /// A push message header (`>n` in RESP3, an array in RESP2).
    public mutating func pushHeader(_ n: Int) {
        if isResp3 {
            buffer.append(UInt8(ascii: ">")); appendDecimal(n); appendCRLF()
        } else {
            arrayHeader(n)
        }
    }

    /// A double already formatted as text: `,text` in RESP3, a bulk string in RESP2.
    public mutating func double(text: [UInt8]) {
        if isResp3 {
            buffer.append(UInt8(ascii: ","))
            buffer.append(contentsOf: text)
            appendCRLF()
        } else {
            bulk(text)
        }
    }

    public mutating func boolean(_ v: Bool) {
        if isResp3 { appendRaw(v ? "#t\r\n" : "#f\r\n") } else { integer(v ? 1 : 0) }
    }

    /// A verbatim string (`=len\r\ntxt:...` in RESP3, a bulk string in RESP2).
    public mutating func verbatim(_ text: String, format: String = "txt") {
        if isResp3 {
            let body = Array((format + ":" + text).utf8)
            buffer.append(UInt8(ascii: "="))
            appendDecimal(body.count)
            appendCRLF()
            buffer.append(contentsOf: body)
            appendCRLF()
        } else {
            bulk(text)
        }
    }

    /// An array of bulk strings.
    public mutating func bulkArray(_ items: [Bytes]) {
        arrayHeader(items.count)
        for item in items { bulk(item) }
    }

    public mutating func take() -> [UInt8] {
        let out = buffer
        buffer.removeAll(keepingCapacity: true)
        return out
    }
}

/// Encodes an argument vector as a RESP multibulk request (the form of effect records, AOF
/// records and replication-stream commands).
public func encodeCommand(_ argv: [Bytes], into out: inout [UInt8]) {
    var w = RESPWriter()
    swap(&w.buffer, &out)
    w.buffer.append(UInt8(ascii: "*"))
    w.appendDecimal(argv.count)
    w.appendCRLF()
    for a in argv { w.bulk(a) }
    swap(&w.buffer, &out)
}

public func encodeCommand(_ argv: [Bytes]) -> [UInt8] {
    var out: [UInt8] = []
    encodeCommand(argv, into: &out)
    return out
}
