// COMMAND, SLOWLOG, LATENCY, MEMORY and the engine's DEBUG subcommands.

#if canImport(Glibc)
import Glibc
#endif

extension Engine {
    func registerIntrospectionCommands() {
        registerCommandCommand()
        registerSlowlogAndLatency()
        registerMemoryCommand()
        registerDebugCommand()
    }

    // MARK: COMMAND

    private func registerCommandCommand() {
        let command = CommandSpec("command", arity: -1, flags: [.loading, .stale], group: "server",
                                  summary: "Returns detailed information about all commands.", since: "2.8.13",
                                  complexity: "O(N) where N is the total number of Redis commands") { c in
            let all = c.engine.commands.all.sorted { $0.name < $1.name }
            c.reply.arrayHeader(all.count)
            for spec in all { c.commandInfo(spec) }
        }
        func sub(_ name: String, _ arity: Int, _ summary: String, _ h: @escaping CommandHandler) {
            command.addSubcommand(CommandSpec(name, arity: arity, flags: [.loading, .stale], group: "server",
                                              summary: summary, since: "7.0.0", handler: h))
        }
        sub("count", 2, "Returns a count of commands.") { c in c.reply.integer(c.engine.commands.all.count) }
        sub("info", -2, "Returns information about one, multiple or all commands.") { c in
            if c.argv.count == 2 {
                let all = c.engine.commands.all.sorted { $0.name < $1.name }
                c.reply.arrayHeader(all.count)
                for spec in all { c.commandInfo(spec) }
                return
            }
            c.reply.arrayHeader(c.argv.count - 2)
            for name in c.argv.dropFirst(2) {
                if let spec = c.engine.lookupFullName(name) { c.commandInfo(spec) } else { c.reply.nullArray() }
            }
        }
        sub("docs", -2, "Returns documentary information about one, multiple or all commands.") { c in
            var specs: [CommandSpec] = []
            if c.argv.count == 2 {
                specs = c.engine.commands.all.sorted { $0.name < $1.name }
            } else {
                for name in c.argv.dropFirst(2) { if let s = c.engine.lookupFullName(name) { specs.append(s) } }
            }
            c.reply.mapHeader(specs.count)
            for spec in specs {
                c.reply.bulk(spec.fullName)
                c.commandDocs(spec)
            }
        }
        sub("list", -2, "Returns a list of command names.") { c in
            var names: [String] = []
            var filter: ((CommandSpec) -> Bool)? = nil
            if c.argv.count == 5, c.argv[2].isKeyword("filterby") {
                let value = c.argv[4]
                if c.argv[3].isKeyword("pattern") {
                    filter = { spec in value.withUnsafeBytes { p in Bytes(spec.fullName).withUnsafeBytes { globMatch(pattern: p, string: $0, caseInsensitive: true) } } }
                } else if c.argv[3].isKeyword("aclcat") {
                    let cat = "@" + asciiLowercased(value).debugText
                    filter = { $0.aclCategories.contains(cat) }
                } else if c.argv[3].isKeyword("module") {
                    filter = { _ in false }
                } else { c.syntaxError(); return }
            } else if c.argv.count != 2 { c.syntaxError(); return }
            for spec in c.engine.commands.all {
                if filter?(spec) ?? true { names.append(spec.name) }
                for s in spec.subcommands.values where filter?(s) ?? true { names.append(s.fullName) }
            }
            c.reply.arrayHeader(names.count)
            for n in names.sorted() { c.reply.bulk(n) }
        }
        sub("getkeys", -4, "Extracts the key names from an arbitrary command.") { c in
            c.getKeys(withFlags: false)
        }
        sub("getkeysandflags", -4, "Extracts the key names and access flags for an arbitrary command.") { c in
            c.getKeys(withFlags: true)
        }
        sub("help", 2, "Returns helpful text about the different subcommands.") { c in
            c.help("COMMAND", [
                "(no subcommand)", "    Return details about all Redis commands.",
                "COUNT", "    Return the total number of commands in this Redis server.",
                "LIST", "    Return a list of all commands in this Redis server.",
                "INFO [<command-name> ...]", "    Return details about multiple Redis commands.",
                "    If no command names are given, documentation details for all",
                "    commands are returned.",
                "DOCS [<command-name> ...]", "    Return documentation details about multiple Redis commands.",
                "    If no command names are given, documentation details for all",
                "    commands are returned.",
                "GETKEYS <full-command>", "    Return the keys from a full Redis command.",
                "GETKEYSANDFLAGS <full-command>", "    Return the keys and the access flags from a full Redis command.",
            ])
        }
        commands.register(command)
    }

