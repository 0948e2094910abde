public import HTTPCore
public import Logging
public import Reactor

/// An HTTP server: lua-http's `http.server`. It accepts connections, sets them up (TLS or plain,
/// on one port if asked), serves HTTP/1 on them and runs a handler for every request stream.
///
/// ```swift
/// let server = try Server.listen(ServerOptions(host: "127.0.0.1", port: 8080), handler: .task { stream in
///     let request = try await stream.getHeaders()
///     var response = Headers()
///     response.append(":status", "200")
///     try await stream.writeHeaders(response, endStream: false, timeout: 10)
///     try await stream.writeBody("Hello, World!")
/// })
/// try server.loop()
/// ```
///
/// Handlers run on the reactor's thread: a `.task` handler as a task on the reactor (it may
/// await; when it returns, the stream is shut down: an unanswered request gets 503, or, when the
/// handler threw an `HTTPStreamError` that has a status, that status: 413 for a body over the
/// limit; 408 and a close when a read of the request body timed out and the rest never came), a
/// `.callback` handler as a plain call (it answers now or later with the non-blocking writes and
/// calls `shutdown()` if it gives up). Errors go to `onError` (default: log) and never stop the
/// server.
///
/// The server is `Pollable`: a foreign loop drives it with `pollfd()`/`events()`/`timeout()` and
/// `step(timeout: 0)`.
public final class Server: Pollable, @unchecked Sendable {
    /// What runs for each request stream.
    public enum Handler: Sendable {
        /// An async handler run as a task on the reactor; the stream is shut down when it returns.
        case task(@Sendable (any HTTPStream) async throws -> Void)
        /// A callback on the reactor's thread.
        case callback(@Sendable (any HTTPStream) throws -> Void)
    }

    public let reactor: Reactor
    public let options: ServerOptions
    /// Where the default `onError` logs (from `options.logger`; settable at any time).
    public var logger: Logger {
        get { loggerBox.logger }
        set { loggerBox.logger = newValue }
    }
    /// `logger`, shared with the default `onError` (which so needs no reference to the server:
    /// a weak one would give the server a side table, and every retain of it the slow path).
    private let loggerBox: LoggerBox
    private final class LoggerBox {
        var logger: Logger
        init(_ logger: Logger) { self.logger = logger }
    }
    /// Told about every error while serving (default: log it to `logger`, at the level
    /// `ServerError` calls for, and keep serving). lua-http's `onerror`.
    public var onError: (ServerError) -> Void = { _ in }
    public let handler: Handler

    private var listener: Listener?
    private var tlsContext: TLSContext?
    private var setups: [ObjectIdentifier: ConnectionSetup] = [:]
    private var live: [ObjectIdentifier: H1Connection] = [:]
    /// `.task` handlers started and not returned yet: the server is not `empty()` while one runs
    /// (lua-http's `server:empty()` is its cqueue's, which holds the handlers' coroutines).
    private var runningHandlers = 0
    private var isPaused = false
    private var isClosing = false
    /// `step` and `loop` call `listen()` first, as lua-http's do, unless the server already
    /// listens, was given a connection (`addSocket`, `addStream`: inetd and the like need no
    /// listener), or is closing.
    private var listensOnFirstStep = true
    private var closeTimer: ReactorTimer?
    /// The options and date cache every HTTP/1 connection of this server shares; it also counts
    /// the `.callback` handlers' follow-up work (the callback forms of the body helpers), whose
    /// end may end a close as a `.task` handler's does.
    private let http1Context: H1ConnectionContext
    private lazy var connectionEvents = ConnectionEvents(self)

    /// A server that will listen as `options.listen` says: binding happens in `listen()`, or in
    /// the first `step` or `loop` (call `listen()` first to know the port from `localname()`).
    /// - Parameter reactor: the reactor to run on; nil makes one for the server.
    /// - Throws: `ServerOptionsError.unsupportedVersion` for `options.version == .http2`.
    public init(options: ServerOptions, on reactor: Reactor? = nil, handler: Handler) throws {
        if options.version == .http2 { throw ServerOptionsError.unsupportedVersion(.http2) }
        self.reactor = try reactor ?? Reactor()
        self.options = options
        let loggerBox = LoggerBox(options.logger)
        self.loggerBox = loggerBox
        self.handler = handler
        http1Context = H1ConnectionContext(options: options.connectionOptions)
        // The default reads `logger` when it logs, so setting `server.logger` later takes effect.
        onError = { error in Server.log(error, to: loggerBox.logger) }
        // Unowned: `deinit` clears it (the context may outlive the server, held by a stream).
        http1Context.onHelperTasksEnded = { [unowned self] in self.workEnded() }
    }

    deinit {
        // A connection can outlive the server (a handler's task holds its stream): it must not
        // call the server's events object, which holds it unowned.
        for connection in live.values { connection.delegate = nil }
        http1Context.onHelperTasksEnded = nil
        // A connection still in setup is the server's alone (its socket reads into the setup,
        // which goes with the server): it closes.
        for setup in setups.values { setup.abandon() }
    }

