public import Reactor

/// Why a stream operation failed.
///
/// Peer faults (`protocolViolation`, `connectionClosed`, `bodyTooLarge`) carry what a server
/// answers with (`status`); misuse of the API (`invalidState`, `contentLengthMismatch`,
/// `invalidHeaders`) is thrown to the caller and never reaches the peer as garbage.
public enum HTTPStreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The peer sent something that is not valid HTTP.
    case protocolViolation(HTTP1ParseError)
    /// The connection ended before the message was complete.
    case connectionClosed(String)
    /// A body larger than the caller's limit (a server answers 413, RFC 9110 §15.5.14).
    case bodyTooLarge(limit: Int)
    /// The call does not fit the stream's state (a body before headers, headers twice, …).
    case invalidState(String)
    /// The body written does not match the Content-Length sent (RFC 9110 §8.6).
    case contentLengthMismatch(declared: UInt64, written: UInt64)
    /// Headers that cannot be sent as given.
    case invalidHeaders(String)
    /// A transfer or content coding could not be decoded or encoded.
    case coding(ContentCodingError)
    /// The socket failed (reset, TLS error, closed).
    case socket(SocketError)
    /// The peer reset the stream (HTTP/2) or the connection gave up on it.
    case reset(String)

    /// The status a server answers with when this error ends the reading of a request, if any.
    public var status: Int? {
        switch self {
        case .protocolViolation(let error): return error.status
        case .bodyTooLarge: return 413
        case .coding: return 400
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .protocolViolation(let error): return "invalid HTTP from the peer: \(error)"
        case .connectionClosed(let what): return "connection closed \(what)"
        case .bodyTooLarge(let limit): return "body larger than \(limit) bytes"
        case .invalidState(let what): return what
        case .contentLengthMismatch(let declared, let written):
            return "body of \(written) bytes does not match content-length \(declared)"
        case .invalidHeaders(let what): return "invalid headers: \(what)"
        // A transfer or a content coding, decoded or encoded: the error says what failed.
        case .coding(let error): return "body coding: \(error)"
        case .socket(let error): return "\(error)"
        case .reset(let why): return "stream reset: \(why)"
        }
    }
}
