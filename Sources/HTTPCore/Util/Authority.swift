// Authorities (`host[:port]`, RFC 3986 §3.2) and default ports.

/// Why an authority (a `Host` header, a `:authority` pseudo-header, a URI's authority) could not
/// be split.
public enum AuthorityError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No port was given and the scheme has no default one.
    case unknownScheme(String)
    /// The host part is empty, contains characters a host cannot, or is an unbracketed IPv6
    /// address; or a `[` literal is not a valid IPv6 address or is not closed.
    case invalidHost(String)
    /// The port is not 0–65535 written in decimal digits, or junk follows the `]` of a literal.
    case invalidPort(String)

    public var description: String {
        switch self {
        case .unknownScheme(let scheme): return "unknown scheme '\(scheme)': no default port"
        case .invalidHost(let authority): return "invalid host in authority '\(authority)'"
        case .invalidPort(let authority): return "invalid port in authority '\(authority)'"
        }
    }
}

extension HTTPUtil {
    /// The default port of a scheme: `http`/`ws` 80, `https`/`wss` 443, else nil. Schemes compare
    /// case-insensitively (RFC 3986 §3.1).
    public static func defaultPort(forScheme scheme: String) -> Int? {
        switch scheme {
        case "http", "ws": return 80
        case "https", "wss": return 443
        default:
            // Rare: a scheme not in lower case.
            switch scheme.lowercased() {
            case "http", "ws": return 80
            case "https", "wss": return 443
            default: return nil
            }
        }
    }

    /// Splits `host[:port]` into its host and port.
    ///
    /// - An IPv6 literal is written in brackets (`[::1]:8080`); the host comes back without them,
    ///   otherwise exactly as written (a zone identifier such as `%25eth0` is kept as is).
    /// - No port, or an empty one (`example.com:`, which RFC 3986 §3.2.3 allows), means the scheme's
    ///   default port.
    /// - The host must be non-empty RFC 3986 reg-name characters (letters, digits, `-._~%` and
    ///   sub-delims) or an IPv4 address; userinfo (`user@host`) is rejected, as HTTP forbids it in
    ///   `Host` and `:authority`.
    /// - Throws: `AuthorityError.unknownScheme` when there is no port and the scheme has no default,
    ///   `.invalidHost` / `.invalidPort` for malformed input.
    public static func splitAuthority(_ authority: String, scheme: String) throws -> (
        host: String, port: Int
    ) {
        let bytes = authority.utf8
        let host: Substring
        let portText: Substring.UTF8View?
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else {
                throw AuthorityError.invalidHost(authority)
            }
            host = authority[bytes.index(after: bytes.startIndex)..<close]
            // RFC 3986 §3.2.2 and RFC 6874 §2: an IPv6 address, and a zone only after `%25`
            // (the same check as `URI(parsing:)`'s).
            guard URIReference.Authority.isIPv6Literal(ArraySlice(host.utf8)) else {
                throw AuthorityError.invalidHost(authority)
            }
            let rest = Substring(authority)[bytes.index(after: close)...].utf8
            if rest.isEmpty {
                portText = nil
            } else if rest.first == UInt8(ascii: ":") {
                portText = rest.dropFirst()
            } else {
                throw AuthorityError.invalidPort(authority)
            }
        } else {
            if let colon = bytes.lastIndex(of: UInt8(ascii: ":")) {
                host = authority[..<colon]
                portText = Substring(authority)[bytes.index(after: colon)...].utf8
            } else {
                host = Substring(authority)
                portText = nil
            }
            // RFC 3986 §3.2.2: reg-name = *( unreserved / pct-encoded / sub-delims ), so a `%`
            // starts a two-digit escape.
            guard !host.isEmpty, (try? URIReference.validated(ArraySlice(host.utf8), allowed: .regName, .host)) != nil
            else {
                throw AuthorityError.invalidHost(authority)
            }
        }
        let port: Int
        if let portText, !portText.isEmpty {
            guard let value = parsePort(portText) else { throw AuthorityError.invalidPort(authority) }
            port = value
        } else {
            guard let value = defaultPort(forScheme: scheme) else {
                throw AuthorityError.unknownScheme(scheme)
            }
            port = value
        }
        return (String(host), port)
    }

    /// 1–5 decimal digits with a value of at most 65535.
    private static func parsePort(_ text: Substring.UTF8View) -> Int? {
        guard text.count <= 5 else { return nil }
        var value = 0
        for byte in text {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value <= 65535 ? value : nil
    }

    /// `host[:port]` for a `Host` header or `:authority`: an IPv6 address (any host containing `:`)
    /// is put in brackets, and the port is left out when it is `scheme`'s default (always written
    /// when `scheme` is nil or has no default).
    public static func authority(host: String, port: Int, scheme: String?) -> String {
        let needsBrackets =
            host.utf8.contains(UInt8(ascii: ":")) && host.utf8.first != UInt8(ascii: "[")
        let hostPart = needsBrackets ? "[" + host + "]" : host
        if let scheme, defaultPort(forScheme: scheme) == port { return hostPart }
        return hostPart + ":" + String(port)
    }
}
