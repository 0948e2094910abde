import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A handler that switches protocols (101, or a 2xx to CONNECT) and then ends without taking the
/// socket (it threw after writing the answer, say): the connection must not stay open for ever
/// holding its fd and its `maxConcurrent` slot.
final class AbandonedProtocolSwitchTests: XCTestCase {
    private func switchingHandler(takes: Bool = false) -> Server.Handler {
        .task { stream in
            guard let request = try await stream.getHeaders(timeout: 5) else { return }
            var headers = Headers()
            if request.first(":method") == "CONNECT" {
                headers.append(":status", "200")
            } else {
                headers.append(":status", "101")
                headers.append("upgrade", "websocket")
                headers.append("connection", "upgrade")
            }
            // The answer is complete on the wire (a 101 ends at its head; a tunnel's 2xx has no
            // body): from here on the octets are the new protocol's.
            try await stream.writeHeaders(headers, endStream: true, timeout: 5)
            try await stream.reactor.sleep(seconds: 0.05)
            // Something went wrong after the answer: the handler gives up.
            throw TestError("gave up after switching protocols")
        }
    }

    func testSwitchedConnectionLeftByItsHandlerIsClosedWhenThePeerGoes() throws {
        let server = try startServer(
            {
                $0.intraStreamTimeout = 0.3; $0.maxConcurrent = 1
            }, handler: switchingHandler())
        let client = try TestClient(port: server.port)
        try client.send(get("/ws", "Upgrade: websocket", "Connection: Upgrade"))
        XCTAssertEqual(try client.readResponse().status, 101)
        // The peer goes away; the handler is long gone.
        client.close()
        XCTAssertTrue(
            try server.waitOnServer(within: 3) { $0.connections() == 0 },
            "the switched connection is never closed (fd and maxConcurrent slot leaked)")
        // With maxConcurrent = 1 the next client is served only if the slot was freed.
        let next = try TestClient(port: server.port)
        try next.send("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n")
        XCTAssertEqual(try next.readResponse(head: true, within: 2).status, 200)
        next.close()
    }

    func testGracefulCloseWithoutDeadlineEndsDespiteASwitchedConnectionLeftByItsHandler() throws {
        let server = try startServer(handler: switchingHandler())
        let client = try TestClient(port: server.port)
        try client.send("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n")
        XCTAssertEqual(try client.readResponse(head: true).status, 200)
        // The handler has ended (and reported its error).
        XCTAssertTrue(
            waitUntil { server.errors.withLock { $0.contains { if case .handler = $0 { true } else { false } } } })
        try server.onServer { $0.close(timeout: nil) }
        XCTAssertTrue(
            try server.waitOnServer(within: 3) { $0.empty() },
            "close() never finishes: the switched connection nobody took stays open")
    }
}
