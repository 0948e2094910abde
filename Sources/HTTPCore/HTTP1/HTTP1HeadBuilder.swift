/// Pass 2: turns a validated head into an `HTTP1MessageHead` (one String per name and value, one
/// `Headers` array; a request's head refills the previous one, see `HTTP1FieldRefill`) and decides
/// the body framing (RFC 9112 §6.3), then moves the parser to the state that reads that body.
extension HTTP1Parser {
    /// What the framing-relevant fields of a section said.
    struct FramingFields {
        /// What the Transfer-Encoding field lines said, when there are any: most heads have none,
        /// and then nothing here holds a reference (no release when it goes).
        var transferEncoding: TransferEncoding?
        struct TransferEncoding {
            /// Transfer codings, lower-cased, in order.
            var codings: [String] = []
            /// The field values, for error messages.
            var text = ""
        }
        var sawTransferEncoding: Bool { transferEncoding != nil }
        var codings: [String] { transferEncoding?.codings ?? [] }
        var transferEncodingText: String { transferEncoding?.text ?? "" }
        var connectionClose = false
        var connectionKeepAlive = false
        var connectionUpgrade = false
        var sawUpgrade = false

        /// Records one Transfer-Encoding field value:
        /// `#transfer-coding`, `transfer-coding = token *( OWS ";" OWS transfer-parameter )`,
        /// `transfer-parameter = token BWS "=" BWS ( token / quoted-string )` (RFC 9112 §7, RFC 9110
        /// §10.1.4). Parameters are validated and dropped; `chunked` takes none.
        mutating func addTransferEncoding(_ value: UnsafeRawBufferPointer, limit: Int) throws(HTTP1ParseError) {
            let text = HTTP1Syntax.excerpt(value)
            var codings = self.codings
            transferEncoding = TransferEncoding(
                codings: [], text: transferEncodingText.isEmpty ? text : transferEncodingText + ", " + text)
            try HTTP1FieldLines.forEachListElement(value) { (element) throws(HTTP1ParseError) in
                guard !element.isEmpty else { return }  // empty list elements are ignored (RFC 9110 §5.6.1)
                var index = 0
                while index < element.count, HTTP1Syntax.isTokenChar(element[index]) { index += 1 }
                guard index > 0 else { throw .invalidTransferEncoding(text) }
                let name = UnsafeRawBufferPointer(rebasing: element[0..<index])
                if index < element.count {
                    guard !HTTP1Syntax.equalsLowercased(name, "chunked"),
                        Self.isParameterList(UnsafeRawBufferPointer(rebasing: element[index...]))
                    else { throw .invalidTransferEncoding(text) }
                }
                guard codings.count < limit else { throw .tooManyTransferCodings(limit: limit) }
                codings.append(HTTP1Syntax.lowercasedString(name))
            }
            transferEncoding!.codings = codings
        }

        /// `*( OWS ";" OWS token BWS "=" BWS ( token / quoted-string ) )`, non-empty.
        static func isParameterList(_ bytes: UnsafeRawBufferPointer) -> Bool {
            var index = 0
            func skipWhitespace() {
                while index < bytes.count, HTTP1Syntax.isWhitespace(bytes[index]) { index += 1 }
            }
            func token() -> Bool {
                let start = index
                while index < bytes.count, HTTP1Syntax.isTokenChar(bytes[index]) { index += 1 }
                return index > start
            }
            var parameters = 0
            while true {
                skipWhitespace()
                if index == bytes.count { return parameters > 0 }
                guard bytes[index] == HTTP1Syntax.semicolon else { return false }
                index += 1
                skipWhitespace()
                guard token() else { return false }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == HTTP1Syntax.equals else { return false }
                index += 1
                skipWhitespace()
                if index < bytes.count, bytes[index] == HTTP1Syntax.dquote {
                    index += 1
                    var closed = false
                    while index < bytes.count {
                        let byte = bytes[index]
                        index += 1
                        if byte == HTTP1Syntax.dquote {
                            closed = true
                            break
                        }
                        if byte == HTTP1Syntax.backslash { index += 1 }
                    }
                    guard closed else { return false }
                } else {
                    guard token() else { return false }
                }
                parameters += 1
            }
        }

