public import HTTPCore
public import Reactor

/// Keep-alive connections shared by the requests sent on one reactor.
///
/// A pool belongs to one reactor and its thread; create one per reactor and set it on the
/// requests that should share connections (`Request.pool`). Requests without a pool open a fresh
/// connection and close it after the response, as lua-http does.
///
/// ```swift
/// let pool = ConnectionPool(reactor: reactor)
/// let request = try Request(uri: "http://example.com/")
/// request.pool = pool
/// let response = try await request.fetch(on: reactor, timeout: 10)
/// ```
///
/// Connections are kept per target: scheme, host, port, TLS context identity, SNI name, HTTP
/// version and resolver identity. A connection goes back to the pool when its response has been
/// read to the end (the connection's `onIdle`), and an idle one is closed after `idleTimeout` by
/// the connection's own reactor timer. At most `maxConnectionsPerHost` connections are open per
/// target; further requests wait (under their deadline) for one to become idle or to close.
public final class ConnectionPool: @unchecked Sendable {
    /// What makes two requests able to share a connection.
    struct Key: Hashable {
        var tls: Bool
        var host: String
        var port: Int
        var tlsContext: Identity<TLSContext>?
        var sendName: SendName
        var version: HTTPVersionPreference?
        var resolver: Identity<Resolver>
    }

    /// An object compared by identity, and held: a key that kept only its address
    /// (`ObjectIdentifier`) would match another object made where a freed one was, such as a
    /// per-request resolver that looks the host up elsewhere.
    struct Identity<Object: AnyObject>: Hashable {
        let object: Object
        static func == (a: Self, b: Self) -> Bool { a.object === b.object }
        func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(object)) }
    }

    public let reactor: Reactor
    /// The most connections open at once to one target. Default 6 (what browsers allow).
    public var maxConnectionsPerHost = 6
    /// Seconds an idle connection stays open. Default 30.
    public var idleTimeout: Double = 30
    /// The HTTP/1 settings of the connections the pool opens (the parser's limits, buffering,
    /// `bodyLimit`: `ClientOptions.http1`); their `idleTimeout` is the pool's. A change applies to
    /// connections opened after it. Default: `H1ConnectionOptions()`.
    public var http1 = H1ConnectionOptions()

    private var idle: [Key: [H1Connection]] = [:]
    private var openCount: [Key: Int] = [:]
    private var waiters: [Key: [Suspension<Void>]] = [:]

    public init(reactor: Reactor) {
        self.reactor = reactor
    }

    /// The number of open connections (idle or busy) to all targets.
    public var openConnections: Int { openCount.values.reduce(0, +) }
    /// The number of idle connections to all targets.
    public var idleConnections: Int { idle.values.reduce(0) { $0 + $1.count } }

    /// Closes every idle connection (busy ones close when their exchange ends and they are idle).
    public func closeIdle() {
        let all = idle.values.flatMap { $0 }
        idle.removeAll()
        for connection in all { connection.close() }
    }

    /// A connection for `request`: an idle one (`reused` true) unless `fresh`, else a new one when
    /// under the cap, else waits for one under `deadline`.
    func checkout(for request: Request, fresh: Bool, deadline: Deadline) async throws -> (H1Connection, reused: Bool) {
        let key = Key(
            tls: request.tls, host: request.host, port: request.port,
            tlsContext: request.tlsContext.map(Identity.init), sendName: request.sendName,
            version: request.version, resolver: Identity(object: request.resolver))
        while true {
            if !fresh, let connection = takeIdle(key) { return (connection, true) }
            if openCount[key, default: 0] < maxConnectionsPerHost {
                openCount[key, default: 0] += 1
                let connection: H1Connection
                do {
                    var options = request.clientOptions
                    options.http1 = http1
                    options.http1.idleTimeout = idleTimeout
                    connection = try await Client.connect(
                        options, on: reactor, timeout: deadline.remaining("connect"))
                } catch {
                    released(key)
                    throw error
                }
                track(connection, key)
                return (connection, false)
            }
            if fresh, let connection = takeIdle(key) {
                // At the cap: make room for the fresh connection by closing an idle one.
                connection.close()
                continue
            }
            try await reactor.suspend("wait for a pooled connection", timeout: deadline.remaining("connect")) {
                (suspension: Suspension<Void>) in
                self.waiters[key, default: []].append(suspension)
                return { [weak self] in
                    guard let self else { return }
                    Self.update(&self.waiters, key) { $0.removeAll { $0 === suspension } }
                }
            }
        }
    }

    private func takeIdle(_ key: Key) -> H1Connection? {
        while let connection = Self.update(&idle, key, { $0.popLast() }) {
            // A server's close that arrived while the caller's task ran on without letting the
            // reactor step: seen now, it closes the connection (and takes it out of the counts)
            // instead of failing the request sent into it.
            connection.noticeCloseWhileIdle()
            if !connection.isClosed && connection.newStreamPossible && connection.isIdle { return connection }
        }
        return nil
    }

    /// Watches a new connection: back to the idle list when idle, out of the counts when closed.
    private func track(_ connection: H1Connection, _ key: Key) {
        connection.onIdle = { [weak self] connection in
            guard let self, connection.newStreamPossible else { return }
            self.idle[key, default: []].append(connection)
            self.wakeWaiter(key)
        }
        connection.onClose = { [weak self] connection in
            guard let self else { return }
            Self.update(&self.idle, key) { $0.removeAll { $0 === connection } }
            self.released(key)
        }
    }

    private func released(_ key: Key) {
        openCount[key, default: 1] -= 1
        if openCount[key] == 0 { openCount[key] = nil }
        wakeWaiter(key)
    }

    private func wakeWaiter(_ key: Key) {
        guard let waiter = Self.update(&waiters, key, { $0.isEmpty ? nil : $0.removeFirst() }) else { return }
        waiter.resume(returning: ())
    }

    /// Changes the list of `key` in `lists`, and drops it once empty: a target without idle
    /// connections or waiters keeps no entry (a long-lived pool talking to many hosts would
    /// otherwise grow, and the keys hold resolvers).
    @discardableResult
    private static func update<Element, Result>(
        _ lists: inout [Key: [Element]], _ key: Key, _ change: (inout [Element]) -> Result?
    ) -> Result? {
        guard var list = lists.removeValue(forKey: key) else { return nil }
        let result = change(&list)
        if !list.isEmpty { lists[key] = list }
        return result
    }
}

extension Request {
    /// The `Client.connect` options this request connects with.
    var clientOptions: ClientOptions {
        var options = ClientOptions(host: host, port: UInt16(clamping: port), tls: tls)
        options.tlsContext = tlsContext
        // `.automatic` stays automatic: Client sends the host as SNI unless it is an IP literal,
        // and verifies the certificate against it either way (an IP address against the
        // certificate's IP subjectAltName, RFC 9110 §4.3.4).
        options.serverName = sendName
        options.version = version
        options.resolver = resolver
        options.logger = logger
        return options
    }
}
