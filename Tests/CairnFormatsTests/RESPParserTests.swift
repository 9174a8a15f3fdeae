import XCTest
@testable import CairnFormats

// Error texts were checked against Redis 7.0.15 by sending the same bytes on a fresh connection:
// it replies "-ERR " + the message and closes the connection.

final class RESPParserTests: XCTestCase {
    struct Outcome: Equatable {
        var commands: [[Bytes]] = []
        var error: String? = nil
    }

    /// Feeds `chunks` one parse call each; stops at the first protocol error.
    func feed(_ chunks: [[UInt8]], limits: RESPLimits = RESPLimits(),
              parser: RESPRequestParser? = nil) -> Outcome {
        let p = parser ?? RESPRequestParser(limits: limits)
        var out = Outcome()
        for chunk in chunks {
            do {
                try chunk.withUnsafeBytes { raw in try p.parse(raw) { out.commands.append($0) } }
            } catch let e as RESPProtocolError {
                out.error = e.message
                return out
            } catch {
                XCTFail("unexpected error \(error)")
            }
        }
        return out
    }

    func feed(_ s: String, limits: RESPLimits = RESPLimits()) -> Outcome {
        feed([Array(s.utf8)], limits: limits)
    }

    func argv(_ args: String...) -> [Bytes] { args.map { Bytes($0) } }

    func expectError(_ input: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(feed(input).error, message, "input \(input.debugDescription)", file: file, line: line)
    }

    // MARK: multibulk

    func testMultibulkCommandsAreParsedInOrder() {
        let out = feed("*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n")
        XCTAssertNil(out.error)
        XCTAssertEqual(out.commands, [argv("PING"), argv("SET", "k", "")])
    }

    func testBulkPayloadIsBinarySafe() {
        var bytes = Array("*2\r\n$4\r\nECHO\r\n$6\r\n".utf8)
        let payload: [UInt8] = [0x00, 0x0D, 0x0A, 0xFF, 0x2A, 0x24]
        bytes += payload + [13, 10]
        XCTAssertEqual(feed([bytes]).commands, [[Bytes("ECHO"), Bytes(payload)]])
    }

    /// The same stream split at every byte boundary (and fed byte by byte) yields exactly the
    /// same commands as when it arrives whole.
    func testMultibulkSplitAtEveryByteBoundaryGivesTheSameCommands() {
        var stream = Array("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\n0123456789\r\n".utf8)
        stream += Array("*0\r\n*-1\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n".utf8)
        stream += Array("PING\r\n".utf8)
        stream += Array("*2\r\n$4\r\nECHO\r\n$3\r\n".utf8) + [0x00, 0x0D, 0x0A] + [13, 10]
        stream += Array("ECHO \"a b\" 'c'\n".utf8)
        stream += Array("*1\r\n$30\r\n".utf8) + Array(repeating: UInt8(ascii: "z"), count: 30) + [13, 10]
        let whole = feed([stream])
        XCTAssertNil(whole.error)
        XCTAssertEqual(whole.commands.count, 6)
        XCTAssertEqual(whole.commands[0], argv("SET", "key", "0123456789"))
        XCTAssertEqual(whole.commands[3], [Bytes("ECHO"), Bytes([0x00, 0x0D, 0x0A])])
        XCTAssertEqual(whole.commands[4], argv("ECHO", "a b", "c"))
        for i in 1..<stream.count {
            XCTAssertEqual(feed([Array(stream[..<i]), Array(stream[i...])]), whole, "split at \(i)")
        }
        for i in stride(from: 1, to: stream.count, by: 7) {
            for j in stride(from: i + 1, to: stream.count, by: 5) {
                let parts = [Array(stream[..<i]), Array(stream[i..<j]), Array(stream[j...])]
                XCTAssertEqual(feed(parts), whole, "split at \(i) and \(j)")
            }
        }
        XCTAssertEqual(feed(stream.map { [$0] }), whole, "byte by byte")
    }

