// One element of an HTTP/1 message at a time (a start line, a field line, a chunk), for callers
// that frame messages themselves: `H1Connection`'s low-level writes (lua-http's
// `write_request_line`, `write_header`, …). Every octet is validated with the same predicates as
// the whole-head writers, so nothing a caller passes can split a line or inject a field; on error
// the buffer is unchanged.

extension HTTP1Serializer {
    /// Writes `method SP request-target SP HTTP-version CRLF` (RFC 9112 §3). The method must be a
    /// token (RFC 9110 §9.1: `M-SEARCH` is fine), the target visible US-ASCII (no SP, CR, LF, NUL).
    public static func writeRequestLine(
        method: String, target: String, version: HTTP1Version, into buffer: inout [UInt8]
    ) throws(HTTP1SerializeError) {
        guard !method.isEmpty, method.utf8.allSatisfy(HTTP1Syntax.isTokenChar) else {
            throw .invalidMethod(method)
        }
        guard !target.isEmpty, target.utf8.allSatisfy(HTTP1Syntax.isTargetChar) else {
            throw .invalidRequestTarget(target)
        }
        reserve(method.utf8.count + target.utf8.count + 12, in: &buffer)
        appendRequestLine(method, target, version, to: &buffer)
    }

    /// Appends a request line whose elements were validated.
    static func appendRequestLine(_ method: String, _ target: String, _ version: HTTP1Version, to buffer: inout [UInt8])
    {
        buffer.append(contentsOf: method.utf8)
        buffer.append(HTTP1Syntax.sp)
        buffer.append(contentsOf: target.utf8)
        buffer.append(HTTP1Syntax.sp)
        appendVersion(version, to: &buffer)
        appendCRLF(to: &buffer)
    }

    /// Writes `HTTP-version SP status-code SP reason-phrase CRLF` (RFC 9112 §4). The status must be
    /// three digits (100...999); the reason may be empty (the SP before it is still written) and may
    /// hold HTAB, SP, VCHAR and obs-text only.
    public static func writeStatusLine(
        version: HTTP1Version, status: Int, reason: String, into buffer: inout [UInt8]
    ) throws(HTTP1SerializeError) {
        guard (100...999).contains(status) else { throw .invalidStatus(String(status)) }
        guard reason.utf8.allSatisfy(HTTP1Syntax.isReasonChar) else { throw .invalidReasonPhrase(reason) }
        reserve(8 + 5 + reason.utf8.count + 2, in: &buffer)
        appendVersion(version, to: &buffer)
        buffer.append(HTTP1Syntax.sp)
        buffer.append(contentsOf: String(status).utf8)
        buffer.append(HTTP1Syntax.sp)
        buffer.append(contentsOf: reason.utf8)
        appendCRLF(to: &buffer)
    }

    /// Writes one field line, `name: value CRLF` (RFC 9112 §5). The name must be a token (RFC 9110
    /// §5.1; its case is kept); the value may not hold CR, LF, NUL or another CTL but HTAB (RFC 9110
    /// §5.5), so it cannot be folded either (RFC 9112 §5.2: "A sender MUST NOT generate a message
    /// that includes line folding").
    public static func writeField(name: String, value: String, into buffer: inout [UInt8])
        throws(HTTP1SerializeError)
    {
        let size = try validatedFieldSize(Headers.Field(name: name, value: value, neverIndex: false))
        reserve(size, in: &buffer)
        buffer.append(contentsOf: name.utf8)
        buffer.append(HTTP1Syntax.colon)
        buffer.append(HTTP1Syntax.sp)
        buffer.append(contentsOf: value.utf8)
        appendCRLF(to: &buffer)
    }

    /// Writes the empty line that ends a header or trailer section.
    public static func writeEndOfSection(into buffer: inout [UInt8]) {
        appendCRLF(to: &buffer)
    }

    /// Writes one chunk with chunk extensions: `chunk-size chunk-ext CRLF chunk-data CRLF` (RFC 9112
    /// §7.1). `extensions` is written as given, right after the size (`;name=value;other`), and
    /// must follow the chunk-ext grammar (checked by the parser's own chunk-line scanner). Writes
    /// nothing for empty data, because a zero-size chunk would end the body.
    public static func writeChunk(
        _ data: UnsafeRawBufferPointer, extensions: String, into buffer: inout [UInt8]
    ) throws(HTTP1SerializeError) {
        try checkChunkExtensions(extensions)
        guard !data.isEmpty else { return }
        reserve(16 + extensions.utf8.count + 2 + data.count + 2, in: &buffer)
        appendHex(UInt64(data.count), to: &buffer)
        buffer.append(contentsOf: extensions.utf8)
        appendCRLF(to: &buffer)
        buffer.append(contentsOf: data)
        appendCRLF(to: &buffer)
    }

    /// Writes the last chunk's line, `0 chunk-ext CRLF`, and nothing else: the trailer fields
    /// (`writeField`) and the empty line (`writeEndOfSection`) follow.
    public static func writeLastChunkLine(extensions: String, into buffer: inout [UInt8])
        throws(HTTP1SerializeError)
    {
        try checkChunkExtensions(extensions)
        buffer.append(UInt8(ascii: "0"))
        buffer.append(contentsOf: extensions.utf8)
        appendCRLF(to: &buffer)
    }

    /// Checks `extensions` by scanning the line `1<extensions>CRLF` as a recipient would.
    private static func checkChunkExtensions(_ extensions: String) throws(HTTP1SerializeError) {
        guard !extensions.isEmpty else { return }
        let line = [UInt8(ascii: "1")] + Array(extensions.utf8) + [HTTP1Syntax.cr, HTTP1Syntax.lf]
        let valid = line.withUnsafeBytes { bytes in
            var scanner = HTTP1ChunkLineScanner()
            var position = 0
            guard case .complete = scanner.scan(bytes, &position, extensionLimit: .max) else { return false }
            return position == bytes.count
        }
        guard valid else { throw .invalidChunkExtension(extensions) }
    }
}
