public import Reactor

/// An HTTP/1.0 or HTTP/1.1 connection over a `StreamSocket`: lua-http's h1_connection, as a
/// callback-driven state machine on the reactor. The sans-IO `HTTP1Parser` reads, an
/// `H1OutboundMessage` per stream frames what is written; this class moves octets between them
/// and the socket and owns the connection's life: keep-alive, pipelining (answered in order),
/// timeouts, draining and closing.
///
/// A server connection (`type == .server`) turns each request head into an `H1Stream` and hands
/// it to `onStream` (callback tier) or to `nextIncomingStream(timeout:)` (async tier). Requests
/// are handled one at a time: the next pipelined request is read once the current exchange is
/// complete. Invalid requests are answered by the connection itself (400, 414, 431, 501, 505 as
/// `HTTP1ParseError.status` says) and the connection closes; no handler runs.
///
/// A client connection (`type == .client`) makes streams with `newStream()`; see
/// `H1Connection+Client.swift`.
///
/// Its mutable state is `@exclusivity(unchecked)`, like `StreamSocket`'s (reactor-thread only, no
/// access spans a callback; the runtime checks were a sixth of a request's instructions).
public final class H1Connection: Pollable, StreamSocketReader, ReactorTimerTarget, @unchecked Sendable {
    /// `.server` or `.client`: lua-http's `connection.type`.
    public let type: HTTP1Role
    /// The version this side speaks: HTTP/1.1 unless constructed for 1.0.
    public let version: HTTP1Version
    public let socket: StreamSocket
    public var reactor: Reactor { socket.reactor }
    /// Shared with the other connections of the same server or client.
    public let context: H1ConnectionContext
    public var options: H1ConnectionOptions { context.options }
    /// Hears about streams, closes and rejected requests before the closures below. Held
    /// unowned, not weak: its owner keeps it alive and clears it (or closes the connection)
    /// before it goes away. A weakly referenced object gets a side table, which makes every
    /// retain and release of it (one pair a request) take the runtime's slow path.
    @exclusivity(unchecked) public unowned(safe) var delegate: (any H1ConnectionDelegate)?

    /// Server: called with each new request's stream, on the reactor's thread. When nil, streams
    /// queue for `nextIncomingStream(timeout:)`.
    public var onStream: ((H1Stream) -> Void)? {
        get { callbacks?.onStream }
        set { if newValue != nil || callbacks != nil { withCallbacks { $0.onStream = newValue } } }
    }
    /// Called when the connection becomes idle: no exchange in progress and nothing pipelined.
    public var onIdle: ((H1Connection) -> Void)? {
        get { callbacks?.onIdle }
        set { if newValue != nil || callbacks != nil { withCallbacks { $0.onIdle = newValue } } }
    }
    /// Called once, when the connection is closed (by either side or by a timeout).
    public var onClose: ((H1Connection) -> Void)? {
        get { callbacks?.onClose }
        set { if newValue != nil || callbacks != nil { withCallbacks { $0.onClose = newValue } } }
    }
    /// Server: called when a request is rejected as invalid before any handler saw it (for logs).
    public var onRequestError: ((H1Connection, HTTP1ParseError) -> Void)? {
        get { callbacks?.onRequestError }
        set { if newValue != nil || callbacks != nil { withCallbacks { $0.onRequestError = newValue } } }
    }

    /// The closures above, in a box made when the first is set: a server's connections use the
    /// shared `delegate` and carry none (64 bytes each).
    @exclusivity(unchecked) private var callbacks: Callbacks?
    private final class Callbacks {
        var onStream: ((H1Stream) -> Void)?
        var onIdle: ((H1Connection) -> Void)?
        var onClose: ((H1Connection) -> Void)?
        var onRequestError: ((H1Connection, HTTP1ParseError) -> Void)?
    }
    private func withCallbacks(_ body: (Callbacks) -> Void) {
        if let callbacks { return body(callbacks) }
        let made = Callbacks()
        callbacks = made
        body(made)
    }

