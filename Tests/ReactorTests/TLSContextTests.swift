import Foundation
import Reactor
import XCTest

/// Context construction: certificates, keys, files, adopted contexts.
final class TLSContextTests: XCTestCase {
    func testSelfSignedCertificateNamesOnlyTheHost() throws {
        let certificate = try SelfSignedCertificate(hostname: "stepwise.test")
        XCTAssertTrue(certificate.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        XCTAssertTrue(certificate.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))

        let text = try opensslText(["x509", "-noout", "-text"], input: certificate.certificatePEM)
        XCTAssertTrue(text.contains("Subject: CN = stepwise.test"), text)
        XCTAssertTrue(text.contains("DNS:stepwise.test"), text)
        XCTAssertFalse(text.contains("localhost"), text)
        XCTAssertFalse(text.contains("IP Address"), text)
        XCTAssertTrue(text.contains("prime256v1") || text.contains("P-256"), text)

        let ipText = try opensslText(
            ["x509", "-noout", "-text"], input: SelfSignedCertificate(hostname: "10.1.2.3").certificatePEM
        )
        XCTAssertTrue(ipText.contains("IP Address:10.1.2.3"), ipText)
        XCTAssertFalse(ipText.contains("DNS:"), ipText)
    }

    func testSelfSignedCertificatesGetRandomSerialsAndTenYears() throws {
        let first = try SelfSignedCertificate(hostname: "localhost")
        let second = try SelfSignedCertificate(hostname: "localhost")
        let serial1 = try opensslText(["x509", "-noout", "-serial"], input: first.certificatePEM)
        let serial2 = try opensslText(["x509", "-noout", "-serial"], input: second.certificatePEM)
        XCTAssertNotEqual(serial1, serial2)

        // Valid for at least 9.99 years from now, and not after 10 years and a few days.
        XCTAssertTrue(
            try opensslSucceeds(
                ["x509", "-noout", "-checkend", "\(Int(9.99 * 365.25 * 86400))"],
                input: first.certificatePEM))
        XCTAssertFalse(
            try opensslSucceeds(
                ["x509", "-noout", "-checkend", "\(Int(10.02 * 365.25 * 86400))"],
                input: first.certificatePEM))
    }

    func testInvalidHostNamesAreRejected() {
        XCTAssertEqual(
            assertTLSError { _ = try SelfSignedCertificate(hostname: "") }?.kind, .configuration)
        XCTAssertEqual(
            assertTLSError { _ = try SelfSignedCertificate(hostname: "a,b") }?.kind, .configuration)
        XCTAssertEqual(
            assertTLSError { _ = try SelfSignedCertificate(hostname: "DNS:evil, IP:1.2.3.4") }?.kind,
            .configuration)
    }

    func testServerFromFilesAndClientCAFile() throws {
        let certificate = try SelfSignedCertificate(hostname: "files.test")
        let (directory, cleanup) = try makeTemporaryDirectory()
        defer { cleanup() }
        let certificateFile = directory.appendingPathComponent("cert.pem").path
        let keyFile = directory.appendingPathComponent("key.pem").path
        try certificate.certificatePEM.write(toFile: certificateFile, atomically: true, encoding: .utf8)
        try certificate.privateKeyPEM.write(toFile: keyFile, atomically: true, encoding: .utf8)

        let server = try TLSContext.server(
            certificateChainFile: certificateFile, privateKeyFile: keyFile)
        XCTAssertEqual(server.certificatePEM, certificate.certificatePEM)
        let client = try TLSContext.client(caFile: certificateFile)
        let pair = try TLSEnginePair(
            clientContext: client, serverName: "files.test", serverContext: server)
        try pair.handshake()
        XCTAssertEqual(pair.client.info?.verifyResult, "ok")

        let missing = assertTLSError {
            _ = try TLSContext.server(
                certificateChainFile: directory.appendingPathComponent("nope.pem").path,
                privateKeyFile: keyFile)
        }
        XCTAssertEqual(missing?.kind, .configuration)
        XCTAssertTrue(missing?.reason.contains("nope.pem") ?? false)
        XCTAssertTrue(
            missing?.reason.hasSuffix("No such file or directory") ?? false, "\(String(describing: missing))")
    }

    func testMismatchedKeyAndBadPEMAreConfigurationErrors() throws {
        let one = try SelfSignedCertificate(hostname: "one.test")
        let two = try SelfSignedCertificate(hostname: "two.test")
        let mismatch = assertTLSError {
            _ = try TLSContext.server(
                certificatePEM: one.certificatePEM, privateKeyPEM: two.privateKeyPEM)
        }
        XCTAssertEqual(mismatch?.kind, .configuration)

        XCTAssertEqual(
            assertTLSError { _ = try TLSContext.client(trustedCertificatesPEM: ["not a certificate"]) }?
                .kind,
            .configuration)
        XCTAssertEqual(
            assertTLSError {
                _ = try TLSContext.server(certificatePEM: one.certificatePEM, privateKeyPEM: "")
            }?.kind,
            .configuration)
    }

    func testSeveralTrustedCertificatesInOneString() throws {
        let one = try TLSContext.selfSigned(hostname: "one.test")
        let two = try TLSContext.selfSigned(hostname: "two.test")
        let bundle = try XCTUnwrap(one.certificatePEM) + XCTUnwrap(two.certificatePEM)
        let client = try TLSContext.client(trustedCertificatesPEM: [bundle])
        for (server, name) in [(one, "one.test"), (two, "two.test")] {
            let pair = try TLSEnginePair(clientContext: client, serverName: name, serverContext: server)
            try pair.handshake()
            XCTAssertEqual(pair.client.info?.verifyResult, "ok")
        }
    }

    func testClientContextsHaveNoCertificateAndVerifyByDefault() throws {
        XCTAssertNil(try TLSContext.client().certificatePEM)
        XCTAssertTrue(try TLSContext.client().verifiesPeer)
        XCTAssertFalse(try TLSContext.client(verify: false).verifiesPeer)
    }

    // MARK: openssl helpers

    private func runOpenSSL(_ arguments: [String], input: String) throws -> (Int32, String) {
        let openssl = try requireOpenSSL()
        let child = try TestChildProcess(openssl, arguments, withStdin: true)
        child.write(input)
        child.closeStdin()
        XCTAssertTrue(
            TestDeadline(seconds: 10).wait { child.output.isFinished && !child.process.isRunning })
        child.stop()
        return (child.process.terminationStatus, child.output.text)
    }

    private func opensslText(_ arguments: [String], input: String) throws -> String {
        let (status, text) = try runOpenSSL(arguments, input: input)
        XCTAssertEqual(status, 0, text)
        return text
    }

    private func opensslSucceeds(_ arguments: [String], input: String) throws -> Bool {
        try runOpenSSL(arguments, input: input).0 == 0
    }
}
