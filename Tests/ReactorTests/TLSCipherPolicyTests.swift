import Reactor
import XCTest

final class TLSCipherPolicyTests: XCTestCase {
    func testBannedSuites() {
        for name in [
            "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
            "TLS_NULL_WITH_NULL_NULL", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_PSK_WITH_AES_256_CCM_8",
            "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
        ] {
            XCTAssertTrue(HTTP2CipherPolicy.isBanned(cipherStandardName: name), name)
        }
    }

    func testAllowedSuites() {
        for name in [
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
        ] {
            XCTAssertFalse(HTTP2CipherPolicy.isBanned(cipherStandardName: name), name)
        }
        // OpenSSL-style names are not IANA names and are not on the list.
        XCTAssertFalse(HTTP2CipherPolicy.isBanned(cipherStandardName: "AES128-SHA"))
    }

    func testInfoBansOnlyTLS12BlackListAndOldProtocols() {
        func info(_ version: String, _ cipher: String) -> TLSInfo {
            TLSInfo(
                protocolVersion: version, cipher: cipher, cipherOpenSSLName: "", alpn: nil,
                peerCertificateSubject: nil, verifyResult: "ok", serverName: nil)
        }
        XCTAssertFalse(info("TLSv1.3", "TLS_AES_128_GCM_SHA256").isBannedForHTTP2)
        XCTAssertFalse(info("TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256").isBannedForHTTP2)
        XCTAssertTrue(info("TLSv1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA").isBannedForHTTP2)
        XCTAssertTrue(info("TLSv1.1", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256").isBannedForHTTP2)
    }
}
