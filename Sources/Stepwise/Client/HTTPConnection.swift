public import HTTPCore
public import Logging
public import Reactor

/// One persistent connection to one host and port, http or https: the seed's `HttpConnection`
/// (`../shared/reference/persistent-connection-api.txt`).
///
/// ```swift
/// let conn = try HTTPConnection(host: "example.com", port: 443, scheme: "https")
/// try conn.request("GET", "/")
/// let resp = try conn.getResponse()
/// print(resp.status, resp.text)
/// conn.close()
/// ```
///
/// The connection opens on the first request (or `connect()`), is reused while the server keeps
/// it alive, and reopens after the server closed it, or after a request or response failed (a
/// timeout, a reset: the exchange cut short leaves it unusable, so it is closed). A request on a
/// reused connection that the server turns out to have closed or timed out meanwhile is sent once
/// more on a fresh one, as `Request.go` does with a pooled connection, when its method is
/// idempotent and its body can go again (`StaleConnection`; docs/client.md). A `417 Expectation
/// Failed` to `expectContinue`'s expectation, before the body went, is followed by the same
/// request without it, once, on a new connection (see `request`). Each call
/// exists twice: blocking (runs the connection's reactor until done; for scripts, not from inside
/// a reactor callback) and async (for tasks on the reactor), with the same names.
///
/// Dropped without `close()`, it closes its connection all the same: a response it did not read
/// is abandoned (docs/client.md), and an idle socket closes with its last reference.
public final class HTTPConnection: @unchecked Sendable {
    /// Per-phase time limits in seconds (nil: none).
    public struct Timeouts: Sendable, Equatable {
        public var connect: Double?
        public var read: Double?
        public var write: Double?

        public init(connect: Double? = nil, read: Double? = nil, write: Double? = nil) {
            self.connect = connect
            self.read = read
            self.write = write
        }

        /// The same limit for every phase.
        public static func all(_ seconds: Double?) -> Timeouts {
            Timeouts(connect: seconds, read: seconds, write: seconds)
        }
    }

    public let host: String
    public let port: UInt16
    public let scheme: String
    public let verify: Bool
    public let reactor: Reactor
    /// The limits used by the next calls; `setTimeout` changes them.
    public private(set) var timeouts: Timeouts
    /// Seconds `request(..., expectContinue: true)` waits for `100 Continue` before sending the
    /// body anyway (at most the read timeout). Default 1, as `Request.expect100Timeout`.
    public var expect100Timeout: Double = 1
    /// Extra trust anchors (PEM) for https, e.g. a test server's self-signed certificate.
    public var trustedCertificatesPEM: [String] = []
    /// Looks up `host` when the connection (re)opens (default: `Resolver.shared`); see
    /// `ClientOptions.resolver`.
    public var resolver: Resolver = .shared
    /// Where connecting is logged (`ClientOptions.logger`), at debug level.
    public var logger = Logger(label: "stepwise.client")
    /// The HTTP/1 settings of the connection (the parser's limits, buffering, `bodyLimit`:
    /// `ClientOptions.http1`), for connections opened after a change. Default:
    /// `H1ConnectionOptions()`.
    public var http1 = H1ConnectionOptions()

    private(set) var connection: H1Connection?
    private(set) var stream: H1Stream?
    /// The last request, kept until its response was read, to send it again should the
    /// connection turn out stale.
    var sent: SentRequest?
    /// Whether the open connection served an exchange (a response read to its end): a request
    /// on it may find it stale.
    private(set) var connectionServed = false

    /// - Parameters:
    ///   - port: default 80 for http, 443 for https.
    ///   - timeout: one limit for connect, read and write (nil: none).
    ///   - scheme: `"http"` (default) or `"https"`.
    ///   - verify: verify the server's certificate (default true).
    ///   - reactor: the reactor to run on; nil makes one for this connection.
    public init(
        host: String, port: UInt16? = nil, timeout: Double? = nil, scheme: String = "http", verify: Bool = true,
        on reactor: Reactor? = nil
    ) throws {
        guard scheme == "http" || scheme == "https" else {
            throw ClientError.invalidOptions("scheme must be http or https, not \(scheme)")
        }
        self.host = host
        self.port = port ?? (scheme == "https" ? 443 : 80)
        self.scheme = scheme
        self.verify = verify
        self.timeouts = .all(timeout)
        self.reactor = try reactor ?? Reactor()
    }

