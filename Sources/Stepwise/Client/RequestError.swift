import Glibc

/// Why a `Request` could not be built, converted to a URI, redirected or given a body.
///
/// Messages never repeat credentials: URIs in them are described by `URIError`, which leaves the
/// userinfo out.
public enum RequestError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The URI given to `Request(uri:)` or `Request.connect(uri:authority:)` does not parse.
    case invalidURI(URIError)
    /// A scheme other than `http`, `https`, `ws` and `wss` (in a URI or a redirect's `Location`).
    case unsupportedScheme(String)
    /// The URI has no host, or an empty one (RFC 9110 §4.2.1: "A sender MUST NOT generate an
    /// "http" URI with an empty host identifier").
    case missingHost
    /// A CONNECT request's URI (the proxy) has a path other than `/`.
    case connectWithPath
    /// A CONNECT request's URI (the proxy) has a query.
    case connectWithQuery
    /// A CONNECT request has no `:authority` (the tunnel's destination).
    case missingConnectAuthority
    /// A CONNECT destination that is not `host:port` (RFC 9110 §9.3.6: "the request-target
    /// consists of only the host and port number of the tunnel destination").
    case invalidConnectAuthority(String)
    /// The request's `:scheme`, `:authority` and `:path` do not make a valid URI (for `toURI`,
    /// a `referer`, or as the base of a redirect).
    case invalidTarget(URIError)
    /// `toURI(withUserinfo: true)` found credentials that are not Basic (RFC 7617), which a
    /// userinfo cannot carry.
    case authorizationNotConvertible
    /// `handleRedirect` was called with `maxRedirects` at 0 (lua-http: ELOOP).
    case tooManyRedirects
    /// A redirect response has no `location` field.
    case missingLocation
    /// A redirect's `location` is not a URI reference.
    case invalidLocation(URIError)
    /// A body file could not be opened for reading or is a directory.
    case bodyFileUnreadable(path: String, errno: Int32)
    /// A 307 or 308 redirect (which keeps the method and the body) came after the body was
    /// sent, and the body cannot be read again (a producer's chunks, a pipe): not followed.
    case bodyNotResendable(status: Int)

    public var description: String {
        switch self {
        case .invalidURI(let error): return "invalid URI: \(error)"
        case .unsupportedScheme(let scheme):
            return "unsupported scheme '\(scheme)': requests need http, https, ws or wss"
        case .missingHost: return "URI has no host"
        case .connectWithPath: return "CONNECT requests cannot have a path"
        case .connectWithQuery: return "CONNECT requests cannot have a query"
        case .missingConnectAuthority: return ":authority required for CONNECT requests"
        case .invalidConnectAuthority(let authority):
            return "invalid CONNECT authority '\(authority)': must be host:port"
        case .invalidTarget(let error):
            return "the request's :scheme, :authority and :path do not form a URI: \(error)"
        case .authorizationNotConvertible:
            return "authorization cannot be converted to a URI userinfo: only Basic credentials can"
        case .tooManyRedirects: return "maximum redirects exceeded"
        case .missingLocation: return "missing location header for redirect"
        case .invalidLocation(let error): return "invalid URI in location header: \(error)"
        case .bodyFileUnreadable(let path, let errno):
            return "cannot read request body file '\(path)': \(String(cString: strerror(errno)))"
        case .bodyNotResendable(let status):
            return "the \(status) redirect needs the request body again, which was sent and cannot be read again"
        }
    }
}
