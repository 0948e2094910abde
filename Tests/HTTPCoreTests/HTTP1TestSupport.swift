import XCTest

@testable import HTTPCore

/// One parser event as the tests compare them: body ranges are resolved to bytes, and consecutive
/// body events are merged (their boundaries depend on how the input was split, nothing else).
enum HTTP1TestEvent: Equatable, CustomStringConvertible {
    case head(HTTP1MessageHead)
    case body([UInt8])
    case trailers(Headers)
    case end
    case switched
    case error(HTTP1ParseError)

    var description: String {
        switch self {
        case .head(let head):
            let fields = head.headers.fields.map { "\($0.name): \($0.value)" }.joined(separator: " | ")
            return
                "head(\(head.version) \(head.status.map(String.init) ?? "") [\(fields)] \(head.framing))"
        case .body(let bytes): return "body(\(String(decoding: bytes, as: UTF8.self).debugDescription))"
        case .trailers(let headers):
            return "trailers(\(headers.fields.map { "\($0.name): \($0.value)" }))"
        case .end: return "end"
        case .switched: return "switched"
        case .error(let error): return "error(\(error))"
        }
    }
}

/// Collects absolute input offsets `drive` reports: just past each head (`headEnds`), or just
/// past each message (`messageEnds`).
final class OffsetRecorder {
    var offsets: [Int] = []
}

/// Drives `parser` the way a connection does: input arrives in pieces of `pieceSize` octets, the
/// driver keeps what was not consumed, parses until no event comes, then feeds the next piece.
/// `inputEnded()` is called at the end when `endInput`. Stops at the first terminal event, and —
/// when `stopAtProtocolSwitch` — after the `.messageEnd` of a request asking to switch protocols
/// (where llhttp pauses).
func drive(
    _ parser: inout HTTP1Parser, _ input: [UInt8], pieceSize: Int = .max, endInput: Bool = false,
    stopAtProtocolSwitch: Bool = false, headEnds: OffsetRecorder? = nil,
    file: StaticString = #filePath, line: UInt = #line
) -> [HTTP1TestEvent] {
    var pieces: [[UInt8]] = []
    var start = 0
    while start < input.count {
        let end = input.count - start > pieceSize ? start + pieceSize : input.count
        pieces.append(Array(input[start..<end]))
        start = end
    }
    return drive(
        &parser, pieces: pieces, endInput: endInput, stopAtProtocolSwitch: stopAtProtocolSwitch,
        headEnds: headEnds,
        file: file, line: line)
}

/// Drives `parser` with input arriving in exactly these pieces.
func drive(
    _ parser: inout HTTP1Parser, pieces: [[UInt8]], endInput: Bool = false,
    stopAtProtocolSwitch: Bool = false,
    headEnds: OffsetRecorder? = nil, messageEnds: OffsetRecorder? = nil, file: StaticString = #filePath,
    line: UInt = #line
) -> [HTTP1TestEvent] {
    var events: [HTTP1TestEvent] = []
    var consumedTotal = 0
    var buffer: [UInt8] = []
    var nextPiece = 0
    var lastHeadSwitches = false
    var iterations = 0
    func record(_ event: HTTP1TestEvent) {
        if case .body(let more) = event, case .body(let previous)? = events.last {
            events[events.count - 1] = .body(previous + more)
        } else {
            events.append(event)
        }
    }
    while true {
        while true {
            iterations += 1
            if iterations > 10_000_000 {
                XCTFail("parser did not settle (busy loop?)", file: file, line: line)
                return events
            }
            let result = buffer.withUnsafeBytes { parser.parse($0) }
            XCTAssert(
                result.consumed >= 0 && result.consumed <= buffer.count,
                "consumed \(result.consumed) of \(buffer.count)",
                file: file, line: line)
            guard let event = result.event else {
                buffer.removeFirst(result.consumed)
                consumedTotal += result.consumed
                break
            }
            switch event {
            case .head(let head):
                lastHeadSwitches = head.requestsProtocolSwitch
                headEnds?.offsets.append(consumedTotal + result.consumed)
                record(.head(head))
            case .body(let range):
                XCTAssert(
                    range.lowerBound >= 0 && range.upperBound <= result.consumed, "body range \(range)",
                    file: file, line: line)
                record(.body(Array(buffer[range])))
            case .trailers(let trailers): record(.trailers(trailers))
            case .messageEnd:
                messageEnds?.offsets.append(consumedTotal + result.consumed)
                record(.end)
            case .switchedProtocols: record(.switched)
            case .error(let error): record(.error(error))
            }
            buffer.removeFirst(result.consumed)
            consumedTotal += result.consumed
            if event.isTerminal { return events }
            if case .messageEnd = event, stopAtProtocolSwitch, lastHeadSwitches { return events }
        }
        if nextPiece == pieces.count { break }
        buffer.append(contentsOf: pieces[nextPiece])
        nextPiece += 1
    }
    if endInput, let event = parser.inputEnded() {
        switch event {
        case .messageEnd: record(.end)
        case .error(let error): record(.error(error))
        case .switchedProtocols: record(.switched)
        default: XCTFail("unexpected event from inputEnded: \(event)", file: file, line: line)
        }
    }
    return events
}

