public import Reactor

/// The common stream API shared by HTTP/1 and HTTP/2 streams (lua-http's stream interface), so a
/// handler runs unchanged on either. A stream is one request/response exchange.
///
/// Three tiers, as everywhere in Stepwise:
/// - **non-blocking writes** (`writeHeaders(_:endStream:)`, `writeChunk(_:endStream:)`): the
///   octets are queued and go out at the end of the reactor step; for handlers answering from a
///   callback;
/// - **callbacks** for reads (`getHeaders(timeout:_:)`, `getNextChunk(timeout:_:)`);
/// - **async** calls on the reactor for everything (`getHeaders(timeout:)`, …); writes wait while
///   the connection's output is above its high-water mark (back-pressure).
///
/// Every call that can wait takes `timeout` in seconds (`nil`: no limit); the body helpers treat
/// it as one deadline over all their reads. All calls belong to the reactor's thread.
public protocol HTTPStream: AnyObject, Sendable {
    var reactor: Reactor { get }

    /// The next header block: the request (server) or response (client) headers, then the
    /// trailers if any; nil when no more will come.
    func getHeaders(timeout: Double?) async throws -> Headers?
    /// The next piece of the body; nil at its end.
    func getNextChunk(timeout: Double?) async throws -> [UInt8]?
    func getHeaders(timeout: Double?, _ completion: @escaping (Result<Headers?, any Error>) -> Void)
    func getNextChunk(timeout: Double?, _ completion: @escaping (Result<[UInt8]?, any Error>) -> Void)
    /// Puts body octets back; the next read returns them first.
    func unget(_ bytes: [UInt8])

    /// Queues a header block (pseudo-headers first) without waiting.
    func writeHeaders(_ headers: Headers, endStream: Bool) throws
    /// Queues a header block and waits while the connection's output is above its high-water mark.
    func writeHeaders(_ headers: Headers, endStream: Bool, timeout: Double?) async throws
    /// Queues a whole message without waiting: `headers`, then `body` (which may be empty),
    /// ending the stream. The same as `writeHeaders(headers, endStream: body.isEmpty)` and then
    /// `writeChunk(body, endStream: true)`, in one call, which an HTTP/1 server stream serializes
    /// in one piece and frames with a `content-length` (added when `headers` have none).
    func writeMessage(_ headers: Headers, body: UnsafeRawBufferPointer) throws
    /// Queues body octets without waiting.
    func writeChunk(_ bytes: UnsafeRawBufferPointer, endStream: Bool) throws
    /// Queues body octets and waits while the output is above its high-water mark.
    func writeChunk(_ bytes: [UInt8], endStream: Bool, timeout: Double?) async throws
    /// Writes `count` octets of `file` from `offset` as body octets (the file's own offset is
    /// not used), ending the stream when `endStream`; waits until they are written or queued
    /// within the output's high-water mark. Throws `invalidState` when the file ends before
    /// `count` octets. `writeBody(from:offset:count:timeout:)` sends its file with it; a caller
    /// may send a large file in slices, each with its own timeout. The default reads the file
    /// (`writeChunkReadingFile`); a stream with a faster way implements it (HTTP/1 on a plain
    /// connection: `sendfile(2)`).
    ///
    /// A file that cannot seek (a pipe, a socket, a terminal) has no offsets: it is read in
    /// order from where it is, which only `offset` 0 means (any other throws `invalidState`
    /// before anything is read or written; slices of a pipe each pass 0), and the octets sent
    /// are gone from it.
    func writeChunk(fromFile file: BodyFile, offset: UInt64, count: UInt64, endStream: Bool, timeout: Double?)
        async throws
    /// How many octets of the file regions this stream wrote (`writeChunk(fromFile:…)`) went to
    /// the kernel: all of a call that returned, and of one that failed part-way (a timeout, a
    /// peer gone), those the kernel took before it failed. That is the octets the kernel
    /// accepted into the socket's buffer, not those the peer received. nil when the stream
    /// does not count them (the default); an HTTP/1 stream does (`H1Stream`).
    var fileBodyOctetsSent: UInt64? { get }

    /// Ends the exchange: see the conforming type for what happens to an unanswered request and
    /// an unread body.
    func shutdown()
    /// Ends the exchange after its handler failed with `error`: as `shutdown()`, except that a
    /// server stream that has not answered yet answers with the status the error calls for
    /// (`HTTPStreamError.status`: 413 for a body over the limit, 400 for a malformed one)
    /// instead of 503. `Server` calls it when a handler throws.
    func shutdown(after error: any Error)

