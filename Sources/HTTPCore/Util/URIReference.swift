// Splitting and validating URI references: RFC 3986 §4.1 (URI-reference = URI / relative-ref),
// component by component as §3 defines them. `URI` and `URI.resolve` build on this.

/// The components of a URI reference, validated, still percent-encoded as written.
struct URIReference: Sendable, Equatable {
    /// Lower case; nil for a relative reference.
    var scheme: String?
    /// Present when the reference has `//` (RFC 3986 §3.2).
    var authority: Authority?
    /// Possibly empty.
    var path: String
    var query: String?
    var fragment: String?

    struct Authority: Sendable, Equatable {
        var userinfo: String?
        /// Without brackets for an IP literal; may be empty (RFC 3986 §3.2.2 reg-name).
        var host: String
        /// Nil when absent or empty (`host:`).
        var port: Int?
    }

    /// Parses `text`. With `requiringScheme`, a relative reference is `URIError.missingScheme` and
    /// an empty string `.empty`; without, `""` is the empty relative reference (the base itself).
    ///
    /// Splitting follows RFC 3986 Appendix B: the scheme ends at the first `:` that comes before any
    /// `/`, `?` or `#`; `//` starts an authority that runs to the next `/`, `?` or `#`; the query
    /// starts at the first `?`, the fragment at the first `#`. Each part is then checked against
    /// its grammar, in order, and the first offence is thrown.
    init(parsing text: String, requiringScheme: Bool) throws(URIError) {
        let bytes = Array(text.utf8)
        if bytes.isEmpty && requiringScheme { throw URIError.empty }
        var position = 0

        // §3.1 scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
        let firstDelimiter = bytes.firstIndex { ByteSet.uriSchemeEnd.contains($0) }
        if let colon = firstDelimiter, bytes[colon] == UInt8(ascii: ":") {
            guard colon > 0 else { throw URIError.missingScheme }
            let scheme = bytes[..<colon]
            // §4.2: a relative reference's first segment cannot contain ":", so anything before the
            // first ":" is meant as a scheme.
            guard URIReference.isAlpha(scheme[scheme.startIndex]),
                scheme.allSatisfy({ ByteSet.uriSchemeChar.contains($0) })
            else {
                throw URIError.invalidScheme(String(decoding: scheme, as: UTF8.self))
            }
            self.scheme = String(decoding: scheme, as: UTF8.self).lowercased()
            position = colon + 1
        } else if requiringScheme {
            throw URIError.missingScheme
        } else {
            self.scheme = nil
        }

        // §3.2 authority, after "//", up to the next "/", "?" or "#".
        if bytes.count - position >= 2 && bytes[position] == UInt8(ascii: "/")
            && bytes[position + 1] == UInt8(ascii: "/")
        {
            let start = position + 2
            let end = URIReference.firstIndex(in: bytes, from: start, of: ByteSet.uriAuthorityEnd)
            authority = try Authority(bytes[start..<end])
            position = end
        } else {
            authority = nil
        }

        // §3.3 path, up to "?" or "#".
        let pathEnd = URIReference.firstIndex(in: bytes, from: position, of: ByteSet.uriPathEnd)
        path = try URIReference.validated(bytes[position..<pathEnd], allowed: .uriPathChar, .path)
        position = pathEnd

        // §3.4 query = *( pchar / "/" / "?" ), up to "#".
        if position < bytes.count && bytes[position] == UInt8(ascii: "?") {
            let end = bytes[position...].firstIndex(of: UInt8(ascii: "#")) ?? bytes.count
            query = try URIReference.validated(bytes[(position + 1)..<end], allowed: .uriQueryChar, .query)
            position = end
        } else {
            query = nil
        }

        // §3.5 fragment = *( pchar / "/" / "?" ), to the end.
        if position < bytes.count {
            fragment = try URIReference.validated(bytes[(position + 1)...], allowed: .uriQueryChar, .fragment)
        } else {
            fragment = nil
        }
    }

    init(scheme: String?, authority: Authority?, path: String, query: String?, fragment: String?) {
        self.scheme = scheme
        self.authority = authority
        self.path = path
        self.query = query
        self.fragment = fragment
    }

    // MARK: - Component checks

    static func isAlpha(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
    }

    static func firstIndex(in bytes: [UInt8], from start: Int, of set: ByteSet) -> Int {
        bytes[start...].firstIndex { set.contains($0) } ?? bytes.count
    }

    /// `bytes` as a string when every byte is in `allowed` or starts a valid `%XX` escape (RFC 3986
    /// §2.1 pct-encoded = "%" HEXDIG HEXDIG).
    static func validated(
        _ bytes: ArraySlice<UInt8>, allowed: ByteSet, _ component: URIComponent
    ) throws(URIError) -> String {
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let byte = bytes[i]
            if byte == UInt8(ascii: "%") {
                guard i + 2 < bytes.endIndex, HTTPUtil.hexValue(bytes[i + 1]) != nil,
                    HTTPUtil.hexValue(bytes[i + 2]) != nil
                else { throw URIError.invalidPercentEncoding(in: component) }
                i += 3
            } else {
                guard allowed.contains(byte) else { throw URIError.invalidCharacter(byte, in: component) }
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
