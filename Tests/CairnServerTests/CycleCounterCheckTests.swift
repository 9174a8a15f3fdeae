@testable import CairnServer
import XCTest

final class CycleCounterCheckTests: XCTestCase {
    func testBothConstantRateFlagsAreNeeded() {
        let both = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu tsc constant_tsc rep_good nonstop_tsc cpuid\nbogomips\t: 5989.99\n"
        let onlyConstant = "flags\t\t: fpu tsc constant_tsc rep_good cpuid\n"
        let prefixOnly = "flags\t\t: fpu tsc constant_tsc_x nonstop_tsc\n"
        #if arch(x86_64)
        XCTAssertTrue(cpuHasConstantRateCycleCounter(cpuinfo: both))
        #else
        XCTAssertFalse(cpuHasConstantRateCycleCounter(cpuinfo: both))
        #endif
        XCTAssertFalse(cpuHasConstantRateCycleCounter(cpuinfo: onlyConstant))
        XCTAssertFalse(cpuHasConstantRateCycleCounter(cpuinfo: prefixOnly))
        XCTAssertFalse(cpuHasConstantRateCycleCounter(cpuinfo: ""))
    }
}