    /// Finds "get" or "config|get".
    func lookupFullName(_ name: Bytes) -> CommandSpec? {
        let lower = asciiLowercased(name).debugText
        if let bar = lower.firstIndex(of: "|") {
            let parent = commands.lookup(Bytes(String(lower[..<bar])))
            return parent?.subcommands[String(lower[lower.index(after: bar)...])]
        }
        return commands.lookup(Bytes(lower))
    }

    // MARK: SLOWLOG / LATENCY

    private func registerSlowlogAndLatency() {
        let slowlog = CommandSpec("slowlog", arity: -2, flags: [], group: "server", summary: "A container for slow log commands.", since: "2.2.12", complexity: "Depends on subcommand.") { _ in }
        slowlog.addSubcommand(CommandSpec("get", arity: -2, flags: [.admin, .loading, .stale], group: "server", summary: "Returns the slow log's entries.", since: "2.2.12") { c in
            var count = 10
            if c.argv.count == 3 {
                guard let n = c.argv[2].withUnsafeBytes({ parseInt64($0) }), n >= -1 else {
                    c.error("ERR count should be greater than or equal to -1"); return
                }
                count = n == -1 ? Int.max : Int(n)
            } else if c.argv.count > 3 { c.syntaxError(); return }
            let entries = c.engine.slowlog.entries.prefix(count)
            c.reply.arrayHeader(entries.count)
            for e in entries {
                c.reply.arrayHeader(6)
                c.reply.integer(e.id)
                c.reply.integer(e.timestamp)
                c.reply.integer(e.micros)
                c.reply.bulkArray(e.argv)
                c.reply.bulk(e.clientAddress)
                c.reply.bulk(e.clientName)
            }
        })
        slowlog.addSubcommand(CommandSpec("len", arity: 2, flags: [.admin, .loading, .stale], group: "server", summary: "Returns the number of entries in the slow log.", since: "2.2.12") { c in
            c.reply.integer(c.engine.slowlog.entries.count)
        })
        slowlog.addSubcommand(CommandSpec("reset", arity: 2, flags: [.admin, .loading, .stale], group: "server", summary: "Clears all entries from the slow log.", since: "2.2.12") { c in
            c.engine.slowlog.reset()
            c.reply.ok()
        })
        slowlog.addSubcommand(CommandSpec("help", arity: 2, flags: [.loading, .stale], group: "server", summary: "Show helpful text about the different subcommands", since: "6.2.0") { c in
            c.help("SLOWLOG", [
                "GET [<count>]",
                "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                "    Entries are made of:",
                "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                "    client name",
                "LEN", "    Return the length of the slowlog.",
                "RESET", "    Reset the slowlog.",
            ])
        })
        commands.register(slowlog)

        let latency = CommandSpec("latency", arity: -2, flags: [], group: "server", summary: "A container for latency diagnostics commands.", since: "2.8.13", complexity: "Depends on subcommand.") { _ in }
        latency.addSubcommand(CommandSpec("latest", arity: 2, flags: [.admin, .noscript, .loading, .stale], group: "server", summary: "Returns the latest latency samples for all events.", since: "2.8.13") { c in
            let events = c.engine.latency.events.sorted { $0.key < $1.key }
            c.reply.arrayHeader(events.count)
            for (name, s) in events {
                let last = s.samples.last!
                c.reply.arrayHeader(4)
                c.reply.bulk(name)
                c.reply.integer(last.time)
                c.reply.integer(last.ms)
                c.reply.integer(s.maxMs)
            }
        })
        latency.addSubcommand(CommandSpec("history", arity: 3, flags: [.admin, .noscript, .loading, .stale], group: "server", summary: "Returns timestamp-latency samples for an event.", since: "2.8.13") { c in
            let samples = c.engine.latency.events[c.argv[2].debugText]?.samples ?? []
            c.reply.arrayHeader(samples.count)
            for s in samples {
                c.reply.arrayHeader(2)
                c.reply.integer(s.time)
                c.reply.integer(s.ms)
            }
        })
        latency.addSubcommand(CommandSpec("reset", arity: -2, flags: [.admin, .noscript, .loading, .stale], group: "server", summary: "Resets the latency data for one or more events.", since: "2.8.13") { c in
            c.reply.integer(c.engine.latency.reset(c.argv.dropFirst(2).map { $0.debugText }))
        })
        latency.addSubcommand(CommandSpec("help", arity: 2, flags: [.loading, .stale], group: "server", summary: "Returns helpful text about the different subcommands.", since: "2.8.13") { c in
            c.help("LATENCY", [
                "HISTORY <event>", "    Return time-latency samples for the <event> class.",
                "LATEST", "    Return the latest latency samples for all events.",
                "RESET [<event> ...]", "    Reset latency data of one or more <event> classes.",
                "    (default: reset all data for all event classes)",
            ])
        })
        commands.register(latency)
    }

