import Foundation
import Stepwise
import XCTest

/// `stepwise get` over https: certificate verification by default, `--insecure` without it,
/// `--cacert` trusting a given certificate.
final class GetTLSTests: XCTestCase {
    static let answer: @Sendable (any HTTPStream, HTTP1MessageHead) async throws -> Void = { stream, head in
        try await reply(stream, "secret \(head.path ?? "")")
    }

    func testInsecureAcceptsWhatTheDefaultRefuses() throws {
        // The server's default TLS context: a fresh self-signed certificate for 127.0.0.1.
        let server = try TestServer(Self.answer)
        defer { server.stop() }
        let url = "https://127.0.0.1:\(server.port)/s"

        let refused = try stepwise(["get", url])
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(refused.stdout, "")
        assertOneLine(refused.stderr, startsWith: "stepwise: TLS handshake with 127.0.0.1")
        XCTAssertTrue(refused.stderr.contains("certificate verify failed: self-signed certificate"), refused.stderr)

        let insecure = try stepwise(["get", "--insecure", url])
        XCTAssertEqual(insecure.status, 0, insecure.stderr)
        XCTAssertEqual(insecure.stdout, "secret /s")
        XCTAssertEqual(insecure.stderr, "")
    }

    func testCACertTrustsTheGivenCertificateOnly() throws {
        let certificate = try SelfSignedCertificate(hostname: "127.0.0.1")
        let server = try TestServer(tlsContext: try Self.serverContext(certificate), Self.answer)
        defer { server.stop() }
        let url = "https://127.0.0.1:\(server.port)/ca"

        let trusted = try stepwise(["get", "--cacert", try writePEM(certificate.certificatePEM), url])
        XCTAssertEqual(trusted.status, 0, trusted.stderr)
        XCTAssertEqual(trusted.stdout, "secret /ca")

        let stranger = try SelfSignedCertificate(hostname: "127.0.0.1")
        let untrusted = try stepwise(["get", "--cacert", try writePEM(stranger.certificatePEM), url])
        XCTAssertEqual(untrusted.status, 1)
        XCTAssertEqual(untrusted.stdout, "")
        assertOneLine(untrusted.stderr, startsWith: "stepwise: TLS handshake with 127.0.0.1")
        XCTAssertTrue(untrusted.stderr.contains("certificate verify failed"), untrusted.stderr)
    }

    /// A trusted certificate for another name does not do for an IP address (RFC 9110 §4.3.4:
    /// the client "MUST verify that the service's identity … matches" the target's host).
    func testCACertForAnotherNameIsRefused() throws {
        let certificate = try SelfSignedCertificate(hostname: "elsewhere.test")
        let server = try TestServer(tlsContext: try Self.serverContext(certificate), Self.answer)
        defer { server.stop() }
        let run = try stepwise([
            "get", "--cacert", try writePEM(certificate.certificatePEM), "https://127.0.0.1:\(server.port)/",
        ])
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(run.stdout, "")
        assertOneLine(run.stderr, startsWith: "stepwise: TLS handshake with 127.0.0.1")
        XCTAssertTrue(run.stderr.contains("certificate verify failed"), run.stderr)
    }

    private static func serverContext(_ certificate: SelfSignedCertificate) throws -> TLSContext {
        try TLSContext.server(
            certificatePEM: certificate.certificatePEM, privateKeyPEM: certificate.privateKeyPEM, alpn: ["http/1.1"])
    }

    /// Writes `pem` to a temporary file removed when the test ends; returns its path.
    private func writePEM(_ pem: String) throws -> String {
        let path = NSTemporaryDirectory() + "cacert-\(UUID().uuidString).pem"
        try pem.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }
}
