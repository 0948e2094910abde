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
/// target; further requests wait (under their deadline) for one to become idle or to close, and
/// get it in the order they came: a connection that becomes idle, or the place of one that
/// closed, goes to the request that waited longest, not to one that asks for it later.
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
    private var waiters: [Key: [Suspension<HandOff>]] = [:]

    /// What a waiting request is handed: a connection that became idle, or the place (already
    /// counted in `openCount`) of one that closed, to open a new one in.
    enum HandOff: @unchecked Sendable {
        case idle(H1Connection)
        case place
    }

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
                return try await open(key, for: request, deadline: deadline)
            }
            if fresh, let connection = takeIdle(key) {
                // At the cap: make room for the fresh connection by closing an idle one.
                connection.close()
                continue
            }
            // A connection that frees up now is handed to the longest waiting request, here in
            // the suspension: were it only put back, the task whose exchange freed it would, run
            // on first, take it again for its next request, and a waiting one could wait until
            // its deadline while connections were freed many times over.
            let handOff = try await reactor.suspend(
                "wait for a pooled connection", timeout: deadline.remaining("connect")
            ) { (suspension: Suspension<HandOff>) in
                self.waiters[key, default: []].append(suspension)
                return { [weak self] in
                    guard let self else { return }
                    Self.update(&self.waiters, key) { $0.removeAll { $0 === suspension } }
                }
            }
            switch handOff {
            case .place:
                return try await open(key, for: request, deadline: deadline)
            case .idle(let connection):
                if fresh {
                    // Its place goes on to the next waiter, or back to the count.
                    connection.close()
                    continue
                }
                // It may have closed since it was handed over (its place then went on).
                connection.noticeCloseWhileIdle()
                if !connection.isClosed && connection.newStreamPossible && connection.isIdle {
                    return (connection, true)
                }
                // Unusable and still open: closed, so that its place goes on.
                connection.close()
            }
        }
    }

    /// Opens a connection in a place already counted in `openCount`.
    private func open(_ key: Key, for request: Request, deadline: Deadline) async throws
        -> (H1Connection, reused: Bool)
    {
        let connection: H1Connection
        do {
            var options = request.clientOptions
            options.http1 = http1
            options.http1.idleTimeout = idleTimeout
            connection = try await Client.connect(options, on: reactor, timeout: deadline.remaining("connect"))
        } catch {
            released(key)
            throw error
        }
        track(connection, key)
        return (connection, false)
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
            if let waiter = self.nextWaiter(key) {
                waiter.resume(returning: .idle(connection))
            } else {
                self.idle[key, default: []].append(connection)
            }
        }
        connection.onClose = { [weak self] connection in
            guard let self else { return }
            Self.update(&self.idle, key) { $0.removeAll { $0 === connection } }
            self.released(key)
        }
    }

    /// A connection's place is free: it goes to the longest waiting request, or back to the count.
    private func released(_ key: Key) {
        if let waiter = nextWaiter(key) {
            waiter.resume(returning: .place)
            return
        }
        openCount[key, default: 1] -= 1
        if openCount[key] == 0 { openCount[key] = nil }
    }

    /// The request that has waited longest for a connection to `key`, taken off the list. (A
    /// suspension that ended, by its deadline or its task's cancellation, has left the list
    /// already: its cleanup runs as it ends, on this thread.)
    private func nextWaiter(_ key: Key) -> Suspension<HandOff>? {
        while let waiter = Self.update(&waiters, key, { $0.isEmpty ? nil : $0.removeFirst() }) {
            if !waiter.isFinished { return waiter }
        }
        return nil
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
