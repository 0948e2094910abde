public import Reactor

/// One request/response exchange on an `H1Connection`: lua-http's h1_stream.
///
/// On a server connection the stream is born with the request head; its handler reads the body
/// (`getNextChunk`, the body helpers) and writes the response (`writeHeaders`, `writeChunk`). On a
/// client connection (`H1Connection.newStream()`) it is the other way round. The common API is
/// `HTTPStream`'s; this class adds HTTP/1 specifics (`requestHead`, `peerVersion`).
///
/// Like everything on a reactor it belongs to the reactor's thread; it is `Sendable` so that
/// tasks on the reactor can carry it.
///
/// Its mutable state is `@exclusivity(unchecked)`, like `StreamSocket`'s (reactor-thread only, no
/// access spans a callback; the runtime checks were a sixth of a request's instructions).
public final class H1Stream: HTTPStream, @unchecked Sendable {
    public let connection: H1Connection
    public var reactor: Reactor { connection.reactor }
    /// The request head as received (server) or nil (client).
    public let requestHead: HTTP1MessageHead?
    /// The peer's HTTP version, once its head arrived.
    @exclusivity(unchecked) public internal(set) var peerVersion: HTTP1Version?

    @exclusivity(unchecked) var inbound = H1InboundQueue()
    @exclusivity(unchecked) var outbound = H1OutboundMessage()
    /// Server: the request asked for `100 Continue` (RFC 9110 §10.1.1) and none was sent yet.
    @exclusivity(unchecked) var awaitsContinue = false
    /// Server: the handler gave up on the request body; the connection discards what is left.
    @exclusivity(unchecked) var isDiscardingBody = false
    @exclusivity(unchecked) private(set) var isShutDown = false
    /// Server: `requestHead.headers` were not taken yet (they come before anything queued).
    @exclusivity(unchecked) private var requestHeadersPending = false

    /// What most streams never use: readers waiting for input, a read error, a coded request
    /// body, a client's helpers. In a box made on first use, so that a stream answered at once
    /// from a callback (most of them) makes none and has one reference fewer than seven fields to
    /// drop when it goes.
    private final class Seldom {
        @exclusivity(unchecked) var waiters: [(id: Int, resume: () -> Void)] = []
        @exclusivity(unchecked) var nextWaiterID = 0
        @exclusivity(unchecked) var readFailure: HTTPStreamError?
        @exclusivity(unchecked) var sentMethod: String?
        @exclusivity(unchecked) var prefetched: Headers?
        @exclusivity(unchecked) var isResponseRead = false
        @exclusivity(unchecked) var switchedProtocols = false
        @exclusivity(unchecked) var transferDecoder: TransferDecoding?
        @exclusivity(unchecked) var responseFraming: HTTP1BodyFraming?
        @exclusivity(unchecked) var fileBodyOctetsSent: UInt64 = 0
        @exclusivity(unchecked) var readTimedOut = false
        /// Client: the connection to tell when this stream goes (`tellsWhenGone`).
        @exclusivity(unchecked) var connectionToTell: H1Connection?

        deinit {
            // The stream is going (this box goes with it): nobody holds it any more.
            if let connectionToTell {
                H1Connection.clientStream(of: connectionToTell, wentAwayOn: connectionToTell.reactor)
            }
        }
    }
    @exclusivity(unchecked) private var seldom: Seldom?
    private func ensureSeldom() -> Seldom {
        if let seldom { return seldom }
        let made = Seldom()
        seldom = made
        return made
    }

    /// Server: why reading the request failed, if it did (answered on `shutdown`).
    var readFailure: HTTPStreamError? {
        get { seldom?.readFailure }
        set { if newValue != nil || seldom != nil { ensureSeldom().readFailure = newValue } }
    }
    /// The method of the request (client: for the response's framing; server: for the
    /// response's). A server stream reads it from `requestHead`.
    var requestMethod: String? {
        get { requestHead?.method ?? seldom?.sentMethod }
        set { if newValue != nil || seldom != nil { ensureSeldom().sentMethod = newValue } }
    }
    /// Client helpers: a response head read ahead (by a 100-continue wait), and whether the
    /// response was read to its end.
    public var prefetched: Headers? {
        get { seldom?.prefetched }
        set { if newValue != nil || seldom != nil { ensureSeldom().prefetched = newValue } }
    }
    public var isResponseRead: Bool {
        get { seldom?.isResponseRead ?? false }
        set { if newValue || seldom != nil { ensureSeldom().isResponseRead = newValue } }
    }
    /// Client: the response was a 101 or a 2xx to CONNECT; the connection's input is the new
    /// protocol's (`H1Connection.takeSocket()`).
    var switchedProtocols: Bool {
        get { seldom?.switchedProtocols ?? false }
        set { if newValue || seldom != nil { ensureSeldom().switchedProtocols = newValue } }
    }
    /// Decodes a body sent with gzip or deflate transfer codings.
    var transferDecoder: TransferDecoding? {
        get { seldom?.transferDecoder }
        set { if newValue != nil || seldom != nil { ensureSeldom().transferDecoder = newValue } }
    }
    /// Client: how the final response's body is delimited, once its head arrived.
    var responseFraming: HTTP1BodyFraming? {
        get { seldom?.responseFraming }
        set { if newValue != nil || seldom != nil { ensureSeldom().responseFraming = newValue } }
    }

