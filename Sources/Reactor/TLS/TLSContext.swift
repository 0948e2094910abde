internal import COpenSSL

/// TLS configuration shared by many connections: wraps an `SSL_CTX`.
///
/// Immutable once created, so it may be shared across threads; each connection gets its own `TLSEngine`.
/// Contexts made here accept TLS 1.2 and 1.3 only (or 1.3 only), never compress, and refuse renegotiation.
public final class TLSContext: @unchecked Sendable {
    /// The `SSL_CTX*`; freed in deinit.
    let raw: OpaquePointer
    /// For server contexts made by this type: the leaf certificate served, in PEM. For `selfSigned` this is
    /// the certificate a client must trust. Nil for client and adopted contexts.
    public let certificatePEM: String?
    /// Kept alive for the ALPN select callback, which reaches it through a raw pointer.
    private let alpnSelector: TLSALPNSelector?

    /// Takes over a context configured elsewhere: one reference of `context` (an `SSL_CTX*`) now belongs to
    /// this object and is released in deinit (call `SSL_CTX_up_ref` first to keep your own). Hostname checks
    /// for client engines are enabled when the context's verify mode includes `SSL_VERIFY_PEER`.
    public init(adopting context: OpaquePointer) {
        self.raw = context
        self.certificatePEM = nil
        self.alpnSelector = nil
    }

    private init(raw: OpaquePointer, certificatePEM: String?, alpnSelector: TLSALPNSelector?) {
        self.raw = raw
        self.certificatePEM = certificatePEM
        self.alpnSelector = alpnSelector
    }

    deinit {
        SSL_CTX_free(raw)
    }

    /// True when engines made from this context verify the peer's certificate.
    public var verifiesPeer: Bool {
        SSL_CTX_get_verify_mode(raw) & SSL_VERIFY_PEER != 0
    }

    // MARK: Clients

    /// A client context.
    ///
    /// - Parameters:
    ///   - verify: verify the server's certificate chain and name (default). The chain is checked against the
    ///     system CA store, `trustedCertificatesPEM` and `caFile`.
    ///   - trustedCertificatesPEM: extra trust anchors, each string holding one or more PEM certificates.
    ///   - caFile: a PEM file of extra trust anchors.
    ///   - alpn: protocols to offer, most preferred first (e.g. `["h2", "http/1.1"]`).
    public static func client(
        verify: Bool = true, trustedCertificatesPEM: [String] = [], caFile: String? = nil,
        alpn: [String] = [],
        minimumVersion: TLSVersion = .tls12
    ) throws -> TLSContext {
        let alpnWire = try TLSALPN.wireFormat(alpn)
        let trusted = try trustedCertificatesPEM.flatMap { try TLSPEM.certificates(in: $0) }
        let ctx = try newContext(method: TLS_client_method(), minimumVersion: minimumVersion)
        do {
            if verify {
                SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
                guard SSL_CTX_set_default_verify_paths(ctx) == 1 else {
                    throw TLSErrorQueue.error(.configuration, "cannot load the system CA store")
                }
            } else {
                SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
            }
            if !trusted.isEmpty {
                guard let store = SSL_CTX_get_cert_store(ctx) else {
                    throw TLSErrorQueue.error(.configuration, "context has no certificate store")
                }
                for certificate in trusted {
                    guard X509_STORE_add_cert(store, certificate.raw) == 1 else {
                        throw TLSErrorQueue.error(.configuration, "cannot add a trusted certificate")
                    }
                }
            }
            if let caFile {
                guard SSL_CTX_load_verify_file(ctx, caFile) == 1 else {
                    throw TLSErrorQueue.error(.configuration, "cannot load CA file \(caFile)")
                }
            }
            if !alpnWire.isEmpty {
                // Returns 0 on success, unlike most of OpenSSL.
                guard SSL_CTX_set_alpn_protos(ctx, alpnWire, UInt32(alpnWire.count)) == 0 else {
                    throw TLSErrorQueue.error(.configuration, "cannot set the ALPN protocol list")
                }
            }
        } catch {
            SSL_CTX_free(ctx)
            throw error
        }
        return TLSContext(raw: ctx, certificatePEM: nil, alpnSelector: nil)
    }

    // MARK: Servers

