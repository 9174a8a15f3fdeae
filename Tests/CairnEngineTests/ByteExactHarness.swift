@testable import CairnEngine
import XCTest

/// One engine and its clients; `expect` runs a command and checks the exact reply bytes.
final class ByteExactHarness {
    let engine: Engine
    let resp3: Bool
    private var clients: [ClientSession] = []

    init(protoMaxBulkLen: Int? = nil, resp3: Bool = false) {
        var config = EngineConfig()
        if let protoMaxBulkLen { config.protoMaxBulkLen = protoMaxBulkLen }
        engine = Engine(config: config)
        engine.log.keepsPending = true
        self.resp3 = resp3
    }

    func client(_ i: Int) -> ClientSession {
        while clients.count <= i {
            let c = engine.connect()
            if resp3 { c.protocolVersion = 3 }
            clients.append(c)
        }
        return clients[i]
    }

    func expect(client i: Int = 0, _ argv: [String], _ expected: String,
                file: StaticString = #filePath, line: UInt = #line) {
        let c = client(i)
        engine.execute(c, argv.map { Bytes(array: latin1($0)) })
        XCTAssertEqual(escaped(c.reply.take()), escaped(latin1(expected)),
                       argv.joined(separator: " "), file: file, line: line)
    }

    /// The replication log since the harness started (or since the last call).
    func expectPropagated(_ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(escaped(engine.log.takePending()), escaped(latin1(expected)), file: file, line: line)
    }
}

func latin1(_ s: String) -> [UInt8] {
    s.unicodeScalars.map { scalar in
        precondition(scalar.value < 256, "test strings are Latin-1")
        return UInt8(scalar.value)
    }
}