    /// The parser lives in a box that an idle server connection drops (about 350 bytes per idle
    /// keep-alive connection); the next request's first octets make a fresh one.
    @exclusivity(unchecked) private var parserBox: Box<HTTP1Parser>?
    var parser: HTTP1Parser {
        get { parserBox?.value ?? makeParser() }
        _modify {
            if parserBox == nil {
                parserBox = context.takeParser(role: type, scheme: parserScheme, make: makeParser)
            }
            yield &parserBox!.value
        }
    }
    /// Server: whether the socket is TLS (the `:scheme` of requests).
    private let isSecure: Bool
    /// Server: the exchange in progress (its request being read or its response being written).
    @exclusivity(unchecked) var current: H1Stream?
    /// Server: streams waiting for `nextIncomingStream`.
    @exclusivity(unchecked) var incoming: [H1Stream] = []
    @exclusivity(unchecked) private var incomingWaiters: [Suspension<H1Stream?>] = []
    /// Client: streams whose responses are expected, in request order. Linked, not held: a
    /// client stream holds its connection, and one its caller dropped must go
    /// (`clientStreamWentAway`).
    @exclusivity(unchecked) var pipeline: [H1StreamLink] = []
    /// Client: the request whose head went out and whose body has not ended yet.
    @exclusivity(unchecked) var requestBeingWritten: H1StreamLink?

    enum Phase: Equatable {
        /// Serving: more exchanges may follow.
        case open
        /// No new exchange will start (the peer or this side asked to close); the current one
        /// finishes first.
        case closingAfterCurrent
        /// Half-closed after the last response; reading and dropping until EOF or the linger
        /// timeout.
        case lingering
        case closed
    }
    @exclusivity(unchecked) var phase: Phase = .open
    /// The peer may not send more after an error; no more parsing.
    @exclusivity(unchecked) var inputStopped = false
    @exclusivity(unchecked) private var timer: ReactorTimer?
    enum TimerPurpose { case idle, headerRead, linger, unreadOutput }
    @exclusivity(unchecked) private var timerPurpose: TimerPurpose?
    /// Server: how much output was queued when the `.unreadOutput` timer was armed.
    @exclusivity(unchecked) var unreadOutputAtArming = 0
    /// When `timerPurpose` is due (`MonotonicClock` nanoseconds); see `arm`.
    @exclusivity(unchecked) private var timerDeadline: UInt64 = 0
    @exclusivity(unchecked) private var isProcessing = false
    /// Something asked for another pass of `processInput` while it ran.
    @exclusivity(unchecked) var processAgain = false
    @exclusivity(unchecked) var drainedBytes = 0
    /// Server: the header-read timer runs for the request head arriving now.
    @exclusivity(unchecked) var headerTimerArmed = false
    /// `start()` was called: the streams own the socket, the low-level calls refuse to run.
    @exclusivity(unchecked) var started = false
    /// Client: a stream wrote a request head (started or not): the low-level calls refuse to run.
    @exclusivity(unchecked) var streamsWrote = false
    /// A low-level call ran: `start()` refuses, and so do the client's streams' writes.
    @exclusivity(unchecked) var usedLowLevel = false
    /// This connection is its socket's `reader` (from `start()` until `takeSocket()`).
    @exclusivity(unchecked) private var readsSocket = false
    /// The low-level calls' state, in a box made on their first use (most connections never
    /// make one).
    @exclusivity(unchecked) private var lowLevelBox: Box<H1LowLevelState>?
    var lowLevel: H1LowLevelState {
        get { lowLevelBox?.value ?? makeLowLevelState() }
        _modify {
            if lowLevelBox == nil { lowLevelBox = Box(makeLowLevelState()) }
            yield &lowLevelBox!.value
        }
    }
    private func makeLowLevelState() -> H1LowLevelState {
        H1LowLevelState(reader: HTTP1LineReader(role: type, limits: options.limits))
    }

    /// Wraps a connected socket. Call `start()` (or let `Server` do it) to begin reading.
    /// - Parameter version: the version this side speaks (`.http11` by default).
    public convenience init(
        socket: StreamSocket, type: HTTP1Role, version: HTTP1Version = .http11,
        options: H1ConnectionOptions = H1ConnectionOptions()
    ) {
        self.init(socket: socket, type: type, version: version, context: H1ConnectionContext(options: options))
    }

    /// Wraps a connected socket with options (and a date cache) shared with other connections.
    public init(socket: StreamSocket, type: HTTP1Role, version: HTTP1Version = .http11, context: H1ConnectionContext) {
        self.socket = socket
        self.type = type
        self.version = version
        self.context = context
        isSecure = socket.checkTLS() != nil
    }

