/// What one `HTTP1LineReader` call found.
enum HTTP1LineRead<Value> {
    /// The element is incomplete; nothing is consumed. Call again with the same octets and more
    /// (or with `atEOF`).
    case needMore
    /// The element, and how many octets from the front of the input it took.
    case value(Value, consumed: Int)
    /// The input is invalid (or a chunk is larger than allowed); nothing is consumed.
    case failed(HTTPStreamError)
}

/// Reads HTTP/1 one element at a time from the front of a buffer: a request or status line, a
/// field line, the empty line that ends a section, a chunk. The sans-IO half of `H1Connection`'s
/// low-level reads (lua-http's `read_request_line`, `read_header`, `read_body_chunk`, …); the
/// connection passes every octet received and not consumed yet, and drops what a call consumed.
///
/// The validation is the codec's own, not a second copy: start lines and field lines go through
/// `HTTP1HeadScanner` (the parser's pass 1), field values through `HTTP1FieldLines` (trimmed, an
/// obs-fold replaced by SP), chunk-size lines through `HTTP1ChunkLineScanner`. So the rules and
/// the errors are the parser's: CRLF only, no whitespace before a colon, obs-fold accepted only in
/// responses (`role == .client`; RFC 9112 §5.2), any number of empty lines before a start line
/// (RFC 9112 §2.2), every `HTTP1Limits` limit. The section limits (`maxHeaderBlockSize`,
/// `maxFieldCount` and the trailer ones) hold across calls: the reader counts the octets and
/// fields of the section it is in, from the start line (or the last chunk) to the empty line.
///
/// A call that needs more input keeps the scanner's progress, so a line trickling in octet by
/// octet is scanned once in total. That progress assumes the caller's buffer only grew since; a
/// call for another element, or fewer octets than were scanned, starts afresh.
struct HTTP1LineReader: Sendable {
    /// `.server` reads requests, `.client` reads responses.
    let role: HTTP1Role
    var limits: HTTP1Limits

    /// The section being read (nil between sections, e.g. in a body).
    private(set) var section: Section?
    /// The header section has had its start line and no field line yet (whitespace there is
    /// `whitespaceAfterStartLine`, RFC 9112 §2.2, rather than an obs-fold).
    private var atFirstField = false

    private enum Element: Sendable { case startLine, field }
    private struct Pending: Sendable {
        var element: Element
        var scanner: HTTP1HeadScanner
    }
    /// An element a previous call validated in part.
    private var pending: Pending?

    init(role: HTTP1Role, limits: HTTP1Limits = HTTP1Limits()) {
        self.role = role
        self.limits = limits
    }

    // MARK: - Start lines

    /// `method SP request-target SP HTTP-version CRLF` (RFC 9112 §3); nil when the input ended
    /// before it (after nothing but empty lines).
    mutating func readRequestLine(_ input: UnsafeRawBufferPointer, atEOF: Bool)
        -> HTTP1LineRead<(method: String, target: String, version: HTTP1Version)?>
    {
        switch readStartLine(.request, input, atEOF: atEOF) {
        case .needMore: return .needMore
        case .failed(let error): return .failed(error)
        case .value(let scanner, let consumed):
            guard let scanner else { return .value(nil, consumed: consumed) }
            let method = Self.string(input, scanner.startLineStart, scanner.methodEnd)
            let target = Self.string(input, scanner.methodEnd + 1, scanner.targetEnd)
            return .value((method, target, Self.version(scanner)), consumed: consumed)
        }
    }

    /// `HTTP-version SP status-code SP [ reason-phrase ] CRLF` (RFC 9112 §4); nil when the input
    /// ended before it.
    mutating func readStatusLine(_ input: UnsafeRawBufferPointer, atEOF: Bool)
        -> HTTP1LineRead<(version: HTTP1Version, status: Int, reason: String)?>
    {
        switch readStartLine(.response, input, atEOF: atEOF) {
        case .needMore: return .needMore
        case .failed(let error): return .failed(error)
        case .value(let scanner, let consumed):
            guard let scanner else { return .value(nil, consumed: consumed) }
            let reason = Self.string(input, scanner.reasonStart, scanner.reasonEnd)
            return .value((Self.version(scanner), scanner.statusCode, reason), consumed: consumed)
        }
    }

