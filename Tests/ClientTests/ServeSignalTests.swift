import Foundation
import Stepwise
import XCTest

/// `stepwise serve` and SIGTERM: the first closes the server gracefully (requests in flight may
/// finish) and the process exits 0; a second one stops it at once.
final class ServeSignalTests: XCTestCase {
    func testSIGTERMClosesGracefullyAndExitsZero() throws {
        let demo = try ServeCommandTests.Demo(["--quiet"])
        let reactor = try Reactor()
        let request = try Request(uri: "http://127.0.0.1:\(demo.port)/hello")
        XCTAssertEqual(try request.fetch(on: reactor, timeout: 10).status, 200)
        let log = demo.stop()
        XCTAssertEqual(demo.process.terminationReason, .exit, log)
        XCTAssertEqual(demo.process.terminationStatus, 0, log)
        XCTAssertTrue(log.contains("SIGTERM, closing"), log)
    }

    /// The signals are read on the reactor (a `signalfd`), not by a thread of their own: a second
    /// thread would make the kernel count references to the socket on every call.
    func testServingTakesOneThread() throws {
        let demo = try ServeCommandTests.Demo(["--quiet"])
        defer { _ = demo.stop() }
        let reactor = try Reactor()
        let request = try Request(uri: "http://127.0.0.1:\(demo.port)/hello")
        XCTAssertEqual(try request.fetch(on: reactor, timeout: 10).status, 200)
        let threads = try FileManager.default.contentsOfDirectory(
            atPath: "/proc/\(demo.process.processIdentifier)/task")
        XCTAssertEqual(threads.count, 1, "threads: \(threads)")
    }

    /// A request in flight (its body not all sent) holds the graceful close; a second SIGTERM
    /// ends the process without waiting for it.
    func testASecondSIGTERMStopsAtOnce() throws {
        let demo = try ServeCommandTests.Demo(["--quiet"])
        addTeardownBlock { if demo.process.isRunning { _ = demo.stop() } }
        let fd = try connectToLoopback(port: demo.port)
        defer { close(fd) }
        let partial = Array("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nabc".utf8)
        XCTAssertEqual(write(fd, partial, partial.count), partial.count)
        usleep(200_000)

        demo.process.terminate()
        usleep(500_000)
        XCTAssertTrue(demo.process.isRunning, "the request in flight may still finish")
        demo.process.terminate()
        let log = demo.stop()
        XCTAssertEqual(demo.process.terminationReason, .exit, log)
        XCTAssertEqual(demo.process.terminationStatus, 128 + SIGTERM, log)
        XCTAssertTrue(log.contains("SIGTERM again, stopping now"), log)
    }
}