    deinit {
        // Both hold this connection unowned: neither may call it once it is gone (a socket kept
        // alive by a pending flush can still report a failure).
        timer?.cancel()
        if readsSocket { socket.reader = nil }
    }

    private func makeParser() -> HTTP1Parser {
        var parser = HTTP1Parser(role: type, limits: options.limits)
        parser.scheme = parserScheme
        parser.decodesTransferCodings = options.transferCodings
        return parser
    }

    /// The `:scheme` a server's parser gives requests.
    private var parserScheme: String? {
        type == .server ? (isSecure ? "https" : "http") : nil
    }

    /// Calls `body` with the parser in its box, if there is one. In place: reading a property of
    /// `box.value` would copy the whole parser (a dozen reference counts) first.
    @inline(__always)
    private func inspectParser(_ body: (inout HTTP1Parser) -> Bool) -> Bool? {
        guard let box = parserBox else { return nil }
        return body(&box.value)
    }

    /// Between messages (true without a parser).
    var parserIsIdle: Bool { inspectParser { $0.isIdle } ?? true }
    /// Parsing empty input would return no event (true without a parser).
    var parserWaitsForInput: Bool { inspectParser { $0.waitsForInput } ?? true }

    /// Drops the parser while it holds nothing (see `parserBox`).
    func releaseParserIfFresh() {
        // Moved out (and back if it is not fresh): asking the box in place retained it. Asked
        // through `inout`, which reads the parser in place (reading a property copied it whole).
        guard let box = parserBox.take() else { return }
        if Self.isFresh(&box.value) {
            context.recycle(consume box)
        } else {
            parserBox = box
        }
    }

    @inline(__always)
    private static func isFresh(_ parser: inout HTTP1Parser) -> Bool { parser.isFresh }

    /// Starts reading (server: waiting for the first request).
    ///
    /// - Throws: `HTTPStreamError.invalidState` on a connection (client or server) whose
    ///   low-level calls ran (`lowLevelStartRefusal`): a connection runs streams or the
    ///   low-level calls, never both. Nothing changes then: the low-level calls can go on.
    public func start() throws(HTTPStreamError) {
        if let refusal = lowLevelStartRefusal { throw refusal }
        started = true
        socket.reader = self
        readsSocket = true
        updateReadInterest()
        if type == .server { processInput() }
    }

    // MARK: - Lua-http's connection interface

    public func checkTLS() -> TLSInfo? { socket.checkTLS() }
    public func localname() -> SocketName { socket.localname() }
    public func peername() -> SocketName { socket.peername() }
    public var isClosed: Bool { phase == .closed }

    /// lua-http's `connect`. A connection is made over a socket that is connected already
    /// (`Client.connect`, `StreamSocket.connect`, an accepted socket), so this waits only for a
    /// TLS handshake still running on it (started with the callback `startTLS`). Throws when the
    /// connection is closed, or the socket or its handshake failed; `ReactorError.timedOut`
    /// after `timeout` seconds (nil: no limit).
    public func connect(timeout: Double? = nil) async throws {
        guard phase != .closed else { throw HTTPStreamError.connectionClosed("before connect") }
        do {
            try await socket.waitForHandshake(timeout: timeout)
        } catch let error as SocketError {
            throw HTTPStreamError.socket(error)
        }
    }

    /// Waits until everything written was handed to the kernel.
    public func flush(timeout: Double? = nil) async throws {
        try await socket.flush(timeout: timeout)
    }

    /// Orderly shutdown: no new exchanges; the current one finishes, then the connection closes.
    /// An idle connection closes now.
    public func shutdown() {
        guard phase == .open else { return }
        phase = .closingAfterCurrent
        guard current == nil && pipeline.isEmpty else { return }
        switch type {
        case .server: closeGracefully()
        // No response is awaited: a client has nothing to linger for (the linger keeps a
        // server's last response from being lost to a reset, RFC 9112 §9.6), and the server
        // may not close on a half-close (one refusing a body waits for it), which kept the
        // connection, and a pool's place, up to the linger timeout.
        case .client: close()
        }
    }

