import Glibc

extension StreamSocket {
    /// Starts TLS on this connected socket (STARTTLS, or right after connect/accept). A client
    /// sends its ClientHello now; `completion` runs on the reactor's thread once the handshake
    /// finished or failed. Bytes already read into `input` (a sniffed ClientHello) are handed to
    /// TLS. Reads and writes made meanwhile wait for the handshake.
    public func startTLS(
        context: TLSContext, role: TLSEngine.Role, completion: @escaping (Result<TLSInfo, SocketError>) -> Void
    ) throws {
        precondition(tlsTransport == nil, "TLS already started on this socket")
        let engine = try TLSEngine(context: context, role: role)
        let tls = TLSSocketTransport(engine: engine, peer: peerDescription(for: role))
        tls.onHandshake = { [weak self] result in
            // Deferred: the handshake finishes inside a read, while `input` is being written.
            self?.reactor.soon {
                guard let self else { return }
                self.handshakeInProgress = false
                self.updateInterest()
                completion(result)
                if case .failure(let error) = result {
                    self.handshakeFinished(error)
                } else {
                    self.handshakeFinished(nil)
                }
            }
        }
        if input.readableBytes > 0 {
            input.withUnsafeReadableBytes { engine.receiveCiphertext($0) }
            input.consume(input.readableBytes)
        }
        transport = tls
        handshakeInProgress = true
        if let failure = tls.start() { throw failure }
        scheduleFlush()
        updateInterest()
    }

    /// Starts TLS and waits for the handshake (see the callback form). On failure or timeout the
    /// socket is unusable: close it.
    @discardableResult
    public func startTLS(context: TLSContext, role: TLSEngine.Role, timeout: Double? = nil) async throws -> TLSInfo {
        let peer = peerDescription(for: role)
        do {
            return try await reactor.suspend("TLS handshake with \(peer)", timeout: timeout) {
                (suspension: Suspension<TLSInfo>) in
                do {
                    try self.startTLS(context: context, role: role) { result in
                        switch result {
                        case .success(let info): suspension.resume(returning: info)
                        case .failure(let error): suspension.resume(throwing: error)
                        }
                    }
                } catch {
                    suspension.resume(throwing: error)
                }
                return nil
            }
        } catch ReactorError.timedOut {
            throw SocketError.timedOut(target: peer, phase: "TLS handshake", seconds: timeout ?? 0)
        }
    }

    var tlsTransport: TLSSocketTransport? { transport as? TLSSocketTransport }

    /// The server name a client verifies, else the peer's address: who error messages name.
    private func peerDescription(for role: TLSEngine.Role) -> String {
        if case .client(let serverName?, _) = role { return serverName }
        return peername().description
    }

    /// True when the peer ended a TLS session without close_notify: the input may have been cut
    /// short by whoever closed the TCP connection. False for plain sockets, before the end of
    /// input, and after a proper close_notify. RFC 9112 §9.8: a message delimited by the close is
    /// complete "only if a valid closure alert has been received".
    public var endedWithoutCloseNotify: Bool {
        guard isEOF, let tls = tlsTransport else { return false }
        return !tls.engine.receivedCloseNotify
    }

    /// The TLS session's facts (protocol, cipher, ALPN, peer certificate, verify result), or nil
    /// when the socket is not using TLS or the handshake has not finished.
    public func checkTLS() -> TLSInfo? {
        guard let tls = tlsTransport, tls.isHandshakeComplete else { return nil }
        return tls.engine.info
    }

    /// Connects and, with `tls`, runs the TLS handshake, all under one `timeout` (DNS, connect,
    /// TLS). `serverName` (default: the host) is sent as SNI unless it is an IP literal, and
    /// verified against the certificate when the context verifies.
    public static func connect(
        host: String, port: UInt16, family: Int32 = AF_UNSPEC, bind: SocketAddress? = nil, tls: TLSContext?,
        serverName: String? = nil, on reactor: Reactor, timeout: Double? = nil
    ) async throws -> StreamSocket {
        let deadline = Deadline(timeout)
        let socket = try await connect(
            host: host, port: port, family: family, bind: bind, on: reactor, timeout: timeout)
        guard let tls else { return socket }
        do {
            let remaining = try deadline.remaining("TLS handshake")
            try await socket.startTLS(context: tls, role: .client(serverName: serverName ?? host), timeout: remaining)
            return socket
        } catch {
            socket.close()
            // Out of time before or during the handshake: name the whole connect's target and budget.
            switch error {
            case SocketError.timedOut, ReactorError.timedOut:
                throw SocketError.timedOut(target: "\(host):\(port)", phase: "TLS handshake", seconds: timeout ?? 0)
            default:
                throw error
            }
        }
    }
}
