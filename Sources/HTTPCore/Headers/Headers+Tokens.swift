extension Headers {
    /// Whether any `name` field holds `token` as an element of its comma-separated list (RFC 9110
    /// §5.6.1), compared case-insensitively and ignoring parameters (`gzip;q=1` holds `gzip`):
    /// `connection: keep-alive, Close` holds `close`; `te: trailers, gzip;q=0.5` holds `gzip`.
    public func hasToken(_ name: String, _ token: String) -> Bool {
        for field in fields where Headers.sameName(field.name, name) {
            for element in field.value.utf8.split(separator: UInt8(ascii: ",")) {
                var item = element.prefix { $0 != UInt8(ascii: ";") }[...]
                while let first = item.first, first == 0x20 || first == 0x09 { item = item.dropFirst() }
                while let last = item.last, last == 0x20 || last == 0x09 { item = item.dropLast() }
                if item.count == token.utf8.count
                    && zip(item, token.utf8).allSatisfy({ lowerASCII($0) == lowerASCII($1) })
                {
                    return true
                }
            }
        }
        return false
    }
}

extension Headers {
    /// These headers without the `token` element of each `name` field, found as `hasToken` finds
    /// it (in any case, with or without parameters): the other elements stay, in order and
    /// trimmed of the whitespace around them, and a field left with none goes. The client drops
    /// the `100-continue` expectation with it, from a request without content (RFC 9110
    /// §10.1.1) and from the repeat after a 417.
    public func removingToken(_ token: String, from name: String) -> Headers {
        var kept = Headers(capacity: count)
        for field in fields {
            guard Headers.sameName(field.name, name) else {
                kept.append(field.name, field.value, neverIndex: field.neverIndex)
                continue
            }
            var others: [Substring] = []
            for element in field.value.split(separator: ",") {
                let trimmed = element.trimmingWhitespace()
                guard !trimmed.isEmpty else { continue }
                // Compared as `hasToken` compares: ASCII case only (a Unicode lower-casing could
                // make a non-ASCII element equal to the token).
                let elementToken = trimmed.prefix { $0 != ";" }.trimmingWhitespace().utf8
                let isToken =
                    elementToken.count == token.utf8.count
                    && zip(elementToken, token.utf8).allSatisfy { lowerASCII($0) == lowerASCII($1) }
                if !isToken { others.append(trimmed) }
            }
            if !others.isEmpty { kept.append(field.name, others.joined(separator: ", "), neverIndex: field.neverIndex) }
        }
        return kept
    }
}

extension Headers {
    /// Whether the `name` field (`te`, `accept-encoding`) accepts `coding`: listed with a weight
    /// above zero (RFC 9110 §12.4.2: "a value of 0 means not acceptable"), e.g. `gzip` or
    /// `gzip;q=0.5`, but not `gzip;q=0`. A weight that is not a `qvalue` (`q=abc`, `q=nan`,
    /// `q=2`) makes the element invalid, so it accepts nothing: a coding the client may not
    /// handle is never chosen on a misread.
    public func acceptsCoding(_ coding: String, in name: String) -> Bool {
        for field in fields where Headers.sameName(field.name, name) {
            for element in field.value.split(separator: ",") {
                let parts = element.split(separator: ";")
                guard let token = parts.first,
                    token.trimmingWhitespace().lowercased() == coding
                else { continue }
                let weight = parts.dropFirst().lazy.map { $0.trimmingWhitespace() }
                    .first { $0.lowercased().hasPrefix("q=") }
                guard let weight else { return true }
                guard let thousandths = Self.qvalue(weight.dropFirst(2)) else { return false }
                return thousandths > 0
            }
        }
        return false
    }

    /// RFC 9110 §12.4.2: `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in
    /// thousandths; nil for anything else.
    static func qvalue(_ text: Substring) -> Int? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return nil }
        var thousandths = first == UInt8(ascii: "1") ? 1000 : 0
        guard bytes.count > 1 else { return thousandths }
        guard bytes[1] == UInt8(ascii: "."), bytes.count <= 5 else { return nil }
        var scale = 100
        for digit in bytes[2...] {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            if first == UInt8(ascii: "1") && digit != UInt8(ascii: "0") { return nil }
            thousandths += Int(digit - UInt8(ascii: "0")) * scale
            scale /= 10
        }
        return thousandths
    }
}

extension Substring {
    /// Without leading and trailing SP and HTAB (RFC 9110 §5.6.3's OWS).
    func trimmingWhitespace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}

@inline(__always)
private func lowerASCII(_ byte: UInt8) -> UInt8 {
    byte &- 0x41 < 26 ? byte | 0x20 : byte
}
