@testable import CairnServer
import Foundation
import XCTest

final class SysTests: XCTestCase {
    var dir = ""

    override func setUp() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("sys-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testReplaceFileWritesNewContentAndLeavesNoTempFiles() throws {
        let path = dir + "/f"
        try Durable.replaceFile(at: path, with: Array("one".utf8), sys: Sys())
        try Durable.replaceFile(at: path, with: Array("two".utf8), sys: Sys())
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "two")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["f"])
    }

    /// Whatever single call fails, the file holds the old or the new content, never a mix,
    /// and no temp file is left behind.
    func testEveryInjectedFailureLeavesOldOrNewFile() throws {
        let path = dir + "/f"
        try Durable.replaceFile(at: path, with: Array("old".utf8), sys: Sys())
        let failures: [(SysCall, SysFaults.Failure)] = [
            (.open, .errno(EACCES)), (.write, .errno(EIO)), (.write, .errno(ENOSPC)), (.write, .shortWrite(1)),
            (.fsync, .errno(EIO)), (.close, .errno(EIO)), (.rename, .errno(EXDEV)),
        ]
        for (call, failure) in failures {
            let sys = Sys()
            sys.faults.fail(call, at: 1, with: failure)
            XCTAssertThrowsError(try Durable.replaceFile(at: path, with: Array("new".utf8), sys: sys), "\(call)")
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old", "\(call)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["f"], "\(call)")
        }
        // A failed directory fsync (the second fsync) happens after the rename: new content.
        let sys = Sys()
        sys.faults.fail(.fsync, at: 2, with: .errno(EIO))
        XCTAssertThrowsError(try Durable.replaceFile(at: path, with: Array("new".utf8), sys: sys))
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new")
    }

    func testErrorsNameTheCallAndPath() {
        let sys = Sys()
        sys.faults.fail(.open, at: 1, with: .errno(ENOSPC))
        XCTAssertThrowsError(try sys.open("/x/y", O_RDONLY)) { error in
            XCTAssertEqual("\(error)", "open '/x/y' failed: No space left on device")
        }
        XCTAssertEqual(sys.count(.open), 1)
    }
}
