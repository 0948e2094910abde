import Reactor

// lua-http's h1_connection low-level calls: read or write one element of a message at a time (a
// start line, a field line, the end of a section, a chunk, body octets), for code that frames
// HTTP/1 itself (a proxy, a test peer, a protocol experiment). See docs/http1-low-level.md.
//
// They are for a connection that does not run streams: usable only before `start()`, because
// once started the connection's parser consumes the socket's input, and on a client only while
// no stream wrote a request (started or not: its framing and its response would mix with
// theirs). After either each throws `HTTPStreamError.invalidState`, and once one ran, a client
// stream's request head throws it too, as does `start()` (client and server); after `close()`
// or `takeSocket()`, `connectionClosed`.
//
// Reads parse `socket.input` in place with the sans-IO `HTTP1LineReader` (the codec's own
// validation and limits, `options.limits`) and consume only a complete element: a timeout
// (`ReactorError.timedOut`) or an error leaves the input as it was, so a later call can resume.
// Invalid input from the peer throws `HTTPStreamError.protocolViolation` with the parser's
// `HTTP1ParseError`; input that ends inside an element, `.protocolViolation(.unexpectedEOF)`; a
// socket failure, `HTTPStreamError.socket`. Reads may not overlap (`invalidState`).
//
// Writes serialize with `HTTP1Serializer`'s element writers and queue the octets on the socket
// (sent at the end of the reactor step); `writeHeadersDone`, `writeBodyChunk` and
// `writeBodyPlain` also wait until the queue was handed to the kernel. Invalid arguments throw
// `HTTP1SerializeError` and write nothing (lua-http asserts).

/// The low-level calls' state on one connection.
struct H1LowLevelState {
    var reader: HTTP1LineReader
    /// A low-level read is running (they all start from the front of the same input).
    var reading = false
}

extension H1Connection {
    // MARK: - Reading heads

    /// Reads a request line (lua-http's `read_request_line`). Empty lines before it are skipped
    /// (RFC 9112 §2.2, as the parser does); the method is any token (`M-SEARCH` too); `HTTP/1.2`
    /// reads as 1.1 (RFC 9110 §2.5). Nil when the peer closed before a request line began.
    public func readRequestLine(timeout: Double? = nil) async throws
        -> (method: String, target: String, version: HTTP1Version)?
    {
        try await lowLevelRead("readRequestLine", timeout) { $0.readRequestLine($1, atEOF: $2) }
    }

    /// Reads a status line (lua-http's `read_status_line`): the SP after the status code is
    /// required, the reason may be empty. Nil when the peer closed before a status line began.
    public func readStatusLine(timeout: Double? = nil) async throws
        -> (version: HTTP1Version, status: Int, reason: String)?
    {
        try await lowLevelRead("readStatusLine", timeout) { $0.readStatusLine($1, atEOF: $2) }
    }

    /// Reads one field line of a header or trailer section (lua-http's `read_header`): the name as
    /// received (case kept), the value without surrounding whitespace. Nil at the empty line that
    /// ends the section, which is left for `readHeadersDone()`. A client connection (reading
    /// responses) joins obs-fold continuation lines with one SP (RFC 9112 §5.2), so it waits for
    /// the octet after the line; a server connection rejects them, like the parser.
    public func readHeader(timeout: Double? = nil) async throws -> (name: String, value: String)? {
        try await lowLevelRead("readHeader", timeout) { $0.readField($1, atEOF: $2) }
    }

    /// Reads the empty line that ends a header or trailer section (lua-http's
    /// `read_headers_done`): true when it was there (and is consumed), false when a field line
    /// comes first (nothing is consumed). Anything else throws.
    public func readHeadersDone(timeout: Double? = nil) async throws -> Bool {
        try await lowLevelRead("readHeadersDone", timeout) { $0.readEndOfSection($1, atEOF: $2) }
    }

    // MARK: - Reading bodies

    /// Reads body octets (lua-http's `read_body_by_length`): exactly `count` when `count >= 0`
    /// (if the peer closes first, `.protocolViolation(.unexpectedEOF)` and nothing is consumed);
    /// up to `-count` when negative, as soon as some arrived (empty at EOF; over TLS, only when
    /// the peer sent close_notify, else `.protocolViolation(.closedWithoutCloseNotify)`).
    public func readBodyByLength(_ count: Int, timeout: Double? = nil) async throws -> [UInt8] {
        try await lowLevelRead("readBodyByLength", timeout) { reader, input, atEOF in
            let outcome = reader.readBytes(count, input, atEOF: atEOF)
            // The empty read that says the input ended is where a read until the close ends.
            if count < 0, case .value(let range, _) = outcome, range.isEmpty, atEOF, let cut = closedUnsafely {
                return .failed(cut)
            }
            return Self.copying(outcome, from: input)
        }
    }