    /// The file octets of this stream's body that went to the kernel (see `HTTPStream`): counted
    /// by `writeChunk(fromFile:…)` alone, in the stream's rarely used box, so that no other write
    /// pays for it.
    public var fileBodyOctetsSent: UInt64? { seldom?.fileBodyOctetsSent ?? 0 }
    func countFileBodyOctets(_ octets: UInt64) {
        guard octets > 0 else { return }
        ensureSeldom().fileBodyOctetsSent += octets
    }

    /// Client: once its request went, the stream tells `connection` when it goes without
    /// `shutdown()` (its last holder dropped it): an unread response is abandoned then
    /// (`H1Connection.clientStreamWentAway`). Kept in the rarely used box, which a client stream
    /// has anyway, so a server's stream pays nothing for it.
    func tellsWhenGone(_ connection: H1Connection) {
        ensureSeldom().connectionToTell = connection
    }

    init(connection: H1Connection, requestHead: HTTP1MessageHead?) {
        self.connection = connection
        self.requestHead = requestHead
        if let requestHead {
            peerVersion = requestHead.version
            // The head's headers are the first block `getHeaders` returns (`nextHeaders`), taken
            // from `requestHead` rather than queued: no copy for the many handlers that never ask.
            requestHeadersPending = true
            // A request without a body has nothing to continue with (and no field to look up).
            awaitsContinue =
                requestHead.framing != .none && requestHead.version == .http11
                && requestHead.headers.hasToken("expect", "100-continue")
        }
    }

    // MARK: - Connection side

    func receivedBody(_ bytes: [UInt8]) {
        guard !isDiscardingBody else { return }
        if let transferDecoder {
            transferDecoder.append(bytes, final: false)
            decodeTransferCoded(transferDecoder)
        } else {
            inbound.appendBody(bytes)
        }
        wakeReaders()
    }

    func receivedHeaders(_ headers: Headers) {
        inbound.appendHeaders(headers)
        wakeReaders()
    }

    func receivedEnd() {
        if let transferDecoder, !isDiscardingBody {
            // The end is the reader's once everything before it was decoded.
            transferDecoder.append([], final: true)
            decodeTransferCoded(transferDecoder)
        } else {
            inbound.end()
        }
        awaitsContinue = false
        wakeReaders()
    }

    /// Decodes a transfer-coded body as far as the reader has room for (`maxBufferedBody`): the
    /// rest waits, coded, until the reader takes what is queued.
    private func decodeTransferCoded(_ decoder: TransferDecoding) {
        guard decoder.hasWork, !inbound.ended, inbound.error == nil else { return }
        let room = connection.options.maxBufferedBody - inbound.bufferedFootprint
        guard room > 0 else { return }
        var decoded: [UInt8] = []
        do {
            let ended = try decoder.decode(into: &decoded, budget: room)
            inbound.appendBody(decoded)
            if ended { inbound.end() }
        } catch {
            inbound.appendBody(decoded)
            failReading(.coding(error))
        }
    }

    /// Body octets this stream holds for its reader, decoded or not.
    var bufferedBodyBytes: Int {
        guard let transferDecoder = seldom?.transferDecoder else { return inbound.bufferedBytes }
        return inbound.bufferedBytes + transferDecoder.pendingInputCount
    }

    /// What the body this stream holds for its reader costs, decoded or not (the decoded pieces
    /// at `H1InboundQueue.bufferedFootprint`, the coded backlog at its length): the connection
    /// stops reading above `maxBufferedBody`.
    var bufferedBodyFootprint: Int {
        guard let transferDecoder = seldom?.transferDecoder else { return inbound.bufferedFootprint }
        return inbound.bufferedFootprint + transferDecoder.pendingInputCount
    }

