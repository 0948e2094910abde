/// An absolute URI (RFC 3986 §4.3: `scheme ":" hier-part [ "?" query ] [ "#" fragment ]`), split
/// into its components.
///
/// Parsing is strict RFC 3986 §3: every component is checked against its grammar, so spaces,
/// control characters, non-ASCII bytes and characters such as `<>"{}|\^[]` outside an IP literal
/// are errors rather than something to guess about (encode text with `HTTPUtil.encodeURI` first).
/// Components keep their percent-encoding exactly as written; only the scheme is normalized (to
/// lower case, RFC 3986 §3.1 "schemes are case-insensitive").
///
/// ```swift
/// let uri = try URI(parsing: "https://user:pw@[::1]:8443/a/b?q=1#top")
/// uri.host           // "::1"
/// uri.authorityHost  // "[::1]"
/// uri.port           // 8443
/// ```
public struct URI: Sendable, Equatable, CustomStringConvertible {
    /// Lower case: `"https"`.
    public internal(set) var scheme: String
    /// The userinfo before `@` (RFC 3986 §3.2.1), still percent-encoded (`user:p%40ss`); nil when
    /// there is none.
    public internal(set) var userinfo: String?
    /// The host, without the brackets of an IPv6 literal (`::1`, `fe80::1%25eth0`), otherwise as
    /// written (percent-encoding and case kept). Nil when the URI has no authority (`mailto:x`);
    /// may be empty (`file:///etc`).
    public internal(set) var host: String?
    /// The port when one is written; nil when absent or empty (`host:`). The scheme's default is
    /// `HTTPUtil.defaultPort(forScheme:)`.
    public internal(set) var port: Int?
    /// The path, possibly empty (`https://example.com` has path `""`; HTTP requests use `/` then).
    public internal(set) var path: String
    /// The query after `?`, without it; nil when there is no `?` (`""` for a bare `?`).
    public internal(set) var query: String?
    /// The fragment after `#`, without it; nil when there is no `#`.
    public internal(set) var fragment: String?

    /// Parses an absolute URI.
    /// - Throws: `URIError`: `.missingScheme` for a relative reference, `.invalidScheme`,
    ///   `.invalidCharacter` / `.invalidPercentEncoding` with the component at fault,
    ///   `.invalidHost`, `.invalidPort`, `.empty`.
    public init(parsing text: String) throws(URIError) {
        self.init(try URIReference(parsing: text, requiringScheme: true))
    }

    /// A URI from the parts of a reference that has a scheme.
    init(_ reference: URIReference) {
        precondition(reference.scheme != nil, "URI(_:) needs a reference with a scheme")
        scheme = reference.scheme!
        userinfo = reference.authority?.userinfo
        host = reference.authority?.host
        port = reference.authority?.port
        path = reference.path
        query = reference.query
        fragment = reference.fragment
    }

    /// Whether the host is an IPv6 address, which an authority writes in brackets. (A reg-name
    /// cannot contain `:`, so the host itself tells.)
    public var hostIsIPv6: Bool {
        host?.utf8.contains(UInt8(ascii: ":")) ?? false
    }

    /// The host as an authority writes it: an IPv6 address in brackets (`[::1]`), others as they
    /// are; nil when the URI has no authority.
    public var authorityHost: String? {
        guard let host else { return nil }
        return hostIsIPv6 ? "[" + host + "]" : host
    }

    /// The request-target in origin form (RFC 9112 §3.2.1: `absolute-path [ "?" query ]`): the path,
    /// or `/` when it is empty ("If the target URI's path component is empty, the client MUST send
    /// "/" as the path within the origin-form of request-target"), then `?` and the query if there
    /// is one. The fragment is left out (RFC 9110 §7.1).
    public var originForm: String {
        let absolutePath = path.isEmpty ? "/" : path
        guard let query else { return absolutePath }
        return absolutePath + "?" + query
    }

    /// The URI written out again (RFC 3986 §5.3): the scheme in lower case, an empty port dropped,
    /// everything else as parsed. Includes the userinfo: don't log it when it may hold a password.
    public var description: String {
        var out = scheme + ":"
        if let authorityHost {
            out += "//"
            if let userinfo { out += userinfo + "@" }
            out += authorityHost
            if let port { out += ":" + String(port) }
        } else if path.utf8.starts(with: "//".utf8) {
            // Without an authority, a path starting "//" would read back as one (RFC 3986 §3.3:
            // such a path "cannot begin with two slash characters"); "/." keeps it a path, and
            // removing dot segments gives it back (what the WHATWG URL serializer does).
            out += "/."
        }
        out += path
        if let query { out += "?" + query }
        if let fragment { out += "#" + fragment }
        return out
    }

    /// The components as a reference, for resolution.
    var reference: URIReference {
        URIReference(
            scheme: scheme,
            authority: host.map { URIReference.Authority(userinfo: userinfo, host: $0, port: port) },
            path: path, query: query, fragment: fragment)
    }
}