    /// Closes the socket now. Waiting calls fail; streams in progress see the connection closed.
    ///
    /// The connection lets go of those streams: each holds it, so a stream kept here after the
    /// close (a response awaited, a request being served or waiting for `nextIncomingStream`)
    /// held the two of them, the socket and the reactor in a cycle once their owners dropped them.
    ///
    /// A server connection whose close cuts a response (output still queued, or a body that
    /// ends with the close not ended) is reset rather than closed in order, so that the client
    /// cannot take the cut response for a whole one.
    public func close() {
        guard phase != .closed else { return }
        if closingCutsAResponse { socket.closeWithReset() }
        phase = .closed
        timer?.cancel()
        timer = nil
        socket.close()
        let error = HTTPStreamError.connectionClosed("by this side")
        let inProgress = pipeline.compactMap(\.stream) + (current.map { [$0] } ?? [])
        current = nil
        pipeline.removeAll()
        // A stream delivered for `nextIncomingStream` and never taken is that request's too.
        incoming.removeAll()
        requestBeingWritten = nil
        for stream in inProgress { stream.failReading(error) }
        endIncomingWaits()
        let onClose = self.onClose
        self.onClose = nil
        onStream = nil
        onIdle = nil
        delegate?.connectionDidClose(self)
        onClose?(self)
    }

    /// Detaches the socket (for a protocol switch: WebSocket, CONNECT tunnels). The connection is
    /// closed afterwards without closing the socket; octets read past the last message stay in
    /// `socket.input`.
    public func takeSocket() -> StreamSocket {
        phase = .closed
        timer?.cancel()
        timer = nil
        // The switching stream's exchange is over (a client's left the pipeline with its 101):
        // held here it would hold this connection, as in `close()`.
        current = nil
        socket.reader = nil
        readsSocket = false
        socket.readInterest = false
        // As `close()` does: no request arrives over HTTP/1 any more, so a task waiting in
        // `nextIncomingStream` hears the end (it stayed suspended for good, and the reactor was
        // never `empty()` again), and a stream never taken is let go.
        incoming.removeAll()
        endIncomingWaits()
        let onClose = self.onClose
        self.onClose = nil
        delegate?.connectionDidClose(self)
        onClose?(self)
        return socket
    }

