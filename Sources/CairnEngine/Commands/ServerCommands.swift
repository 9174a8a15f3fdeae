// Connection, database, transaction and introspection commands that need only the engine.
// Commands that need the process (CONFIG, INFO, CLIENT, SHUTDOWN, MONITOR, HELLO) are
// registered by CairnServer.

extension Engine {
    func registerBuiltinCommands() {
        registerStringCommands()
        registerBitmapCommands()
        registerKeyspaceCommands()
        registerServerCommands()
        registerTransactionCommands()
        registerIntrospectionCommands()
        registerCollectionCommands()
        registerDumpRestoreCommands()
    }

    func registerServerCommands() {
        func reg(_ name: String, _ arity: Int, _ flags: CommandFlags, _ keys: (Int, Int, Int) = (0, 0, 0),
                 group: String, _ summary: String, since: String = "1.0.0", complexity: String = "O(1)",
                 _ h: @escaping CommandHandler) {
            commands.register(CommandSpec(name, arity: arity, flags: flags, keys: keys, group: group,
                                          summary: summary, since: since, complexity: complexity, handler: h))
        }

        reg("ping", -1, [.fast, .stale], group: "connection", "Returns the server's liveliness response.") { c in
            if c.argv.count > 2 { c.error("ERR wrong number of arguments for 'ping' command"); return }
            if c.argv.count == 2 { c.reply.bulk(c.argv[1]) } else { c.reply.appendRaw("+PONG\r\n") }
        }
        reg("echo", 2, [.fast, .stale, .loading], group: "connection", "Returns the given string.") { c in
            c.reply.bulk(c.argv[1])
        }
        reg("select", 2, [.loading, .stale, .fast], group: "connection", "Changes the selected database.") { c in
            guard let v = c.argv[1].withUnsafeBytes({ parseInt64($0) }) else {
                c.error("ERR value is not an integer or out of range"); return
            }
            guard v >= 0 && v < Int64(c.engine.databases.count) else { c.error("ERR DB index is out of range"); return }
            c.client.db = Int(v)
            c.reply.ok()
        }
        reg("swapdb", 3, [.write, .fast], group: "server", "Swaps two Redis databases.", since: "4.0.0", complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.") { c in
            guard let a = c.argv[1].withUnsafeBytes({ parseInt64($0) }) else { c.error("ERR invalid first DB index"); return }
            guard let b = c.argv[2].withUnsafeBytes({ parseInt64($0) }) else { c.error("ERR invalid second DB index"); return }
            let n = Int64(c.engine.databases.count)
            guard a >= 0 && a < n && b >= 0 && b < n else { c.error("ERR DB index is out of range"); return }
            // Redis counts (and so propagates) SWAPDB even when both indexes are the same.
            if a != b { c.engine.swapDatabases(Int(a), Int(b)) }
            c.engine.dirty += 1
            c.reply.ok()
        }
        reg("dbsize", 1, [.readonly, .fast], group: "server", "Returns the number of keys in the database.") { c in
            c.reply.integer(c.db.count)
        }
        reg("flushdb", -1, [.write], group: "server", "Remove all keys from the current database.", complexity: "O(N) where N is the number of keys in the selected database") { c in
            guard let async = c.flushMode() else { return }
            c.engine.flush(db: c.client.db, async: async)
            c.engine.dirty += 1
            c.reply.ok()
        }
        reg("flushall", -1, [.write], group: "server", "Removes all keys from all databases.", complexity: "O(N) where N is the total number of keys in all databases") { c in
            guard let async = c.flushMode() else { return }
            c.engine.flush(db: nil, async: async)
            c.engine.dirty += 1
            c.reply.ok()
        }
        reg("time", 1, [.loading, .stale, .fast], group: "server", "Returns the server time.", since: "2.6.0") { c in
            let us = Engine.wallClockMicros()
            c.reply.arrayHeader(2)
            c.reply.bulk(Bytes(String(us / 1_000_000)))
            c.reply.bulk(Bytes(String(us % 1_000_000)))
        }
    }

