/// Validates a chunk-size line (`chunk-size [ chunk-ext ] CRLF`, RFC 9112 §7.1) octet by octet,
/// resuming where the previous call stopped. Used by `HTTP1Parser` for chunked bodies, by
/// `HTTP1LineReader` for `H1Connection.readBodyChunk`, and by the serializer to check the chunk
/// extensions it is asked to write.
///
/// `chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF`, `chunk-size = 1*HEXDIG`,
/// `chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )` (RFC 9112 §7.1).
/// Extensions are validated and skipped ("A recipient MUST ignore unrecognized chunk
/// extensions", §7.1.1), within `maxChunkExtensionLength`. The size may have up to 16 hex digits
/// (leading zeros included), so it always fits in a UInt64 — RFC 9112 §7.1: "Recipients MUST
/// anticipate potentially large hexadecimal numerals and prevent parsing errors due to integer
/// conversion overflows". (lua-http allows 8 digits, which caps chunks at 4 GiB.)
struct HTTP1ChunkLineScanner: Sendable {
    enum Phase: UInt8, Sendable {
        case size, sizeWhitespace, extensionStart, extensionName, afterExtensionName, valueStart
        case tokenValue, quotedValue, quotedPair, afterValue, lineFeed
    }

    enum Outcome {
        case needMore
        /// The line is complete (the position is just past its LF); `size` holds the chunk size.
        case complete
        case failed(HTTP1ParseError)
    }

    private var phase: Phase = .size
    /// How many hex digits the size has (the extensions start right after them).
    private(set) var digits = 0
    /// The chunk size, once the line is complete.
    private(set) var size: UInt64 = 0
    private var extensionLength = 0

    /// Consumes the octets of a chunk-size line from `input[position...]`, advancing `position`.
    mutating func scan(_ input: UnsafeRawBufferPointer, _ position: inout Int, extensionLimit: Int) -> Outcome {
        while position < input.count {
            let byte = input[position]
            position += 1
            if phase != .size && phase != .lineFeed && byte != HTTP1Syntax.cr {
                extensionLength += 1
                if extensionLength > extensionLimit {
                    return .failed(.chunkExtensionTooLong(limit: extensionLimit))
                }
            }
            switch phase {
            case .size:
                if let digit = HTTP1Syntax.hexValue(byte) {
                    digits += 1
                    if digits > 16 { return .failed(.chunkSizeTooLarge) }
                    size = size << 4 | UInt64(digit)
                    continue
                }
                guard digits > 0 else { return .failed(.invalidChunkSize) }
                switch byte {
                case HTTP1Syntax.cr: phase = .lineFeed
                case HTTP1Syntax.semicolon, HTTP1Syntax.sp, HTTP1Syntax.htab:
                    phase = byte == HTTP1Syntax.semicolon ? .extensionStart : .sizeWhitespace
                    extensionLength = 1
                    if extensionLimit < 1 { return .failed(.chunkExtensionTooLong(limit: extensionLimit)) }
                case HTTP1Syntax.lf: return .failed(.bareLF)
                default: return .failed(.invalidChunkSize)
                }
            case .sizeWhitespace:
                // BWS is only allowed before a ";" (so "5 \r\n" and "5 abc" are invalid sizes).
                if byte == HTTP1Syntax.semicolon {
                    phase = .extensionStart
                } else if !HTTP1Syntax.isWhitespace(byte) {
                    return .failed(.invalidChunkSize)
                }
            case .extensionStart:
                if HTTP1Syntax.isTokenChar(byte) {
                    phase = .extensionName
                } else if !HTTP1Syntax.isWhitespace(byte) {
                    return .failed(.invalidChunkExtension)
                }
            case .extensionName, .afterExtensionName:
                if phase == .extensionName && HTTP1Syntax.isTokenChar(byte) { continue }
                switch byte {
                case HTTP1Syntax.sp, HTTP1Syntax.htab: phase = .afterExtensionName
                case HTTP1Syntax.equals: phase = .valueStart
                case HTTP1Syntax.semicolon: phase = .extensionStart
                case HTTP1Syntax.cr: phase = .lineFeed
                case HTTP1Syntax.lf: return .failed(.bareLF)
                default: return .failed(.invalidChunkExtension)
                }
            case .valueStart:
                if byte == HTTP1Syntax.dquote {
                    phase = .quotedValue
                } else if HTTP1Syntax.isTokenChar(byte) {
                    phase = .tokenValue
                } else if !HTTP1Syntax.isWhitespace(byte) {
                    return .failed(.invalidChunkExtension)
                }
            case .tokenValue, .afterValue:
                if phase == .tokenValue && HTTP1Syntax.isTokenChar(byte) { continue }
                switch byte {
                case HTTP1Syntax.sp, HTTP1Syntax.htab: phase = .afterValue
                case HTTP1Syntax.semicolon: phase = .extensionStart
                case HTTP1Syntax.cr: phase = .lineFeed
                case HTTP1Syntax.lf: return .failed(.bareLF)
                default: return .failed(.invalidChunkExtension)
                }
            case .quotedValue:
                if byte == HTTP1Syntax.dquote {
                    phase = .afterValue
                } else if byte == HTTP1Syntax.backslash {
                    phase = .quotedPair
                } else if !HTTP1Syntax.isQuotedTextChar(byte) {
                    return .failed(.invalidChunkExtension)
                }
            case .quotedPair:
                // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                guard HTTP1Syntax.isFieldValueChar(byte) else { return .failed(.invalidChunkExtension) }
                phase = .quotedValue
            case .lineFeed:
                guard byte == HTTP1Syntax.lf else { return .failed(.bareCR) }
                return .complete
            }
        }
        return .needMore
    }
}
