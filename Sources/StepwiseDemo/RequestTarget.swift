import HTTPCore

/// The path of a request's `:path`, decoded and checked, as the planner maps it onto the root.
struct RequestTarget: Equatable {
    /// The decoded path segments, without empty and `.` segments (never `..`).
    var segments: [String]
    /// Whether the decoded path ends in `/` (the root `/` does): `/a.txt/`, `/a.txt%2F` and
    /// `/a.txt/.` name no file.
    var hasTrailingSlash: Bool
    /// Whether the path as received ends in a literal `/`, not an encoded `%2F` nor a dot
    /// segment: what a browser takes as the end of the base URL's directory (RFC 3986 §5.2.3:
    /// "excluding any characters after the right-most "/""), so what a directory listing's
    /// relative links need.
    var endsInLiteralSlash: Bool
    /// The query, without its `?`, as received; nil when there is none.
    var query: String?

    /// Parses the raw `:path` of a request. The fragment (`#…`, which should not be sent at all)
    /// and the query are split off; the path is percent-decoded (RFC 3986 §2.1) and `.` segments
    /// removed (RFC 3986 §5.2.4, `HTTPUtil.resolveRelativePath`).
    ///
    /// Returns nil (the planner answers 400 Bad Request) when the path
    /// - does not start with `/` (`*`, or an absolute URI that was not reduced to a path);
    /// - decodes to a NUL byte, which would cut a C path short;
    /// - decodes to bytes that are not UTF-8 (a plan carries the file's path as `String`);
    /// - has a `..` segment once decoded, wherever it is. RFC 3986 dot-segment removal would clamp
    ///   `..` at the root, so such a path could not escape it, but a client that sends `..` or
    ///   `%2e%2e` is probing, and refusing it outright keeps the mapping onto the file system
    ///   one-to-one. Segments are split after decoding, so an encoded `/` (`%2F`) separates too.
    static func parse(_ rawPath: String) -> RequestTarget? {
        var path = Substring(rawPath)
        if let hash = path.firstIndex(of: "#") { path = path[..<hash] }
        var query: String?
        if let questionMark = path.firstIndex(of: "?") {
            query = String(path[path.index(after: questionMark)...])
            path = path[..<questionMark]
        }
        guard path.utf8.first == UInt8(ascii: "/") else { return nil }
        let bytes = HTTPUtil.percentDecodedBytes(String(path))
        guard !bytes.contains(0), let decoded = String(validating: bytes, as: UTF8.self) else { return nil }
        let slash = UInt8(ascii: "/")
        let decodedSegments = bytes.split(separator: slash, omittingEmptySubsequences: false)
        guard !decodedSegments.contains(where: { $0.elementsEqual("..".utf8) }) else { return nil }
        let normalized = HTTPUtil.resolveRelativePath(base: "/", relative: decoded)
        return RequestTarget(
            segments: normalized.utf8.split(separator: slash).map { String(decoding: $0, as: UTF8.self) },
            hasTrailingSlash: normalized.utf8.last == slash,
            endsInLiteralSlash: path.utf8.last == slash,
            query: query)
    }

    /// The path below the root, segments joined by `/`; empty for the root itself.
    var relativePath: String {
        segments.joined(separator: "/")
    }

    /// The decoded URL path: `/`, the segments joined by `/`, and `/` at the end when the request
    /// had it.
    var decodedPath: String {
        if segments.isEmpty { return "/" }
        return "/" + relativePath + (hasTrailingSlash ? "/" : "")
    }

    /// Where a directory requested without a literal trailing slash (`/sub`, `/sub%2F`, `/sub/.`)
    /// is redirected to: the path with `/` appended and the query kept. Built from the decoded
    /// segments, each percent-encoded again, so the location is always a path of this server
    /// (never `//host`, a network-path reference, RFC 3986 §4.2).
    var locationWithTrailingSlash: String {
        var location = "/"
        for segment in segments {
            location += HTTPUtil.encodeURIComponent(segment) + "/"
        }
        if let query { location += "?" + query }
        return location
    }
}
