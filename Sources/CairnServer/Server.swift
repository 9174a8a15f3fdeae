// The server: listeners, clients, the per-tick reply flush and the cron, around one Engine.
//
// Threads:
//   engine loop (1 NIO event loop)  — every socket read, parse, command, reply and cron
//   lazy-free queue                 — releases big values and emptied tables (FLUSHALL ASYNC)
//   (later) snapshot / AOF threads  — compression, file writes, fsync
//
// One tick of the engine loop:
//
//   NIO delivers reads ──▶ ClientHandler.channelRead: parse, execute, append reply bytes
//                          (no socket writes yet) and mark the client pending
//   after the I/O batch ─▶ Server.endOfTick: run the tick steps (the AOF write goes here so
//                          log bytes reach the file before any reply leaves), then write +
//                          flush each pending client once
//
// So a pipeline of 16 commands costs one read, 16 executions and one write.

import CairnEngine
import Dispatch
import Logging
import NIOCore
import NIOPosix
import CMalloc
#if canImport(Glibc)
import Glibc
#endif

public struct ServerStats {
    public var totalConnectionsReceived = 0
    public var rejectedConnections = 0
    public var netInputBytes = 0
    public var netOutputBytes = 0
    public var readsProcessed = 0
    public var writesProcessed = 0
    public var clientRecentMaxInputBuffer = 0
    public var clientRecentMaxOutputBuffer = 0
}

/// A sliding window of samples for the instantaneous_* INFO fields (Redis keeps 16).
struct InstantaneousMetric {
    private var samples = [Double](repeating: 0, count: 16)
    private var index = 0
    private var lastValue = 0
    private var lastTimeMs: Int64 = 0

    mutating func record(value: Int, nowMs: Int64) {
        defer { lastValue = value; lastTimeMs = nowMs }
        guard lastTimeMs > 0, nowMs > lastTimeMs else { return }
        samples[index] = Double(value - lastValue) * 1000 / Double(nowMs - lastTimeMs)
        index = (index + 1) % samples.count
    }

    var average: Double { samples.reduce(0, +) / Double(samples.count) }
}

public final class Server {
    public let engine: Engine
    public let config: ConfigRegistry
    public let group: MultiThreadedEventLoopGroup
    public var loop: EventLoop { group.next() }
    public let logger: Logger

    var listeners: [Channel] = []
    var handlers: [UInt64: ClientHandler] = [:]
    private var pendingFlush: [ClientHandler] = []
    /// The batch endOfTick is flushing (empty between ticks).
    private var flushing: [ClientHandler] = []
    private var tickScheduled = false
    /// `endOfTick` as one closure made once: a `{ [unowned self] in ... }` literal in
    /// `markPending` would allocate its context on every tick.
    private lazy var endOfTickTask: @Sendable () -> Void = { [unowned self] in self.endOfTick() }
    /// Work run once per tick after all reads and before replies are flushed.
    public var tickSteps: [() -> Void] = []
    /// Work run by every cron (hz times a second) after the engine's: save points, ...
    public var cronSteps: [() -> Void] = []
    /// Runs first on SHUTDOWN and SIGTERM/SIGINT with SHUTDOWN's SAVE (true) / NOSAVE (false)
    /// choice (nil: neither) and FORCE; returns an error text to refuse (the final save failed).
    public var beforeShutdown: ((_ save: Bool?, _ force: Bool) -> String?)?
    /// SAVE/BGSAVE/LASTSAVE, save points, the start-up load (Persistence/RDBPersistence.swift).
    public private(set) var persistence: RDBPersistence!

    public var stats = ServerStats()
    var opsMetric = InstantaneousMetric()
    var inputMetric = InstantaneousMetric()
    var outputMetric = InstantaneousMetric()
    public let startTimeMs: Int64
    public let runID: String
    public let executablePath: String
    var cronTask: RepeatedTask?
    var cronLoops = 0

