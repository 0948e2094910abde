import Foundation
import Stepwise
import XCTest

/// `ConnectionPool.http1` and `HTTPConnection.http1`: the HTTP/1 settings of the connections they
/// open (`ClientOptions.http1`), which `Request.go` and `HTTPConnection` gave no way to set.
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
}
