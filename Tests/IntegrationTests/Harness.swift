// Integration harness: starts real binaries (cairn-server, Debian's redis-server) on free
// loopback ports with their own temporary directories, and talks RESP to them over a socket.
// Every server started here is stopped in tearDown, and its directory removed.

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

enum Harness {
    /// The cairn-server binary: $CAIRN_SERVER, else .build/debug/cairn-server of this package.
    static var cairnServerPath: String {
        if let p = ProcessInfo.processInfo.environment["CAIRN_SERVER"], FileManager.default.isExecutableFile(atPath: p) { return p }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for candidate in [".build/debug/cairn-server", ".build/release/cairn-server"] {
            let p = root.appendingPathComponent(candidate).path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return root.appendingPathComponent(".build/debug/cairn-server").path
    }

    static func which(_ tool: String) -> String? {
        for dir in ["/usr/bin", "/usr/local/bin", "/bin"] {
            let p = dir + "/" + tool
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// A port nobody listens on right now (bind to 0, read it back, close).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                _ = bind(fd, sp, len)
                _ = getsockname(fd, sp, &len)
            }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func tempDirectory(_ prefix: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Runs a command to completion and returns (status, stdout, stderr).
    @discardableResult
    static func run(_ path: String, _ args: [String], stdin: String? = nil, timeout: TimeInterval = 60) -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let inPipe = Pipe()
        p.standardInput = inPipe
        try! p.run()
        if let stdin { inPipe.fileHandleForWriting.write(stdin.data(using: .utf8)!) }
        try? inPipe.fileHandleForWriting.close()
        // Drain output while waiting so a full pipe cannot block the child.
        final class Box: @unchecked Sendable { var data = Data() }
        let outBox = Box(), errBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outBox.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        group.wait()
        return (p.terminationStatus, String(decoding: outBox.data, as: UTF8.self), String(decoding: errBox.data, as: UTF8.self))
    }
}

/// A server process started for one test.
final class ServerProcess {
    let process = Process()
    let port: Int
    let dir: String
    let logPath: String

    /// Starts cairn-server (or another Redis-compatible binary) and waits until it answers PING
    /// with PONG (or, with `waitForPong` false, until it accepts a connection: a server still
    /// loading its snapshot answers -LOADING).
    init(binary: String = Harness.cairnServerPath, extraArgs: [String] = [], configFile: String? = nil,
         port: Int = Harness.freePort(), dir: String? = nil, waitForPong: Bool = true,
         environment: [String: String] = [:]) throws {
        self.port = port
        self.dir = dir ?? Harness.tempDirectory("cairn-it")
        self.logPath = self.dir + "/server.log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: binary)
        var args: [String] = []
        if let configFile { args.append(configFile) }
        args += ["--port", String(port), "--bind", "127.0.0.1", "--dir", self.dir, "--save", ""]
        if binary.hasSuffix("redis-server") { args += ["--appendonly", "no"] }
        args += extraArgs
        process.arguments = args
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let logHandle = FileHandle(forWritingAtPath: logPath)!
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.currentDirectoryURL = URL(fileURLWithPath: self.dir)
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let c = try? RESPConnection(port: port), !waitForPong || (try? c.command("PING")) == "+PONG\r\n" { return }
            if !process.isRunning { break }
            usleep(20_000)
        }
        stop()
        throw NSError(domain: "harness", code: 1, userInfo: [NSLocalizedDescriptionKey: "server did not start: \(log())"])
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }

    func cleanup() {
        stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func connect() throws -> RESPConnection { try RESPConnection(port: port) }
}

struct HarnessError: Error, CustomStringConvertible { let description: String }

/// A minimal blocking RESP client that returns each reply's raw bytes, so tests can assert
/// them exactly.
final class RESPConnection {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, host: String = "127.0.0.1") throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr(host)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let r = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if r != 0 { close(fd); throw HarnessError(description: "connect failed: \(errno)") }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    init(unixPath: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let bytes = Array(unixPath.utf8)
            for (i, b) in bytes.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        let r = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if r != 0 { close(fd); throw HarnessError(description: "unix connect failed: \(errno)") }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw HarnessError(description: "send failed") }
            off += n
        }
    }

    func send(_ s: String) throws { try send(Array(s.utf8)) }

    static func encode(_ args: [[UInt8]]) -> [UInt8] {
        var out = Array("*\(args.count)\r\n".utf8)
        for a in args {
            out += Array("$\(a.count)\r\n".utf8)
            out += a
            out += [13, 10]
        }
        return out
    }

    /// Sends one command and returns its reply as text (lossy for binary replies).
    func command(_ args: String...) throws -> String {
        try send(RESPConnection.encode(args.map { Array($0.utf8) }))
        return String(decoding: try readReply(), as: UTF8.self)
    }

    func commandBytes(_ args: [[UInt8]]) throws -> [UInt8] {
        try send(RESPConnection.encode(args))
        return try readReply()
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        if n <= 0 { throw HarnessError(description: "connection closed") }
        buffer += chunk[0..<n]
    }

    /// True when the server closed the connection (reads EOF within the timeout).
    func isClosedByPeer() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 1024)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        return n == 0
    }

    private func line(from start: Int) throws -> Int {
        while true {
            if let i = buffer[start...].firstIndex(of: 10), i > start, buffer[i - 1] == 13 { return i + 1 }
            try fill()
        }
    }

    /// Reads exactly one complete RESP value and returns its bytes.
    func readReply() throws -> [UInt8] {
        let end = try valueEnd(0)
        let out = Array(buffer[0..<end])
        buffer.removeFirst(end)
        return out
    }

    private func valueEnd(_ start: Int) throws -> Int {
        while buffer.count <= start { try fill() }
        let lineEnd = try line(from: start)
        let header = String(decoding: buffer[(start + 1)..<(lineEnd - 2)], as: UTF8.self)
        switch buffer[start] {
        case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"):
            let n = Int(header)!
            if n < 0 { return lineEnd }
            while buffer.count < lineEnd + n + 2 { try fill() }
            return lineEnd + n + 2
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"):
            let n = Int(header)!
            var pos = lineEnd
            if n > 0 { for _ in 0..<n { pos = try valueEnd(pos) } }
            return pos
        case UInt8(ascii: "%"):
            let n = Int(header)!
            var pos = lineEnd
            for _ in 0..<(2 * n) { pos = try valueEnd(pos) }
            return pos
        default:
            return lineEnd
        }
    }
}