    // CLIENT PAUSE
    var pauseEndMs: Int64 = 0
    var pauseWritesOnly = false

    var monitors: [ClientHandler] = []
    private let lazyFreeQueue = DispatchQueue(label: "cairn.lazyfree")
    private var shutdownPromise: EventLoopPromise<Void>

    public var tcpPort: Int = 0

    public init(config: ConfigRegistry, executablePath: String = "") {
        self.config = config
        self.executablePath = executablePath
        var engineConfig = EngineConfig()
        engineConfig.databases = Int(config.int("databases"))
        self.engine = Engine(config: engineConfig)
        // No replica or AOF reads the log yet: count offsets, keep no backlog (as Redis has none
        // until a replica attaches).
        engine.log.deactivateBacklog()
        Server.keepEveryThreadInTheMainArena()
        if cpuHasConstantRateCycleCounter() { engine.enableCycleCounter() }
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.logger = Logger(label: "cairn")
        self.startTimeMs = Engine.wallClockMs()
        self.runID = ReplicationLog.newReplicationID()
        self.shutdownPromise = group.next().makePromise()
        applyConfigToEngine()
        wireConfigHooks()
        wireEngineHooks()
        registerServerCommands()
        persistence = RDBPersistence(server: self)
    }

    /// Makes every thread allocate from glibc's main arena (M_ARENA_MAX 1). Must run before
    /// the engine loop's thread first allocates: glibc picks a thread's arena then, for good.
    ///
    /// Why: each other arena lives in 64 MiB heaps that glibc makes writable on demand, one
    /// mprotect per growth step, and a growth step is only what the allocation needs (a page
    /// or two: `M_TOP_PAD` applies to the main arena alone). The engine loop allocates every
    /// key and value a client writes, so in its own arena a growing dataset cost one mprotect
    /// per 4 KiB: 14.8k calls for 1M SETs of new keys, about 5% of the server's kernel time
    /// and absent from Redis (jemalloc maps large extents). The main arena grows with brk by
    /// the request plus `M_TOP_PAD` (128 KiB), ~470 calls for the same load. The start-up load
    /// already builds in the main arena for this reason (SnapshotElementRecorder.swift).
    ///
    /// The cost is one lock for all threads. The engine loop is the only thread that allocates
    /// steadily; the lazy-free queue frees engine-allocated blocks, whose arena lock it took
    /// anyway, and the snapshot writer allocates a few multi-MiB blocks per file.
    static func keepEveryThreadInTheMainArena() {
        _ = mallopt(M_ARENA_MAX, 1)
    }

    /// Copies every engine-relevant parameter into the engine (start-up and CONFIG SET).
    func applyConfigToEngine() {
        engine.config.protoMaxBulkLen = Int(config.int("proto-max-bulk-len"))
        engine.config.hz = Int(config.int("hz"))
        engine.config.slowlogLogSlowerThanUs = config.int("slowlog-log-slower-than")
        engine.config.slowlogMaxLen = Int(config.int("slowlog-max-len"))
        engine.config.latencyMonitorThresholdMs = config.int("latency-monitor-threshold")
        engine.config.lazyfreeLazyUserDel = config.bool("lazyfree-lazy-user-del")
        engine.config.lazyfreeLazyUserFlush = config.bool("lazyfree-lazy-user-flush")
        engine.config.lazyfreeLazyExpire = config.bool("lazyfree-lazy-expire")
        engine.log.resizeBacklog(Int(config.int("repl-backlog-size")))
        engine.config.hashMaxListpackEntries = Int(config.int("hash-max-listpack-entries"))
        engine.config.hashMaxListpackValue = Int(config.int("hash-max-listpack-value"))
        engine.config.setMaxIntsetEntries = Int(config.int("set-max-intset-entries"))
        engine.config.setMaxListpackEntries = Int(config.int("set-max-listpack-entries"))
        engine.config.setMaxListpackValue = Int(config.int("set-max-listpack-value"))
        engine.config.zsetMaxListpackEntries = Int(config.int("zset-max-listpack-entries"))
        engine.config.zsetMaxListpackValue = Int(config.int("zset-max-listpack-value"))
        engine.config.listMaxListpackSize = Int(config.int("list-max-listpack-size"))
        RedisLogSink.shared.minimum = RedisLogSink.level(fromRedis: config["loglevel"])
        for h in handlers.values { h.parser.limits.maxBulkBytes = engine.config.protoMaxBulkLen }
    }

