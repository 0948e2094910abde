/// The settings of an `H1Connection`, each with a documented default.
public struct H1ConnectionOptions: Sendable {
    /// The parser's limits (start line, header block, fields, chunk extensions, trailers).
    public var limits = HTTP1Limits()
    /// Server: how long an idle keep-alive connection waits for the next request before it is
    /// closed (lua-http's `intra_stream_timeout`). Default 10 s; nil waits forever.
    public var idleTimeout: Double? = 10
    /// Server: how long a request head may take to arrive once its first octet did: the
    /// slowloris guard lua-http lacks. Answered with 408 and a close. Default 10 s; nil: no limit.
    public var headerReadTimeout: Double? = 10
    /// Reading from the socket pauses while a stream holds this much body its reader has not
    /// taken (back-pressure): its octets, each piece counted 64 octets more (what it costs in
    /// memory besides them), so a body sent in one-octet chunks holds no more memory than one
    /// sent whole. Default 256 KiB.
    public var maxBufferedBody = 256 * 1024
    /// The `limit` of the buffering body helpers (`getBodyAsBytes`, `getBodyAsString`,
    /// `getBodyUntil`, `readBodyTillClose`, …) on this connection's streams when a call gives
    /// none: past it they throw `HTTPStreamError.bodyTooLarge`, which a server answers with 413.
    /// Default 64 MiB (`H1Stream.defaultBodyLimit`).
    public var bodyLimit = 64 << 20
    /// Server: when a handler ends its response without reading the whole request body, up to
    /// this many body octets are read and dropped to keep the connection usable; a longer body
    /// closes it. A response written while more than this is left of a `content-length` body
    /// says `connection: close` and none of the rest is read. Default 500 KiB (lua-http's).
    public var drainLimit = 500 * 1024
    /// After its last response a server half-closes and reads (and drops) what the client still
    /// sends for up to this long before closing, so the client sees the response rather than a
    /// reset (RFC 9112 §9.6). Default 2 s.
    public var lingerTimeout: Double = 2
    /// Server: add a `date` field to responses that lack one (RFC 9110 §6.6.1). Default true.
    public var sendDate = true
    /// Server: decode a request body sent with `transfer-encoding: gzip` or `deflate` (RFC 9112
    /// §7) and answer `TE: gzip` clients with a gzip transfer coding. Default true. When false, a
    /// request with a transfer coding other than `chunked` gets 501 (RFC 9112 §6.1).
    public var transferCodings = true
    /// Send file bodies (`writeBody(from:offset:count:timeout:)`, `writeBody(fromPath:)`) with
    /// `sendfile(2)` where nothing has to see their octets: a plain connection (not TLS) and no
    /// gzip transfer coding. The kernel then moves the file's pages to the socket without a copy
    /// through user space, on a blocking-work thread (the pages may have to come from disk).
    /// Default true; false reads the file into memory and writes it as other bodies are (nginx's
    /// `sendfile off`).
    public var sendfile = true

    public init() {}
}
