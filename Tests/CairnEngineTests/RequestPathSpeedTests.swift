import CairnEngine
import CairnFormats
import Dispatch
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The engine's share of a pipelined request, without sockets: RESP bytes of redis-benchmark's
/// tests, 16 requests per read, go through the parser, the batch prefetch and `execute`, and
/// the reply bytes are dropped as a flush would. Prints nanoseconds per request. What is left
/// over in a real run is the kernel and NIO. In the debug suite it runs a few thousand
/// requests and checks the replies; for figures run it from a release build:
///
///     swift build -c release -Xswiftc -enable-testing --build-tests
///     REQUEST_PATH_REQUESTS=2000000 .build/release/CairnPackageTests.xctest \
///         CairnEngineTests.RequestPathSpeedTests
///
/// REQUEST_PATH_ONLY=lpush,sadd picks tests (for a profile of one).
final class RequestPathSpeedTests: XCTestCase {
    /// One request as RESP, with the random part (redis-benchmark's __rand_int__) filled in.
    private func request(_ args: [String]) -> [UInt8] {
        var out = Array("*\(args.count)\r\n".utf8)
        for a in args { out += Array("$\(a.utf8.count)\r\n\(a)\r\n".utf8) }
        return out
    }

    private func randomTag(_ rng: inout SplitMix64) -> String {
        let n = rng.next() % 1_000_000
        let digits = String(n)
        return String(repeating: "0", count: 12 - digits.count) + digits
    }

    /// Runs `total` requests made by `make`, 16 per read, and returns ns per request and the
    /// reply bytes of the first read.
    private func run(_ engine: Engine, total: Int, _ make: (inout SplitMix64) -> [String]) -> (Double, [UInt8]) {
        let session = engine.connect()
        let parser = RESPRequestParser()
        var rng = SplitMix64(seed: 42)
        // Pre-build the reads so building them is not timed (at most 64k distinct reads, reused).
        let reads = (0..<min(max(total / 16, 1), 65_536)).map { _ -> [UInt8] in
            var bytes: [UInt8] = []
            for _ in 0..<16 { bytes += request(make(&rng)) }
            return bytes
        }
        var batch = RequestBatch()
        var firstReply: [UInt8] = []
        let start = DispatchTime.now().uptimeNanoseconds
        var done = 0
        var i = 0
        while done < total {
            reads[i].withUnsafeBytes { raw in
                try! parser.parse(raw, into: &batch)
            }
            if batch.count > 1 { engine.prefetchKeys(session, batch.requests) }
            for j in 0..<batch.count { engine.execute(session, batch.slots[j]) }
            if done == 0 { firstReply = session.reply.buffer }
            session.reply.buffer.removeAll(keepingCapacity: true)
            done += batch.count
            batch.removeAll()
            i += 1
            if i == reads.count { i = 0 }
        }
        let ns = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(done)
        engine.disconnect(session)
        return (ns, firstReply)
    }

    func testPipelinedRequestsThroughTheEngine() {
        let total = Int(ProcessInfo.processInfo.environment["REQUEST_PATH_REQUESTS"] ?? "") ?? 4_000
        let only = ProcessInfo.processInfo.environment["REQUEST_PATH_ONLY"]?.uppercased()
            .split(separator: ",").map(String.init)
        var lines: [String] = []
        func measure(_ name: String, _ engine: Engine = Engine(), prepare: (Engine) -> Void = { _ in },
                     expectFirst: String, _ make: (inout SplitMix64) -> [String]) {
            if let only, !only.contains(name) { return }
            engine.log.deactivateBacklog()   // as the server runs it with no replica attached
            // As the server on a CPU with a constant-rate counter: commands timed by it once
            // cron has measured its rate.
            engine.enableCycleCounter()
            usleep(60_000)
            engine.cron()
            prepare(engine)
            let (ns, reply) = run(engine, total: total, make)
            XCTAssertEqual(String(decoding: reply.prefix(expectFirst.utf8.count), as: UTF8.self), expectFirst, name)
            lines.append(name.padding(toLength: 8, withPad: " ", startingAt: 0) + String(format: "%7.1f ns/request", ns))
        }
        measure("SET", expectFirst: "+OK\r\n+OK\r\n") { ["SET", "key:" + randomTag(&$0), "xxx"] }
        let getKeys = min(100_000, total)
        measure("GET", prepare: { e in
            let s = e.connect()
            for n in 0..<getKeys {
                let tag = String(n)
                e.execute(s, [Bytes("SET"), Bytes("key:" + String(repeating: "0", count: 12 - tag.count) + tag), Bytes("xxx")])
            }
            e.disconnect(s)
        }, expectFirst: "$3\r\nxxx\r\n$3\r\nxxx\r\n") {
            let tag = String($0.next() % UInt64(getKeys))
            return ["GET", "key:" + String(repeating: "0", count: 12 - tag.count) + tag]
        }
        measure("INCR", expectFirst: ":1\r\n:2\r\n") { _ in ["INCR", "counter:rand"] }
        measure("LPUSH", expectFirst: ":1\r\n:2\r\n") { _ in ["LPUSH", "mylist", "xxx"] }
        measure("LPOP", prepare: { e in
            let s = e.connect()
            for _ in 0..<(total / 1000 + 1) {
                e.execute(s, [Bytes("LPUSH"), Bytes("mylist")] + Array(repeating: Bytes("xxx"), count: 1000))
            }
            e.disconnect(s)
        }, expectFirst: "$3\r\nxxx\r\n$3\r\nxxx\r\n") { _ in ["LPOP", "mylist"] }
        measure("SADD", expectFirst: ":1\r\n") { ["SADD", "myset", "element:" + randomTag(&$0)] }
        measure("HSET", expectFirst: ":1\r\n") { ["HSET", "myhash", "element:" + randomTag(&$0), "xxx"] }
        measure("ZADD", expectFirst: ":1\r\n") { ["ZADD", "myzset", String($0.next() % 1_000_000), "element:" + randomTag(&$0)] }
        print("request path (parse, prefetch, execute; \(total) requests, 16 per read):")
        for l in lines { print("  " + l) }
    }
}