    private func wireConfigHooks() {
        for name in ["proto-max-bulk-len", "hz", "slowlog-log-slower-than", "slowlog-max-len",
                     "latency-monitor-threshold", "lazyfree-lazy-user-del", "lazyfree-lazy-user-flush",
                     "lazyfree-lazy-expire", "repl-backlog-size", "loglevel",
                     "hash-max-listpack-entries", "hash-max-listpack-value", "set-max-intset-entries",
                     "set-max-listpack-entries", "set-max-listpack-value", "zset-max-listpack-entries", "zset-max-listpack-value", "list-max-listpack-size"] {
            config.onApply(name) { [unowned self] _ in self.applyConfigToEngine(); return nil }
        }
        config.onApply("hz") { [unowned self] _ in
            self.applyConfigToEngine()
            self.scheduleCron()
            return nil
        }
        config.onApply("dir") { v in
            chdir(v) == 0 ? nil : "No such file or directory"
        }
        config.onApply("bind") { [unowned self] v in self.rebind(addresses: v, port: Int(self.config.int("port"))) }
        config.onApply("port") { [unowned self] v in
            self.rebind(addresses: self.config["bind"], port: Int(v) ?? 0) == nil ? nil : "Unable to listen on this port"
        }
    }

    private func wireEngineHooks() {
        let queue = lazyFreeQueue
        engine.lazyFree = { [unowned self] objects in
            self.engine.stats.lazyfreedObjects += objects.count
            queue.async { _ = objects.count }
        }
        engine.onClientUnblocked = { [unowned self] client in
            guard let h = self.handlers[client.id] else { return }
            h.resumeDeferred()
        }
        engine.debugAllowed = { [unowned self] client in
            switch self.config["enable-debug-command"] {
            case "yes": return true
            case "local": return client.isUnixSocket || client.address.hasPrefix("127.") || client.address.hasPrefix("[::1]")
            default: return false
            }
        }
    }

    // MARK: start / stop

    /// Binds the listeners, then loads dbfilename on the calling thread while the engine loop
    /// answers clients with -LOADING (RDBPersistence's header), then starts the cron. Returns
    /// when the server is ready, or early when a SHUTDOWN or SIGTERM stopped the load (the
    /// server is exiting then: `waitForShutdown` returns at once). A damaged file throws.
    public func start() throws {
        let dir = config["dir"]
        if !dir.isEmpty && chdir(dir) != 0 {
            throw SysError(call: "chdir", errno: errno, path: dir)
        }
        // Before any listener exists: the file is opened, the loading state (and its
        // command gate) set, so no client ever sees the empty dataset as ready.
        let load = try persistence.prepareStartupLoad()
        MemoryAccounting.startupAllocated = MemoryAccounting.allocatedBytes()
        if let err = rebind(addresses: config["bind"], port: Int(config.int("port"))) {
            throw ServerStartError(message: err)
        }
        let unixPath = config["unixsocket"]
        if !unixPath.isEmpty { try bindUnix(unixPath) }
        logger.notice("Server initialized, listening on port \(tcpPort)")
        if let load, try !persistence.runStartupLoad(load) { return }
        try loop.submit { self.scheduleCron() }.wait()
        logger.notice("Ready to accept connections tcp")
    }