    /// Feeds `chunks` into one reused RequestBatch the way ClientHandler does: each read's
    /// requests are collected, then the batch is emptied (its arrays kept) before the next read.
    func feedBatched(_ chunks: [[UInt8]], parser: RESPRequestParser = RESPRequestParser(),
                     batch: inout RequestBatch) -> Outcome {
        var out = Outcome()
        for chunk in chunks {
            batch.removeAll()
            do {
                try chunk.withUnsafeBytes { raw in try parser.parse(raw, into: &batch) }
                out.commands += batch.requests
            } catch let e as RESPProtocolError {
                out.commands += batch.requests
                out.error = e.message
                return out
            } catch {
                XCTFail("unexpected error \(error)")
            }
        }
        return out
    }

    func testBatchedParsingReusesSlotsAndGivesTheSameCommands() {
        var stream = Array("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\n0123456789\r\n".utf8)
        stream += Array("*0\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n".utf8)
        stream += Array("PING\r\n".utf8)
        stream += Array("*1\r\n$30\r\n".utf8) + Array(repeating: UInt8(ascii: "z"), count: 30) + [13, 10]
        stream += Array("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".utf8)
        let whole = feed([stream])
        XCTAssertEqual(whole.commands.count, 5)
        // One batch for the whole run: every read refills the slots of the previous one, and a
        // request split across reads is assembled apart from the slots being refilled.
        var batch = RequestBatch()
        for i in 1..<stream.count {
            XCTAssertEqual(feedBatched([Array(stream[..<i]), Array(stream[i...])], batch: &batch), whole, "split at \(i)")
        }
        XCTAssertEqual(feedBatched(stream.map { [$0] }, batch: &batch), whole, "byte by byte")
        XCTAssertEqual(feedBatched([stream, stream], batch: &batch).commands, whole.commands + whole.commands)
        XCTAssertEqual(batch.count, 5)
        XCTAssertEqual(batch.requests.last, argv("GET", "k"))
        batch.removeAll()
        XCTAssertEqual(batch.count, 0)
        XCTAssertEqual(batch.slots.count, 5, "slots stay for the next read")
    }

    func testBatchKeepsOnlyABoundedNumberOfSlots() {
        var batch = RequestBatch()
        let many = Array(String(repeating: "*1\r\n$4\r\nPING\r\n", count: 300).utf8)
        let parser = RESPRequestParser()
        XCTAssertNoThrow(try many.withUnsafeBytes { try parser.parse($0, into: &batch) })
        XCTAssertEqual(batch.count, 300)
        XCTAssertTrue(batch.requests.allSatisfy { $0 == argv("PING") })
        batch.removeAll()
        XCTAssertEqual(batch.slots.count, 256)
        // A request held elsewhere (a MULTI queue) keeps its arguments when its slot is refilled.
        XCTAssertNoThrow(try Array("*2\r\n$4\r\nECHO\r\n$1\r\na\r\n".utf8).withUnsafeBytes { try parser.parse($0, into: &batch) })
        let held = batch.requests[0]
        batch.removeAll()
        XCTAssertNoThrow(try Array("*2\r\n$4\r\nECHO\r\n$1\r\nb\r\n".utf8).withUnsafeBytes { try parser.parse($0, into: &batch) })
        XCTAssertNoThrow(try Array("*2\r\n$4\r\nECHO\r\n$1\r\nc\r\n".utf8).withUnsafeBytes { try parser.parse($0, into: &batch) })
        XCTAssertEqual(held, argv("ECHO", "a"))
        XCTAssertEqual(Array(batch.requests), [argv("ECHO", "b"), argv("ECHO", "c")])
    }