    /// Server: whether the connection can go on to the next request after a final response
    /// written now. RFC 9110 §10.1.1: "A server that responds with a final status code before
    /// reading the entire request content SHOULD indicate whether it intends to close the
    /// connection (e.g., see Section 9.6 of [HTTP/1.1]) or continue reading the request
    /// content." It can once the whole request arrived (every request without a body, at one
    /// load); it closes, and says so, while the client waits for `100 Continue` (it may or may not
    /// send the body: where the next request starts is a guess), and when more of a declared
    /// body is left than the drain would read (`drainLimit`: it would read that much only to close
    /// anyway). Otherwise the rest is drained after the response (`beginDiscardingBody`).
    @inline(__always)
    func keepsConnectionIfAnsweredNow(drainLimit: Int) -> Bool {
        inbound.ended || keepsConnectionIfAnsweredEarly(drainLimit: drainLimit)
    }

    private func keepsConnectionIfAnsweredEarly(drainLimit: Int) -> Bool {
        if awaitsContinue { return false }
        guard let left = declaredBodyLengthLeft else { return true }
        return left <= UInt64(Swift.max(0, drainLimit))
    }

    /// Server: the handler will not read the body; what is queued, decoded or not, goes.
    func discardBody() {
        isDiscardingBody = true
        inbound.discardBody()
        transferDecoder?.dropBacklog()
    }

    func failReading(_ error: HTTPStreamError) {
        if readFailure == nil { readFailure = error }
        inbound.fail(error)
        wakeReaders()
    }

    /// Server: a read of the request (`getNextChunk`, `getHeaders`, a body helper built on them)
    /// ended by its timeout while the request was not whole yet.
    private func noteReadTimeout() {
        guard requestHead != nil, !requestComplete else { return }
        ensureSeldom().readTimedOut = true
    }

    /// Server: a read of the request timed out, and the request is still not whole: a handler
    /// that ends without answering gets 408, and the connection closes (`shutdownServerStream`).
    var timedOutReadingRequest: Bool {
        seldom?.readTimedOut == true && !requestComplete
    }

    /// The whole message arrived (or reading it failed): a transfer-coded body may still be
    /// waiting to be decoded for its reader.
    var requestComplete: Bool {
        inbound.ended || inbound.error != nil || seldom?.transferDecoder?.inputEnded == true
    }

    private func wakeReaders() {
        guard let seldom, !seldom.waiters.isEmpty else { return }
        let current = seldom.waiters
        seldom.waiters.removeAll()
        for waiter in current { waiter.resume() }
    }

    // MARK: - Waiting for input

    /// Registers `resume` to run when something arrives; returns a cancel function.
    func addWaiter(_ resume: @escaping () -> Void) -> () -> Void {
        let seldom = ensureSeldom()
        let id = seldom.nextWaiterID
        seldom.nextWaiterID += 1
        seldom.waiters.append((id, resume))
        connection.streamWantsInput(self)
        return { [weak self] in self?.seldom?.waiters.removeAll { $0.id == id } }
    }

    /// Async: suspends until something arrives for this stream or `deadline` passes.
    func waitForInput(_ what: String, _ deadline: Deadline) async throws {
        do {
            let remaining = try deadline.remaining(what)
            try await reactor.suspend(what, timeout: remaining) { (suspension: Suspension<Void>) in
                self.addWaiter { suspension.resume(returning: ()) }
            }
        } catch ReactorError.timedOut(let what) {
            noteReadTimeout()
            throw ReactorError.timedOut(what)
        }
    }

    /// Callback: runs `then` when something arrives, or `then` with the timeout error.
    ///
    /// Registering the waiter asks the connection to parse what its socket holds, which may end
    /// the wait (and run `then`) before `addWaiter` returns: the timeout's timer is armed only
    /// for a wait still open, as `Reactor.suspend` does for the async tier. Armed regardless, it
    /// stayed in the reactor's heap until it fired, holding this stream and its connection, and
    /// the reactor was not `empty()` until then.
    func waitForInput(
        _ what: String, _ deadline: Deadline, _ then: @escaping (ReactorError?) -> Void
    ) {
        let remaining: Double?
        do {
            remaining = try deadline.remaining(what)
        } catch {
            noteReadTimeout()
            then(error as? ReactorError)
            return
        }
        var timer: ReactorTimer?
        var finished = false
        let cancel = addWaiter {
            guard !finished else { return }
            finished = true
            timer?.cancel()
            then(nil)
        }
        if let remaining, !finished {
            timer = reactor.schedule(after: remaining) { _ in
                guard !finished else { return }
                finished = true
                cancel()
                self.noteReadTimeout()
                then(.timedOut(what))
            }
        }
    }

    // MARK: - Reading

