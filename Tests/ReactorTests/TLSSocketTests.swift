import Foundation
import XCTest

@testable import Reactor

/// TLS over real sockets, driven by the reactor: our client ↔ our server, and each against the
/// openssl command-line tools.
final class TLSSocketTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        signal(SIGPIPE, SIG_IGN)
    }

    /// A TLS echo server on 127.0.0.1 that answers each line upper-cased; returns its port.
    private func startEchoServer(_ reactor: Reactor, context: TLSContext, keep: inout [AnyObject]) throws -> UInt16 {
        let listener = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        keep.append(listener)
        reactor.spawn {
            while true {
                let socket = try await listener.accept()
                reactor.spawn {
                    defer { socket.close() }
                    try await socket.startTLS(context: context, role: .server, timeout: 5)
                    while let line = try? await socket.readLine(maximumLength: 1 << 20, timeout: 1) {
                        socket.write(line.uppercased() + "\n")
                    }
                    socket.shutdownWrite()
                    try await socket.flush(timeout: 5)
                }
            }
        }
        return listener.localname().port!
    }

    func testSelfSignedServerFailsVerificationByDefaultWithAClearMessage() throws {
        let reactor = try Reactor()
        var keep: [AnyObject] = []
        let server = try TLSContext.selfSigned(hostname: "localhost")
        let port = try startEchoServer(reactor, context: server, keep: &keep)
        let client = try TLSContext.client()
        XCTAssertThrowsError(
            try reactor.run(timeout: 10) {
                try await StreamSocket.connect(host: "localhost", port: port, family: AF_INET, tls: client, on: reactor)
            }
        ) { error in
            XCTAssertEqual(
                String(describing: error),
                "TLS handshake with localhost failed: certificate verify failed: self-signed certificate")
        }
    }

    func testTrustedSelfSignedServerEchoesWithALPNAndInfo() throws {
        let reactor = try Reactor()
        var keep: [AnyObject] = []
        let server = try TLSContext.selfSigned(hostname: "localhost", alpn: ["h2", "http/1.1"])
        let port = try startEchoServer(reactor, context: server, keep: &keep)
        let client = try TLSContext.client(trustedCertificatesPEM: [server.certificatePEM!], alpn: ["h2", "http/1.1"])
        let result = try reactor.run(timeout: 10) { () async throws -> [String] in
            let socket = try await StreamSocket.connect(host: "localhost", port: port, tls: client, on: reactor)
            let info = try XCTUnwrap(socket.checkTLS())
            socket.write("hello tls\n")
            let big = String(repeating: "a", count: 200_000)
            socket.write(big + "\n")
            let first = try await socket.readLine(timeout: 5) ?? "<eof>"
            let second = try await socket.readLine(maximumLength: 300_000, timeout: 5) ?? "<eof>"
            socket.shutdownWrite()
            let end = try await socket.readLine(timeout: 5)
            socket.close()
            return [
                first, second == big.uppercased() ? "big ok" : "big wrong", end ?? "eof", info.alpn ?? "no alpn",
                info.protocolVersion, info.verifyResult, info.peerCertificateSubject ?? "no subject",
            ]
        }
        XCTAssertEqual(result[0..<5], ["HELLO TLS", "big ok", "eof", "h2", "TLSv1.3"])
        XCTAssertEqual(result[5], "ok")
        XCTAssertTrue(result[6].contains("CN=localhost"), result[6])
    }

    func testALPNFallsBackToWhatTheServerSupports() throws {
        let reactor = try Reactor()
        var keep: [AnyObject] = []
        let server = try TLSContext.selfSigned(hostname: "127.0.0.1", alpn: ["http/1.1"])
        let port = try startEchoServer(reactor, context: server, keep: &keep)
        let client = try TLSContext.client(trustedCertificatesPEM: [server.certificatePEM!], alpn: ["h2", "http/1.1"])
        let alpn = try reactor.run(timeout: 10) { () async throws -> String in
            let socket = try await StreamSocket.connect(host: "127.0.0.1", port: port, tls: client, on: reactor)
            defer { socket.close() }
            return socket.checkTLS()?.alpn ?? "none"
        }
        XCTAssertEqual(alpn, "http/1.1")
    }

    func testHandshakeTimeoutNamesThePhase() throws {
        let reactor = try Reactor()
        // A plain TCP server that never answers the ClientHello.
        let listener = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        var accepted: [StreamSocket] = []
        listener.onAccept = { accepted.append($0) }
        let port = listener.localname().port!
        let client = try TLSContext.client()
        XCTAssertThrowsError(
            try reactor.run(timeout: 10) {
                try await StreamSocket.connect(host: "127.0.0.1", port: port, tls: client, on: reactor, timeout: 0.2)
            }
        ) { error in
            XCTAssertEqual(
                error as? SocketError, .timedOut(target: "127.0.0.1:\(port)", phase: "TLS handshake", seconds: 0.2))
        }
        XCTAssertEqual(accepted.count, 1)
    }

    func testAHandshakeEndsWhenItsSocketIsClosed() throws {
        // A peer that never answers the ClientHello; the socket is closed mid-handshake.
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        defer { Glibc.close(fds[1]) }
        let socket = StreamSocket(adopting: fds[0], on: reactor)
        var completed: Result<TLSInfo, SocketError>?
        try socket.startTLS(context: try TLSContext.client(verify: false), role: .client(serverName: "a.test")) {
            completed = $0
        }
        reactor.schedule(after: 0.05) { _ in socket.close() }
        XCTAssertThrowsError(try reactor.run(timeout: 5) { try await socket.waitForHandshake() }) { error in
            XCTAssertEqual(error as? SocketError, .closed)
        }
        guard case .failure(.closed)? = completed else {
            return XCTFail("completion: \(String(describing: completed))")
        }
    }

    /// Two connected sockets over a Unix socket pair.
    private func connectedSockets(on reactor: Reactor) throws -> (StreamSocket, StreamSocket) {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
            throw SocketError.last("socketpair")
        }
        return (StreamSocket(adopting: fds[0], on: reactor), StreamSocket(adopting: fds[1], on: reactor))
    }

    /// TLS encrypts everything queued at once, so what waits for the kernel is ciphertext: it is
    /// pending output all the same (back-pressure and `write(_:timeout:)` go by it).
    func testCiphertextWaitingForTheKernelIsPendingOutput() throws {
        let reactor = try Reactor()
        let (client, server) = try connectedSockets(on: reactor)
        defer {
            client.close()
            server.close()
        }
        try server.startTLS(context: try TLSContext.selfSigned(hostname: "localhost"), role: .server) { _ in }
        let size = 4 << 20
        let pending = try reactor.run(timeout: 10) {
            try await client.startTLS(
                context: TLSContext.client(verify: false), role: .client(serverName: "localhost"), timeout: 5)
            // The server never reads: most of it cannot leave.
            client.write([UInt8](repeating: 0x61, count: size))
            XCTAssertEqual(client.pendingOutputBytes, size)
            try await reactor.sleep(seconds: 0.05)
            return client.pendingOutputBytes
        }
        XCTAssertGreaterThan(pending, size / 2, "the ciphertext that could not be sent is not counted")
        // A timed write past the high-water mark waits for it, and times out.
        XCTAssertThrowsError(
            try reactor.run(timeout: 5) { try await client.write([0x62], timeout: 0.1) }, "write did not wait")
    }

    /// A client whose verification fails tells the server why (a fatal alert, RFC 8446 §6.2), as
    /// the in-memory engine does: over a socket the alert was queued but never sent.
    func testVerifyFailureAlertReachesTheServer() throws {
        let reactor = try Reactor()
        let (client, server) = try connectedSockets(on: reactor)
        defer {
            client.close()
            server.close()
        }
        var serverResult: Result<TLSInfo, SocketError>?
        try server.startTLS(context: try TLSContext.selfSigned(hostname: "localhost"), role: .server) {
            serverResult = $0
        }
        XCTAssertThrowsError(
            try reactor.run(timeout: 5) {
                do {
                    try await client.startTLS(
                        context: TLSContext.client(), role: .client(serverName: "localhost"), timeout: 2)
                } catch {
                    client.close()
                    try await reactor.sleep(seconds: 0.2)
                    throw error
                }
            })
        guard case .failure(let error)? = serverResult else {
            return XCTFail("server: \(String(describing: serverResult))")
        }
        XCTAssertTrue("\(error)".contains("alert"), "server saw: \(error)")
    }

    func testAHandshakeEndsWhenThePeerResetsTheConnection() throws {
        let reactor = try Reactor()
        let listener = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { listener.close() }
        let port = try XCTUnwrap(listener.localname().port)
        let peer = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(peer, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        XCTAssertEqual(connected, 0)
        let context = try TLSContext.client(verify: false)
        XCTAssertThrowsError(
            try reactor.run(timeout: 5) {
                let accepted = try await listener.accept(timeout: 1)
                defer { accepted.close() }
                // The peer resets instead of answering the ClientHello.
                reactor.schedule(after: 0.05) { _ in
                    var abort = linger(l_onoff: 1, l_linger: 0)
                    setsockopt(peer, SOL_SOCKET, SO_LINGER, &abort, socklen_t(MemoryLayout<linger>.size))
                    Glibc.close(peer)
                }
                try await accepted.startTLS(context: context, role: .client(serverName: "a.test"))
            }
        ) { error in
            guard case .system(let operation, _)? = error as? SocketError else { return XCTFail("\(error)") }
            XCTAssertEqual(operation, "read")
        }
    }

    func testReactorClientAgainstOpenSSLServer() throws {
        let openssl = try requireOpenSSL()
        let (directory, cleanup) = try makeTemporaryDirectory()
        defer { cleanup() }
        let certificate = try SelfSignedCertificate(hostname: "localhost")
        let (server, port) = try startOpenSSLServer(
            openssl, certificate: certificate, directory: directory, extraArguments: ["-alpn", "h2,http/1.1"])
        defer { server.stop() }
        let reactor = try Reactor()
        let client = try TLSContext.client(trustedCertificatesPEM: [certificate.certificatePEM], alpn: ["h2"])
        let (reply, alpn) = try reactor.run(timeout: 10) { () async throws -> (String, String) in
            let socket = try await StreamSocket.connect(
                host: "127.0.0.1", port: port, tls: client, serverName: "localhost", on: reactor)
            defer { socket.close() }
            socket.write("stepwise\n")
            return (try await socket.readLine(timeout: 5) ?? "<eof>", socket.checkTLS()?.alpn ?? "none")
        }
        XCTAssertEqual(reply, "esiwpets")
        XCTAssertEqual(alpn, "h2")
    }

    func testOpenSSLClientAgainstReactorServer() throws {
        let openssl = try requireOpenSSL()
        let (directory, cleanup) = try makeTemporaryDirectory()
        defer { cleanup() }
        let reactor = try Reactor()
        let server = try TLSContext.selfSigned(hostname: "localhost", alpn: ["h2", "http/1.1"])
        let caFile = directory.appendingPathComponent("ca.pem").path
        try server.certificatePEM!.write(toFile: caFile, atomically: true, encoding: .utf8)
        var keep: [AnyObject] = []
        let port = try startEchoServer(reactor, context: server, keep: &keep)
        let client = try TestChildProcess(
            openssl,
            [
                "s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost", "-alpn", "h2", "-CAfile",
                caFile, "-verify_hostname", "localhost", "-verify_return_error", "-quiet",
            ], withStdin: true)
        defer { client.stop() }
        client.write("from s_client\n")
        try foreignLoop(reactor, for: 10, pollingEvery: 0.02) { client.output.text.contains("FROM S_CLIENT") }
        XCTAssertTrue(client.output.text.contains("FROM S_CLIENT"), "s_client printed: \(client.output.text)")
        // -quiet ignores EOF on stdin: the server ends the session (with close_notify) when its
        // read times out, and s_client must see a clean close, not "unexpected eof".
        try foreignLoop(reactor, for: 10, pollingEvery: 0.02) { !client.process.isRunning }
        XCTAssertFalse(client.output.text.contains("unexpected eof"), client.output.text)
        let info = try TestChildProcess(
            openssl, ["s_client", "-connect", "127.0.0.1:\(port)", "-alpn", "h2", "-CAfile", caFile], withStdin: true)
        info.closeStdin()
        try foreignLoop(reactor, for: 10, pollingEvery: 0.02) { !info.process.isRunning }
        XCTAssertTrue(info.output.text.contains("ALPN protocol: h2"), info.output.text)
    }
}
