internal import COpenSSL

/// A freshly generated EC P-256 key and a self-signed X.509 v3 certificate for one host, in PEM.
///
/// The certificate names exactly the given host: its common name (when it fits the 64-byte limit) and one
/// subjectAltName, an IP address for an IP literal and a DNS name otherwise. Nothing else (no `localhost`,
/// no loopback addresses) is added. The serial number is 159 random bits; validity starts five minutes ago
/// (clock skew) and lasts ten years. Extensions: `basicConstraints=critical,CA:FALSE`,
/// `subjectKeyIdentifier=hash`, `extendedKeyUsage=serverAuth`, `subjectAltName`.
public struct SelfSignedCertificate: Sendable {
    public let hostname: String
    /// The certificate, to serve or to trust (`TLSContext.client(trustedCertificatesPEM:)`).
    public let certificatePEM: String
    /// The unencrypted PKCS#8 private key.
    public let privateKeyPEM: String

    public init(hostname: String) throws {
        let subjectAltName: String
        switch TLSHostname(hostname) {
        case .ipAddress(let address):
            subjectAltName = "IP:\(address)"
        case .dns(let name):
            guard TLSHostname.isValidDNSName(name) else {
                throw TLSError(
                    kind: .configuration,
                    reason: "cannot make a certificate for \"\(name)\": not a valid host name")
            }
            subjectAltName = "DNS:\(name)"
        }
        let host = TLSHostname(hostname).text

        TLSErrorQueue.clear()
        guard let rawKey = cossl_ec_keygen("P-256") else {
            throw TLSErrorQueue.error(.configuration, "cannot generate an EC P-256 key")
        }
        let key = TLSPrivateKey(owning: rawKey)
        guard let rawCertificate = X509_new() else {
            throw TLSErrorQueue.error(.configuration, "cannot allocate a certificate")
        }
        let certificate = TLSX509(owning: rawCertificate)
        let x509 = certificate.raw

        try Self.check(
            X509_set_version(x509, Int(X509_VERSION_3)) == 1, "cannot set the certificate version")
        try Self.setRandomSerialNumber(x509)
        try Self.check(X509_gmtime_adj(X509_getm_notBefore(x509), -300) != nil, "cannot set notBefore")
        try Self.check(
            X509_time_adj_ex(X509_getm_notAfter(x509), Self.validityDays, 0, nil) != nil,
            "cannot set notAfter")

        guard let name = X509_get_subject_name(x509) else {
            throw TLSErrorQueue.error(.configuration, "certificate has no subject name")
        }
        let hostBytes = Array(host.utf8)
        if hostBytes.count <= 64 {
            try Self.check(
                X509_NAME_add_entry_by_txt(
                    name, "CN", COSSL_MBSTRING_ASC, hostBytes, Int32(hostBytes.count), -1, 0)
                    == 1, "cannot set the common name")
        }
        try Self.check(X509_set_issuer_name(x509, name) == 1, "cannot set the issuer name")
        try Self.check(X509_set_pubkey(x509, key.raw) == 1, "cannot set the public key")

        var extensionContext = X509V3_CTX()
        X509V3_set_ctx(&extensionContext, x509, x509, nil, nil, 0)
        let extensions: [(Int32, String)] = [
            (NID_basic_constraints, "critical,CA:FALSE"),
            (NID_subject_key_identifier, "hash"),
            (NID_ext_key_usage, "serverAuth"),
            (NID_subject_alt_name, subjectAltName),
        ]
        for (nid, value) in extensions {
            guard let x509Extension = X509V3_EXT_conf_nid(nil, &extensionContext, nid, value) else {
                throw TLSErrorQueue.error(.configuration, "cannot build certificate extension \(value)")
            }
            defer { X509_EXTENSION_free(x509Extension) }
            try Self.check(
                X509_add_ext(x509, x509Extension, -1) == 1, "cannot add certificate extension \(value)")
        }

        try Self.check(X509_sign(x509, key.raw, EVP_sha256()) > 0, "cannot sign the certificate")

        self.hostname = host
        self.certificatePEM = try TLSPEM.encode(certificate: x509)
        self.privateKeyPEM = try TLSPEM.encode(privateKey: key)
    }

    /// Ten years, counting the leap days.
    private static let validityDays: Int32 = 3653

    private static func setRandomSerialNumber(_ x509: OpaquePointer) throws {
        guard let number = BN_new() else {
            throw TLSErrorQueue.error(.configuration, "cannot allocate a serial number")
        }
        defer { BN_free(number) }
        // 159 bits: positive and within the 20 octets RFC 5280 §4.1.2.2 allows.
        try check(
            BN_rand(number, 159, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) == 1, "cannot draw a serial number")
        try check(
            BN_to_ASN1_INTEGER(number, X509_get_serialNumber(x509)) != nil, "cannot set the serial number"
        )
    }

    private static func check(_ condition: Bool, _ failure: @autoclosure () -> String) throws {
        if !condition { throw TLSErrorQueue.error(.configuration, failure()) }
    }
}