    /// Reads every octet until the peer closes (lua-http's `read_body_till_close`); more than
    /// `limit` octets (nil: `options.bodyLimit`) throws `HTTPStreamError.bodyTooLarge`, as soon as
    /// they arrived. Over TLS the body is complete only if the peer sent close_notify (RFC 9112
    /// §9.8), as for the stream API: else `.protocolViolation(.closedWithoutCloseNotify)`, and
    /// nothing is consumed.
    public func readBodyTillClose(limit: Int? = nil, timeout: Double? = nil) async throws
        -> [UInt8]
    {
        let limit = limit ?? options.bodyLimit
        return try await lowLevelRead("readBodyTillClose", timeout) { reader, input, atEOF in
            let outcome = reader.readToEnd(input, atEOF: atEOF, limit: limit)
            if case .value = outcome, let cut = closedUnsafely { return .failed(cut) }
            return Self.copying(outcome, from: input)
        }
    }

    /// The error for input that a TLS peer ended without close_notify, if it did: whoever closed
    /// the TCP connection may have cut it short. RFC 9112 §9.8: "Treating an incomplete message as
    /// complete could expose implementations to attack by a third party."
    private var closedUnsafely: HTTPStreamError? {
        socket.endedWithoutCloseNotify ? .protocolViolation(.closedWithoutCloseNotify) : nil
    }

    /// Reads one chunk of a chunked body (lua-http's `read_body_chunk`): its data and its chunk
    /// extensions as received (`;name=value`, empty without). Nil at the last chunk; read the
    /// trailers next with `readHeader()` and `readHeadersDone()`. The whole chunk is returned at
    /// once, so nothing is consumed until all of it arrived: a timeout or a partial chunk leaves
    /// the input for the next call. A chunk larger than `limit` throws
    /// `HTTPStreamError.bodyTooLarge` as soon as its size line is read (nil: `options.bodyLimit`);
    /// more than 16 hex digits is `.protocolViolation(.chunkSizeTooLarge)`.
    public func readBodyChunk(limit: Int? = nil, timeout: Double? = nil) async throws
        -> (data: [UInt8], extensions: String)?
    {
        let limit = limit ?? options.bodyLimit
        return try await lowLevelRead("readBodyChunk", timeout) { reader, input, atEOF in
            switch reader.readChunk(input, atEOF: atEOF, limit: limit) {
            case .needMore: return .needMore
            case .failed(let error): return .failed(error)
            case .value(let chunk, let consumed):
                let value = chunk.map { (Array(UnsafeRawBufferPointer(rebasing: input[$0.data])), $0.extensions) }
                return .value(value, consumed: consumed)
            }
        }
    }

    // MARK: - Writing

    /// Queues a request line (lua-http's `write_request_line`); `version` defaults to the
    /// connection's. Sent with the next flush (`writeHeadersDone`).
    public func writeRequestLine(method: String, target: String, version: HTTP1Version? = nil) throws {
        try lowLevelWrite("writeRequestLine") {
            try HTTP1Serializer.writeRequestLine(
                method: method, target: target, version: version ?? self.version, into: &$0)
        }
    }

    /// Queues a status line (lua-http's `write_status_line`); `version` defaults to the
    /// connection's. `status` must be 100...999.
    public func writeStatusLine(version: HTTP1Version? = nil, status: Int, reason: String) throws {
        try lowLevelWrite("writeStatusLine") {
            try HTTP1Serializer.writeStatusLine(
                version: version ?? self.version, status: status, reason: reason, into: &$0)
        }
    }

    /// Queues one field line (lua-http's `write_header`): `name` must be a token, `value` free
    /// of CR, LF, NUL and other CTLs but HTAB (so no obs-fold, RFC 9112 §5.2).
    public func writeHeader(name: String, value: String) throws {
        try lowLevelWrite("writeHeader") { try HTTP1Serializer.writeField(name: name, value: value, into: &$0) }
    }

    /// Writes the empty line that ends a header or trailer section (lua-http's
    /// `write_headers_done`) and waits until everything queued was handed to the kernel.
    public func writeHeadersDone(timeout: Double? = nil) async throws {
        try lowLevelWrite("writeHeadersDone") { HTTP1Serializer.writeEndOfSection(into: &$0) }
        try await lowLevelFlush(timeout)
    }

    /// Writes one chunk (lua-http's `write_body_chunk`, which allows no extensions) and waits
    /// until it was handed to the kernel. Empty data writes nothing (a zero-size chunk would end
    /// the body: use `writeBodyLastChunk`).
    public func writeBodyChunk(_ data: [UInt8], extensions: String = "", timeout: Double? = nil) async throws {
        try lowLevelWrite("writeBodyChunk") { buffer in
            try data.withUnsafeBytes { try HTTP1Serializer.writeChunk($0, extensions: extensions, into: &buffer) }
        }
        try await lowLevelFlush(timeout)
    }

