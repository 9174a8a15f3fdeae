// Sys: the one seam every syscall touching durable state goes through (DESIGN.md §6).
//
// Production code calls `Sys.shared.write(...)` etc. Tests install a `SysFaults` plan that
// makes the Nth call of a kind fail with a chosen errno (EIO, ENOSPC), write short, or
// "crash" (stop the process's view of the world) before a rename — so every failure path of
// the snapshot and AOF writers can be exercised deterministically.
//
//   caller ──▶ Sys.shared ──▶ (fault plan: fail call #N of kind K?) ──▶ libc

#if canImport(Glibc)
import Glibc
#endif

public struct SysError: Error, CustomStringConvertible, Equatable {
    public let call: String
    public let errno: Int32
    public let path: String
    public var description: String {
        "\(call)\(path.isEmpty ? "" : " '\(path)'") failed: \(String(cString: strerror(errno)))"
    }
}

public enum SysCall: String, CaseIterable, Sendable {
    case open, write, fsync, rename, close, unlink, mkdir, read
}

/// A deterministic failure plan for tests.
public struct SysFaults {
    public enum Failure { case errno(Int32), shortWrite(Int) }
    /// Fail the call of `kind` whose 1-based index is the key.
    public var plan: [SysCall: [Int: Failure]] = [:]
    public init() {}
    public mutating func fail(_ call: SysCall, at index: Int, with failure: Failure) {
        plan[call, default: [:]][index] = failure
    }
}

public final class Sys: @unchecked Sendable {
    public nonisolated(unsafe) static var shared = Sys()

    private var counts: [SysCall: Int] = [:]
    private let lock = NSLockLike()
    public var faults = SysFaults()

    public init() {}

    /// Calls made so far of each kind (tests size their fault sweeps with this).
    public func count(_ call: SysCall) -> Int { lock.locked { counts[call] ?? 0 } }

    public func resetCounts() { lock.locked { counts = [:] } }

    private func next(_ call: SysCall) -> SysFaults.Failure? {
        lock.locked {
            let n = (counts[call] ?? 0) + 1
            counts[call] = n
            return faults.plan[call]?[n]
        }
    }

    public func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) throws -> Int32 {
        if case .errno(let e)? = next(.open) { throw SysError(call: "open", errno: e, path: path) }
        let fd = Glibc.open(path, flags, mode)
        if fd < 0 { throw SysError(call: "open", errno: errno, path: path) }
        return fd
    }

    /// Writes all bytes (looping over partial writes and EINTR).
    public func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String = "") throws {
        var offset = 0
        if let f = next(.write) {
            switch f {
            case .errno(let e): throw SysError(call: "write", errno: e, path: path)
            case .shortWrite(let n):
                let k = min(n, bytes.count)
                if k > 0 { _ = Glibc.write(fd, bytes.baseAddress!, k) }
                throw SysError(call: "write", errno: ENOSPC, path: path)
            }
        }
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw SysError(call: "write", errno: errno, path: path)
            }
            offset += n
        }
    }

    public func write(_ fd: Int32, _ bytes: [UInt8], path: String = "") throws {
        try bytes.withUnsafeBytes { try write(fd, $0, path: path) }
    }

    public func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String = "") throws -> Int {
        if case .errno(let e)? = next(.read) { throw SysError(call: "read", errno: e, path: path) }
        while true {
            let n = Glibc.read(fd, buffer.baseAddress!, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw SysError(call: "read", errno: errno, path: path)
            }
            return n
        }
    }

    /// fdatasync on Linux. A failure is never retried into success by callers: see DESIGN §6.
    public func fsync(_ fd: Int32, path: String = "") throws {
        if case .errno(let e)? = next(.fsync) { throw SysError(call: "fsync", errno: e, path: path) }
        if fdatasync(fd) != 0 { throw SysError(call: "fsync", errno: errno, path: path) }
    }

    public func close(_ fd: Int32) throws {
        if case .errno(let e)? = next(.close) { _ = Glibc.close(fd); throw SysError(call: "close", errno: e, path: "") }
        if Glibc.close(fd) != 0 && errno != EINTR { throw SysError(call: "close", errno: errno, path: "") }
    }

    public func rename(_ from: String, _ to: String) throws {
        if case .errno(let e)? = next(.rename) { throw SysError(call: "rename", errno: e, path: to) }
        if Glibc.rename(from, to) != 0 { throw SysError(call: "rename", errno: errno, path: to) }
    }

    public func unlink(_ path: String) throws {
        if case .errno(let e)? = next(.unlink) { throw SysError(call: "unlink", errno: e, path: path) }
        if Glibc.unlink(path) != 0 && errno != ENOENT { throw SysError(call: "unlink", errno: errno, path: path) }
    }

    public func mkdir(_ path: String, _ mode: mode_t = 0o755) throws {
        if case .errno(let e)? = next(.mkdir) { throw SysError(call: "mkdir", errno: e, path: path) }
        if Glibc.mkdir(path, mode) != 0 && errno != EEXIST { throw SysError(call: "mkdir", errno: errno, path: path) }
    }

    /// fsyncs a directory so a rename inside it is durable.
    public func fsyncDirectory(_ path: String) throws {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { try? close(fd) }
        try fsync(fd, path: path)
    }

    /// Reads a whole (small) file.
    public func readFile(_ path: String) throws -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { try? close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(fd, into: $0, path: path) }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
    }
}

/// Crash-safe file replacement: write a temp file, fsync it, rename it over the target, fsync
/// the directory. Either the old or the new file is found afterwards, never a mix.
public enum Durable {
    public static func replaceFile(at path: String, with bytes: [UInt8], sys: Sys = .shared) throws {
        let dir = directoryOf(path)
        let temp = "\(dir)/temp-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = try sys.open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        do {
            try sys.write(fd, bytes, path: temp)
            try sys.fsync(fd, path: temp)
            try sys.close(fd)
        } catch {
            _ = Glibc.close(fd)
            try? sys.unlink(temp)
            throw error
        }
        do {
            try sys.rename(temp, path)
        } catch {
            try? sys.unlink(temp)
            throw error
        }
        try sys.fsyncDirectory(dir)
    }

    public static func directoryOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }
}

/// A tiny pthread mutex (Foundation-free).
final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