        /// Records the options of a Connection field (`#connection-option`, RFC 9110 §7.6.1).
        mutating func addConnection(_ value: UnsafeRawBufferPointer) {
            var close = connectionClose
            var keepAlive = connectionKeepAlive
            var upgrade = connectionUpgrade
            try? HTTP1FieldLines.forEachListElement(value) { element in
                if HTTP1Syntax.equalsLowercased(element, "close") {
                    close = true
                } else if HTTP1Syntax.equalsLowercased(element, "keep-alive") {
                    keepAlive = true
                } else if HTTP1Syntax.equalsLowercased(element, "upgrade") {
                    upgrade = true
                }
            }
            connectionClose = close
            connectionKeepAlive = keepAlive
            connectionUpgrade = upgrade
        }

        /// Whether the connection persists after the message (RFC 9112 §9.3).
        func persists(_ version: HTTP1Version) -> Bool {
            if connectionClose { return false }
            return version == .http11 || connectionKeepAlive
        }

        /// The transfer codings in the order applied, and whether the final one is a single chunked.
        var chunkedIsFinal: Bool { codings.last == "chunked" }
        var chunkedCount: Int { codings.reduce(0) { $0 + ($1 == "chunked" ? 1 : 0) } }
    }

    /// Adds the regular fields of a validated section to `fields` (names lower-cased) and records
    /// the framing-relevant ones. The Host field is skipped in requests (it became `:authority`).
    private func addFields(
        _ block: UnsafeRawBufferPointer, from start: Int, to fields: inout HTTP1FieldRefill, skippingHost: Bool
    ) throws(HTTP1ParseError) -> FramingFields {
        var framing = FramingFields()
        // The line ends pass 1 recorded, if it recorded every line.
        let ends = scanner.lineEnds.count == scanner.fieldCount ? scanner.lineEnds : HTTP1FieldLineEnds()
        var lines = HTTP1FieldLines(block, from: start, ends: ends)
        while let line = lines.next() {
            let name = line.name
            if skippingHost && name.count == 4 && HTTP1Syntax.equalsLowercased(name, "host") { continue }
            switch name.count {
            case 17 where HTTP1Syntax.equalsLowercased(name, "transfer-encoding"):
                try withBytes(of: line) { (bytes) throws(HTTP1ParseError) in
                    try framing.addTransferEncoding(bytes, limit: limits.maxTransferCodings)
                }
            case 10 where HTTP1Syntax.equalsLowercased(name, "connection"):
                try withBytes(of: line) { framing.addConnection($0) }
            case 7 where HTTP1Syntax.equalsLowercased(name, "upgrade"):
                let isEmpty =
                    line.folded
                    ? HTTP1FieldLines.value(of: line).isEmpty : HTTP1Syntax.trimmingWhitespace(line.rawValue).isEmpty
                framing.sawUpgrade = framing.sawUpgrade || !isEmpty
            default:
                break
            }
            fields.put(line)
        }
        return framing
    }

    /// Calls `body` with the value bytes of `line`: the trimmed raw bytes, or the unfolded value.
    private func withBytes<R>(
        of line: HTTP1FieldLines.Line, _ body: (UnsafeRawBufferPointer) throws(HTTP1ParseError) -> R
    ) throws(HTTP1ParseError) -> R {
        if !line.folded { return try body(HTTP1Syntax.trimmingWhitespace(line.rawValue)) }
        var copy = HTTP1FieldLines.value(of: line)
        do {
            return try copy.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
        } catch let error as HTTP1ParseError {
            throw error
        } catch {
            preconditionFailure("unreachable: the body only throws HTTP1ParseError")
        }
    }

    // MARK: - Requests

