/// What the HTTP/1 connections of one server (or one client) share instead of holding a copy
/// each: their options and the cached `Date` value. An idle keep-alive connection is then a few
/// hundred bytes; with ten thousand of them that is the difference that matters.
///
/// Like the connections that use it, a context belongs to one reactor's thread.
public final class H1ConnectionContext: @unchecked Sendable {
    public let options: H1ConnectionOptions
    /// The IMF-fixdate of the current second, formatted at most once a second for all of them.
    var dateCache = HTTPDateCache()

    public init(options: H1ConnectionOptions = H1ConnectionOptions()) {
        self.options = options
    }
}

/// Who hears a connection's events when a closure each per connection is too much (a server
/// with many connections sets one delegate on all of them). It is told before the matching
/// closure (`onStream`, `onClose`, `onRequestError`), which still runs if set. Held weakly.
public protocol H1ConnectionDelegate: AnyObject {
    /// Server: a request's stream, on the reactor's thread. Return true when handled; false
    /// leaves it to `onStream` or `nextIncomingStream`.
    func connection(_ connection: H1Connection, didReceive stream: H1Stream) -> Bool
    /// The connection closed (once).
    func connectionDidClose(_ connection: H1Connection)
    /// Server: a request was rejected as invalid before any handler saw it.
    func connection(_ connection: H1Connection, rejected error: HTTP1ParseError)
}
