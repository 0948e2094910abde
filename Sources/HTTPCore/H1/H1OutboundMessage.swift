/// The write side of one HTTP/1 message, sans-IO: decides the framing when the head is written
/// (RFC 9112 §6), adds the fields the framing needs (`content-length`, `transfer-encoding`,
/// `connection`, `date`), and frames body writes, handing the octets to a sink. No I/O; the
/// connection passes its socket's `write` as the sink.
///
/// What it enforces, so that a handler cannot put a broken message on the wire:
/// - a body only after a final head, never after the end; none at all for 204 and 304 (RFC 9110
///   §15.3.5, §15.4.5) and no `content-length` in 1xx or 204 (RFC 9110 §8.6);
/// - no more and no fewer octets than a `content-length` the handler set (a shorter body ends the
///   connection: the peer could not frame the next message);
/// - no 1xx to an HTTP/1.0 client (RFC 9110 §15.2: "a server MUST NOT send a 1xx response to an
///   HTTP/1.0 client");
/// - a HEAD response's body is dropped (RFC 9110 §9.3.2), keeping any `content-length` given.
struct H1OutboundMessage {
    /// How the body octets are delimited on the wire.
    enum BodyFraming: Equatable {
        /// No body may follow (204, 304, a 2xx to CONNECT, a declared length of 0, or a request
        /// without one).
        case none
        /// The head promised a body that is not sent (a response to HEAD): body writes are dropped.
        case discarded
        /// Exactly this many more octets.
        case contentLength(remaining: UInt64, declared: UInt64)
        /// The chunked coding (RFC 9112 §7.1), optionally gzip-coded first (`TE: gzip`).
        case chunked
        /// Until the connection closes (a response to HTTP/1.0 of unknown length), or unframed
        /// (what a client writes after a CONNECT request's head: the tunnel's octets).
        case untilClose

        /// What delimits a body that is not chunked, for error messages.
        var delimiter: String {
            switch self {
            case .none, .discarded: return "nothing (there is none)"
            case .contentLength: return "content-length"
            case .chunked: return "the chunked coding"
            case .untilClose: return "the connection's close"
            }
        }
    }

    enum State: Equatable {
        /// Nothing written, or only 1xx interim responses.
        case head
        case body(BodyFraming)
        /// The caller is sending a body region itself (`writeBodyRegion`, a file by sendfile):
        /// nothing else may be written until it is out. A region that fails leaves the message
        /// here, unfinished, and its connection closes.
        case regionInFlight
        case ended
    }

    /// What the connection knows about the request a response answers.
    struct RequestContext {
        /// The two methods whose responses are framed differently (RFC 9110 §9.3.2, §9.3.6).
        var isHEAD: Bool
        var isCONNECT: Bool
        /// The version both sides speak: the request's, or HTTP/1.0 on a server pinned to it
        /// (then no 1xx, no chunked body; RFC 9110 §6.2).
        var version: HTTP1Version
        /// The version of the status line: the server's (RFC 9110 §6.2: the highest it
        /// conforms to, with the request's major version).
        var responseVersion: HTTP1Version
        /// The request allows the connection to persist (its version and `connection` field).
        var keepAlive: Bool

        init(method: String, version: HTTP1Version, keepAlive: Bool, serverVersion: HTTP1Version = .http11) {
            // The length first: most methods are neither, and a length costs less than a
            // comparison of strings that differ.
            let length = method.utf8.count
            isHEAD = length == 4 && method == "HEAD"
            isCONNECT = length == 7 && method == "CONNECT"
            self.version = serverVersion == .http10 ? .http10 : version
            responseVersion = serverVersion
            self.keepAlive = keepAlive
        }
    }

    private(set) var state: State = .head
    /// The connection must close after this message.
    private(set) var closeAfter = false
    /// The response was 101 or a 2xx to CONNECT: the connection leaves HTTP/1 after the head.
    private(set) var switchedProtocols = false
    /// The response's body is delimited by the connection's close (it stays so while a file
    /// region of it is out).
    private(set) var bodyEndsWithClose = false
    /// The status of the final response written, if any.
    private(set) var status: Int?
    private var gzip: Deflater?

    var hasStarted: Bool { state != .head || status != nil }
    var isComplete: Bool { state == .ended }

    // MARK: - Responses

