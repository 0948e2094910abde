// What browsers and curl do with a sloppy `Location`: percent-encode the octets RFC 3986 does not
// allow, rather than refuse the redirect.

extension URI {
    /// `reference` with the octets RFC 3986 never allows outside the authority percent-encoded
    /// (space, `"<>\^`{|}`, `[` and `]`, non-ASCII octets, a `%` that starts no escape, a `#`
    /// inside the fragment), as WHATWG URL parsing does for `Location` values real servers send
    /// (`/search?q=a b`, `?a[]=1`, `/page#a#b`). The scheme and authority are left alone
    /// (`[::1]` stays an IPv6 literal). Nil when there is nothing to repair or when the reference
    /// holds a control octet (CR, LF, NUL, …): those are never guessed at.
    public static func repairingReference(_ reference: String) -> String? {
        let bytes = Array(reference.utf8)
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return nil }
        let start = afterAuthority(bytes)
        var out = Array(bytes[..<start])
        var changed = false
        var inFragment = false
        var i = start
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "%"), isHex(bytes, i + 1), isHex(bytes, i + 2) {
                out.append(contentsOf: bytes[i...i + 2])
                i += 3
                continue
            }
            // RFC 3986 §3.5: the first `#` starts the fragment, which has no `#` of its own.
            let isSecondHash = byte == UInt8(ascii: "#") && inFragment
            if byte == UInt8(ascii: "#") { inFragment = true }
            if needsEscape(byte) || isSecondHash {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigit(byte >> 4))
                out.append(hexDigit(byte & 0xF))
                changed = true
            } else {
                out.append(byte)
            }
            i += 1
        }
        return changed ? String(decoding: out, as: UTF8.self) : nil
    }

    /// Where the path starts: after `scheme://authority` or `//authority`, else at once.
    private static func afterAuthority(_ bytes: [UInt8]) -> Int {
        var i = 0
        // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":".
        if let first = bytes.first, isAlpha(first) {
            var j = 1
            while j < bytes.count, isSchemeChar(bytes[j]) { j += 1 }
            if j < bytes.count, bytes[j] == UInt8(ascii: ":") { i = j + 1 }
        }
        guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "/"), bytes[i + 1] == UInt8(ascii: "/") else { return i }
        i += 2
        while i < bytes.count, ![UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#")].contains(bytes[i]) { i += 1 }
        return i
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        if byte >= 0x80 { return true }
        switch byte {
        case UInt8(ascii: " "), UInt8(ascii: "\""), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\\"),
            UInt8(ascii: "^"), UInt8(ascii: "`"), UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"),
            UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "%"):
            return true
        default:
            return false
        }
    }

    private static func isHex(_ bytes: [UInt8], _ i: Int) -> Bool {
        guard i < bytes.count else { return false }
        let byte = bytes[i] | 0x20
        return (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }

    private static func isAlpha(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
    }

    private static func isSchemeChar(_ byte: UInt8) -> Bool {
        isAlpha(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }
}
