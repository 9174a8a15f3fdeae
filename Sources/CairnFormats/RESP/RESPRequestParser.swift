// RESP request parser: turns the bytes a client sends into argument vectors.
//
// Two request forms, as Redis accepts them:
//
//   multibulk:  *<count>\r\n  then <count> times  $<len>\r\n<len bytes>\r\n
//   inline:     any line not starting with '*', split like a shell (quotes, \x escapes)
//
// The parser keeps its state between reads: a bulk argument split over many reads is copied
// once into its own buffer (reserved to the announced length) and never re-parsed; only an
// incomplete header line is held back, and that is bounded to 64 KiB like Redis's inline limit.
//
// Every count and length is checked against its limit before any arithmetic (Swift traps on
// overflow, which for a server is a remote crash). Errors carry Redis's exact protocol error
// text; after one the connection is answered and closed, as Redis does.

public struct RESPLimits: Sendable {
    /// proto-max-bulk-len (512 MB by default)
    public var maxBulkBytes: Int = 512 * 1024 * 1024
    /// PROTO_INLINE_MAX_SIZE: longest header or inline line
    public var maxInlineBytes: Int = 64 * 1024
    /// The multibulk count range Redis accepts (1 ... INT_MAX)
    public var maxMultibulkCount: Int = Int(Int32.max)
    public init() {}
}

public struct RESPProtocolError: Error, Equatable, CustomStringConvertible {
    /// The message after "ERR ", e.g. "Protocol error: invalid bulk length".
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The requests parsed from one read. Slots keep their argument arrays after the requests
/// ran, and the parser refills them, so a pipelined request allocates no array of its own.
public struct RequestBatch {
    /// Slots beyond this many are dropped when the batch is emptied (one huge read of tiny
    /// requests should not pin a slot per request for the connection's lifetime).
    static let slotsKept = 256

    /// Argument arrays; the first `count` hold this batch's requests.
    public private(set) var slots: [[Bytes]] = []
    public private(set) var count = 0

    public init() {}

    /// This batch's requests, in order.
    public var requests: ArraySlice<[Bytes]> { slots[0..<count] }

    /// Takes a complete request's arguments into the next slot and hands back the array that
    /// slot held, for the parser to empty and refill.
    mutating func add(_ args: inout [Bytes]) {
        if count < slots.count {
            swap(&slots[count], &args)
        } else {
            slots.append(args)
            args = []
        }
        count += 1
    }

    /// Forgets the requests (after they ran); their arrays stay for reuse.
    public mutating func removeAll() {
        count = 0
        if slots.count > RequestBatch.slotsKept { slots.removeLast(slots.count - RequestBatch.slotsKept) }
    }
}

public final class RESPRequestParser {
    public var limits: RESPLimits

    private enum State {
        case idle
        /// Reading arguments of a multibulk request.
        case multibulk(remaining: Int)
        /// Reading the payload of a bulk argument (plus its trailing CRLF).
        case bulk(remaining: Int, argsAfter: Int)
    }

    private var state: State = .idle
    /// Bytes of an incomplete header or inline line, carried to the next read.
    private var pendingLine: [UInt8] = []
    /// Arguments of the request being assembled.
    private var args: [Bytes] = []
    /// Argument arrays up to this capacity are emptied and refilled by the next request; a
    /// bigger one is dropped rather than kept for a rare long request.
    static let reusedArgsCapacityMax = 64
    /// Payload of the bulk being assembled when it spans reads.
    private var bulkBuffer: [UInt8] = []
    private var bulkLength = 0

    /// Bytes held by the parser for a request not yet complete (for client-query-buffer-limit).
    public private(set) var bufferedBytes = 0

    public init(limits: RESPLimits = RESPLimits()) {
        self.limits = limits
    }

    /// True when no partial request is held.
    public var isIdle: Bool {
        if case .idle = state, pendingLine.isEmpty { return true }
        return false
    }

    /// Parses every complete request in `input`, calling `onCommand` for each in order.
    /// Stops and throws at the first protocol error (requests before it were delivered).
    public func parse(_ input: UnsafeRawBufferPointer, onCommand: ([Bytes]) throws -> Void) throws {
        try parse(input) { (args: inout [Bytes]) in
            let done = args
            args = []
            try onCommand(done)
        }
    }