    /// The `limit` the buffering body helpers use when a call gives none (an HTTP/1 stream: its
    /// connection's `H1ConnectionOptions.bodyLimit`; default `defaultBodyLimit`, 64 MiB).
    var bodyLimit: Int { get }

    /// The length of the whole body the peer declared in its head, once the head arrived: an
    /// HTTP/1 `content-length` that frames the body, 0 for a message without one. nil when no
    /// field says it: before the head, for a chunked or close-delimited body, and for a body
    /// decoded on the way (`DecodedStream`). A caller that buffers the body can refuse one
    /// longer than it allows before reading any of it (`Request.fetch` does).
    var declaredBodyLength: UInt64? { get }

    /// What is left of the declared body for its reader: `declaredBodyLength`, less the octets
    /// the reader took, plus those it put back (`unget`); so exactly what reading to the end would
    /// still return, for a peer that sends what it declared (one that sends fewer ends in an error
    /// of its own). nil when `declaredBodyLength` is, and once reading failed or the body was
    /// discarded (the next read's error says more). The buffering helpers refuse a body whose
    /// length left is over their limit before reading any of it.
    var declaredBodyLengthLeft: UInt64? { get }

    /// Runs `work` as a task on the reactor: how the callback forms of the body helpers
    /// (`saveBody(toPath:timeout:_:)`, `writeBody(fromPath:…_:)`, …) run their async forms. The
    /// default spawns it (`Reactor.spawn`); an HTTP/1 stream also counts it in its connection's
    /// `H1ConnectionContext.helperTasksRunning`, which its `Server` counts as work in `empty()`.
    func spawnHelperTask(_ work: @escaping @Sendable () async -> Void)

    func checkTLS() -> TLSInfo?
    func localname() -> SocketName
    func peername() -> SocketName
}

extension HTTPStream {
    public func shutdown(after error: any Error) { shutdown() }
    public func writeChunk(
        fromFile file: BodyFile, offset: UInt64, count: UInt64, endStream: Bool, timeout: Double?
    ) async throws {
        try await writeChunkReadingFile(file, offset: offset, count: count, endStream: endStream, timeout: timeout)
    }
    public var bodyLimit: Int { Self.defaultBodyLimit }
    public var declaredBodyLength: UInt64? { nil }
    public var declaredBodyLengthLeft: UInt64? { nil }
    public var fileBodyOctetsSent: UInt64? { nil }
    public func spawnHelperTask(_ work: @escaping @Sendable () async -> Void) {
        reactor.spawn { await work() }
    }

    public func getHeaders() async throws -> Headers? { try await getHeaders(timeout: nil) }
    public func getNextChunk() async throws -> [UInt8]? { try await getNextChunk(timeout: nil) }

    /// Queues a string as body octets without waiting.
    public func writeChunk(_ string: String, endStream: Bool) throws {
        var string = string
        try string.withUTF8 { try writeChunk(UnsafeRawBufferPointer($0), endStream: endStream) }
    }

    /// Queues body octets without waiting.
    public func writeChunk(_ bytes: [UInt8], endStream: Bool) throws {
        try bytes.withUnsafeBytes { try writeChunk($0, endStream: endStream) }
    }

    /// The two calls `writeMessage` stands for (a stream with no faster way).
    public func writeMessage(_ headers: Headers, body: UnsafeRawBufferPointer) throws {
        try writeHeaders(headers, endStream: body.isEmpty)
        if !body.isEmpty { try writeChunk(body, endStream: true) }
    }

    /// Queues a whole message without waiting (`writeMessage(_:body:)` with an array).
    public func writeMessage(_ headers: Headers, body: [UInt8]) throws {
        try body.withUnsafeBytes { try writeMessage(headers, body: $0) }
    }

    /// Queues a whole message without waiting (`writeMessage(_:body:)` with a string's UTF-8).
    public func writeMessage(_ headers: Headers, body: String) throws {
        var body = body
        try body.withUTF8 { try writeMessage(headers, body: UnsafeRawBufferPointer($0)) }
    }

    /// Sends an interim `100 Continue` (RFC 9110 §15.2.1).
    public func writeContinue(timeout: Double? = nil) async throws {
        var headers = Headers(capacity: 1)
        headers.append(":status", "100")
        try await writeHeaders(headers, endStream: false, timeout: timeout)
    }
}