/// Parses `text` whole and octet by octet, asserts both give the same events, and returns them.
@discardableResult
func parseBothWays(
    _ text: String, role: HTTP1Role = .server, endInput: Bool = false,
    configure: (inout HTTP1Parser) -> Void = { _ in },
    file: StaticString = #filePath, line: UInt = #line
) -> [HTTP1TestEvent] {
    parseBothWays(
        Array(text.utf8), role: role, endInput: endInput, configure: configure, file: file, line: line)
}

@discardableResult
func parseBothWays(
    _ bytes: [UInt8], role: HTTP1Role = .server, endInput: Bool = false,
    configure: (inout HTTP1Parser) -> Void = { _ in },
    file: StaticString = #filePath, line: UInt = #line
) -> [HTTP1TestEvent] {
    var whole = HTTP1Parser(role: role)
    configure(&whole)
    var trickled = HTTP1Parser(role: role)
    configure(&trickled)
    let wholeEvents = drive(&whole, bytes, endInput: endInput, file: file, line: line)
    let trickledEvents = drive(
        &trickled, bytes, pieceSize: 1, endInput: endInput, file: file, line: line)
    XCTAssertEqual(wholeEvents, trickledEvents, "whole vs. octet by octet", file: file, line: line)
    return wholeEvents
}

