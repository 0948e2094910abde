// The client side of H1Connection: requests out in order, responses in the same order.

import Reactor

extension H1Connection {
    /// Client: a stream for the next request (lua-http's `new_stream`); nil when the connection
    /// will not carry another request (closing, closed, or the server said `close`).
    public func newStream() -> H1Stream? {
        precondition(type == .client, "newStream is for client connections")
        guard newStreamPossible else { return nil }
        return H1Stream(connection: self, requestHead: nil)
    }

    /// Whether `newStream()` would give a stream now.
    public var newStreamPossible: Bool {
        phase == .open && !inputStopped && socket.failure == nil && !socket.isEOF
    }

    /// Whether a new request could be sent now without waiting for earlier responses (nor for
    /// an earlier request's body, which a server may answer before it ends).
    public var isIdle: Bool { pipeline.isEmpty && requestBeingWritten == nil && phase == .open && !inputStopped }

    /// Client: reads what the kernel already holds for an idle connection, without waiting, so
    /// that a server's close that arrived since the reactor last stepped is seen before the next
    /// request is written into it: the connection then closes, as it does when the reactor sees
    /// the close while idle (`isClosed`, `newStreamPossible` false). One `recv` (a TLS read) when
    /// nothing came. Does nothing unless idle.
    ///
    /// The reactor reads an idle connection (see `clientProcessInput`), so a connection whose
    /// reactor stepped since the close needs none of this; one used from a task that has not let
    /// the reactor step since (it ran on between two requests) does.
    public func noticeCloseWhileIdle() {
        precondition(type == .client, "noticeCloseWhileIdle is for client connections")
        guard isIdle else { return }
        socket.receiveAvailable()
    }

    /// Frames the request head straight into the socket's queue, then expects its response.
    /// `bodyLength`: the length of the whole body that follows (`writeMessage`).
    func writeRequestHead(
        _ headers: Headers, endStream: Bool, bodyLength: Int? = nil, for stream: H1Stream
    ) throws(HTTPStreamError) {
        guard phase == .open else { throw .connectionClosed("before the request was sent") }
        // The low-level calls frame and read messages of their own: a stream's request among
        // them would be read, and answered, as theirs (docs/http1-low-level.md).
        guard !usedLowLevel else {
            throw .invalidState("the low-level calls were used on this connection; its streams cannot write")
        }
        // A head written now would land inside the earlier request's body on the wire.
        guard requestBeingWritten == nil else {
            throw .invalidState("the previous request's body is still being written on this connection")
        }
        let version = self.version
        // Only the framing runs inside the queue's access: the bookkeeping below touches the
        // socket again.
        try socket.write { (out: inout [UInt8]) throws(HTTPStreamError) in
            try stream.outbound.writeRequestHead(
                headers, endStream: endStream, bodyLength: bodyLength, version: version, into: &out)
        }
        streamsWrote = true
        let method = headers.first(":method") ?? "GET"
        stream.requestMethod = method
        stream.tellsWhenGone(self)
        parser.expectResponse(toMethod: method)
        pipeline.append(H1StreamLink(stream))
        if !stream.outbound.isComplete { requestBeingWritten = H1StreamLink(stream) }
        disarm()
        if stream.outbound.closeAfter { phase = .closingAfterCurrent }
        updateReadInterest()
    }

    func clientRequestComplete(_ stream: H1Stream) {
        if let writing = requestBeingWritten, writing.stream === stream {
            requestBeingWritten = nil
            // Its response may have ended first (a server may answer before the body is read):
            // the connection becomes idle only now.
            if pipeline.isEmpty && phase != .closed { becameIdle() }
        }
        updateReadInterest()
    }

    func clientProcessInput() {
        // After a protocol switch the input is the new protocol's (`takeSocket`); after an
        // error, nobody's.
        while phase != .closed && !inputStopped {
            guard let first = pipeline.first else {
                // Idle: anything but EOF is a protocol error; EOF is the server closing an idle
                // keep-alive connection (a pool notices it here rather than on the next request).
                if !socket.input.isEmpty || socket.isEOF || socket.failure != nil { close() }
                return
            }
            guard let stream = first.stream else {
                // Its caller dropped it on another thread, and the reactor did not run
                // `clientStreamWentAway` yet: nobody will read this response.
                close()
                return
            }
            if stream.bufferedBodyFootprint >= options.maxBufferedBody { return }
            var body: [UInt8]?
            let result = socket.input.withUnsafeReadableBytes { buffer in
                let result = parser.parse(buffer)
                if case .body(let range)? = result.event {
                    body = Array(UnsafeRawBufferPointer(rebasing: buffer[range]))
                }
                return result
            }
            socket.input.consume(result.consumed)
            var event = result.event
            if event == nil, let failure = socket.failure {
                // A reset is not the end of a body delimited by the close: RFC 9112 §8, a client
                // that receives an incomplete message "MUST record the message as incomplete".
                failAll(.socket(responseReadFailure(failure)))
                close()
                return
            }
            if event == nil && socket.isEOF {
                if parser.isReadingUntilClose && socket.endedWithoutCloseNotify {
                    // RFC 9112 §9.8: "Treating an incomplete message as complete could expose
                    // implementations to attack by a third party."
                    event = .error(.closedWithoutCloseNotify)
                } else if let ending = parser.inputEnded() {
                    event = ending
                } else {
                    // Nothing of the response came (the parser is between messages): the server
                    // closed the connection, it sent no bad HTTP. A server closing a kept-alive
                    // connection it had given up on does this (`StaleConnection.isStale`); one
                    // that sent interim heads first gave up on the request instead.
                    inputStopped = true
                    failAll(.connectionClosed(betweenResponses))
                    close()
                    return
                }
            }
            guard let event else { return }
            handleResponse(event, body: body, for: stream)
        }
    }

