// Argument parsing shared by command handlers. Each helper replies with Redis's error and
// returns nil when the argument is bad, so a handler reads `guard let n = c.int(2) else { return }`.

extension CommandCall {
    /// A 64-bit integer argument ("ERR value is not an integer or out of range").
    public mutating func int(_ i: Int) -> Int64? {
        if let v = argv[i].withUnsafeBytes({ parseInt64($0) }) { return v }
        notInteger()
        return nil
    }

    /// An integer argument that must be ≥ 0 with a custom message otherwise.
    public mutating func nonNegativeInt(_ i: Int, message: String) -> Int64? {
        guard let v = argv[i].withUnsafeBytes({ parseInt64($0) }) else { notInteger(); return nil }
        if v < 0 { error(message); return nil }
        return v
    }

    /// A database index argument ("ERR DB index is out of range").
    public mutating func dbIndex(_ i: Int) -> Int? {
        guard let v = argv[i].withUnsafeBytes({ parseInt64($0) }) else { notInteger(); return nil }
        guard v >= 0 && v < Int64(engine.databases.count) else {
            error("ERR DB index is out of range")
            return nil
        }
        return Int(v)
    }

    /// The string value of a key, or .missing, or a WRONGTYPE reply (returns nil).
    public mutating func stringValue(_ key: Bytes, forWrite: Bool = false) -> StringLookup? {
        guard let e = forWrite ? lookupWrite(key) : lookupRead(key) else { return .missing }
        switch e.value {
        case .string(let b): return .found(e, b)
        case .int(let v): return .found(e, Bytes(v))
        default:
            wrongType()
            return nil
        }
    }
}

public enum StringLookup {
    case missing
    case found(KeyEntry, Bytes)
}

/// Parses the expiry options shared by SET and GETEX into an absolute Unix-ms time.
/// `unitArg` is the option's name; returns nil after replying with an error.
enum ExpiryUnit { case seconds, milliseconds, unixSeconds, unixMilliseconds }

extension CommandCall {
    mutating func absoluteExpiry(_ arg: Bytes, unit: ExpiryUnit, command: String) -> Int64? {
        guard let v = arg.withUnsafeBytes({ parseInt64($0) }) else { notInteger(); return nil }
        let invalid = "ERR invalid expire time in '\(command)' command"
        if v <= 0 { error(invalid); return nil }
        switch unit {
        case .seconds, .unixSeconds:
            if v > Int64.max / 1000 { error(invalid); return nil }
        default: break
        }
        var ms = (unit == .seconds || unit == .unixSeconds) ? v * 1000 : v
        if unit == .seconds || unit == .milliseconds {
            let (sum, overflow) = ms.addingReportingOverflow(engine.nowMs)
            if overflow { error(invalid); return nil }
            ms = sum
        }
        return ms
    }
}
