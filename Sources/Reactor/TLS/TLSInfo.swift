/// What a completed handshake negotiated.
public struct TLSInfo: Sendable, Hashable {
    /// `SSL_get_version`: "TLSv1.3" or "TLSv1.2".
    public var protocolVersion: String
    /// The cipher suite's standard (IANA) name, e.g. "TLS_AES_128_GCM_SHA256" or
    /// "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".
    public var cipher: String
    /// OpenSSL's name for the same suite, e.g. "ECDHE-ECDSA-AES128-GCM-SHA256".
    public var cipherOpenSSLName: String
    /// The ALPN protocol both sides agreed on, or nil when none was negotiated.
    public var alpn: String?
    /// The peer certificate's subject in RFC 2253 form ("CN=localhost"), or nil when the peer sent none (a
    /// client, usually).
    public var peerCertificateSubject: String?
    /// "ok", or OpenSSL's text for the verification result (e.g. "self-signed certificate" when the
    /// context does not verify).
    public var verifyResult: String
    /// The server name: the SNI a server received, or the one a client sent; nil without SNI.
    public var serverName: String?

    public init(
        protocolVersion: String, cipher: String, cipherOpenSSLName: String, alpn: String?,
        peerCertificateSubject: String?, verifyResult: String, serverName: String?
    ) {
        self.protocolVersion = protocolVersion
        self.cipher = cipher
        self.cipherOpenSSLName = cipherOpenSSLName
        self.alpn = alpn
        self.peerCertificateSubject = peerCertificateSubject
        self.verifyResult = verifyResult
        self.serverName = serverName
    }

    /// True when HTTP/2 must not run over this connection (RFC 7540 §9.2): a protocol older than TLS 1.2,
    /// or a TLS 1.2 suite on the Appendix A black list. TLS 1.3 suites are never banned.
    public var isBannedForHTTP2: Bool {
        switch protocolVersion {
        case "TLSv1.3":
            return false
        case "TLSv1.2":
            return HTTP2CipherPolicy.isBanned(cipherStandardName: cipher)
        default:
            return true
        }
    }
}
