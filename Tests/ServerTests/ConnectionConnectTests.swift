import Stepwise
import XCTest

/// `H1Connection.connect(timeout:)` (lua-http's `connect`): over a socket whose TLS handshake
/// was started with the callback `startTLS`, it waits for the handshake, and reports its failure.
final class ConnectionConnectTests: XCTestCase {
    /// A client connection to `server` whose TLS handshake (with `context`) is under way.
    private func connectionStartingTLS(to server: TestServer, _ context: TLSContext, on reactor: Reactor) throws
        -> H1Connection
    {
        let socket = try reactor.run {
            try await StreamSocket.connect(host: "127.0.0.1", port: server.port, on: reactor, timeout: 5)
        }
        try socket.startTLS(context: context, role: .client(serverName: "127.0.0.1")) { _ in }
        return H1Connection(socket: socket, type: .client)
    }

    func testConnectWaitsForTheHandshake() throws {
        let server = try TestServer()
        let reactor = try Reactor()
        let connection = try connectionStartingTLS(
            to: server, try TLSContext.client(verify: false, alpn: ["http/1.1"]), on: reactor)
        defer { connection.close() }
        XCTAssertNil(connection.checkTLS(), "the handshake cannot be over before the reactor ran")
        try reactor.run { try await connection.connect(timeout: 5) }
        XCTAssertEqual(connection.checkTLS()?.alpn, "http/1.1")
        // Connected: a second call returns at once.
        try reactor.run { try await connection.connect(timeout: 0) }
    }

    func testAFailedHandshakeIsThrown() throws {
        let server = try TestServer()
        let reactor = try Reactor()
        // The server's certificate is self-signed: a verifying client refuses it.
        let connection = try connectionStartingTLS(to: server, try TLSContext.client(verify: true), on: reactor)
        defer { connection.close() }
        XCTAssertThrowsError(try reactor.run { try await connection.connect(timeout: 5) }) { error in
            guard case .socket? = error as? HTTPStreamError else { return XCTFail("\(error)") }
        }
    }

    func testAClosedConnectionCannotConnect() throws {
        let server = try TestServer()
        let reactor = try Reactor()
        let connection = try connectionStartingTLS(
            to: server, try TLSContext.client(verify: false), on: reactor)
        connection.close()
        XCTAssertThrowsError(try reactor.run { try await connection.connect(timeout: 5) }) { error in
            XCTAssertEqual(error as? HTTPStreamError, .connectionClosed("before connect"))
        }
    }
}