    /// Writes a response head (an interim 1xx or the final response) into `out`.
    /// - Parameters:
    ///   - persistent: false when the connection is closing anyway (server shutdown, last
    ///     request allowed): adds `connection: close`.
    ///   - date: the `date` field to add when the handler did not set one (RFC 9110 §6.6.1: an
    ///     origin server with a clock "MUST generate a Date header field" in 2xx-5xx responses).
    ///   - acceptsGzip: whether the gzip transfer coding (RFC 9110 §10.1.4) may be used: the
    ///     request's `TE` lists it and the connection allows it. Asked only for a body of unknown
    ///     length, so most responses never look up `TE`.
    mutating func writeResponseHead(
        _ headers: Headers, endStream: Bool, request: RequestContext, persistent: Bool, date: IMFFixdate?,
        acceptsGzip: () -> Bool = { false }, into out: inout [UInt8]
    ) throws(HTTPStreamError) {
        try writeResponseHead(
            headers, fields: H1FramingFields(headers), prepared: nil, endStream: endStream, request: request,
            persistent: persistent, date: date, acceptsGzip: acceptsGzip, into: &out)
    }

    /// `writeResponseHead` with the framing fields already found. `prepared`, when given, is
    /// `headers` serialized before (`H1ResponseHeadCache`), and `fields` its framing fields.
    ///
    /// With `body`, the whole response (`HTTPStream.writeMessage`): the head, then `body`, which
    /// ends the message (`endStream` is implied). Its length is known, so a head without
    /// `content-length` gets one (never chunked, never read until close), and a head whose
    /// `content-length` differs from it is refused before anything is written.
    mutating func writeResponseHead(
        _ headers: Headers, fields: H1FramingFields, prepared: UnsafeRawBufferPointer?, endStream: Bool,
        body: UnsafeRawBufferPointer? = nil, request: RequestContext, persistent: Bool, date: IMFFixdate?,
        acceptsGzip: () -> Bool, into out: inout [UInt8]
    ) throws(HTTPStreamError) {
        guard state == .head else { throw .invalidState("response headers were already written") }
        guard let status = fields.validStatus else { throw .invalidHeaders("missing or invalid :status") }
        let endStream = endStream || body != nil

        if status < 200 {
            if let body, !body.isEmpty { throw .invalidState("a \(status) response has no body") }
            // RFC 9110 §15.2: 1xx responses end at their header section.
            guard request.version == .http11 else {
                throw .invalidState("a 1xx response cannot be sent to an HTTP/1.0 client")
            }
            guard !fields.hasContentLength && fields.transferEncoding == .absent else {
                throw .invalidHeaders("content-length or transfer-encoding in a \(status) response")
            }
            if status != 101 && endStream {
                throw .invalidState("a \(status) response cannot end the stream")
            }
            try serialize(headers, prepared, HTTP1AddedFields(), version: request.responseVersion, into: &out)
            if status == 101 {
                switchedProtocols = true
                self.status = status
                state = .ended
            }
            return
        }

        // The message changes only once the head is written: a refused head leaves it unstarted,
        // so the handler (or `shutdown`'s 503) can still answer.
        let isConnectTunnel = request.isCONNECT && status < 300
        let declared = try declaredLength(fields, of: headers, status: status, isConnectTunnel: isConnectTunnel)
        if let body, let declared, declared != UInt64(body.count) {
            throw .contentLengthMismatch(declared: declared, written: UInt64(body.count))
        }
        // RFC 9110 §9.3.6: "A CONNECT request message does not have content. The interpretation
        // of data sent after the header section of the CONNECT request message is specific to
        // the version of HTTP in use." In HTTP/1.1 it is the tunnel's: a client may send it
        // before the answer. So a refused CONNECT ends the connection; the octets after its
        // head are never read as requests (a Content-Length on the CONNECT must not smuggle one).
        // RFC 9110 §15.5.9: with a 408, "A server SHOULD send the "close" connection option
        // [...] since 408 implies that the server has decided to close the connection rather
        // than continue waiting."
        var closeAfter =
            !request.keepAlive || !persistent || fields.connectionClose || request.isCONNECT && !isConnectTunnel
            || status == 408
        var gzip: Deflater?

        var added = HTTP1AddedFields()
        let framing: BodyFraming
        if isConnectTunnel {
            // RFC 9110 §9.3.6: the connection becomes a tunnel after the head.
            framing = .none
        } else if status == 204 || status == 304 {
            framing = .none
        } else if status == 205 {
            // RFC 9110 §15.3.6: "a server MUST NOT generate content in a 205 response". Not a
            // status without content to RFC 9112 §6.3, so the length says so.
            if let declared, declared != 0 { throw .invalidHeaders("content-length \(declared) in a 205 response") }
            if declared == nil { added.framing = .contentLength(0) }
            framing = .none
        } else if request.isHEAD {
            // RFC 9110 §9.3.2: the fields a GET would get, so the length of the body not sent.
            if declared == nil, let body { added.framing = .contentLength(UInt64(body.count)) }
            framing = .discarded
        } else if let declared {
            if endStream && declared != 0 && body == nil {
                throw .contentLengthMismatch(declared: declared, written: 0)
            }
            // RFC 9112 §6.3: the length delimits the message, so a length of 0 is all written
            // with the head (as any length is once written, `writeBody`).
            framing = declared == 0 ? .none : .contentLength(remaining: declared, declared: declared)
        } else if endStream {
            let length = UInt64(body?.count ?? 0)
            added.framing = .contentLength(length)
            framing = length == 0 ? .none : .contentLength(remaining: length, declared: length)
        } else if request.version == .http11 {
            if !fields.hasContentEncoding && acceptsGzip() {
                gzip = Deflater(format: .gzip)
                added.framing = .gzipChunked
            } else {
                added.framing = .chunked
            }
            framing = .chunked
        } else {
            // RFC 9112 §6.3 item 8: an HTTP/1.0 client reads a body of unknown length until close.
            closeAfter = true
            framing = .untilClose
            bodyEndsWithClose = true
        }

        if closeAfter {
            // Also to HTTP/1.0: a status line that says HTTP/1.1 persists unless told to close
            // (RFC 9112 §9.3).
            if !fields.connectionClose { added.connection = .close }
        } else if request.version == .http10 && !fields.connectionKeepAlive {
            // RFC 9112 §9.3: an HTTP/1.0 connection persists only if the response says keep-alive.
            added.connection = .keepAlive
        }
        if !fields.hasDate { added.date = date }
        // The body's octets, when it goes with the head: none for HEAD (dropped), and a body
        // where the status allows none is refused (RFC 9110 §15.3.5, §15.4.5).
        var bodyOctets = UnsafeRawBufferPointer(start: nil, count: 0)
        if let body, !body.isEmpty {
            switch framing {
            case .none: throw .invalidState("a \(status) response has no body")
            case .discarded: break
            default: bodyOctets = body
            }
        }
        if fields.transferEncoding != .absent {
            // A handler's `transfer-encoding: chunked` only asks for a body of unknown length;
            // the framing above decided what goes out, in one field: chunked or
            // gzip-then-chunked on HTTP/1.1, nothing for HTTP/1.0 (RFC 9112 §6.1), 204, 304 or
            // HEAD. (No prepared head has the field.)
            var headers = headers
            headers.delete("transfer-encoding")
            try serialize(headers, nil, added, version: request.responseVersion, then: bodyOctets, into: &out)
        } else {
            try serialize(headers, prepared, added, version: request.responseVersion, then: bodyOctets, into: &out)
        }
        self.status = status
        self.closeAfter = closeAfter
        self.gzip = gzip
        switchedProtocols = isConnectTunnel
        state = endStream || framing == .none ? .ended : .body(framing)
        if endStream, case .discarded = framing { state = .ended }
    }

