// INFO: Redis's sections and field names. A field Cairn cannot know yet is left out rather
// than invented; sections are added by the issues that give them content.

import CairnEngine
#if canImport(Glibc)
import Glibc
#endif

public enum ServerInfo {
    /// The Redis version Cairn reports to clients (the behaviour it matches).
    public static let redisVersion = "7.0.15"
    public static let cairnVersion = "0.1.0"
}

extension Server {
    static let defaultSections = ["server", "clients", "memory", "persistence", "stats", "replication",
                                  "cpu", "modules", "errorstats", "cluster", "keyspace"]
    static let allSections = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                              "modules", "commandstats", "errorstats", "cluster", "keyspace"]

    func registerInfoCommand() {
        engine.commands.register(CommandSpec("info", arity: -1, flags: [.loading, .stale], group: "server",
                                             summary: "Returns information and statistics about the server.", since: "1.0.0") { [unowned self] c in
            var wanted: [String] = []
            let args = c.argv.dropFirst().map { asciiLowercased($0).debugText }
            if args.isEmpty || args.contains("default") { wanted += Server.defaultSections }
            if args.contains("all") || args.contains("everything") { wanted += Server.allSections }
            for a in args where Server.allSections.contains(a) { wanted.append(a) }
            var seen = Set<String>()
            wanted = wanted.filter { seen.insert($0).inserted }
            wanted.sort { Server.allSections.firstIndex(of: $0)! < Server.allSections.firstIndex(of: $1)! }
            c.reply.verbatim(self.infoText(sections: wanted))
        })
    }

    public func infoText(sections: [String]) -> String {
        var parts: [String] = []
        for s in sections {
            let lines = infoSection(s)
            parts.append(lines.joined(separator: "\r\n"))
        }
        return parts.joined(separator: "\r\n\r\n") + "\r\n"
    }

    func infoSection(_ name: String) -> [String] {
        let now = Engine.wallClockMs()
        switch name {
        case "server":
            var uts = utsname()
            uname(&uts)
            let sys = withUnsafeBytes(of: &uts.sysname) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            let rel = withUnsafeBytes(of: &uts.release) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            let machine = withUnsafeBytes(of: &uts.machine) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            let uptime = (now - startTimeMs) / 1000
            return ["# Server",
                    "redis_version:\(ServerInfo.redisVersion)",
                    "redis_git_sha1:00000000",
                    "redis_git_dirty:0",
                    "redis_build_id:0",
                    "redis_mode:standalone",
                    "os:\(sys) \(rel) \(machine)",
                    "arch_bits:\(MemoryLayout<Int>.size * 8)",
                    engine.cycleCounterTicksPerMicrosecond > 0
                        ? "monotonic_clock:X86 TSC @ \(engine.cycleCounterTicksPerMicrosecond) ticks/us"
                        : "monotonic_clock:POSIX clock_gettime",
                    "multiplexing_api:epoll",
                    "process_id:\(getpid())",
                    "process_supervised:no",
                    "run_id:\(runID)",
                    "tcp_port:\(tcpPort)",
                    "server_time_usec:\(Engine.wallClockMicros())",
                    "uptime_in_seconds:\(uptime)",
                    "uptime_in_days:\(uptime / 86400)",
                    "hz:\(engine.config.hz)",
                    "configured_hz:\(config.int("hz"))",
                    "lru_clock:\(engine.lruClock & 0xFFFFFF)",
                    "executable:\(executablePath)",
                    "config_file:\(config.configFile)",
                    "io_threads_active:0",
                    "cairn_version:\(ServerInfo.cairnVersion)"]
        case "clients":
            return ["# Clients",
                    "connected_clients:\(handlers.count)",
                    "cluster_connections:0",
                    "maxclients:\(config.int("maxclients"))",
                    "client_recent_max_input_buffer:\(stats.clientRecentMaxInputBuffer)",
                    "client_recent_max_output_buffer:\(stats.clientRecentMaxOutputBuffer)",
                    "blocked_clients:\(engine.blocking.blockedClients)",
                    "tracking_clients:0",
                    "clients_in_timeout_table:0"]
        case "memory":
            let used = MemoryAccounting.allocatedBytes()
            let rss = residentSetBytes()
            let peak = max(MemoryAccounting.peakAllocated, used)
            let startup = MemoryAccounting.startupAllocated
            var overhead = startup + (engine.log.backlogActive ? engine.log.backlog.capacity : 0)
            for db in engine.databases { overhead += db.keys.bucketCount * 8 + db.volatile.bucketCount * 8 }
            for h in handlers.values { overhead += h.session.reply.buffer.capacity + h.parser.bufferedBytes }
            let dataset = max(0, used - overhead)
            let total = totalSystemMemory()
            return ["# Memory",
                    "used_memory:\(used)",
                    "used_memory_human:\(humanBytes(used))",
                    "used_memory_rss:\(rss)",
                    "used_memory_rss_human:\(humanBytes(rss))",
                    "used_memory_peak:\(peak)",
                    "used_memory_peak_human:\(humanBytes(peak))",
                    "used_memory_peak_perc:\(percent(used, peak))",
                    "used_memory_overhead:\(overhead)",
                    "used_memory_startup:\(startup)",
                    "used_memory_dataset:\(dataset)",
                    "used_memory_dataset_perc:\(percent(dataset, max(1, used - startup)))",
                    "total_system_memory:\(total)",
                    "total_system_memory_human:\(humanBytes(total))",
                    "maxmemory:0",
                    "maxmemory_human:0B",
                    "maxmemory_policy:noeviction",
                    "mem_fragmentation_ratio:\(used > 0 ? twoDecimals(Double(rss) / Double(used)) : "0.00")",
                    "mem_allocator:libc",
                    "lazyfree_pending_objects:0",
                    "lazyfreed_objects:\(engine.stats.lazyfreedObjects)"]
        case "persistence":
            return ["# Persistence",
                    "loading:\(persistence.isLoading ? 1 : 0)",
                    "async_loading:0"]
                + persistence.infoLines()
                + ["aof_enabled:0",
                    "aof_rewrite_in_progress:0"]
                + persistence.loadingInfoLines()
        case "stats":
            return ["# Stats",
                    "total_connections_received:\(stats.totalConnectionsReceived)",
                    "total_commands_processed:\(engine.stats.totalCommands)",
                    "instantaneous_ops_per_sec:\(Int(opsMetric.average))",
                    "total_net_input_bytes:\(stats.netInputBytes)",
                    "total_net_output_bytes:\(stats.netOutputBytes)",
                    "instantaneous_input_kbps:\(twoDecimals(inputMetric.average / 1024))",
                    "instantaneous_output_kbps:\(twoDecimals(outputMetric.average / 1024))",
                    "rejected_connections:\(stats.rejectedConnections)",
                    "expired_keys:\(engine.stats.expiredKeys)",
                    "expired_stale_perc:\(twoDecimals(engine.stats.expiredStalePercent * 100))",
                    "expire_cycle_cpu_milliseconds:\(engine.stats.expireCycleCPUMicros / 1000)",
                    "evicted_keys:0",
                    "keyspace_hits:\(engine.stats.keyspaceHits)",
                    "keyspace_misses:\(engine.stats.keyspaceMisses)",
                    "pubsub_channels:0",
                    "pubsub_patterns:0",
                    "total_error_replies:\(engine.stats.totalErrorReplies)",
                    "total_reads_processed:\(stats.readsProcessed)",
                    "total_writes_processed:\(stats.writesProcessed)"]
        case "replication":
            let log = engine.log
            return ["# Replication",
                    "role:master",
                    "connected_slaves:0",
                    "master_failover_state:no-failover",
                    "master_replid:\(log.replicationID)",
                    "master_replid2:0000000000000000000000000000000000000000",
                    "master_repl_offset:\(log.offset)",
                    "second_repl_offset:-1",
                    "repl_backlog_active:\(log.backlogActive ? 1 : 0)",
                    "repl_backlog_size:\(log.backlog.capacity)",
                    "repl_backlog_first_byte_offset:\(log.backlog.count > 0 ? log.backlog.firstOffset + 1 : 0)",
                    "repl_backlog_histlen:\(log.backlog.count)"]
        case "cpu":
            var self_ = rusage()
            getrusage(RUSAGE_SELF.rawValue, &self_)
            var children = rusage()
            getrusage(RUSAGE_CHILDREN.rawValue, &children)
            var thread = rusage()
            getrusage(1 /* RUSAGE_THREAD */, &thread)
            func secs(_ t: timeval) -> String { sixDecimals(Double(t.tv_sec) + Double(t.tv_usec) / 1e6) }
            return ["# CPU",
                    "used_cpu_sys:\(secs(self_.ru_stime))",
                    "used_cpu_user:\(secs(self_.ru_utime))",
                    "used_cpu_sys_children:\(secs(children.ru_stime))",
                    "used_cpu_user_children:\(secs(children.ru_utime))",
                    "used_cpu_sys_main_thread:\(secs(thread.ru_stime))",
                    "used_cpu_user_main_thread:\(secs(thread.ru_utime))"]
        case "modules":
            return ["# Modules"]
        case "commandstats":
            var lines = ["# Commandstats"]
            var specs: [CommandSpec] = []
            for s in engine.commands.all { specs.append(s); specs += s.subcommands.values }
            for s in specs.sorted(by: { $0.fullName < $1.fullName }) where s.stats.calls > 0 || s.stats.rejectedCalls > 0 || s.stats.failedCalls > 0 {
                let perCall = s.stats.calls > 0 ? Double(s.stats.microseconds) / Double(s.stats.calls) : 0
                lines.append("cmdstat_\(s.fullName):calls=\(s.stats.calls),usec=\(s.stats.microseconds),usec_per_call=\(twoDecimals(perCall)),rejected_calls=\(s.stats.rejectedCalls),failed_calls=\(s.stats.failedCalls)")
            }
            return lines
        case "errorstats":
            var lines = ["# Errorstats"]
            for (code, n) in engine.stats.errorCounts.sorted(by: { $0.key < $1.key }) {
                lines.append("errorstat_\(code):count=\(n)")
            }
            return lines
        case "cluster":
            return ["# Cluster", "cluster_enabled:0"]
        case "keyspace":
            var lines = ["# Keyspace"]
            for db in engine.databases where db.count > 0 {
                lines.append("db\(db.id):keys=\(db.count),expires=\(db.expiresCount),avg_ttl=\(db.avgTTL)")
            }
            return lines
        default:
            return []
        }
    }
}