    /// (Re)binds the TCP listeners; returns an error text on failure, leaving the old
    /// listeners in place. `port 0` means no TCP listener, as in Redis.
    ///
    /// Sockets are created, bound and put in listen state here with plain syscalls, so a bind
    /// error is known before returning — also when CONFIG SET calls this on the engine loop,
    /// where waiting on a NIO future is forbidden — and then handed to NIO to accept on.
    @discardableResult
    func rebind(addresses: String, port: Int) -> String? {
        var fds: [Int32] = []
        if port != 0 {
            for word in addresses.split(separator: " ") {
                var address = String(word)
                let optional = address.hasPrefix("-")
                if optional { address.removeFirst() }
                do {
                    fds.append(try listeningSocket(host: address, port: port))
                } catch {
                    if optional { continue }
                    for fd in fds { close(fd) }
                    logger.warning("Warning: Could not create server TCP listening socket \(address):\(port): \(error)")
                    return "Failed to bind to specified addresses."
                }
            }
        }
        for ch in listeners where ch.localAddress?.protocol != .unix { ch.close(promise: nil) }
        listeners.removeAll { $0.localAddress?.protocol != .unix }
        tcpPort = port
        for fd in fds {
            let registered = makeBootstrap().withBoundSocket(fd)
            if loop.inEventLoop {
                registered.whenSuccess { [unowned self] ch in self.listeners.append(ch) }
            } else if let ch = try? registered.wait() {
                listeners.append(ch)
            }
        }
        return nil
    }

