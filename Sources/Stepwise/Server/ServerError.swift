public import HTTPCore
public import Reactor

/// What went wrong while serving; handed to `Server.onError`. None of these stops the server.
public enum ServerError: Error, CustomStringConvertible {
    /// `accept(2)` failed. Out of descriptors (EMFILE and the like), once until a connection is
    /// accepted again: the listener retries every 30 ms meanwhile.
    case accept(SocketError)
    /// A connection failed before HTTP started (TLS handshake, a plain client on a TLS-only port).
    case connectionSetup(peer: String, reason: String)
    /// A request was rejected before any handler saw it (400, 408, 414, 431, 501, 505).
    case rejectedRequest(peer: String, error: HTTP1ParseError)
    /// A stream handler threw.
    case handler(peer: String, request: String, error: any Error)

    public var description: String {
        switch self {
        case .accept(let error): return "accept failed: \(error)"
        case .connectionSetup(let peer, let reason): return "connection from \(peer): \(reason)"
        case .rejectedRequest(let peer, let error): return "bad request from \(peer) (\(error.status)): \(error)"
        case .handler(let peer, let request, let error): return "handler for \(request) from \(peer) failed: \(error)"
        }
    }
}
