import Reactor
import XCTest

/// Client and server engines talking to each other in memory.
final class TLSEngineTests: XCTestCase {
    private static let localhost = try! TLSContext.selfSigned(hostname: "localhost")

    private func trustingClient(of server: TLSContext, alpn: [String] = []) throws -> TLSContext {
        try TLSContext.client(trustedCertificatesPEM: [XCTUnwrap(server.certificatePEM)], alpn: alpn)
    }

    // MARK: Verification

    func testSelfSignedServerIsRejectedByDefault() throws {
        let pair = try TLSEnginePair(
            clientContext: TLSContext.client(), serverName: "localhost", serverContext: Self.localhost)
        let error = assertTLSError { try pair.handshake() }
        XCTAssertEqual(error?.kind, .certificateVerification)
        XCTAssertEqual(error?.reason, "certificate verify failed: self-signed certificate")
        XCTAssertTrue(
            error?.description.contains("self-signed certificate") ?? false,
            "\(String(describing: error))")

        // The client's alert reaches the server, which fails too, with a reason.
        pair.flush()
        let serverError = assertTLSError { _ = try pair.server.handshake() }
        XCTAssertEqual(serverError?.kind, .handshake)
        XCTAssertTrue(
            serverError?.reason.hasPrefix("TLS handshake failed: tlsv1 alert") ?? false,
            "\(String(describing: serverError))")
    }

    func testTrustedSelfSignedCertificateSucceeds() throws {
        let pair = try TLSEnginePair(
            clientContext: trustingClient(of: Self.localhost), serverName: "localhost",
            serverContext: Self.localhost)
        try pair.handshake()
        XCTAssertTrue(pair.client.isHandshakeComplete)
        XCTAssertTrue(pair.server.isHandshakeComplete)
        XCTAssertEqual(pair.client.info?.verifyResult, "ok")
    }

    func testHostnameMismatchFails() throws {
        let pair = try TLSEnginePair(
            clientContext: trustingClient(of: Self.localhost), serverName: "example.com",
            serverContext: Self.localhost)
        let error = assertTLSError { try pair.handshake() }
        XCTAssertEqual(error?.kind, .certificateVerification)
        XCTAssertEqual(error?.reason, "certificate verify failed: hostname mismatch")
    }

    func testUnverifiedClientConnectsAndReportsTheVerifyResult() throws {
        let pair = try TLSEnginePair(
            clientContext: TLSContext.client(verify: false), serverName: "example.com",
            serverContext: Self.localhost)
        try pair.handshake()
        XCTAssertEqual(pair.client.info?.verifyResult, "self-signed certificate")
    }

    func testIPv4LiteralUsesIPSubjectAltNameAndNoSNI() throws {
        let server = try TLSContext.selfSigned(hostname: "127.0.0.1")
        let pair = try TLSEnginePair(
            clientContext: trustingClient(of: server), serverName: "127.0.0.1", serverContext: server)
        try pair.handshake()
        XCTAssertEqual(pair.client.info?.verifyResult, "ok")
        XCTAssertEqual(pair.client.info?.peerCertificateSubject, "CN=127.0.0.1")
        XCTAssertNil(pair.server.info?.serverName, "an IP literal must not be sent as SNI")
        XCTAssertNil(pair.client.info?.serverName)

        // The IP SAN is checked: another address fails.
        let wrong = try TLSEnginePair(
            clientContext: trustingClient(of: server), serverName: "127.0.0.2", serverContext: server)
        let error = assertTLSError { try wrong.handshake() }
        XCTAssertEqual(error?.reason, "certificate verify failed: IP address mismatch")

        // A DNS-name certificate does not cover the IP literal.
        let dnsOnly = try TLSEnginePair(
            clientContext: trustingClient(of: Self.localhost), serverName: "127.0.0.1",
            serverContext: Self.localhost)
        XCTAssertEqual(
            assertTLSError { try dnsOnly.handshake() }?.kind, .certificateVerification)
    }

