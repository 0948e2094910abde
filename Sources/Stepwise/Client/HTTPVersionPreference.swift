/// The HTTP version a client asks for: lua-http's `version` option (1.0, 1.1 or 2; nil, which
/// `Request.version` and the client options use for "negotiate", has no case here).
public enum HTTPVersionPreference: Sendable, Hashable {
    /// HTTP/1.0 (RFC 1945): one request per connection, unless the request asks for
    /// `connection: keep-alive` and the server agrees.
    case http10
    /// HTTP/1.1 (RFC 9112), even when the server offers h2 through ALPN.
    case http11
    /// HTTP/2 (RFC 9113): over TLS through ALPN `h2`; over cleartext with prior knowledge (RFC 9113
    /// §3.3), as lua-http does.
    case http2
}
