public import HTTPCore
public import Logging

/// A request the high-level client can send: lua-http's `http.request` with Swift names.
///
/// A request is a bundle of values: where to connect (`host`, `port`, `tls`, `tlsContext`,
/// `sendName`, `resolver`, `version`), what to send (`headers`, with the pseudo-headers `:method`,
/// `:scheme`, `:authority`, `:path`, and `body`), and how to follow redirects. Sending it (`go()`)
/// is an extension in another file; everything here is pure data and builds without I/O, apart
/// from `setBody(filePath:)`, which looks at the file.
///
/// ```swift
/// let request = try Request(uri: "https://user:pw@example.com/search?q=swift")
/// request.headers.append("accept", "text/html")
/// request.setBody("name=value")
/// ```
///
/// Requests are mutable objects, as in lua-http, and not synchronized: they are `Sendable` so they
/// can be handed to another thread, but only one thread may use one at a time. `clone()` gives an
/// independent copy.
public final class Request: @unchecked Sendable {
    /// The host to connect to: the URI's host (an IPv6 address without brackets). Changing it
    /// does not change `:authority`, so a request can be sent to another address than its URI
    /// names.
    public var host: String
    /// The port to connect to: the URI's, or its scheme's default.
    public var port: Int
    /// Whether to connect with TLS: true for `https` and `wss`.
    public var tls: Bool
    /// The TLS settings to use; nil means the client's defaults (peer verification on).
    public var tlsContext: TLSContext?
    /// The TLS server name (SNI) to send: by default `host` unless it is an IP address.
    public var sendName: SendName = .automatic
    /// Looks up `host` (default: `Resolver.shared`); see `ClientOptions.resolver`.
    public var resolver: Resolver = .shared
    /// The HTTP version to use; nil negotiates (h2 through ALPN over TLS, else HTTP/1.1).
    public var version: HTTPVersionPreference?
    /// The header fields to send, pseudo-headers first.
    public var headers: Headers
    /// Whether `go()` follows redirects. Default true.
    public var followRedirects = true
    /// How many more redirects may be followed; `handleRedirect` refuses at 0 and returns a request
    /// with one less. Default 5. `Int.max` never gives up.
    public var maxRedirects = 5
    /// Keep POST as POST (with its body) after a 301, as RFC 9110 §15.4.2 allows, instead of
    /// changing it to a body-less GET as browsers do. Default false.
    public var post301 = false
    /// Keep POST as POST (with its body) after a 302 (RFC 9110 §15.4.3). Default false.
    public var post302 = false
    /// Seconds `go()` waits for `100 Continue` before sending the body anyway, when `expect:
    /// 100-continue` was sent. Default 1.
    public var expect100Timeout: Double = 1
    /// Whether `go()` asks for (`accept-encoding: gzip, deflate`, unless the field is set, or
    /// `identity` with a `range`: `automaticAcceptEncoding`) and transparently decodes a gzip or
    /// deflate `content-encoding` (not of a 206, whose range is of the encoded octets). Default
    /// true.
    public var decodeContent = true
    /// The keep-alive connections `go()` uses; nil (the default) opens a fresh connection and
    /// closes it after the response, as lua-http does.
    public var pool: ConnectionPool?
    /// The HTTP/1 settings (the parser's limits, buffering, `bodyLimit`: `ClientOptions.http1`)
    /// of the connections `go()` opens itself, without a `pool`. A pooled connection is shared
    /// between requests, so it has the pool's settings (`ConnectionPool.http1`) and this is not
    /// used. Default: `H1ConnectionOptions()`.
    public var http1 = H1ConnectionOptions()
    /// Where `go()` logs, at debug level: each request sent, redirects followed, a stale pooled
    /// connection retried, and (through `ClientOptions.logger`) the connections it opens. Default
    /// label `stepwise.client`.
    public var logger = Logger(label: "stepwise.client")
    /// The body; set it with `setBody(…)`, which keeps `content-length` and `expect` in step.
    public internal(set) var body: RequestBody?

    init(host: String, port: Int, tls: Bool, headers: Headers) {
        self.host = host
        self.port = port
        self.tls = tls
        self.headers = headers
    }

