// Following a redirect: lua-http's `request:handle_redirect`, with RFC 9110 §15.4's rules.

extension Request {
    /// The request that follows the redirect `response` (its header fields: `:status` and
    /// `location`) points to. `self` is not changed.
    ///
    /// - The `location` is resolved against this request's URI (RFC 9110 §10.2.2, RFC 3986 §5.2):
    ///   absolute URIs, scheme-relative `//host/x`, absolute paths and relative paths with `../`.
    ///   Its scheme sets `tls` (`:scheme` is `http` or `https`; `ws`/`wss` count as these).
    /// - When the host or port changes, `host` and `port` become the new ones and `sendName` goes
    ///   back to `.automatic`; otherwise they are kept (a request sent to a chosen address stays
    ///   there). A request with an absolute-form `:path` (to a proxy) keeps its connection target
    ///   and gets an absolute-form `:path` again. A CONNECT request keeps its `:authority` and
    ///   moves to the new proxy; the location may then have no path or query.
    /// - **Credentials do not leave their origin** (scheme, host and port; lua-http keeps them):
    ///   `authorization` and `cookie` (for CONNECT: `proxy-authorization`) are removed when the
    ///   origin changes, as curl does since CVE-2022-27776 and as the Fetch standard does for
    ///   `authorization`. A userinfo in the location sets new Basic credentials.
    /// - `referer` is set to this request's URI without userinfo or fragment (RFC 9110 §10.1.3: "A
    ///   user agent MUST NOT include the fragment and userinfo components"), and removed instead
    ///   when going from https to http (same section: "MUST NOT send a Referer header field in an
    ///   unsecured HTTP request if the referring resource was accessed with a secure protocol").
    /// - The method: after a **303** every method but GET and HEAD becomes GET (RFC 9110 §15.4.4:
    ///   the redirect is to a resource to *retrieve*; lua-http changes only POST there). After a
    ///   **301** or **302** a POST becomes GET unless `post301` / `post302` (RFC 9110 §15.4.2 and
    ///   §15.4.3 allow it "for historical reasons"); other methods stay. A request changed to GET
    ///   loses its body and `content-*`, `transfer-encoding` and `expect` fields (`removeBody()`).
    ///   Other statuses, 307 and 308 included, keep the method and the body.
    /// - A `host` field counts as the `:authority` (as `go()` sends it) and becomes one.
    /// - The new request has `maxRedirects - 1`.
    ///
    /// - Throws: `RequestError.tooManyRedirects` when `maxRedirects <= 0`, `.missingLocation`,
    ///   `.invalidLocation`, `.unsupportedScheme` (anything but http(s)/ws(s)), `.missingHost`,
    ///   `.invalidTarget` when this request's own fields do not form a URI, and for CONNECT
    ///   `.connectWithPath` / `.connectWithQuery`.
    public func handleRedirect(_ response: Headers) throws(RequestError) -> Request {
        // A `host` field is the authority the location is resolved against, as `go()` sends it.
        let sent = hostFieldAsAuthority()
        if sent !== self { return try sent.handleRedirect(response) }
        guard maxRedirects > 0 else { throw RequestError.tooManyRedirects }
        guard let location = response.first("location") else { throw RequestError.missingLocation }
        let base = try targetURI(withUserinfo: false)
        let destination = try RedirectDestination(location: location, base: base, fallbackPort: port)
        let isConnect = headers.first(":method") == "CONNECT"

        let next = clone()
        next.maxRedirects = maxRedirects - 1
        if isConnect {
            try next.moveTunnel(to: destination)
        } else {
            next.moveTarget(to: destination)
        }
        next.updateCredentials(for: destination, connect: isConnect)
        if destination.leavesTLS {
            next.headers.delete("referer")
        } else {
            next.headers.setSingle("referer", base.description)
        }
        if let method = headers.first(":method"),
            Request.redirectChangesToGET(
                status: response.first(":status"), method: method, post301: post301, post302: post302)
        {
            next.headers.setSingle(":method", "GET")
            next.removeBody()
        }
        return next
    }

    /// Points `:scheme`, `:authority` and `:path` at `destination` (an absolute-form `:path` stays
    /// absolute), and the connection too unless the authority is the same or the request goes
    /// through a proxy (absolute form).
    private func moveTarget(to destination: RedirectDestination) {
        let scheme = destination.tls ? "https" : "http"
        let authority = HTTPUtil.authority(host: destination.host, port: destination.port, scheme: scheme)
        var path = destination.uri.originForm
        let proxied = Request.isAbsoluteForm(headers.first(":path"))
        if proxied { path = scheme + "://" + authority + path }
        headers.setSingle(":scheme", scheme)
        headers.setSingle(":authority", authority)
        headers.setSingle(":path", path)
        tls = destination.tls
        if !proxied { moveConnection(to: destination) }
    }

    /// A CONNECT request keeps its `:authority` (the tunnel) and moves to the new proxy, whose URI
    /// may have no path or query.
    private func moveTunnel(to destination: RedirectDestination) throws(RequestError) {
        let uri = destination.uri
        guard uri.path.isEmpty || uri.path == "/" else { throw RequestError.connectWithPath }
        guard uri.query == nil else { throw RequestError.connectWithQuery }
        tls = destination.tls
        moveConnection(to: destination)
    }

    /// A new authority means a new `host`, `port` and default `sendName`; the same one keeps a
    /// connection target chosen by hand.
    private func moveConnection(to destination: RedirectDestination) {
        guard !destination.sameAuthority else { return }
        host = destination.host
        port = destination.port
        sendName = .automatic
    }

    /// Drops credentials when the origin changes; sets them from the location's userinfo.
    private func updateCredentials(for destination: RedirectDestination, connect: Bool) {
        let field = Request.credentialsField(connect: connect)
        if !destination.sameOrigin {
            headers.delete(field)
            if !connect { headers.delete("cookie") }
        }
        if let userinfo = destination.uri.userinfo {
            headers.setSingle(field, BasicCredentials.authorizationValue(userinfo: userinfo), neverIndex: true)
        }
    }

    /// RFC 9110 §15.4.4 (303: any method but GET and HEAD; not CONNECT, which a GET cannot
    /// replace), §15.4.2 and §15.4.3 (301, 302: POST, unless told to keep it).
    static func redirectChangesToGET(status: String?, method: String, post301: Bool, post302: Bool) -> Bool {
        switch status {
        case "303": return method != "GET" && method != "HEAD" && method != "CONNECT"
        case "301": return method == "POST" && !post301
        case "302": return method == "POST" && !post302
        default: return false
        }
    }

    /// Whether a `:path` is in absolute form (`http://host/x`, RFC 9112 §3.2.2) rather than an
    /// origin-form path or `*`.
    private static func isAbsoluteForm(_ path: String?) -> Bool {
        guard let first = path?.utf8.first else { return false }
        return first != UInt8(ascii: "/") && first != UInt8(ascii: "*")
    }
}