    /// Parses every complete request in `input` into `batch` (after the requests it holds),
    /// reusing the argument arrays of the requests that ran before. Stops and throws at the
    /// first protocol error (requests before it are in the batch).
    public func parse(_ input: UnsafeRawBufferPointer, into batch: inout RequestBatch) throws {
        try parse(input) { (args: inout [Bytes]) in batch.add(&args) }
    }

    /// The parsing loop: `deliver` takes each complete request's arguments and leaves behind
    /// an array for the next request to reuse (or an empty one).
    private func parse(_ input: UnsafeRawBufferPointer, deliver: (inout [Bytes]) throws -> Void) throws {
        var pos = 0
        let end = input.count
        while pos < end {
            switch state {
            case .idle:
                if pendingLine.isEmpty && input[pos] == UInt8(ascii: "*") && parseWholeMultibulk(input, &pos) {
                    try deliver(&args)
                    continue
                }
                // A request starts: '*' means multibulk, anything else is an inline command.
                let first = pendingLine.isEmpty ? input[pos] : pendingLine[0]
                let isMultibulk = first == UInt8(ascii: "*")
                var argv: [Bytes]? = nil
                let complete = try withLine(input, &pos, multibulk: isMultibulk) { line in
                    if isMultibulk {
                        try startMultibulk(UnsafeRawBufferPointer(rebasing: line[1...]))
                    } else {
                        argv = try splitInline(line)
                    }
                }
                guard complete else { return }
                if var argv, !argv.isEmpty { try deliver(&argv) }
            case .multibulk(let remaining):
                let complete = try withLine(input, &pos, multibulk: true, bulkHeader: true) { raw in
                    guard raw.first == UInt8(ascii: "$") else {
                        let c = raw.first.map { Character(UnicodeScalar($0)) } ?? " "
                        throw RESPProtocolError("Protocol error: expected '$', got '\(c)'")
                    }
                    guard let n = parseDecimal(UnsafeRawBufferPointer(rebasing: raw[1...])),
                          n >= 0, n <= limits.maxBulkBytes else {
                        throw RESPProtocolError("Protocol error: invalid bulk length")
                    }
                    bulkLength = n
                    state = .bulk(remaining: n + 2, argsAfter: remaining - 1)
                }
                guard complete else { return }
            case .bulk(let remaining, let argsAfter):
                let available = end - pos
                if bulkBuffer.isEmpty && available >= remaining {
                    // Whole payload is here: copy once, straight from the read buffer.
                    let payload = UnsafeRawBufferPointer(rebasing: input[pos..<(pos + bulkLength)])
                    try checkCRLF(input, at: pos + bulkLength)
                    args.append(Bytes(payload))
                    pos += remaining
                    bufferedBytes = 0
                } else {
                    if bulkBuffer.isEmpty { bulkBuffer.reserveCapacity(bulkLength + 2) }
                    let take = min(available, remaining)
                    bulkBuffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[pos..<(pos + take)]))
                    pos += take
                    bufferedBytes = bulkBuffer.count
                    if take < remaining {
                        state = .bulk(remaining: remaining - take, argsAfter: argsAfter)
                        return
                    }
                    guard bulkBuffer[bulkLength] == 13, bulkBuffer[bulkLength + 1] == 10 else {
                        throw RESPProtocolError("Protocol error: expected CRLF after bulk")
                    }
                    bulkBuffer.removeLast(2)
                    args.append(Bytes(array: bulkBuffer))
                    bulkBuffer = []
                    bufferedBytes = 0
                }
                if argsAfter == 0 {
                    state = .idle
                    try deliver(&args)
                } else {
                    state = .multibulk(remaining: argsAfter)
                }
            }
        }
    }

    /// The common case in one pass: a multibulk request that lies wholly in `input` from
    /// `pos`, with plain lengths. Fills `args`, moves `pos` past the request and returns true;
    /// otherwise returns false with `pos` unchanged, and the state machine below takes the
    /// request from its first byte (incomplete requests, every error, odd spellings).
    @inline(__always)
    private func parseWholeMultibulk(_ input: UnsafeRawBufferPointer, _ pos: inout Int) -> Bool {
        let end = input.count
        // Reads a length written as Redis writes it: no sign, no leading zero, at most 18
        // digits (so it cannot overflow), then CRLF; nil when anything else is there.
        @inline(__always) func length(_ i: inout Int) -> Int? {
            let start = i
            var v = 0
            while i < end {
                let d = Int(input[i]) &- 48
                guard d >= 0 && d <= 9 else { break }
                v = v &* 10 &+ d
                i += 1
            }
            let digits = i - start
            guard digits > 0 && digits <= 18, digits == 1 || input[start] != UInt8(ascii: "0"),
                  i + 1 < end, input[i] == 13, input[i + 1] == 10 else { return nil }
            i += 2
            return v
        }
        var i = pos + 1
        guard let n = length(&i), n > 0, n <= limits.maxMultibulkCount else { return false }
        if args.capacity > RESPRequestParser.reusedArgsCapacityMax {
            args = []
        } else {
            args.removeAll(keepingCapacity: true)
        }
        args.reserveCapacity(min(n, 1024))
        for _ in 0..<n {
            guard i < end, input[i] == UInt8(ascii: "$") else { return false }
            i += 1
            guard let len = length(&i), len <= limits.maxBulkBytes, end - i >= len + 2,
                  input[i + len] == 13, input[i + len + 1] == 10 else { return false }
            args.append(Bytes(UnsafeRawBufferPointer(rebasing: input[i..<(i + len)])))
            i += len + 2
        }
        pos = i
        bufferedBytes = 0
        return true
    }

    private func checkCRLF(_ input: UnsafeRawBufferPointer, at i: Int) throws {
        guard input[i] == 13, input[i + 1] == 10 else {
            throw RESPProtocolError("Protocol error: expected CRLF after bulk")
        }
    }

    private func startMultibulk(_ digits: UnsafeRawBufferPointer) throws {
        guard let n = parseDecimal(digits), n <= limits.maxMultibulkCount else {
            throw RESPProtocolError("Protocol error: invalid multibulk length")
        }
        if n <= 0 { state = .idle; return }   // "*0" and "*-1" are empty requests
        if args.capacity > RESPRequestParser.reusedArgsCapacityMax {
            args = []
        } else {
            args.removeAll(keepingCapacity: true)
        }
        args.reserveCapacity(min(n, 1024))
        state = .multibulk(remaining: n)
    }

    /// Calls `body` with the next line without its line ending and returns true, or returns
    /// false when the line is not complete yet (the partial line is kept). A line wholly inside
    /// `input` is passed in place, without copying. Enforces the 64 KiB header/inline limit.
    private func withLine(_ input: UnsafeRawBufferPointer, _ pos: inout Int, multibulk: Bool,
                          bulkHeader: Bool = false,
                          _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        let end = input.count
        let start = pos
        let newline: Int
        if let p = memchr(input.baseAddress! + start, 10, end - start) {
            newline = input.baseAddress!.distance(to: UnsafeRawPointer(p))
        } else {
            newline = end
        }
        func tooBig() -> RESPProtocolError {
            if !multibulk { return RESPProtocolError("Protocol error: too big inline request") }
            return RESPProtocolError(bulkHeader ? "Protocol error: too big bulk count string"
                                                : "Protocol error: too big mbulk count string")
        }
        if newline == end {
            pendingLine.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[start..<end]))
            pos = end
            bufferedBytes = pendingLine.count
            if pendingLine.count > limits.maxInlineBytes { throw tooBig() }
            return false
        }
        pos = newline + 1
        bufferedBytes = 0
        if pendingLine.isEmpty {
            try deliverLine(UnsafeRawBufferPointer(rebasing: input[start..<newline]), multibulk: multibulk,
                            bulkHeader: bulkHeader, body)
        } else {
            var line = pendingLine
            pendingLine = []
            line.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[start..<newline]))
            try line.withUnsafeBytes {
                try deliverLine($0, multibulk: multibulk, bulkHeader: bulkHeader, body)
            }
        }
        return true
    }

    private func deliverLine(_ line: UnsafeRawBufferPointer, multibulk: Bool, bulkHeader: Bool,
                             _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        // No length check on a complete line: like Redis, only an unterminated line longer
        // than the limit is an error (a long line that arrives whole is parsed).
        var n = line.count
        if multibulk {
            // Multibulk headers must end in CRLF.
            guard n > 0 && line[n - 1] == 13 else {
                throw RESPProtocolError(bulkHeader ? "Protocol error: invalid bulk length"
                                                   : "Protocol error: invalid multibulk length")
            }
            n -= 1
        } else if n > 0 && line[n - 1] == 13 {
            n -= 1
        }
        try body(UnsafeRawBufferPointer(rebasing: line[0..<n]))
    }
}