    // MARK: MEMORY

    private func registerMemoryCommand() {
        let memory = CommandSpec("memory", arity: -2, flags: [], group: "server", summary: "A container for memory diagnostics commands.", since: "4.0.0", complexity: "Depends on subcommand.") { _ in }
        memory.addSubcommand(CommandSpec("usage", arity: -3, flags: [.readonly], keys: (2, 2, 1), group: "server", summary: "Estimates the memory usage of a key.", since: "4.0.0", complexity: "O(N) where N is the number of samples.") { c in
            if c.argv.count == 5 {
                guard c.argv[3].isKeyword("samples") else { c.syntaxError(); return }
                guard c.argv[4].withUnsafeBytes({ parseInt64($0) }) != nil else { c.notInteger(); return }
            } else if c.argv.count != 3 { c.syntaxError(); return }
            guard let e = c.argv[2].withUnsafeBytes({ c.engine.lookup(c.db, $0) }) else { c.reply.null(); return }
            c.reply.integer(MemoryAccounting.entryBytes(e))
        })
        memory.addSubcommand(CommandSpec("stats", arity: 2, flags: [], group: "server", summary: "Returns details about memory usage.", since: "4.0.0") { c in
            c.memoryStats()
        })
        memory.addSubcommand(CommandSpec("help", arity: 2, flags: [.loading, .stale], group: "server", summary: "Returns helpful text about the different subcommands.", since: "4.0.0") { c in
            c.help("MEMORY", [
                "STATS", "    Return information about the memory usage of the server.",
                "USAGE <key> [SAMPLES <count>]",
                "    Return memory in bytes used by <key> and its value. Nested values are",
                "    sampled up to <count> times (default: 5, 0 means sample all).",
            ])
        })
        commands.register(memory)
    }

    // MARK: DEBUG

    private func registerDebugCommand() {
        let debug = CommandSpec("debug", arity: -2, flags: [.admin, .noscript, .loading, .stale], group: "server",
                                summary: "A container for debugging commands.", since: "1.0.0", complexity: "Depends on subcommand.") { c in
            c.debugCommand()
        }
        commands.register(debug)
    }
}

// MARK: - handlers

