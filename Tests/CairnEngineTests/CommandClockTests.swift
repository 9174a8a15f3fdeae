import XCTest
@testable import CairnEngine
#if canImport(Glibc)
import Glibc
#endif

final class CommandClockTests: XCTestCase {
    func testWithoutTheCycleCounterReadsAreTheMonotonicClock() {
        let clock = CommandClock()
        let before = Engine.monotonicMicros()
        let read = clock.micros()
        let after = Engine.monotonicMicros()
        XCTAssertFalse(clock.usesCycleCounter)
        XCTAssertTrue(before <= read && read <= after)
        XCTAssertEqual(clock.cyclesPerMicrosecond, 0)
    }

    func testTheRateIsMeasuredOverAtLeastFiftyMillisecondsThenReadsFollowTheMonotonicClock() throws {
        var clock = CommandClock()
        clock.enableCycleCounter()
        try XCTSkipUnless(clock.usesCycleCounter, "no cycle counter on this CPU")
        // Too soon: no rate yet, reads still come from clock_gettime.
        clock.calibrate()
        XCTAssertEqual(clock.microsPerCycle, 0)
        usleep(60_000)
        clock.calibrate()
        XCTAssertGreaterThan(clock.microsPerCycle, 0)
        // Any machine this runs on counts between 0.5 and 10 GHz.
        XCTAssertTrue((500...10_000).contains(clock.cyclesPerMicrosecond), "\(clock.cyclesPerMicrosecond) ticks/us")
        // Counter time stays within 1 ms of the monotonic clock (the rate comes from a 60 ms
        // span, so even a 1% error is 0.6 ms after another 60 ms), before and after re-anchoring.
        for round in 0..<3 {
            usleep(20_000)
            let mono = Engine.monotonicMicros()
            let read = clock.micros()
            XCTAssertLessThan(abs(read - mono), 1_000, "round \(round)")
            clock.calibrate()
        }
    }

    func testCommandDurationsAndNowComeFromOneClock() {
        // An engine with the counter enabled still records command times and a wall clock
        // that agrees with the system's (to the millisecond, plus the test's own time).
        let e = Engine(seed: SipHashSeed(k0: 1, k1: 2))
        e.enableCycleCounter()
        usleep(60_000)
        e.cron()
        let s = e.connect()
        let wallBefore = Engine.wallClockMs()
        e.execute(s, [Bytes("SET"), Bytes("k"), Bytes("v")])
        let wallAfter = Engine.wallClockMs()
        XCTAssertTrue(wallBefore - 1 <= e.nowMs && e.nowMs <= wallAfter + 1, "\(wallBefore) \(e.nowMs) \(wallAfter)")
        XCTAssertEqual(e.commands.lookup(Bytes("set"))?.stats.calls, 1)
        XCTAssertEqual(s.reply.take(), Array("+OK\r\n".utf8))
    }
}
