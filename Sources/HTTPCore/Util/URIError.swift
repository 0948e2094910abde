/// A part of a URI (RFC 3986 §3), named in `URIError`s.
public enum URIComponent: String, Sendable, Equatable {
    case scheme, userinfo, host, port, path, query, fragment
}

/// Why a string is not a URI (or URI reference) that `URI` accepts.
///
/// The messages never repeat the userinfo, which may hold a password.
public enum URIError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The string is empty.
    case empty
    /// No `scheme:` at the start (RFC 3986 §3: "scheme ":" hier-part"), where an absolute URI is
    /// required, or a reference that starts with `:`.
    case missingScheme
    /// The scheme is not a letter followed by letters, digits, `+`, `-` or `.` (RFC 3986 §3.1).
    case invalidScheme(String)
    /// A byte that RFC 3986 does not allow in that component: spaces, control characters, bytes
    /// above 0x7F (non-ASCII text must be percent-encoded first), or delimiters such as `<>"{}|\^`
    /// and `` ` `` that have no place in a URI.
    case invalidCharacter(UInt8, in: URIComponent)
    /// A `%` not followed by two hex digits (RFC 3986 §2.1).
    case invalidPercentEncoding(in: URIComponent)
    /// The host (given here with its port, without userinfo) is not a reg-name, an IPv4 address or
    /// a bracketed IPv6 address (RFC 3986 §3.2.2); `[` without `]`, an unbracketed IPv6 address
    /// and IPvFuture literals (`[v1.x]`) land here.
    case invalidHost(String)
    /// The port (given here with its host, without userinfo) is not 0–65535 in decimal digits
    /// (RFC 3986 §3.2.3), or something other than `:port` follows an IP literal's `]`.
    case invalidPort(String)

    public var description: String {
        switch self {
        case .empty:
            return "empty URI"
        case .missingScheme:
            return "URI has no scheme (expected an absolute URI such as 'https://example.com/')"
        case .invalidScheme(let scheme):
            return "invalid URI scheme '\(scheme)': must be a letter followed by letters, digits, '+', '-' or '.'"
        case .invalidCharacter(let byte, let component):
            return "invalid character \(URIError.describe(byte)) in URI \(component.rawValue)"
        case .invalidPercentEncoding(let component):
            return "invalid percent-encoding in URI \(component.rawValue): '%' must be followed by two hex digits"
        case .invalidHost(let hostAndPort):
            return "invalid host in URI authority '\(hostAndPort)'"
        case .invalidPort(let hostAndPort):
            return "invalid port in URI authority '\(hostAndPort)': must be 0-65535"
        }
    }

    /// `'<'` for printable ASCII, `0x20 (space)`, `0x0A` or `0xC3 (non-ASCII: percent-encode it)`.
    private static func describe(_ byte: UInt8) -> String {
        let hex = (byte < 16 ? "0x0" : "0x") + String(byte, radix: 16, uppercase: true)
        switch byte {
        case 0x20: return hex + " (space)"
        case 0x21..<0x7F: return "'" + String(UnicodeScalar(byte)) + "'"
        case 0x80...: return hex + " (non-ASCII: percent-encode it)"
        default: return hex
        }
    }
}
