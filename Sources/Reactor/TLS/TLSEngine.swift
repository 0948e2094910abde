internal import COpenSSL

/// One TLS session as a sans-IO state machine: ciphertext goes in and out through byte buffers, plaintext
/// through `read`/`write`. No file descriptor is involved; the I/O layer moves the bytes.
///
/// Driving it:
/// 1. Feed every byte received from the socket to `receiveCiphertext(_:)`; on end of stream call
///    `receivedEOF()`.
/// 2. Call `handshake()` until it returns `.complete`, then `read(into:)` / `write(_:)`.
/// 3. After **every** call, send what `hasCiphertextToSend` reports (`takeCiphertext(into:)` or
///    `withCiphertextToSend(_:)`): handshake flights, records, alerts, session tickets and close_notify all
///    come out there.
/// 4. While `hasBufferedInput` is true, `read` can make progress without new ciphertext: a host loop must not
///    block on the socket then (report `timeout() == 0`).
///
/// Not thread-safe: use one engine from one thread at a time. Failures never crash; they throw `TLSError`.
public final class TLSEngine {
    public enum Role: Sendable, Hashable {
        /// `serverName` is sent as SNI (unless it is an IP literal or `sendsSNI` is false) and, when the
        /// context verifies, checked against the certificate: DNS SANs for names, IP SANs for IPv4/IPv6
        /// literals (`[::1]` allowed). Not sending SNI never turns the check off.
        case client(serverName: String?, sendsSNI: Bool = true)
        case server
    }

    public let context: TLSContext
    public let role: Role

    /// The `SSL*`; owns the transport BIO. Freed in deinit.
    private let ssl: OpaquePointer
    private let transport: TLSTransport
    /// Set when a call ran out of input (or hit close_notify or an error); cleared when ciphertext or EOF
    /// arrives.
    private var starvedForInput = false
    /// Latched once OpenSSL reports the handshake finished: after a later fatal error OpenSSL's own state
    /// no longer says so.
    private var handshakeDone = false
    private var cachedInfo: TLSInfo?

    public init(context: TLSContext, role: Role) throws {
        self.context = context
        self.role = role
        self.transport = TLSTransport()
        TLSErrorQueue.clear()
        guard let ssl = SSL_new(context.raw) else {
            throw TLSErrorQueue.error(.configuration, "cannot create an SSL session")
        }
        guard let bio = TLSTransportBIO.make(for: transport) else {
            SSL_free(ssl)
            throw TLSErrorQueue.error(.configuration, "cannot create the transport BIO")
        }
        // One BIO for both directions: SSL_set_bio takes over its single reference.
        SSL_set_bio(ssl, bio, bio)
        self.ssl = ssl
        // From here on deinit frees `ssl` if configuration throws.

        switch role {
        case .server:
            SSL_set_accept_state(ssl)
        case .client(let serverName, let sendsSNI):
            SSL_set_connect_state(ssl)
            if let serverName { try configureClient(for: TLSHostname(serverName), sendsSNI: sendsSNI) }
        }
    }

    deinit {
        SSL_free(ssl)
    }

