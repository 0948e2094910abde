// RFC 3986 character classes for `URIReference`, as `ByteSet` masks (the tests check each one
// against its definition). `%` is in none of them: percent-encoding is checked separately.

extension ByteSet {
    /// §3.1 scheme characters after the first: ALPHA, DIGIT, `+-.`.
    static var uriSchemeChar: ByteSet { ByteSet(low: 0x03FF_6800_0000_0000, high: 0x07FF_FFFE_07FF_FFFE) }
    /// §3.2.1 userinfo: unreserved, sub-delims, `:`.
    static var uriUserinfoChar: ByteSet { ByteSet(low: 0x2FFF_7FD2_0000_0000, high: 0x47FF_FFFE_87FF_FFFE) }
    /// §3.3 path: pchar (unreserved, sub-delims, `:`, `@`) and `/`.
    static var uriPathChar: ByteSet { ByteSet(low: 0x2FFF_FFD2_0000_0000, high: 0x47FF_FFFE_87FF_FFFF) }
    /// §3.4 query and §3.5 fragment: pchar, `/` and `?`.
    static var uriQueryChar: ByteSet { ByteSet(low: 0xAFFF_FFD2_0000_0000, high: 0x47FF_FFFE_87FF_FFFF) }
    /// Appendix B: a scheme ends at `:`, but only before any of `/?#`.
    static var uriSchemeEnd: ByteSet { ByteSet(low: 0x8400_8008_0000_0000, high: 0) }
    /// Appendix B: an authority ends at `/`, `?` or `#`.
    static var uriAuthorityEnd: ByteSet { ByteSet(low: 0x8000_8008_0000_0000, high: 0) }
    /// Appendix B: a path ends at `?` or `#`.
    static var uriPathEnd: ByteSet { ByteSet(low: 0x8000_0008_0000_0000, high: 0) }
}