    /// Scans up to the end of the start line (after any empty lines) and opens a header section.
    private mutating func readStartLine(
        _ kind: HTTP1HeadScanner.Kind, _ input: UnsafeRawBufferPointer, atEOF: Bool
    ) -> HTTP1LineRead<HTTP1HeadScanner?> {
        var scanner = resume(.startLine, input) ?? HTTP1HeadScanner(kind: kind, allowsFolding: false)
        if scanner.kind != kind { scanner = HTTP1HeadScanner(kind: kind, allowsFolding: false) }
        while true {
            let (outcome, end) = Self.scanToLineEnd(&scanner, input, limits: limits)
            if case .failed(let error) = outcome { return .failed(.protocolViolation(error)) }
            if scanner.state == .fieldLineStart {
                section = Section(isTrailers: false, size: end, fields: 0)
                atFirstField = true
                return .value(scanner, consumed: end)
            }
            // An empty line before the start line was skipped: scan the next line.
            if end < input.count { continue }
            if atEOF {
                return scanner.isIdle ? .value(nil, consumed: 0) : .failed(.protocolViolation(.unexpectedEOF))
            }
            pending = Pending(element: .startLine, scanner: scanner)
            return .needMore
        }
    }

    // MARK: - Fields

    /// One field line (with its obs-fold continuation lines, in a response): the name as
    /// received, the value trimmed and unfolded. nil when the input starts with the empty line
    /// that ends the section, which is not consumed (`readEndOfSection` takes it).
    mutating func readField(_ input: UnsafeRawBufferPointer, atEOF: Bool)
        -> HTTP1LineRead<(name: String, value: String)?>
    {
        let current = section ?? Section(isTrailers: false, size: 0, fields: 0)
        section = current
        // The scanner checks one field at a time against what is left of the section's budget.
        var sectionLimits = limits
        sectionLimits.maxTrailerBlockSize = max(0, current.blockLimit(limits) - current.size)
        sectionLimits.maxTrailerFieldCount = max(0, current.fieldLimit(limits) - current.fields)
        var scanner = resume(.field, input) ?? HTTP1HeadScanner(kind: .trailers, allowsFolding: role == .client)
        while true {
            if scanner.state == .fieldLineStart && scanner.fieldCount == 1 {
                // A field line ended. Only a response may continue it on the next line (obs-fold,
                // RFC 9112 §5.2), so only there does the next octet matter.
                let end = scanner.scanned
                let continues: Bool? =
                    !scanner.allowsFolding
                    ? false : end < input.count ? HTTP1Syntax.isWhitespace(input[end]) : atEOF ? false : nil
                guard let continues else {
                    pending = Pending(element: .field, scanner: scanner)
                    return .needMore
                }
                if !continues {
                    section?.size += end
                    section?.fields += 1
                    atFirstField = false
                    return .value(Self.field(UnsafeRawBufferPointer(rebasing: input[..<end])), consumed: end)
                }
            }
            switch Self.scanToLineEnd(&scanner, input, limits: sectionLimits).0 {
            case .failed(let error):
                return .failed(.protocolViolation(sectionError(error, current, fieldsSeen: scanner.fieldCount)))
            case .complete:
                // The empty line (a field line is complete only once the next line starts).
                return .value(nil, consumed: 0)
            case .needMore:
                // At the end of a line: back to the top. Otherwise the line is incomplete.
                if scanner.state == .fieldLineStart && scanner.fieldCount == 1 { continue }
                if atEOF { return .failed(.protocolViolation(.unexpectedEOF)) }
                pending = Pending(element: .field, scanner: scanner)
                return .needMore
            }
        }
    }