    // MARK: - The simple response

    // The response most servers send most of the time, decided in a few comparisons: a whole
    // message (`HTTPStream.writeMessage`) with a final status that has a body (other than 408,
    // which closes the connection), to an HTTP/1.1 request that keeps the connection and is
    // neither HEAD nor CONNECT, whose head sets nothing about framing or persistence but (at
    // most) a `content-length` equal to the body's.
    //
    // For such a response every branch of `writeResponseHead` is known: the body is framed by its
    // length (added when the head has none), nothing about the connection is added (HTTP/1.1
    // persists by default, RFC 9112 §9.3), `date` is added when the head has none, and the message
    // ends with the body. `H1OutboundSimpleResponseTests` checks, over every combination of these
    // inputs, that both ways give the same octets and the same state.

    /// The fields to add for a simple response, or nil when the response is not one (then
    /// `writeResponseHead` decides, and refuses what it must).
    func simpleResponseFields(
        _ fields: H1FramingFields, bodyCount: Int, request: RequestContext, persistent: Bool, date: IMFFixdate?
    ) -> HTTP1AddedFields? {
        guard !hasStarted, let status = fields.validStatus, status >= 200, status != 204, status != 205, status != 304,
            status != 408,
            !request.isHEAD, !request.isCONNECT, request.version == .http11, request.keepAlive, persistent,
            !fields.connectionClose, fields.transferEncoding == .absent
        else { return nil }
        var added = HTTP1AddedFields()
        switch fields.contentLength {
        case .absent: added.framing = .contentLength(UInt64(bodyCount))
        case .valid(let declared) where declared == UInt64(bodyCount): break
        default: return nil
        }
        if !fields.hasDate { added.date = date }
        return added
    }