    /// Builds a request head and prepares to read its body (server role).
    mutating func buildRequestHead(_ block: UnsafeRawBufferPointer) throws(HTTP1ParseError)
        -> HTTP1MessageHead
    {
        let scan = scanner
        let methodBytes = UnsafeRawBufferPointer(rebasing: block[scan.startLineStart..<scan.methodEnd])
        let target = UnsafeRawBufferPointer(rebasing: block[(scan.methodEnd + 1)..<scan.targetEnd])
        let version: HTTP1Version = scan.minor == 0 ? .http10 : .http11
        let isConnect =
            methodBytes.count == 7 && methodBytes.elementsEqual("CONNECT".utf8)

        // RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1
        // request message that lacks a Host header field and to any request message that contains more
        // than one Host header field line or a Host header field with an invalid field value."
        if scan.hostCount > 1 { throw .multipleHosts }
        var hostValue: UnsafeRawBufferPointer? = nil
        if scan.hostCount == 1 {
            hostValue = HTTP1Syntax.trimmingWhitespace(
                UnsafeRawBufferPointer(rebasing: block[scan.hostValueStart..<scan.hostValueEnd]))
        } else if version == .http11 && requireHost {
            throw .missingHost
        }
        if isConnect {
            if let hostValue { try Self.checkHost(hostValue) }
            // authority-form = uri-host ":" port (RFC 9112 §3.2.3)
            guard Self.isHostValue(target) else {
                throw .invalidRequestTarget(HTTP1Syntax.excerpt(target))
            }
        }

        // The last head built is refilled when nothing holds it any more (see `HTTP1FieldRefill`).
        var head = HTTP1MessageHead.reclaiming(&spareRequestHead)
        var refill = HTTP1FieldRefill(over: head.takeFields(), capacity: scan.fieldCount &+ 3)
        // The pseudo-headers are never-index only by choice of the caller: no name lookup.
        var method = HTTP1MessageHead.PseudoHeaderRefill.kept
        // Usually an interned String, then compared by its representation alone.
        let methodName = HTTP1FieldNames.method(methodBytes)
        if !refill.keep(":method", equalTo: methodName) { method = .set(refill.putNew(":method", methodName)) }
        if let scheme, !isConnect { refill.put(":scheme", scheme) }
        var path = HTTP1MessageHead.PseudoHeaderRefill.set(nil)
        var authority = HTTP1MessageHead.PseudoHeaderRefill.set(nil)
        if isConnect {
            authority = .kept
            if !refill.keep(":authority", spelledBy: target) {
                authority = .set(refill.putNew(":authority", HTTP1Syntax.string(target)))
            }
        } else {
            path = .kept
            if !refill.keep(":path", spelledBy: target) {
                path = .set(refill.putNew(":path", HTTP1Syntax.string(target)))
            }
            // RFC 9112 §3.2.2: "When an origin server receives a request with an absolute-form
            // of request-target, the origin server MUST ignore the received Host header field (if
            // any) and instead use the host information of the request-target."
            let authorityValue =
                target.first == UInt8(ascii: "/")
                ? hostValue : try Self.absoluteFormAuthority(target, host: hostValue) ?? hostValue
            // A kept `:authority` was checked when it was made (from octets the same as these), so
            // only a new one is. Nothing before this point can fail for a request that is not
            // CONNECT: the Host value's error still comes first.
            if let authorityValue, !refill.keep(":authority", spelledBy: authorityValue) {
                try Self.checkHost(authorityValue)
                authority = .set(refill.putNew(":authority", HTTP1Syntax.string(authorityValue)))
            } else if authorityValue != nil {
                authority = .kept
            }
        }
        // A head whose only field is Host (skipped: it became `:authority`) has nothing to add.
        let fields =
            scan.fieldCount == scan.hostCount
            ? FramingFields() : try addFields(block, from: scan.fieldsStart, to: &refill, skippingHost: true)

        // Framing, RFC 9112 §6.3.
        var framing = HTTP1BodyFraming.none
        var codings: [String]? = nil  // none: nothing to release
        if fields.sawTransferEncoding {
            // Item 3: "If a message is received with both a Transfer-Encoding and a Content-Length
            // header field, ... Such a message might indicate an attempt to perform request smuggling
            // ... and ought to be handled as an error."
            if scan.sawContentLength { throw .contentLengthWithTransferEncoding }
            // §6.1: "A server or client that receives an HTTP/1.0 message containing a
            // Transfer-Encoding header field MUST treat the message as if the framing is faulty".
            if version == .http10 { throw .transferEncodingInHTTP10 }
            // §6.1: "A server that receives a request message with a transfer coding it does not
            // understand SHOULD respond with 501 (Not Implemented)." The stream layer decodes gzip
            // and deflate, unless told not to.
            for coding in fields.codings
            where coding != "chunked" && !(decodesTransferCodings && Self.knownRequestCodings.contains(coding)) {
                throw .unknownTransferCoding(coding)
            }
            // Item 4: "If a Transfer-Encoding header field is present in a request and the chunked
            // transfer coding is not the final encoding, the message body length cannot be determined
            // reliably; the server MUST respond with the 400 (Bad Request) status code".
            guard fields.chunkedIsFinal else { throw .chunkedNotFinal(fields.transferEncodingText) }
            // §6.1: "A sender MUST NOT apply the chunked transfer coding more than once".
            guard fields.chunkedCount == 1 else {
                throw .invalidTransferEncoding(fields.transferEncodingText)
            }
            framing = .chunked
            codings = Array(fields.codings.dropLast())
        } else if let length = scan.contentLength {
            framing = .contentLength(length)
        }
        // RFC 9110 §9.3.6: "A CONNECT request message does not have content." What follows its head
        // is tunnel data if the server accepts.
        if isConnect { framing = .none }

        let persists = fields.persists(version)
        head.refillRequest(
            version, fields: &refill, method: method, path: path, authority: authority, framing: framing,
            transferCodings: codings, keepAlive: persists,
            requestsProtocolSwitch: isConnect || (fields.connectionUpgrade && fields.sawUpgrade))
        if block.count <= Self.maximumReusedHeadSize { spareRequestHead = head }
        keepAlive = persists
        enterBody(framing)
        return head
    }