    /// Whether the input starts with the empty line that ends the section (consumed: true) or with
    /// a field line (nothing consumed: false). Anything else is an error.
    mutating func readEndOfSection(_ input: UnsafeRawBufferPointer, atEOF: Bool) -> HTTP1LineRead<Bool> {
        if let first = input.first, HTTP1Syntax.isTokenChar(first) { return .value(false, consumed: 0) }
        // Not a field line: the field scanner validates the empty line, or says what is wrong.
        switch readField(input, atEOF: atEOF) {
        case .needMore: return .needMore
        case .failed(let error): return .failed(error)
        case .value(let field, _):
            guard field == nil else { return .value(false, consumed: 0) }
            enterBody()
            return .value(true, consumed: 2)
        }
    }

    /// The octets and field lines of the section being read.
    struct Section: Sendable, Equatable {
        var isTrailers: Bool
        var size: Int
        var fields: Int

        func blockLimit(_ limits: HTTP1Limits) -> Int {
            isTrailers ? limits.maxTrailerBlockSize : limits.maxHeaderBlockSize
        }

        func fieldLimit(_ limits: HTTP1Limits) -> Int {
            isTrailers ? limits.maxTrailerFieldCount : limits.maxFieldCount
        }
    }

    /// The parser's error for what the field scanner reported: limits as configured and named for
    /// the section, and whitespace right after the start line named as such.
    private func sectionError(_ error: HTTP1ParseError, _ section: Section, fieldsSeen: Int) -> HTTP1ParseError {
        switch error {
        case .trailerBlockTooLarge:
            return section.isTrailers
                ? .trailerBlockTooLarge(limit: limits.maxTrailerBlockSize)
                : .headerBlockTooLarge(limit: limits.maxHeaderBlockSize)
        case .tooManyTrailerFields:
            return section.isTrailers
                ? .tooManyTrailerFields(limit: limits.maxTrailerFieldCount)
                : .tooManyFields(limit: limits.maxFieldCount)
        case .obsoleteLineFolding where fieldsSeen == 0 && atFirstField && !section.isTrailers:
            return .whitespaceAfterStartLine
        default:
            return error
        }
    }

    // MARK: - Chunks

    /// One chunk of a chunked body (RFC 9112 §7.1): the range of its data in `input` and its
    /// extensions as received (`;name=value…`, empty without). Nothing is consumed until the
    /// chunk-size line, the data and the CRLF after it are all there. nil for the last chunk
    /// (`0`), whose line is consumed; the trailer section follows (`readField`,
    /// `readEndOfSection`). A chunk larger than `limit` octets is `bodyTooLarge`, as soon as its
    /// size is known.
    mutating func readChunk(_ input: UnsafeRawBufferPointer, atEOF: Bool, limit: Int)
        -> HTTP1LineRead<(data: Range<Int>, extensions: String)?>
    {
        pending = nil
        var line = HTTP1ChunkLineScanner()
        var position = 0
        switch line.scan(input, &position, extensionLimit: limits.maxChunkExtensionLength) {
        case .failed(let error): return .failed(.protocolViolation(error))
        case .needMore: return atEOF ? .failed(.protocolViolation(.unexpectedEOF)) : .needMore
        case .complete: break
        }
        let extensions = HTTP1Syntax.string(
            HTTP1Syntax.trimmingWhitespace(UnsafeRawBufferPointer(rebasing: input[line.digits..<position - 2])))
        if line.size == 0 {
            section = Section(isTrailers: true, size: 0, fields: 0)
            atFirstField = false
            return .value(nil, consumed: position)
        }
        guard line.size <= UInt64(max(0, limit)) else { return .failed(.bodyTooLarge(limit: limit)) }
        let available = UInt64(input.count - position)
        if available < line.size + 2 {
            // Fail early when the octet after the data is already there and is not CR.
            if available > line.size && input[position + Int(line.size)] != HTTP1Syntax.cr {
                return .failed(.protocolViolation(.missingChunkTerminator))
            }
            return atEOF ? .failed(.protocolViolation(.unexpectedEOF)) : .needMore
        }
        let dataEnd = position + Int(line.size)
        guard input[dataEnd] == HTTP1Syntax.cr, input[dataEnd + 1] == HTTP1Syntax.lf else {
            return .failed(.protocolViolation(.missingChunkTerminator))
        }
        enterBody()
        return .value((position..<dataEnd, extensions), consumed: dataEnd + 2)
    }