    /// The message once a simple response (`simpleResponseFields`) with `status` was written.
    mutating func simpleResponseWritten(status: Int) {
        self.status = status
        state = .ended
    }

    /// The handler's own `content-length` (validated), and the fields it must not send.
    private func declaredLength(_ fields: H1FramingFields, of headers: Headers, status: Int, isConnectTunnel: Bool)
        throws(HTTPStreamError) -> UInt64?
    {
        if fields.transferEncoding != .absent {
            // The library owns the transfer coding; accept a handler that asks for chunked.
            guard fields.transferEncoding == .chunked else {
                let coding = headers.first("transfer-encoding") ?? ""
                throw .invalidHeaders("transfer-encoding is set by the library (got \"\(coding)\")")
            }
            if fields.hasContentLength {
                throw .invalidHeaders("both content-length and transfer-encoding")
            }
        }
        guard fields.hasContentLength else { return nil }
        if status == 204 || isConnectTunnel {
            // RFC 9110 §8.6: "A server MUST NOT send a Content-Length header field in any
            // response with a status code of 1xx or 204", nor in a 2xx response to CONNECT.
            throw .invalidHeaders("content-length in a \(status) response")
        }
        guard case .valid(let value) = fields.contentLength else {
            let text = headers.values(for: "content-length").joined(separator: ", ")
            throw .invalidHeaders("invalid content-length \"\(text)\"")
        }
        return value
    }

    /// The head, then `body`: in one piece when it is small, else appended after the head.
    private func serialize(
        _ headers: Headers, _ prepared: UnsafeRawBufferPointer?, _ added: HTTP1AddedFields, version: HTTP1Version,
        then body: UnsafeRawBufferPointer = .init(start: nil, count: 0), into out: inout [UInt8]
    ) throws(HTTPStreamError) {
        let inline = body.count <= HTTP1Serializer.inlineBodyLimit
        let withHead = inline ? body : UnsafeRawBufferPointer(start: nil, count: 0)
        // A prepared head's status line says HTTP/1.1.
        if let prepared, version == .http11 {
            HTTP1Serializer.writeResponseHead(prepared: prepared, adding: added, then: withHead, into: &out)
        } else {
            do {
                try HTTP1Serializer.writeResponseHead(
                    headers, version: version, adding: added, then: withHead, into: &out)
            } catch {
                throw .invalidHeaders("\(error)")
            }
        }
        if !inline { out.append(contentsOf: body) }
    }

    // MARK: - Requests