    /// socket + SO_REUSEADDR (+ IPV6_V6ONLY) + bind + listen, with errno on failure.
    private func listeningSocket(host: String, port: Int) throws -> Int32 {
        let address = try SocketAddress(ipAddress: host, port: port)
        let fd = socket(Int32(address.protocol.rawValue), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SysError(call: "socket", errno: errno, path: host) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if case .v6 = address { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size)) }
        let bound = address.withSockAddr { Glibc.bind(fd, $0, socklen_t($1)) }
        guard bound == 0, listen(fd, Int32(clamping: config.int("tcp-backlog"))) == 0 else {
            let e = errno
            close(fd)
            throw SysError(call: "bind", errno: e, path: "\(host):\(port)")
        }
        return fd
    }

    private func bindUnix(_ path: String) throws {
        try? Sys.shared.unlink(path)
        let old = umask(0o077)   // never expose the socket before its permissions are set
        defer { umask(old) }
        let ch = try makeBootstrap(tcp: false).bind(unixDomainSocketPath: path).wait()
        let perm = config.int("unixsocketperm")
        if perm != 0 { chmod(path, mode_t(perm)) }
        listeners.append(ch)
    }

    private func makeBootstrap(tcp: Bool = true) -> ServerBootstrap {
        guard tcp else { return clientBootstrap(ServerBootstrap(group: group)) }
        // tcp-keepalive N: SO_KEEPALIVE with the first probe after N idle seconds, as Redis's
        // anetKeepAlive does (interval N/3, 3 probes).
        let keepalive = Int(clamping: config.int("tcp-keepalive"))
        return ServerBootstrap(group: group)
            .childChannelOption(ChannelOptions.socketOption(.so_keepalive), value: keepalive > 0 ? 1 : 0)
            .childChannelOption(ChannelOptions.socket(SocketOptionLevel(IPPROTO_TCP), SocketOptionName(TCP_KEEPIDLE)), value: max(keepalive, 1))
            .childChannelOption(ChannelOptions.socket(SocketOptionLevel(IPPROTO_TCP), SocketOptionName(TCP_KEEPINTVL)), value: max(keepalive / 3, 1))
            .childChannelOption(ChannelOptions.socket(SocketOptionLevel(IPPROTO_TCP), SocketOptionName(TCP_KEEPCNT)), value: 3)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .pipe(clientBootstrap)
    }

    /// Options shared by TCP and unix-socket listeners.
    private func clientBootstrap(_ b: ServerBootstrap) -> ServerBootstrap {
        b
            .serverChannelOption(ChannelOptions.backlog, value: Int32(config.int("tcp-backlog")))
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelOption(ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16 * 1024, maximum: 1024 * 1024))
            .childChannelInitializer { [unowned self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ClientHandler(server: self))
                }
            }
    }

    /// Blocks the calling thread until SHUTDOWN.
    public func waitForShutdown() throws {
        try shutdownPromise.futureResult.wait()
        try? group.syncShutdownGracefully()
    }

    /// Stops accepting, closes every client and completes `waitForShutdown`. Returns false
    /// when `beforeShutdown` refused (the final save failed and not FORCE): the server runs on.
    @discardableResult
    func shutdown(reason: String, save: Bool? = nil, force: Bool = false) -> Bool {
        logger.notice("\(reason)")
        if let hook = beforeShutdown, let refusal = hook(save, force) {
            logger.warning("\(refusal)")
            return false
        }
        cronTask?.cancel()
        for ch in listeners { ch.close(promise: nil) }
        for h in handlers.values { h.closeNow() }
        let unixPath = config["unixsocket"]
        if !unixPath.isEmpty { try? Sys.shared.unlink(unixPath) }
        logger.notice("Redis is now ready to exit, bye bye...")
        shutdownPromise.succeed(())
        return true
    }

    // MARK: clients

    func clientConnected(_ h: ClientHandler) -> Bool {
        stats.totalConnectionsReceived += 1
        if handlers.count >= Int(config.int("maxclients")) {
            stats.rejectedConnections += 1
            return false
        }
        handlers[h.session.id] = h
        return true
    }

    func clientDisconnected(_ h: ClientHandler) {
        handlers[h.session.id] = nil
        monitors.removeAll { $0 === h }
        updateMonitorHook()
        engine.disconnect(h.session)
    }

    /// Queues a client for the end-of-tick flush.
    func markPending(_ h: ClientHandler) {
        if !h.pendingFlush {
            h.pendingFlush = true
            pendingFlush.append(h)
        }
        if !tickScheduled {
            tickScheduled = true
            loop.execute(endOfTickTask)
        }
    }

    private func endOfTick() {
        tickScheduled = false
        for step in tickSteps { step() }
        // The two lists trade places, so neither is copied: a client marked pending while
        // this batch flushes (a write error closing a client can unblock others) lands in
        // `pendingFlush` and the tick that markPending schedules.
        swap(&pendingFlush, &flushing)
        for h in flushing {
            h.pendingFlush = false
            h.flush()
        }
        flushing.removeAll(keepingCapacity: true)
    }

    // MARK: CLIENT PAUSE

    /// Whether a command from this client must wait (CLIENT PAUSE). Replicas and the
    /// commands Redis lets through are never held.
    func mustDefer(_ argv: [Bytes]) -> Bool {
        guard pauseEndMs > 0 else { return false }
        if !pauseWritesOnly { return true }
        guard let spec = engine.commands.lookup(argv[0]) else { return false }
        if spec.name == "exec" || spec.name == "multi" { return false }
        return spec.flags.contains(.write) || spec.flags.contains(.mayReplicate)
    }

    func pause(untilMs: Int64, writesOnly: Bool) {
        // A second pause never shortens or weakens an existing one.
        if pauseEndMs > 0 {
            pauseWritesOnly = pauseWritesOnly && writesOnly
            pauseEndMs = max(pauseEndMs, untilMs)
        } else {
            pauseWritesOnly = writesOnly
            pauseEndMs = untilMs
        }
        engine.writesPaused = true
    }

    func unpause() {
        pauseEndMs = 0
        engine.writesPaused = false
        for h in handlers.values where !h.deferred.isEmpty { h.resumeDeferred() }
    }

    // MARK: MONITOR

    /// Installs or removes the engine's monitor hook as MONITOR clients come and go.
    func updateMonitorHook() {
        engine.monitorFeed = monitors.isEmpty ? nil : { [unowned self] client, argv in self.feedMonitors(client, argv) }
    }

    private func feedMonitors(_ client: ClientSession, _ argv: [Bytes]) {
        guard !monitors.isEmpty else { return }
        let us = Engine.wallClockMicros()
        var line = "+\(us / 1_000_000).\(String(us % 1_000_000).leftPadded(6)) [\(client.db) "
        line += client.isUnixSocket ? "unix:\(config["unixsocket"])" : client.address
        line += "]"
        for a in argv { line += " " + quoteForMonitor(a) }
        line += "\r\n"
        for m in monitors where m.session !== client {
            m.session.reply.buffer.append(contentsOf: line.utf8)
            markPending(m)
        }
    }

    // MARK: cron

    func scheduleCron() {
        cronTask?.cancel()
        let hz = max(1, min(500, Int(config.int("hz"))))
        cronTask = loop.scheduleRepeatedTask(initialDelay: .milliseconds(Int64(1000 / hz)),
                                             delay: .milliseconds(Int64(1000 / hz))) { [unowned self] _ in
            self.cron()
        }
    }

    private func cron() {
        let now = Engine.wallClockMs()
        engine.cron()
        for step in cronSteps { step() }
        cronLoops += 1
        opsMetric.record(value: engine.stats.totalCommands, nowMs: now)
        inputMetric.record(value: stats.netInputBytes, nowMs: now)
        outputMetric.record(value: stats.netOutputBytes, nowMs: now)
        if pauseEndMs > 0 && now >= pauseEndMs { unpause() }
        let timeoutSeconds = config.int("timeout")
        if timeoutSeconds > 0 {
            // Like Redis's clientsCronHandleTimeout: blocked and MONITOR clients are exempt.
            for h in handlers.values where !h.session.isMonitor && !h.session.isBlocked {
                if now - h.session.lastInteractionMs > timeoutSeconds * 1000 {
                    logger.info("Closing idle client")
                    h.closeNow()
                }
            }
        }
        if cronLoops % (max(1, Int(config.int("hz"))) * 5) == 0 {
            stats.clientRecentMaxInputBuffer = 0
            stats.clientRecentMaxOutputBuffer = 0
        }
    }
}

