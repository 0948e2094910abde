public import HTTPCore
import Logging
public import Reactor

// Sending a request: lua-http's `request:go`, with keep-alive pooling and transparent decoding.

extension Request {
    /// Sends the request on `reactor` and returns the final response's header fields (with
    /// `:status`) and the stream to read its body from.
    ///
    /// `timeout` is **one deadline over every phase**: DNS, connect, TLS, writing the request, the
    /// 100-continue wait, redirects and the response headers (not the body, which the caller reads
    /// with its own timeouts). Running out of it throws `SocketError.timedOut` naming the target,
    /// the whole `timeout` and the phase: `DNS`, `connect`, `TLS handshake`, `wait for a pooled
    /// connection`, `request head write`, `100-continue wait`, `request body write` or `response
    /// head read` (`example.com:443: timed out after 5.0 s during response head read`).
    ///
    /// - The connection comes from `pool` (keep-alive reuse), or is a fresh one that closes after
    ///   the response. A reused connection that fails before any response head arrives, interim
    ///   or final (the server closed it while idle), is replaced once by a fresh one for
    ///   idempotent methods (RFC 9110 §9.2.2: "A user agent … SHOULD NOT automatically retry a
    ///   request with a non-idempotent method"); a POST fails instead. So is a reused connection
    ///   answered with `408 Request Timeout` and ended by the server (it timed the connection out
    ///   as the request left; RFC 9110 §15.5.9: the client "MAY repeat that request on a new
    ///   connection"); for a POST, or when a body that went cannot be sent again, the 408 is the
    ///   response. See docs/client.md.
    /// - With `decodeContent`, `accept-encoding: gzip, deflate` is added unless present
    ///   (`identity` on a request with a `range`: see `automaticAcceptEncoding`), and a gzip or
    ///   deflate `content-encoding` is decoded: the stream is then a `DecodedStream` and the
    ///   returned fields have no `content-encoding` or `content-length`. A 206 Partial Content is
    ///   left encoded (its range is of the encoded data; join the parts, then decode).
    /// - With `expectsContinue`, the body waits for `100 Continue` up to `expect100Timeout`; a
    ///   final status arriving first means the body is not sent (RFC 9110 §10.1.1) and the
    ///   connection is not reused. An empty body (`content-length: 0`) goes without the
    ///   expectation and does not wait (`ContinueWait`).
    /// - A `417 Expectation Failed` arriving first is not the response: something on the way
    ///   does not take the expectation (RFC 9110 §10.1.1: the client "SHOULD repeat that request
    ///   without a 100-continue expectation"). The request is repeated once, under the same
    ///   `timeout`, on another connection (from `pool` if set) and without the `100-continue`
    ///   element of `expect` (the field goes if nothing else is left), with the body, which had
    ///   not gone: bytes, a file, a pipe or a producer alike. A 417 after the body started, or to
    ///   the repeat, is the response. (`self` is not changed: a redirect after the repeat asks
    ///   the next server with the expectation again.)
    /// - A final response that arrives while the body is still being written, from a server that
    ///   then closes the connection, is returned rather than the failed write (RFC 9112 §9.5).
    /// - A `host` field in `headers` replaces `:authority` (`self` is not changed): it names the
    ///   virtual host, while `host` and `port` say where to connect (see docs/client.md).
    /// - Interim 1xx responses other than 101 are skipped.
    /// - The stream is the caller's: read the body to its end, or `shutdown()` it. Dropping it
    ///   unread abandons the response: its connection closes (and leaves `pool`), as after
    ///   `shutdown()` (docs/client.md).
    /// - With `followRedirects`, a 3xx other than 304 with a `location` is followed through
    ///   `handleRedirect` (the old stream is shut down). A redirect that keeps the body (307,
    ///   308) after the body was sent, when the body cannot be read again (a producer, a pipe),
    ///   throws `RequestError.bodyNotResendable` instead: the next request would go with less.
    public func go(on reactor: Reactor, timeout: Double? = nil) async throws -> (Headers, any HTTPStream) {
        let deadline = Deadline(timeout)
        var request = hostFieldAsAuthority()
        while true {
            let (headers, stream, bodySent) = try await request.namingTimeouts(seconds: timeout) {
                try await request.sendWithRetry(on: reactor, deadline: deadline)
            }
            let status = headers.first(":status").flatMap { Int($0) } ?? 0
            if request.followRedirects, (300..<400).contains(status), status != 304, headers.has("location") {
                // The 3xx's stream is done with whether the redirect is followed or refused.
                stream.shutdown()
                let next = try request.handleRedirect(headers)
                if bodySent, let body = next.body, await !Request.canSendAgain(body, on: reactor) {
                    throw RequestError.bodyNotResendable(status: status)
                }
                request = next
                request.logger.debug("following the \(status) redirect to \(request.describedTarget)")
                continue
            }
            return request.decoded(headers, stream)
        }
    }