    func testBatchedParsingStopsAtAProtocolErrorWithTheRequestsBeforeIt() {
        var batch = RequestBatch()
        let out = feedBatched([Array("*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n".utf8)], batch: &batch)
        XCTAssertEqual(out.commands, [argv("PING")])
        XCTAssertEqual(out.error, "Protocol error: invalid bulk length")
    }

    func testEmptyAndNullMultibulkRequestsAreIgnored() {
        XCTAssertEqual(feed("*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n"), Outcome(commands: [argv("PING")]))
    }

    func testParserIsIdleOnlyBetweenRequests() {
        let p = RESPRequestParser()
        XCTAssertTrue(p.isIdle)
        _ = feed([Array("*1\r\n$4\r\nPI".utf8)], parser: p)
        XCTAssertFalse(p.isIdle)
        XCTAssertEqual(feed([Array("NG\r\n".utf8)], parser: p).commands, [argv("PING")])
        XCTAssertTrue(p.isIdle)
        _ = feed([Array("*1".utf8)], parser: p)
        XCTAssertFalse(p.isIdle)
    }

    func testCommandsBeforeAnErrorAreDelivered() {
        let out = feed("*1\r\n$4\r\nPING\r\nPING\r\n*x\r\n*1\r\n$4\r\nPING\r\n")
        XCTAssertEqual(out.commands, [argv("PING"), argv("PING")])
        XCTAssertEqual(out.error, "Protocol error: invalid multibulk length")
    }

    /// A 10 MB argument arriving in 1 KB reads is appended as it comes (the parser holds exactly
    /// the bytes received so far, never re-reads a header) and delivered once, intact.
    func testTenMegabyteBulkFedInOneKilobytePiecesIsAssembledOnce() {
        let size = 10 * 1024 * 1024
        var payload = [UInt8](repeating: 0, count: size)
        for i in 0..<size { payload[i] = UInt8(truncatingIfNeeded: i &* 31 &+ i >> 12) }
        let stream = Array("*2\r\n$3\r\nSET\r\n$\(size)\r\n".utf8) + payload + [13, 10]
        let header = stream.count - size - 2
        let p = RESPRequestParser()
        var delivered: [[Bytes]] = []
        var offset = 0
        while offset < stream.count {
            let end = min(offset + 1024, stream.count)
            XCTAssertNoThrow(try stream[offset..<end].withUnsafeBytes { raw in
                try p.parse(raw) { delivered.append($0) }
            })
            offset = end
            if offset > header && offset < stream.count {
                XCTAssertEqual(p.bufferedBytes, offset - header, "holds the payload received so far")
                XCTAssertTrue(delivered.isEmpty)
            }
        }
        XCTAssertEqual(delivered.count, 1)
        XCTAssertEqual(delivered.first?.count, 2)
        XCTAssertEqual(delivered.first?[1].count, size)
        XCTAssertTrue(delivered.first?[1].array == payload)
        XCTAssertEqual(p.bufferedBytes, 0)
        XCTAssertTrue(p.isIdle)
    }

    // MARK: multibulk errors (Redis's texts)

    func testInvalidMultibulkLength() {
        expectError("*abc\r\n", "Protocol error: invalid multibulk length")
        expectError("*3000000000\r\n", "Protocol error: invalid multibulk length")
        expectError("*2147483648\r\n", "Protocol error: invalid multibulk length")
        expectError("*\r\n", "Protocol error: invalid multibulk length")
        expectError("*+1\r\n", "Protocol error: invalid multibulk length")
        expectError("*1\n", "Protocol error: invalid multibulk length")
    }

    func testMultibulkLengthFollowsString2llRules() {
        // Redis parses the count with string2ll: no leading zeros, no "-0".
        expectError("*01\r\n$4\r\nPING\r\n", "Protocol error: invalid multibulk length")
        expectError("*00\r\n", "Protocol error: invalid multibulk length")
        expectError("*-0\r\n", "Protocol error: invalid multibulk length")
        expectError("*-01\r\n", "Protocol error: invalid multibulk length")
        expectError("*1\r\n$04\r\nPING\r\n", "Protocol error: invalid bulk length")
        expectError("*1\r\n$-0\r\n", "Protocol error: invalid bulk length")
    }