/// The head of the first event, or a failure.
func firstHead(_ events: [HTTP1TestEvent], file: StaticString = #filePath, line: UInt = #line)
    -> HTTP1MessageHead?
{
    for event in events { if case .head(let head) = event { return head } }
    XCTFail("no head in \(events)", file: file, line: line)
    return nil
}

/// The error the events end with, if any.
func finalError(_ events: [HTTP1TestEvent]) -> HTTP1ParseError? {
    if case .error(let error)? = events.last { return error }
    return nil
}

extension Headers {
    /// Test shorthand: fields from name/value pairs.
    init(_ pairs: [(String, String)]) {
        self.init()
        for (name, value) in pairs { append(name, value) }
    }

    var pairs: [String] { fields.map { "\($0.name): \($0.value)" } }
}

// MARK: - Shared cases

/// Invalid start lines with the parser's error for each: lua-http's h1_connection_spec lists and
/// a few more. The parser and the low-level reader (`HTTP1LineReader`) must agree on every one.
enum BadStartLines {
    static let requests: [(String, HTTP1ParseError)] = [
        ("invalid request line", .invalidVersion("l")),
        (" / HTTP/1.1", .invalidMethod(" ")),
        ("HTTP/1.1", .invalidMethod("HTTP/")),
        ("GET HTTP/1.0", .invalidVersion("")),  // no target: "HTTP/1.0" is the target
        ("GET  HTTP/1.0", .invalidRequestTarget(" ")),  // double space = empty target
        ("GET  / HTTP/1.1", .invalidRequestTarget(" ")),
        ("GET /  HTTP/1.1", .invalidVersion(" ")),
        ("GET / HTP/1.1", .invalidVersion("HTP")),
        ("GET / HTTP 1.1", .invalidVersion("HTTP ")),
        ("GET / HTTP/1", .invalidVersion("HTTP/1\\x0D")),
        ("GET / HTTP/1.1 ", .invalidVersion("HTTP/1.1 ")),
        ("GET / http/1.1", .invalidVersion("h")),
        ("GET / HTTP/11.1", .invalidVersion("HTTP/11")),
        ("GET / HTTP/1.10", .invalidVersion("HTTP/1.10")),
        ("GE(T / HTTP/1.1", .invalidMethod("GE(")),
        ("GET\t/ HTTP/1.1", .invalidMethod("GET\\x09")),
        ("GET /a\u{7F} HTTP/1.1", .invalidRequestTarget("/a\\x7F")),
        ("GET /é HTTP/1.1", .invalidRequestTarget("/\\xC3")),
        ("GET /a\tb HTTP/1.1", .invalidRequestTarget("/a\\x09")),
    ]

    /// lua-http's 16 invalid status lines.
    static let statuses: [(String, HTTP1ParseError)] = [
        ("invalid status line", .invalidVersion("i")),
        ("HTTP/0 200 OK", .invalidVersion("HTTP/0 ")),
        ("HTTP/0.0 200 OK", .unsupportedVersion(major: 0, minor: 0)),
        ("HTTP/2.0 200 OK", .unsupportedVersion(major: 2, minor: 0)),
        ("HTTP/1 200 OK", .invalidVersion("HTTP/1 ")),
        ("HTTP/.1 200 OK", .invalidVersion("HTTP/.")),
        ("HTP/1.1 200 OK", .invalidVersion("HTP")),
        ("1.1 200 OK", .invalidVersion("1")),
        (" 200 OK", .invalidVersion(" ")),
        ("200 OK", .invalidVersion("2")),
        ("HTTP/1.1 0 OK", .invalidStatusCode("0")),
        ("HTTP/1.1 1000 OK", .invalidStatusCode("1000")),
        ("HTTP/1.1  OK", .invalidStatusCode(" ")),
        ("HTTP/1.1 OK", .invalidStatusCode("O")),
        ("HTTP/1.1 200", .invalidStatusLine("no SP after the status code")),
        ("HTTP/1.1 200 OK\nHeader: value", .bareLF),
    ]
}

// MARK: - HTTP1LineReader

/// One `HTTP1LineReader` result as the tests compare them, the value described as text.
enum LineReadResult: Equatable, CustomStringConvertible {
    case needMore
    case value(String, consumed: Int)
    case failed(HTTPStreamError)

    var description: String {
        switch self {
        case .needMore: return "needMore"
        case .value(let text, let consumed): return "value(\(text.debugDescription), consumed: \(consumed))"
        case .failed(let error): return "failed(\(error))"
        }
    }

    /// A protocol violation: what the parser would report.
    static func violation(_ error: HTTP1ParseError) -> LineReadResult { .failed(.protocolViolation(error)) }
}

/// The element a test reads with `HTTP1LineReader`, and how its value is written in expectations:
/// a request line as `GET / HTTP/1.1` (nil: `EOF`), a status line as `HTTP/1.1 200 [OK]`, a field
/// as `name: [value]` (nil: `end`), the end of a section as `true`/`false`, a chunk as
/// `data [extensions]` (nil: `last`), body octets as text.
enum LineElement {
    case requestLine, statusLine, field, endOfSection
    case chunk(limit: Int)
    case bytes(Int)
    case toEnd(limit: Int)

    static let chunk = LineElement.chunk(limit: 1 << 20)

    func read(_ reader: inout HTTP1LineReader, _ input: UnsafeRawBufferPointer, atEOF: Bool) -> LineReadResult {
        func text(_ range: Range<Int>) -> String { String(decoding: input[range], as: UTF8.self) }
        switch self {
        case .requestLine:
            return Self.result(reader.readRequestLine(input, atEOF: atEOF)) {
                $0.map { "\($0.method) \($0.target) \($0.version)" } ?? "EOF"
            }
        case .statusLine:
            return Self.result(reader.readStatusLine(input, atEOF: atEOF)) {
                $0.map { "\($0.version) \($0.status) [\($0.reason)]" } ?? "EOF"
            }
        case .field:
            return Self.result(reader.readField(input, atEOF: atEOF)) {
                $0.map { "\($0.name): [\($0.value)]" } ?? "end"
            }
        case .endOfSection:
            return Self.result(reader.readEndOfSection(input, atEOF: atEOF)) { "\($0)" }
        case .chunk(let limit):
            return Self.result(reader.readChunk(input, atEOF: atEOF, limit: limit)) {
                $0.map { "\(text($0.data)) [\($0.extensions)]" } ?? "last"
            }
        case .bytes(let count):
            return Self.result(reader.readBytes(count, input, atEOF: atEOF), text)
        case .toEnd(let limit):
            return Self.result(reader.readToEnd(input, atEOF: atEOF, limit: limit), text)
        }
    }

    private static func result<T>(_ read: HTTP1LineRead<T>, _ describe: (T) -> String) -> LineReadResult {
        switch read {
        case .needMore: return .needMore
        case .value(let value, let consumed): return .value(describe(value), consumed: consumed)
        case .failed(let error): return .failed(error)
        }
    }
}

/// A connection's input as `HTTP1LineReader` sees it: octets received and not consumed, read one
/// element after another.
struct LineReaderHarness {
    var reader: HTTP1LineReader
    var input: [UInt8]
    /// The peer closed after `input`.
    var eof: Bool

    init(_ input: String, role: HTTP1Role = .server, limits: HTTP1Limits = HTTP1Limits(), eof: Bool = false) {
        self.init(Array(input.utf8), role: role, limits: limits, eof: eof)
    }

    init(_ input: [UInt8], role: HTTP1Role = .server, limits: HTTP1Limits = HTTP1Limits(), eof: Bool = false) {
        reader = HTTP1LineReader(role: role, limits: limits)
        self.input = input
        self.eof = eof
    }

    /// Reads the next element with the input arriving one octet at a time, as on a slow
    /// connection: each call sees every octet so far (a call that needs more consumes nothing) and
    /// the reader keeps its progress; a call at EOF follows when the element is still incomplete.
    /// Asserts that reading all of the input at once gives the same result (`trickle: false` reads
    /// only at once, for the "up to" reads, which return as soon as one octet is there). Drops what
    /// the element consumed from `input`.
    @discardableResult
    mutating func read(
        _ element: LineElement, trickle: Bool = true, file: StaticString = #filePath, line: UInt = #line
    ) -> LineReadResult {
        var atOnceReader = reader
        let atOnce = input.withUnsafeBytes { element.read(&atOnceReader, $0, atEOF: eof) }
        guard trickle else {
            reader = atOnceReader
            if case .value(_, let consumed) = atOnce { input.removeFirst(consumed) }
            return atOnce
        }
        var result = LineReadResult.needMore
        for count in 0...input.count {
            result = input.withUnsafeBytes {
                element.read(&reader, UnsafeRawBufferPointer(rebasing: $0[..<count]), atEOF: false)
            }
            if result != .needMore { break }
        }
        if result == .needMore && eof { result = input.withUnsafeBytes { element.read(&reader, $0, atEOF: true) } }
        XCTAssertEqual(result, atOnce, "octet by octet vs. all at once", file: file, line: line)
        if case .value(_, let consumed) = result { input.removeFirst(consumed) }
        return result
    }

    /// The first element of `text` read with a fresh reader (see `read`).
    static func first(
        _ element: LineElement, _ text: String, role: HTTP1Role = .server, limits: HTTP1Limits = HTTP1Limits(),
        eof: Bool = false, file: StaticString = #filePath, line: UInt = #line
    ) -> LineReadResult {
        var harness = LineReaderHarness(text, role: role, limits: limits, eof: eof)
        return harness.read(element, file: file, line: line)
    }
}

/// xorshift64*: pseudo-random numbers that are the same on every run, for tests that try many
/// generated inputs.
struct XorShiftGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
