public import HTTPCore
public import Logging
public import Reactor

/// Everything a `Server` can be told (lua-http's `http.server.new`/`listen` options), each with
/// a documented default.
public struct ServerOptions: Sendable {
    /// Where to listen (host/port or a Unix path, family, v6only, mode, mask, unlink, reuseaddr,
    /// reuseport, backlog). Ignored by `Server(listener:…)`.
    public var listen = ListenOptions(host: "127.0.0.1", port: 0)
    /// `nil` (default): plain HTTP and TLS on the same port, told apart by the first octet (a TLS
    /// handshake record starts with 0x16); `true`: TLS only; `false`: plain only.
    public var tls: Bool?
    /// The TLS context; nil makes a self-signed certificate for the listening host (lua-http's
    /// behaviour) when TLS is allowed.
    public var tlsContext: TLSContext?
    /// Pins the HTTP version served (lua-http's `version`); nil (default) serves every version
    /// the server speaks. `.http11`: HTTP/1.1 (and 1.0 clients), never HTTP/2. `.http10`: the
    /// server answers as HTTP/1.0 (`HTTP/1.0` status lines, no 1xx, no chunked: a body of unknown
    /// length ends with the connection; keep-alive only when the request asks for it) and its
    /// self-signed certificate offers ALPN `http/1.0`. `.http2` is refused (`Server.init`
    /// throws `ServerOptionsError.unsupportedVersion`): this version of Stepwise serves HTTP/1
    /// only.
    public var version: HTTPVersionPreference?
    /// How long a new connection may take to send its first octets and finish its TLS handshake.
    /// Default 10 s.
    public var connectionSetupTimeout: Double? = 10
    /// How long an idle keep-alive connection waits for its next request (lua-http's
    /// `intra_stream_timeout`). Default 10 s.
    public var intraStreamTimeout: Double? = 10
    /// How long a request head may take once it started arriving (slowloris guard; answered with
    /// 408). Default 10 s.
    public var headerReadTimeout: Double? = 10
    /// The most connections served at once; accepting pauses at the limit. nil (default): no limit.
    public var maxConcurrent: Int?
    /// HTTP/1 settings (parser limits, buffering, drain limit, date, transfer codings);
    /// `idleTimeout` and `headerReadTimeout` there are taken from this struct's values.
    public var http1 = H1ConnectionOptions()
    /// Where the server logs (`Server.logger` starts as this): handler and accept errors at error
    /// level, rejected requests at info, failed connection setups at debug.
    public var logger = Logger(label: "stepwise.server")

    public init() {}

    /// Options listening on `host`:`port` (port 0: the kernel picks one; see `Server.localname()`).
    public init(host: String, port: UInt16) {
        listen = ListenOptions(host: host, port: port)
    }

    /// Options listening on the Unix socket at `path`.
    public init(path: String, mode: UInt32? = nil, unlink: Bool = false) {
        listen = ListenOptions(path: path, mode: mode, unlink: unlink)
    }

    var connectionOptions: H1ConnectionOptions {
        var options = http1
        options.idleTimeout = intraStreamTimeout
        options.headerReadTimeout = headerReadTimeout
        return options
    }
}

/// Options a `Server` cannot be made with.
public enum ServerOptionsError: Error, Equatable, CustomStringConvertible {
    /// `ServerOptions.version` pins a version this server does not speak.
    case unsupportedVersion(HTTPVersionPreference)

    public var description: String {
        switch self {
        case .unsupportedVersion(let version):
            return "the server cannot serve only \(version): it speaks HTTP/1.0 and 1.1"
        }
    }
}