    /// A server accepting from an existing listener (lua-http's `.socket` option).
    public convenience init(listener: Listener, options: ServerOptions = ServerOptions(), handler: Handler) throws {
        try self.init(options: options, on: listener.reactor, handler: handler)
        try adopt(listener)
    }

    /// Creates a server and binds it now.
    public static func listen(_ options: ServerOptions, on reactor: Reactor? = nil, handler: Handler) throws -> Server {
        let server = try Server(options: options, on: reactor, handler: handler)
        try server.listen()
        return server
    }

    /// Binds and starts accepting, if not done yet (needed before `localname()`; `step` and
    /// `loop` do it otherwise).
    public func listen() throws {
        listensOnFirstStep = false
        guard listener == nil, !isClosing else { return }
        try adopt(Listener.listen(options.listen, on: reactor))
    }

    private func adopt(_ listener: Listener) throws {
        // Made now, so that a listening server fails at once on a context it cannot make.
        _ = try contextForTLSConnections()
        self.listener = listener
        listener.onAccept = { [unowned self] socket in self.addSocket(socket) }
        listener.onError = { [unowned self] error in self.onError(.accept(error)) }
        if isPaused { listener.pause() }
    }

    /// The context of TLS connections (nil when `options.tls == false`): `options.tlsContext`,
    /// else a self-signed certificate made on first use, by `listen()` or the first `addSocket`.
    private func contextForTLSConnections() throws -> TLSContext? {
        guard options.tls != false else { return nil }
        if let tlsContext { return tlsContext }
        let made =
            try options.tlsContext
            ?? TLSContext.selfSigned(
                hostname: options.listen.host ?? "localhost",
                alpn: [http1Version == .http10 ? "http/1.0" : "http/1.1"])
        tlsContext = made
        return made
    }

    /// Where the server listens.
    public func localname() -> SocketName { listener?.localname() ?? .unspecified }

    /// Stops accepting new connections; existing ones go on.
    public func pause() {
        isPaused = true
        listener?.pause()
    }

    /// Accepts again after `pause()`.
    public func resume() {
        isPaused = false
        updateAccepting()
    }

    /// Graceful close: stops accepting, closes idle connections, lets requests in flight finish
    /// (their responses say `connection: close`), and after `timeout` seconds (nil: no limit)
    /// closes whatever is left. A closed server cannot be reopened. Calling it again can only
    /// bring the deadline closer (`close(timeout: 0)` ends a graceful close at once).
    public func close(timeout: Double? = 10) {
        if !isClosing {
            isClosing = true
            listensOnFirstStep = false
            listener?.close()
            listener = nil
            for setup in setups.values { setup.cancel() }
            for connection in live.values { connection.shutdown() }
        }
        guard let timeout, !live.isEmpty else { return }
        let deadline = MonotonicClock.deadline(after: timeout, from: MonotonicClock.nanoseconds())
        if let due = closeTimer?.scheduledDeadline, due <= deadline { return }
        closeTimer?.cancel()
        closeTimer = reactor.schedule(after: timeout) { [weak self] _ in
            guard let self else { return }
            for connection in self.live.values { connection.close() }
        }
    }

    /// The number of client connections open now (including those still in TLS setup).
    public func connections() -> Int { setups.count + live.count }

    /// True once the server is closed, every connection is gone, every `.task` handler has
    /// returned and every task a `.callback` handler started through the callback forms of the
    /// body helpers (`saveBody(toPath:_:)`, `writeBody(fromPath:_:)`, …) has ended
    /// (`H1ConnectionContext.helperTasksRunning`; a stream from `addStream` counts in its own
    /// connection's context, not here). A handler still at work (its connection closed by `close(timeout:)`'s deadline,
    /// or a stream from `addStream`) keeps `loop()` stepping: a host that stopped then would
    /// leave it suspended for good, half done. A server that listens on its first step (made
    /// with `init(options:)`, not stepped yet) is not empty either: a host that steps it while
    /// it is not would never start it.
    public func empty() -> Bool {
        !listensOnFirstStep && listener == nil && setups.isEmpty && live.isEmpty && runningHandlers == 0
            && http1Context.helperTasksRunning == 0
    }

    /// Serves a connection obtained elsewhere (inetd, `SCM_RIGHTS`, another listener).
    public func addSocket(_ socket: StreamSocket) {
        listensOnFirstStep = false
        guard !isClosing else {
            socket.close()
            return
        }
        let context: TLSContext?
        do {
            context = try contextForTLSConnections()
        } catch {
            onError(.connectionSetup(peer: "\(socket.peername())", reason: "no TLS context: \(error)"))
            socket.close()
            return
        }
        let id = ObjectIdentifier(socket)
        let setup = ConnectionSetup(
            socket: socket, tls: options.tls, context: context, timeout: options.connectionSetupTimeout
        ) { [unowned self] outcome in
            self.setups[id] = nil
            switch outcome {
            case .http1(let socket):
                self.startHTTP1(socket)
            case .failed(let socket, let reason):
                self.onError(.connectionSetup(peer: "\(socket.peername())", reason: reason))
                socket.close()
                self.updateAccepting()
            }
        }
        setups[id] = setup
        updateAccepting()
        setup.start()
    }