    /// The authority of an `http` or `https` absolute-form target (`http://host:port/path?query`,
    /// RFC 9112 §3.2.2), checked as a Host value is; nil for any other target (origin-form,
    /// asterisk-form, another scheme: left to the handler). Throws for an http(s) target without a
    /// host (RFC 9110 §4.2.1: "A recipient that processes such a URI reference MUST reject it as
    /// invalid") or with userinfo (§4.2.4: a recipient "SHOULD parse for userinfo and treat its
    /// presence as an error"), which `isHostValue` refuses with its `@`; and, for such a target,
    /// for an invalid `host` value, which it replaces but which must still be valid (RFC 9112
    /// §3.2). Out of line: most targets are origin-form.
    @inline(never)
    static func absoluteFormAuthority(_ target: UnsafeRawBufferPointer, host: UnsafeRawBufferPointer?)
        throws(HTTP1ParseError) -> UnsafeRawBufferPointer?
    {
        let schemeLength: Int
        func starts(with scheme: StaticString) -> Bool {
            target.count >= scheme.utf8CodeUnitCount
                && HTTP1Syntax.equalsLowercased(
                    UnsafeRawBufferPointer(rebasing: target[0..<scheme.utf8CodeUnitCount]), scheme)
        }
        if starts(with: "http://") {
            schemeLength = 7
        } else if starts(with: "https://") {
            schemeLength = 8
        } else {
            return nil
        }
        var end = schemeLength
        while end < target.count, target[end] != UInt8(ascii: "/"), target[end] != UInt8(ascii: "?"),
            target[end] != UInt8(ascii: "#")
        {
            end += 1
        }
        let authority = UnsafeRawBufferPointer(rebasing: target[schemeLength..<end])
        if let host { try checkHost(host) }
        guard !authority.isEmpty, authority.first != UInt8(ascii: ":"), isHostValue(authority) else {
            throw .invalidRequestTarget(HTTP1Syntax.excerpt(target))
        }
        return authority
    }

    /// RFC 9112 §3.2: a Host field value must be `uri-host [ ":" port ]` (checked octet by octet).
    @inline(__always)
    static func checkHost(_ value: UnsafeRawBufferPointer) throws(HTTP1ParseError) {
        guard isHostValue(value) else { throw .invalidHost(HTTP1Syntax.excerpt(value)) }
    }

    /// `HTTP1Syntax.isHostChar` of the octets 0–63 and 64–127, one bit each (none from 128 on).
    static let hostCharsBelow64: UInt64 = 0x2FFF_7FF2_0000_0000
    static let hostCharsFrom64: UInt64 = 0x47FF_FFFE_AFFF_FFFE

    /// Whether every octet is `HTTP1Syntax.isHostChar`: a bit test per octet rather than the
    /// character class's chain of comparisons (every request's Host value goes through here).
    @inline(__always)
    static func isHostValue(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for byte in bytes {
            let set = byte < 64 ? hostCharsBelow64 : byte < 128 ? hostCharsFrom64 : 0
            guard set &>> UInt64(byte & 63) & 1 != 0 else { return false }
        }
        return true
    }

    /// The largest head (in octets) whose `HTTP1MessageHead` the parser keeps for refilling: a
    /// parser given back to its server's pool of spares holds its last head, and this bounds what
    /// those spares keep alive (browser request heads are usually well under 2 KiB).
    static let maximumReusedHeadSize = 8 * 1024

    /// The transfer codings a server accepts in requests: the stream layer decodes gzip and deflate.
    static let knownRequestCodings: Set<String> = ["chunked", "gzip", "x-gzip", "deflate"]

