/// Pass 1 over a header or trailer section: validates the syntax octet by octet and records the
/// few offsets pass 2 needs, without allocating and without consuming anything.
///
/// The section stays in the caller's buffer until it is complete (the parser reports 0 consumed
/// octets meanwhile), so the scanner only remembers how far it got (`scanned`, relative to the
/// first octet of the section) and in which state; the next call resumes there. Every octet is
/// examined once by this octet machine, so feeding a head one octet at a time costs linear time. A
/// request head that arrives whole is first tried by a straight pass of the usual form
/// (`scanWholeRequestHead`), which records the same and leaves anything else to the octet machine.
///
/// Decisions enforced here (quoting RFC 9112):
/// - Lines end with CRLF only. §2.2 lets a recipient "recognize a single LF as a line terminator
///   and ignore any preceding CR" (a MAY); we do not, because parsers that disagree on where a line
///   ends are the root of request smuggling. A bare LF is `.bareLF`, and a CR not followed by LF is
///   `.bareCR` ("A recipient of such a bare CR MUST consider that element to be invalid or replace
///   each bare CR with SP"; we consider it invalid).
/// - Empty lines (CRLF) before the start line are skipped: "a server that is expecting to receive
///   and parse a request-line SHOULD ignore at least one empty line (CRLF) received prior to the
///   request-line" (§2.2). We ignore any number, in both roles (clients often send an extra CRLF
///   after a body; some servers do after a 1xx); they count towards `maxHeaderBlockSize`.
/// - Whitespace at the start of the first field line is rejected: a recipient "MUST either reject
///   the message as invalid or consume each whitespace-preceded line without further processing"
///   (§2.2).
/// - obs-fold: rejected in requests, as §5.2 allows ("MUST either reject the message by sending a
///   400 (Bad Request) ... or replace each received obs-fold with one or more SP octets"), because
///   a fold is a line that other parsers may read as a new field. Accepted in responses, where
///   §5.2 leaves no choice ("A user agent that receives an obs-fold in a response message ... MUST
///   replace each received obs-fold with one or more SP octets"); pass 2 does the replacing.
/// - "No whitespace is allowed between the field name and colon" (§5.1): `.whitespaceBeforeColon`.
/// - Field values may hold VCHAR, obs-text, SP and HTAB; NUL, DEL and every other CTL are
///   rejected (RFC 9110 §5.5 allows retaining CTLs other than CR, LF and NUL "in a safe context";
///   the codec cannot know the context, so it rejects them all).
/// - The request-target may hold any visible US-ASCII octet (0x21–0x7E). That is wider than the
///   URI grammar (`"`, `{`, `|` … occur in the wild and are harmless to framing) and stricter than
///   some parsers (no CTL, DEL, whitespace other than the delimiting SP, or non-ASCII octets).
///   That includes `#`: no request-target form has a fragment (§3.2), but llhttp's test corpus and
///   nginx take one, so `:path` keeps it as received and routing is left to the handler
///   (`stepwise serve` routes on what comes before it).
/// - The status line needs the SP after the status code even with an empty reason phrase
///   (`status-line = HTTP-version SP status-code SP [ reason-phrase ]`, §4).
struct HTTP1HeadScanner: Sendable, Equatable {
    enum Kind: Sendable { case request, response, trailers }

    enum State: UInt8, Sendable {
        case leading, leadingLF
        case method, targetStart, target, version
        case statusCode, reason
        case startLineLF
        case fieldLineStart, fieldName, fieldValue, fieldLF
        case finalLF
    }

    enum Outcome: Equatable {
        case needMore
        /// The section is complete; `end` is its length (just past the final LF).
        case complete(end: Int)
        case failed(HTTP1ParseError)
    }

    let kind: Kind
    /// Whether obs-fold continuation lines are accepted (responses and their trailers).
    let allowsFolding: Bool
    private(set) var state: State
    /// Octets of the section already examined.
    private(set) var scanned = 0