    /// `go()` and the whole body, under the one deadline (its last phase: `response body read`).
    ///
    /// - Parameter bodyLimit: the most body octets to buffer, counted as decoded (nil: the
    ///   connection's `H1ConnectionOptions.bodyLimit`, 64 MiB). A longer body throws
    ///   `HTTPStreamError.bodyTooLarge` and closes the connection rather than reading the rest:
    ///   at once when its `content-length` says so (a body that is not decoded), else when the
    ///   octets pass the limit (chunked, close-delimited, gzip). A larger limit than the
    ///   connection's is allowed. To keep a body of any size, use `go()` and read the stream.
    public func fetch(on reactor: Reactor, bodyLimit: Int? = nil, timeout: Double? = nil) async throws -> HTTPResponse {
        let deadline = Deadline(timeout)
        let (headers, stream) = try await go(on: reactor, timeout: timeout)
        // Shut down however the read ends: an unfinished response closes the connection.
        defer { stream.shutdown() }
        let body = try await namingTimeouts(seconds: timeout) {
            try await Request.phase("response body read") {
                try await stream.getBodyAsBytes(limit: bodyLimit, timeout: deadline.remainingOrZero)
            }
        }
        return HTTPResponse(status: headers.first(":status").flatMap { Int($0) } ?? 0, headers: headers, body: body)
    }

    /// Blocking `go()`, for scripts: runs `reactor` until the response headers arrived. Read the
    /// body with `reactor.run { … }` too. Throws `ReactorError.reentrantStep` inside a reactor
    /// callback or task.
    public func go(on reactor: Reactor, timeout: Double? = nil) throws -> (Headers, any HTTPStream) {
        let result = try reactor.run { () async throws -> ResponseHead in
            let (headers, stream) = try await self.go(on: reactor, timeout: timeout)
            return ResponseHead(headers: headers, stream: stream)
        }
        return (result.headers, result.stream)
    }

    /// Blocking `fetch()`, for scripts.
    public func fetch(on reactor: Reactor, bodyLimit: Int? = nil, timeout: Double? = nil) throws -> HTTPResponse {
        try reactor.run { try await self.fetch(on: reactor, bodyLimit: bodyLimit, timeout: timeout) }
    }

    /// Writes the request on a new stream of `connection` and reads the final response head.
    /// `responseStarted` is set once any response head (interim or final) arrived, `bodyStarted`
    /// once the body began to go: both decide whether a failure may be retried. A body that did
    /// not start when this returns was not sent because the response came first, in the
    /// 100-continue wait (`ContinueWait.Outcome.answeredFirst`).
    func exchange(
        on connection: H1Connection, deadline: Deadline, responseStarted: inout Bool, bodyStarted: inout Bool
    ) async throws -> (Headers, any HTTPStream) {
        logger.debug("\(headers.first(":method") ?? "GET") \(describedTarget) on \(connection.peername())")
        guard let stream = connection.newStream() else {
            throw HTTPStreamError.connectionClosed("before the request was sent")
        }
        var fields = headers
        if let acceptEncoding = automaticAcceptEncoding { fields.append("accept-encoding", acceptEncoding) }
        try await Request.phase("request head write") {
            try await stream.writeHeaders(
                fields, endStream: body == nil, timeout: deadline.remaining("request head write"))
        }
        var head: Headers?
        if let body {
            var send = true
            if expectsContinue {
                var wait = ContinueWait(patience: expect100Timeout, deadline: deadline)
                defer { if wait.responseHeadArrived { responseStarted = true } }
                if case .answeredFirst(let final) = try await wait.run(on: stream, after: fields) {
                    // Answered without the body: the connection was shut down (`ContinueWait`).
                    send = false
                    head = final
                }
            }
            if send {
                bodyStarted = true
                do {
                    try await Request.phase("request body write") {
                        try await Request.write(body, to: stream, deadline: deadline)
                    }
                } catch {
                    // The server answered before the body ended, and closed (or stopped reading):
                    // its answer is the outcome. The request stays incomplete, so the connection
                    // carries no other.
                    guard StaleConnection.isStale(error), let early = await stream.finalResponseReceived() else {
                        throw error
                    }
                    connection.shutdown()
                    head = early
                }
            }
        }
        while true {
            if head == nil {
                head = try await Request.phase("response head read") {
                    try await stream.getHeaders(timeout: deadline.remainingOrZero)
                }
            }
            guard let headers = head else { throw HTTPStreamError.connectionClosed("before the response") }
            responseStarted = true
            guard let status = headers.first(":status").flatMap({ Int($0) }) else {
                throw HTTPStreamError.invalidHeaders("response without :status")
            }
            // RFC 9110 §15.2: "A client MUST be able to parse one or more 1xx responses received
            // prior to a final response, even if the client does not expect one."
            if status < 200 && status != 101 {
                head = nil
                continue
            }
            return (headers, stream)
        }
    }