    // MARK: - Plain bodies

    /// Body octets by count (lua-http's `read_body_by_length`): exactly `count` octets when
    /// `count >= 0` (an input that ends first is `unexpectedEOF`, and nothing is consumed); up to
    /// `-count` octets when negative, as soon as there is at least one (none at EOF).
    mutating func readBytes(_ count: Int, _ input: UnsafeRawBufferPointer, atEOF: Bool) -> HTTP1LineRead<Range<Int>> {
        let wanted = count >= 0 ? count : count == .min ? Int.max : -count
        if input.count >= wanted || (count < 0 && (!input.isEmpty || atEOF)) {
            let end = min(wanted, input.count)
            enterBody()
            return .value(0..<end, consumed: end)
        }
        return atEOF ? .failed(.protocolViolation(.unexpectedEOF)) : .needMore
    }

    /// Every octet until the input ends (a body delimited by the connection's close, RFC 9112
    /// §6.3 item 8); more than `limit` octets is `bodyTooLarge`, as soon as they arrive.
    mutating func readToEnd(_ input: UnsafeRawBufferPointer, atEOF: Bool, limit: Int) -> HTTP1LineRead<Range<Int>> {
        guard input.count <= limit else { return .failed(.bodyTooLarge(limit: limit)) }
        guard atEOF else { return .needMore }
        enterBody()
        return .value(0..<input.count, consumed: input.count)
    }

    /// A section ended or body octets were read: no section is open.
    private mutating func enterBody() {
        pending = nil
        section = nil
        atFirstField = false
    }

    // MARK: - Helpers

    /// The scanner kept by the previous call if it was for the same element and the input still
    /// holds what it scanned; clears it either way.
    private mutating func resume(_ element: Element, _ input: UnsafeRawBufferPointer) -> HTTP1HeadScanner? {
        defer { pending = nil }
        guard let pending, pending.element == element, pending.scanner.scanned <= input.count else { return nil }
        return pending.scanner
    }

    /// Runs `scanner` over the input up to the next LF after what it already scanned, so that it
    /// stops at the end of a line instead of running on into the next one.
    private static func scanToLineEnd(
        _ scanner: inout HTTP1HeadScanner, _ input: UnsafeRawBufferPointer, limits: HTTP1Limits
    ) -> (HTTP1HeadScanner.Outcome, end: Int) {
        let newline = HTTP1Syntax.firstIndex(of: HTTP1Syntax.lf, in: input, from: scanner.scanned, to: input.count)
        let end = newline < input.count ? newline + 1 : input.count
        return (scanner.scan(UnsafeRawBufferPointer(rebasing: input[..<end]), from: 0, limits: limits), end)
    }

    /// The field in `block`, one field line and its continuation lines, as the scanner validated
    /// them. (`HTTP1FieldLines` walks a section up to the CR two octets before its end, which for
    /// a block without the empty line is the CR of the last line: the walk is the same.)
    private static func field(_ block: UnsafeRawBufferPointer) -> (name: String, value: String) {
        var lines = HTTP1FieldLines(block, from: 0)
        guard let line = lines.next() else { return ("", "") }
        return (HTTP1Syntax.string(line.name), HTTP1FieldLines.value(of: line))
    }

    private static func string(_ input: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> String {
        HTTP1Syntax.string(UnsafeRawBufferPointer(rebasing: input[start..<end]))
    }

    private static func version(_ scanner: HTTP1HeadScanner) -> HTTP1Version {
        scanner.minor == 0 ? .http10 : .http11
    }
}