    // MARK: - Responses

    /// Builds a response head and prepares to read its body (client role).
    mutating func buildResponseHead(_ block: UnsafeRawBufferPointer) throws(HTTP1ParseError)
        -> HTTP1MessageHead
    {
        let scan = scanner
        let version: HTTP1Version = scan.minor == 0 ? .http10 : .http11
        let status = scan.statusCode
        let reason = HTTP1Syntax.string(
            UnsafeRawBufferPointer(rebasing: block[scan.reasonStart..<scan.reasonEnd]))

        var refill = HTTP1FieldRefill(over: [], capacity: scan.fieldCount &+ 1)
        refill.put(":status", String(status))
        let fields = try addFields(block, from: scan.fieldsStart, to: &refill, skippingHost: false)
        let headers = Headers(fields: refill.finish())
        if fields.sawTransferEncoding && scan.sawContentLength {
            throw .contentLengthWithTransferEncoding
        }

        let isInterim = status < 200
        if isInterim {
            // RFC 9110 §15.2: "A client MUST be able to parse one or more 1xx responses received
            // prior to a final response", not any number: a server sending them without end would
            // hold the request below every read timeout. Together they get one head's limit.
            interimOctets += block.count
            if interimOctets > limits.maxHeaderBlockSize {
                throw .interimResponsesTooLarge(limit: limits.maxHeaderBlockSize)
            }
        } else {
            interimOctets = 0
        }
        let request: RequestKind = isInterim ? .other : popPendingRequest()
        var framing = HTTP1BodyFraming.none
        var codings: [String] = []
        var persists = fields.persists(version)
        var switches = false

        // RFC 9112 §6.3, in order.
        if isInterim || status == 204 || status == 304 || request == .head {
            // Item 1: responses to HEAD and 1xx, 204 and 304 responses end after the header section.
            switches = status == 101
        } else if request == .connect && status < 300 {
            // Item 2: "Any 2xx (Successful) response to a CONNECT request implies that the connection
            // will become a tunnel immediately after the empty line that concludes the header fields."
            switches = true
        } else if fields.sawTransferEncoding {
            if version == .http10 || !fields.chunkedIsFinal || fields.chunkedCount != 1 {
                // Item 4: "If a Transfer-Encoding header field is present in a response and the chunked
                // transfer coding is not the final encoding, the message body length is determined by
                // reading the connection until it is closed by the server." An HTTP/1.0 response with
                // Transfer-Encoding has faulty framing (§6.1) and is read the same way.
                framing = .untilClose
                codings = fields.codings
            } else {
                framing = .chunked
                codings = Array(fields.codings.dropLast())
            }
        } else if let length = scan.contentLength {
            framing = .contentLength(length)
        } else {
            // Item 8: a response without a declared length is read until the server closes.
            framing = .untilClose
        }
        if framing == .untilClose { persists = false }

        let head = HTTP1MessageHead(
            version: version, headers: headers, status: status, reasonPhrase: reason, framing: framing,
            transferCodings: codings, keepAlive: persists, requestsProtocolSwitch: false)
        if switches {
            state = .switched
        } else if isInterim {
            // 1xx: the final response follows (RFC 9110 §15.2); stay in head mode.
            scanner = HTTP1HeadScanner(kind: .response, allowsFolding: true)
        } else {
            keepAlive = persists
            enterBody(framing)
        }
        return head
    }

    private mutating func popPendingRequest() -> RequestKind {
        pendingRequests.isEmpty ? .other : pendingRequests.removeFirst()
    }

    // MARK: - Body and trailers

    private mutating func enterBody(_ framing: HTTP1BodyFraming) {
        switch framing {
        case .none, .contentLength(0): state = .messageEnd
        case .contentLength(let length): state = .body(remaining: length)
        case .chunked: startChunkLine()
        case .untilClose: state = .untilClose
        }
    }

    /// Builds the trailer section of a chunked message (names lower-cased, obs-fold unfolded in
    /// responses). Fields are delivered as received; the stream layer decides which trailers it
    /// honours (RFC 9110 §6.5.1).
    func buildTrailers(_ block: UnsafeRawBufferPointer) -> Headers {
        var refill = HTTP1FieldRefill(over: [], capacity: scanner.fieldCount)
        var lines = HTTP1FieldLines(block, from: 0)
        while let line = lines.next() { refill.put(line) }
        return Headers(fields: refill.finish())
    }
}