    func testIPv6LiteralWithBrackets() throws {
        let server = try TLSContext.selfSigned(hostname: "::1")
        let pair = try TLSEnginePair(
            clientContext: trustingClient(of: server), serverName: "[::1]", serverContext: server)
        try pair.handshake()
        XCTAssertEqual(pair.client.info?.verifyResult, "ok")
        XCTAssertNil(pair.server.info?.serverName)
    }

    // MARK: ALPN

    private func negotiatedALPN(client: [String], server: [String]) throws -> (String?, String?) {
        let serverContext = try TLSContext.selfSigned(hostname: "localhost", alpn: server)
        let pair = try TLSEnginePair(
            clientContext: trustingClient(of: serverContext, alpn: client), serverName: "localhost",
            serverContext: serverContext)
        try pair.handshake()
        return (pair.client.info?.alpn, pair.server.info?.alpn)
    }

    func testALPNUsesTheServersPreference() throws {
        let onlyHTTP1 = try negotiatedALPN(client: ["h2", "http/1.1"], server: ["http/1.1"])
        XCTAssertEqual(onlyHTTP1.0, "http/1.1")
        XCTAssertEqual(onlyHTTP1.1, "http/1.1")

        let both = try negotiatedALPN(client: ["h2", "http/1.1"], server: ["h2", "http/1.1"])
        XCTAssertEqual(both.0, "h2")
        XCTAssertEqual(both.1, "h2")

        // The server's order wins over the client's.
        let serverFirst = try negotiatedALPN(client: ["http/1.1", "h2"], server: ["h2", "http/1.1"])
        XCTAssertEqual(serverFirst.0, "h2")
    }

    func testALPNWithoutOverlapContinuesWithoutProtocol() throws {
        let none = try negotiatedALPN(client: ["h2"], server: ["http/1.1"])
        XCTAssertNil(none.0)
        XCTAssertNil(none.1)

        let clientOffersNothing = try negotiatedALPN(client: [], server: ["h2"])
        XCTAssertNil(clientOffersNothing.0)
    }

    func testInvalidALPNNamesAreRejected() {
        XCTAssertEqual(assertTLSError { _ = try TLSContext.client(alpn: [""]) }?.kind, .configuration)
        XCTAssertEqual(
            assertTLSError { _ = try TLSContext.client(alpn: [String(repeating: "x", count: 256)]) }?
                .kind,
            .configuration)
    }

    // MARK: Data

    func testDataBothWaysIncludingOneMebibyte() throws {
        let pair = try TLSEnginePair(
            clientContext: trustingClient(of: Self.localhost), serverName: "localhost",
            serverContext: Self.localhost)
        try pair.handshake()

        XCTAssertEqual(try pair.client.write(Array("ping".utf8)), 4)
        pair.flush()
        XCTAssertEqual(try pair.server.readAvailable().bytes, Array("ping".utf8))

        var payload = [UInt8](repeating: 0, count: 1 << 20)
        for index in payload.indices {
            payload[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 8)
        }

        XCTAssertEqual(try pair.server.write(payload), payload.count)
        XCTAssertGreaterThan(pair.server.pendingCiphertextCount, payload.count)
        pair.flush()
        let received = try pair.client.readAvailable()
        XCTAssertEqual(received.bytes.count, payload.count)
        XCTAssertTrue(received.bytes == payload)
        XCTAssertFalse(received.closed)

        XCTAssertEqual(try pair.client.write(payload), payload.count)
        pair.flush()
        XCTAssertTrue(try pair.server.readAvailable().bytes == payload)
    }

