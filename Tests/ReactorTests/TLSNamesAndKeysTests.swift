import Foundation
import XCTest

@testable import Reactor

#if canImport(Glibc)
    import Glibc
#endif

/// What a client checks a server's name against, and what it sends as SNI (RFC 6066 §3, RFC 9525
/// §6.3); and private keys, which load unencrypted or not at all (never by asking for a
/// passphrase on the terminal or standard input).
final class TLSNamesAndKeysTests: XCTestCase {
    private func handshake(name: String, trust: [String], server: TLSContext) throws -> TLSEnginePair {
        let pair = try TLSEnginePair(
            clientContext: TLSContext.client(trustedCertificatesPEM: trust), serverName: name,
            serverContext: server)
        try pair.handshake()
        return pair
    }

    /// "example.test." is the fully-qualified spelling of "example.test" (it resolves and connects): the
    /// certificate for example.test must verify, and SNI must carry the name without the dot.
    func testTrailingDotHostnameVerifies() throws {
        let s = try TLSContext.selfSigned(hostname: "example.test")
        let pair = try handshake(name: "example.test.", trust: [XCTUnwrap(s.certificatePEM)], server: s)
        XCTAssertEqual(pair.client.info?.verifyResult, "ok")
    }

    /// RFC 6066 §3: the SNI HostName is sent "without a trailing dot".
    func testTrailingDotIsNotSentInSNI() throws {
        let s = try TLSContext.selfSigned(hostname: "example.test")
        let pair = try TLSEnginePair(
            clientContext: TLSContext.client(verify: false), serverName: "example.test.", serverContext: s)
        try pair.handshake()
        XCTAssertEqual(pair.server.info?.serverName, "example.test")
    }

    /// An empty expected name must not silently turn the host-name check off (it is rejected when SNI is
    /// sent; without SNI `SSL_set1_host(ssl, "")` clears the expected names and any trusted certificate,
    /// whatever it names, is accepted).
    func testEmptyServerNameWithoutSNIStillChecksName() throws {
        let s = try TLSContext.selfSigned(hostname: "unrelated.test")
        let client = try TLSContext.client(trustedCertificatesPEM: [s.certificatePEM!])
        do {
            let pair = TLSEnginePair(
                client: try TLSEngine(context: client, role: .client(serverName: "", sendsSNI: false)),
                server: try TLSEngine(context: s, role: .server))
            try pair.handshake()
            XCTFail("handshake with an empty expected name succeeded: no host name was checked")
        } catch {}
    }

    /// Weak default: a certificate without subjectAltName is accepted through its subject CN
    /// (RFC 9525 §6.3 / RFC 6125 §6.4.4: clients must not fall back to CN-ID; browsers and Go reject).
    func testCommonNameFallbackIsNotUsed() throws {
        let s = try TLSContext.server(
            certificatePEM: TLSTestCertificates.cnOnlyCert, privateKeyPEM: TLSTestCertificates.cnOnlyKey)
        let error = assertTLSError {
            _ = try self.handshake(name: "cnonly.test", trust: [TLSTestCertificates.cnOnlyCert], server: s)
        }
        XCTAssertEqual(error?.kind, .certificateVerification)
    }

    /// A scoped IPv6 literal (what getaddrinfo accepts for link-local targets) is still an IP literal:
    /// RFC 6066 §3 forbids it in SNI.
    func testScopedIPv6LiteralIsNotSentAsSNI() throws {
        let s = try TLSContext.selfSigned(hostname: "localhost")
        let pair = try TLSEnginePair(
            clientContext: TLSContext.client(verify: false), serverName: "fe80::1%lo", serverContext: s)
        try pair.handshake()
        XCTAssertNil(pair.server.info?.serverName)
    }

    /// Runs `body` with standard input replaced by a pipe holding `input` (write end left open, as a
    /// daemon's inherited stdin would be).
    private func withStdin(_ input: String, _ body: () throws -> Void) throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        _ = input.withCString { write(fds[1], $0, strlen($0)) }
        let saved = dup(0)
        dup2(fds[0], 0)
        defer {
            dup2(saved, 0)
            close(saved)
            close(fds[0])
            close(fds[1])
        }
        try body()
    }

    func testEncryptedKeyPEMIsRefusedNotPrompted() throws {
        try withStdin("secret\n") {
            do {
                _ = try TLSContext.server(
                    certificatePEM: TLSTestCertificates.encCert, privateKeyPEM: TLSTestCertificates.encKey)
                XCTFail("an encrypted key was accepted: its passphrase was read from standard input")
            } catch let error as TLSError {
                XCTAssertEqual(error.kind, .configuration)
            }
        }
    }

    func testEncryptedKeyFileIsRefusedNotPrompted() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-encrypted-key-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let c = dir.appendingPathComponent("c.pem"), k = dir.appendingPathComponent("k.pem")
        try TLSTestCertificates.encCert.write(to: c, atomically: true, encoding: .utf8)
        try TLSTestCertificates.encKey.write(to: k, atomically: true, encoding: .utf8)
        try withStdin("secret\n") {
            do {
                _ = try TLSContext.server(certificateChainFile: c.path, privateKeyFile: k.path)
                XCTFail("an encrypted key file was accepted: its passphrase was read from standard input")
            } catch let error as TLSError {
                XCTAssertEqual(error.kind, .configuration)
            }
        }
    }
}
