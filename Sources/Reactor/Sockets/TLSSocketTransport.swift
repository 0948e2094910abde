import Glibc

/// TLS over a socket: ciphertext read from the fd goes into a `TLSEngine`, plaintext comes out
/// into the stream socket's input; queued plaintext is encrypted once the handshake allows it and
/// the ciphertext is written with `send(MSG_NOSIGNAL)`.
///
/// Write interest is asked for only when ciphertext waits (or plaintext can be encrypted), so a
/// handshake in progress never spins on an always-writable socket.
final class TLSSocketTransport: SocketTransport {
    let engine: TLSEngine
    /// Who we talk to, for error messages ("TLS handshake with example.test failed: …").
    let peer: String
    private(set) var isHandshakeComplete = false
    /// Set when the handshake finishes or fails; called once.
    var onHandshake: ((Result<TLSInfo, SocketError>) -> Void)?

    init(engine: TLSEngine, peer: String) {
        self.engine = engine
        self.peer = peer
    }

    /// Starts the handshake (a client sends its ClientHello now).
    func start() -> SocketError? {
        advanceHandshake()
    }

    func receive(fd: Int32, into input: inout ByteBuffer, chunkSize: Int, scratch: ByteStorage) -> ReceiveOutcome {
        let scratch = UnsafeMutableRawBufferPointer(start: scratch.base, count: scratch.capacity)
        // Ciphertext first: whatever the kernel has, in a few reads at most.
        var sawEOF = false
        reading: for _ in 0..<4 {
            // Ciphertext goes through the reactor's shared buffer: a TLS connection keeps none.
            let n = read(fd, scratch.baseAddress, scratch.count)
            if n > 0 {
                engine.receiveCiphertext(UnsafeRawBufferPointer(rebasing: scratch[..<n]))
                if n < scratch.count { break reading }
            } else if n == 0 {
                engine.receivedEOF()
                sawEOF = true
                break reading
            } else {
                switch errno {
                case EAGAIN, EWOULDBLOCK, EINTR: break reading
                default:
                    let failure = SocketError.last("read")
                    abandonHandshake(failure)
                    return .failed(failure)
                }
            }
        }
        if !isHandshakeComplete {
            if let error = advanceHandshake() {
                // RFC 8446 §6.2: the peer is told why (the fatal alert OpenSSL queued), best effort
                // with what the socket takes now: the failure makes the socket send nothing more.
                var nothing = WriteQueue()
                _ = send(fd: fd, from: &nothing)
                return .failed(error)
            }
            if !isHandshakeComplete { return sawEOF ? .failed(handshakeEOF()) : .wouldBlock }
        }
        return decrypt(into: &input, sawEOF: sawEOF)
    }

    private func decrypt(into input: inout ByteBuffer, sawEOF: Bool) -> ReceiveOutcome {
        var produced = false
        while true {
            var result = TLSReadResult.needsMoreInput
            var failure: TLSError?
            _ = input.writeWithUnsafeMutableBytes(minimumWritableBytes: 16 * 1024) { buffer in
                do {
                    result = try engine.read(into: buffer)
                } catch let error as TLSError {
                    failure = error
                } catch {
                    failure = TLSError(kind: .protocolViolation, reason: "\(error)")
                }
                if case .bytes(let n) = result { return n }
                return 0
            }
            if let failure {
                // A peer that closes without close_notify: the end of the stream, as plain TCP
                // reports it (HTTP framing detects truncation itself).
                if failure.kind == .unexpectedEOF { return .endOfStream }
                return .failed(.tls(peer: peer, reason: failure.reason))
            }
            switch result {
            case .bytes(let n) where n > 0: produced = true
            case .closed: return .endOfStream
            default: return produced ? .received(drained: true) : (sawEOF ? .endOfStream : .wouldBlock)
            }
        }
    }

    func send(fd: Int32, from output: inout WriteQueue) -> SendOutcome {
        if isHandshakeComplete && !output.isEmpty {
            var failure: SocketError?
            output.takeAll { plaintext in
                guard failure == nil else { return }
                do {
                    _ = try engine.write(plaintext)
                } catch {
                    failure = .tls(peer: peer, reason: "\(error)")
                }
            }
            if let failure { return .failed(failure) }
        }
        while engine.hasCiphertextToSend {
            var sendError: Int32 = 0
            engine.withCiphertextToSend { ciphertext in
                let n = Glibc.send(fd, ciphertext.baseAddress, ciphertext.count, Int32(MSG_NOSIGNAL))
                if n < 0 { sendError = errno }
                return Swift.max(0, n)
            }
            switch sendError {
            case 0: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case EINTR: continue
            default:
                let failure = SocketError.system(operation: "write", errno: sendError)
                abandonHandshake(failure)
                return .failed(failure)
            }
        }
        return .done
    }

    func hasOutputToSend(plaintextQueued: Bool) -> Bool {
        engine.hasCiphertextToSend || (isHandshakeComplete && plaintextQueued)
    }

    var queuedOutputBytes: Int { engine.pendingCiphertextCount }

    func shutdown() {
        engine.shutdown()
    }

    /// Runs the handshake as far as the input allows; reports completion or failure once.
    @discardableResult
    private func advanceHandshake() -> SocketError? {
        do {
            if try engine.handshake() == .complete {
                isHandshakeComplete = true
                if let info = engine.info { finishHandshake(.success(info)) }
            }
            return nil
        } catch {
            let failure = SocketError.tlsHandshake(peer: peer, reason: (error as? TLSError)?.reason ?? "\(error)")
            finishHandshake(.failure(failure))
            return failure
        }
    }

    private func handshakeEOF() -> SocketError {
        let failure = SocketError.tlsHandshake(peer: peer, reason: "connection closed by peer")
        finishHandshake(.failure(failure))
        return failure
    }

    /// The connection failed or was closed before the handshake ended: it ends with `failure`
    /// (reported once; nothing happens after the handshake ended).
    func abandonHandshake(_ failure: SocketError) {
        if !isHandshakeComplete { finishHandshake(.failure(failure)) }
    }

    private func finishHandshake(_ result: Result<TLSInfo, SocketError>) {
        let callback = onHandshake
        onHandshake = nil
        callback?(result)
    }
}
