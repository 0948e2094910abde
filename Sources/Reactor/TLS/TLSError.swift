internal import COpenSSL

/// A TLS failure, in words.
///
/// `reason` says what went wrong in one line (for example
/// `certificate verify failed: self-signed certificate`); `openSSLErrors` keeps the drained OpenSSL error
/// queue (`ERR_error_string_n` lines) for logs.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Hashable {
        /// A context or engine could not be set up: unreadable certificate or key, invalid ALPN list,
        /// a setting OpenSSL refused.
        case configuration
        /// The peer's certificate did not verify (untrusted chain, expired, hostname or IP mismatch …).
        case certificateVerification
        /// The handshake failed for another reason (alert from the peer, no shared cipher or version,
        /// malformed handshake data).
        case handshake
        /// The record layer failed after the handshake (bad record MAC, malformed record, fatal alert).
        case protocolViolation
        /// The caller reported end of stream (`TLSEngine.receivedEOF()`) and the peer had not sent
        /// close_notify: the data may have been truncated.
        case unexpectedEOF
    }

    public let kind: Kind
    public let reason: String
    public let openSSLErrors: [String]

    public init(kind: Kind, reason: String, openSSLErrors: [String] = []) {
        self.kind = kind
        self.reason = reason
        self.openSSLErrors = openSSLErrors
    }

    public var description: String {
        if openSSLErrors.isEmpty { return reason }
        return "\(reason) [\(openSSLErrors.joined(separator: "; "))]"
    }
}

/// The calling thread's OpenSSL error queue.
struct TLSErrorQueue {
    /// The drained error codes, oldest first.
    let codes: [UInt]

    /// Forgets whatever earlier calls left behind, so the next `SSL_get_error` only sees its own call.
    static func clear() {
        ERR_clear_error()
    }

    /// Removes every queued error from the thread's queue and keeps them.
    static func drain() -> TLSErrorQueue {
        var codes: [UInt] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            codes.append(code)
        }
        return TLSErrorQueue(codes: codes)
    }

    /// The reason of the oldest error, e.g. `certificate verify failed` or, for a system error, the
    /// `strerror` text (`No such file or directory`): the last field of its `ERR_error_string_n` line
    /// (`error:<code>:<library>:<function>:<reason>`).
    var firstReason: String? {
        guard let line = lines.first else { return nil }
        let fields = line.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false)
        guard fields.count == 5, !fields[4].isEmpty else { return nil }
        return String(fields[4])
    }

    /// True when some error carries the SSL library reason `reason` (an `SSL_R_*` value).
    func contains(sslReason reason: Int32) -> Bool {
        codes.contains { ERR_GET_LIB($0) == ERR_LIB_SSL && ERR_GET_REASON($0) == reason }
    }

    /// Every error as an `ERR_error_string_n` line, e.g. `error:0A000086:SSL routines::certificate verify failed`.
    var lines: [String] {
        var buffer = [CChar](repeating: 0, count: 256)
        return codes.map { code in
            buffer.withUnsafeMutableBufferPointer { text -> String in
                ERR_error_string_n(code, text.baseAddress, text.count)
                return String(cString: text.baseAddress!)
            }
        }
    }

    /// Drains the queue into a `TLSError` of `kind` whose reason is `context`, followed by the first
    /// OpenSSL reason if there is one.
    static func error(_ kind: TLSError.Kind, _ context: String) -> TLSError {
        drain().error(kind, context)
    }

    func error(_ kind: TLSError.Kind, _ context: String) -> TLSError {
        let reason = firstReason.map { "\(context): \($0)" } ?? context
        return TLSError(kind: kind, reason: reason, openSSLErrors: lines)
    }
}