    /// Sets one limit for every phase; nil clears them.
    public func setTimeout(_ seconds: Double?) { timeouts = .all(seconds) }
    /// Sets the per-phase limits.
    public func setTimeouts(_ timeouts: Timeouts) { self.timeouts = timeouts }

    /// Whether a connection is open now.
    public var isConnected: Bool { connection.map { !$0.isClosed } ?? false }

    // MARK: - Async

    /// Opens the TCP (and TLS) connection if it is not open.
    public func connect() async throws {
        // A server that closed the idle connection since the reactor last stepped: reopen now
        // rather than send into it (a POST could not be sent again).
        connection?.noticeCloseWhileIdle()
        if let connection, !connection.isClosed, connection.newStreamPossible { return }
        connection?.close()
        var options = ClientOptions(host: host, port: port, tls: scheme == "https")
        options.resolver = resolver
        options.logger = logger
        options.http1 = http1
        if scheme == "https" { options.tlsContext = try clientContext() }
        connection = try await Client.connect(options, on: reactor, timeout: timeouts.connect)
        connectionServed = false
    }

    /// The TLS context of the next connection. Made once, not per connection: a verifying
    /// context loads the system's CA store (some 25 ms of reading and parsing, on the reactor's
    /// thread, inside a step), so each reconnect held every other connection and timer of the
    /// reactor that long. One that trusts no extra certificates is `Client`'s shared one.
    func clientContext() throws -> TLSContext {
        if verify && trustedCertificatesPEM.isEmpty { return try Client.defaultContext() }
        if let madeContext, madeContext.pems == trustedCertificatesPEM { return madeContext.context }
        let context = try TLSContext.client(
            verify: verify, trustedCertificatesPEM: trustedCertificatesPEM, alpn: ["http/1.1"])
        madeContext = (trustedCertificatesPEM, context)
        return context
    }

    /// The context `clientContext` made, and the extra trust anchors it was made with.
    private var madeContext: (pems: [String], context: TLSContext)?

    /// Sends a request. Adds `host` and, for a known body length, `content-length` when absent;
    /// a `host` in `headers` is sent first, in place of the generated one.
    /// - Parameters:
    ///   - expectContinue: send `expect: 100-continue` (beside an `expect` field in `headers`
    ///     that lacks it) and wait (up to `expect100Timeout`) for the server's go-ahead before a
    ///     non-empty body; a final status instead skips the body. A `bodyStream` with a
    ///     `bodyLength` of 0 is no content: it goes without the expectation and does not wait.
    ///     A `417 Expectation Failed` instead is no answer to the request: something on the way
    ///     does not take the expectation (RFC 9110 §10.1.1: the client "SHOULD repeat that
    ///     request without a 100-continue expectation"). `request` repeats it once on a new
    ///     connection, without the `100-continue` element (in `headers` too; an `expect` field
    ///     left empty goes) and with the body, which had not gone (`bodyStream` was not called
    ///     yet), under the same per-phase timeouts; `response()` reads the repeat's answer. A
    ///     417 after the body started, or to the repeat, is the response.
    ///   - bodyStream: produces the body piece by piece (nil: the end); with `bodyLength` it is
    ///     sent with that content-length (and must produce exactly that much), else chunked.
    ///     Kept, with the other arguments, until the response was read: a request on a reused
    ///     connection that turns out stale is sent again (see `response()`), but only while
    ///     `bodyStream` was not called yet.
    ///
    /// A server that answers before the body ended and closes the connection makes the rest of
    /// the body fail to go: the request then returns, and `response()` gives that answer (RFC 9112
    /// §9.5).
    public func request(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        expectContinue: Bool = false, bodyStream: (() throws -> [UInt8]?)? = nil, bodyLength: UInt64? = nil
    ) async throws {
        if let stream, !stream.isResponseRead {
            throw ClientError.invalidOptions("read the previous response before sending another request")
        }
        try await start(
            SentRequest(
                method: method, path: path, headers: headers, body: body, expectContinue: expectContinue,
                bodyStream: bodyStream, bodyLength: bodyLength))
    }

    /// What `send` came to.
    enum SendOutcome {
        /// The request went (or was answered while it went): `response()` reads the answer.
        case sent
        /// A `417 Expectation Failed` answered the expectation before the body went
        /// (`ContinueWait.isExpectationFailed`): the caller repeats the request without it, on a
        /// new connection (this one was shut down by the wait).
        case expectationFailed
    }

