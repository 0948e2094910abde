import Foundation
import XCTest

/// Runs the built `stepwise get` (from the build directory this test bundle runs from) against a
/// `TestServer`.
final class GetCommandTests: XCTestCase {
    func testBodyGoesToStdout() throws {
        let server = try TestServer(RequestGoTests.echo)
        defer { server.stop() }
        let run = try stepwise(["get", "http://127.0.0.1:\(server.port)/out"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "GET /out ")
        XCTAssertEqual(run.stderr, "")
    }

    func testOutputFileMethodHeadersAndData() throws {
        let server = try TestServer { stream, head in
            let body = try await stream.getBodyAsString(timeout: 5)
            try await reply(stream, "\(head.method ?? "") \(head.headers.first("x-a") ?? "-") \(body)")
        }
        defer { server.stop() }
        let path = NSTemporaryDirectory() + "get-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try stepwise([
            "get", "-X", "PUT", "-H", "X-A: 1", "-d", "payload", "-o", path, "http://127.0.0.1:\(server.port)/",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "PUT 1 payload")
    }

    func testVerboseShowsBothHeads() throws {
        let server = try TestServer { stream, _ in try await reply(stream, status: 404, "missing") }
        defer { server.stop() }
        let run = try stepwise(["get", "-v", "http://127.0.0.1:\(server.port)/v"])
        XCTAssertEqual(run.status, 0, "any HTTP status exits 0")
        XCTAssertEqual(run.stdout, "missing")
        XCTAssertTrue(run.stderr.contains("> GET /v HTTP/1.1\n"), run.stderr)
        XCTAssertTrue(run.stderr.contains("> host: 127.0.0.1:\(server.port)\n"), run.stderr)
        XCTAssertTrue(run.stderr.contains("< HTTP/1.1 404\n"), run.stderr)
        XCTAssertTrue(run.stderr.contains("< transfer-encoding: chunked\n"), run.stderr)
    }

    func testRefusedConnectFailsWithOneLine() throws {
        let run = try stepwise(["get", "http://127.0.0.1:9/"])
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(run.stdout, "")
        XCTAssertEqual(run.stderr, "stepwise: connect to 127.0.0.1:9 refused\n")
    }
}