    func registerTransactionCommands() {
        // Inside MULTI, Redis runs MULTI, EXEC, DISCARD and WATCH at once and queues the rest,
        // UNWATCH included (processCommand's list).
        func reg(_ name: String, _ arity: Int, _ flags: CommandFlags, keys: (Int, Int, Int) = (0, 0, 0),
                 _ summary: String, complexity: String = "O(1)", _ h: @escaping CommandHandler) {
            let inMulti: CommandFlags = name == "unwatch" ? [] : .runsInMulti
            commands.register(CommandSpec(name, arity: arity, flags: flags.union(inMulti), keys: keys,
                                          group: "transactions", summary: summary, since: name == "multi" || name == "exec" || name == "discard" ? "1.2.0" : "2.2.0",
                                          complexity: complexity, handler: h))
        }
        reg("multi", 1, [.noscript, .loading, .stale, .fast, .allowBusy], "Starts a transaction.") { c in
            if c.client.inMulti { c.error("ERR MULTI calls can not be nested"); return }
            c.client.inMulti = true
            c.client.multiQueue = []
            c.client.multiFailed = false
            c.reply.ok()
        }
        reg("discard", 1, [.noscript, .loading, .stale, .fast, .allowBusy], "Discards a transaction.") { c in
            guard c.client.inMulti else { c.error("ERR DISCARD without MULTI"); return }
            c.engine.endMulti(c.client)
            c.reply.ok()
        }
        reg("exec", 1, [.noscript, .loading, .stale, .skipSlowlog], "Executes all commands in a transaction.", complexity: "Depends on commands in the transaction") { c in
            c.propagateNothing()
            guard c.client.inMulti else { c.error("ERR EXEC without MULTI"); return }
            let client = c.client
            if client.multiFailed {
                c.engine.endMulti(client)
                c.error("EXECABORT Transaction discarded because of previous errors.")
                return
            }
            if client.dirtyCAS || c.engine.watchedKeyExpired(client) {
                c.engine.endMulti(client)
                client.reply.nullArray()
                return
            }
            let queue = client.multiQueue
            client.inMulti = false
            client.multiQueue = []
            c.engine.unwatchAll(client)
            client.reply.arrayHeader(queue.count)
            for q in queue { c.engine.call(client, q.spec, q.argv) }
        }
        reg("watch", -2, [.noscript, .loading, .stale, .fast, .allowBusy], keys: (1, -1, 1), "Monitors changes to keys to determine the execution of a transaction.", complexity: "O(1) for every key.") { c in
            if c.client.inMulti { c.error("ERR WATCH inside MULTI is not allowed"); return }
            for key in c.argv.dropFirst() { c.engine.watch(c.client, db: c.client.db, key: key) }
            c.reply.ok()
        }
        reg("unwatch", 1, [.noscript, .loading, .stale, .fast, .allowBusy], "Forgets about watched keys of a transaction.") { c in
            c.engine.unwatchAll(c.client)
            c.reply.ok()
        }
    }

    /// Leaves MULTI state and drops the queue and watches (DISCARD, EXEC, RESET).
    public func endMulti(_ client: ClientSession) {
        client.inMulti = false
        client.multiQueue = []
        client.multiFailed = false
        unwatchAll(client)
    }
}

extension CommandCall {
    /// FLUSHDB/FLUSHALL [ASYNC|SYNC]; nil after a syntax error.
    mutating func flushMode() -> Bool? {
        if argv.count == 1 { return engine.config.lazyfreeLazyUserFlush }
        if argv.count == 2 {
            if argv[1].isKeyword("async") { return true }
            if argv[1].isKeyword("sync") { return false }
        }
        syntaxError()
        return nil
    }
}

#if canImport(Glibc)
import Glibc
#endif
