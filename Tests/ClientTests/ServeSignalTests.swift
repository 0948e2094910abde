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
    ///
    /// Every wait is for a condition, not a time: the server has the requests' heads once it
    /// invites their bodies (`100 Continue`), the first SIGTERM was handled once it says so, and a
    /// request in flight may still finish once one does.
    func testASecondSIGTERMStopsAtOnce() throws {
        let demo = try ServeCommandTests.Demo(["--quiet"])
        addTeardownBlock { if demo.process.isRunning { _ = demo.stop() } }
        let head = "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n"
        // Two requests in flight, their bodies not all sent: one to finish after the first
        // SIGTERM, one to hold the close until the second.
        let finishing = try RawConnection(port: demo.port)
        let holding = try RawConnection(port: demo.port)
        for connection in [finishing, holding] {
            try connection.send(Array(head.utf8))
            let invited = try connection.receive { Self.text($0).hasSuffix("\r\n\r\n") }
            XCTAssertEqual(Self.text(invited), "HTTP/1.1 100 Continue\r\n\r\n")
            try connection.send(Array("abc".utf8))
        }

        demo.process.terminate()
        XCTAssertTrue(demo.waitForLog(containing: "SIGTERM, closing"), "the first SIGTERM was not handled")
        // The requests in flight may still finish: one does, and the other still holds the close.
        try finishing.send(Array("defghij".utf8))
        let response = Self.text(try finishing.receive { Self.text($0).hasSuffix("abcdefghij") })
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 200"), response)
        XCTAssertTrue(demo.process.isRunning, "the request in flight may still finish")

        demo.process.terminate()
        let log = demo.stop()
        XCTAssertEqual(demo.process.terminationReason, .exit, log)
        XCTAssertEqual(demo.process.terminationStatus, 128 + SIGTERM, log)
        XCTAssertTrue(log.contains("SIGTERM again, stopping now"), log)
    }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