    /// A server context from PEM files: the certificate chain (leaf first) and its private key.
    ///
    /// - Parameter alpn: protocols the server supports, most preferred first; the first one the client also
    ///   offers is selected, and without a common protocol the handshake goes on without ALPN.
    public static func server(
        certificateChainFile: String, privateKeyFile: String, alpn: [String] = [],
        minimumVersion: TLSVersion = .tls12
    ) throws -> TLSContext {
        let selector = try TLSALPNSelector(alpn)
        let ctx = try newContext(method: TLS_server_method(), minimumVersion: minimumVersion)
        do {
            guard SSL_CTX_use_certificate_chain_file(ctx, certificateChainFile) == 1 else {
                throw TLSErrorQueue.error(
                    .configuration, "cannot load certificate chain \(certificateChainFile)")
            }
            guard SSL_CTX_use_PrivateKey_file(ctx, privateKeyFile, SSL_FILETYPE_PEM) == 1 else {
                throw TLSErrorQueue.error(.configuration, "cannot load private key \(privateKeyFile)")
            }
            try finishServer(ctx, selector: selector)
            let leaf = try SSL_CTX_get0_certificate(ctx).map { try TLSPEM.encode(certificate: $0) }
            return TLSContext(raw: ctx, certificatePEM: leaf, alpnSelector: selector)
        } catch {
            SSL_CTX_free(ctx)
            throw error
        }
    }

    /// A server context from PEM text: one or more certificates (leaf first, then intermediates) and the
    /// leaf's unencrypted private key.
    public static func server(
        certificatePEM: String, privateKeyPEM: String, alpn: [String] = [],
        minimumVersion: TLSVersion = .tls12
    ) throws -> TLSContext {
        let selector = try TLSALPNSelector(alpn)
        let certificates = try TLSPEM.certificates(in: certificatePEM)
        let key = try TLSPEM.privateKey(in: privateKeyPEM)
        let leaf = try TLSPEM.encode(certificate: certificates[0].raw)
        let ctx = try newContext(method: TLS_server_method(), minimumVersion: minimumVersion)
        do {
            // Both calls take their own references; ours go away with `certificates` and `key`.
            guard SSL_CTX_use_certificate(ctx, certificates[0].raw) == 1 else {
                throw TLSErrorQueue.error(.configuration, "cannot use the certificate")
            }
            for intermediate in certificates.dropFirst() {
                guard cossl_ctx_add1_chain_cert(ctx, intermediate.raw) == 1 else {
                    throw TLSErrorQueue.error(.configuration, "cannot add a chain certificate")
                }
            }
            guard SSL_CTX_use_PrivateKey(ctx, key.raw) == 1 else {
                throw TLSErrorQueue.error(.configuration, "cannot use the private key")
            }
            try finishServer(ctx, selector: selector)
        } catch {
            SSL_CTX_free(ctx)
            throw error
        }
        return TLSContext(raw: ctx, certificatePEM: leaf, alpnSelector: selector)
    }

    /// A server context with a fresh key and a self-signed certificate for `hostname` (see
    /// `SelfSignedCertificate`). Clients trust it through `certificatePEM`.
    public static func selfSigned(hostname: String, alpn: [String] = []) throws -> TLSContext {
        let certificate = try SelfSignedCertificate(hostname: hostname)
        return try server(
            certificatePEM: certificate.certificatePEM, privateKeyPEM: certificate.privateKeyPEM,
            alpn: alpn)
    }

    // MARK: Shared set-up

    private static func newContext(method: OpaquePointer?, minimumVersion: TLSVersion) throws
        -> OpaquePointer
    {
        TLSErrorQueue.clear()
        guard let ctx = SSL_CTX_new(method) else {
            throw TLSErrorQueue.error(.configuration, "cannot create an SSL_CTX")
        }
        guard cossl_ctx_set_min_proto_version(ctx, minimumVersion.openSSLValue) == 1 else {
            SSL_CTX_free(ctx)
            throw TLSErrorQueue.error(.configuration, "cannot set the minimum TLS version")
        }
        _ = SSL_CTX_set_options(ctx, COSSL_OP_NO_COMPRESSION | COSSL_OP_NO_RENEGOTIATION)
        // A write retried after WANT_READ may come from a different buffer address.
        _ = cossl_ctx_set_mode(ctx, Int(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        // Keys are unencrypted: without a callback, OpenSSL would ask for an encrypted key's
        // passphrase on the terminal or stdin, and a server could hang at start-up.
        SSL_CTX_set_default_passwd_cb(ctx, TLSPEM.refusePassphrase)
        return ctx
    }

    private static func finishServer(_ ctx: OpaquePointer, selector: TLSALPNSelector?) throws {
        guard SSL_CTX_check_private_key(ctx) == 1 else {
            throw TLSErrorQueue.error(.configuration, "the private key does not match the certificate")
        }
        _ = SSL_CTX_set_options(ctx, COSSL_OP_CIPHER_SERVER_PREFERENCE)
        selector?.install(on: ctx)
    }
}