    /// Runs the handler for a stream obtained elsewhere (lua-http's `add_stream`).
    public func addStream(_ stream: any HTTPStream) {
        listensOnFirstStep = false
        dispatch(stream)
    }

    // MARK: - Pollable

    public func pollfd() -> Int32 { reactor.pollfd() }
    public func events() -> PollEvents { reactor.events() }
    /// 0 while a `listen()` is due (the first step makes it).
    public func timeout() -> Double? { listensOnFirstStep ? 0 : reactor.timeout() }
    public func step(timeout: Double?) throws {
        // Refused before the first step's listen: a refused call must change nothing.
        guard !reactor.isInsideStep else { throw ReactorError.reentrantStep }
        if listensOnFirstStep { try listen() }
        try reactor.step(timeout: timeout)
    }

    /// Steps until the server is closed and empty, `reactor.stopLoop()`, or `timeout` seconds
    /// passed (nil: no limit).
    public func loop(timeout: Double? = nil) throws {
        guard !reactor.isInsideStep else { throw ReactorError.reentrantStep }
        if listensOnFirstStep { try listen() }
        try reactor.loop(timeout: timeout) { self.empty() }
    }

    // MARK: - Serving

    /// The HTTP/1 version the server speaks: 1.1, or 1.0 when `options.version` pins it.
    private var http1Version: HTTP1Version { options.version == .http10 ? .http10 : .http11 }

    private func startHTTP1(_ socket: StreamSocket) {
        let connection = H1Connection(socket: socket, type: .server, version: http1Version, context: http1Context)
        live[ObjectIdentifier(connection)] = connection
        // One delegate for every connection (not three closures each).
        connection.delegate = connectionEvents
        do {
            try connection.start()
        } catch {
            // Only a connection whose low-level calls ran refuses, and this one is new.
            preconditionFailure("a new server connection refused to start: \(error)")
        }
        if isClosing { connection.shutdown() }
    }

    /// The connections' events, for all of them. The server holds it and clears it from its
    /// connections when it goes away (`deinit`), so while any connection can call it, the
    /// server is alive: it holds the server unretained, without the unowned reference count a
    /// safe `unowned` checks on every call, and calls it without a retain and release.
    private final class ConnectionEvents: H1ConnectionDelegate {
        private let unretained: Unmanaged<Server>
        var server: Server { unretained.takeUnretainedValue() }
        init(_ server: Server) { unretained = .passUnretained(server) }

        func connection(_ connection: H1Connection, didReceive stream: H1Stream) -> Bool {
            unretained._withUnsafeGuaranteedRef { $0.dispatch(stream) }
            return true
        }

        func connectionDidClose(_ connection: H1Connection) {
            connection.delegate = nil
            server.live[ObjectIdentifier(connection)] = nil
            server.updateAccepting()
        }

        func connection(_ connection: H1Connection, rejected error: HTTP1ParseError) {
            server.onError(.rejectedRequest(peer: "\(connection.peername())", error: error))
        }
    }

    private func dispatch(_ stream: any HTTPStream) {
        switch handler {
        case .callback(let body):
            do {
                try body(stream)
            } catch {
                report(error, on: stream)
                stream.shutdown(after: error)
            }
        case .task(let body):
            runningHandlers += 1
            reactor.spawn {
                defer { self.handlerEnded() }
                do {
                    try await body(stream)
                    stream.shutdown()
                } catch {
                    self.report(error, on: stream)
                    stream.shutdown(after: error)
                }
            }
        }
    }

    /// A `.task` handler returned.
    private func handlerEnded() {
        runningHandlers -= 1
        workEnded()
    }

    /// A `.task` handler or a `.callback` handler's helper task ended. The last work of a
    /// closing server, its connections gone, ends the close: its deadline timer goes, as when
    /// the last connection closes.
    private func workEnded() {
        if isClosing && empty() { closeTimer?.cancel() }
    }

    private func report(_ error: any Error, on stream: any HTTPStream) {
        var request = "request"
        if let head = (stream as? H1Stream)?.requestHead {
            request = "\(head.method ?? "?") \(head.path ?? head.authority ?? "?")"
        }
        onError(.handler(peer: "\(stream.peername())", request: request, error: error))
    }

    /// Accept while under `maxConcurrent` and not paused or closing.
    private func updateAccepting() {
        // Closing, the listener is gone: the last connection's end cancels the close timeout.
        if isClosing && empty() { closeTimer?.cancel() }
        guard let listener, !isPaused else { return }
        if let limit = options.maxConcurrent, connections() >= limit {
            listener.pause()
        } else {
            listener.resume()
        }
    }

    static func log(_ error: ServerError, to logger: Logger) {
        switch error {
        case .handler, .accept: logger.error("\(error)")
        case .rejectedRequest: logger.info("\(error)")
        case .connectionSetup: logger.debug("\(error)")
        }
    }
}
