/// What `TLSEngine.handshake()` reached.
public enum TLSHandshakeState: Sendable, Hashable {
    /// The handshake is done; `TLSEngine.info` is available. Ciphertext may still wait to be sent (a TLS 1.3
    /// client's Finished, a server's session tickets).
    case complete
    /// Send whatever `hasCiphertextToSend` reports, then call again after more ciphertext arrived.
    case needsMoreInput
}

/// What `TLSEngine.read(into:)` produced.
public enum TLSReadResult: Sendable, Hashable {
    /// `n` plaintext bytes (n > 0 unless the buffer was empty).
    case bytes(Int)
    /// No plaintext until more ciphertext arrives (the engine may have queued ciphertext to send).
    case needsMoreInput
    /// The peer sent close_notify: no more plaintext will come.
    case closed
}
