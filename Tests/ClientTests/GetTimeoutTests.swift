import Foundation
import Stepwise
import XCTest

/// `stepwise get --timeout`: one deadline over the whole transfer, failing on time with a
/// one-line reason that names the phase.
final class GetTimeoutTests: XCTestCase {
    func testTimeoutFiresAgainstAServerThatNeverAnswers() throws {
        let listener = try StalledListener()
        defer { listener.close() }
        let target = "127.0.0.1:\(listener.port)"
        for (scheme, phase) in [("http", "response head read"), ("https", "TLS handshake")] {
            let run = try stepwise(["get", "--timeout", "0.3", "\(scheme)://\(target)/"])
            XCTAssertEqual(run.status, 1, scheme)
            XCTAssertEqual(run.stdout, "", scheme)
            XCTAssertEqual(run.stderr, "stepwise: \(target): timed out after 0.3 s during \(phase)\n")
            XCTAssertTrue((0.25...3).contains(run.seconds), "\(scheme): exited after \(run.seconds) s")
        }
    }

    func testTimeoutCoversTheBody() throws {
        let server = try TestServer { stream, _ in try await stallMidBody(stream, after: "first part ") }
        defer { server.stop() }
        let run = try stepwise(["get", "--timeout", "0.3", "http://127.0.0.1:\(server.port)/"])
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(run.stdout, "first part ", "what arrived was written")
        XCTAssertEqual(
            run.stderr, "stepwise: 127.0.0.1:\(server.port): timed out after 0.3 s during response body read\n")
        XCTAssertTrue((0.25...3).contains(run.seconds), "exited after \(run.seconds) s")
    }

    /// stdout is a pipe nobody reads: once it is full the writes wait on a worker thread, and
    /// the deadline still fires on the reactor's (written there, it would hang until the pipe
    /// was drained).
    func testTimeoutFiresWhileStdoutIsNotRead() throws {
        let body = String(repeating: "x", count: 2 << 20)
        let server = try TestServer { stream, _ in try await reply(stream, body) }
        defer { server.stop() }
        let run = try stepwise(
            ["get", "--timeout", "0.5", "http://127.0.0.1:\(server.port)/"], readingStdout: false, timeout: 10)
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(
            run.stderr, "stepwise: 127.0.0.1:\(server.port): timed out after 0.5 s during response body read\n")
        XCTAssertLessThan(run.seconds, 5)
    }
}