    /// Sends the interim `100 Continue` a client waits for before sending the body it announced,
    /// the first time the handler asks for that body (lua-http never sends it; curl then stalls
    /// for a second).
    func continueIfAwaited() {
        guard awaitsContinue else { return }
        awaitsContinue = false
        guard !outbound.hasStarted else { return }
        var headers = Headers(capacity: 1)
        headers.append(":status", "100")
        try? writeHeadersNow(headers, endStream: false)
    }

    func nextHeaders() throws -> Headers?? {
        if requestHeadersPending, let requestHead {
            requestHeadersPending = false
            return .some(requestHead.headers)
        }
        let headers = try inbound.takeHeaders()
        if headers == nil && bufferedBodyFootprint >= connection.options.maxBufferedBody {
            // Trailers come after the body, and the connection reads no more of it until the
            // reader takes some: waiting for them here could only end in a timeout.
            throw HTTPStreamError.invalidState(
                "the trailers come after the body: read it first (\(bufferedBodyBytes) octets of it wait)")
        }
        return headers
    }

    func nextChunk() throws -> [UInt8]?? {
        if isDiscardingBody {
            // The response was complete before the body was read: the connection dropped the rest
            // of it to keep going. A shorter body must not pass for the whole one.
            throw HTTPStreamError.invalidState("the request body was discarded once the response was complete")
        }
        continueIfAwaited()
        if let transferDecoder = seldom?.transferDecoder { decodeTransferCoded(transferDecoder) }
        let chunk = try inbound.takeChunk()
        if chunk != nil { connection.streamWantsInput(self) }
        return chunk
    }

    public func unget(_ bytes: [UInt8]) {
        inbound.prependBody(bytes)
    }

    // MARK: - Writing

    /// Writes a header block now (buffered; never waits): a response head on a server, a request
    /// head on a client, or trailers (with `endStream`) after a chunked body. Trailers cannot hold
    /// the fields RFC 9110 §6.5.1 keeps in the head (`content-length`, `host`, `connection`,
    /// `authorization`, `content-type` …; `HTTP1SerializeError.forbiddenTrailer`).
    public func writeHeaders(_ headers: Headers, endStream: Bool) throws {
        try writeHeadersNow(headers, endStream: endStream)
    }

    func writeHeadersNow(_ headers: Headers, endStream: Bool) throws(HTTPStreamError) {
        guard !isShutDown else { throw .invalidState("the stream was shut down") }
        if case .body = outbound.state {
            // Trailers end the body; nothing else may follow the head (RFC 9110 §15.2: an interim
            // response comes before the final one).
            guard endStream, !headers.has(":status") else {
                throw .invalidState("only trailers, which end the body, may follow a message's head")
            }
            try writeBodyNow(UnsafeRawBufferPointer(start: nil, count: 0), endStream: true, trailers: headers)
            return
        }
        try connection.writeHead(headers, endStream: endStream, for: self)
    }

    /// Writes the whole message now (buffered; never waits): the head, then `body`, ending the
    /// stream. Both sides add `content-length` when `headers` have none and refuse (writing
    /// nothing) a `content-length` that is not `body`'s; a server serializes head and body in one
    /// piece.
    public func writeMessage(_ headers: Headers, body: UnsafeRawBufferPointer) throws {
        guard !isShutDown else { throw HTTPStreamError.invalidState("the stream was shut down") }
        try connection.writeHead(headers, endStream: true, body: body, for: self)
    }

    /// Writes body octets now (buffered; never waits).
    public func writeChunk(_ bytes: UnsafeRawBufferPointer, endStream: Bool) throws {
        try writeBodyNow(bytes, endStream: endStream, trailers: nil)
    }

    func writeBodyNow(
        _ bytes: UnsafeRawBufferPointer, heldIn array: [UInt8]? = nil, endStream: Bool, trailers: Headers?
    ) throws(HTTPStreamError) {
        guard !isShutDown || bytes.isEmpty else { throw .invalidState("the stream was shut down") }
        try connection.writeBody(bytes, heldIn: array, endStream: endStream, trailers: trailers, for: self)
    }

    /// Whether this side's message was written to its end: a server's response, a client's
    /// request.
    public var isOutboundComplete: Bool { outbound.isComplete }

    /// A client stream's outbound message is its request, so the old name said the opposite.
    @available(*, deprecated, renamed: "isOutboundComplete")
    public var isResponseComplete: Bool { isOutboundComplete }

    // MARK: - Common API

    public func getHeaders(timeout: Double?) async throws -> Headers? {
        let deadline = Deadline(timeout)
        while true {
            if let block = try nextHeaders() { return block }
            try await waitForInput("getHeaders", deadline)
        }
    }

