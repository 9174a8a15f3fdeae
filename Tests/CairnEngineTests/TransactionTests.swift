import XCTest
@testable import CairnEngine

// MULTI/EXEC/DISCARD/WATCH. Replies recorded from Redis 7.0.15 (two connections where a test
// names client 1); see EngineHarness in StringCommandTests.swift.

final class TransactionTests: XCTestCase {
    // END RECORDED
}
