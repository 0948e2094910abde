import HTTPCore

/// What the server sends for a request, as `StaticFilePlanner` decides it.
///
/// In both cases `headers` starts with the `:status` pseudo-header (the status as a string, e.g.
/// `"200"`), and every field name is lower case. For HEAD the server sends the same head and no
/// body.
public enum StaticFilePlan: Equatable, Sendable {
    /// Send `length` bytes of the open `file` from byte `offset`: 200 with the whole file, or 206
    /// with one range. `headers` has `content-type`, `content-length`, `last-modified`, `etag`,
    /// `accept-ranges: bytes`, and `content-range` on 206.
    case file(OpenedFile, status: Int, headers: Headers, offset: UInt64, length: UInt64)
    /// Send `body` as it is: errors, redirects, 204 to OPTIONS, 304, 412, 416 and directory
    /// listings. `headers` has `content-type` and `content-length` except on 204 and 304, which
    /// have neither and no body (RFC 9110 §8.6, §15.4.5).
    case bytes(status: Int, headers: Headers, body: [UInt8])

    /// The response status.
    public var status: Int {
        switch self {
        case .file(_, let status, _, _, _), .bytes(let status, _, _): return status
        }
    }

    /// The response header fields, `:status` first.
    public var headers: Headers {
        switch self {
        case .file(_, _, let headers, _, _), .bytes(_, let headers, _): return headers
        }
    }

    /// A short plain-text response: the reason phrase of `status` and a newline as the body,
    /// `fields` after `:status` and before `content-type` and `content-length`.
    static func text(_ status: Int, _ fields: [(String, String)] = []) -> StaticFilePlan {
        let body = Array((ReasonPhrase.for(status: status) + "\n").utf8)
        return withBody(status, fields, contentType: "text/plain; charset=utf-8", body: body)
    }

    /// A response with `body`: `:status`, `fields`, then `content-type` and `content-length`.
    static func withBody(
        _ status: Int, _ fields: [(String, String)], contentType: String, body: [UInt8]
    ) -> StaticFilePlan {
        var headers = statusHeaders(status)
        for (name, value) in fields { headers.append(name, value) }
        headers.append("content-type", contentType)
        headers.append("content-length", String(body.count))
        return .bytes(status: status, headers: headers, body: body)
    }

    /// 304 Not Modified: `:status` and the `etag` a 200 would have carried, no body (RFC 9110
    /// §15.4.5: the server sends the ETag it would have sent with 200 and SHOULD NOT send other
    /// representation metadata; with an ETag present, Last-Modified is not needed).
    static func notModified(_ entityTag: EntityTag?) -> StaticFilePlan {
        var headers = statusHeaders(304)
        if let entityTag { headers.append("etag", entityTag.fieldValue) }
        return .bytes(status: 304, headers: headers, body: [])
    }

    /// Header fields holding only `:status`.
    static func statusHeaders(_ status: Int) -> Headers {
        var headers = Headers()
        headers.append(":status", String(status))
        return headers
    }
}