    /// Writes a request head into `out`. A body of unknown length is chunked (HTTP/1.1 only: an
    /// HTTP/1.0 server could not find its end).
    ///
    /// With `bodyLength`, the whole request follows (`HTTPStream.writeMessage`): its length is
    /// known, so a head without `content-length` gets one (never chunked), and a head whose
    /// `content-length` differs from it is refused before anything is written.
    mutating func writeRequestHead(
        _ headers: Headers, endStream: Bool, bodyLength: Int? = nil, version: HTTP1Version, into out: inout [UInt8]
    ) throws(HTTPStreamError) {
        guard state == .head else { throw .invalidState("request headers were already written") }
        let method = headers.first(":method") ?? ""
        var additional: [Headers.Field] = []
        let framing: BodyFraming
        let fields = H1FramingFields(headers)
        let declared = try declaredLength(fields, of: headers, status: 200, isConnectTunnel: false)
        // As for responses: the framing decides on transfer-encoding (a request that ends at its
        // head gets content-length: 0, not a chunked promise).
        var headers = headers
        if headers.has("transfer-encoding") { headers.delete("transfer-encoding") }
        var closeAfter = false
        // Whether the request has content (RFC 9110 §6.4.1): a CONNECT has none; what follows its
        // head is the tunnel's.
        let hasContent: Bool
        if method == "CONNECT" {
            // RFC 9110 §9.3.6: "A CONNECT request message does not have content." What a client
            // writes after the head is the tunnel's (lua-http's body type "close"): sent as it
            // is, never framed, and the connection carries no request after it.
            if declared != nil || fields.transferEncoding != .absent {
                throw .invalidHeaders("a CONNECT request has no content: no content-length or transfer-encoding")
            }
            framing = endStream ? .none : .untilClose
            closeAfter = !endStream
            hasContent = false
        } else if let declared {
            if endStream && declared != 0 { throw .contentLengthMismatch(declared: declared, written: 0) }
            if let bodyLength, declared != UInt64(bodyLength) {
                throw .contentLengthMismatch(declared: declared, written: UInt64(bodyLength))
            }
            // Complete at its head with a length of 0 (RFC 9112 §6.3), as a response is.
            framing = declared == 0 ? .none : .contentLength(remaining: declared, declared: declared)
            hasContent = declared != 0
        } else if let bodyLength, bodyLength > 0 {
            additional.append(.init(name: "content-length", value: String(bodyLength), neverIndex: false))
            framing = .contentLength(remaining: UInt64(bodyLength), declared: UInt64(bodyLength))
            hasContent = true
        } else if endStream {
            // RFC 9110 §8.6: a user agent SHOULD send Content-Length when the method defines a
            // meaning for content, and "SHOULD NOT send a Content-Length header field when the
            // request message does not contain content and the method semantics do not
            // anticipate such data" (CONNECT never gets here: it is framed above).
            if !["GET", "HEAD", "OPTIONS", "DELETE", "TRACE"].contains(method) {
                additional.append(.init(name: "content-length", value: "0", neverIndex: false))
            }
            framing = .none
            hasContent = false
        } else {
            guard version == .http11 else {
                throw .invalidState("a body of unknown length cannot be sent to an HTTP/1.0 server")
            }
            additional.append(.init(name: "transfer-encoding", value: "chunked", neverIndex: false))
            framing = .chunked
            hasContent = true
        }
        // RFC 9110 §10.1.1: "A client MUST NOT generate a 100-continue expectation in a request
        // that does not include content." The request is fine without it (nothing to wait for),
        // so the expectation is dropped rather than the request refused.
        if !hasContent && headers.hasToken("expect", "100-continue") {
            headers = headers.removingToken("100-continue", from: "expect")
        }
        do {
            try HTTP1Serializer.writeRequestHead(headers, version: version, appending: additional, into: &out)
        } catch {
            throw .invalidHeaders("\(error)")
        }
        // RFC 9112 §9.3: an HTTP/1.0 connection persists only with the "keep-alive" option; and
        // Appendix C.2.2: "Clients and servers SHOULD NOT assume that a persistent connection is
        // maintained for HTTP versions less than 1.1 unless it is explicitly signaled." (lua-http's
        // `close_when_done` for a 1.0 client.)
        self.closeAfter =
            closeAfter || headers.hasToken("connection", "close")
            || version == .http10 && !headers.hasToken("connection", "keep-alive")
        state = endStream || framing == .none ? .ended : .body(framing)
    }

    // MARK: - Body

    /// Frames `data` (and the end of the body, with `trailers` when chunked) and hands the octets
    /// to `sink` in order.
    mutating func writeBody(
        _ data: UnsafeRawBufferPointer, endStream: Bool, trailers: Headers? = nil,
        to sink: (UnsafeRawBufferPointer) -> Void
    ) throws(HTTPStreamError) {
        try writeBody(
            data, endStream: endStream, trailers: trailers,
            pieces: { piece in
                switch piece {
                case .framing(let octets): sink(octets)
                case .data: sink(data)
                }
            })
    }

    /// `writeBody(_:endStream:trailers:to:)`, telling the sink where `data` itself goes (`.data`)
    /// apart from the octets of the framing, so that a caller holding `data` in an array can queue
    /// the array instead of copying it.
    mutating func writeBody(
        _ data: UnsafeRawBufferPointer, endStream: Bool, trailers: Headers? = nil,
        pieces sink: (H1BodyPiece) -> Void
    ) throws(HTTPStreamError) {
        try frameBody(count: UInt64(data.count), data: data, endStream: endStream, trailers: trailers, pieces: sink)
    }

    /// Whether body octets may be sent by the caller itself, outside the framing's sink
    /// (`writeBodyRegion`): the head is written, and no gzip transfer coding has to see them.
    var acceptsBodyRegion: Bool {
        guard case .body = state else { return false }
        return gzip == nil
    }

    /// The head promised a body that is not sent (a response to HEAD, RFC 9110 §9.3.2): body
    /// octets are counted, never sent, so a file need not even be read.
    var discardsBody: Bool { state == .body(.discarded) }

