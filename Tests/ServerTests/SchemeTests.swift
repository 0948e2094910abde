import Stepwise
import XCTest

/// The `:scheme` a handler sees: `https` on a TLS connection, `http` on a plain one, on one port,
/// whatever connection served before (the connections of a server share their parsers).
final class SchemeTests: XCTestCase {
    /// Answers with the request's `:scheme` and whether the stream is on TLS.
    private static let handler = Server.Handler.task { stream in
        guard let request = try await stream.getHeaders(timeout: 5) else { return }
        var headers = Headers()
        headers.append(":status", "200")
        let scheme = request.first(":scheme") ?? "none"
        try stream.writeMessage(headers, body: "\(scheme) \(stream.checkTLS() != nil ? "tls" : "plain")")
    }

    func testSchemeIsHTTPSOnTLSAndHTTPOnPlainConnectionsOfOnePort() throws {
        let server = try startServer(handler: Self.handler)
        let plain = try TestClient(port: server.port)
        let secure = try TestClient(tlsPort: server.port, alpn: ["http/1.1"])
        // Alternating, each connection idle in between, and then new connections of both kinds.
        for _ in 0..<2 {
            XCTAssertEqual(try plain.exchange(get("/")).text, "http plain")
            XCTAssertEqual(try secure.exchange(get("/")).text, "https tls")
        }
        XCTAssertEqual(try TestClient(tlsPort: server.port).exchange(get("/")).text, "https tls")
        XCTAssertEqual(try TestClient(port: server.port).exchange(get("/")).text, "http plain")
        XCTAssertEqual(try TestClient(tlsPort: server.port).exchange(get("/")).text, "https tls")
    }

    func testSchemeOnTLSOnlyAndPlainOnlyServers() throws {
        let secure = try startServer({ $0.tls = true }, handler: Self.handler)
        XCTAssertEqual(try TestClient(tlsPort: secure.port).exchange(get("/")).text, "https tls")
        let plain = try startServer({ $0.tls = false }, handler: Self.handler)
        XCTAssertEqual(try TestClient(port: plain.port).exchange(get("/")).text, "http plain")
    }
}