    func testLargeMultibulkCountsWithinIntMaxAreAccepted() {
        let out = feed("*1048577\r\n$4\r\nPING\r\n")
        XCTAssertNil(out.error)
        XCTAssertEqual(out.commands, [])
    }

    func testInvalidBulkLength() {
        expectError("*1\r\n$-5\r\n", "Protocol error: invalid bulk length")
        expectError("*1\r\n$-1\r\n", "Protocol error: invalid bulk length")
        expectError("*1\r\n$abc\r\n", "Protocol error: invalid bulk length")
        expectError("*1\r\n$\r\n", "Protocol error: invalid bulk length")
        expectError("*1\r\n$+3\r\nabc\r\n", "Protocol error: invalid bulk length")
        expectError("*1\r\n$536870913\r\n", "Protocol error: invalid bulk length")
        expectError("*1\r\n$99999999999999999999\r\n", "Protocol error: invalid bulk length")
        XCTAssertNil(feed("*1\r\n$536870912\r\n").error, "exactly proto-max-bulk-len is allowed")
    }

    func testBulkLengthLimitFollowsTheConfiguredMaximum() {
        var limits = RESPLimits()
        limits.maxBulkBytes = 1000
        XCTAssertEqual(feed("*1\r\n$1001\r\n", limits: limits).error, "Protocol error: invalid bulk length")
        XCTAssertNil(feed("*1\r\n$1000\r\n", limits: limits).error)
    }

    func testExpectedDollar() {
        expectError("*1\r\nx\r\n", "Protocol error: expected '$', got 'x'")
        expectError("*2\r\n$3\r\nGET\r\n:1\r\n", "Protocol error: expected '$', got ':'")
    }

    func testTooBigCountStrings() {
        XCTAssertEqual(feed([Array("*".utf8) + Array(repeating: UInt8(ascii: "1"), count: 70_000)]).error,
                       "Protocol error: too big mbulk count string")
        XCTAssertEqual(feed([Array("*1\r\n$".utf8) + Array(repeating: UInt8(ascii: "1"), count: 70_000)]).error,
                       "Protocol error: too big bulk count string")
    }

    // MARK: inline

    func testInlineCommandsSplitOnWhitespace() {
        XCTAssertEqual(feed("  ECHO   x  \r\n").commands, [argv("ECHO", "x")])
        XCTAssertEqual(feed("PING\n").commands, [argv("PING")])
        XCTAssertEqual(feed("ECHO a\rb\r\n").commands, [argv("ECHO", "a", "b")])
        XCTAssertEqual(feed("\r\n\n  \r\nPING\r\n").commands, [argv("PING")], "empty lines are skipped")
    }

    func testInlineQuotesAndEscapes() {
        // Replies of Redis to ECHO with these arguments.
        XCTAssertEqual(feed("ECHO \"a\\x41\\n\\t\\\"\\x7a\"\r\n").commands,
                       [[Bytes("ECHO"), Bytes("aA\n\t\"z")]])
        XCTAssertEqual(feed("ECHO \"\\xfF\"\r\n").commands, [[Bytes("ECHO"), Bytes([0xFF])]])
        XCTAssertEqual(feed("ECHO \"\\xZZ\"\r\n").commands, [argv("ECHO", "xZZ")], "not hex: backslash dropped")
        XCTAssertEqual(feed("ECHO 'it\\'s \\n'\r\n").commands, [argv("ECHO", "it's \\n")],
                       "single quotes only unescape \\'")
        XCTAssertEqual(feed("ECHO \"\"\r\n").commands, [argv("ECHO", "")])
        XCTAssertEqual(feed("SET \"a b\" 'c d'\r\n").commands, [argv("SET", "a b", "c d")])
        XCTAssertEqual(feed("ECHO \"\\r\\b\\a\\\\\"\r\n").commands, [[Bytes("ECHO"), Bytes([13, 8, 7, 92])]])
    }

