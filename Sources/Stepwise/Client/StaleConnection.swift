import HTTPCore

/// The rule `Request.go` (on a pooled connection) and `HTTPConnection` both follow when a
/// connection that served an earlier exchange turns out stale: the server closed it, or timed it
/// out, while it was idle. The request is sent once more, on a fresh connection, when it may be
/// (`mayRetry`) and the connection turned out stale before any response head, interim or final
/// (`wasStale`), or with a 408 that ends it (`isTimeoutOfAnIdleConnection`), and its body, if
/// any, can go again (each API knows its own bodies). docs/client.md gives the rule and why.
enum StaleConnection {
    /// Methods that may be retried automatically (RFC 9110 §9.2.2: the safe methods, PUT and
    /// DELETE).
    static let idempotentMethods: Set<String> = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]

    /// Whether a request may be sent again should its connection turn out stale: only on a
    /// reused connection (a new one cannot be stale: whatever it gives is the server's answer),
    /// only for an idempotent method (RFC 9110 §9.2.2: "A user agent SHOULD NOT automatically
    /// retry a request with a non-idempotent method unless it has some means to know that the
    /// request semantics are actually idempotent"), and only once (`retried`: this is the
    /// fresh connection's attempt, whose outcome is the outcome).
    static func mayRetry(method: String, reused: Bool, retried: Bool) -> Bool {
        reused && !retried && idempotentMethods.contains(method)
    }

    /// Whether a request whose exchange failed with `error` found its connection stale: the
    /// connection ended or was reset (`isStale`) before any response head arrived, **interim or
    /// final** (`responseHeadArrived`).
    ///
    /// A `1xx` is not the response (RFC 9110 §9.2.2 lets an idempotent request "be repeated
    /// automatically if a communication failure occurs before the client is able to read the
    /// server's response"), but it is the server's answer on this connection: RFC 9110 §15.2, a
    /// 1xx communicates "connection status or request progress prior to completing the requested
    /// action". The server had the request and was at work on it (after `100 Continue`, on its
    /// body too), so the connection was not stale, and a failure after it is the server's own,
    /// which a fresh connection's attempt would not be retried for either (`mayRetry`: only a
    /// reused one). curl draws the same line: it retries on a reused connection only while no
    /// header octet (an interim head's included) came.
    ///
    /// A timeout is not staleness, though `isStale` takes it for the end of a body write (a server
    /// that answered and stopped reading): a server slow to answer has the request and may be at
    /// work on it, and sending it again would have it twice, after the caller's whole limit.
    static func wasStale(failingWith error: any Error, responseHeadArrived: Bool) -> Bool {
        !responseHeadArrived && isStale(error) && !isTimeout(error)
    }

    /// Whether `error` is a limit on time that ran out, as `HTTPConnection` (`SocketError`) or the
    /// reactor (`ReactorError`) names it.
    static func isTimeout(_ error: any Error) -> Bool {
        switch error {
        case SocketError.timedOut, ReactorError.timedOut: return true
        default: return false
        }
    }

    /// Whether `error` is what a connection the server closed gives: its end (`connectionClosed`
    /// before a response, `unexpectedEOF` inside one) or a reset (for a connection idle until
    /// the request, a stale one).
    static func isStale(_ error: any Error) -> Bool {
        switch error {
        case HTTPStreamError.connectionClosed, HTTPStreamError.socket,
            HTTPStreamError.protocolViolation(.unexpectedEOF):
            return true
        case is SocketError:
            return true
        default:
            return false
        }
    }

    /// Whether `response` is a server's `408 Request Timeout` that ends the connection: the
    /// answer of a server that timed the idle connection out while the request was on its way,
    /// not an answer to the request.
    ///
    /// RFC 9110 §15.5.9: 408 means "the server did not receive a complete request message within
    /// the time that it was prepared to wait. A server SHOULD send the "close" connection option
    /// [...] since 408 implies that the server has decided to close the connection rather than
    /// continue waiting. If the client has an outstanding request in transit, the client MAY
    /// repeat that request on a new connection." The connection ends when the response says
    /// `close` (or is HTTP/1.0 without `keep-alive`, RFC 9112 §9.3) or the server's end of the
    /// connection has been seen; a 408 from a server that keeps the connection open is its
    /// answer to this request, and stays the outcome.
    static func isTimeoutOfAnIdleConnection(
        _ response: Headers, stream: any HTTPStream, on connection: H1Connection
    ) -> Bool {
        guard response.first(":status") == "408" else { return false }
        let keepsAlive =
            (stream as? H1Stream)?.peerVersion == .http10
            ? response.hasToken("connection", "keep-alive") : !response.hasToken("connection", "close")
        return !keepsAlive || connection.socket.isEOF || connection.socket.failure != nil
    }
}