    /// Sends `request` on the open connection (the caller opened it and made `stream`). A failure
    /// leaves the request cut short: the caller closes the connection.
    func send(_ request: SentRequest, on connection: H1Connection, stream: H1Stream) async throws -> SendOutcome {
        let (method, path, headers) = (request.method, request.path, request.headers)
        let (body, bodyStream, bodyLength) = (request.body, request.bodyStream, request.bodyLength)
        let expectContinue = request.expectContinue
        var fields = Headers(capacity: headers.count + 6)
        fields.append(":method", method)
        fields.append(":scheme", scheme)
        fields.append(":path", path)
        // A `host` of the caller's replaces the generated one. Either is sent as `:authority`:
        // once, and first (RFC 9110 §7.2: "A user agent that sends Host SHOULD send it as the
        // first field in the header section of a request").
        let userHost = headers.last { $0.0.lowercased() == "host" }?.1
        fields.append(":authority", userHost ?? HTTPUtil.authority(host: host, port: Int(port), scheme: scheme))
        for (name, value) in headers where name.lowercased() != "host" { fields.append(name.lowercased(), value) }
        let hasBody = (body?.isEmpty == false) || bodyStream != nil
        if !fields.has("content-length") {
            if let body, !body.isEmpty {
                fields.append("content-length", String(body.count))
            } else if bodyStream != nil, let bodyLength {
                fields.append("content-length", String(bodyLength))
            }
        }
        // Added beside an `expect` field of the caller's that lacks it: a wait for a go-ahead
        // nobody was asked for would last its whole `expect100Timeout` (`ContinueWait.isExpected`
        // sends the body at once instead, but the caller asked for the wait).
        if expectContinue && hasBody && !fields.hasToken("expect", "100-continue") {
            fields.append("expect", "100-continue")
        }
        // The repeat after a 417 goes without the expectation, an `expect` field of the caller's
        // included (`expectContinue` is off for it, so it does not wait either).
        if request.expectationFailed { fields = ContinueWait.droppingExpectation(from: fields) }
        let write = timeouts.write
        try await during("request head write", seconds: write) {
            try await stream.writeHeaders(fields, endStream: !hasBody, timeout: write)
        }
        guard hasBody else { return .sent }
        if expectContinue {
            // Up to the read timeout, if shorter: once it passed, the body goes, as it does after
            // `expect100Timeout` (the response's read has a read timeout of its own).
            var wait = ContinueWait(patience: min(expect100Timeout, timeouts.read ?? expect100Timeout))
            defer { if wait.responseHeadArrived { sent?.responseStarted = true } }
            if case .answeredFirst(let final) = try await wait.run(on: stream, after: fields) {
                // Before the body: `bodyStream` was not called, so the repeat can send it whole.
                if ContinueWait.isExpectationFailed(final) { return .expectationFailed }
                // Answered without the body, which is not sent: the response is for `response()`,
                // and the next request opens a new connection (`ContinueWait`).
                stream.prefetched = final
                return .sent
            }
        }
        do {
            try await during("request body write", seconds: write) {
                if let body { try await stream.writeChunk(body, endStream: bodyStream == nil, timeout: write) }
                if let bodyStream {
                    // From its first call on, the producer's pieces cannot go again.
                    sent?.bodyStreamStarted = true
                    while let piece = try bodyStream() {
                        try await stream.writeChunk(piece, endStream: false, timeout: write)
                    }
                    try await stream.writeChunk([], endStream: true, timeout: write)
                }
            }
        } catch {
            // The server answered before the body ended, and closed (or stopped reading): that
            // answer is for `response()`. The request stays incomplete, so the connection carries
            // no other.
            guard StaleConnection.isStale(error), let early = await stream.finalResponseReceived() else { throw error }
            connection.shutdown()
            stream.prefetched = early
        }
        return .sent
    }

    /// Runs one phase; a timeout in it says this connection's target, the phase and its limit
    /// (`example.com:80: timed out after 5 s during response head read`), not the name of the
    /// call that waited.
    func during<T>(_ phase: String, seconds: Double?, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch ReactorError.timedOut {
            let target = HTTPUtil.authority(host: host, port: Int(port), scheme: nil)
            throw SocketError.timedOut(target: target, phase: phase, seconds: seconds ?? 0)
        }
    }

