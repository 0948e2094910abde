import Glibc

/// Socket and name-resolution failures, each saying which step failed and why.
/// Indirect: a socket keeps one word for `failure`, not the ~40 bytes of the largest case.
public indirect enum SocketError: Error, Equatable, CustomStringConvertible {
    case invalidAddress(String)
    /// `getaddrinfo` failed: host and gai_strerror text.
    case resolutionFailed(host: String, reason: String)
    /// The name resolved to no address of the requested family.
    case noAddresses(host: String)
    case connectFailed(target: String, errno: Int32)
    /// A deadline passed in a named phase ("DNS", "connect", "TLS handshake", …).
    case timedOut(target: String, phase: String, seconds: Double)
    case system(operation: String, errno: Int32)
    /// The peer closed the connection before the expected bytes arrived.
    case unexpectedEOF(String)
    /// A line was longer than the limit.
    case lineTooLong(limit: Int)
    /// More data than a read that collects everything (`readToEnd`) accepts.
    case tooLarge(limit: Int)
    /// The socket was closed locally while an operation waited.
    case closed
    /// The TLS handshake failed: who with and why (`certificate verify failed: …`).
    case tlsHandshake(peer: String, reason: String)
    /// TLS failed after the handshake (a bad record, a fatal alert).
    case tls(peer: String, reason: String)
    /// `StreamSocket.sendFile`: the file ended this many octets before the count to send.
    case fileEnded(missing: UInt64)
    /// The socket cannot do what was asked in its state (`sendFile` on a TLS socket).
    case unsupported(String)

    public var description: String {
        switch self {
        case .invalidAddress(let address): return "invalid address: \(address)"
        case .resolutionFailed(let host, let reason): return "DNS lookup of \(host) failed: \(reason)"
        case .noAddresses(let host): return "DNS lookup of \(host) found no usable address"
        case .connectFailed(let target, let errno):
            switch errno {
            case ECONNREFUSED: return "connect to \(target) refused"
            default: return "connect to \(target) failed: \(String(cString: strerror(errno)))"
            }
        case .timedOut(let target, let phase, let seconds):
            return "\(target): timed out after \(seconds) s during \(phase)"
        case .system(let operation, let errno):
            return "\(operation): \(String(cString: strerror(errno)))"
        case .unexpectedEOF(let what): return "connection closed by peer \(what)"
        case .lineTooLong(let limit): return "line longer than \(limit) bytes"
        case .tooLarge(let limit): return "more than \(limit) bytes before the end of the stream"
        case .closed: return "socket closed"
        case .tlsHandshake(let peer, let reason): return "TLS handshake with \(peer) failed: \(reason)"
        case .tls(let peer, let reason): return "TLS with \(peer) failed: \(reason)"
        case .fileEnded(let missing): return "the file ended \(missing) octets before the count to send"
        case .unsupported(let what): return "not supported: \(what)"
        }
    }

    static func last(_ operation: String) -> SocketError {
        .system(operation: operation, errno: errno)
    }
}