    func testUnbalancedQuotes() {
        expectError("SET \"a b\r\n", "Protocol error: unbalanced quotes in request")
        expectError("SET 'a b\r\n", "Protocol error: unbalanced quotes in request")
        expectError("SET \"a\"b c\r\n", "Protocol error: unbalanced quotes in request")
        expectError("SET 'a'b c\r\n", "Protocol error: unbalanced quotes in request")
    }

    func testTooBigInlineRequestWithoutNewline() {
        // Redis errs when more than 64 KiB are buffered with no newline; 64 KiB exactly waits.
        let exactly = [UInt8](repeating: UInt8(ascii: "a"), count: 64 * 1024)
        let p = RESPRequestParser()
        XCTAssertNil(feed([exactly], parser: p).error)
        XCTAssertEqual(p.bufferedBytes, 64 * 1024)
        XCTAssertEqual(feed([[UInt8(ascii: "a")]], parser: p).error, "Protocol error: too big inline request")
        XCTAssertEqual(feed([[UInt8](repeating: UInt8(ascii: "a"), count: 70_000)]).error,
                       "Protocol error: too big inline request")
    }

    func testLongInlineLineThatArrivesWholeIsParsed() {
        // Redis parses a line longer than 64 KiB when its newline is already in the buffer.
        let long = String(repeating: "a", count: 70_000)
        XCTAssertEqual(feed("ECHO \(long)\r\n"), Outcome(commands: [argv("ECHO", long)]))
        let p = RESPRequestParser()
        let bytes = Array("ECHO \(long)\r\n".utf8)
        XCTAssertEqual(feed([Array(bytes[..<60_000]), Array(bytes[60_000...])], parser: p),
                       Outcome(commands: [argv("ECHO", long)]))
    }

    func testInlineAndMultibulkMix() {
        XCTAssertEqual(feed("*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\na\r\n").commands,
                       [argv("PING"), argv("PING"), argv("ECHO", "a")])
    }

    // MARK: writer

    func testEncodeCommandWritesAMultibulk() {
        XCTAssertEqual(encodeCommand([Bytes("SET"), Bytes("k"), Bytes([0, 13, 10])]),
                       Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n".utf8) + [0, 13, 10, 13, 10])
        XCTAssertEqual(encodeCommand([]), Array("*0\r\n".utf8))
    }

    func testWriterRepliesInRESP2AndRESP3() {
        var w = RESPWriter()
        w.ok(); w.integer(-9_223_372_036_854_775_807 - 1); w.bulk(integerText: Int64.min)
        w.null(); w.nullArray(); w.mapHeader(2); w.setHeader(1); w.double(text: Array("1.5".utf8))
        w.boolean(true); w.error("ERR a\r\nb")
        XCTAssertEqual(String(decoding: w.take(), as: UTF8.self),
                       "+OK\r\n:-9223372036854775808\r\n$20\r\n-9223372036854775808\r\n$-1\r\n*-1\r\n*4\r\n*1\r\n$3\r\n1.5\r\n:1\r\n-ERR a  b\r\n")
        var w3 = RESPWriter(protocolVersion: 3)
        w3.null(); w3.nullArray(); w3.mapHeader(2); w3.setHeader(1); w3.double(text: Array("1.5".utf8))
        w3.boolean(false); w3.bulk(integerText: 0); w3.bulk(integerText: -7)
        XCTAssertEqual(String(decoding: w3.take(), as: UTF8.self),
                       "_\r\n_\r\n%2\r\n~1\r\n,1.5\r\n#f\r\n$1\r\n0\r\n$2\r\n-7\r\n")
        XCTAssertEqual(w3.take(), [])
    }
}
