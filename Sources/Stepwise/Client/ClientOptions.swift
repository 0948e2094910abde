import Glibc
public import HTTPCore
public import Logging
public import Reactor

/// Where and how `Client.connect` connects (lua-http's `http.client.connect` options).
public struct ClientOptions: Sendable {
    /// The host name or IP literal; nil with `path` set.
    public var host: String?
    /// The port; nil: 443 with TLS, else 80.
    public var port: UInt16?
    /// A Unix socket path instead of host and port.
    public var path: String?
    /// `AF_INET`, `AF_INET6` or `AF_UNSPEC` (default: whatever DNS gives).
    public var family: Int32 = AF_UNSPEC
    /// Looks up `host` (default: `Resolver.shared`, getaddrinfo on worker threads); another
    /// resolver plugs in another name service. The connect timeout covers the lookup.
    public var resolver: Resolver = .shared
    /// With several addresses for `host`, how long one connect attempt runs alone before the
    /// next starts beside it (Happy Eyeballs, RFC 8305 §5; kept within 0.1–2 s). Families are
    /// interleaved, and a failed attempt starts the next at once. With a port in `bind`, attempts
    /// run one at a time (two sockets cannot bind one port).
    public var connectionAttemptDelay = HappyEyeballs.defaultAttemptDelay
    /// `IPV6_V6ONLY` for an IPv6 socket: true refuses IPv4-mapped addresses, false allows them;
    /// nil (the default) leaves the system's setting.
    public var v6only: Bool?
    /// The local address to bind to before connecting (`"addr"`, `"addr:port"`, `"[v6]:port"`).
    public var bind: String?
    /// Use TLS (default false).
    public var tls = false
    /// The TLS context; nil: a verifying client context offering the ALPN protocols of `version`.
    public var tlsContext: TLSContext?
    /// The SNI name sent and verified (lua-http's `sendname`).
    public var serverName: SendName = .automatic
    /// Pin the HTTP version; nil: the best the server agrees to (HTTP/1.1 until HTTP/2 lands).
    public var version: HTTPVersionPreference?
    /// HTTP/1 settings of the connection.
    public var http1 = H1ConnectionOptions()
    /// Where the connection's set-up is logged, at debug level: the address connected to and
    /// the TLS session (protocol, cipher, ALPN). Default label `stepwise.client`.
    public var logger = Logger(label: "stepwise.client")

    public init(host: String? = nil, port: UInt16? = nil, tls: Bool = false) {
        self.host = host
        self.port = port
        self.tls = tls
    }

    /// The port to connect to.
    public var effectivePort: UInt16 { port ?? (tls ? 443 : 80) }
}
