@testable import CairnServer
import Foundation
import NIOCore
import NIOPosix
import XCTest

final class SliceDoorbellTests: XCTestCase {
    /// Rings until the pipe is registered (it registers asynchronously on the loop).
    func ringWhenReady(_ bell: SliceDoorbell, _ loop: EventLoop, _ body: @escaping () -> Void) throws {
        let deadline = Date().addingTimeInterval(5)
        while try !loop.submit({ bell.ring(body) }).wait() {
            XCTAssertLessThan(Date(), deadline, "the doorbell never became usable")
            usleep(1000)
        }
    }

    func testEachRingRunsItsBodyOnceOnTheLoopAndOneRingIsPendingAtATime() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let bell = try loop.submit { SliceDoorbell(loop: loop) }.wait()
        let done = loop.makePromise(of: Int.self)
        var rings = 0
        var refusedWhilePending = 0
        func body() {
            XCTAssertTrue(loop.inEventLoop)
            rings += 1
            if rings == 1000 {
                done.succeed(rings)
                return
            }
            XCTAssertTrue(bell.ring(body))
            if !bell.ring({ XCTFail("a second pending ring ran") }) { refusedWhilePending += 1 }
        }
        try ringWhenReady(bell, loop, body)
        XCTAssertEqual(try done.futureResult.wait(), 1000)
        XCTAssertEqual(try loop.submit { refusedWhilePending }.wait(), 999)
        XCTAssertEqual(try loop.submit { rings }.wait(), 1000)
    }

    func testTasksFromOtherThreadsRunWhileTheBellKeepsRinging() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let bell = try loop.submit { SliceDoorbell(loop: loop) }.wait()
        var rings = 0
        var stop = false
        func body() {
            rings += 1
            if !stop { _ = bell.ring(body) }
        }
        try ringWhenReady(bell, loop, body)
        let a = try loop.submit { rings }.wait()
        usleep(20_000)
        let b = try loop.submit { rings }.wait()
        try loop.submit { stop = true }.wait()
        XCTAssertGreaterThan(b, a, "the bell keeps ringing between the submitted tasks")
    }
}
