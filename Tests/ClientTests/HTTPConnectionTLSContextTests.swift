import XCTest

@testable import Reactor
@testable import Stepwise

/// An https `HTTPConnection` makes its TLS context once, not for every connection: a verifying
/// context loads the system's CA store, some 25 ms of reading and parsing on the reactor's
/// thread, inside a step, which held every other connection and timer of the reactor that long
/// at each reconnect.
final class HTTPConnectionTLSContextTests: XCTestCase {
    func testAReconnectUsesTheContextTheFirstConnectionMade() throws {
        let server = try TestServer { stream, head in try await reply(stream, "\(head.path ?? "?")") }
        defer { server.stop() }
        // The test server's certificate is self-signed.
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5, scheme: "https", verify: false)
        defer { conn.close() }
        var contexts: [TLSContext] = []
        for path in ["/first", "/second"] {
            try conn.request("GET", path)
            XCTAssertEqual(try conn.getResponse().text, path)
            contexts += [conn.connection?.socket.tlsTransport?.engine.context].compactMap { $0 }
            conn.close()
        }
        XCTAssertEqual(contexts.count, 2)
        XCTAssertTrue(contexts.first === contexts.last, "the reconnect made a context of its own")
        XCTAssertEqual(server.connectionsSeen, 2)
    }

    func testAVerifyingConnectionWithNoExtraTrustUsesTheSharedContext() throws {
        let conn = try HTTPConnection(host: "127.0.0.1", port: 1, timeout: 5, scheme: "https")
        XCTAssertTrue(try conn.clientContext() === Client.defaultContext())
    }
}