extension CommandCall {
    mutating func commandInfo(_ spec: CommandSpec) {
        reply.arrayHeader(10)
        reply.bulk(spec.fullName)
        reply.integer(spec.arity)
        let flags = spec.flags.names
        reply.setHeader(flags.count)
        for f in flags { reply.simple(f) }
        reply.integer(spec.firstKey)
        reply.integer(spec.lastKey)
        reply.integer(spec.keyStep)
        let cats = spec.aclCategories
        reply.setHeader(cats.count)
        for cat in cats { reply.simple(cat) }
        reply.arrayHeader(0)   // tips
        if spec.firstKey > 0 {
            reply.arrayHeader(1)
            reply.mapHeader(3)
            reply.bulk("flags")
            reply.setHeader(1)
            reply.simple(spec.flags.contains(.write) ? "RW" : "RO")
            reply.bulk("begin_search")
            reply.mapHeader(2)
            reply.bulk("type"); reply.bulk("index")
            reply.bulk("spec"); reply.mapHeader(1); reply.bulk("index"); reply.integer(spec.firstKey)
            reply.bulk("find_keys")
            reply.mapHeader(2)
            reply.bulk("type"); reply.bulk("range")
            reply.bulk("spec"); reply.mapHeader(3)
            reply.bulk("lastkey"); reply.integer(spec.lastKey < 0 ? spec.lastKey : spec.lastKey - spec.firstKey)
            reply.bulk("keystep"); reply.integer(spec.keyStep)
            reply.bulk("limit"); reply.integer(0)
        } else {
            reply.arrayHeader(0)
        }
        let subs = spec.subcommands.values.sorted { $0.name < $1.name }
        reply.arrayHeader(subs.count)
        for s in subs { commandInfo(s) }
    }

    mutating func commandDocs(_ spec: CommandSpec) {
        let subs = spec.subcommands.values.sorted { $0.name < $1.name }
        reply.mapHeader(subs.isEmpty ? 4 : 5)
        reply.bulk("summary"); reply.bulk(spec.summary)
        reply.bulk("since"); reply.bulk(spec.since)
        reply.bulk("group"); reply.bulk(spec.group)
        reply.bulk("complexity"); reply.bulk(spec.complexity)
        if !subs.isEmpty {
            reply.bulk("subcommands")
            reply.mapHeader(subs.count)
            for s in subs { reply.bulk(s.fullName); commandDocs(s) }
        }
    }

    mutating func getKeys(withFlags: Bool) {
        let inner = Array(argv.dropFirst(2))
        guard let spec0 = engine.commands.lookup(inner[0]) else { error("ERR Invalid command specified"); return }
        var spec = spec0
        if !spec0.subcommands.isEmpty, inner.count >= 2,
           let s = spec0.subcommands[asciiLowercased(inner[1]).debugText] { spec = s }
        guard spec.acceptsArity(inner.count) else { error("ERR Invalid number of arguments specified for command"); return }
        let positions = spec.keyPositions(argc: inner.count)
        guard !positions.isEmpty else { error("ERR The command has no key arguments"); return }
        reply.arrayHeader(positions.count)
        for p in positions {
            if withFlags {
                reply.arrayHeader(2)
                reply.bulk(inner[p])
                reply.setHeader(1)
                reply.simple(spec.flags.contains(.write) ? "RW" : "RO")
            } else {
                reply.bulk(inner[p])
            }
        }
    }

