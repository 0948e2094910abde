/// Byte classes of the HTTP/1 grammar (RFC 9110 §5.6, RFC 9112), as branch-light predicates on a
/// single octet. Internal to the codec; named so it cannot collide with the `Headers` helpers that
/// live elsewhere in the module.
enum HTTP1Syntax {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let sp: UInt8 = 0x20
    static let htab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let comma: UInt8 = 0x2C
    static let equals: UInt8 = 0x3D
    static let dquote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C

    // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
    //       / DIGIT / ALPHA                                                      (RFC 9110 §5.6.2)
    // As two 64-bit masks: bit n of `tcharLow` is octet n (0–63), bit n of `tcharHigh` is octet 64+n.
    // The test suite checks these masks against the grammar for all 256 octets.
    private static let tcharLow: UInt64 = 0x03FF_6CFA_0000_0000
    private static let tcharHigh: UInt64 = 0x57FF_FFFF_C7FF_FFFE

    /// `tchar`: an octet allowed in a token (method, field name, transfer coding, chunk extension).
    @inline(__always)
    static func isTokenChar(_ byte: UInt8) -> Bool {
        if byte < 64 { return (tcharLow >> UInt64(byte)) & 1 == 1 }
        if byte < 128 { return (tcharHigh >> UInt64(byte &- 64)) & 1 == 1 }
        return false
    }

    /// A byte allowed inside a field value: `field-vchar` (VCHAR / obs-text), SP or HTAB.
    /// Every other CTL (NUL, CR, LF, …) and DEL is excluded (RFC 9110 §5.5).
    @inline(__always)
    static func isFieldValueChar(_ byte: UInt8) -> Bool {
        (byte >= 0x20 && byte != 0x7F) || byte == htab
    }

    /// A byte allowed in a request-target: visible US-ASCII (0x21–0x7E). See `HTTP1Parser` for why
    /// this is wider than the URI grammar.
    @inline(__always)
    static func isTargetChar(_ byte: UInt8) -> Bool {
        byte &- 0x21 < 0x5E  // 0x21...0x7E
    }

    /// `reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )` (RFC 9112 §4).
    @inline(__always)
    static func isReasonChar(_ byte: UInt8) -> Bool { isFieldValueChar(byte) }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

