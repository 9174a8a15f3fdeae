// Microseconds for timing commands (INFO commandstats, SLOWLOG, LATENCY) and for each
// command's wall-clock `nowMs`: two reads per command, so the read itself is on the hot path.
//
// A vDSO clock_gettime costs about 23 ns where the CPU's time-stamp counter reads in about 10.
// When the server has checked that the counter runs at a constant rate (x86 constant_tsc and
// nonstop_tsc; Server does it, the engine does no I/O), reads come from the counter:
//
//   micros = anchorMicros + (cycles - anchorCycles) * microsPerCycle
//
// The rate is measured, never assumed: `calibrate()` runs from cron (hz times a second) and
// pairs a counter read with a CLOCK_MONOTONIC read; once a pair is at least 50 ms older than
// the anchor, the ratio of the two spans is the rate and the new pair the anchor. So the
// counter is re-tied to the monotonic clock every few cron periods and cannot drift from it.
// Until the first rate is known, and wherever the counter is not enabled, reads are
// clock_gettime(CLOCK_MONOTONIC).

import CMalloc

struct CommandClock {
    /// Set by `enableCycleCounter()`; otherwise every read is clock_gettime.
    private(set) var usesCycleCounter = false
    private var anchorCycles: UInt64 = 0
    private var anchorMicros: Int64 = 0
    /// 0 until calibrated.
    private(set) var microsPerCycle: Double = 0

    /// Shortest span a rate is measured over (shorter spans let clock_gettime's own read
    /// time show in the rate).
    static let calibrationSpanMicros: Int64 = 50_000

    mutating func enableCycleCounter() {
        guard !usesCycleCounter, cairn_cycles() != 0 else { return }
        usesCycleCounter = true
        anchorCycles = cairn_cycles()
        anchorMicros = Engine.monotonicMicros()
    }

    /// Measures the counter's rate against CLOCK_MONOTONIC and re-anchors (cron).
    mutating func calibrate() {
        guard usesCycleCounter else { return }
        let cycles = cairn_cycles()
        let micros = Engine.monotonicMicros()
        let spanMicros = micros - anchorMicros
        guard spanMicros >= CommandClock.calibrationSpanMicros else { return }
        let spanCycles = Int64(bitPattern: cycles &- anchorCycles)
        if spanCycles > 0 { microsPerCycle = Double(spanMicros) / Double(spanCycles) }
        anchorCycles = cycles
        anchorMicros = micros
    }

    /// Now, in microseconds of the monotonic clock.
    @inline(__always)
    func micros() -> Int64 {
        guard microsPerCycle > 0 else { return Engine.monotonicMicros() }
        // Signed: a read on another core may be a few cycles behind the anchor.
        let cycles = Int64(bitPattern: cairn_cycles() &- anchorCycles)
        return anchorMicros &+ Int64(Double(cycles) * microsPerCycle)
    }

    /// Counter ticks per microsecond, for INFO's monotonic_clock line (0 when not in use).
    var cyclesPerMicrosecond: Int { microsPerCycle > 0 ? Int((1 / microsPerCycle).rounded()) : 0 }
}