    // Offsets relative to the first octet of the section, for pass 2.
    private(set) var startLineStart = 0
    private(set) var methodEnd = 0
    private(set) var targetEnd = 0
    private(set) var reasonStart = 0
    private(set) var reasonEnd = 0
    private(set) var fieldsStart = 0
    private(set) var fieldCount = 0
    /// How many Host field lines there are (requests).
    private(set) var hostCount = 0
    /// The raw value of the first Host field line (between its colon and CR, untrimmed; requests
    /// are never folded).
    private(set) var hostValueStart = 0
    private(set) var hostValueEnd = 0
    /// The colon and CR of the first field lines, when the straight pass took the head (the
    /// octet machine records none).
    var lineEnds = HTTP1FieldLineEnds()
    private var fieldIsFirstHost = false
    /// Whether any obs-fold was seen (pass 2 then unfolds).
    private(set) var sawFolding = false
    /// Content-Length, validated as soon as each such field line ends (so an invalid or conflicting
    /// value fails before the rest of the head arrives).
    private(set) var sawContentLength = false
    private(set) var contentLength: UInt64?
    private var fieldIsContentLength = false

    private(set) var major: UInt8 = 0
    private(set) var minor: UInt8 = 0
    private(set) var statusCode = 0
    private var versionIndex = 0
    private var statusDigits = 0
    private var lineStart = 0
    private var colon = 0

    @inline(__always)
    init(kind: Kind, allowsFolding: Bool) {
        self.kind = kind
        self.allowsFolding = allowsFolding
        self.state = kind == .trailers ? .fieldLineStart : .leading
    }

    /// Whether nothing but empty lines has been seen (the connection is between messages).
    @inline(__always)
    var isIdle: Bool { state == .leading || state == .leadingLF }

    /// Scans `input[base...]`, where `input[base]` is the first octet of the section, resuming after
    /// the octets scanned by earlier calls.
    mutating func scan(_ input: UnsafeRawBufferPointer, from base: Int, limits: HTTP1Limits)
        -> Outcome
    {
        if kind == .request && state == .leading && scanned == 0 {
            if let end = scanWholeRequestHead(input, from: base, limits: limits) { return .complete(end: end) }
            // Anything else (more input needed, an error, a rarer form) is the octet machine's,
            // from the start: the scanner is as new again.
            self = HTTP1HeadScanner(kind: kind, allowsFolding: allowsFolding)
        }
        return scanOctets(input, from: base, limits: limits)
    }

