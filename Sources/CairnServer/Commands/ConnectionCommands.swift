// Commands that need the server around the engine: HELLO, AUTH, QUIT, RESET, CLIENT,
// CONFIG, SHUTDOWN, MONITOR (INFO is in InfoCommand.swift).

import CairnEngine
#if canImport(Glibc)
import Glibc
#endif

extension Server {
    func registerServerCommands() {
        registerConnectionCommands()
        registerClientCommand()
        registerConfigCommand()
        registerInfoCommand()
    }

    private func reg(_ spec: CommandSpec) { engine.commands.register(spec) }

    private func registerConnectionCommands() {
        reg(CommandSpec("hello", arity: -1, flags: [.noscript, .loading, .stale, .fast, .noAuth, .allowBusy], group: "connection",
                        summary: "Handshakes with the Redis server.", since: "6.0.0") { [unowned self] c in
            var version = c.client.protocolVersion
            var i = 1
            if c.argv.count >= 2 {
                guard let v = c.argv[1].withUnsafeBytes({ parseInt64($0) }) else {
                    c.error("ERR Protocol version is not an integer or out of range"); return
                }
                guard v == 2 || v == 3 else { c.error("NOPROTO unsupported protocol version"); return }
                version = Int(v)
                i = 2
            }
            var newName: Bytes? = nil
            while i < c.argv.count {
                let more = c.argv.count - i - 1
                if c.argv[i].isKeyword("auth") && more >= 2 {
                    guard c.argv[i + 1].isKeyword("default") else {
                        c.error("WRONGPASS invalid username-password pair or user is disabled."); return
                    }
                    i += 3
                } else if c.argv[i].isKeyword("setname") && more >= 1 {
                    guard validClientName(c.argv[i + 1]) else {
                        c.error("ERR Client names cannot contain spaces, newlines or special characters."); return
                    }
                    newName = c.argv[i + 1]
                    i += 2
                } else {
                    c.error("ERR Syntax error in HELLO option '\(c.argv[i].debugText)'"); return
                }
            }
            if let newName { c.client.name = newName.isEmpty ? nil : newName }
            c.client.protocolVersion = version
            c.reply.mapHeader(7)
            c.reply.bulk("server"); c.reply.bulk("redis")
            c.reply.bulk("version"); c.reply.bulk(ServerInfo.redisVersion)
            c.reply.bulk("proto"); c.reply.integer(version)
            c.reply.bulk("id"); c.reply.integer(Int(c.client.id))
            c.reply.bulk("mode"); c.reply.bulk("standalone")
            c.reply.bulk("role"); c.reply.bulk("master")
            c.reply.bulk("modules"); c.reply.arrayHeader(0)
            _ = self
        })

        reg(CommandSpec("auth", arity: -2, flags: [.noscript, .loading, .stale, .fast, .noAuth, .allowBusy], group: "connection",
                        summary: "Authenticates the connection.", since: "1.0.0") { c in
            if c.argv.count > 3 { c.syntaxError(); return }
            if c.argv.count == 2 {
                c.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
                return
            }
            if c.argv[1].isKeyword("default") { c.reply.ok() }
            else { c.error("WRONGPASS invalid username-password pair or user is disabled.") }
        })

        reg(CommandSpec("quit", arity: -1, flags: [.noscript, .loading, .stale, .fast, .noAuth, .allowBusy, .runsInMulti], group: "connection",
                        summary: "Closes the connection.", since: "1.0.0") { c in
            c.reply.ok()
            c.client.closeAfterReply = true
        })

        reg(CommandSpec("reset", arity: 1, flags: [.noscript, .loading, .stale, .fast, .noAuth, .allowBusy, .runsInMulti], group: "connection",
                        summary: "Resets the connection.", since: "6.2.0") { [unowned self] c in
            let client = c.client
            c.engine.endMulti(client)
            client.db = 0
            client.protocolVersion = 2
            client.name = nil
            client.replyMode = .on
            client.noEvict = false
            client.noTouch = false
            if client.isMonitor {
                client.isMonitor = false
                self.monitors.removeAll { $0.session === client }
                self.updateMonitorHook()
            }
            c.reply.simple("RESET")
        })

        reg(CommandSpec("monitor", arity: 1, flags: [.admin, .noscript, .loading, .stale], group: "server",
                        summary: "Listens for all requests received by the server in real-time.", since: "1.0.0") { [unowned self] c in
            guard !c.client.isMonitor else { c.reply.ok(); return }
            guard let h = self.handlers[c.client.id] else { c.reply.ok(); return }
            c.client.isMonitor = true
            self.monitors.append(h)
            self.updateMonitorHook()
            c.reply.ok()
        })

        reg(CommandSpec("shutdown", arity: -1, flags: [.admin, .noscript, .loading, .stale, .noMulti, .allowBusy], group: "server",
                        summary: "Synchronously saves the database(s) to disk and shuts down the Redis server.", since: "1.0.0") { [unowned self] c in
            var abort = false, nosave = false, save = false, force = false
            for a in c.argv.dropFirst() {
                if a.isKeyword("nosave") { nosave = true; continue }
                if a.isKeyword("save") { save = true; continue }
                if a.isKeyword("force") { force = true; continue }
                if a.isKeyword("now") { continue }
                if a.isKeyword("abort") { abort = true; continue }
                c.syntaxError(); return
            }
            if (abort && c.argv.count > 2) || (nosave && save) { c.syntaxError(); return }
            if abort { c.error("ERR No shutdown in progress."); return }
            c.propagateNothing()
            // The final save (RDBPersistence.prepareForShutdown) may refuse: the server runs on.
            if !self.shutdown(reason: "User requested shutdown...", save: save ? true : (nosave ? false : nil), force: force) {
                c.error("ERR Errors trying to SHUTDOWN. Check logs.")
            }
        })
    }