extension ServerBootstrap {
    func pipe(_ f: (ServerBootstrap) -> ServerBootstrap) -> ServerBootstrap { f(self) }
}

public struct ServerStartError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// Quotes an argument the way MONITOR and redis-cli show it (sdscatrepr).
func quoteForMonitor(_ b: Bytes) -> String {
    var s = "\""
    b.withUnsafeBytes { raw in
        for c in raw {
            switch c {
            case UInt8(ascii: "\\"): s += "\\\\"
            case UInt8(ascii: "\""): s += "\\\""
            case 10: s += "\\n"
            case 13: s += "\\r"
            case 9: s += "\\t"
            case 7: s += "\\a"
            case 8: s += "\\b"
            case 32...126: s.append(Character(UnicodeScalar(c)))
            default:
                let hex = String(c, radix: 16)
                s += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
    }
    return s + "\""
}

/// Whether the CPU's time-stamp counter ticks at one rate whatever the power state, so it can
/// time commands (Linux reports this as the constant_tsc and nonstop_tsc cpu flags).
func cpuHasConstantRateCycleCounter(cpuinfo: String? = nil) -> Bool {
    #if arch(x86_64)
    let text = cpuinfo ?? readProcFile("/proc/cpuinfo")
    guard let flags = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
    let words = Set(flags.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" }))
    return words.contains("constant_tsc") && words.contains("nonstop_tsc")
    #else
    return false
    #endif
}

/// A /proc file's text, "" when it cannot be read. Not through `Sys.shared.readFile`: the
/// fault tests number each kind of call, and a read at server start-up would shift them.
private func readProcFile(_ path: String) -> String {
    guard let f = fopen(path, "r") else { return "" }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16 * 1024)
    while true {
        let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}
