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
// "Inline" mode (SAVE, shutdown, DEBUG RELOAD) uses the same thread, but the caller waits: for
// room in the queue in consume(), and for the durable file (or the failure) in finish() and
// abandon(). The caller blocks the server either way; this way its serialization and the
// compression run on two cores at once.
//
// Compression blocks (docs/formats/snapshot.md, "Stored forms"). Every chunk the driver hands
// over ends at a key boundary, but a chunk is one engine-loop slice, often only tens of KiB, and
// a block that small compresses worse: each LZ4 block (and each zlib full flush) starts with an
// empty history. So the writer packs consecutive chunks into one block and ends the block only
//
//   - after the header chunk (magic and aux fields stay a block of their own), and
//   - before a chunk that would take the open block past `blockBytesMax` (4 MiB, the LZ4 frame's
//     block size), so LZ4 never cuts a block inside a chunk, i.e. inside a key.
//
// Each block therefore still starts with SELECTDB (every chunk does) and ends at a key boundary;
// only a chunk bigger than 4 MiB (one huge value, or a drain) is cut by the frame itself.
//
// LZ4 level: 3, the lowest LZ4HC level (levels 1 and 2 are the fast compressor again). On the
// 1M-key mixed dataset of tools/bench it writes 0.37x Redis's LZF file where level 0 writes
// 0.47x. It costs about 0.55 s more CPU per 138 MB of RDB, on this thread: with a core free
// beside the engine loop's serialization BGSAVE takes no longer; on a machine whose cores are
// busy it does (docs/benchmarks.md). Decoding HC output is as fast as decoding fast output.

import CairnEngine
import CairnFormats
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
    /// Called once, on the writer thread, when the file is durable or the save failed.
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
    /// Chunks written so far (the first is the header).
    private var chunksWritten = 0
    /// Plain bytes in the open compression block.
    private var openBlockBytes = 0
    /// The last chunk written ended at a key boundary, so a block may end here.
    private var atKeyBoundary = true

    /// Most plain bytes the writer packs into one compression block: the LZ4 frame's block size.
    static let blockBytesMax = LZ4FrameCompressor.BlockSize.max4MiB.rawValue
    /// LZ4 compression level (see the header comment): 3 = LZ4HC's lowest level.
    static let lz4Level = 3

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

    /// Starts the writer thread. Inline mode starts it at the first chunk.
    func start() {
        locked { startLocked() }
    }

    private var started = false

    private func startLocked() {
        guard !started else { return }
        started = true
        SnapshotFileWriter.writerQueue.async { self.run() }
    }

    // MARK: SnapshotSink (engine loop)

    var acceptsMore: Bool { inline || locked { queuedBytes < queueBytesMax } }

    var hasFailed: Bool { locked { failure != nil } }

    /// Background mode: queues the chunk and returns. Inline mode: the caller holds the whole
    /// server anyway (SAVE), so it waits while the queue is full, and serialization on the caller's
    /// thread still overlaps compression on the writer thread.
    func consume(_ chunk: SnapshotChunk) {
        locked {
            if inline {
                startLocked()
                while queuedBytes >= queueBytesMax && !done { pthread_cond_wait(&cond, &mutex) }
            }
            queue.append(chunk)
            queuedBytes += chunk.bytes.count
            pthread_cond_broadcast(&cond)
        }
    }

    /// The last chunk was consumed. Inline mode returns once the file is durable or failed.
    func finish() {
        locked {
            finished = true
            if inline { startLocked() }
            pthread_cond_broadcast(&cond)
        }
        if inline { waitUntilDone() }
    }

    func abandon() {
        locked {
            abandoned = true
            if inline { startLocked() }
            pthread_cond_broadcast(&cond)
        }
        if inline { waitUntilDone() }
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
            locked {
                queuedBytes -= bytes
                pthread_cond_broadcast(&cond)   // an inline caller may wait for room
            }
        }
        complete()
    }

    /// Compresses and writes one chunk; on an I/O error records it and removes the temp file.
    private func write(_ chunk: SnapshotChunk) {
        do {
            if fd < 0 {
                fd = try sys.open(tempPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                compressor = try SnapshotFileWriter.makeCompressor(container)
            }
            if keySaveDelayMicros > 0 {
                // Key by key, so an abandon is noticed within one key's delay.
                for _ in 0..<chunk.keys where !locked({ abandoned }) {
                    usleep(UInt32(clamping: keySaveDelayMicros))
                }
            }
            var out: [UInt8]
            if let c = compressor {
                out = []
                if atKeyBoundary && openBlockBytes > 0 && openBlockBytes + chunk.bytes.count > SnapshotFileWriter.blockBytesMax {
                    out += try c.endBlock()
                    openBlockBytes = 0
                }
                out += try chunk.bytes.withUnsafeBytes { try c.write($0) }
                // A chunk bigger than a block: the frame emitted the full blocks, the rest is open.
                openBlockBytes = (openBlockBytes + chunk.bytes.count) % SnapshotFileWriter.blockBytesMax
                atKeyBoundary = chunk.endsBlock
                if chunksWritten == 0 && chunk.endsBlock {
                    out += try c.endBlock()
                    openBlockBytes = 0
                }
            } else {
                out = chunk.bytes
            }
            chunksWritten += 1
            if !out.isEmpty {
                try sys.write(fd, out, path: tempPath)
                fileBytes += out.count
            }
        } catch {
            fail(error)
        }
    }

    /// The container's compressor as snapshots use it: LZ4 at `lz4Level` with 4 MiB independent
    /// blocks; zlib at its default level. Nil for a plain file.
    static func makeCompressor(_ container: CompressionFormat) throws -> StreamCompressor? {
        switch container {
        case .lz4: return try LZ4FrameCompressor(level: lz4Level, blockSize: .max4MiB)
        default: return try CairnFormats.makeCompressor(container)
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
