public import HTTPCore
public import Reactor

/// Opening client connections: lua-http's `http.client`.
public enum Client {
    /// Connects (DNS, TCP or Unix, TLS with ALPN) under one `timeout` that covers every phase,
    /// and returns an HTTP connection ready for `newStream()`. Errors name the phase that failed:
    /// `connect to 127.0.0.1:9 refused`, `TLS handshake with example.test failed: …`,
    /// `example.test:443: timed out after 5.0 s during TLS handshake`.
    public static func connect(_ options: ClientOptions, on reactor: Reactor, timeout: Double? = nil) async throws
        -> H1Connection
    {
        let deadline = Deadline(timeout)
        let socket: StreamSocket
        if let path = options.path {
            socket = try await StreamSocket.connect(unixPath: path, on: reactor, timeout: timeout)
        } else {
            guard let host = options.host else { throw ClientError.invalidOptions("a host or a path is required") }
            let bind = try options.bind.map { try bindAddress($0) }
            socket = try await StreamSocket.connect(
                host: host, port: options.effectivePort, family: options.family, bind: bind, v6only: options.v6only,
                resolver: options.resolver, attemptDelay: options.connectionAttemptDelay, on: reactor, timeout: timeout)
        }
        options.logger.debug(
            "connected to \(options.path ?? "\(options.host ?? ""):\(options.effectivePort)") at \(socket.peername())")
        do {
            return try await negotiate(socket, options, timeout: deadline.remaining("connect"))
        } catch let error where isTimeout(error) {
            // One budget for every phase: name the whole target and the whole budget.
            let target = options.path ?? "\(options.host ?? ""):\(options.effectivePort)"
            throw SocketError.timedOut(target: target, phase: "TLS handshake", seconds: timeout ?? 0)
        }
    }

    /// Speaks HTTP on an already connected socket: starts TLS when `options.tls` (SNI, ALPN,
    /// verification) and picks the HTTP version. On failure the socket is closed.
    public static func negotiate(_ socket: StreamSocket, _ options: ClientOptions, timeout: Double? = nil) async throws
        -> H1Connection
    {
        do {
            if options.tls {
                let context = try options.tlsContext ?? defaultContext()
                let info = try await socket.startTLS(
                    context: context,
                    role: .client(serverName: serverName(options), sendsSNI: options.serverName != .disabled),
                    timeout: timeout)
                switch info.alpn {
                case nil, "http/1.1", "http/1.0": break
                case let other?:
                    throw ClientError.unsupportedProtocol("the server chose ALPN protocol \(other)")
                }
            }
            if let info = socket.checkTLS() {
                options.logger.debug(
                    "TLS with \(socket.peername()): \(info.protocolVersion), \(info.cipher), ALPN \(info.alpn ?? "none")"
                )
            }
            if options.version == .http2 {
                throw ClientError.unsupportedProtocol("HTTP/2 is not implemented yet")
            }
            let connection = H1Connection(
                socket: socket, type: .client, version: options.version == .http10 ? .http10 : .http11,
                options: options.http1)
            try connection.start()
            return connection
        } catch {
            socket.close()
            throw error
        }
    }

    /// The name the certificate is checked against (and, unless disabled, sent as SNI): the
    /// given name, else the host. `.disabled` only stops SNI; verification still names the host.
    static func serverName(_ options: ClientOptions) -> String? {
        switch options.serverName {
        case .named(let name): return name
        case .automatic, .disabled: return options.host
        }
    }

    /// The verifying client context offering HTTP/1.1, shared (contexts are immutable once
    /// made). HTTP/2 will add a second one offering `h2`.
    static func defaultContext() throws -> TLSContext {
        try sharedContext.get()
    }

    private static let sharedContext = Result { try TLSContext.client(alpn: ["http/1.1"]) }

    /// Parses `addr`, `addr:port` or `[v6]:port` for `bind`.
    static func bindAddress(_ text: String) throws -> SocketAddress {
        var host = text
        var port: UInt16 = 0
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let value = UInt16(rest.dropFirst()) else { throw ClientError.invalidOptions("bad bind \(text)") }
                port = value
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            guard let value = UInt16(text[text.index(after: colon)...]) else {
                throw ClientError.invalidOptions("bad bind \(text)")
            }
            port = value
        }
        guard let address = SocketAddress(ipLiteral: host, port: port) else {
            throw ClientError.invalidOptions("bind address \(text) is not an IP literal")
        }
        return address
    }
}

/// Client-side failures that are not socket or protocol errors.
public enum ClientError: Error, Equatable, CustomStringConvertible {
    case invalidOptions(String)
    case unsupportedProtocol(String)

    public var description: String {
        switch self {
        case .invalidOptions(let why): return "invalid client options: \(why)"
        case .unsupportedProtocol(let why): return "unsupported protocol: \(why)"
        }
    }
}

/// Whether an error is one of the reactor's or the sockets' timeouts.
func isTimeout(_ error: any Error) -> Bool {
    switch error {
    case ReactorError.timedOut, SocketError.timedOut: return true
    default: return false
    }
}
