// The authority of a URI reference: RFC 3986 §3.2 (userinfo, host, port) and RFC 6874 (IPv6 zone
// identifiers in URIs).

extension URIReference.Authority {
    /// Parses what follows `//` up to the path: `authority = [ userinfo "@" ] host [ ":" port ]`.
    ///
    /// - The userinfo is everything before the last `@` (neither it nor the host may contain `@`,
    ///   so the first offending `@` in the userinfo is reported as an invalid character).
    /// - `IP-literal = "[" ( IPv6address / IPvFuture ) "]"`: IPv6 only, optionally with an RFC 6874
    ///   zone (`[fe80::1%25eth0]`, kept percent-encoded as written); IPvFuture is rejected.
    /// - Otherwise the host runs to the last `:`; it must be reg-name characters (which include
    ///   IPv4 addresses) and may be empty. A `:` left in it is an unbracketed IPv6 address.
    /// - `port = *DIGIT`: empty means absent; the value must be at most 65535.
    init(_ bytes: ArraySlice<UInt8>) throws(URIError) {
        var hostStart = bytes.startIndex
        if let at = bytes.lastIndex(of: UInt8(ascii: "@")) {
            userinfo = try URIReference.validated(bytes[..<at], allowed: .uriUserinfoChar, .userinfo)
            hostStart = at + 1
        } else {
            userinfo = nil
        }
        let hostAndPort = bytes[hostStart...]
        let text = String(decoding: hostAndPort, as: UTF8.self)
        let portText: ArraySlice<UInt8>
        if hostAndPort.first == UInt8(ascii: "[") {
            guard let close = hostAndPort.firstIndex(of: UInt8(ascii: "]")) else {
                throw URIError.invalidHost(text)
            }
            let literal = hostAndPort[(hostStart + 1)..<close]
            guard Self.isIPv6Literal(literal) else { throw URIError.invalidHost(text) }
            host = String(decoding: literal, as: UTF8.self)
            let rest = hostAndPort[(close + 1)...]
            guard rest.isEmpty || rest.first == UInt8(ascii: ":") else { throw URIError.invalidPort(text) }
            portText = rest.dropFirst()
        } else {
            let colon = hostAndPort.lastIndex(of: UInt8(ascii: ":")) ?? hostAndPort.endIndex
            let hostBytes = hostAndPort[..<colon]
            guard !hostBytes.contains(UInt8(ascii: ":")) else { throw URIError.invalidHost(text) }
            host = try URIReference.validated(hostBytes, allowed: .regName, .host)
            portText = hostAndPort[colon...].dropFirst()
        }
        port = try Self.port(portText, in: text)
    }

    /// `IPv6address [ "%25" ZoneID ]`, `ZoneID = 1*( unreserved / pct-encoded )` (RFC 6874 §2).
    static func isIPv6Literal(_ bytes: ArraySlice<UInt8>) -> Bool {
        let percent = bytes.firstIndex(of: UInt8(ascii: "%")) ?? bytes.endIndex
        let address = bytes[..<percent]
        guard address.contains(UInt8(ascii: ":")),
            HTTPUtil.isIPv6(String(decoding: address, as: UTF8.self))
        else { return false }
        if percent == bytes.endIndex { return true }
        let zone = bytes[percent...]
        guard zone.starts(with: "%25".utf8), zone.count > 3 else { return false }
        do {
            _ = try URIReference.validated(zone.dropFirst(3), allowed: .zoneID, .host)
            return true
        } catch {
            return false
        }
    }

    /// Nil for an empty port; 0–65535 in decimal digits (leading zeros allowed, as `*DIGIT` does).
    private static func port(_ digits: ArraySlice<UInt8>, in text: String) throws(URIError) -> Int? {
        if digits.isEmpty { return nil }
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { throw URIError.invalidPort(text) }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            guard value <= 65535 else { throw URIError.invalidPort(text) }
        }
        return value
    }
}