    /// Frames `count` body octets that the caller sends itself where the sink is told `.data`
    /// (a file's octets, by `sendfile(2)`), as `writeBody` frames octets it is given: the same
    /// checks, the same framing octets around them. Refused when the gzip transfer coding is
    /// on (`acceptsBodyRegion`).
    mutating func writeBodyRegion(count: UInt64, endStream: Bool, pieces sink: (H1BodyPiece) -> Void)
        throws(HTTPStreamError)
    {
        guard gzip == nil else { throw .invalidState("a body region cannot pass through the gzip transfer coding") }
        try frameBody(count: count, data: nil, endStream: endStream, trailers: nil, pieces: sink)
    }

    /// What every write is refused with while a region is out (`regionInFlight`).
    static let refusalWhileRegionInFlight = HTTPStreamError.invalidState(
        "a file is being sent as the body (or its sending failed): nothing else may be written until it is out")

    /// Refuses every write until the region framed on a copy of this message is out (the
    /// copy then replaces it).
    mutating func holdForRegion() {
        state = .regionInFlight
    }

    /// `writeBody`'s work, for `count` octets that are in `data` or, without it (a region the
    /// caller sends), elsewhere.
    private mutating func frameBody(
        count: UInt64, data: UnsafeRawBufferPointer?, endStream: Bool, trailers: Headers?,
        pieces sink: (H1BodyPiece) -> Void
    ) throws(HTTPStreamError) {
        guard case .body(let framing) = state else {
            // Ending an already complete message with no data (`writeBody("")` after a 204 head)
            // is harmless; data after the end is not.
            if state == .ended && count == 0 { return }
            switch state {
            case .ended: throw .invalidState("the body was already ended")
            case .regionInFlight: throw Self.refusalWhileRegionInFlight
            default: throw .invalidState("a body before the headers")
            }
        }
        if let trailers, trailers.count > 0, framing != .chunked, framing != .discarded {
            // RFC 9110 §6.5: trailers go "after the content", which only the chunked coding can
            // carry (RFC 9112 §7.1.2); dropping them would lose what the writer meant to send.
            throw .invalidHeaders("trailers need a chunked body; this one is delimited by \(framing.delimiter)")
        }
        switch framing {
        case .none:
            if count > 0 { throw .invalidState("a \(status ?? 0) response has no body") }
        case .discarded:
            break
        case .contentLength(let remaining, let declared):
            guard count <= remaining else {
                let (written, overflow) = (declared - remaining).addingReportingOverflow(count)
                throw .contentLengthMismatch(declared: declared, written: overflow ? UInt64.max : written)
            }
            if count > 0 { sink(.data) }
            let left = remaining - count
            if endStream && left != 0 {
                // The peer cannot frame what follows: the connection has to go.
                closeAfter = true
                state = .ended
                throw .contentLengthMismatch(declared: declared, written: declared - left)
            }
            // RFC 9112 §6.3: the declared length delimits the message, so once it is written
            // the message is complete on the wire, whether or not the writer said so yet (the
            // peer may answer, or send the next request, before it does).
            state = left == 0 ? .ended : .body(.contentLength(remaining: left, declared: declared))
        case .chunked:
            // The trailers are checked before anything is framed or compressed: refused ones leave
            // the message as it was, to be ended again.
            var lastChunk: [UInt8] = []
            if endStream {
                do {
                    try HTTP1Serializer.writeLastChunk(trailers: trailers ?? Headers(), into: &lastChunk)
                } catch {
                    throw .invalidHeaders("trailers: \(error)")
                }
            }
            var framed: [UInt8] = []
            if let gzip, let data {
                var compressed: [UInt8] = []
                do {
                    try gzip.process(data, final: endStream, into: &compressed)
                } catch {
                    throw .coding(error as? ContentCodingError ?? .finished)
                }
                HTTP1Serializer.writeChunk(compressed, into: &framed)
            } else if count > 0 {
                var size: [UInt8] = []
                size.reserveCapacity(20)
                HTTP1Serializer.writeChunkSize(Int(count), into: &size)
                size.withUnsafeBytes { sink(.framing($0)) }
                sink(.data)
                framed = [0x0D, 0x0A]
            }
            framed.append(contentsOf: lastChunk)
            if !framed.isEmpty { framed.withUnsafeBytes { sink(.framing($0)) } }
        case .untilClose:
            if count > 0 { sink(.data) }
        }
        if endStream { state = .ended }
    }
}
