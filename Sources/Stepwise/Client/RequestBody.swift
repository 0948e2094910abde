/// The body of a `Request`: lua-http's string, file or function body.
///
/// Set it with `Request.setBody(…)`, which also sets `content-length` and `expect`.
public enum RequestBody: Sendable {
    /// These bytes.
    case bytes([UInt8])
    /// The file at `path`, opened and read from its start on every attempt (each `go()`, and each
    /// redirect that keeps the body), which is what lua-http's seek to 0 achieves. A regular file's
    /// size is its length; a pipe or device has an unknown length and, like a producer, is read
    /// once (see `stream`).
    case file(path: String)
    /// Chunks from `producer`, called until it returns nil (the end). The length is unknown, so
    /// HTTP/1.1 sends it chunked. A producer cannot be rewound: once its chunks went out, a
    /// 307 or 308 redirect fails with `RequestError.bodyNotResendable` and a stale pooled
    /// connection is not retried (a redirect answered before the body went, as with
    /// `expect: 100-continue`, is followed, and a `417` to that expectation is repeated without
    /// it: the producer was not called yet).
    case stream(@Sendable () throws -> [UInt8]?)
}