    mutating func memoryStats() {
        let used = MemoryAccounting.allocatedBytes()
        var fields: [(String, Int)] = [
            ("peak.allocated", max(used, MemoryAccounting.peakAllocated)),
            ("total.allocated", used),
            ("startup.allocated", MemoryAccounting.startupAllocated),
            ("replication.backlog", engine.log.backlogActive ? engine.log.backlog.capacity : 0),
        ]
        var overhead = (engine.log.backlogActive ? engine.log.backlog.capacity : 0) + MemoryAccounting.startupAllocated
        var keys = 0
        for db in engine.databases where db.count > 0 {
            let main = db.keys.bucketCount * 8
            let expires = db.volatile.bucketCount * 8 + db.expiresCount * 64
            fields.append(("db.\(db.id)", -1))
            fields.append(("overhead.hashtable.main", main))
            fields.append(("overhead.hashtable.expires", expires))
            overhead += main + expires
            keys += db.count
        }
        let dataset = max(0, used - overhead)
        fields.append(("overhead.total", overhead))
        fields.append(("keys.count", keys))
        fields.append(("keys.bytes-per-key", keys > 0 ? (used - MemoryAccounting.startupAllocated) / keys : 0))
        fields.append(("dataset.bytes", dataset))
        // db.N entries are nested maps in Redis; emit them in that shape.
        var flat: [(String, Any)] = []
        var i = 0
        while i < fields.count {
            let (name, value) = fields[i]
            if value == -1 {
                flat.append((name, [(fields[i + 1].0, fields[i + 1].1), (fields[i + 2].0, fields[i + 2].1)]))
                i += 3
            } else {
                flat.append((name, value))
                i += 1
            }
        }
        reply.mapHeader(flat.count + 1)
        for (name, value) in flat {
            reply.bulk(name)
            if let v = value as? Int { reply.integer(v) }
            else if let pairs = value as? [(String, Int)] {
                reply.mapHeader(pairs.count)
                for (k, v) in pairs { reply.bulk(k); reply.integer(v) }
            }
        }
        reply.bulk("dataset.percentage")
        let pct = used - MemoryAccounting.startupAllocated > 0
            ? Double(dataset) * 100 / Double(used - MemoryAccounting.startupAllocated) : 0
        reply.double(text: Array(String(pct).utf8))
    }

    mutating func debugCommand() {
        guard engine.debugAllowed(client) else {
            error("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.")
            return
        }
        let sub = asciiLowercased(argv[1]).debugText
        switch sub {
        case "help":
            help("DEBUG", [
                "DIGEST", "    Output a hex signature representing the current DB content.",
                "DIGEST-VALUE <key> [<key> ...]", "    Output a hex signature of the values of all the specified keys.",
                "OBJECT <key>", "    Show low level info about the key and associated value.",
                "RELOAD", "    Save the dataset to disk and load it back.",
                "SET-ACTIVE-EXPIRE <0|1>", "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed.",
            ])
        case "sleep":
            guard argv.count == 3, let seconds = argv[2].withUnsafeBytes({ parseDouble($0) }), seconds >= 0 else {
                error("ERR value is not a valid float"); return
            }
            usleep(UInt32(min(seconds, 3600) * 1_000_000))
            reply.ok()
        case "set-active-expire":
            guard argv.count == 3, let v = argv[2].withUnsafeBytes({ parseInt64($0) }) else { syntaxError(); return }
            engine.config.activeExpireEnabled = v != 0
            reply.ok()
        case "object":
            guard argv.count == 3 else { syntaxError(); return }
            guard let e = argv[2].withUnsafeBytes({ engine.lookup(db, $0) }) else { error("ERR no such key"); return }
            let ptr = UInt(bitPattern: Unmanaged.passUnretained(e).toOpaque())
            let idle = max(0, Int64(engine.lruClock) - Int64(e.accessClock))
            let serialized = e.value.stringBytes?.count ?? 0
            reply.simple("Value at:0x\(String(ptr, radix: 16)) refcount:1 encoding:\(e.encodingName) serializedlength:\(serialized) lru:\(e.accessClock & 0xFFFFFF) lru_seconds_idle:\(idle)")
        case "digest":
            guard argv.count == 2 else { syntaxError(); return }
            reply.simple(Digest.hex(Digest.dataset(engine)))
        case "digest-value":
            reply.arrayHeader(argv.count - 2)
            for key in argv.dropFirst(2) {
                if let e = key.withUnsafeBytes({ engine.lookup(db, $0) }) {
                    reply.simple(Digest.hex(Digest.value(e.value)))
                } else {
                    reply.simple(Digest.hex(Digest.zero))
                }
            }
        default:
            if let hook = engine.serverDebugHandler, hook(&self, sub) { return }
            error("ERR unknown subcommand '\(argv[1].debugText)'. Try DEBUG HELP.")
        }
    }
}