    /// Queues the last chunk's line, `0` and any extensions (lua-http's `write_body_last_chunk`).
    /// The trailer fields (`writeHeader`) and `writeHeadersDone()` follow; that one flushes.
    public func writeBodyLastChunk(extensions: String = "") throws {
        try lowLevelWrite("writeBodyLastChunk") {
            try HTTP1Serializer.writeLastChunkLine(extensions: extensions, into: &$0)
        }
    }

    /// Writes body octets as they are (lua-http's `write_body_plain`: a body delimited by
    /// Content-Length or by the close) and waits until they were handed to the kernel.
    public func writeBodyPlain(_ data: [UInt8], timeout: Double? = nil) async throws {
        try lowLevelWrite("writeBodyPlain") { $0.append(contentsOf: data) }
        try await lowLevelFlush(timeout)
    }

    // MARK: - Glue

    /// Why a low-level call may not run now, if it may not.
    private func lowLevelRefusal(_ call: String) -> HTTPStreamError? {
        if started {
            return .invalidState(
                "\(call): start() was called; the low-level calls are for connections that do not run streams")
        }
        if streamsWrote {
            return .invalidState(
                "\(call): a stream wrote a request; the low-level calls are for connections that do not run streams")
        }
        if phase == .closed || socket.isClosed { return .connectionClosed("before \(call)") }
        return nil
    }

    /// Why `start()` may not run, if it may not: a low-level call ran. The parser would take up
    /// the input where the low-level reads left it (inside a message, as likely as not: a
    /// request line read, its fields not). On a server, the streams' responses would go after
    /// whatever the low-level writes framed (a status line, half a header section), so requests
    /// and responses would be split and joined wrongly on the wire. On a client, whose streams
    /// refuse to write after a low-level call (`writeRequestHead`), the response to a request
    /// the low-level writes framed would reach a parser with no stream waiting for it (and the
    /// connection close), while the low-level reads that could take it refuse once started.
    var lowLevelStartRefusal: HTTPStreamError? {
        guard usedLowLevel else { return nil }
        return .invalidState(
            "start(): the low-level calls were used on this connection; it cannot run streams")
    }

    /// Runs `step` over the unconsumed input until it finds its element, waiting for more input
    /// in between; consumes what the element took.
    private func lowLevelRead<T>(
        _ call: String, _ timeout: Double?,
        _ step: (inout HTTP1LineReader, UnsafeRawBufferPointer, Bool) -> HTTP1LineRead<T>
    ) async throws -> T {
        if let refusal = lowLevelRefusal(call) { throw refusal }
        usedLowLevel = true
        guard !lowLevel.reading else {
            throw HTTPStreamError.invalidState("\(call): another low-level read is running")
        }
        lowLevel.reading = true
        defer { lowLevel.reading = false }
        let deadline = Deadline(timeout)
        while true {
            let atEOF = socket.isEOF
            let outcome = socket.input.withUnsafeReadableBytes { step(&lowLevel.reader, $0, atEOF) }
            switch outcome {
            case .value(let value, let consumed):
                socket.input.consume(consumed)
                return value
            case .failed(let error):
                throw error
            case .needMore:
                if let failure = socket.failure { throw HTTPStreamError.socket(failure) }
                // (The reader resolves every element at EOF; this only guards against a spin.)
                if atEOF { throw HTTPStreamError.protocolViolation(.unexpectedEOF) }
                do {
                    try await socket.waitForMoreInput(call, deadline: deadline)
                } catch let error as SocketError {
                    if phase == .closed || socket.isClosed { throw HTTPStreamError.connectionClosed("during \(call)") }
                    throw HTTPStreamError.socket(error)
                }
                // start() or close() may have run while this read waited.
                if let refusal = lowLevelRefusal(call) { throw refusal }
            }
        }
    }

    /// Serializes with `write` and queues the octets, or throws and queues nothing.
    private func lowLevelWrite(_ call: String, _ write: (inout [UInt8]) throws -> Void) throws {
        if let refusal = lowLevelRefusal(call) { throw refusal }
        usedLowLevel = true
        if let failure = socket.failure { throw HTTPStreamError.socket(failure) }
        // Straight into the socket's queue; what a throwing `write` appended is taken back.
        try socket.write(serializing: write)
    }

    private func lowLevelFlush(_ timeout: Double?) async throws {
        do {
            try await socket.flush(timeout: timeout)
        } catch let error as SocketError {
            throw HTTPStreamError.socket(error)
        }
    }

    /// A body read's range turned into the octets it covers.
    private static func copying(_ outcome: HTTP1LineRead<Range<Int>>, from input: UnsafeRawBufferPointer)
        -> HTTP1LineRead<[UInt8]>
    {
        switch outcome {
        case .needMore: return .needMore
        case .failed(let error): return .failed(error)
        case .value(let range, let consumed):
            return .value(Array(UnsafeRawBufferPointer(rebasing: input[range])), consumed: consumed)
        }
    }
}
