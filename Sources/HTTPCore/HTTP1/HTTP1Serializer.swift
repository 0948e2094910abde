/// Why the serializer refused to write a head. Nothing is written when it throws.
public enum HTTP1SerializeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A required pseudo-header is missing (`:method`, `:path`, `:status`, or `:authority` / a Host
    /// field for an HTTP/1.1 request or a CONNECT).
    case missingPseudoHeader(String)
    /// A pseudo-header that has no place in this head (`:status` in a request, `:path` in a CONNECT,
    /// any pseudo-header in trailers, an unknown one).
    case unexpectedPseudoHeader(String)
    /// Both `:authority` and a Host field.
    case conflictingHost
    /// The method is empty or not a token.
    case invalidMethod(String)
    /// The request-target is empty or has a byte outside visible US-ASCII (CR, LF, NUL, SP …).
    case invalidRequestTarget(String)
    /// The authority has a byte that cannot appear in `uri-host [ ":" port ]`.
    case invalidAuthority(String)
    /// `:status` is not three digits from 100 to 999.
    case invalidStatus(String)
    /// The reason phrase has a CR, LF, NUL or another CTL.
    case invalidReasonPhrase(String)
    /// A field name that is empty or not a token (CR, LF, NUL, SP, colon …).
    case invalidFieldName(String)
    /// A field value with CR, LF, NUL or another CTL (obs-fold is not generated: RFC 9112 §5.2 "A
    /// sender MUST NOT generate a message that includes line folding").
    case invalidFieldValue(name: String)
    /// Chunk extensions that do not follow `*( BWS ";" BWS name [ BWS "=" BWS value ] )` (RFC 9112
    /// §7.1.1).
    case invalidChunkExtension(String)
    /// A field that cannot be a trailer (RFC 9110 §6.5.1): one that frames the message, routes it,
    /// is connection-specific, authenticates, modifies the request or says how to process the
    /// content (`content-length`, `host`, `connection`, `authorization`, `content-type`, `if-*` …).
    case forbiddenTrailer(String)

    public var description: String {
        switch self {
        case .missingPseudoHeader(let name): return "missing \(name) (required in this HTTP/1 head)"
        case .unexpectedPseudoHeader(let name):
            return "pseudo-header \(name) cannot be written in this HTTP/1 head"
        case .conflictingHost: return "both :authority and a host field"
        case .invalidMethod(let method): return "invalid method: \"\(Self.escaped(method))\""
        case .invalidRequestTarget(let target):
            return "invalid request-target: \"\(Self.escaped(target))\""
        case .invalidAuthority(let authority):
            return "invalid authority: \"\(Self.escaped(authority))\""
        case .invalidStatus(let status):
            return "invalid :status \"\(Self.escaped(status))\" (must be 100...999)"
        case .invalidReasonPhrase(let reason):
            return "invalid reason phrase: \"\(Self.escaped(reason))\""
        case .invalidFieldName(let name):
            return "invalid field name: \"\(Self.escaped(name))\" (a token, in lower case)"
        case .invalidFieldValue(let name):
            return "invalid character (CR, LF, NUL or CTL) in the value of \"\(Self.escaped(name))\""
        case .invalidChunkExtension(let extensions):
            return "invalid chunk extension: \"\(Self.escaped(extensions))\""
        case .forbiddenTrailer(let name):
            return "\(Self.escaped(name)) cannot be sent in trailers (RFC 9110 §6.5.1: it frames, routes, "
                + "authenticates or controls the message, or says how to process its content)"
        }
    }

    /// The string with control characters shown as `\r`, `\n`, `\0` or `\u{XX}`.
    static func escaped(_ string: String) -> String {
        var out = ""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\r": out += "\\r"
            case "\n": out += "\\n"
            case "\0": out += "\\0"
            case "\"": out += "\\\""
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

/// Writes HTTP/1 heads and chunk framing into a caller's byte buffer. No I/O, no framing policy:
/// the connection layer decides on Content-Length, chunked or close and puts those fields in the
/// headers; the serializer writes what it is given after validating every octet, so peer-visible
/// injection (CR, LF, NUL in any element, a name that is not a token) is impossible. On error it
/// throws and the buffer is unchanged.
public enum HTTP1Serializer {
    /// Writes a request head: the request line from `:method` and `:path` (for CONNECT, the target is
    /// `:authority`), then `host` from `:authority` as the first field (RFC 9110 §7.2: a user agent
    /// "SHOULD generate Host as the first field line"), then the regular fields in order, then the
    /// empty line. `:scheme` is not written (HTTP/1 origin-form has none). An HTTP/1.1 request needs
    /// `:authority` or a `host` field (RFC 9112 §3.2). Field names must be lower case, as in a
    /// response head: the framing checks (`H1OutboundMessage`) compare them so.
    public static func writeRequestHead(
        _ headers: Headers, version: HTTP1Version = .http11, appending additional: [Headers.Field] = [],
        into buffer: inout [UInt8]
    ) throws(HTTP1SerializeError) {
        var method: String?
        var path: String?
        var authority: String?
        var size = 0
        var hasHostField = false
        for field in headers.storage {
            if isPseudo(field.name) {
                // One of each, as in HTTP/2 (RFC 9113 §8.3): the connection frames the request,
                // and reads its response, by the first `:method` (a second one in the line, say
                // HEAD after GET, would leave the response read with a body it does not have).
                switch field.name {
                case ":method" where method == nil: method = field.value
                case ":path" where path == nil: path = field.value
                case ":authority" where authority == nil: authority = field.value
                case ":scheme": break
                default: throw .unexpectedPseudoHeader(field.name)
                }
                continue
            }
            // A `Content-Length` or `Transfer-Encoding` would go out unnoticed beside the framing
            // the connection adds (`transfer-encoding: chunked`, `content-length: 0`).
            guard HTTP1Syntax.withUTF8(field.name, HTTP1Syntax.isLowercaseToken) else {
                throw .invalidFieldName(field.name)
            }
            size += try validatedFieldSize(field)
            if isHost(field.name) { hasHostField = true }
        }
        guard let method else { throw .missingPseudoHeader(":method") }
        guard HTTP1Syntax.withUTF8(method, { !$0.isEmpty && HTTP1Syntax.allTokenChars($0) }) else {
            throw .invalidMethod(method)
        }
        if let authority {
            if hasHostField { throw .conflictingHost }
            guard HTTP1Syntax.withUTF8(authority, { $0.allSatisfy(HTTP1Syntax.isHostChar) }) else {
                throw .invalidAuthority(authority)
            }
        }
        let target: String
        if method == "CONNECT" {
            // authority-form (RFC 9112 §3.2.3); like HTTP/2, a CONNECT has no :path.
            if path != nil { throw .unexpectedPseudoHeader(":path") }
            guard let authority, !authority.isEmpty else { throw .missingPseudoHeader(":authority") }
            target = authority
        } else {
            guard let path else { throw .missingPseudoHeader(":path") }
            guard HTTP1Syntax.withUTF8(path, { !$0.isEmpty && HTTP1Syntax.allTargetChars($0) }) else {
                throw .invalidRequestTarget(path)
            }
            target = path
        }
        for field in additional {
            size += try validatedFieldSize(field)
            if isHost(field.name) { hasHostField = true }
        }
        if version == .http11 && authority == nil && !hasHostField {
            throw .missingPseudoHeader(":authority")
        }

        size += method.utf8.count + 1 + target.utf8.count + 1 + 8 + 2 + 2
        if let authority { size += 6 + authority.utf8.count + 2 }
        HTTP1HeadWriter.append(size, slack: headSlack, to: &buffer) { writer in
            writer.write(method)
            writer.write(HTTP1Syntax.sp)
            writer.write(target)
            writer.write(HTTP1Syntax.sp)
            writer.writeVersion(version)
            writer.writeCRLF()
            if let authority { writer.writeField("host", authority) }
            writer.writeRegularFields(headers.storage)
            writer.writeRegularFields(additional)
            writer.writeCRLF()
        }
    }

    /// Writes a response head: the status line from `:status` and `reasonPhrase` (by default
    /// `ReasonPhrase.registered(status:)`, empty for unregistered codes), then the regular fields
    /// in order, then `additional`, then the empty line.
    public static func writeResponseHead(
        _ headers: Headers, version: HTTP1Version = .http11, reasonPhrase: String? = nil,
        appending additional: [Headers.Field] = [], into buffer: inout [UInt8]
    ) throws(HTTP1SerializeError) {
        var additionalSize = 0
        try checkAdditional(additional, size: &additionalSize)
        var invalidAdditional: Int?
        try writeResponseHead(
            headers, version: version, reasonPhrase: reasonPhrase, tailSize: additionalSize, into: &buffer
        ) { writer in
            invalidAdditional = writer.writeRegularFieldsCheckingValues(additional)
            return invalidAdditional == nil
        }
        if let index = invalidAdditional { throw .invalidFieldValue(name: additional[index].name) }
    }

    /// Writes a response head with the fields a server connection adds (`HTTP1AddedFields`),
    /// which need no validation, and then `body` (the octets of a small body, written in the same
    /// piece: at most `inlineBodyLimit`).
    static func writeResponseHead(
        _ headers: Headers, version: HTTP1Version = .http11, adding added: HTTP1AddedFields,
        then body: UnsafeRawBufferPointer = .init(start: nil, count: 0),
        into buffer: inout [UInt8]
    ) throws(HTTP1SerializeError) {
        try writeResponseHead(
            headers, version: version, reasonPhrase: nil, tailSize: added.wireSize, then: body, into: &buffer
        ) {
            added.write(into: &$0)
            return true
        }
    }

    /// Writes a response head whose status line and fields were written by
    /// `writeResponseHead(_:version:reasonPhrase:appending:into:)` before, without its final CRLF
    /// (`H1PreparedResponseHead`): `prepared` as it is, then `added`, then the empty line, then
    /// `body` (at most `inlineBodyLimit` octets).
    static func writeResponseHead(
        prepared: UnsafeRawBufferPointer, adding added: HTTP1AddedFields,
        then body: UnsafeRawBufferPointer = .init(start: nil, count: 0),
        into buffer: inout [UInt8]
    ) {
        assert(body.count <= inlineBodyLimit, "HTTP1Serializer: a large body is appended on its own")
        HTTP1HeadWriter.append(prepared.count + added.wireSize + 2 + body.count, slack: headSlack, to: &buffer) {
            writer in
            writer.write(prepared)
            added.write(into: &writer)
            writer.writeCRLF()
            writer.write(body)
        }
    }

    /// The largest body written in one piece with its head (assembled on the stack, then copied
    /// once); a larger one is appended after the head.
    static var inlineBodyLimit: Int { 2048 }

    /// The response head's status line and `headers`' fields (names checked in a first pass that
    /// sizes the head, values as they are copied), then `tailSize` octets that `tail` writes
    /// (returning false refuses the head), then the empty line. A refused head leaves `buffer` as
    /// it was.
    @inline(__always)
    private static func writeResponseHead(
        _ headers: Headers, version: HTTP1Version, reasonPhrase: String?, tailSize: Int,
        then body: UnsafeRawBufferPointer = .init(start: nil, count: 0), into buffer: inout [UInt8],
        tail: (inout HTTP1HeadWriter) -> Bool
    ) throws(HTTP1SerializeError) {
        assert(body.count <= inlineBodyLimit, "HTTP1Serializer: a large body is appended on its own")
        var statusText: String?
        var size = tailSize
        var next = 0
        while let (index, check) = HTTP1FieldCheck.scan(headers.storage, from: next, size: &size) {
            let field = headers.storage[index]
            switch check {
            case .pseudo:
                // One status line: a second `:status` would leave the framing (decided from the
                // first) and the line written (from the last) to disagree.
                guard field.name == ":status", statusText == nil else { throw .unexpectedPseudoHeader(field.name) }
                statusText = field.value
            case .invalidName: throw .invalidFieldName(field.name)
            case .regular: preconditionFailure("HTTP1FieldCheck.scan stops at irregular fields only")
            }
            next = index + 1
        }
        guard let statusText else { throw .missingPseudoHeader(":status") }
        guard let status = parseStatus(statusText) else { throw .invalidStatus(statusText) }
        let reason = reasonPhrase ?? ReasonPhrase.registered(status: status) ?? ""
        let reasonCount = HTTP1Syntax.withUTF8(reason) { HTTP1Syntax.allFieldValueChars($0) ? $0.count : -1 }
        guard reasonCount >= 0 else { throw .invalidReasonPhrase(reason) }

        size += 8 + 1 + 3 + 1 + reasonCount + 2 + 2 + body.count
        var invalidValue: Int?
        HTTP1HeadWriter.appendUnlessRefused(size, slack: headSlack, to: &buffer) { writer in
            writer.writeVersion(version)
            writer.write(HTTP1Syntax.sp)
            writer.write(statusText)
            writer.write(HTTP1Syntax.sp)
            writer.write(reason)
            writer.writeCRLF()
            if let index = writer.writeRegularFieldsCheckingValues(headers.storage) {
                invalidValue = index
                return false
            }
            guard tail(&writer) else { return false }
            writer.writeCRLF()
            writer.write(body)
            return true
        }
        if let index = invalidValue { throw .invalidFieldValue(name: headers.storage[index].name) }
    }

    /// Writes one chunk: `chunk-size CRLF chunk-data CRLF` (RFC 9112 §7.1), size in lower-case hex.
    /// Writes nothing for empty data, because a zero-size chunk would end the body.
    public static func writeChunk(_ data: UnsafeRawBufferPointer, into buffer: inout [UInt8]) {
        guard !data.isEmpty else { return }
        reserve(16 + 2 + data.count + 2, in: &buffer)
        appendHex(UInt64(data.count), to: &buffer)
        appendCRLF(to: &buffer)
        buffer.append(contentsOf: data)
        appendCRLF(to: &buffer)
    }

    /// Writes the start of a chunk of `count` octets (`chunk-size CRLF`); the caller writes the
    /// data and its CRLF. Lets a connection send large chunk data without copying it.
    public static func writeChunkSize(_ count: Int, into buffer: inout [UInt8]) {
        precondition(count > 0, "a chunk of 0 octets would end the body")
        appendHex(UInt64(count), to: &buffer)
        appendCRLF(to: &buffer)
    }

    /// Writes one chunk from an array. See `writeChunk(_:into:)` for raw buffers.
    public static func writeChunk(_ data: [UInt8], into buffer: inout [UInt8]) {
        data.withUnsafeBytes { writeChunk($0, into: &buffer) }
    }

    /// Writes the last chunk (`0` CRLF), the trailer fields, and the final CRLF. Trailers cannot hold
    /// pseudo-headers, nor the fields `isForbiddenTrailer` names.
    public static func writeLastChunk(trailers: Headers = Headers(), into buffer: inout [UInt8])
        throws(HTTP1SerializeError)
    {
        var size = 5
        for field in trailers.storage {
            if isPseudo(field.name) { throw .unexpectedPseudoHeader(field.name) }
            size += try validatedFieldSize(field)
            if isForbiddenTrailer(field.name) { throw .forbiddenTrailer(field.name) }
        }
        HTTP1HeadWriter.append(size, slack: 0, to: &buffer) { writer in
            writer.write(UInt8(ascii: "0"))
            writer.writeCRLF()
            writer.writeRegularFields(trailers.storage)
            writer.writeCRLF()
        }
    }

    // MARK: - Helpers

    /// Room left after a head for what usually follows it in the same buffer (a small body, the
    /// first chunk), so that appending it does not reallocate.
    static let headSlack = 512

    /// Validates a regular field and returns the octets it takes on the wire.
    @inline(__always)
    static func validatedFieldSize(_ field: Headers.Field) throws(HTTP1SerializeError) -> Int {
        let nameCount = HTTP1Syntax.withUTF8(field.name) {
            !$0.isEmpty && HTTP1Syntax.allTokenChars($0) ? $0.count : -1
        }
        guard nameCount >= 0 else { throw .invalidFieldName(field.name) }
        let valueCount = HTTP1Syntax.withUTF8(field.value) {
            HTTP1Syntax.allFieldValueChars($0) ? $0.count : -1
        }
        guard valueCount >= 0 else { throw .invalidFieldValue(name: field.name) }
        return nameCount + 2 + valueCount + 2
    }

    /// Adds the wire size of `additional` (regular fields only) to `size`.
    @inline(__always)
    private static func checkAdditional(_ additional: [Headers.Field], size: inout Int)
        throws(HTTP1SerializeError)
    {
        guard let (index, _) = HTTP1FieldCheck.scan(additional, from: 0, size: &size) else { return }
        // Not a token (a pseudo-header's colon included).
        throw .invalidFieldName(additional[index].name)
    }

    /// Whether `name` is a pseudo-header (starts with `:`).
    @inline(__always)
    private static func isPseudo(_ name: String) -> Bool {
        HTTP1Syntax.withUTF8(name) { $0.first == HTTP1Syntax.colon }
    }

    /// Whether `name` (in any case) cannot be a trailer. RFC 9110 §6.5.1: "A sender MUST NOT
    /// generate a trailer field unless the sender knows the corresponding header field name's
    /// definition permits the field to be sent in trailers"; "Many fields cannot be processed
    /// outside the header section because their evaluation is necessary prior to receiving the
    /// content, such as those that describe message framing, routing, authentication, request
    /// modifiers, response controls, or content format." These are the ones whose definitions
    /// do not, as Go's `httpguts.ValidTrailerHeader` lists them (with `upgrade`, connection-specific
    /// like `keep-alive`, RFC 9110 §7.6.1; lua-http's h2 streams refuse `connection` and `te` in
    /// any header block): a recipient that merged them into the head (§6.5.2) would frame, route
    /// or authorize by what came after the body. Other fields go out; the writer knows them.
    static func isForbiddenTrailer(_ name: String) -> Bool {
        let name = name.lowercased()
        return forbiddenTrailers.contains(name) || name.hasPrefix("if-")
    }

    private static let forbiddenTrailers: Set<String> = [
        // Framing, and connection-specific (RFC 9112 §6, RFC 9110 §7.6.1).
        "content-length", "transfer-encoding", "trailer", "te", "connection", "keep-alive", "proxy-connection",
        "upgrade",
        // Routing (RFC 9110 §7.2).
        "host",
        // Authentication (RFC 9110 §11).
        "authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate", "realm",
        // Request modifiers and controls (RFC 9110 §10.1, §13, §14.2; RFC 9111 §5.2, §5.4).
        "expect", "max-forwards", "range", "cache-control", "pragma",
        // How to process the content (RFC 9110 §8.3, §8.4, §14.4).
        "content-type", "content-encoding", "content-range",
    ]

    private static func isHost(_ name: String) -> Bool {
        HTTP1Syntax.withUTF8(name) { HTTP1Syntax.equalsLowercased($0, "host") }
    }

    /// Three ASCII digits from 100 to 999.
    @inline(__always)
    private static func parseStatus(_ text: String) -> Int? {
        HTTP1Syntax.withUTF8(text) { digits -> Int? in
            guard digits.count == 3, digits[0] &- 0x31 < 9, HTTP1Syntax.isDigit(digits[1]),
                HTTP1Syntax.isDigit(digits[2])
            else { return nil }
            return Int(digits[0] &- 0x30) &* 100 &+ Int(digits[1] &- 0x30) &* 10 &+ Int(digits[2] &- 0x30)
        }
    }

    /// Makes room for `size` more octets in one allocation. Grows geometrically: `reserveCapacity`
    /// allocates exactly what it is asked for, so asking for `count + size` on every call would copy
    /// an accumulating buffer each time (quadratic).
    @inline(__always)
    static func reserve(_ size: Int, in buffer: inout [UInt8]) {
        let needed = buffer.count + size
        if needed > buffer.capacity { buffer.reserveCapacity(Swift.max(needed, 2 * buffer.capacity)) }
    }

    @inline(__always)
    static func appendCRLF(to buffer: inout [UInt8]) {
        buffer.append(HTTP1Syntax.cr)
        buffer.append(HTTP1Syntax.lf)
    }

    static func appendVersion(_ version: HTTP1Version, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: version == .http10 ? "HTTP/1.0".utf8 : "HTTP/1.1".utf8)
    }

    static func appendHex(_ value: UInt64, to buffer: inout [UInt8]) {
        var digits = 1
        while digits < 16 && value >> (4 * UInt64(digits)) != 0 { digits += 1 }
        for shift in stride(from: digits - 1, through: 0, by: -1) {
            let nibble = UInt8((value >> (4 * UInt64(shift))) & 0xF)
            buffer.append(nibble < 10 ? 0x30 + nibble : 0x61 + nibble - 10)
        }
    }
}
