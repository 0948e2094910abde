import Foundation
import Stepwise
import XCTest

/// `ClientOptions.serverName` (lua-http's `sendname`): what is sent as SNI, and that turning SNI
/// off never turns certificate verification off.
final class ClientSNITests: XCTestCase {
    /// The server answers with the SNI it received ("-" for none).
    static let answer: @Sendable (any HTTPStream, HTTP1MessageHead) async throws -> Void = { stream, _ in
        try await reply(stream, stream.checkTLS()?.serverName ?? "-")
    }

    func testDisabledSendsNoNameButStillVerifiesTheHost() throws {
        let certificate = try SelfSignedCertificate(hostname: "localhost")
        let server = try TestServer(
            tlsContext: try TLSContext.server(
                certificatePEM: certificate.certificatePEM, privateKeyPEM: certificate.privateKeyPEM,
                alpn: ["http/1.1"]),
            Self.answer)
        defer { server.stop() }
        var options = ClientOptions(host: "localhost", port: server.port, tls: true)
        options.family = AF_INET
        options.tlsContext = try TLSContext.client(
            trustedCertificatesPEM: [certificate.certificatePEM], alpn: ["http/1.1"])

        XCTAssertEqual(try getBodyOverClientConnect(options), "localhost")
        options.serverName = .disabled
        XCTAssertEqual(try getBodyOverClientConnect(options), "-", "no SNI when disabled")

        // The same trusted certificate names localhost, not 127.0.0.1: refused with SNI off too.
        options.host = "127.0.0.1"
        XCTAssertThrowsError(try getBodyOverClientConnect(options)) { error in
            XCTAssertTrue("\(error)".contains("certificate verify failed"), "\(error)")
        }
    }
}