    /// The usual request head, arrived whole: the request line `method SP target SP HTTP/1.x CRLF`
    /// (x 0 or 1), field lines `name ":" value CRLF` and the final CRLF, each part scanned at once
    /// (eight octets at a time where it can be long) with the offsets kept in registers. Returns the
    /// head's length, having recorded exactly what `scanOctets` would have recorded; nil at the
    /// first thing that is not of that form or not within the limits (the octet machine then rules
    /// on it, with its own outcome). Only the octets of one call are seen, and only from a new
    /// scanner, so a head is never scanned more than twice in total.
    mutating func scanWholeRequestHead(
        _ input: UnsafeRawBufferPointer, from base: Int, limits: HTTP1Limits
    ) -> Int? {
        let stop = base &+ min(input.count &- base, limits.maxHeaderBlockSize)
        // method SP ("GET " in one comparison)
        var i = base &+ 3
        if stop &- base < 4
            || input.loadUnaligned(fromByteOffset: base, as: UInt32.self) != UInt32(littleEndian: 0x2054_4547)
        {
            i = HTTP1Syntax.skipTokenChars(input, from: base, to: stop, endingAt: HTTP1Syntax.sp)
            guard i > base, i < stop, input[i] == HTTP1Syntax.sp else { return nil }
        }
        let methodEnd = i
        // request-target SP
        i &+= 1
        guard i < stop, HTTP1Syntax.isTargetChar(input[i]) else { return nil }
        i = HTTP1Syntax.skipTargetChars(input, from: i, to: stop)
        guard i < stop, input[i] == HTTP1Syntax.sp else { return nil }
        let targetEnd = i
        // "HTTP/1.0" or "HTTP/1.1" (little-endian; masking the low bit of the last octet admits
        // "1"), CR LF; the line without its CRLF within the limit.
        i &+= 1
        guard i &+ 10 <= stop, i &+ 8 &- base <= limits.maxStartLineLength else { return nil }
        let version = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        guard version & 0xFEFF_FFFF_FFFF_FFFF == 0x302E_312F_5054_5448,
            input.loadUnaligned(fromByteOffset: i &+ 8, as: UInt16.self) == UInt16(littleEndian: 0x0A0D)
        else { return nil }
        i &+= 10
        let fieldsStart = i
        var fieldCount = 0
        var lineStart = 0
        var colon = 0
        var isFirstHost = false
        var isContentLength = false
        while true {
            guard i < stop else { return nil }
            if input[i] == HTTP1Syntax.cr { break }
            // field-name ":"
            fieldCount &+= 1
            guard fieldCount <= limits.maxFieldCount else { return nil }
            lineStart = i
            i = HTTP1Syntax.skipTokenChars(input, from: i, to: stop, endingAt: HTTP1Syntax.colon)
            guard i > lineStart, i < stop, input[i] == HTTP1Syntax.colon else { return nil }
            colon = i
            // The name is a token: with 0x20 set in each octet, only the two cases of a letter
            // give that lower-case letter, and only "-" gives "-".
            isFirstHost = false
            if colon &- lineStart == 4
                && input.loadUnaligned(fromByteOffset: lineStart, as: UInt32.self) | 0x2020_2020
                    == UInt32(littleEndian: 0x7473_6F68)  // "host"
            {
                isFirstHost = hostCount == 0
                hostCount &+= 1
            }
            isContentLength =
                colon &- lineStart == 14
                && input.loadUnaligned(fromByteOffset: lineStart, as: UInt64.self) | 0x2020_2020_2020_2020
                    == UInt64(littleEndian: 0x2D74_6E65_746E_6F63)  // "content-"
                && input.loadUnaligned(fromByteOffset: lineStart &+ 6, as: UInt64.self) | 0x2020_2020_2020_2020
                    == UInt64(littleEndian: 0x6874_676E_656C_2D74)  // "t-length"
            // field-value CR LF
            i = HTTP1Syntax.skipFieldValueChars(input, from: i &+ 1, to: stop)
            guard i &+ 1 < stop, input[i] == HTTP1Syntax.cr, input[i &+ 1] == HTTP1Syntax.lf else { return nil }
            if isFirstHost {
                hostValueStart = colon &+ 1 &- base
                hostValueEnd = i &- base
            }
            if isContentLength,
                recordContentLength(UnsafeRawBufferPointer(rebasing: input[(colon &+ 1)..<i])) != nil
            {
                return nil
            }
            lineEnds.append(colon: colon &- base, cr: i &- base)
            i &+= 2
        }
        // The final CRLF.
        guard i &+ 1 < stop, input[i &+ 1] == HTTP1Syntax.lf else { return nil }
        i &+= 2
        state = .finalLF
        scanned = i &- base
        self.methodEnd = methodEnd &- base
        self.targetEnd = targetEnd &- base
        self.fieldsStart = fieldsStart &- base
        self.fieldCount = fieldCount
        self.lineStart = fieldCount == 0 ? 0 : lineStart &- base
        self.colon = fieldCount == 0 ? 0 : colon &- base
        fieldIsFirstHost = isFirstHost
        fieldIsContentLength = isContentLength
        major = 1
        minor = UInt8(truncatingIfNeeded: version &>> 56) &- 0x30
        versionIndex = 9
        return scanned
    }

    /// The octet machine: any section, any form, resumable at every octet.
    mutating func scanOctets(_ input: UnsafeRawBufferPointer, from base: Int, limits: HTTP1Limits)
        -> Outcome
    {
        let blockLimit = kind == .trailers ? limits.maxTrailerBlockSize : limits.maxHeaderBlockSize
        let fieldLimit = kind == .trailers ? limits.maxTrailerFieldCount : limits.maxFieldCount
        let maxLine = limits.maxStartLineLength
        let available = input.count - base
        let stop = base + min(available, blockLimit)
        var i = base + scanned

        @inline(__always) func fail(_ error: HTTP1ParseError) -> Outcome {
            scanned = i - base
            return .failed(error)
        }
        @inline(__always) func bytes(_ from: Int, _ to: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: input[from..<min(to, input.count)])
        }

