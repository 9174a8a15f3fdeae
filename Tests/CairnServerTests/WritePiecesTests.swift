@testable import CairnServer
import XCTest

final class WritePiecesTests: XCTestCase {
    func testAReplyIsCutIntoPiecesOfAtMostTheMaximumInOrder() {
        XCTAssertEqual(ClientHandler.writePieces(total: 10, pieceMax: 4), [0..<4, 4..<8, 8..<10])
        XCTAssertEqual(ClientHandler.writePieces(total: 8, pieceMax: 4), [0..<4, 4..<8])
        XCTAssertEqual(ClientHandler.writePieces(total: 3, pieceMax: 4), [0..<3])
        // A 9 GiB tick's reply at the real piece size: nine 1 GiB pieces, none over 4 GiB.
        let pieces = ClientHandler.writePieces(total: 9 << 30, pieceMax: 1 << 30)
        XCTAssertEqual(pieces.count, 9)
        XCTAssertTrue(pieces.allSatisfy { $0.count == 1 << 30 })
        XCTAssertEqual(pieces.last?.upperBound, 9 << 30)
    }
}
