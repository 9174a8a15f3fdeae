// SLOWLOG and LATENCY bookkeeping: bounded in-memory histories.

public struct SlowLogEntry {
    public let id: Int64
    public let timestamp: Int64      // Unix seconds
    public let micros: Int64
    public let argv: [Bytes]         // at most 32 arguments, each at most 128 bytes, as Redis
    public let clientAddress: String
    public let clientName: String
}

public struct SlowLog {
    public private(set) var entries: [SlowLogEntry] = []   // newest first
    private var nextID: Int64 = 0

    public init() {}

    mutating func record(argv: [Bytes], micros: Int64, client: ClientSession, now: Int64, config: EngineConfig) {
        let threshold = config.slowlogLogSlowerThanUs
        guard threshold >= 0, micros >= threshold else { return }
        var kept: [Bytes] = []
        let maxArgs = 32
        for (i, a) in argv.enumerated() {
            if i == maxArgs - 1 && argv.count > maxArgs {
                kept.append(Bytes("... (\(argv.count - maxArgs + 1) more arguments)"))
                break
            }
            if a.count > 128 {
                var b = a.slice(0, 128)
                b.append(contentsOf: Array("... (\(a.count - 128) more bytes)".utf8))
                kept.append(b)
            } else {
                kept.append(a)
            }
        }
        entries.insert(SlowLogEntry(id: nextID, timestamp: now / 1000, micros: micros, argv: kept,
                                    clientAddress: client.address, clientName: client.name?.debugText ?? ""),
                       at: 0)
        nextID += 1
        if entries.count > config.slowlogMaxLen { entries.removeLast(entries.count - config.slowlogMaxLen) }
    }

    public mutating func reset() { entries.removeAll() }
}

public struct LatencySample { public let time: Int64; public let ms: Int64 }

public struct LatencyMonitor {
    public struct Series {
        public var samples: [LatencySample] = []   // oldest first, at most 160
        public var maxMs: Int64 = 0
    }
    public private(set) var events: [String: Series] = [:]
    public init() {}

    public mutating func record(event: String, ms: Int64, now: Int64) {
        var s = events[event] ?? Series()
        if let last = s.samples.last, last.time == now {
            s.samples[s.samples.count - 1] = LatencySample(time: now, ms: max(last.ms, ms))
        } else {
            s.samples.append(LatencySample(time: now, ms: ms))
            if s.samples.count > 160 { s.samples.removeFirst() }
        }
        s.maxMs = max(s.maxMs, ms)
        events[event] = s
    }

    /// Resets the named events (all when empty); returns how many were reset.
    public mutating func reset(_ names: [String]) -> Int {
        if names.isEmpty { let n = events.count; events = [:]; return n }
        var n = 0
        for name in names where events.removeValue(forKey: name) != nil { n += 1 }
        return n
    }
}
