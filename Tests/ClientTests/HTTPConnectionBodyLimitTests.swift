import Foundation
import Stepwise
import XCTest

/// `HTTPConnection.getResponse(bodyLimit:)`: the caller's bound on the body buffered. Over it,
/// the response fails with `bodyTooLarge` (at the head when the `content-length` says so) and the
/// connection is closed rather than read to its end; the next request opens a new one.
final class HTTPConnectionBodyLimitTests: XCTestCase {
    func testADeclaredLengthOverTheLimitFailsAtTheHeadAndTheNextRequestGoesOnANewConnection() throws {
        let server = try SizedBodyServer()
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        defer { conn.close() }
        try conn.request("GET", "/head-only/\(1 << 30)")
        let elapsed = assertFails("body larger than 1024 bytes") { _ = try conn.getResponse(bodyLimit: 1024) }
        XCTAssertLessThan(elapsed, 1, "waited for a body the head already ruled out")
        XCTAssertFalse(conn.isConnected)
        XCTAssertTrue(server.waitUntilConnectionsEnded(1), "the connection was not closed")
        try conn.request("GET", "/length/1024")
        XCTAssertEqual(try conn.getResponse(bodyLimit: 1024).body.count, 1024)
        XCTAssertEqual(server.connections, 2)
    }

    func testAnEndlessChunkedBodyStopsAtTheLimit() throws {
        let server = try SizedBodyServer()
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        defer { conn.close() }
        try conn.request("GET", "/endless")
        XCTAssertThrowsError(try conn.getResponse(bodyLimit: 1 << 20)) { error in
            XCTAssertEqual(error as? HTTPStreamError, .bodyTooLarge(limit: 1 << 20))
        }
        XCTAssertFalse(conn.isConnected)
        XCTAssertTrue(server.waitUntilConnectionsEnded(1), "the connection was not closed")
        XCTAssertLessThan(server.bodyOctetsSent, 16 << 20)
    }
}
