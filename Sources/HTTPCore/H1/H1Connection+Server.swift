// The server side of H1Connection: requests in, one exchange at a time.

extension H1Connection {
    func serverProcessInput() {
        while phase != .closed {
            if phase == .lingering {
                linger()
                return
            }
            if inputStopped { return }
            if let current {
                // Pipelined requests wait in the socket's input until this exchange is over.
                if current.requestComplete { return }
                if !current.isDiscardingBody && current.bufferedBodyFootprint >= options.maxBufferedBody { return }
            } else if phase != .open {
                return
            } else if outputBacklogged {
                // Back-pressure: a client that pipelines requests without reading the answers
                // would otherwise make the server queue responses without bound. The next request
                // waits (in the socket, then in the client's TCP buffers) until the queue drains.
                waitForOutputToDrain()
                return
            }

            // Nothing new to parse and a parser that can only ask for more (a dropped parser stays
            // dropped: a fresh one has nothing to say).
            if socket.input.isEmpty && parserWaitsForInput && !socket.isEOF && !socket.hasFailed {
                waitForMoreRequestInput()
                return
            }
            var body: [UInt8]?
            // A head is moved out of its event, not copied (a copy is a reference count more).
            var head: HTTP1MessageHead?
            var parsed: HTTP1ParseEvent?
            let consumed = socket.withUnsafeReadableInput { buffer in
                var result = parser.parse(buffer)
                switch result.event.take() {
                case .head(let received)?:
                    head = received
                case .body(let range)?:
                    // Copied out before the buffer changes; delivered after the access ends.
                    body = Array(UnsafeRawBufferPointer(rebasing: buffer[range]))
                    parsed = .body(range)
                case let other:
                    parsed = other
                }
                return result.consumed
            }
            socket.input.consume(consumed)

            if head != nil {
                // The head is moved into its stream, not copied (a copy is a reference count more).
                startExchange(H1Stream(connection: self, requestHead: head.take()))
            } else if let event = parsed.take() {
                handle(event, body: body)
            } else if socket.isEOF || socket.hasFailed {
                peerFinishedSending()
                return
            } else {
                waitForMoreRequestInput()
                return
            }
            // This loop goes on: a pass asked for during `handle` (by a handler that answered at
            // once, say) is this next iteration, not another one after the loop returns.
            processAgain = false
        }
    }

    /// A request head arrived: its stream (made with the head), delivered to the handler.
    private func startExchange(_ stream: H1Stream) {
        headerTimerArmed = false
        disarm()
        // RFC 9112 §9.6: after a request with `close` (or an HTTP/1.0 one without
        // keep-alive), no further requests are processed.
        if stream.requestHead?.keepAlive == false && phase == .open { phase = .closingAfterCurrent }
        if options.transferCodings, let codings = stream.requestHead?.transferCodings, !codings.isEmpty {
            // The parser let through only codings a decoder exists for (else 501).
            do throws(HTTP1ParseError) {
                stream.transferDecoder = try TransferDecoding(codings: codings)
            } catch {
                stream.failReading(.protocolViolation(error))
            }
        }
        // A request without a body is complete with its head: its stream starts out ended
        // (the parser skips the `.messageEnd` it would return next), so a response written
        // at once finishes the exchange.
        if parser.endMessageAfterHead() { stream.receivedEnd() }
        current = stream
        deliver(stream)
    }

    private func handle(_ event: HTTP1ParseEvent, body: [UInt8]?) {
        switch event {
        case .head(let head):
            startExchange(H1Stream(connection: self, requestHead: head))
        case .body:
            guard let current, let body else { return }
            if current.isDiscardingBody {
                drainedBytes += body.count
                if drainedBytes > options.drainLimit {
                    inputStopped = true
                    if current.outbound.isComplete { closeGracefully() } else { phase = .closingAfterCurrent }
                }
            } else {
                current.receivedBody(body)
            }
        case .trailers(let trailers):
            current?.receivedHeaders(trailers)
        case .messageEnd:
            guard let current else { return }
            current.receivedEnd()
            if current.outbound.isComplete { finishExchange(current) }
        case .switchedProtocols:
            break  // client role only
        case .error(let error):
            if let current {
                // The request head was fine, its body is not: the handler's reads fail and the
                // connection closes after its response (`shutdown` answers 400 if none was sent).
                inputStopped = true
                if phase == .open { phase = .closingAfterCurrent }
                current.failReading(.protocolViolation(error))
                if current.outbound.isComplete { closeGracefully() }
            } else {
                reportRejected(error)
                rejectRequest(status: error.status, reason: error.description)
            }
        }
    }

    /// The peer sent EOF (or the socket failed) and the parser has consumed everything.
    private func peerFinishedSending() {
        let ending = parser.inputEnded()
        inputStopped = true
        if let current {
            if case .error = ending {
                current.failReading(.connectionClosed("in the middle of the request body"))
            }
            // A client may half-close after its request and still wait for the answer.
            if current.outbound.isComplete { closeGracefully() } else if phase == .open { phase = .closingAfterCurrent }
        } else {
            if case .error(let error) = ending { reportRejected(error) }
            closeGracefully()
        }
    }

