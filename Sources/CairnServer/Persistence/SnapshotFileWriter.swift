// SnapshotFileWriter: the file end of a snapshot (a `SnapshotSink`).
//
// The driver hands chunks over on the engine loop; a background thread compresses them into
// the container (`rdbcompression`), writes them to `temp-<pid>.rdb` through the Sys seam, and
// at the end makes the file durable and visible in one step:
//
//   engine loop                          snapshot writer thread
//   ───────────                          ──────────────────────
//   driver.step ─▶ consume(chunk) ─▶ [ bounded queue ] ─▶ compress ─▶ Sys.write(temp)
//                  acceptsMore? ◀── queued bytes < bound
//   driver done ─▶ finish() ───────────────────────────▶ Sys.fsync(temp), close,
//                                                         Sys.rename(temp, dbfilename),
//                                                         Sys.fsyncDirectory(dir)
//                                                         ─▶ onDone(.success) (then loop.execute)
//
// States of the writer thread:
//
//   open ──(first chunk: open temp)──▶ writing ──finish──▶ durable ──▶ done(ok)
//     │                                  │ I/O error
//     │                                  ▼
//     └──────────────abandon─────────▶ failed: temp closed and unlinked, the rest of the
//                                       stream discarded; done(error) once the driver has
//                                       called finish() or abandon()
//
// Invariants: the target file is only ever replaced by rename of a complete, fsynced file, so
// a crash or an I/O error at any point leaves the previous snapshot or the new one, never a
// mix. A failed write or fsync is not retried (DESIGN.md §6): the whole save fails.
//
// "Inline" mode does the same work on the caller's thread (SAVE, shutdown, DEBUG RELOAD).

import CairnEngine
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// What rdbcompression asks for.
struct SnapshotEncoding: Equatable {
    /// The container the RDB stream is stored in.
    var container: CompressionFormat
    /// LZF inside the RDB stream (Redis's own string compression).
    var lzfStrings: Bool

    /// lz4 (default) / zlib: the whole stream in one LZ4 frame / zlib stream, strings plain.
    /// lzf, and Redis's `yes`: a plain RDB file with LZF strings, what Redis writes by default.
    /// no: a plain RDB file, no compression at all.
    init(rdbcompression: String) {
        switch rdbcompression {
        case "zlib": container = .zlib; lzfStrings = false
        case "lzf", "yes": container = .none; lzfStrings = true
        case "no": container = .none; lzfStrings = false
        default: container = .lz4; lzfStrings = false
        }
    }
}

/// The save was given up on purpose (shutdown, DEBUG RELOAD); not an I/O failure.
struct SnapshotAbandoned: Error, CustomStringConvertible {
    var description: String { "snapshot abandoned" }
}

final class SnapshotFileWriter: SnapshotSink, @unchecked Sendable {
    struct Outcome {
        /// Bytes of the file written.
        var fileBytes: Int
    }

    let path: String
    let tempPath: String
    let container: CompressionFormat
    let queueBytesMax: Int
    /// rdb-key-save-delay: microseconds slept per key written (tests use it to make a save slow).
    let keySaveDelayMicros: Int
    let inline: Bool
    let sys: Sys
    /// Called once, on the writer thread (inline: on the caller's), when the file is durable
    /// or the save failed.
    var onDone: ((Result<Outcome, Error>) -> Void)?

    // Shared between the engine loop and the writer thread, under `mutex`.
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var queue: [SnapshotChunk] = []
    private var queuedBytes = 0
    private var finished = false
    private var abandoned = false
    private var failure: Error?
    private var done = false
    private var outcome: Result<Outcome, Error>?

    // Writer thread only.
    private var fd: Int32 = -1
    private var compressor: StreamCompressor?
    private var fileBytes = 0

    /// One serial queue for every background snapshot file: a new save never overlaps the
    /// clean-up of an abandoned one (they share the temp file name).
    static let writerQueue = DispatchQueue(label: "cairn.snapshot.writer")

    init(path: String, container: CompressionFormat, inline: Bool, queueBytesMax: Int = 16 << 20,
         keySaveDelayMicros: Int = 0, sys: Sys = .shared) {
        self.path = path
        self.tempPath = Durable.directoryOf(path) + "/temp-\(getpid()).rdb"
        self.container = container
        self.inline = inline
        self.queueBytesMax = queueBytesMax
        self.keySaveDelayMicros = keySaveDelayMicros
        self.sys = sys
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
    }