    /// Interim (1xx) responses a stream's reader has not taken beyond which more are dropped,
    /// except a `100 Continue` when none is among them (`keepsInterim`).
    public static let maximumUnreadInterimResponses = 16

    /// Whether an interim head with `status` goes into `stream`'s queue. Past
    /// `maximumUnreadInterimResponses` unread ones, a server sending them without end is not
    /// allowed to grow the queue (they are informational, RFC 9110 §15.2; their octets count
    /// toward `maxHeaderBlockSize` too), so they go; but not a `100 Continue` with none unread
    /// before it: it is the go-ahead a request's content may wait for (RFC 9110 §10.1.1), and
    /// RFC 9110 §15.2 says "A client MUST be able to parse one or more 1xx responses received
    /// prior to a final response, even if the client does not expect one." A `100` behind
    /// sixteen `103 Early Hints` in one read used to be dropped with them, and the content waited
    /// for `expect100Timeout`. One unread `100` is enough: another says nothing more.
    private func keepsInterim(status: Int?, for stream: H1Stream) -> Bool {
        guard stream.inbound.unreadHeaderBlocks >= Self.maximumUnreadInterimResponses else { return true }
        return status == 100 && !stream.inbound.holdsUnreadHeaders(status: "100")
    }

    private func handleResponse(_ event: HTTP1ParseEvent, body: [UInt8]?, for stream: H1Stream) {
        switch event {
        case .head(let head):
            if (head.status ?? 0) >= 200 {
                stream.peerVersion = head.version
                stream.responseFraming = head.framing
                if !head.keepAlive { phase = phase == .open ? .closingAfterCurrent : phase }
                if head.transferCodings.contains("chunked") {
                    // Chunked twice, not last, or in HTTP/1.0: the parser reads such a body until
                    // the close (RFC 9112 §6.3 item 4), but it is still chunk-framed, and chunked
                    // is no coding to undo after the framing. Named as what it is, rather than
                    // as an unknown coding.
                    let value = head.headers.values(for: "transfer-encoding").joined(separator: ", ")
                    inputStopped = true
                    failAll(.protocolViolation(.faultyTransferEncoding(value)))
                    close()
                    return
                }
                if !head.transferCodings.isEmpty {
                    do throws(HTTP1ParseError) {
                        stream.transferDecoder = try TransferDecoding(codings: head.transferCodings)
                    } catch {
                        // RFC 9112 §6.1: a coding this side cannot undo leaves the body unreadable.
                        inputStopped = true
                        failAll(.protocolViolation(error))
                        close()
                        return
                    }
                }
            } else if head.status != 101 && !keepsInterim(status: head.status, for: stream) {
                return
            }
            stream.receivedHeaders(head.headers)
        case .body:
            if let body { stream.receivedBody(body) }
        case .trailers(let trailers):
            stream.receivedHeaders(trailers)
        case .messageEnd:
            pipeline.removeFirst()
            stream.receivedEnd()
            responseFinished()
        case .switchedProtocols:
            // 101 or a 2xx to CONNECT: the rest of the input belongs to the new protocol, and
            // requests sent after this one will get no HTTP/1 response.
            inputStopped = true
            pipeline.removeFirst()
            failAll(.connectionClosed("by a protocol switch before the response"))
            stream.switchedProtocols = true
            stream.receivedEnd()
        case .error(let error):
            inputStopped = true
            failAll(.protocolViolation(error))
            close()
        }
    }

    private func responseFinished() {
        if phase != .open && pipeline.isEmpty {
            close()
        } else if pipeline.isEmpty && requestBeingWritten == nil {
            becameIdle()
        }
    }

    private func becameIdle() {
        if phase != .open {
            close()
            return
        }
        arm(.idle, after: options.idleTimeout)
        onIdle?(self)
    }

    /// A socket failure (a reset) seen while responses are awaited, naming what it cut short:
    /// `read before a response arrived: Connection reset by peer`, `read after an interim (1xx)
    /// response but before the final response: …`, or `read in the middle of a response: …`.
    /// Other failures (TLS) already say what they are.
    private func responseReadFailure(_ failure: SocketError) -> SocketError {
        guard case .system(let operation, let errno) = failure else { return failure }
        let during = parser.isIdle ? betweenResponses : "in the middle of a response"
        return .system(operation: "\(operation) \(during)", errno: errno)
    }

    /// Where the input stopped when the parser is between messages: before anything of the
    /// response, or after interim (1xx) heads, which are not the response (RFC 9110 §15.2: they
    /// come "prior to completing the requested action and sending a final response"), so
    /// "before a response arrived" would deny what the caller may have read.
    private var betweenResponses: String {
        parser.readInterimResponses
            ? "after an interim (1xx) response but before the final response" : "before a response arrived"
    }

    private func failAll(_ error: HTTPStreamError) {
        let streams = pipeline.compactMap(\.stream)
        pipeline.removeAll()
        for stream in streams { stream.failReading(error) }
    }

    /// `H1Stream.shutdown()` on a client stream: a request or response cut short leaves the
    /// connection unusable (the server could not find the next request; we could not find the
    /// next response), so it closes.
    func shutdownClientStream(_ stream: H1Stream) {
        if stream.switchedProtocols {
            // 101 or a tunnel, and the stream ends without `takeSocket()` (which closes the
            // connection, not the socket): nobody will speak the new protocol, and HTTP/1 stopped
            // reading, so nothing else would ever close it (as on a server).
            close()
            return
        }
        let requestUnfinished = stream.outbound.hasStarted && !stream.outbound.isComplete
        let responseUnfinished = pipeline.contains { $0.stream === stream }
        if requestUnfinished || responseUnfinished { close() }
    }
}