    public func getNextChunk(timeout: Double?) async throws -> [UInt8]? {
        let deadline = Deadline(timeout)
        while true {
            if let chunk = try nextChunk() { return chunk }
            try await waitForInput("getNextChunk", deadline)
        }
    }

    public func getHeaders(timeout: Double?, _ completion: @escaping (Result<Headers?, any Error>) -> Void) {
        poll("getHeaders", Deadline(timeout), { try self.nextHeaders() }, completion)
    }

    public func getNextChunk(timeout: Double?, _ completion: @escaping (Result<[UInt8]?, any Error>) -> Void) {
        poll("getNextChunk", Deadline(timeout), { try self.nextChunk() }, completion)
    }

    /// The callback tier's loop: try, else wait and try again, until a value, an error or the
    /// deadline.
    private func poll<T>(
        _ what: String, _ deadline: Deadline, _ attempt: @escaping () throws -> T??,
        _ completion: @escaping (Result<T?, any Error>) -> Void
    ) {
        do {
            if let value = try attempt() {
                completion(.success(value))
                return
            }
        } catch {
            completion(.failure(error))
            return
        }
        waitForInput(what, deadline) { error in
            if let error {
                completion(.failure(error))
            } else {
                self.poll(what, deadline, attempt, completion)
            }
        }
    }

    public func writeHeaders(_ headers: Headers, endStream: Bool, timeout: Double?) async throws {
        try writeHeadersNow(headers, endStream: endStream)
        try await connection.waitForWriteRoom(timeout: timeout)
    }

    public func writeChunk(_ bytes: [UInt8], endStream: Bool, timeout: Double?) async throws {
        // The array goes to the socket's queue as it is (a file's chunks, not copied).
        try bytes.withUnsafeBytes { buffer in
            try writeBodyNow(buffer, heldIn: bytes, endStream: endStream, trailers: nil)
        }
        try await connection.waitForWriteRoom(timeout: timeout)
    }

    /// Ends the stream: lua-http's `shutdown`. A server stream whose handler wrote no response
    /// answers 503 (or the status its read error calls for: 400, 413, …; 408 when a read of the
    /// request timed out and the request is still not whole) and closes the connection after a
    /// read error or such a timeout; an unfinished response aborts the connection (its framing
    /// cannot be completed); an unread request body is drained (up to the connection's drain
    /// limit) so the connection stays usable.
    public func shutdown() {
        guard !isShutDown else { return }
        connection.shutdownStream(self)
        isShutDown = true
    }

    /// `shutdown()`, after the handler failed with `error`: a request the handler could not read
    /// (a body over its limit, a malformed coding) is answered with the error's status and the
    /// connection closes after it, as for a read error the connection found itself.
    public func shutdown(after error: any Error) {
        if readFailure == nil, let failure = error as? HTTPStreamError, failure.status != nil {
            readFailure = failure
        }
        shutdown()
    }

    /// The connection's `H1ConnectionOptions.bodyLimit`.
    public var bodyLimit: Int { connection.options.bodyLimit }

    /// Spawns `work` on the reactor, counted in the connection's context
    /// (`H1ConnectionContext.helperTasksRunning`) until it ends, so that a server knows of a
    /// callback handler's follow-up work.
    public func spawnHelperTask(_ work: @escaping @Sendable () async -> Void) {
        let context = connection.context
        context.helperTaskStarted()
        reactor.spawn {
            await work()
            context.helperTaskEnded()
        }
    }

    /// The framing's length of the peer's body (the request's on a server, the final response's
    /// on a client, once its head arrived): its `content-length`, 0 for a message without a body
    /// (a request with neither `content-length` nor `transfer-encoding`; a response to HEAD, a
    /// 204 or a 304, whatever `content-length` they carry), nil for a chunked or close-delimited
    /// body and before the head.
    public var declaredBodyLength: UInt64? {
        guard let framing = requestHead?.framing ?? responseFraming else { return nil }
        switch framing {
        case .contentLength(let length): return length
        case .none: return 0
        case .chunked, .untilClose: return nil
        }
    }

    /// `declaredBodyLength` less the octets the reader took (those received less those still
    /// queued, which include what it put back).
    public var declaredBodyLengthLeft: UInt64? {
        guard let declared = declaredBodyLength, !isDiscardingBody, inbound.error == nil else { return nil }
        let notReceived = declared - Swift.min(declared, inbound.receivedBytes)
        return notReceived + UInt64(inbound.bufferedBytes)
    }

    public func checkTLS() -> TLSInfo? { connection.checkTLS() }
    public func localname() -> SocketName { connection.localname() }
    public func peername() -> SocketName { connection.peername() }
}