    deinit {
        pthread_cond_destroy(&cond)
        pthread_mutex_destroy(&mutex)
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    /// Starts the writer thread (background mode).
    func start() {
        guard !inline else { return }
        SnapshotFileWriter.writerQueue.async { self.run() }
    }

    // MARK: SnapshotSink (engine loop)

    var acceptsMore: Bool { inline || locked { queuedBytes < queueBytesMax } }

    var hasFailed: Bool { locked { failure != nil } }

    func consume(_ chunk: SnapshotChunk) {
        if inline {
            if failure == nil { write(chunk) }
            return
        }
        locked {
            queue.append(chunk)
            queuedBytes += chunk.bytes.count
            pthread_cond_signal(&cond)
        }
    }

    func finish() {
        if inline {
            complete()
            return
        }
        locked {
            finished = true
            pthread_cond_signal(&cond)
        }
    }

    func abandon() {
        if inline {
            abandoned = true
            complete()
            return
        }
        locked {
            abandoned = true
            pthread_cond_signal(&cond)
        }
    }

    /// Blocks until the writer is done (shutdown and DEBUG RELOAD wait for an abandoned save
    /// to remove its temp file). Returns the outcome.
    @discardableResult
    func waitUntilDone() -> Result<Outcome, Error> {
        locked {
            while !done { pthread_cond_wait(&cond, &mutex) }
            return outcome!
        }
    }

    /// The outcome once done (inline mode: right after finish/abandon).
    var result: Result<Outcome, Error>? { locked { outcome } }

    // MARK: writer thread

    private func run() {
        while true {
            var batch: [SnapshotChunk] = []
            var stop = false
            locked {
                while queue.isEmpty && !finished && !abandoned { pthread_cond_wait(&cond, &mutex) }
                if abandoned || (queue.isEmpty && finished) {
                    stop = true
                } else {
                    swap(&batch, &queue)
                }
            }
            if stop { break }
            var bytes = 0
            for chunk in batch {
                bytes += chunk.bytes.count
                if !hasFailed { write(chunk) }
            }
            locked { queuedBytes -= bytes }
        }
        complete()
    }

    /// Compresses and writes one chunk; on an I/O error records it and removes the temp file.
    private func write(_ chunk: SnapshotChunk) {
        do {
            if fd < 0 {
                fd = try sys.open(tempPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                compressor = try makeCompressor(container)
            }
            if keySaveDelayMicros > 0 {
                // Key by key, so an abandon is noticed within one key's delay.
                for _ in 0..<chunk.keys where !locked({ abandoned }) {
                    usleep(UInt32(clamping: keySaveDelayMicros))
                }
            }
            var out: [UInt8]
            if let c = compressor {
                out = try chunk.bytes.withUnsafeBytes { try c.write($0) }
                if chunk.endsBlock { out += try c.endBlock() }
            } else {
                out = chunk.bytes
            }
            if !out.isEmpty {
                try sys.write(fd, out, path: tempPath)
                fileBytes += out.count
            }
        } catch {
            fail(error)
        }
    }

    private func fail(_ error: Error) {
        locked { if failure == nil { failure = error } }
        discardTemp()
    }

    private func discardTemp() {
        if fd >= 0 {
            _ = Glibc.close(fd)
            fd = -1
        }
        try? sys.unlink(tempPath)
    }

    /// After the last chunk (or an abandon): make the file durable and visible, or clean up.
    private func complete() {
        let giveUp = locked { abandoned }
        if giveUp {
            discardTemp()
            locked { if failure == nil { failure = SnapshotAbandoned() } }
        } else if !hasFailed {
            do {
                if let c = compressor {
                    let tail = try c.finish()
                    if !tail.isEmpty {
                        try sys.write(fd, tail, path: tempPath)
                        fileBytes += tail.count
                    }
                }
                try sys.fsync(fd, path: tempPath)
                let toClose = fd
                fd = -1
                try sys.close(toClose)
            } catch {
                fail(error)
            }
            if !hasFailed {
                do {
                    try sys.rename(tempPath, path)
                } catch {
                    fail(error)
                }
            }
            if !hasFailed {
                // The new file is in place; if the directory entry is not durable the save
                // still failed (a crash could bring the old file back).
                do {
                    try sys.fsyncDirectory(Durable.directoryOf(path))
                } catch {
                    locked { if failure == nil { failure = error } }
                }
            }
        }
        let result: Result<Outcome, Error> = locked {
            if let f = failure { return .failure(f) }
            return .success(Outcome(fileBytes: fileBytes))
        }
        onDone?(result)
        locked {
            outcome = result
            done = true
            pthread_cond_broadcast(&cond)
        }
    }
}