    /// Reads the response to the last request: status, headers and the whole body (content-length,
    /// chunked or until close). Interim 1xx responses are skipped.
    ///
    /// `bodyLimit` is the most body octets to buffer (nil: 64 MiB, `H1ConnectionOptions`'
    /// `bodyLimit`; a larger one is allowed). A longer body throws `HTTPStreamError.bodyTooLarge`,
    /// at once when its `content-length` says so, else when the octets pass the limit, and the
    /// connection is closed rather than read to the end; the next request opens a new one.
    ///
    /// When the request went on a reused connection that the server had closed or timed out (it
    /// ends before any response, or with a 408 that ends the connection), and the request may
    /// be sent again (`StaleConnection`), it is, on a fresh connection, under the same limits,
    /// and this is that request's response.
    public func response(bodyLimit: Int? = nil) async throws -> HTTPResponse {
        guard var stream else { throw ClientError.invalidOptions("no request was sent") }
        while true {
            let again: SentRequest
            do {
                switch try await read(stream, bodyLimit: bodyLimit) {
                case .response(let response):
                    return response
                case .timedOut(let request):
                    // The 408's body is not read: the connection ends here either way.
                    again = self.again(afterTimeoutOf: request)
                }
            } catch {
                // A response not read to its end leaves the connection mid-message (or it
                // failed): the next request opens a new one rather than being refused for this
                // response.
                let failed = sent
                close()
                again = try self.again(failed, after: error)
            }
            close()
            try await start(again)
            guard let next = self.stream else { throw HTTPStreamError.connectionClosed("before the request was sent") }
            stream = next
        }
    }

    /// What reading a response gave.
    private enum ReadOutcome {
        case response(HTTPResponse)
        /// A 408 ending the reused connection: the server timed it out as `request` came
        /// (`StaleConnection.isTimeoutOfAnIdleConnection`), and `request` may go again.
        case timedOut(SentRequest)
    }

    /// `response(bodyLimit:)` of `stream`.
    private func read(_ stream: H1Stream, bodyLimit: Int?) async throws -> ReadOutcome {
        let deadline = Deadline(timeouts.read)
        var head = stream.prefetched
        stream.prefetched = nil
        while true {
            if head == nil {
                head = try await during("response head read", seconds: timeouts.read) {
                    try await stream.getHeaders(timeout: deadline.remainingOrZero)
                }
            }
            guard let headers = head else { throw HTTPStreamError.connectionClosed("before the response") }
            sent?.responseStarted = true
            guard let statusText = headers.first(":status"), let status = Int(statusText) else {
                throw HTTPStreamError.invalidHeaders("response without :status")
            }
            if status < 200 && status != 101 {
                head = nil
                continue
            }
            if let sent, sent.mayBeSentAgain, let connection,
                StaleConnection.isTimeoutOfAnIdleConnection(headers, stream: stream, on: connection)
            {
                return .timedOut(sent)
            }
            let body = try await during("response body read", seconds: timeouts.read) {
                try await stream.getBodyAsBytes(limit: bodyLimit, timeout: deadline.remainingOrZero)
            }
            stream.isResponseRead = true
            connectionServed = true
            sent = nil
            return .response(HTTPResponse(status: status, headers: headers, body: body))
        }
    }

    /// Closes the connection; safe to call more than once.
    public func close() {
        connection?.close()
        connection = nil
        stream = nil
        sent = nil
    }

    /// Opens the connection if needed and gives it a stream for the next request.
    func newStream() async throws -> (H1Connection, H1Stream) {
        try await connect()
        guard let connection, let stream = connection.newStream() else {
            throw HTTPStreamError.connectionClosed("before the request was sent")
        }
        self.stream = stream
        return (connection, stream)
    }

    // MARK: - Blocking (scripts)

    /// Blocking `connect()`.
    public func connect() throws {
        try reactor.run { try await self.connect() }
    }

    /// Blocking `request(...)`.
    public func request(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        expectContinue: Bool = false, bodyStream: (() throws -> [UInt8]?)? = nil, bodyLength: UInt64? = nil
    ) throws {
        nonisolated(unsafe) let bodyStream = bodyStream
        let headers = headers
        try reactor.run {
            try await self.request(
                method, path, headers: headers, body: body, expectContinue: expectContinue, bodyStream: bodyStream,
                bodyLength: bodyLength)
        }
    }

    /// Blocking `response(bodyLimit:)` (the seed's `getResponse`).
    public func getResponse(bodyLimit: Int? = nil) throws -> HTTPResponse {
        try reactor.run { try await self.response(bodyLimit: bodyLimit) }
    }
}