    /// The value of a hexadecimal digit, or nil.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte &- 0x30
        case 0x41...0x46: return byte &- 0x41 &+ 10
        case 0x61...0x66: return byte &- 0x61 &+ 10
        default: return nil
        }
    }

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool { byte == sp || byte == htab }

    /// ASCII lower-casing of one octet.
    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }

    /// `qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text` (RFC 9110 §5.6.4).
    @inline(__always)
    static func isQuotedTextChar(_ byte: UInt8) -> Bool {
        isFieldValueChar(byte) && byte != dquote && byte != backslash
    }

    /// Octets allowed in a Host field value: the characters of `uri-host [ ":" port ]` (RFC 3986
    /// §3.2.2: unreserved, pct-encoded, sub-delims, and ":" "[" "]" for ports and IP literals). This
    /// is a character check, not a structural parse.
    @inline(__always)
    static func isHostChar(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true  // DIGIT ALPHA
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): return true
        case UInt8(ascii: "%"), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"): return true
        case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "("),
            UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
            UInt8(ascii: "="):
            return true
        default: return false
        }
    }

    // MARK: Word-at-a-time scanning (SWAR)
    //
    // The hot loops walk field values and request-targets. Eight octets are tested at once with the
    // classic "has a byte less than n" bit trick: for a 64-bit word w and n <= 128,
    // (w - n*0x01…01) & ~w & 0x80…80 has the high bit of byte k set if byte k is below n. A borrow
    // can also flag a byte above one that really is below n, never one below it, so the lowest
    // flagged byte (trailing zero bits / 8, the word being loaded little-endian) is exactly the
    // first octet of interest, and the loops jump straight to it.

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of each byte of `word` below `n` (and maybe of bytes above the first one).
    @inline(__always)
    private static func bytesBelow(_ word: UInt64, _ n: UInt8) -> UInt64 {
        (word &- ones &* UInt64(n)) & ~word & highs
    }

    /// The high bit of each byte of `word` equal to `value` (and maybe of bytes above the first).
    @inline(__always)
    private static func bytesEqual(_ word: UInt64, _ value: UInt8) -> UInt64 {
        let x = word ^ (ones &* UInt64(value))
        return (x &- ones) & ~x & highs
    }

    /// The offset within the word of the lowest flagged byte of a non-zero mask.
    @inline(__always)
    private static func firstFlagged(_ mask: UInt64) -> Int { mask.trailingZeroBitCount &>> 3 }

    /// The high bit of each byte of `word` (all below 0x80) in `low...high`: exact per byte,
    /// because no sum leaves its byte.
    @inline(__always)
    private static func bytesIn(_ word: UInt64, _ low: UInt8, _ high: UInt8) -> UInt64 {
        (word &+ ones &* UInt64(0x80 &- low)) & ~(word &+ ones &* UInt64(0x7F &- high)) & highs
    }

    /// The first offset in `from..<to` whose octet is not `isTokenChar`, or `to`. The usual token
    /// octets (letters of either case, digits, `-`) are classified eight at a time; the scan jumps
    /// to the first octet of a word that is not one of them, and any rarer `tchar` from there on
    /// goes through the octet test.
    @inline(__always)
    static func skipTokenChars(_ input: UnsafeRawBufferPointer, from: Int, to: Int) -> Int {
        var i = skipCommonTokenWords(input, from: from, to: to)
        while i < to, isTokenChar(input[i]) { i &+= 1 }
        return i
    }

    /// `skipTokenChars` for a token that usually ends at `delimiter` (not a `tchar`): that octet,
    /// found by the word scan, needs no octet test.
    @inline(__always)
    static func skipTokenChars(_ input: UnsafeRawBufferPointer, from: Int, to: Int, endingAt delimiter: UInt8)
        -> Int
    {
        let i = skipCommonTokenWords(input, from: from, to: to)
        if i < to && input[i] == delimiter { return i }
        return skipTokenChars(input, from: i, to: to)
    }

    /// Skips whole words of letters, digits and `-` from `from`, then the first octets of the next
    /// word that are; returns where that stopped (at most `to`, maybe before a rarer `tchar`).
    @inline(__always)
    private static func skipCommonTokenWords(_ input: UnsafeRawBufferPointer, from: Int, to: Int) -> Int {
        var i = from
        while i &+ 8 <= to {
            let word = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            // Octets below the first one of 0x80 or above are classified exactly (no sum carries
            // out of an ASCII octet); that octet itself is flagged by its own high bit.
            let x = word ^ (ones &* 0x2D)  // "-": a zero byte of x, found exactly
            let hyphens = ~(((x & ~highs) &+ ones &* 0x7F) | x) & highs
            let common = bytesIn(word | ones &* 0x20, 0x61, 0x7A) | bytesIn(word, 0x30, 0x39) | hyphens
            let other = (~common | word) & highs
            if other != 0 { return i &+ firstFlagged(other) }
            i &+= 8
        }
        return i
    }

    /// The first offset in `from..<to` whose octet is not `isFieldValueChar`, or `to`.
    @inline(__always)
    static func skipFieldValueChars(_ input: UnsafeRawBufferPointer, from: Int, to: Int) -> Int {
        var i = from
        while i &+ 8 <= to {
            let word = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let mask = bytesBelow(word, 0x20) | bytesEqual(word, 0x7F)  // CTLs (incl. HTAB) and DEL
            if mask == 0 {
                i &+= 8
                continue
            }
            i &+= firstFlagged(mask)
            guard input[i] == htab else { return i }
            i &+= 1
        }
        while i < to, isFieldValueChar(input[i]) { i &+= 1 }
        return i
    }

    /// The first offset in `from..<to` whose octet is not `isTargetChar`, or `to`.
    @inline(__always)
    static func skipTargetChars(_ input: UnsafeRawBufferPointer, from: Int, to: Int) -> Int {
        var i = from
        while i &+ 8 <= to {
            let word = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            // SP and CTLs; DEL and obs-text (0x7F...0xFF: the high bit of (b & 0x7F) + 1, or of b;
            // exact per byte, no carry crosses bytes).
            let mask = bytesBelow(word, 0x21) | (((word & ~highs) &+ ones | word) & highs)
            if mask != 0 { return i &+ firstFlagged(mask) }
            i &+= 8
        }
        while i < to, isTargetChar(input[i]) { i &+= 1 }
        return i
    }

    /// The first offset in `from..<to` holding `byte` (an ASCII octet), or `to`.
    @inline(__always)
    static func firstIndex(of byte: UInt8, in input: UnsafeRawBufferPointer, from: Int, to: Int)
        -> Int
    {
        var i = from
        while i &+ 8 <= to {
            let word = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let mask = bytesEqual(word, byte)
            if mask != 0 { return i &+ firstFlagged(mask) }
            i &+= 8
        }
        while i < to, input[i] != byte { i &+= 1 }
        return i
    }

    /// Whether `bytes` equals the lower-case ASCII `name`, ignoring ASCII case in `bytes`.
    @inline(__always)
    static func equalsLowercased(_ bytes: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
        guard bytes.count == name.utf8CodeUnitCount else { return false }
        // `name` is lower-case ASCII: an octet of 0x80 or above never equals one of its octets.
        return sameOctets(UnsafeRawBufferPointer(start: name.utf8Start, count: bytes.count), bytes, lowercasing: true)
    }

    /// Whether the UTF-8 of `string` is exactly `bytes` (a String made from `bytes` would then be
    /// equal to it, octet for octet).
    @inline(__always)
    static func spells(_ string: String, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let utf8 = string.utf8
        guard utf8.count == bytes.count else { return false }
        return utf8.withContiguousStorageIfAvailable {
            sameOctets(UnsafeRawBufferPointer($0), bytes, lowercasing: false)
        }
            ?? false
    }

    /// Whether `bytes` (a token), ASCII-lower-cased, is exactly the UTF-8 of `string`.
    @inline(__always)
    static func spellsLowercased(_ string: String, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let utf8 = string.utf8
        guard utf8.count == bytes.count else { return false }
        return utf8.withContiguousStorageIfAvailable {
            sameOctets(UnsafeRawBufferPointer($0), bytes, lowercasing: true)
        }
            ?? false
    }

    /// Whether `expected` and `bytes` (of the same length) hold the same octets, eight at a time;
    /// with `lowercasing`, after lower-casing the ASCII letters of `bytes`.
    @inline(__always)
    private static func sameOctets(
        _ expected: UnsafeRawBufferPointer, _ bytes: UnsafeRawBufferPointer, lowercasing: Bool
    )
        -> Bool
    {
        @inline(__always) func same(_ word: UInt64, _ other: UInt64) -> Bool {
            guard lowercasing else { return word == other }
            // Upper-case letters gain 0x20 (their flag bit, 0x80, shifted down); octets of 0x80
            // and above never match a lower-case token.
            return word & highs == 0 && word | bytesIn(word, 0x41, 0x5A) &>> 2 == other
        }
        let count = bytes.count
        guard count >= 8 else {
            // Fewer than eight: one word each, made of two overlapping loads (the same octets
            // of both sides land in the same places, so equal words mean equal octets).
            return count == 0 || same(partialWord(bytes, count), partialWord(expected, count))
        }
        var i = 0
        while i &+ 8 < count {
            guard same(word(bytes, i), word(expected, i)) else { return false }
            i &+= 8
        }
        // The last eight octets, overlapping what was compared already.
        return same(word(bytes, count &- 8), word(expected, count &- 8))
    }

    @inline(__always)
    private static func word(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
    }

    /// The `count` (1 to 7) octets of `bytes` in one word: the first and the last four (or two,
    /// or the one octet), overlapping.
    @inline(__always)
    private static func partialWord(_ bytes: UnsafeRawBufferPointer, _ count: Int) -> UInt64 {
        if count >= 4 {
            let low = bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
            let high = bytes.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)
            return UInt64(low) | UInt64(high) &<< 32
        }
        if count >= 2 {
            let low = bytes.loadUnaligned(fromByteOffset: 0, as: UInt16.self)
            let high = bytes.loadUnaligned(fromByteOffset: count &- 2, as: UInt16.self)
            return UInt64(low) | UInt64(high) &<< 16
        }
        return UInt64(bytes[0])
    }

    /// The bytes with leading and trailing SP/HTAB removed.
    @inline(__always)
    static func trimmingWhitespace(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        var end = bytes.count
        while start < end, isWhitespace(bytes[start]) { start += 1 }
        while end > start, isWhitespace(bytes[end - 1]) { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// A String made once from bytes: UTF-8, with invalid sequences (e.g. Latin-1 obs-text) replaced
    /// by U+FFFD.
    @inline(__always)
    static func string(_ bytes: UnsafeRawBufferPointer) -> String {
        // Unlike `String(decoding:as:)`, this skips validation for a short ASCII string (the
        // common case: paths, hosts, most values); longer or non-ASCII input is validated and
        // repaired the same way.
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return "" }
        return String(unsafeUninitializedCapacity: bytes.count) { buffer in
            UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: base, byteCount: bytes.count)
            return bytes.count
        }
    }

    /// A String made once from bytes, ASCII-lower-cased on the way in (field names are tokens, so
    /// ASCII only).
    @inline(__always)
    static func lowercasedString(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { buffer in
            for index in 0..<bytes.count { buffer[index] = lower(bytes[index]) }
            return bytes.count
        }
    }

    /// A short printable rendering of peer bytes for error messages (at most `limit` bytes; CTLs
    /// and non-ASCII shown as `\xNN`).
    static func excerpt(_ bytes: UnsafeRawBufferPointer, limit: Int = 64) -> String {
        var out = ""
        for byte in bytes.prefix(limit) {
            if byte >= 0x20 && byte < 0x7F && byte != backslash && byte != dquote {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        if bytes.count > limit { out += "…" }
        return out
    }
}