    /// A request for `uri` (`http`, `https`, `ws` or `wss`; `ws` and `wss` are sent as `http`
    /// and `https`, for the WebSocket handshake).
    ///
    /// The header fields are `:method GET` (unless `headers` has a `:method`), `:scheme`,
    /// `:authority` (the port left out when it is the scheme's default, an IPv6 address in
    /// brackets), `:path` (the URI's path or `/`, plus `?query`; the fragment is never sent, RFC
    /// 9110 §7.1), then the other fields of `headers`, and `user-agent: stepwise/<version>` unless
    /// `headers` has one. A userinfo becomes `authorization: Basic …` (percent-decoded, marked
    /// never-index; see `BasicCredentials`), replacing any in `headers`.
    ///
    /// With `:method CONNECT` in `headers`, this is `Request.connect(uri:authority:)`: `uri` is the
    /// proxy, `headers` must have the `:authority` to tunnel to, and the userinfo becomes
    /// `proxy-authorization`.
    ///
    /// - Throws: `RequestError.invalidURI`, `.unsupportedScheme`, `.missingHost`, and for CONNECT
    ///   `.connectWithPath`, `.connectWithQuery`, `.missingConnectAuthority`,
    ///   `.invalidConnectAuthority`.
    public convenience init(uri: String, headers: Headers? = nil) throws(RequestError) {
        let parsed: URI
        do throws(URIError) {
            parsed = try URI(parsing: uri)
        } catch {
            throw RequestError.invalidURI(error)
        }
        guard let tls = Request.usesTLS(scheme: parsed.scheme) else {
            throw RequestError.unsupportedScheme(parsed.scheme)
        }
        guard let host = parsed.host, !host.isEmpty else { throw RequestError.missingHost }
        let port = parsed.port ?? (tls ? 443 : 80)
        var fields = headers ?? Headers()
        let isConnect = fields.first(":method") == "CONNECT"
        if isConnect {
            try Request.checkConnect(proxy: parsed, headers: fields)
        } else {
            fields = Request.pseudoHeadersFirst(
                fields, method: fields.first(":method") ?? "GET", scheme: tls ? "https" : "http",
                authority: HTTPUtil.authority(host: host, port: port, scheme: parsed.scheme), path: parsed.originForm)
        }
        if let userinfo = parsed.userinfo {
            fields.setSingle(
                Request.credentialsField(connect: isConnect),
                BasicCredentials.authorizationValue(userinfo: userinfo), neverIndex: true)
        }
        if !fields.has("user-agent") { fields.append("user-agent", StepwiseVersion.userAgent) }
        self.init(host: host, port: port, tls: tls, headers: fields)
    }

    /// A CONNECT request (RFC 9110 §9.3.6) asking the proxy at `uri` for a tunnel to `authority`
    /// (`host:port`). `uri` may not have a path other than `/` or a query; its userinfo becomes
    /// `proxy-authorization`.
    /// - Throws: as `init(uri:headers:)`.
    public static func connect(uri: String, authority: String) throws(RequestError) -> Request {
        var headers = Headers()
        headers.append(":method", "CONNECT")
        headers.append(":authority", authority)
        return try Request(uri: uri, headers: headers)
    }

    /// An independent copy: the same settings, its own `headers` (a value, so changes to either
    /// stay apart), the same `body` (bytes are a value; a file is re-read; a producer is shared).
    public func clone() -> Request {
        let copy = Request(host: host, port: port, tls: tls, headers: headers)
        copy.tlsContext = tlsContext
        copy.sendName = sendName
        copy.resolver = resolver
        copy.version = version
        copy.followRedirects = followRedirects
        copy.maxRedirects = maxRedirects
        copy.post301 = post301
        copy.post302 = post302
        copy.expect100Timeout = expect100Timeout
        copy.decodeContent = decodeContent
        copy.pool = pool
        copy.http1 = http1
        copy.logger = logger
        copy.body = body
        return copy
    }

    /// The SNI name `go()` sends: `sendName` applied to `host`.
    public var sniHostName: String? { sendName.serverName(forHost: host) }

    // MARK: - Helpers

    /// True for https/wss, false for http/ws, nil for other schemes (lower case).
    static func usesTLS(scheme: String) -> Bool? {
        switch scheme {
        case "http", "ws": return false
        case "https", "wss": return true
        default: return nil
        }
    }

    /// The field that carries the URI's userinfo: a CONNECT request's credentials are for the
    /// proxy (RFC 9110 §11.7.2), other requests' for the origin (§11.6.2).
    static func credentialsField(connect: Bool) -> String {
        connect ? "proxy-authorization" : "authorization"
    }

    /// `:method`, `:scheme`, `:authority`, `:path`, then the other fields of `headers` in order
    /// (other pseudo-headers, such as `:protocol`, first): RFC 9113 §8.3 "All pseudo-header fields
    /// MUST appear in a field block before all regular field lines".
    private static func pseudoHeadersFirst(
        _ headers: Headers, method: String, scheme: String, authority: String, path: String
    ) -> Headers {
        let replaced: Set<String> = [":method", ":scheme", ":authority", ":path"]
        var result = Headers(capacity: headers.count + 4)
        result.append(":method", method)
        result.append(":scheme", scheme)
        result.append(":authority", authority)
        result.append(":path", path)
        let others = headers.filter { !replaced.contains($0.name) }
        for field in others where field.name.utf8.first == UInt8(ascii: ":") {
            result.append(field.name, field.value, neverIndex: field.neverIndex)
        }
        for field in others where field.name.utf8.first != UInt8(ascii: ":") {
            result.append(field.name, field.value, neverIndex: field.neverIndex)
        }
        return result
    }

    /// A CONNECT request's proxy URI has no path beyond `/` (RFC 3986 §6.2.3 makes `http://p` and
    /// `http://p/` the same) and no query, and its `:authority` is `host:port`.
    private static func checkConnect(proxy: URI, headers: Headers) throws(RequestError) {
        guard proxy.path.isEmpty || proxy.path == "/" else { throw RequestError.connectWithPath }
        guard proxy.query == nil else { throw RequestError.connectWithQuery }
        guard let authority = headers.first(":authority") else { throw RequestError.missingConnectAuthority }
        // No scheme, so no default port: the port is required.
        guard (try? HTTPUtil.splitAuthority(authority, scheme: "")) != nil else {
            throw RequestError.invalidConnectAuthority(authority)
        }
    }
}