        // The cases of a section's usual path follow each other, in the order octets arrive: a state
        // whose next state is the next case falls through to it (when an octet is there to read)
        // instead of going round the loop to be dispatched again.
        scanning: while i < stop {
            switch state {
            case .leadingLF:
                guard input[i] == HTTP1Syntax.lf else { return fail(.bareCR) }
                state = .leading
                i += 1

            case .leading:
                let byte = input[i]
                if byte == HTTP1Syntax.cr {
                    state = .leadingLF
                    i += 1
                    continue scanning
                }
                if byte == HTTP1Syntax.lf { return fail(.bareLF) }
                startLineStart = i - base
                versionIndex = 0
                guard kind == .request else {
                    state = .version
                    continue scanning
                }
                state = .method
                fallthrough

            case .method:
                let lineBase = base + startLineStart
                while i < stop, HTTP1Syntax.isTokenChar(input[i]) { i += 1 }
                if i - lineBase > maxLine { return fail(.methodTooLong(limit: maxLine)) }
                if i == stop { break scanning }
                guard input[i] == HTTP1Syntax.sp, i > lineBase else {
                    return fail(.invalidMethod(HTTP1Syntax.excerpt(bytes(lineBase, i + 1))))
                }
                methodEnd = i - base
                state = .targetStart
                i += 1
                guard i < stop else { break scanning }
                fallthrough

            case .targetStart:
                guard HTTP1Syntax.isTargetChar(input[i]) else {
                    return fail(.invalidRequestTarget(HTTP1Syntax.excerpt(bytes(i, i + 1))))
                }
                state = .target
                fallthrough

            case .target:
                let lineBase = base + startLineStart
                let targetStart = base + methodEnd + 1
                i = HTTP1Syntax.skipTargetChars(input, from: i, to: stop)
                if i - lineBase > maxLine { return fail(.requestTargetTooLong(limit: maxLine)) }
                if i == stop { break scanning }
                let byte = input[i]
                guard byte == HTTP1Syntax.sp else {
                    // `GET /` alone is an HTTP/0.9 simple request, which HTTP/1.1 does not support.
                    if byte == HTTP1Syntax.cr || byte == HTTP1Syntax.lf { return fail(.invalidVersion("")) }
                    return fail(.invalidRequestTarget(HTTP1Syntax.excerpt(bytes(targetStart, i + 1))))
                }
                targetEnd = i - base
                state = .version
                versionIndex = 0
                i += 1
                guard i < stop else { break scanning }
                fallthrough

            case .version:
                // HTTP-version = "HTTP/" DIGIT "." DIGIT (case-sensitive), then CRLF (request) or SP.
                // The usual request line ends in "HTTP/1.1" or "HTTP/1.0" and CR, all present: one
                // comparison of a word does what the octet loop below would, with the same outcome.
                if kind == .request, versionIndex == 0, i &+ 9 <= stop,
                    i &+ 8 - (base + startLineStart) <= maxLine
                {
                    let word = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                    // "HTTP/1.0" little-endian; masking the low bit of the last octet admits "1".
                    if word & 0xFEFF_FFFF_FFFF_FFFF == 0x302E_312F_5054_5448, input[i &+ 8] == HTTP1Syntax.cr {
                        major = 1
                        minor = UInt8(truncatingIfNeeded: word >> 56) &- 0x30
                        versionIndex = 9
                        state = .startLineLF
                        i &+= 9
                        guard i < stop else { break scanning }
                        fallthrough
                    }
                }
                let byte = input[i]
                let versionStart = i - versionIndex
                switch versionIndex {
                case 0..<5:
                    // "HTTP/" = 48 54 54 50 2F
                    let expected: UInt8 =
                        versionIndex == 0 ? 0x48 : versionIndex == 3 ? 0x50 : versionIndex == 4 ? 0x2F : 0x54
                    guard byte == expected else {
                        return fail(.invalidVersion(HTTP1Syntax.excerpt(bytes(versionStart, i + 1))))
                    }
                case 5:
                    guard HTTP1Syntax.isDigit(byte) else {
                        return fail(.invalidVersion(HTTP1Syntax.excerpt(bytes(versionStart, i + 1))))
                    }
                    major = byte &- 0x30
                case 6:
                    guard byte == UInt8(ascii: ".") else {
                        return fail(.invalidVersion(HTTP1Syntax.excerpt(bytes(versionStart, i + 1))))
                    }
                case 7:
                    guard HTTP1Syntax.isDigit(byte) else {
                        return fail(.invalidVersion(HTTP1Syntax.excerpt(bytes(versionStart, i + 1))))
                    }
                    minor = byte &- 0x30
                    // The version is complete: reject an unsupported major version now rather than after
                    // the rest of the line arrives.
                    if major != 1 { return fail(.unsupportedVersion(major: Int(major), minor: Int(minor))) }
                default:
                    if kind == .request {
                        if byte == HTTP1Syntax.cr {
                            state = .startLineLF
                        } else if byte == HTTP1Syntax.lf {
                            return fail(.bareLF)
                        } else {
                            return fail(.invalidVersion(HTTP1Syntax.excerpt(bytes(versionStart, i + 1))))
                        }
                    } else {
                        guard byte == HTTP1Syntax.sp else {
                            return fail(.invalidVersion(HTTP1Syntax.excerpt(bytes(versionStart, i + 1))))
                        }
                        state = .statusCode
                        statusDigits = 0
                        statusCode = 0
                    }
                }
                versionIndex += 1
                i += 1
                // The line so far, without the CR just consumed if the version ended the request line.
                if i - (base + startLineStart) - (state == .startLineLF ? 1 : 0) > maxLine {
                    guard kind == .request else { return fail(.startLineTooLong(limit: maxLine)) }
                    // The version has a fixed size: the method or the target made the line too long.
                    let methodLength = methodEnd - startLineStart
                    let targetLength = targetEnd - methodEnd - 1
                    return fail(
                        methodLength > targetLength
                            ? .methodTooLong(limit: maxLine) : .requestTargetTooLong(limit: maxLine))
                }

            case .startLineLF:
                guard input[i] == HTTP1Syntax.lf else { return fail(.bareCR) }
                i += 1
                fieldsStart = i - base
                state = .fieldLineStart
                guard i < stop else { break scanning }
                fallthrough

            case .fieldLineStart:
                let byte = input[i]
                if byte == HTTP1Syntax.cr {
                    state = .finalLF
                    i += 1
                    continue scanning
                }
                if byte == HTTP1Syntax.lf { return fail(.bareLF) }
                if HTTP1Syntax.isWhitespace(byte) {
                    if fieldCount == 0 {
                        return fail(kind == .trailers ? .obsoleteLineFolding : .whitespaceAfterStartLine)
                    }
                    guard allowsFolding else { return fail(.obsoleteLineFolding) }
                    if fieldIsContentLength {
                        let value = HTTP1Syntax.trimmingWhitespace(bytes(base + colon + 1, i - 2))
                        return fail(.invalidContentLength(HTTP1Syntax.excerpt(value) + " (folded)"))
                    }
                    sawFolding = true
                    state = .fieldValue
                    i += 1
                    continue scanning
                }
                fieldCount += 1
                if fieldCount > fieldLimit {
                    return fail(
                        kind == .trailers
                            ? .tooManyTrailerFields(limit: fieldLimit) : .tooManyFields(limit: fieldLimit))
                }
                lineStart = i - base
                state = .fieldName
                fallthrough

            case .fieldName:
                let nameStart = base + lineStart
                while i < stop, HTTP1Syntax.isTokenChar(input[i]) { i += 1 }
                if i == stop { break scanning }
                let byte = input[i]
                guard byte == HTTP1Syntax.colon else {
                    if HTTP1Syntax.isWhitespace(byte) {
                        return fail(.whitespaceBeforeColon(HTTP1Syntax.excerpt(bytes(nameStart, i))))
                    }
                    if byte == HTTP1Syntax.cr || byte == HTTP1Syntax.lf {
                        return fail(.missingColon(HTTP1Syntax.excerpt(bytes(nameStart, i))))
                    }
                    return fail(.invalidFieldName(HTTP1Syntax.excerpt(bytes(nameStart, i + 1))))
                }
                guard i > nameStart else { return fail(.invalidFieldName("")) }
                fieldIsFirstHost = false
                if kind == .request, i - nameStart == 4,
                    HTTP1Syntax.equalsLowercased(bytes(nameStart, i), "host")
                {
                    if hostCount == 0 { fieldIsFirstHost = true }
                    hostCount += 1
                }
                fieldIsContentLength =
                    kind != .trailers && i - nameStart == 14
                    && HTTP1Syntax.equalsLowercased(bytes(nameStart, i), "content-length")
                colon = i - base
                state = .fieldValue
                i += 1
                guard i < stop else { break scanning }
                fallthrough

            case .fieldValue:
                i = HTTP1Syntax.skipFieldValueChars(input, from: i, to: stop)
                if i == stop { break scanning }
                let byte = input[i]
                guard byte == HTTP1Syntax.cr else {
                    if byte == HTTP1Syntax.lf { return fail(.bareLF) }
                    return fail(
                        .invalidFieldValue(name: HTTP1Syntax.string(bytes(base + lineStart, base + colon))))
                }
                state = .fieldLF
                i += 1
                guard i < stop else { break scanning }
                fallthrough

            case .fieldLF:
                guard input[i] == HTTP1Syntax.lf else { return fail(.bareCR) }
                if fieldIsFirstHost {
                    hostValueStart = colon + 1
                    hostValueEnd = i - 1 - base
                }
                if fieldIsContentLength, let error = recordContentLength(bytes(base + colon + 1, i - 1)) {
                    return fail(error)
                }
                state = .fieldLineStart
                i += 1

            case .finalLF:
                guard input[i] == HTTP1Syntax.lf else { return fail(.bareCR) }
                i += 1
                scanned = i - base
                return .complete(end: scanned)

            // Status lines (responses) only.
            case .statusCode:
                // status-code = 3DIGIT, from 100 to 999, then SP.
                let byte = input[i]
                let codeStart = i - statusDigits
                if statusDigits < 3 {
                    guard HTTP1Syntax.isDigit(byte), statusDigits > 0 || byte != UInt8(ascii: "0") else {
                        return fail(.invalidStatusCode(HTTP1Syntax.excerpt(bytes(codeStart, i + 1))))
                    }
                    statusCode = statusCode * 10 + Int(byte &- 0x30)
                    statusDigits += 1
                } else if byte == HTTP1Syntax.sp {
                    state = .reason
                    reasonStart = i + 1 - base
                } else if byte == HTTP1Syntax.cr || byte == HTTP1Syntax.lf {
                    return fail(.invalidStatusLine("no SP after the status code"))
                } else {
                    return fail(.invalidStatusCode(HTTP1Syntax.excerpt(bytes(codeStart, i + 1))))
                }
                i += 1
                if i - (base + startLineStart) > maxLine { return fail(.startLineTooLong(limit: maxLine)) }

            case .reason:
                // Reason-phrase octets are exactly field-value octets (HTAB / SP / VCHAR / obs-text).
                i = HTTP1Syntax.skipFieldValueChars(input, from: i, to: stop)
                if i - (base + startLineStart) > maxLine { return fail(.startLineTooLong(limit: maxLine)) }
                if i == stop { break scanning }
                let byte = input[i]
                if byte == HTTP1Syntax.cr {
                    reasonEnd = i - base
                    state = .startLineLF
                    i += 1
                } else if byte == HTTP1Syntax.lf {
                    return fail(.bareLF)
                } else {
                    return fail(.invalidStatusLine("control character in the reason phrase"))
                }
            }
        }
        scanned = i - base
        if available > blockLimit {
            return .failed(
                kind == .trailers
                    ? .trailerBlockTooLarge(limit: blockLimit) : .headerBlockTooLarge(limit: blockLimit))
        }
        return .needMore
    }

    /// Records one Content-Length field value. RFC 9112 §6.3 item 5: a list is accepted when "all
    /// values in the list are valid, and all values in the list are the same"; anything else makes
    /// the framing invalid (400). Values must fit in 64 bits (RFC 9110 §8.6: "a recipient MUST
    /// anticipate potentially large decimal numerals and prevent parsing errors due to integer
    /// conversion overflows").
    private mutating func recordContentLength(_ raw: UnsafeRawBufferPointer) -> HTTP1ParseError? {
        let value = HTTP1Syntax.trimmingWhitespace(raw)
        var found = contentLength
        var start = 0
        while start <= value.count {
            var end = start
            while end < value.count, value[end] != HTTP1Syntax.comma { end += 1 }
            let element = HTTP1Syntax.trimmingWhitespace(
                UnsafeRawBufferPointer(rebasing: value[start..<end]))
            guard !element.isEmpty else { return .invalidContentLength(HTTP1Syntax.excerpt(value)) }
            var number: UInt64 = 0
            for byte in element {
                guard HTTP1Syntax.isDigit(byte) else {
                    return .invalidContentLength(HTTP1Syntax.excerpt(value))
                }
                let (times10, overflow) = number.multipliedReportingOverflow(by: 10)
                let (sum, carry) = times10.addingReportingOverflow(UInt64(byte &- 0x30))
                guard !overflow, !carry else { return .invalidContentLength(HTTP1Syntax.excerpt(value)) }
                number = sum
            }
            if let previous = found, previous != number {
                return .conflictingContentLengths(String(previous), String(number))
            }
            found = number
            start = end + 1
        }
        contentLength = found
        sawContentLength = true
        return nil
    }
}