    func testZeroCopySendConsumesOnlyWhatWasWritten() throws {
        let pair = try TLSEnginePair(
            clientContext: trustingClient(of: Self.localhost), serverName: "localhost",
            serverContext: Self.localhost)
        try pair.handshake()
        _ = try pair.client.write(Array(repeating: 7, count: 10_000))
        let total = pair.client.pendingCiphertextCount
        // Deliver in pieces, as short socket writes would.
        while pair.client.hasCiphertextToSend {
            pair.client.withCiphertextToSend { bytes in
                let n = min(777, bytes.count)
                pair.server.receiveCiphertext(UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
                return n
            }
        }
        XCTAssertGreaterThan(total, 10_000)
        XCTAssertEqual(try pair.server.readAvailable().bytes, Array(repeating: 7, count: 10_000))
    }

    func testWritingFromInsideTheSendClosureKeepsOrder() throws {
        let pair = try TLSEnginePair(
            clientContext: trustingClient(of: Self.localhost), serverName: "localhost", serverContext: Self.localhost)
        try pair.handshake()
        _ = try pair.client.write(Array("first ".utf8))
        try pair.client.withCiphertextToSend { bytes in
            pair.server.receiveCiphertext(bytes)
            _ = try pair.client.write(Array("second".utf8))  // re-enters the engine while `bytes` is lent out
            return bytes.count
        }
        pair.flush()
        XCTAssertEqual(try pair.server.readAvailable().bytes, Array("first second".utf8))
    }

    func testBufferedPlaintextWhenReadingLessThanARecord() throws {
        let pair = try TLSEnginePair(
            clientContext: trustingClient(of: Self.localhost), serverName: "localhost",
            serverContext: Self.localhost)
        try pair.handshake()
        _ = try pair.client.readAvailable()  // session tickets
        XCTAssertFalse(pair.client.hasBufferedInput)

        _ = try pair.server.write(Array(repeating: 42, count: 1000))
        pair.flush()
        XCTAssertTrue(pair.client.hasBufferedInput, "unread ciphertext must count as buffered input")

        var small = [UInt8](repeating: 0, count: 100)
        let first = try small.withUnsafeMutableBytes { try pair.client.read(into: $0) }
        XCTAssertEqual(first, .bytes(100))
        XCTAssertEqual(pair.client.bufferedPlaintextCount, 900)
        XCTAssertTrue(pair.client.hasBufferedInput)

        XCTAssertEqual(try pair.client.readAvailable().bytes.count, 900)
        XCTAssertEqual(pair.client.bufferedPlaintextCount, 0)
        XCTAssertFalse(pair.client.hasBufferedInput)
    }

    func testWriteBeforeHandshakeCompletesConsumesNothing() throws {
        let pair = try TLSEnginePair(
            clientContext: trustingClient(of: Self.localhost), serverName: "localhost",
            serverContext: Self.localhost)
        XCTAssertEqual(try pair.client.write(Array("early".utf8)), 0)
        XCTAssertNil(pair.client.info)
        try pair.handshake()
        XCTAssertEqual(try pair.client.write(Array("later".utf8)), 5)
        pair.flush()
        XCTAssertEqual(try pair.server.readAvailable().bytes, Array("later".utf8))
    }

    // MARK: Closing

    func testCloseNotifyGivesClosed() throws {
        let pair = try TLSEnginePair(
            clientContext: trustingClient(of: Self.localhost), serverName: "localhost",
            serverContext: Self.localhost)
        try pair.handshake()
        _ = try pair.client.write(Array("bye".utf8))
        pair.client.shutdown()
        XCTAssertTrue(pair.client.hasCiphertextToSend)
        pair.flush()

        let received = try pair.server.readAvailable()
        XCTAssertEqual(received.bytes, Array("bye".utf8))
        XCTAssertTrue(received.closed)
        XCTAssertTrue(pair.server.receivedCloseNotify)
        XCTAssertFalse(pair.server.hasBufferedInput)

        // Writing after our own shutdown is an error, not a crash.
        XCTAssertNotNil(assertTLSError { _ = try pair.client.write(Array("more".utf8)) })

        // The server answers with its own close_notify.
        pair.server.shutdown()
        pair.flush()
        XCTAssertTrue(try pair.client.readAvailable().closed)
        // EOF after close_notify is fine.
        pair.server.receivedEOF()
        XCTAssertTrue(try pair.server.readAvailable().closed)
    }

    func testEOFWithoutCloseNotifyIsAnError() throws {
        let pair = try TLSEnginePair(
            clientContext: trustingClient(of: Self.localhost), serverName: "localhost",
            serverContext: Self.localhost)
        try pair.handshake()
        _ = try pair.client.write(Array("truncated".utf8))
        pair.flush()
        XCTAssertEqual(try pair.server.readAvailable().bytes, Array("truncated".utf8))

        pair.server.receivedEOF()
        XCTAssertTrue(pair.server.hasBufferedInput, "the EOF must be read to be reported")
        let error = assertTLSError { _ = try pair.server.readAvailable() }
        XCTAssertEqual(error?.kind, .unexpectedEOF)
        XCTAssertFalse(pair.server.hasBufferedInput)
    }

    func testEOFDuringHandshakeIsAnError() throws {
        let server = try TLSEngine(context: Self.localhost, role: .server)
        server.receivedEOF()
        XCTAssertEqual(assertTLSError { _ = try server.handshake() }?.kind, .unexpectedEOF)
    }

    // MARK: Hostile input

    func testGarbageFromThePeerThrows() throws {
        let server = try TLSEngine(context: Self.localhost, role: .server)
        server.receiveCiphertext(Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        let error = assertTLSError { _ = try server.handshake() }
        XCTAssertEqual(error?.kind, .handshake)
        XCTAssertFalse(error?.openSSLErrors.isEmpty ?? true)
        // It keeps failing cleanly afterwards.
        XCTAssertNotNil(assertTLSError { _ = try server.handshake() })
    }

    func testCorruptedRecordAfterHandshakeThrows() throws {
        let pair = try TLSEnginePair(
            clientContext: trustingClient(of: Self.localhost), serverName: "localhost",
            serverContext: Self.localhost)
        try pair.handshake()
        _ = try pair.server.readAvailable()
        _ = try pair.client.write(Array(repeating: 1, count: 100))
        var record: [UInt8] = []
        pair.client.takeCiphertext(into: &record)
        record[record.count - 3] ^= 0xFF
        pair.server.receiveCiphertext(record)
        let error = assertTLSError { _ = try pair.server.readAvailable() }
        XCTAssertEqual(error?.kind, .protocolViolation)
    }

    // MARK: Info

    func testInfoFieldsAfterHandshake() throws {
        let server = try TLSContext.selfSigned(hostname: "localhost", alpn: ["h2"])
        let pair = try TLSEnginePair(
            clientContext: trustingClient(of: server, alpn: ["h2"]), serverName: "localhost",
            serverContext: server)
        XCTAssertNil(pair.client.info)
        try pair.handshake()

        let client = try XCTUnwrap(pair.client.info)
        XCTAssertEqual(client.protocolVersion, "TLSv1.3")
        XCTAssertTrue(client.cipher.hasPrefix("TLS_"), client.cipher)
        XCTAssertFalse(client.cipherOpenSSLName.isEmpty)
        XCTAssertEqual(client.alpn, "h2")
        XCTAssertEqual(client.peerCertificateSubject, "CN=localhost")
        XCTAssertEqual(client.verifyResult, "ok")
        XCTAssertEqual(client.serverName, "localhost")
        XCTAssertFalse(client.isBannedForHTTP2)

        let serverInfo = try XCTUnwrap(pair.server.info)
        XCTAssertEqual(serverInfo.protocolVersion, "TLSv1.3")
        XCTAssertEqual(serverInfo.cipher, client.cipher)
        XCTAssertEqual(serverInfo.serverName, "localhost", "the SNI the server saw")
        XCTAssertNil(serverInfo.peerCertificateSubject, "no client certificate")
        XCTAssertEqual(serverInfo.verifyResult, "ok")
    }

    func testTLS13OnlyContexts() throws {
        let client = try TLSContext.client(
            trustedCertificatesPEM: [XCTUnwrap(Self.localhost.certificatePEM)], minimumVersion: .tls13)
        let pair = try TLSEnginePair(
            clientContext: client, serverName: "localhost", serverContext: Self.localhost)
        try pair.handshake()
        XCTAssertEqual(pair.client.info?.protocolVersion, "TLSv1.3")
    }
}
