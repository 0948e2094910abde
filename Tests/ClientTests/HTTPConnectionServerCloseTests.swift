import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `HTTPConnection` used from a task on its reactor, against a Stepwise `Server` that closes the
/// kept-alive connection at its `intraStreamTimeout` while the task runs on without letting the
/// reactor step: the close is in the kernel, unread, when the next request starts. It is read
/// then, and the request goes on a new connection instead of into the closed one. (A blocking
/// call steps the reactor before it sends, which reads the close too: see
/// NginxHTTPConnectionTests.testReopensAfterNginxClosedTheConnection.)
final class HTTPConnectionServerCloseTests: XCTestCase {
    func testAGetAfterTheServerClosedTheIdleConnectionGoesOnANewOne() throws {
        let (texts, connections) = try Self.secondRequestAfterTheServerClosed(method: "GET")
        XCTAssertEqual(texts, ["GET /first", "GET /second"])
        XCTAssertEqual(connections, 2)
    }

    /// A POST is never sent again (RFC 9110 §9.2.2), so it must not be sent into a connection
    /// already known to be closed: the close is seen before it goes.
    func testAPostAfterTheServerClosedTheIdleConnectionGoesOnANewOne() throws {
        let (texts, connections) = try Self.secondRequestAfterTheServerClosed(method: "POST")
        XCTAssertEqual(texts, ["GET /first", "POST /second body"])
        XCTAssertEqual(connections, 2)
    }

    /// Over TLS the server's end is a close_notify alert, then its FIN: read through the TLS
    /// session, it is seen the same way.
    func testOverTLSThePostGoesOnANewConnectionToo() throws {
        let (texts, connections) = try Self.secondRequestAfterTheServerClosed(method: "POST", scheme: "https")
        XCTAssertEqual(texts, ["GET /first", "POST /second body"])
        XCTAssertEqual(connections, 2)
    }

    /// A GET, then, once the server closed the idle connection (and its end reached this side),
    /// a `method` request, from one task that does not let the reactor step in between. Returns
    /// the two answers and the connections the server saw.
    private static func secondRequestAfterTheServerClosed(method: String, scheme: String = "http") throws
        -> ([String], Int)
    {
        let server = try TestServer(configure: { $0.intraStreamTimeout = 0.1 }) { stream, head in
            let body = try await stream.getBodyAsString(timeout: 5)
            try await reply(stream, "\(head.method ?? "?") \(head.path ?? "?")" + (body.isEmpty ? "" : " \(body)"))
        }
        defer { server.stop() }
        // The test server's certificate is self-signed.
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5, scheme: scheme, verify: false)
        defer { conn.close() }
        let texts = try conn.reactor.run { () async throws -> [String] in
            try await conn.request("GET", "/first")
            let first = try await conn.response().text
            // Blocks the reactor's thread: the connection's reactor does not step meanwhile.
            XCTAssertTrue(server.waitUntilNoConnectionIsOpen(), "the server kept the idle connection")
            XCTAssertTrue(Self.waitUntilReadable(conn.reactor.pollfd()), "the server's close did not arrive")
            try await conn.request(method, "/second", body: method == "POST" ? Array("body".utf8) : nil)
            return [first, try await conn.response().text]
        }
        return (texts, server.connectionsSeen)
    }

    /// Waits (up to 1 s) until `fd` is readable: the reactor's fd, once the socket it watches has
    /// the server's end waiting.
    private static func waitUntilReadable(_ fd: Int32) -> Bool {
        var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&waiting, 1, 1000) == 1
    }
}
