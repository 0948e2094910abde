import HTTPCore

// A `host` field among a request's headers: the authority, as `HTTP.fetch`, `HTTPConnection` and
// `stepwise get -H` take it.

extension Request {
    /// This request as `go()` and `handleRedirect` use it: when `headers` hold a `host` field
    /// (and the method is not CONNECT), a copy whose `:authority` is that field's value (the last
    /// one's, if there are several) and which has no `host` field; otherwise `self`.
    ///
    /// HTTP/1 sends `:authority` as the Host field (RFC 9112 §3.2: "A client MUST send a Host
    /// header field in all HTTP/1.1 request messages"), and exactly one (same section: a server
    /// "MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request message [...]
    /// that contains more than one Host header field line"), so both cannot go, and the field
    /// the caller added is the one they mean: it names the virtual host while `host` and `port`
    /// say where to connect, as with curl's `-H 'Host: …'`. lua-http writes both lines.
    ///
    /// A CONNECT's `:authority` is the tunnel's target, not a host name to replace: a `host`
    /// field beside it is still refused when sent (`HTTP1SerializeError.conflictingHost`).
    func hostFieldAsAuthority() -> Request {
        guard headers.first(":method") != "CONNECT", let host = headers.values(for: "host").last else { return self }
        let copy = clone()
        copy.headers.removeFields { $0.name == "host" }
        copy.headers.setSingle(":authority", host)
        return copy
    }
}
