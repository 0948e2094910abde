// Percent-encoding with JavaScript's semantics (ECMA-262 `encodeURI`, `encodeURIComponent`,
// `decodeURI`, `decodeURIComponent`), as lua-http's `http.util` provides them. Strings are encoded
// as their UTF-8 bytes, escapes use upper-case hex (RFC 3986 §2.1 "should use uppercase").

extension HTTPUtil {
    /// Percent-encodes everything except ALPHA, DIGIT, `-_.!~*'()` and the URI delimiters
    /// `;,/?:@&=+$#`, so a whole URI keeps its structure. Like JavaScript's `encodeURI`.
    public static func encodeURI(_ s: String) -> String {
        percentEncode(s, keeping: .uriUnescaped)
    }

    /// Percent-encodes everything except ALPHA, DIGIT and `-_.!~*'()`, for one component (a query
    /// name or value, a path segment). Like JavaScript's `encodeURIComponent`.
    public static func encodeURIComponent(_ s: String) -> String {
        percentEncode(s, keeping: .componentUnescaped)
    }

    /// `encodeURIComponent` for arbitrary bytes (which need not be UTF-8).
    public static func encodeURIComponent(bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 3)
        appendPercentEncoded(bytes, keeping: .componentUnescaped, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `%XX` escapes except those that stand for a URI delimiter (`#$&+,/:;=?@`), which stay
    /// encoded exactly as written, so decoding cannot change how the URI splits into parts. Like
    /// JavaScript's `decodeURI`. Invalid escapes and invalid UTF-8 are handled as in
    /// `decodeURIComponent`.
    public static func decodeURI(_ s: String) -> String {
        percentDecode(s, keepingEncoded: .uriReserved)
    }

    /// Decodes every `%XX` escape.
    ///
    /// Unlike JavaScript, which throws, malformed input is accepted:
    /// - a `%` not followed by two hex digits is left as it is (`"100%"` → `"100%"`, `"%zz"` →
    ///   `"%zz"`);
    /// - decoded bytes that are not valid UTF-8 become U+FFFD (a Swift `String` holds only valid
    ///   Unicode). Use `percentDecodedBytes(_:)` to get the exact bytes.
    public static func decodeURIComponent(_ s: String) -> String {
        percentDecode(s, keepingEncoded: nil)
    }

    /// The bytes `s` percent-decodes to, with malformed escapes left as they are (see
    /// `decodeURIComponent`). The inverse of `encodeURIComponent(bytes:)`.
    public static func percentDecodedBytes(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        appendPercentDecoded(s.utf8, keepingEncoded: nil, to: &out)
        return out
    }

    // MARK: - Implementation

    static func percentEncode(_ s: String, keeping keep: ByteSet) -> String {
        // Most strings need no escaping: return them without copying.
        let clean = withUTF8Bytes(s) { bytes in
            for byte in bytes where !keep.contains(byte) { return false }
            return true
        }
        if clean { return s }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count * 3)
        appendPercentEncoded(s.utf8, keeping: keep, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendPercentEncoded(
        _ bytes: some Sequence<UInt8>, keeping keep: ByteSet, to out: inout [UInt8]
    ) {
        for byte in bytes {
            if keep.contains(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigit(byte >> 4))
                out.append(hexDigit(byte & 0x0F))
            }
        }
    }

    static func percentDecode(_ s: String, keepingEncoded reserved: ByteSet?) -> String {
        if !s.utf8.contains(UInt8(ascii: "%")) { return s }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        appendPercentDecoded(s.utf8, keepingEncoded: reserved, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the decoded bytes of `input`. Escapes that decode to a byte in `reserved` are copied
    /// through unchanged; a `%` without two hex digits after it is copied as a literal.
    static func appendPercentDecoded<C: Collection<UInt8>>(
        _ input: C, keepingEncoded reserved: ByteSet?, to out: inout [UInt8]
    ) {
        var i = input.startIndex
        while i != input.endIndex {
            let byte = input[i]
            if byte == UInt8(ascii: "%") {
                let h = input.index(after: i)
                if h != input.endIndex, let high = hexValue(input[h]) {
                    let l = input.index(after: h)
                    if l != input.endIndex, let low = hexValue(input[l]) {
                        let decoded = high << 4 | low
                        if let reserved, reserved.contains(decoded) {
                            out.append(byte)
                            out.append(input[h])
                            out.append(input[l])
                        } else {
                            out.append(decoded)
                        }
                        i = input.index(after: l)
                        continue
                    }
                }
            }
            out.append(byte)
            i = input.index(after: i)
        }
    }
}
