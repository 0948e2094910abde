// Base64 (RFC 4648 §4, the standard alphabet with `=` padding), as HTTP Basic authentication
// (RFC 7617 §2) and the WebSocket handshake (RFC 6455 §4.2.2) use it.

extension HTTPUtil {
    /// The base64 encoding of `bytes`, padded with `=` to a multiple of 4 characters.
    public static func base64Encode(_ bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            let group = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            out.append(base64Digit(group >> 18))
            out.append(base64Digit(group >> 12))
            out.append(second == nil ? UInt8(ascii: "=") : base64Digit(group >> 6))
            out.append(third == nil ? UInt8(ascii: "=") : base64Digit(group))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes that `text` encodes, or nil when it is not canonical padded base64: its length
    /// must be a multiple of 4, it may contain only the alphabet and up to two final `=`, and the
    /// bits that padding leaves over must be zero (RFC 4648 §3.5 lets decoders reject them, so
    /// each byte string has exactly one accepted encoding). Whitespace is not skipped.
    public static func base64Decode(_ text: String) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 * 3)
        var start = 0
        while start < input.count {
            let isLast = start + 4 == input.count
            let padding = isLast ? input[start...].reversed().prefix { $0 == UInt8(ascii: "=") }.count : 0
            guard padding <= 2 else { return nil }
            var group: UInt32 = 0
            for byte in input[start..<(start + 4 - padding)] {
                guard let value = base64Value(byte) else { return nil }
                group = group << 6 | UInt32(value)
            }
            group <<= 6 * UInt32(padding)
            let decoded = [UInt8(group >> 16 & 0xFF), UInt8(group >> 8 & 0xFF), UInt8(group & 0xFF)]
            guard decoded[(3 - padding)...].allSatisfy({ $0 == 0 }) else { return nil }
            out.append(contentsOf: decoded[..<(3 - padding)])
            start += 4
        }
        return out
    }

    /// The alphabet character for the low 6 bits of `sextet`.
    private static func base64Digit(_ sextet: UInt32) -> UInt8 {
        let value = UInt8(sextet & 0x3F)
        switch value {
        case 0..<26: return UInt8(ascii: "A") + value
        case 26..<52: return UInt8(ascii: "a") + value - 26
        case 52..<62: return UInt8(ascii: "0") + value - 52
        case 62: return UInt8(ascii: "+")
        default: return UInt8(ascii: "/")
        }
    }

    /// The value of an alphabet character, or nil.
    private static func base64Value(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