    // MARK: CLIENT

    private func registerClientCommand() {
        let client = CommandSpec("client", arity: -2, flags: [], group: "connection", summary: "A container for client connection commands.",
                                 since: "2.4.0", complexity: "Depends on subcommand.") { _ in }
        func sub(_ name: String, _ arity: Int, flags: CommandFlags = [.noscript, .loading, .stale], _ summary: String,
                 since: String = "2.4.0", _ h: @escaping CommandHandler) {
            client.addSubcommand(CommandSpec(name, arity: arity, flags: flags, group: "connection", summary: summary, since: since, handler: h))
        }
        sub("id", 2, "Returns the unique client ID of the connection.", since: "5.0.0") { c in c.reply.integer(Int(c.client.id)) }
        sub("getname", 2, "Returns the name of the connection.", since: "2.6.9") { c in
            if let n = c.client.name { c.reply.bulk(n) } else { c.reply.null() }
        }
        sub("setname", 3, "Sets the connection name.", since: "2.6.9") { c in
            guard validClientName(c.argv[2]) else {
                c.error("ERR Client names cannot contain spaces, newlines or special characters."); return
            }
            c.client.name = c.argv[2].isEmpty ? nil : c.argv[2]
            c.reply.ok()
        }
        sub("setinfo", 4, "Sets information specific to the client or connection.", since: "7.2.0") { c in
            let value = c.argv[3].debugText
            if value.contains(where: { $0 == " " || $0 == "\n" || $0 == "\r" }) {
                c.error("ERR \(c.argv[2].debugText) cannot contain spaces, newlines or special characters."); return
            }
            if c.argv[2].isKeyword("lib-name") { c.client.libName = value }
            else if c.argv[2].isKeyword("lib-ver") { c.client.libVersion = value }
            else { c.error("ERR Unrecognized option '\(c.argv[2].debugText)'"); return }
            c.reply.ok()
        }
        sub("list", -2, "Lists open connections.") { [unowned self] c in
            var ids: Set<UInt64>? = nil
            var i = 2
            while i < c.argv.count {
                if c.argv[i].isKeyword("type") && i + 1 < c.argv.count {
                    let t = asciiLowercased(c.argv[i + 1]).debugText
                    guard ["normal", "master", "replica", "slave", "pubsub"].contains(t) else {
                        c.error("ERR Unknown client type '\(c.argv[i + 1].debugText)'"); return
                    }
                    if t != "normal" { ids = [] }
                    i += 2
                } else if c.argv[i].isKeyword("id") && i + 1 < c.argv.count {
                    var set = Set<UInt64>()
                    for a in c.argv[(i + 1)...] {
                        guard let v = a.withUnsafeBytes({ parseInt64($0) }), v > 0 else { c.error("ERR Invalid client ID"); return }
                        set.insert(UInt64(v))
                    }
                    ids = set
                    i = c.argv.count
                } else { c.syntaxError(); return }
            }
            var text = ""
            for h in self.handlers.values.sorted(by: { $0.session.id < $1.session.id }) where ids?.contains(h.session.id) ?? true {
                text += self.clientInfoLine(h) + "\n"
            }
            c.reply.verbatim(text)
        }
        sub("info", 2, "Returns information about the connection.", since: "6.2.0") { [unowned self] c in
            guard let h = self.handlers[c.client.id] else { c.reply.verbatim(""); return }
            c.reply.verbatim(self.clientInfoLine(h) + "\n")
        }
        sub("kill", -3, flags: [.admin, .noscript, .loading, .stale], "Terminates open connections.") { [unowned self] c in
            self.clientKill(&c)
        }
        sub("pause", -3, flags: [.admin, .noscript, .loading, .stale], "Suspends commands processing.", since: "3.0.0") { [unowned self] c in
            guard let ms = c.argv[2].withUnsafeBytes({ parseInt64($0) }), ms >= 0 else {
                c.error("ERR timeout is not an integer or out of range"); return
            }
            var writesOnly = false
            if c.argv.count == 4 {
                if c.argv[3].isKeyword("write") { writesOnly = true }
                else if !c.argv[3].isKeyword("all") { c.syntaxError(); return }
            } else if c.argv.count > 4 { c.syntaxError(); return }
            let (end, o) = Engine.wallClockMs().addingReportingOverflow(ms)
            self.pause(untilMs: o ? Int64.max : end, writesOnly: writesOnly)
            c.reply.ok()
        }
        sub("unblock", -3, "Unblocks a client blocked by a blocking command from a different connection.", since: "5.0.0") { [unowned self] c in
            guard let id = c.argv[2].withUnsafeBytes({ parseInt64($0) }) else { c.notInteger(); return }
            var withError = false
            if c.argv.count == 4 {
                if c.argv[3].isKeyword("error") { withError = true }
                else if !c.argv[3].isKeyword("timeout") {
                    c.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"); return
                }
            } else if c.argv.count > 4 { c.syntaxError(); return }
            guard id > 0, let h = self.handlers[UInt64(id)], h.session.isBlocked else { c.reply.integer(0); return }
            c.reply.integer(c.engine.unblockClient(h.session, withError: withError) ? 1 : 0)
        }
        sub("unpause", 2, flags: [.admin, .noscript, .loading, .stale], "Resumes processing commands from paused clients.", since: "6.2.0") { [unowned self] c in
            self.unpause()
            c.reply.ok()
        }
        sub("reply", 3, "Instructs the server whether to reply to commands.", since: "3.2.0") { c in
            if c.argv[2].isKeyword("on") { c.client.replyMode = .on; c.reply.ok() }
            else if c.argv[2].isKeyword("off") { c.client.replyMode = .off }
            else if c.argv[2].isKeyword("skip") { c.client.replyMode = .skipNext }
            else { c.syntaxError() }
        }
        sub("no-evict", 3, "Sets the client eviction mode of the connection.", since: "7.0.0") { c in
            if c.argv[2].isKeyword("on") { c.client.noEvict = true; c.reply.ok() }
            else if c.argv[2].isKeyword("off") { c.client.noEvict = false; c.reply.ok() }
            else { c.syntaxError() }
        }
        sub("no-touch", 3, "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", since: "7.2.0") { c in
            if c.argv[2].isKeyword("on") { c.client.noTouch = true; c.reply.ok() }
            else if c.argv[2].isKeyword("off") { c.client.noTouch = false; c.reply.ok() }
            else { c.syntaxError() }
        }
        sub("help", 2, flags: [.loading, .stale], "Returns helpful text about the different subcommands.", since: "5.0.0") { c in
            c.help("CLIENT", [
                "CACHING (YES|NO)", "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
                "GETREDIR", "    Return the client ID we are redirecting to when tracking is enabled.",
                "GETNAME", "    Return the name of the current connection.",
                "ID", "    Return the ID of the current connection.",
                "INFO", "    Return information about the current client connection.",
                "KILL <ip:port>", "    Kill connection made from <ip:port>.",
                "KILL <option> <value> [<option> <value> [...]]", "    Kill connections. Options are:",
                "    * ADDR (<ip:port>|<unixsocket>:0)", "      Kill connections made from the specified address",
                "    * LADDR (<ip:port>|<unixsocket>:0)", "      Kill connections made to specified local address",
                "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Kill connections by type.",
                "    * USER <username>", "      Kill connections authenticated by <username>.",
                "    * SKIPME (YES|NO)", "      Skip killing current connection (default: yes).",
                "    * ID <client-id>", "      Kill connections by client id.",
                "LIST [options ...]", "    Return information about client connections. Options:",
                "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Return clients of specified type.",
                "UNPAUSE", "    Stop the current client pause, resuming traffic.",
                "PAUSE <timeout> [WRITE|ALL]", "    Suspend all, or just write, clients for <timeout> milliseconds.",
                "REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
                "SETNAME <name>", "    Assign the name <name> to the current connection.",
                "NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
                "NO-TOUCH (ON|OFF)", "    Will not touch LRU/LFU stats when this mode is on.",
            ])
        }
        reg(client)
    }

