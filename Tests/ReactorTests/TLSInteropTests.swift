import Foundation
import Reactor
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Our engine against the `openssl` command-line tools over loopback TCP. The sockets and pumping are
/// test scaffolding; every wait is bounded.
final class TLSInteropTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        // A dead child's stdin pipe must not kill the test process.
        signal(SIGPIPE, SIG_IGN)
    }

    /// Our client ↔ `openssl s_server -rev` (which echoes each line reversed), TLS 1.3 and ALPN.
    func testClientAgainstOpenSSLServer() throws {
        let openssl = try requireOpenSSL()
        let (directory, cleanup) = try makeTemporaryDirectory()
        defer { cleanup() }
        let certificate = try SelfSignedCertificate(hostname: "localhost")
        let (server, port) = try startOpenSSLServer(
            openssl, certificate: certificate, directory: directory,
            extraArguments: ["-alpn", "h2,http/1.1"])
        defer { server.stop() }

        let fd = try TestSockets.connectToLoopback(port: port)
        defer { close(fd) }
        let context = try TLSContext.client(
            trustedCertificatesPEM: [certificate.certificatePEM], alpn: ["h2", "http/1.1"])
        let engine = try TLSEngine(context: context, role: .client(serverName: "localhost"))
        let pump = TestSocketPump(fd: fd, engine: engine)
        let deadline = TestDeadline(seconds: 15)

        try pump.handshake(deadline: deadline)
        let info = try XCTUnwrap(engine.info)
        XCTAssertEqual(info.alpn, "h2")
        XCTAssertEqual(info.protocolVersion, "TLSv1.3")
        XCTAssertEqual(info.verifyResult, "ok")
        XCTAssertEqual(info.peerCertificateSubject, "CN=localhost")
        XCTAssertFalse(info.isBannedForHTTP2)

        let line = "hello from stepwise"
        XCTAssertEqual(try engine.write(Array((line + "\n").utf8)), line.utf8.count + 1)
        try pump.flush(deadline: deadline)
        let (reply, _) = try pump.read(deadline: deadline) { $0.contains(UInt8(ascii: "\n")) }
        XCTAssertEqual(String(decoding: reply, as: UTF8.self), String(line.reversed()) + "\n")

        engine.shutdown()
        try pump.flush(deadline: deadline)
        XCTAssertTrue(
            deadline.wait { server.output.text.contains("CONNECTION ESTABLISHED") },
            "s_server output: \(server.output.text)")
    }

    /// TLS 1.2 with a CBC suite: negotiates, and is flagged as banned for HTTP/2.
    func testClientAgainstOpenSSLServerWithTLS12BannedCipher() throws {
        let openssl = try requireOpenSSL()
        let (directory, cleanup) = try makeTemporaryDirectory()
        defer { cleanup() }
        let certificate = try SelfSignedCertificate(hostname: "localhost")
        let (server, port) = try startOpenSSLServer(
            openssl, certificate: certificate, directory: directory,
            extraArguments: ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"])
        defer { server.stop() }

        let fd = try TestSockets.connectToLoopback(port: port)
        defer { close(fd) }
        let context = try TLSContext.client(
            trustedCertificatesPEM: [certificate.certificatePEM], alpn: ["h2"])
        let engine = try TLSEngine(context: context, role: .client(serverName: "localhost"))
        let pump = TestSocketPump(fd: fd, engine: engine)
        let deadline = TestDeadline(seconds: 15)

        try pump.handshake(deadline: deadline)
        let info = try XCTUnwrap(engine.info)
        XCTAssertEqual(info.protocolVersion, "TLSv1.2")
        XCTAssertEqual(info.cipher, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA")
        XCTAssertEqual(info.cipherOpenSSLName, "ECDHE-ECDSA-AES128-SHA")
        XCTAssertNil(info.alpn, "s_server was started without -alpn")
        XCTAssertTrue(info.isBannedForHTTP2)

        _ = try engine.write(Array("abc\n".utf8))
        try pump.flush(deadline: deadline)
        let (reply, _) = try pump.read(deadline: deadline) { $0.contains(UInt8(ascii: "\n")) }
        XCTAssertEqual(String(decoding: reply, as: UTF8.self), "cba\n")
        engine.shutdown()
        try pump.flush(deadline: deadline)
    }

    /// Our server ↔ `openssl s_client`, which verifies our self-signed certificate and negotiates h2.
    func testServerAgainstOpenSSLClient() throws {
        let openssl = try requireOpenSSL()
        let (directory, cleanup) = try makeTemporaryDirectory()
        defer { cleanup() }
        let context = try TLSContext.selfSigned(hostname: "localhost", alpn: ["h2", "http/1.1"])
        let caFile = directory.appendingPathComponent("ca.pem").path
        try XCTUnwrap(context.certificatePEM).write(toFile: caFile, atomically: true, encoding: .utf8)

        let (listener, port) = try TestSockets.listenOnLoopback()
        defer { close(listener) }
        let client = try TestChildProcess(
            openssl,
            [
                "s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost", "-alpn", "h2",
                "-CAfile", caFile, "-verify_hostname", "localhost", "-verify_return_error", "-nocommands",
            ], withStdin: true)
        defer { client.stop() }

        let deadline = TestDeadline(seconds: 15)
        let fd = try TestSockets.accept(listener, deadline: deadline)
        defer { close(fd) }
        let engine = try TLSEngine(context: context, role: .server)
        let pump = TestSocketPump(fd: fd, engine: engine)

        try pump.handshake(deadline: deadline)
        let info = try XCTUnwrap(engine.info)
        XCTAssertEqual(info.alpn, "h2")
        XCTAssertEqual(info.serverName, "localhost")
        XCTAssertNil(info.peerCertificateSubject)

        _ = try engine.write(Array("hello from stepwise\n".utf8))
        try pump.flush(deadline: deadline)

        client.write("ping from s_client\n")
        let (request, _) = try pump.read(deadline: deadline) { $0.contains(UInt8(ascii: "\n")) }
        XCTAssertEqual(String(decoding: request, as: UTF8.self), "ping from s_client\n")

        let sawEverything = deadline.wait {
            let text = client.output.text
            return text.contains("ALPN protocol: h2") && text.contains("hello from stepwise")
                && text.contains("Verify return code: 0 (ok)")
        }
        XCTAssertTrue(sawEverything, "s_client output: \(client.output.text)")

        // s_client sends close_notify when its stdin ends.
        client.closeStdin()
        let (rest, closed) = try pump.read(deadline: deadline) { _ in false }
        XCTAssertTrue(rest.isEmpty)
        XCTAssertTrue(closed, "expected close_notify from s_client")
        engine.shutdown()
        try pump.flush(deadline: deadline)
        XCTAssertTrue(deadline.wait { !client.process.isRunning }, "s_client did not exit")
    }
}
