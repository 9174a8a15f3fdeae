// Command lookup: any letter case, and the one-entry cache of the last name looked up.

import XCTest
import CairnFormats
@testable import CairnEngine

final class CommandTableTests: XCTestCase {
    private func spec(_ name: String, arity: Int) -> CommandSpec {
        CommandSpec(name, arity: arity, flags: [], keys: (0, 0, 0), group: "test",
                    summary: "", since: "1.0.0", complexity: "O(1)", handler: { _ in })
    }

    func testLookupInAnyCaseAndAfterTheCacheChanges() {
        let table = CommandTable()
        table.register(spec("alpha", arity: 1))
        table.register(spec("beta", arity: 2))
        XCTAssertEqual(table.lookup(Bytes("alpha"))?.name, "alpha")
        XCTAssertEqual(table.lookup(Bytes("alpha"))?.name, "alpha")   // from the cache
        XCTAssertEqual(table.lookup(Bytes("BETA"))?.name, "beta")
        XCTAssertEqual(table.lookup(Bytes("bEtA"))?.name, "beta")
        XCTAssertEqual(table.lookup(Bytes("ALPHA"))?.arity, 1)
        XCTAssertNil(table.lookup(Bytes("alph")))
        XCTAssertNil(table.lookup(Bytes("alphaa")))
        XCTAssertEqual(table.lookup(Bytes("alpha"))?.arity, 1)
        // Registering a name again replaces it, also for the name just looked up.
        table.register(spec("alpha", arity: -3))
        XCTAssertEqual(table.lookup(Bytes("alpha"))?.arity, -3)
        XCTAssertEqual(table.all.count, 2)
    }
}