func humanBytes(_ n: Int) -> String {
    let d = Double(n)
    if d < 1024 { return "\(n)B" }
    if d < 1024 * 1024 { return twoDecimals(d / 1024) + "K" }
    if d < 1024 * 1024 * 1024 { return twoDecimals(d / 1024 / 1024) + "M" }
    if d < 1024 * 1024 * 1024 * 1024 { return twoDecimals(d / 1024 / 1024 / 1024) + "G" }
    return twoDecimals(d / 1024 / 1024 / 1024 / 1024) + "T"
}

func percent(_ a: Int, _ b: Int) -> String {
    b > 0 ? twoDecimals(Double(a) * 100 / Double(b)) + "%" : "0.00%"
}

func twoDecimals(_ v: Double) -> String { fixed(v, 2) }
func sixDecimals(_ v: Double) -> String { fixed(v, 6) }

/// printf("%.Nf") without Foundation.
func fixed(_ v: Double, _ digits: Int) -> String {
    var buf = [CChar](repeating: 0, count: 64)
    _ = withVaList([v]) { vsnprintf(&buf, 64, "%.\(digits)f", $0) }
    return String(cString: buf)
}

/// RSS from /proc/self/statm (pages × page size).
func residentSetBytes() -> Int {
    guard let bytes = try? Sys.shared.readFile("/proc/self/statm") else { return 0 }
    let fields = String(decoding: bytes, as: UTF8.self).split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func totalSystemMemory() -> Int {
    Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
}
