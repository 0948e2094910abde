import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A reused connection whose server is slow to answer is not a stale one: the stale-connection
/// retry (docs/client.md) is for a connection that ended or was reset before any response, and a
/// timeout is neither. Before, `HTTPConnection` took its own read timeout (a `SocketError`) for
/// staleness and sent the GET again on a fresh connection: the server got the request twice,
/// and the caller waited up to twice its read timeout. `Request.go` did not.
final class SlowAnswerIsNotStaleTests: XCTestCase {
    /// Answers the first request on each connection at once; a second one, not within a second.
    private static func slowOnReuse() throws -> OneShotServer {
        try OneShotServer { client in
            var buffer = [UInt8](repeating: 0, count: 4096)
            guard recv(client, &buffer, buffer.count, 0) > 0 else { return }
            RawPeer.send("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfirst", to: client)
            guard recv(client, &buffer, buffer.count, 0) > 0 else { return }
            _ = RawPeer.waitForClose(client, seconds: 1)
        }
    }

    func testHTTPConnectionDoesNotSendATimedOutRequestAgain() throws {
        let server = try Self.slowOnReuse()
        defer { server.stop() }
        let connection = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 0.3)
        defer { connection.close() }
        try connection.request("GET", "/")
        XCTAssertEqual(try connection.getResponse().text, "first")
        assertFails("timed out after 0.3 s during response head read") {
            try connection.request("GET", "/")
            _ = try connection.getResponse()
        }
        XCTAssertEqual(server.connections, 1)
    }

    func testRequestGoDoesNotSendATimedOutRequestAgain() throws {
        let server = try Self.slowOnReuse()
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        XCTAssertEqual(try server.request(pool: pool).fetch(on: reactor, timeout: 0.3).text, "first")
        assertFails("timed out after 0.3 s during response head read") {
            _ = try server.request(pool: pool).fetch(on: reactor, timeout: 0.3)
        }
        XCTAssertEqual(server.connections, 1)
    }
}