/// Parses a length the way Redis's string2ll does (the multibulk count and bulk lengths):
/// an optional '-', then "0" alone or a digit 1-9 followed by digits. So "01", "-0", "+1" and
/// "" are not numbers ("*01" is an invalid multibulk length in Redis). At most 18 digits, so
/// the value cannot overflow; every longer length is out of range anyway.
func parseDecimal(_ s: UnsafeRawBufferPointer) -> Int? {
    if s.count == 1 && s[0] == UInt8(ascii: "0") { return 0 }
    var i = 0
    var negative = false
    if s.count > 0 && s[0] == UInt8(ascii: "-") { negative = true; i = 1 }
    let digits = s.count - i
    guard digits > 0 && digits <= 18 else { return nil }
    guard s[i] >= UInt8(ascii: "1") && s[i] <= UInt8(ascii: "9") else { return nil }
    var v = 0
    while i < s.count {
        let d = Int(s[i]) - 48
        guard d >= 0 && d <= 9 else { return nil }
        v = v * 10 + d
        i += 1
    }
    return negative ? -v : v
}

/// Splits an inline request like a shell would (Redis's sdssplitargs): spaces separate
/// arguments; "double quotes" understand \n \r \t \b \a \\ \" and \xHH; 'single quotes'
/// understand only \'. A closing quote must be followed by a space or the end.
public func splitInline(_ line: UnsafeRawBufferPointer) throws -> [Bytes] {
    var out: [Bytes] = []
    var i = 0
    let n = line.count
    func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 || c == 11 || c == 12 }
    func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }
    while true {
        while i < n && isSpace(line[i]) { i += 1 }
        if i >= n { return out }
        var current: [UInt8] = []
        var inDouble = false, inSingle = false, done = false
        while !done {
            if inDouble {
                guard i < n else { throw RESPProtocolError("Protocol error: unbalanced quotes in request") }
                let c = line[i]
                if c == UInt8(ascii: "\\") && i + 3 < n && line[i + 1] == UInt8(ascii: "x"),
                   let h = hexValue(line[i + 2]), let l = hexValue(line[i + 3]) {
                    current.append(h * 16 + l); i += 3
                } else if c == UInt8(ascii: "\\") && i + 1 < n {
                    i += 1
                    switch line[i] {
                    case UInt8(ascii: "n"): current.append(10)
                    case UInt8(ascii: "r"): current.append(13)
                    case UInt8(ascii: "t"): current.append(9)
                    case UInt8(ascii: "b"): current.append(8)
                    case UInt8(ascii: "a"): current.append(7)
                    default: current.append(line[i])
                    }
                } else if c == UInt8(ascii: "\"") {
                    if i + 1 < n && !isSpace(line[i + 1]) {
                        throw RESPProtocolError("Protocol error: unbalanced quotes in request")
                    }
                    done = true
                } else {
                    current.append(c)
                }
            } else if inSingle {
                guard i < n else { throw RESPProtocolError("Protocol error: unbalanced quotes in request") }
                let c = line[i]
                if c == UInt8(ascii: "\\") && i + 1 < n && line[i + 1] == UInt8(ascii: "'") {
                    current.append(UInt8(ascii: "'")); i += 1
                } else if c == UInt8(ascii: "'") {
                    if i + 1 < n && !isSpace(line[i + 1]) {
                        throw RESPProtocolError("Protocol error: unbalanced quotes in request")
                    }
                    done = true
                } else {
                    current.append(c)
                }
            } else {
                if i >= n { done = true; break }
                let c = line[i]
                switch c {
                case 32, 9, 10, 13, 11, 12: done = true
                case UInt8(ascii: "\""): inDouble = true
                case UInt8(ascii: "'"): inSingle = true
                default: current.append(c)
                }
            }
            if i < n { i += 1 }
        }
        out.append(Bytes(array: current))
    }
}

#if canImport(Glibc)
import Glibc
#endif