    /// No request will come any more: the tasks waiting in `nextIncomingStream` get nil, as a
    /// caller asking from now on does.
    private func endIncomingWaits() {
        let waiters = incomingWaiters
        incomingWaiters.removeAll()
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    // MARK: - Pollable (the reactor's face: all of the connection's work happens in its steps)

    public func pollfd() -> Int32 { reactor.pollfd() }
    public func events() -> PollEvents { reactor.events() }
    public func timeout() -> Double? { reactor.timeout() }
    public func step(timeout: Double?) throws { try reactor.step(timeout: timeout) }

    // MARK: - Incoming streams (server)

    /// The next request's stream; nil once the connection closed or the peer finished.
    public func nextIncomingStream(timeout: Double? = nil) async throws -> H1Stream? {
        precondition(type == .server, "nextIncomingStream is for server connections")
        if !incoming.isEmpty { return incoming.removeFirst() }
        if phase != .open && phase != .closingAfterCurrent { return nil }
        return try await reactor.suspend("nextIncomingStream", timeout: timeout) {
            (suspension: Suspension<H1Stream?>) in
            self.incomingWaiters.append(suspension)
            return { [weak self] in self?.incomingWaiters.removeAll { $0 === suspension } }
        }
    }

    func deliver(_ stream: H1Stream) {
        if let delegate, delegate.connection(self, didReceive: stream) {
            return
        } else if let onStream {
            onStream(stream)
        } else if !incomingWaiters.isEmpty {
            incomingWaiters.removeFirst().resume(returning: stream)
        } else {
            incoming.append(stream)
        }
    }

    // MARK: - Writing

    /// Frames and queues a header block for `stream`; with `body`, the whole message (a server's
    /// response: one serialization, see `H1OutboundMessage.writeResponseHead`).
    func writeHead(
        _ headers: Headers, endStream: Bool, body: UnsafeRawBufferPointer? = nil, for stream: H1Stream
    ) throws(HTTPStreamError) {
        guard phase != .closed else { throw .connectionClosed("before the headers were written") }
        // The head is serialized straight into the socket's write queue.
        switch type {
        case .server:
            guard stream === current, let head = stream.requestHead else {
                throw .invalidState("this stream's exchange is over")
            }
            let options = self.options
            let prepared = context.responseHeads.prepared(for: headers)
            let fields = prepared?.framing ?? H1FramingFields(headers)
            let isFinal = (fields.validStatus ?? 0) >= 200
            let persistent =
                phase == .open && stream.readFailure == nil
                && (!isFinal || stream.keepsConnectionIfAnsweredNow(drainLimit: options.drainLimit))
            let request = H1OutboundMessage.RequestContext(
                method: head.method ?? "", version: head.version, keepAlive: head.keepAlive, serverVersion: version)
            let date = options.sendDate && isFinal ? context.dateCache.imfFixdateOctets() : nil
            if let body, let prepared, body.count <= HTTP1Serializer.inlineBodyLimit,
                let added = stream.outbound.simpleResponseFields(
                    fields, bodyCount: body.count, request: request, persistent: persistent, date: date)
            {
                // The common case, decided in a few comparisons: a prepared head (validated when
                // it was prepared, so it is copied, never refused), the fields, the body.
                socket.write { (out: inout [UInt8]) in
                    HTTP1Serializer.writeResponseHead(prepared: prepared.bytes, adding: added, then: body, into: &out)
                }
                stream.outbound.simpleResponseWritten(status: fields.validStatus ?? 200)
                stream.awaitsContinue = false
                outboundComplete(stream)
                return
            }
            // A head after the final one is refused by `writeResponseHead`, inside the socket's
            // write; while a file goes out by sendfile the socket's output is lent to it, and a
            // write would trap (debug builds) before the head could be refused: refused here.
            if stream.outbound.state == .regionInFlight { throw H1OutboundMessage.refusalWhileRegionInFlight }
            try socket.write { (out: inout [UInt8]) throws(HTTPStreamError) in
                try stream.outbound.writeResponseHead(
                    headers, fields: fields, prepared: prepared?.bytes, endStream: endStream, body: body,
                    request: request, persistent: persistent, date: date,
                    acceptsGzip: { options.transferCodings && head.headers.acceptsCoding("gzip", in: "te") },
                    into: &out)
            }
            // RFC 9110 §10.1.1: once a `100 Continue` (the handler's own, `writeContinue`) or a
            // final status is sent, the client is not waiting for one any more.
            if isFinal || fields.validStatus == 100 { stream.awaitsContinue = false }
        case .client:
            // A request's head and body are written one after the other; the body's length is
            // known, so it is framed by `content-length` (never chunked: an HTTP/1.0 server could
            // not read that, and RFC 9112 §6.3 lets a server refuse it with 411), and a head that
            // declares another length is refused before anything is written.
            guard let body, !body.isEmpty else {
                try writeRequestHead(headers, endStream: endStream || body != nil, for: stream)
                break
            }
            try writeRequestHead(headers, endStream: false, bodyLength: body.count, for: stream)
            try writeBody(body, endStream: true, trailers: nil, for: stream)
            return
        }
        if stream.outbound.isComplete { outboundComplete(stream) }
    }

    /// Frames and queues body octets (and the end of the body) for `stream`.
    func writeBody(
        _ bytes: UnsafeRawBufferPointer, endStream: Bool, trailers: Headers?, for stream: H1Stream
    ) throws(HTTPStreamError) {
        try writeBody(bytes, heldIn: nil, endStream: endStream, trailers: trailers, for: stream)
    }

    /// `writeBody`, with `bytes` the storage of `array` when it is given: the array itself is
    /// queued then, not a copy of it (a large chunk goes to the socket as the caller made it).
    func writeBody(
        _ bytes: UnsafeRawBufferPointer, heldIn array: [UInt8]?, endStream: Bool, trailers: Headers?,
        for stream: H1Stream
    ) throws(HTTPStreamError) {
        // A body already complete on the wire (its content-length written) is ended by an empty
        // write without touching the connection, which may have gone on to the next exchange,
        // or closed, since.
        if bytes.isEmpty && stream.outbound.isComplete { return }
        guard phase != .closed else { throw .connectionClosed("before the body was written") }
        let socket = self.socket
        let wasComplete = stream.outbound.isComplete
        do {
            try stream.outbound.writeBody(
                bytes, endStream: endStream, trailers: trailers,
                pieces: { piece in
                    switch piece {
                    case .framing(let octets): socket.write(octets)
                    case .data:
                        if let array { socket.write(array) } else { socket.write(bytes) }
                    }
                })
        } catch {
            // A message cut short on a closing connection ends it; a write refused after the
            // message was complete leaves that message to be delivered (RFC 9112 §9.6).
            if stream.outbound.closeAfter && !wasComplete { abort() }
            throw error
        }
        if stream.outbound.isComplete { outboundComplete(stream) }
    }

    /// Waits while more than the socket's high-water mark is queued.
    func waitForWriteRoom(timeout: Double?) async throws {
        if let failure = socket.failure { throw HTTPStreamError.socket(failure) }
        if socket.pendingOutputBytes > socket.writeHighWaterMark {
            do {
                try await socket.flush(timeout: timeout)
            } catch let error as SocketError {
                throw HTTPStreamError.socket(error)
            }
        }
    }

    /// A response (server) or request (client) was written completely.
    func outboundComplete(_ stream: H1Stream) {
        switch type {
        case .server: serverResponseComplete(stream)
        case .client: clientRequestComplete(stream)
        }
    }

    /// `H1Stream.shutdown()`.
    func shutdownStream(_ stream: H1Stream) {
        switch type {
        case .server: shutdownServerStream(stream)
        case .client: shutdownClientStream(stream)
        }
    }

    /// The current exchange cannot be completed cleanly: close now (with a reset, when that cuts
    /// a response: `closingCutsAResponse`).
    func abort() {
        close()
    }

    /// Server: closing now cuts a response: output is still queued, or the current response's
    /// body ends with the close and was not ended. RFC 9112 §8: a response that "has neither
    /// chunked transfer coding nor Content-Length is terminated by closure of the connection and,
    /// thus, is considered complete regardless of the number of message body octets received",
    /// so an orderly close (a FIN, TLS's close_notify) would pass the cut body off as the whole
    /// one: the connection is reset instead.
    private var closingCutsAResponse: Bool {
        guard type == .server else { return false }
        if socket.pendingOutputBytes > 0 { return true }
        guard let current else { return false }
        return current.outbound.bodyEndsWithClose && !current.outbound.isComplete
    }

    // MARK: - Reading

    /// Feeds the socket's input to the parser and the events to streams, until the parser needs
    /// more input or a stream needs to catch up. Re-entrant calls (a handler that writes from
    /// inside `onStream`) are folded into the running loop.
    func processInput() {
        guard !isProcessing else {
            processAgain = true
            return
        }
        isProcessing = true
        defer { isProcessing = false }
        repeat {
            processAgain = false
            switch type {
            case .server: serverProcessInput()
            case .client: clientProcessInput()
            }
        } while processAgain && phase != .closed
        updateReadInterest()
    }

    /// The socket has input, EOF or an error (`StreamSocketReader`; not for callers).
    public func socketReadable(_ socket: StreamSocket) {
        guard socket === self.socket else { return }
        processInput()
    }

    /// A stream's reader is waiting or took data: parsing may resume.
    func streamWantsInput(_ stream: H1Stream) { resumeInput() }

    /// Parsing may resume: now, or in another pass of the one running.
    func resumeInput() {
        if isProcessing {
            processAgain = true
        } else {
            processInput()
        }
    }

    func updateReadInterest() {
        guard phase != .closed else { return }
        socket.readInterest = wantsInput
    }

    private var wantsInput: Bool {
        if phase == .lingering { return true }
        if inputStopped { return false }
        switch type {
        case .server:
            guard let current else { return phase == .open && !outputBacklogged }
            if current.requestComplete { return false }
            return current.isDiscardingBody || current.bufferedBodyFootprint < options.maxBufferedBody
        case .client:
            // Idle: keep reading, so a server closing a kept-alive connection is seen at once
            // (and a pool drops it) rather than on the next request.
            guard let first = pipeline.first(where: { $0.stream?.requestComplete != true }) else {
                return phase == .open
            }
            // A stream gone (dropped on another thread, `clientStreamWentAway` not run yet): read
            // on, and `clientProcessInput` closes.
            guard let stream = first.stream else { return true }
            return stream.bufferedBodyFootprint < options.maxBufferedBody
        }
    }

    // MARK: - Timers

    // The timer is re-armed lazily, as nginx and libev's `ev_timer_again` idiom do: every request
    // moves the idle deadline later, and moving a timer in the reactor's heap each time (and
    // cancelling it while the request runs) cost more than the rest of the timer work together.
    // So `timerDeadline` is the truth and the heap timer may be due earlier: when it fires early
    // it is moved to `timerDeadline`; when nothing is armed it fires into nothing.

    func arm(_ purpose: TimerPurpose, after seconds: Double?) {
        guard let seconds else {
            // No timeout at all: nothing may stay in the reactor's heap (`Reactor.empty()`).
            timerPurpose = nil
            timer?.cancel()
            return
        }
        timerPurpose = purpose
        let deadline = MonotonicClock.deadline(after: seconds, from: socket.reactorNow())
        timerDeadline = deadline
        if let timer {
            if let due = timer.scheduledDeadline, due <= deadline { return }
            timer.reschedule(at: deadline)
        } else {
            // The connection is the timer's target (no closure per connection); deinit cancels it.
            timer = reactor.schedule(after: seconds, target: self)
        }
    }

    /// Nothing is due; the heap timer, if any, fires into nothing (at the latest after the
    /// last timeout armed).
    func disarm() {
        timerPurpose = nil
    }

    /// The connection's own timer fired (`ReactorTimerTarget`; not for callers).
    public func timerFired(_ timer: ReactorTimer) {
        guard timer === self.timer, let purpose = timerPurpose else { return }
        if MonotonicClock.nanoseconds() < timerDeadline {
            timer.reschedule(at: timerDeadline)
            return
        }
        timerPurpose = nil
        switch purpose {
        case .idle, .linger:
            close()
        case .headerRead:
            // RFC 9110 §15.5.9: 408 "indicates that the server did not receive a complete request
            // message within the time that it was prepared to wait".
            rejectRequest(status: 408, reason: "request head not received in time")
        case .unreadOutput:
            // A client that reads, however slowly, gets another intra-stream timeout. One that
            // read nothing loses what is queued (`close` resets: `closingCutsAResponse`).
            if socket.pendingOutputBytes < unreadOutputAtArming { armUnreadOutputTimer() } else { close() }
        }
    }

    // MARK: - Closing

    /// Half-closes after everything queued was sent, then lingers, dropping input, until the
    /// peer's EOF or the linger timeout (RFC 9112 §9.6: closing at once could make the client's
    /// TCP stack discard the response on a reset).
    ///
    /// The linger timeout starts once the output is out: until then the last response is still
    /// going, and a client reading it, however slowly, must get all of it. One that reads none of
    /// it for the intra-stream timeout is closed (`.unreadOutput`).
    func closeGracefully() {
        guard phase != .closed && phase != .lingering else { return }
        phase = .lingering
        // A handler still reading the request gets no more of it (what arrived stays readable).
        if let current, !current.requestComplete { current.failReading(.connectionClosed("after the response")) }
        current = nil
        // Nor will another request be read: a task waiting for one hears so now, not when the
        // linger ends (the peer's EOF, or `lingerTimeout`).
        endIncomingWaits()
        socket.shutdownWrite()
        socket.onDrained = { [weak self] in self?.lingerOnceDrained() }
        if socket.pendingOutputBytes > 0 {
            armUnreadOutputTimer()
        } else {
            arm(.linger, after: options.lingerTimeout)
        }
        linger()
        updateReadInterest()
    }

    /// The output went out (and the FIN with it): the linger timeout starts now.
    private func lingerOnceDrained() {
        if timerPurpose != .linger { arm(.linger, after: options.lingerTimeout) }
        linger()
    }

    /// Lingering: drop input; close once the peer finished and our output is out.
    func linger() {
        socket.input.consume(socket.input.readableBytes)
        let peerDone = socket.isEOF || socket.hasFailed
        if peerDone && (socket.pendingOutputBytes == 0 || socket.hasFailed) { close() }
    }

    /// Answers an invalid or timed-out request without a handler and closes.
    func rejectRequest(status: Int, reason: String) {
        guard phase != .closed && phase != .lingering else { return }
        inputStopped = true
        if current == nil || current?.outbound.hasStarted == false {
            let phrase = ReasonPhrase.for(status: status)
            let body = "\(status) \(phrase): \(reason)\n"
            var head =
                "\(version) \(status) \(phrase)\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\n"
            head += "content-length: \(body.utf8.count)\r\n"
            if options.sendDate { head += "date: \(context.dateCache.imfFixdate())\r\n" }
            socket.write(head + "\r\n" + body)
        }
        closeGracefully()
    }
}

/// A value on the heap, so that a class can keep a large, rarely needed value out of its own
/// size and drop it when unused.
final class Box<Value> {
    @exclusivity(unchecked) var value: Value
    init(_ value: Value) { self.value = value }
}