    private func configureClient(for host: TLSHostname, sendsSNI: Bool) throws {
        let verifies = SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER != 0
        switch host {
        case .dns(let name):
            // `SSL_set1_host` with an empty name clears the names to check: no check at all.
            guard !name.isEmpty else { throw TLSError(kind: .configuration, reason: "an empty server name") }
            guard !sendsSNI || cossl_set_tlsext_host_name(ssl, name) == 1 else {
                throw TLSErrorQueue.error(.configuration, "cannot set SNI \(name)")
            }
            if verifies {
                // RFC 9525 §6.3: the name is matched against the subjectAltName only, never the
                // subject's common name; no partial wildcards (`f*.example.com`).
                SSL_set_hostflags(
                    ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT))
                guard SSL_set1_host(ssl, name) == 1 else {
                    throw TLSErrorQueue.error(.configuration, "cannot set the expected host name \(name)")
                }
            }
        case .ipAddress(let address):
            // RFC 6066 §3: literal IP addresses are not permitted in SNI.
            if verifies {
                guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), address) == 1 else {
                    throw TLSErrorQueue.error(.configuration, "cannot set the expected IP address \(address)")
                }
            }
        }
    }

    // MARK: Ciphertext in

    /// Queues ciphertext received from the peer (one copy).
    public func receiveCiphertext(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        transport.inbound.append(bytes)
        starvedForInput = false
    }

    public func receiveCiphertext(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { receiveCiphertext($0) }
    }

    /// The peer closed its sending side. Queued ciphertext is still processed; after that, a missing
    /// close_notify makes `read`/`handshake` throw `.unexpectedEOF`, while a received one gives `.closed`.
    public func receivedEOF() {
        transport.inboundEOF = true
        starvedForInput = false
    }

    // MARK: Ciphertext out

    /// True when ciphertext waits to be sent.
    public var hasCiphertextToSend: Bool { !transport.outbound.isEmpty }

    /// How many ciphertext bytes wait to be sent.
    public var pendingCiphertextCount: Int { transport.outbound.count }

    /// Appends all pending ciphertext to `buffer` and forgets it. When `buffer` is empty its storage is simply
    /// exchanged with the engine's (no copy), so the I/O layer can keep one buffer and `write` it at once.
    public func takeCiphertext(into buffer: inout [UInt8]) {
        transport.outbound.moveAll(appendingTo: &buffer)
    }

    /// Zero-copy send: calls `body` with all pending ciphertext (one contiguous buffer; empty when there is
    /// none) and drops as many bytes as `body` returns — typically what one `write(2)` accepted. Keep the
    /// bytes' order: whatever is not consumed is offered again next time.
    public func withCiphertextToSend(_ body: (UnsafeRawBufferPointer) throws -> Int) rethrows {
        // `body` sees a snapshot of the queue; it may call back into the engine, whose new ciphertext lands
        // behind the bytes being sent.
        let consumed = try transport.outbound.withReadableBytes(body)
        transport.outbound.consume(max(0, min(consumed, transport.outbound.count)))
    }

    // MARK: Handshake

    /// True once the handshake has completed (it stays true after a later failure or shutdown).
    public var isHandshakeComplete: Bool {
        if !handshakeDone && SSL_is_init_finished(ssl) == 1 { handshakeDone = true }
        return handshakeDone
    }

    /// Advances the handshake with the ciphertext received so far.
    public func handshake() throws -> TLSHandshakeState {
        if isHandshakeComplete { return .complete }
        TLSErrorQueue.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            handshakeDone = true
            return .complete
        }
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            starvedForInput = true
            return .needsMoreInput
        default:
            throw failure(code)
        }
    }

    // MARK: Plaintext

    /// Decrypts into `buffer`. Runs (or finishes) the handshake first if needed.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> TLSReadResult {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .bytes(0) }
        _ = isHandshakeComplete  // latch before a failure can hide it
        TLSErrorQueue.clear()
        var count = 0
        if SSL_read_ex(ssl, base, buffer.count, &count) == 1 { return .bytes(count) }
        let code = SSL_get_error(ssl, 0)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            starvedForInput = true
            return .needsMoreInput
        case SSL_ERROR_ZERO_RETURN:
            TLSErrorQueue.clear()
            starvedForInput = true
            return .closed
        default:
            throw failure(code)
        }
    }

    /// Encrypts `plaintext` into records queued for sending.
    ///
    /// All or nothing: returns `plaintext.count` once the handshake is complete (the output queue has no
    /// size limit, so OpenSSL never has to stop half-way; watch `pendingCiphertextCount` for back-pressure).
    /// Returns 0 and consumes nothing while the handshake still needs peer input; write again later (the
    /// bytes may be in a different buffer then). Throws after a fatal error or a local `shutdown()`.
    public func write(_ plaintext: UnsafeRawBufferPointer) throws -> Int {
        guard let base = plaintext.baseAddress, plaintext.count > 0 else { return 0 }
        _ = isHandshakeComplete  // latch before a failure can hide it
        TLSErrorQueue.clear()
        var written = 0
        if SSL_write_ex(ssl, base, plaintext.count, &written) == 1 { return written }
        let code = SSL_get_error(ssl, 0)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            starvedForInput = true
            return 0
        default:
            throw failure(code)
        }
    }

    public func write(_ plaintext: [UInt8]) throws -> Int {
        try plaintext.withUnsafeBytes { try write($0) }
    }

    /// Decrypted bytes waiting inside OpenSSL (`SSL_pending`): a `read` returns them without new input.
    public var bufferedPlaintextCount: Int { Int(SSL_pending(ssl)) }

    /// True when `read` can make progress without new ciphertext: decrypted bytes wait
    /// (`bufferedPlaintextCount > 0`), or ciphertext arrived that no call has looked at since the engine last
    /// ran out of input. A host loop must not block while this is true.
    public var hasBufferedInput: Bool {
        bufferedPlaintextCount > 0
            || (!starvedForInput && (!transport.inbound.isEmpty || transport.inboundEOF))
    }

    // MARK: Closing

    /// Queues close_notify (send it like any ciphertext). Later writes throw; reads still deliver what the
    /// peer sends until its own close_notify. Does nothing before the handshake completed or after a fatal
    /// error, and never throws.
    public func shutdown() {
        guard isHandshakeComplete else { return }
        TLSErrorQueue.clear()
        if SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN == 0 {
            _ = SSL_shutdown(ssl)
        }
        TLSErrorQueue.clear()
    }

    /// True once the peer's close_notify has been read.
    public var receivedCloseNotify: Bool { SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN != 0 }

    // MARK: Session facts

    /// What the handshake negotiated; nil until it completes.
    public var info: TLSInfo? {
        if let cachedInfo { return cachedInfo }
        guard isHandshakeComplete else { return nil }
        let info = makeInfo()
        cachedInfo = info
        return info
    }

    private func makeInfo() -> TLSInfo {
        let cipher = SSL_get_current_cipher(ssl)
        var alpnData: UnsafePointer<UInt8>? = nil
        var alpnLength: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &alpnData, &alpnLength)
        let alpn = alpnData.flatMap { data in
            alpnLength == 0
                ? nil
                : String(decoding: UnsafeBufferPointer(start: data, count: Int(alpnLength)), as: UTF8.self)
        }
        return TLSInfo(
            protocolVersion: String(cString: SSL_get_version(ssl)),
            cipher: cipher.flatMap { SSL_CIPHER_standard_name($0) }.map { String(cString: $0) } ?? "",
            cipherOpenSSLName: cipher.flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) }
                ?? "",
            alpn: alpn,
            peerCertificateSubject: SSL_get0_peer_certificate(ssl).flatMap { TLSPEM.subject(of: $0) },
            verifyResult: Self.verifyText(SSL_get_verify_result(ssl)),
            serverName: SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) })
    }

    private static func verifyText(_ result: Int) -> String {
        if result == Int(X509_V_OK) { return "ok" }
        return X509_verify_cert_error_string(result).map { String(cString: $0) }
            ?? "verify error \(result)"
    }

    // MARK: Errors

    /// Turns a failed call's `SSL_get_error` code and the error queue into a `TLSError`.
    private func failure(_ code: Int32) -> TLSError {
        starvedForInput = true
        let queue = TLSErrorQueue.drain()
        let lines = queue.lines
        let duringHandshake = !handshakeDone

        if transport.inboundEOF
            && (code == SSL_ERROR_SYSCALL
                || queue.contains(sslReason: SSL_R_UNEXPECTED_EOF_WHILE_READING))
        {
            let reason =
                duringHandshake
                ? "unexpected EOF: the peer closed the connection during the TLS handshake"
                : "unexpected EOF: the peer closed the connection without close_notify"
            return TLSError(kind: .unexpectedEOF, reason: reason, openSSLErrors: lines)
        }

        if case .client = role, duringHandshake, SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER != 0 {
            let result = SSL_get_verify_result(ssl)
            if result != Int(X509_V_OK) {
                return TLSError(
                    kind: .certificateVerification,
                    reason: "certificate verify failed: \(Self.verifyText(result))", openSSLErrors: lines)
            }
        }

        let what = duringHandshake ? "TLS handshake failed" : "TLS connection failed"
        let kind: TLSError.Kind = duringHandshake ? .handshake : .protocolViolation
        switch code {
        case SSL_ERROR_SSL:
            return queue.error(kind, what)
        case SSL_ERROR_SYSCALL:
            // With an in-memory BIO there is no errno; this is OpenSSL giving up on the transport.
            return queue.error(kind, "\(what): transport error")
        default:
            return queue.error(kind, "\(what): SSL_get_error \(code)")
        }
    }
}

@available(*, unavailable)
extension TLSEngine: Sendable {}