    /// Between requests: the idle timeout; inside a request head: the header-read timeout, armed
    /// once per head so that trickling octets cannot extend it.
    private func waitForMoreRequestInput() {
        guard current == nil && phase == .open else { return }
        // A dropped parser is idle (reading `parser` would build one to ask).
        if parserIsIdle && socket.input.isEmpty {
            // Between requests the connection keeps no receive buffer: idle keep-alive
            // connections cost a few hundred bytes, not the 16 KiB a read needs.
            socket.input.releaseStorageIfEmpty()
            releaseParserIfFresh()
            headerTimerArmed = false
            arm(.idle, after: options.idleTimeout)
            onIdle?(self)
        } else if !headerTimerArmed {
            headerTimerArmed = true
            arm(.headerRead, after: options.headerReadTimeout)
        }
    }

    /// The response was written completely.
    func serverResponseComplete(_ stream: H1Stream) {
        guard stream === current else { return }
        if stream.outbound.switchedProtocols {
            // 101 or a tunnel: the handler takes the socket (`takeSocket`); HTTP/1 is over.
            inputStopped = true
            return
        }
        if stream.outbound.closeAfter || inputStopped && !stream.requestComplete {
            closeGracefully()
        } else if !stream.requestComplete {
            // Answered before the whole request body was read: what is left is drained (up to
            // `drainLimit`) so the connection stays usable, as lua-http's shutdown does.
            beginDiscardingBody(of: stream)
        } else {
            finishExchange(stream)
        }
    }

    private func beginDiscardingBody(of stream: H1Stream) {
        guard !stream.isDiscardingBody else { return }
        drainedBytes = stream.bufferedBodyBytes
        stream.discardBody()
        if drainedBytes > options.drainLimit {
            closeGracefully()
        } else {
            // The rest of the body has the intra-stream timeout to arrive: a client that stops
            // sending it must not hold the connection (and a `maxConcurrent` slot) for ever.
            arm(.idle, after: options.idleTimeout)
            streamWantsInput(stream)
        }
    }

    func armUnreadOutputTimer() {
        unreadOutputAtArming = socket.pendingOutputBytes
        arm(.unreadOutput, after: options.idleTimeout)
    }

    /// More than the socket's high-water mark of responses is queued between two exchanges (and
    /// more than `backlogFloor`: the mark is read only past it, which keeps the check off the path
    /// of the small answers most requests get).
    var outputBacklogged: Bool {
        let pending = socket.pendingOutputBytes
        return pending > Self.backlogFloor && pending > socket.writeHighWaterMark
    }

    /// The least output that holds back the next request, whatever the socket's high-water mark.
    static let backlogFloor = 16 * 1024

    /// Parsing resumes once the queued output drained; a client that reads none of it for the
    /// intra-stream timeout is closed.
    private func waitForOutputToDrain() {
        armUnreadOutputTimer()
        updateReadInterest()
        socket.onDrained = { [weak self] in
            guard let self, self.phase == .open else { return }
            self.socket.onDrained = nil
            self.updateReadInterest()
            self.resumeInput()
        }
    }

    /// Request read and response written: on to the next request (pipelined ones are already in
    /// the input), or close.
    private func finishExchange(_ stream: H1Stream) {
        guard stream === current else { return }
        current = nil
        if phase != .open {
            closeGracefully()
        } else {
            streamWantsInput(stream)
        }
    }

    /// `H1Stream.shutdown()` on a server stream.
    func shutdownServerStream(_ stream: H1Stream) {
        guard stream === current, phase != .closed else { return }
        if stream.outbound.switchedProtocols {
            // 101 or a tunnel, and the handler ended without `takeSocket()`: nobody will speak the
            // new protocol, and HTTP/1 stopped reading, so nothing else would ever close it.
            closeGracefully()
        } else if !stream.outbound.hasStarted {
            // The handler did not answer: 503, or what its read error calls for (lua-http).
            let status: Int
            if let failureStatus = stream.readFailure?.status {
                status = failureStatus
            } else if stream.timedOutReadingRequest {
                // A read of the request body timed out and the rest never came. RFC 9110
                // §15.5.9: 408 (Request Timeout) "indicates that the server did not receive a
                // complete request message within the time that it was prepared to wait"; "If
                // the current connection is not usable (e.g., as it would be in HTTP/1.1 because
                // request delimitation is lost), a new connection will be used." Where the body
                // ends is unknown, so this one closes after the answer (as nginx does at
                // `client_body_timeout`), without draining a body that is not coming.
                inputStopped = true
                if phase == .open { phase = .closingAfterCurrent }
                status = 408
            } else {
                status = 503
            }
            var headers = Headers(capacity: 3)
            headers.append(":status", String(status))
            headers.append("content-type", "text/plain; charset=utf-8")
            let body = "\(status) \(ReasonPhrase.for(status: status))\n"
            headers.append("content-length", String(body.utf8.count))
            do {
                try writeHead(headers, endStream: false, for: stream)
                try Array(body.utf8).withUnsafeBytes { bytes in
                    try stream.writeBodyNow(bytes, endStream: true, trailers: nil)
                }
            } catch {
                abort()
            }
        } else if !stream.outbound.isComplete {
            // Half a response cannot be completed truthfully; closing tells the client it is cut.
            abort()
        } else if !stream.requestComplete {
            beginDiscardingBody(of: stream)
        }
    }
}

extension H1Connection {
    /// A request rejected before any handler saw it: the delegate, then `onRequestError`.
    func reportRejected(_ error: HTTP1ParseError) {
        delegate?.connection(self, rejected: error)
        onRequestError?(self, error)
    }
}