    func clientInfoLine(_ h: ClientHandler) -> String {
        let s = h.session
        let now = Engine.wallClockMs()
        let name = s.name?.debugText ?? ""
        let multi = s.inMulti ? s.multiQueue.count : -1
        let qbuf = h.parser.bufferedBytes
        let omem = s.reply.buffer.capacity
        return "id=\(s.id) addr=\(s.address) laddr=\(s.localAddress) fd=\(s.fd) name=\(name) age=\((now - s.createdAtMs) / 1000) idle=\((now - s.lastInteractionMs) / 1000) flags=\(s.flagLetters) db=\(s.db) sub=0 psub=0 ssub=0 multi=\(multi) qbuf=\(qbuf) qbuf-free=0 argv-mem=0 multi-mem=0 rbs=\(omem) rbp=\(s.reply.buffer.count) obl=0 oll=0 omem=0 tot-mem=\(omem + qbuf) events=r cmd=\(s.lastCommand) user=default redir=-1 resp=\(s.protocolVersion) lib-name=\(s.libName) lib-ver=\(s.libVersion)"
    }

    private func clientKill(_ c: inout CommandCall) {
        var targets: [ClientHandler] = []
        if c.argv.count == 3 {
            // Old form: CLIENT KILL addr:port → +OK or error.
            let addr = c.argv[2].debugText
            guard let h = handlers.values.first(where: { $0.session.address == addr }) else {
                c.error("ERR No such client"); return
            }
            h.session.closeAfterReply = true
            if h.session !== c.client { h.closeNow() }
            c.reply.ok()
            return
        }
        var skipMe = true
        var filters: [(ClientHandler) -> Bool] = []
        var i = 2
        while i + 1 < c.argv.count {
            let value = c.argv[i + 1]
            let opt = c.argv[i]
            if opt.isKeyword("id") {
                guard let v = value.withUnsafeBytes({ parseInt64($0) }), v > 0 else {
                    c.error("ERR client-id should be greater than 0"); return
                }
                filters.append { $0.session.id == UInt64(v) }
            } else if opt.isKeyword("addr") {
                let a = value.debugText
                filters.append { $0.session.address == a }
            } else if opt.isKeyword("laddr") {
                let a = value.debugText
                filters.append { $0.session.localAddress == a }
            } else if opt.isKeyword("type") {
                let t = asciiLowercased(value).debugText
                guard ["normal", "master", "replica", "slave", "pubsub"].contains(t) else {
                    c.error("ERR Unknown client type '\(value.debugText)'"); return
                }
                filters.append { _ in t == "normal" }
            } else if opt.isKeyword("user") {
                let u = value.debugText
                guard u == "default" else { c.error("ERR No such user '\(u)'"); return }
            } else if opt.isKeyword("skipme") {
                if value.isKeyword("yes") { skipMe = true }
                else if value.isKeyword("no") { skipMe = false }
                else { c.syntaxError(); return }
            } else if opt.isKeyword("maxage") {
                guard let v = value.withUnsafeBytes({ parseInt64($0) }) else { c.notInteger(); return }
                let now = Engine.wallClockMs()
                filters.append { (now - $0.session.createdAtMs) / 1000 >= v }
            } else { c.syntaxError(); return }
            i += 2
        }
        if i != c.argv.count { c.syntaxError(); return }
        for h in handlers.values where filters.allSatisfy({ $0(h) }) {
            if skipMe && h.session === c.client { continue }
            targets.append(h)
        }
        for h in targets {
            if h.session === c.client { h.session.closeAfterReply = true } else { h.closeNow() }
        }
        c.reply.integer(targets.count)
    }

