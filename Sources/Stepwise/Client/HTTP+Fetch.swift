public import HTTPCore
import Reactor

/// One-call HTTP for scripts.
public enum HTTP {
    /// Fetches `url` and returns the status, the header fields (with `:status`) and the whole
    /// body, blocking the calling thread: a reactor is made for the call and run until it is done.
    /// Redirects are followed and gzip/deflate bodies decoded, as `Request.go()` does.
    ///
    /// ```swift
    /// let (status, headers, body) = try HTTP.fetch("http://example.com/")
    /// ```
    ///
    /// - Parameters:
    ///   - headers: extra fields (names are lower-cased; a `content-length` is set for `body`).
    ///     A `host` replaces the URL's authority (the request still goes to the URL's host).
    ///   - bodyLimit: the most response body octets to buffer, decoded (nil: 64 MiB, the
    ///     connection's `bodyLimit`); past it, or when the `content-length` says so before the
    ///     body is read, the call throws `HTTPStreamError.bodyTooLarge`: see `Request.fetch`.
    ///   - timeout: one deadline over the whole call, body included (nil: none). Default 30 s.
    /// - Throws: what `Request(uri:)` and `Request.fetch` throw. Not for use inside a reactor
    ///   callback or task (it would block that reactor's thread): from a task, await
    ///   `Request.fetch(on:timeout:)` instead. Called from any Swift task it throws
    ///   `ReactorError.reentrantStep` at once (a plain callback cannot be told apart).
    public static func fetch(
        _ url: String, method: String = "GET", headers: [(String, String)] = [], body: [UInt8]? = nil,
        bodyLimit: Int? = nil, timeout: Double? = 30
    ) throws -> (status: Int, headers: Headers, body: [UInt8]) {
        guard !withUnsafeCurrentTask(body: { $0 != nil }) else { throw ReactorError.reentrantStep }
        let request = try Request(uri: url)
        try request.headers.upsert(":method", method)
        for (name, value) in headers {
            let name = name.lowercased()
            // A `Host` replaces the URL's authority, as in `HTTPConnection`: sent once, first.
            if name == "host" {
                try request.headers.upsert(":authority", value)
            } else {
                request.headers.append(name, value)
            }
        }
        if let body { request.setBody(bytes: body) }
        let reactor = try Reactor()
        let response = try reactor.run { try await request.fetch(on: reactor, bodyLimit: bodyLimit, timeout: timeout) }
        return (response.status, response.headers, response.body)
    }
}
