// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: the longest common subsequence
// of two strings (Redis 7.0).
//
// Dynamic programming over a table of (len1+1) × (len2+1) UInt32 cells, where cell (i, j) holds
// the LCS length of the first i bytes of the first string and the first j bytes of the second.
// The table is transient memory proportional to the product of the lengths, so, as in Redis,
// its size in bytes is limited by proto-max-bulk-len.
//
// The answer is rebuilt by walking back from (len1, len2): on equal bytes both indexes step
// back and the byte joins the LCS; otherwise the index whose step keeps the longer LCS steps
// back (the second string's on a tie). Runs of consecutive matches form the IDX ranges, so they
// come out from the end of the strings towards the start:
//
//   LCS a b IDX   with a = "ohmytext", b = "mynewtext"
//   matches: [[4,7],[5,8]]   "text"
//            [[2,3],[0,1]]   "my"
//   len: 6

extension Engine {
    func registerLCSCommand() {
        commands.register(CommandSpec(
            "lcs", arity: -3, flags: [.readonly], keys: (1, 2, 1), group: "string",
            summary: "Find longest common substring", since: "7.0.0",
            complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively"
        ) { c in
            c.lcsCommand()
        })
    }
}

extension CommandCall {
    mutating func lcsCommand() {
        // Both keys are looked up (and counted as hits or misses) before anything is checked.
        let first = lookupRead(argv[1])
        let second = lookupRead(argv[2])
        var a = Bytes(), b = Bytes()
        if let first {
            guard let bytes = first.value.stringBytes else { lcsTypeError(); return }
            a = bytes
        }
        if let second {
            guard let bytes = second.value.stringBytes else { lcsTypeError(); return }
            b = bytes
        }

        var wantLength = false, wantIndexes = false, withMatchLength = false
        var minMatchLength: Int64 = 0
        var j = 3
        while j < argv.count {
            let option = argv[j]
            if option.isKeyword("idx") { wantIndexes = true }
            else if option.isKeyword("len") { wantLength = true }
            else if option.isKeyword("withmatchlen") { withMatchLength = true }
            else if option.isKeyword("minmatchlen") && j + 1 < argv.count {
                guard let n = int(j + 1) else { return }
                minMatchLength = max(n, 0)
                j += 1
            } else {
                syntaxError()
                return
            }
            j += 1
        }
        if wantIndexes && wantLength {
            error("ERR If you want both the length and indexes, please just use IDX.")
            return
        }
        if a.count >= Int(UInt32.max) - 1 || b.count >= Int(UInt32.max) - 1 {
            error("ERR String too long for LCS")
            return
        }
        let (cells, o1) = (a.count + 1).multipliedReportingOverflow(by: b.count + 1)
        let (tableBytes, o2) = cells.multipliedReportingOverflow(by: MemoryLayout<UInt32>.size)
        if o1 || o2 || tableBytes > engine.config.protoMaxBulkLen {
            error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
            return
        }

        a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in
                let table = LCSTable(pa, pb)
                if wantLength && !wantIndexes {
                    reply.integer(Int(table.length))
                    return
                }
                let walk = table.walkBack(minMatchLength: minMatchLength)
                if wantIndexes {
                    reply.mapHeader(2)
                    reply.bulk("matches")
                    reply.arrayHeader(walk.matches.count)
                    for m in walk.matches {
                        let length = m.aLast - m.aFirst + 1
                        reply.arrayHeader(withMatchLength ? 3 : 2)
                        reply.arrayHeader(2)
                        reply.integer(m.aFirst)
                        reply.integer(m.aLast)
                        reply.arrayHeader(2)
                        reply.integer(m.bFirst)
                        reply.integer(m.bLast)
                        if withMatchLength { reply.integer(length) }
                    }
                    reply.bulk("len")
                    reply.integer(Int(table.length))
                } else {
                    reply.bulk(walk.subsequence)
                }
            }
        }
    }

    private mutating func lcsTypeError() {
        error("ERR The specified keys must contain string values")
    }
}

/// The LCS length table of two byte strings, filled on creation.
struct LCSTable {
    let a: UnsafeRawBufferPointer
    let b: UnsafeRawBufferPointer
    private var cells: [UInt32]
    private let stride: Int

    init(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) {
        self.a = a
        self.b = b
        stride = b.count + 1
        cells = [UInt32](repeating: 0, count: (a.count + 1) * (b.count + 1))
        let stride = self.stride
        guard a.count > 0 && b.count > 0 else { return }
        cells.withUnsafeMutableBufferPointer { t in
            for i in 1...a.count {
                let row = i * stride, above = row - stride
                let ai = a[i - 1]
                for j in 1...b.count {
                    if ai == b[j - 1] {
                        t[row + j] = t[above + j - 1] + 1
                    } else {
                        t[row + j] = max(t[above + j], t[row + j - 1])
                    }
                }
            }
        }
    }

    @inline(__always)
    subscript(i: Int, j: Int) -> UInt32 { cells[i * stride + j] }

    var length: UInt32 { self[a.count, b.count] }

    /// One run of consecutive matches: a[aFirst...aLast] == b[bFirst...bLast].
    struct Match {
        var aFirst: Int, aLast: Int, bFirst: Int, bLast: Int
    }

    /// Walks back from the end, returning the LCS and its runs of at least `minMatchLength`
    /// bytes (0: all), last run first.
    func walkBack(minMatchLength: Int64) -> (subsequence: [UInt8], matches: [Match]) {
        var out = [UInt8].zeros(Int(length))
        var matches: [Match] = []
        var next = out.count
        var run: Match? = nil
        var i = a.count, j = b.count
        while i > 0 && j > 0 {
            var closeRun = false
            if a[i - 1] == b[j - 1] {
                out[next - 1] = a[i - 1]
                if var r = run {
                    if r.aFirst == i && r.bFirst == j {
                        r.aFirst -= 1
                        r.bFirst -= 1
                        run = r
                    } else {
                        // Not contiguous. Unreachable, since a mismatch step closes the run
                        // first; kept so the walk is Redis's step for step.
                        closeRun = true
                    }
                } else {
                    run = Match(aFirst: i - 1, aLast: i - 1, bFirst: j - 1, bLast: j - 1)
                }
                // A run that reached the start of either string is complete.
                if let r = run, r.aFirst == 0 || r.bFirst == 0 { closeRun = true }
                next -= 1; i -= 1; j -= 1
            } else {
                if self[i - 1, j] > self[i, j - 1] { i -= 1 } else { j -= 1 }
                if run != nil { closeRun = true }
            }
            if closeRun, let r = run {
                if minMatchLength == 0 || Int64(r.aLast - r.aFirst + 1) >= minMatchLength {
                    matches.append(r)
                }
                run = nil
            }
        }
        return (out, matches)
    }
}