    // MARK: CONFIG

    private func registerConfigCommand() {
        let configSpec = CommandSpec("config", arity: -2, flags: [], group: "server", summary: "A container for server configuration commands.",
                                     since: "2.0.0", complexity: "Depends on subcommand.") { _ in }
        configSpec.addSubcommand(CommandSpec("get", arity: -3, flags: [.admin, .noscript, .loading, .stale], group: "server",
                                             summary: "Returns the effective values of configuration parameters.", since: "2.0.0") { [unowned self] c in
            let pairs = self.config.matching(Array(c.argv.dropFirst(2)))
            c.reply.mapHeader(pairs.count)
            for (k, v) in pairs { c.reply.bulk(k); c.reply.bulk(v) }
        })
        configSpec.addSubcommand(CommandSpec("set", arity: -4, flags: [.admin, .noscript, .loading, .stale], group: "server",
                                             summary: "Sets configuration parameters in-flight.", since: "2.0.0") { [unowned self] c in
            guard c.argv.count % 2 == 0 else { c.error("ERR wrong number of arguments for 'config|set' command"); return }
            var pairs: [(String, String)] = []
            var i = 2
            while i < c.argv.count { pairs.append((c.argv[i].debugText, c.argv[i + 1].debugText)); i += 2 }
            do {
                try self.config.set(pairs)
                c.reply.ok()
            } catch {
                c.error("ERR \(error)")
            }
        })
        configSpec.addSubcommand(CommandSpec("resetstat", arity: 2, flags: [.admin, .noscript, .loading, .stale], group: "server",
                                             summary: "Resets the server's statistics.", since: "2.0.0") { [unowned self] c in
            self.resetStats()
            c.reply.ok()
        })
        configSpec.addSubcommand(CommandSpec("rewrite", arity: 2, flags: [.admin, .noscript, .loading, .stale], group: "server",
                                             summary: "Persists the effective configuration to file.", since: "2.8.0") { [unowned self] c in
            let file = self.config.configFile
            guard !file.isEmpty else { c.error("ERR The server is running without a config file"); return }
            do {
                let existing = (try? Sys.shared.readFile(file)).map { String(decoding: $0, as: UTF8.self) } ?? ""
                try Durable.replaceFile(at: file, with: Array(self.config.rewrite(existing: existing).utf8))
                self.logger.notice("CONFIG REWRITE executed with success.")
                c.reply.ok()
            } catch {
                self.logger.warning("CONFIG REWRITE failed: \(error)")
                c.error("ERR Rewriting config file: \(error)")
            }
        })
        configSpec.addSubcommand(CommandSpec("help", arity: 2, flags: [.loading, .stale], group: "server",
                                             summary: "Returns helpful text about the different subcommands.", since: "5.0.0") { c in
            c.help("CONFIG", [
                "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
                "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
                "RESETSTAT", "    Reset statistics reported by the INFO command.",
                "REWRITE", "    Rewrite the configuration file.",
            ])
        })
        reg(configSpec)
    }

    func resetStats() {
        stats = ServerStats()
        engine.stats = EngineStats()
        engine.slowlog.reset()
        for spec in engine.commands.all {
            spec.stats = CommandStats()
            for s in spec.subcommands.values { s.stats = CommandStats() }
        }
    }
}

/// Client names: printable ASCII without spaces (Redis's validateClientName).
func validClientName(_ name: Bytes) -> Bool {
    name.withUnsafeBytes { raw in raw.allSatisfy { $0 > 32 && $0 < 127 } }
}