    /// Runs one phase of an exchange: a timeout in it, which the stream or socket names after its
    /// own operation (`getHeaders`, `flush`), is named after the phase instead.
    private static func phase<T>(_ name: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch ReactorError.timedOut {
            throw ReactorError.timedOut(name)
        }
    }

    /// Runs `body`, turning a timeout in it into `SocketError.timedOut` with this request's target,
    /// the phase the timeout named and the whole budget `seconds`: one message for every phase of
    /// the one deadline (connect's own timeouts name the budget left when it started).
    private func namingTimeouts<T>(seconds: Double?, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch ReactorError.timedOut(let phase) {
            let target = HTTPUtil.authority(host: host, port: port, scheme: nil)
            throw SocketError.timedOut(target: target, phase: phase, seconds: seconds ?? 0)
        } catch SocketError.timedOut(let target, let phase, _) {
            throw SocketError.timedOut(target: target, phase: phase, seconds: seconds ?? 0)
        }
    }

    /// Sends the body: bytes, a file re-opened from its start, or a producer's chunks (chunked
    /// when the length is unknown: HTTP/1.1 framing picks it without a `content-length`).
    static func write(_ body: RequestBody, to stream: any HTTPStream, deadline: Deadline) async throws {
        switch body {
        case .bytes(let bytes):
            try await stream.writeChunk(bytes, endStream: true, timeout: deadline.remaining("request body write"))
        case .file(let path):
            try await stream.writeBody(fromPath: path, timeout: deadline.remaining("request body write"))
        case .stream(let producer):
            while let chunk = try producer() {
                try await stream.writeChunk(chunk, endStream: false, timeout: deadline.remaining("request body write"))
            }
            try await stream.writeChunk([], endStream: true, timeout: deadline.remaining("request body write"))
        }
    }

    /// The response as the caller sees it: decoded when `decodeContent` and the content coding
    /// is gzip or deflate (RFC 9110 §8.4.1: the codings are listed "in the order in which they
    /// were applied"; only a single one is decoded). A 206 is not: its range is of the encoded
    /// octets (RFC 9110 §14.1.2: bytes ranges are "subranges of a representation data's octet
    /// sequence", and §8.4: "the representation is defined in terms of the coded form"), so a
    /// part alone cannot be decoded; the caller joins the parts, then decodes.
    private func decoded(_ headers: Headers, _ stream: any HTTPStream) -> (Headers, any HTTPStream) {
        let status = headers.first(":status")
        guard decodeContent, self.headers.first(":method") != "HEAD", status != "204", status != "206",
            status != "304"
        else {
            return (headers, stream)
        }
        let codings = headers.values(for: "content-encoding").flatMap { $0.split(separator: ",") }
            .map { $0.trimmingSpaces.lowercased() }.filter { !$0.isEmpty && $0 != "identity" }
        guard codings.count == 1, let coding = codings.first, ["gzip", "x-gzip", "deflate"].contains(coding) else {
            return (headers, stream)
        }
        var plain = headers
        plain.delete("content-encoding")
        plain.delete("content-length")
        return (plain, DecodedStream(stream, coding: coding))
    }
}

/// Carries a response head out of `Reactor.run` (the stream belongs to the reactor's thread).
private struct ResponseHead: @unchecked Sendable {
    var headers: Headers
    var stream: any HTTPStream
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        var text = self
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return String(text)
    }
}

extension Request {
    /// The request's URI without userinfo, for the log.
    var describedTarget: String { (try? toURI(withUserinfo: false)) ?? "\(host):\(port)" }
}
