/// Small HTTP utilities, lua-http's `http.util` with Swift names: percent-encoding (JavaScript's
/// `encodeURI` family), query strings, relative paths, authorities, HTTP dates, quoting, token and
/// field validation, IP address checks, and base64.
///
/// Everything is a static function on this caseless enum, so call sites read
/// `HTTPUtil.splitAuthority(…)`. None of it uses Foundation.
public enum HTTPUtil {}

/// A set of ASCII bytes as a 128-bit mask: membership is two compares and a shift, with no table
/// to load. The masks are written out as literals in computed properties, so they fold into
/// constants at every use (also in other modules, for the @inlinable ones) without a lazy global;
/// the tests check each one against its definition.
@usableFromInline
internal struct ByteSet: Sendable {
    @usableFromInline let low: UInt64
    @usableFromInline let high: UInt64

    @inlinable
    init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    @inlinable @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        if byte < 64 { return low & (1 &<< UInt64(byte)) != 0 }
        if byte < 128 { return high & (1 &<< UInt64(byte &- 64)) != 0 }
        return false
    }

    /// RFC 9110 §5.6.2 tchar: `!#$%&'*+-.^_`|~`, DIGIT, ALPHA.
    @inlinable static var tchar: ByteSet {
        ByteSet(low: 0x03FF_6CFA_0000_0000, high: 0x57FF_FFFF_C7FF_FFFE)
    }
    /// tchar without upper-case letters (field names are lower case in HTTP/2 and here).
    @inlinable static var lowerTchar: ByteSet {
        ByteSet(low: 0x03FF_6CFA_0000_0000, high: 0x57FF_FFFF_C000_0000)
    }
    /// What JavaScript's `encodeURIComponent` leaves alone: ALPHA, DIGIT, `-_.!~*'()`.
    static var componentUnescaped: ByteSet {
        ByteSet(low: 0x03FF_6782_0000_0000, high: 0x47FF_FFFE_87FF_FFFE)
    }
    /// What `encodeURI` leaves alone: the above plus `;,/?:@&=+$#`.
    static var uriUnescaped: ByteSet {
        ByteSet(low: 0xAFFF_FFDA_0000_0000, high: 0x47FF_FFFE_87FF_FFFF)
    }
    /// What `decodeURI` leaves encoded: `#$&+,/:;=?@`.
    static var uriReserved: ByteSet {
        ByteSet(low: 0xAC00_9858_0000_0000, high: 0x0000_0000_0000_0001)
    }
    /// RFC 3986 reg-name characters: unreserved, `%` (of pct-encoded) and sub-delims.
    static var regName: ByteSet { ByteSet(low: 0x2BFF_7FF2_0000_0000, high: 0x47FF_FFFE_87FF_FFFE) }
    /// IPv6 zone identifier characters (RFC 6874 unreserved): ALPHA, DIGIT, `-._~`.
    static var zoneID: ByteSet { ByteSet(low: 0x03FF_6000_0000_0000, high: 0x47FF_FFFE_87FF_FFFE) }
}

extension HTTPUtil {
    /// Calls `body` with the string's UTF-8 bytes, contiguously when the string is native (the
    /// usual case: no copy), else with a copy.
    @inline(__always)
    static func withUTF8Bytes<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = s.utf8.withContiguousStorageIfAvailable(body) { return result }
        return Array(s.utf8).withUnsafeBufferPointer(body)
    }

    /// The value of an ASCII hex digit, or nil.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte &- UInt8(ascii: "A") &+ 10
        default: return nil
        }
    }

    /// Upper-case hex digit for a nibble.
    @inline(__always)
    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "A") &+ (nibble &- 10)
    }
}
