// Tokens, field names and values (RFC 9110 §5.1, §5.5, §5.6.2, §5.6.4) and safe methods (§9.2.1).
//
// The codecs call these for every field they read or write, so they are byte loops over UTF-8
// that allocate nothing, and @inlinable so that the codecs' calls specialize and inline.

extension HTTPUtil {
    /// Whether `s` is a token (RFC 9110 §5.6.2): one or more of ALPHA, DIGIT and
    /// `` !#$%&'*+-.^_`|~ ``. Methods, field names, coding and parameter names are tokens.
    @inlinable
    public static func isToken(_ s: String) -> Bool {
        s.utf8.withContiguousStorageIfAvailable { isToken($0) } ?? isToken(s.utf8)
    }

    /// `isToken` on bytes.
    @inlinable
    public static func isToken(_ bytes: some Collection<UInt8>) -> Bool {
        guard !bytes.isEmpty else { return false }
        for byte in bytes where !ByteSet.tchar.contains(byte) { return false }
        return true
    }

    /// Whether `s` is a valid field name here: a token in lower case (HTTP/2 requires lower case,
    /// RFC 9113 §8.2.1, and `Headers` stores names that way for HTTP/1 too). Pseudo-header names
    /// (`:path`) are not field names and fail.
    @inlinable
    public static func isValidFieldName(_ s: String) -> Bool {
        s.utf8.withContiguousStorageIfAvailable { isValidFieldName($0) } ?? isValidFieldName(s.utf8)
    }

    /// `isValidFieldName` on bytes.
    @inlinable
    public static func isValidFieldName(_ bytes: some Collection<UInt8>) -> Bool {
        guard !bytes.isEmpty else { return false }
        for byte in bytes where !ByteSet.lowerTchar.contains(byte) { return false }
        return true
    }

    /// Whether `s` may be sent or accepted as a field value: it contains no CR, LF or NUL — the
    /// characters RFC 9110 §5.5 calls "invalid and dangerous" and requires recipients to reject
    /// (they would split or truncate the field). Nothing else is required: other control
    /// characters, obs-text and leading or trailing whitespace pass (a parser strips surrounding
    /// whitespace, §5.5). See `isStrictFieldValue` for the full grammar.
    @inlinable
    public static func isValidFieldValue(_ s: String) -> Bool {
        s.utf8.withContiguousStorageIfAvailable { isValidFieldValue($0) } ?? isValidFieldValue(s.utf8)
    }

    /// `isValidFieldValue` on bytes.
    @inlinable
    public static func isValidFieldValue(_ bytes: some Collection<UInt8>) -> Bool {
        for byte in bytes where byte == 0x0D || byte == 0x0A || byte == 0x00 { return false }
        return true
    }

    /// Whether `s` matches RFC 9110 §5.5's `field-value` exactly: visible characters (VCHAR),
    /// obs-text (0x80–0xFF), and spaces and tabs only between them, so no leading or trailing
    /// whitespace and no control character other than HTAB. The empty value matches.
    @inlinable
    public static func isStrictFieldValue(_ s: String) -> Bool {
        s.utf8.withContiguousStorageIfAvailable { isStrictFieldValue($0) } ?? isStrictFieldValue(s.utf8)
    }

    /// `isStrictFieldValue` on bytes.
    @inlinable
    public static func isStrictFieldValue(_ bytes: some Collection<UInt8>) -> Bool {
        var first = true
        var last: UInt8 = 0
        for byte in bytes {
            let whitespace = byte == 0x20 || byte == 0x09
            if first && whitespace { return false }
            if !whitespace && (byte < 0x21 || byte == 0x7F) { return false }
            first = false
            last = byte
        }
        return last != 0x20 && last != 0x09
    }

    /// `s` itself when it is a token, else `s` as a quoted-string (RFC 9110 §5.6.4: in double
    /// quotes, with `"` and `\` escaped by `\`), or nil when `s` contains a byte a quoted-string
    /// cannot carry (a control character other than HTAB, or DEL). For parameter values such as
    /// `charset=…` or `filename=…`.
    public static func maybeQuote(_ s: String) -> String? {
        if isToken(s) { return s }
        let quotable = withUTF8Bytes(s) { bytes in
            for byte in bytes where (byte < 0x20 && byte != 0x09) || byte == 0x7F { return false }
            return true
        }
        guard quotable else { return nil }
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(s.utf8.count + 4)
        for byte in s.utf8 {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `method` is safe (RFC 9110 §9.2.1): GET, HEAD, OPTIONS or TRACE. Methods are case
    /// sensitive (§9.1), so `get` is not.
    public static func isSafeMethod(_ method: String) -> Bool {
        switch method {
        case "GET", "HEAD", "OPTIONS", "TRACE": return true
        default: return false
        }
    }
}
