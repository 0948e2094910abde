import Foundation
import Stepwise
import XCTest

/// `ConnectionPool.http1`, `HTTPConnection.http1` and `Request.http1`: the HTTP/1 settings of the
/// connections they open (`ClientOptions.http1`), which `Request.go` and `HTTPConnection` gave no
/// way to set.
final class ConnectionOptionsTests: XCTestCase {
    /// The pool's `bodyLimit` is the default of `fetch` on its connections.
    func testAPoolsConnectionsTakeItsSettings() throws {
        let server = try SizedBodyServer()
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        pool.http1.bodyLimit = 1000
        let request = try Request(uri: server.url("/chunked/2000"))
        request.pool = pool
        XCTAssertThrowsError(try request.fetch(on: reactor, timeout: 5)) { error in
            XCTAssertEqual(error as? HTTPStreamError, .bodyTooLarge(limit: 1000))
        }
        // A change applies to connections opened after it: the refused body may have arrived
        // whole, which leaves its connection idle in the pool, with the settings it was opened with.
        pool.http1 = H1ConnectionOptions()
        pool.closeIdle()
        XCTAssertEqual(try request.fetch(on: reactor, timeout: 5).body.count, 2000)
    }

    /// The connection's `bodyLimit` is the default of `getResponse`; a change applies to the next
    /// connection (the refused body closed the first).
    func testAnHTTPConnectionTakesItsSettings() throws {
        let server = try SizedBodyServer()
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        defer { conn.close() }
        conn.http1.bodyLimit = 1000
        try conn.request("GET", "/length/2000")
        XCTAssertThrowsError(try conn.getResponse()) { error in
            XCTAssertEqual(error as? HTTPStreamError, .bodyTooLarge(limit: 1000))
        }
        conn.http1.bodyLimit = 4000
        try conn.request("GET", "/length/2000")
        XCTAssertEqual(try conn.getResponse().body.count, 2000)
    }

    /// A request without a pool opens its connection with its own settings: a lower
    /// `maxHeaderBlockSize` refuses a response head the default takes. Through a pool the pool's
    /// settings apply, and the request's are not used.
    func testARequestsOwnConnectionsTakeItsSettings() throws {
        let server = try OneShotServer(serve: Self.answerWithALargeHead)
        defer { server.stop() }
        let reactor = try Reactor()
        XCTAssertEqual(try server.request().fetch(on: reactor, timeout: 5).text, "ok")

        let limited = try server.request()
        limited.http1.limits.maxHeaderBlockSize = 1024
        XCTAssertThrowsError(try limited.fetch(on: reactor, timeout: 5)) { error in
            XCTAssertEqual(error as? HTTPStreamError, .protocolViolation(.headerBlockTooLarge(limit: 1024)))
        }
        XCTAssertEqual(limited.clone().http1.limits.maxHeaderBlockSize, 1024)

        let pool = ConnectionPool(reactor: reactor)
        limited.pool = pool
        XCTAssertEqual(try limited.fetch(on: reactor, timeout: 5).text, "ok")
        pool.http1.limits.maxHeaderBlockSize = 1024
        pool.closeIdle()
        limited.http1 = H1ConnectionOptions()
        XCTAssertThrowsError(try limited.fetch(on: reactor, timeout: 5)) { error in
            XCTAssertEqual(error as? HTTPStreamError, .protocolViolation(.headerBlockTooLarge(limit: 1024)))
        }
    }

    /// Answers every request `ok` with a 3,000-octet field in the head.
    @Sendable private static func answerWithALargeHead(_ client: Int32) {
        let head = "HTTP/1.1 200 OK\r\nx-large: \(String(repeating: "a", count: 3000))\r\ncontent-length: 2\r\n\r\n"
        while OneShotServer.readRequest(client) {
            guard RawPeer.send(head + "ok", to: client) else { return }
        }
    }
}
