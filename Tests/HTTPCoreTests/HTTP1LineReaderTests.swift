import XCTest

@testable import HTTPCore

/// `HTTP1LineReader`, the sans-IO half of `H1Connection`'s low-level reads, fed octet by octet and
/// all at once (`LineReaderHarness`). The cases follow lua-http's h1_connection spec and add the
/// codec's rules where lua-http is looser or crashes.
final class HTTP1LineReaderTests: XCTestCase {
    private func first(
        _ element: LineElement, _ text: String, role: HTTP1Role = .server, limits: HTTP1Limits = HTTP1Limits(),
        eof: Bool = false, file: StaticString = #filePath, line: UInt = #line
    ) -> LineReadResult {
        LineReaderHarness.first(element, text, role: role, limits: limits, eof: eof, file: file, line: line)
    }

    // MARK: - Request lines

    func testRequestLines() {
        XCTAssertEqual(first(.requestLine, "GET / HTTP/1.1\r\n"), .value("GET / HTTP/1.1", consumed: 16))
        XCTAssertEqual(first(.requestLine, "POST /foo HTTP/1.0\r\nrest"), .value("POST /foo HTTP/1.0", consumed: 20))
        XCTAssertEqual(first(.requestLine, "OPTIONS * HTTP/1.1\r\n"), .value("OPTIONS * HTTP/1.1", consumed: 20))
        // Any token is a method (lua-http accepts letters and digits only).
        XCTAssertEqual(first(.requestLine, "M-SEARCH * HTTP/1.1\r\n"), .value("M-SEARCH * HTTP/1.1", consumed: 21))
        XCTAssertEqual(
            first(.requestLine, "CONNECT example.com:443 HTTP/1.1\r\n"),
            .value("CONNECT example.com:443 HTTP/1.1", consumed: 34))
        // RFC 9110 §2.5: a higher minor version is processed as 1.1.
        XCTAssertEqual(first(.requestLine, "GET / HTTP/1.2\r\n"), .value("GET / HTTP/1.1", consumed: 16))
        XCTAssertEqual(first(.requestLine, "GET / HTTP/1.1"), .needMore)
    }

    func testEmptyLinesBeforeTheRequestLineAreSkipped() {
        XCTAssertEqual(first(.requestLine, "\r\nGET / HTTP/1.1\r\n"), .value("GET / HTTP/1.1", consumed: 18))
        // Like the parser, any number (within maxHeaderBlockSize), not just lua-http's one.
        XCTAssertEqual(first(.requestLine, "\r\n\r\nGET / HTTP/1.1\r\n"), .value("GET / HTTP/1.1", consumed: 20))
        XCTAssertEqual(first(.requestLine, "\nGET / HTTP/1.1\r\n"), .violation(.bareLF))
        var limits = HTTP1Limits()
        limits.maxHeaderBlockSize = 64
        let empties = String(repeating: "\r\n", count: 40)
        XCTAssertEqual(
            first(.requestLine, empties + "GET / HTTP/1.1\r\n", limits: limits),
            .violation(.headerBlockTooLarge(limit: 64)))
    }

    func testInvalidRequestLines() {
        // The parser's cases, and a few that lua-http's pattern also rejects.
        let cases: [(String, HTTP1ParseError)] =
            BadStartLines.requests + [
                ("GET / HTTP/2.0", .unsupportedVersion(major: 2, minor: 0)),
                ("GET / HTTP/1.1\nHeader: value", .bareLF),
                ("GET / HTTP/1.1\rX", .bareCR),
                ("GET /a b HTTP/1.1", .invalidVersion("b")),
                ("GET /\0 HTTP/1.1", .invalidRequestTarget("/\\x00")),
                ("GET\r\n", .invalidMethod("GET\\x0D")),
            ]
        for (line, error) in cases {
            XCTAssertEqual(first(.requestLine, line + "\r\n"), .violation(error), line.debugDescription)
        }
    }

    func testOverlongRequestLinesFailBeforeTheLineEnds() {
        let longTarget = "GET /" + String(repeating: "a", count: 10_000) + " HTTP/1.1\r\n"
        var harness = LineReaderHarness(longTarget)
        XCTAssertEqual(harness.read(.requestLine), .violation(.requestTargetTooLong(limit: 8192)))
        let longMethod = String(repeating: "M", count: 10_000) + " / HTTP/1.1\r\n"
        XCTAssertEqual(first(.requestLine, longMethod), .violation(.methodTooLong(limit: 8192)))
        // Without an end of line in sight: the limit is what stops it, after limit + 1 octets.
        var partial = HTTP1LineReader(role: .server)
        let bytes = Array(longTarget.utf8)
        let outcome = bytes.withUnsafeBytes {
            LineElement.requestLine.read(&partial, UnsafeRawBufferPointer(rebasing: $0[..<8193]), atEOF: false)
        }
        XCTAssertEqual(outcome, .violation(.requestTargetTooLong(limit: 8192)))
        var limits = HTTP1Limits()
        limits.maxStartLineLength = 16
        XCTAssertEqual(
            first(.requestLine, "GET /0123456789ab HTTP/1.1\r\n", limits: limits),
            .violation(.requestTargetTooLong(limit: 16)))
        XCTAssertEqual(
            first(.requestLine, "GET /0123456789 HTTP/1.1\r\n", limits: limits),
            .violation(.requestTargetTooLong(limit: 16)))
        XCTAssertEqual(
            first(.requestLine, "GET / HTTP/1.1\r\n", limits: limits), .value("GET / HTTP/1.1", consumed: 16))
    }

    func testRequestLineAtEndOfInput() {
        XCTAssertEqual(first(.requestLine, "", eof: true), .value("EOF", consumed: 0))
        XCTAssertEqual(first(.requestLine, "\r\n", eof: true), .value("EOF", consumed: 0))
        XCTAssertEqual(first(.requestLine, "GET / HT", eof: true), .violation(.unexpectedEOF))
        // As in the parser, a lone CR between messages is not a message begun.
        XCTAssertEqual(first(.requestLine, "\r", eof: true), .value("EOF", consumed: 0))
    }

    // MARK: - Status lines

    func testStatusLines() {
        XCTAssertEqual(
            first(.statusLine, "HTTP/1.1 200 OK\r\n", role: .client), .value("HTTP/1.1 200 [OK]", consumed: 17))
        XCTAssertEqual(
            first(.statusLine, "HTTP/1.0 404 Not Found\r\n", role: .client),
            .value("HTTP/1.0 404 [Not Found]", consumed: 24))
        XCTAssertEqual(first(.statusLine, "HTTP/1.1 200 \r\n", role: .client), .value("HTTP/1.1 200 []", consumed: 15))
        XCTAssertEqual(
            first(.statusLine, "HTTP/1.1 999 \tx\u{FF}\r\n", role: .client),
            .value("HTTP/1.1 999 [\tx\u{FF}]", consumed: 19))
        XCTAssertEqual(
            first(.statusLine, "\r\nHTTP/1.1 100 Continue\r\n", role: .client),
            .value("HTTP/1.1 100 [Continue]", consumed: 25))
        XCTAssertEqual(first(.statusLine, "", role: .client, eof: true), .value("EOF", consumed: 0))
        XCTAssertEqual(first(.statusLine, "HTTP/1.1 200 O", role: .client, eof: true), .violation(.unexpectedEOF))
    }

    func testInvalidStatusLines() {
        let cases: [(String, HTTP1ParseError)] =
            BadStartLines.statuses + [
                ("HTTP/1.1 099 OK", .invalidStatusCode("0")),
                // lua-http passes control characters through in the reason phrase.
                (
                    "HTTP/1.1 999 weird\u{1}\u{7F}and wonderful",
                    .invalidStatusLine("control character in the reason phrase")
                ),
            ]
        for (line, error) in cases {
            XCTAssertEqual(first(.statusLine, line + "\r\n", role: .client), .violation(error), line.debugDescription)
        }
        let long = "HTTP/1.1 200 " + String(repeating: "x", count: 10_000) + "\r\n"
        XCTAssertEqual(first(.statusLine, long, role: .client), .violation(.startLineTooLong(limit: 8192)))
    }

    // MARK: - Field lines

    func testHeadersRoundTripThroughAHead() {
        var harness = LineReaderHarness(
            "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: some user/agent\r\nAccept: */*\r\n\r\nbody")
        XCTAssertEqual(harness.read(.requestLine), .value("GET / HTTP/1.1", consumed: 16))
        XCTAssertEqual(harness.read(.endOfSection), .value("false", consumed: 0))
        XCTAssertEqual(harness.read(.field), .value("Host: [example.com]", consumed: 19))
        XCTAssertEqual(harness.read(.field), .value("User-Agent: [some user/agent]", consumed: 29))
        XCTAssertEqual(harness.read(.field), .value("Accept: [*/*]", consumed: 13))
        // The empty line is reported, not consumed; readEndOfSection takes it.
        XCTAssertEqual(harness.read(.field), .value("end", consumed: 0))
        XCTAssertEqual(harness.read(.field), .value("end", consumed: 0))
        XCTAssertEqual(harness.read(.endOfSection), .value("true", consumed: 2))
        XCTAssertEqual(harness.input, Array("body".utf8))
    }

    func testExoticFieldReads() {
        // Trailing whitespace is not part of the value.
        XCTAssertEqual(first(.field, "foo: bar \r\n\r\n"), .value("foo: [bar]", consumed: 11))
        XCTAssertEqual(first(.field, "foo:\t bar\t\r\n\r\n"), .value("foo: [bar]", consumed: 12))
        XCTAssertEqual(first(.field, "foo:\r\n\r\n"), .value("foo: []", consumed: 6))
        // A server takes a field as soon as its line ended.
        XCTAssertEqual(first(.field, "foo: bar\r\n"), .value("foo: [bar]", consumed: 10))
        // A client (reading responses) waits for the next octet: it may continue the field.
        XCTAssertEqual(first(.field, "foo: bar\r\n", role: .client), .needMore)
        XCTAssertEqual(first(.field, "foo: bar\r\n qux\r\n\r\n", role: .client), .value("foo: [bar qux]", consumed: 16))
        XCTAssertEqual(
            first(.field, "foo: bar \r\n \t qux \r\n\tquux\r\n\r\n", role: .client),
            .value("foo: [bar qux quux]", consumed: 27))
        // Not a continuation: only part of the next field line, or a lone CR of the end.
        XCTAssertEqual(first(.field, "foo: bar\r\npartial", role: .client), .value("foo: [bar]", consumed: 10))
        XCTAssertEqual(first(.field, "foo: bar\r\n\r", role: .client), .value("foo: [bar]", consumed: 10))
        // The peer closed: nothing can continue the field (lua-http fails here).
        XCTAssertEqual(first(.field, "foo: bar\r\n", role: .client, eof: true), .value("foo: [bar]", consumed: 10))
        // Case, colons, commas and obs-text are kept.
        XCTAssertEqual(first(.field, "X-Odd: a: b, c \u{E9}\r\n"), .value("X-Odd: [a: b, c \u{E9}]", consumed: 19))
    }

    func testFoldedFieldsAreRejectedFromClients() {
        var harness = LineReaderHarness("foo: bar\r\n qux\r\n\r\n")
        XCTAssertEqual(harness.read(.field), .value("foo: [bar]", consumed: 10))
        XCTAssertEqual(harness.read(.field), .violation(.obsoleteLineFolding))
        XCTAssertEqual(harness.read(.endOfSection), .violation(.obsoleteLineFolding))
        // Whitespace right after the start line (RFC 9112 §2.2).
        var afterStart = LineReaderHarness("GET / HTTP/1.1\r\n foo: bar\r\n\r\n")
        afterStart.read(.requestLine)
        XCTAssertEqual(afterStart.read(.field), .violation(.whitespaceAfterStartLine))
        var response = LineReaderHarness("HTTP/1.1 200 OK\r\n foo: bar\r\n\r\n", role: .client)
        response.read(.statusLine)
        XCTAssertEqual(response.read(.field), .violation(.whitespaceAfterStartLine))
    }

    func testFieldReadFailures() {
        let cases: [(String, Bool, LineReadResult)] = [
            ("", true, .violation(.unexpectedEOF)),
            ("foo", true, .violation(.unexpectedEOF)),
            ("foo:", true, .violation(.unexpectedEOF)),
            ("foo: ba", true, .violation(.unexpectedEOF)),
            ("foo: bar\r", true, .violation(.unexpectedEOF)),
            ("foo: bar\rX", false, .violation(.bareCR)),
            ("foo: bar\n", false, .violation(.bareLF)),
            ("foo : bar\r\n\r\n", false, .violation(.whitespaceBeforeColon("foo"))),
            (": fs\r\n\r\n", false, .violation(.invalidFieldName(""))),
            ("foo bar\r\n\r\n", false, .violation(.whitespaceBeforeColon("foo"))),
            ("foo\r\n\r\n", false, .violation(.missingColon("foo"))),
            ("f(o)o: bar\r\n", false, .violation(.invalidFieldName("f("))),
            ("foo: a\0b\r\n", false, .violation(.invalidFieldValue(name: "foo"))),
            ("foo: a\u{7F}b\r\n", false, .violation(.invalidFieldValue(name: "foo"))),
            ("\rX", false, .violation(.bareCR)),
        ]
        for (input, eof, expected) in cases {
            XCTAssertEqual(first(.field, input, eof: eof), expected, input.debugDescription)
            XCTAssertEqual(first(.field, input, role: .client, eof: eof), expected, input.debugDescription)
        }
    }

    func testEndOfSectionReads() {
        XCTAssertEqual(first(.endOfSection, "\r\n"), .value("true", consumed: 2))
        // A field line comes first: nothing consumed (lua-http fails on "hi").
        XCTAssertEqual(first(.endOfSection, "hi"), .value("false", consumed: 0))
        let failures: [(String, Bool, HTTP1ParseError)] = [
            ("", true, .unexpectedEOF),
            ("\r", true, .unexpectedEOF),
            ("\0", false, .invalidFieldName("\\x00")),
            ("\rX", false, .bareCR),
            ("\n", false, .bareLF),
            (" x", false, .obsoleteLineFolding),
            (":", false, .invalidFieldName("")),
        ]
        for (input, eof, error) in failures {
            XCTAssertEqual(first(.endOfSection, input, eof: eof), .violation(error), input.debugDescription)
        }
        XCTAssertEqual(first(.endOfSection, "\r"), .needMore)
    }

    func testHeaderSectionLimitsHoldAcrossCalls() {
        var limits = HTTP1Limits()
        limits.maxFieldCount = 2
        var harness = LineReaderHarness("GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n", limits: limits)
        harness.read(.requestLine)
        XCTAssertEqual(harness.read(.field), .value("a: [1]", consumed: 6))
        XCTAssertEqual(harness.read(.field), .value("b: [2]", consumed: 6))
        XCTAssertEqual(harness.read(.field), .violation(.tooManyFields(limit: 2)))

        // The start line counts towards the section, and so does the final CRLF.
        limits = HTTP1Limits()
        limits.maxHeaderBlockSize = 29
        harness = LineReaderHarness("GET / HTTP/1.1\r\nabc: 12345\r\n\r\n", limits: limits)
        harness.read(.requestLine)
        XCTAssertEqual(harness.read(.field), .value("abc: [12345]", consumed: 12))
        XCTAssertEqual(harness.read(.endOfSection), .violation(.headerBlockTooLarge(limit: 29)))
        harness = LineReaderHarness("GET / HTTP/1.1\r\nabc: 123456789\r\n\r\n", limits: limits)
        harness.read(.requestLine)
        XCTAssertEqual(harness.read(.field), .violation(.headerBlockTooLarge(limit: 29)))

        // A field line longer than the section allows fails before its end arrives.
        let long = "x: " + String(repeating: "y", count: 70_000) + "\r\n"
        var reader = HTTP1LineReader(role: .server)
        let outcome = Array(long.utf8).withUnsafeBytes {
            LineElement.field.read(&reader, UnsafeRawBufferPointer(rebasing: $0[..<65537]), atEOF: false)
        }
        XCTAssertEqual(outcome, .violation(.headerBlockTooLarge(limit: 65536)))

        // After the end of the section, a new one starts with the full budget.
        limits = HTTP1Limits()
        limits.maxFieldCount = 1
        harness = LineReaderHarness("a: 1\r\n\r\nb: 2\r\n\r\n", limits: limits)
        XCTAssertEqual(harness.read(.field), .value("a: [1]", consumed: 6))
        XCTAssertEqual(harness.read(.endOfSection), .value("true", consumed: 2))
        XCTAssertEqual(harness.read(.field), .value("b: [2]", consumed: 6))
    }

    // MARK: - Chunks

    func testChunksAndTrailers() {
        var harness = LineReaderHarness(
            "f\r\nthis is a chunk\r\n15;name=value;q=\"a b\"\r\nthis is another chunk\r\n"
                + "0;end\r\nExpires: never\r\n\r\nnext", role: .client)
        XCTAssertEqual(harness.read(.chunk), .value("this is a chunk []", consumed: 20))
        XCTAssertEqual(
            harness.read(.chunk), .value("this is another chunk [;name=value;q=\"a b\"]", consumed: 46))
        XCTAssertEqual(harness.read(.chunk), .value("last", consumed: 7))
        XCTAssertEqual(harness.read(.field), .value("Expires: [never]", consumed: 16))
        XCTAssertEqual(harness.read(.endOfSection), .value("true", consumed: 2))
        XCTAssertEqual(harness.input, Array("next".utf8))
    }

    func testPartialChunksConsumeNothing() {
        // lua-http's sequence: "6", "\r\nfoo", "bar\r\n", then "0", "\r", "\n".
        var reader = HTTP1LineReader(role: .server)
        var input: [UInt8] = []
        for (piece, expected) in [
            ("6", LineReadResult.needMore), ("\r\nfoo", .needMore), ("bar\r\n", .value("foobar []", consumed: 11)),
        ] {
            input += Array(piece.utf8)
            XCTAssertEqual(input.withUnsafeBytes { LineElement.chunk.read(&reader, $0, atEOF: false) }, expected)
        }
        input.removeAll()
        for (piece, expected) in [
            ("0", LineReadResult.needMore), ("\r", .needMore), ("\n", .value("last", consumed: 3)),
        ] {
            input += Array(piece.utf8)
            XCTAssertEqual(input.withUnsafeBytes { LineElement.chunk.read(&reader, $0, atEOF: false) }, expected)
        }
        XCTAssertEqual(LineReaderHarness.first(.chunk, "5\r\nhel", eof: true), .violation(.unexpectedEOF))
    }

    func testInvalidChunks() {
        let cases: [(String, LineReadResult)] = [
            ("\r\n", .violation(.invalidChunkSize)),
            ("g\r\n", .violation(.invalidChunkSize)),
            ("-5\r\n", .violation(.invalidChunkSize)),
            ("0x5\r\n", .violation(.invalidChunkSize)),
            ("5 \r\nhello\r\n", .violation(.invalidChunkSize)),
            ("5\nhello\r\n", .violation(.bareLF)),
            ("5\rXhello\r\n", .violation(.bareCR)),
            ("5\r\nhelloX", .violation(.missingChunkTerminator)),
            ("5\r\nhello\rX", .violation(.missingChunkTerminator)),
            ("5\r\nhello world\r\n", .violation(.missingChunkTerminator)),
            ("5;\r\nhello\r\n", .violation(.invalidChunkExtension)),
            ("5;a=\"b\r\nhello\r\n", .violation(.invalidChunkExtension)),
            ("5;a=b c\r\nhello\r\n", .violation(.invalidChunkExtension)),
            // More than 16 hex digits cannot be a size (lua-http: E2BIG past 8).
            ("00000000000000005\r\nhello\r\n", .violation(.chunkSizeTooLarge)),
            // Larger than the caller's limit: refused as soon as the size is read.
            ("FFFFFFFFFF\r\n", .failed(.bodyTooLarge(limit: 1 << 20))),
            ("100001\r\n", .failed(.bodyTooLarge(limit: 1 << 20))),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(LineReaderHarness.first(.chunk, input), expected, input.debugDescription)
        }
        // Sixteen digits with leading zeros are a small size.
        XCTAssertEqual(
            LineReaderHarness.first(.chunk, "0000000000000005\r\nhello\r\n"), .value("hello []", consumed: 25))
        let longExtension = "5;" + String(repeating: "x", count: 5000) + "\r\nhello\r\n"
        XCTAssertEqual(LineReaderHarness.first(.chunk, longExtension), .violation(.chunkExtensionTooLong(limit: 4096)))
        XCTAssertEqual(LineReaderHarness.first(.chunk(limit: 4), "5\r\nhello\r\n"), .failed(.bodyTooLarge(limit: 4)))
    }

    func testTrailerLimits() {
        var limits = HTTP1Limits()
        limits.maxTrailerFieldCount = 1
        var harness = LineReaderHarness("0\r\na: 1\r\nb: 2\r\n\r\n", limits: limits)
        XCTAssertEqual(harness.read(.chunk), .value("last", consumed: 3))
        XCTAssertEqual(harness.read(.field), .value("a: [1]", consumed: 6))
        XCTAssertEqual(harness.read(.field), .violation(.tooManyTrailerFields(limit: 1)))
        limits = HTTP1Limits()
        limits.maxTrailerBlockSize = 8
        harness = LineReaderHarness("0\r\na: 1\r\n\r\n", limits: limits)
        harness.read(.chunk)
        XCTAssertEqual(harness.read(.field), .value("a: [1]", consumed: 6))
        XCTAssertEqual(harness.read(.endOfSection), .value("true", consumed: 2))
        harness = LineReaderHarness("0\r\na: 12\r\n\r\n", limits: limits)
        harness.read(.chunk)
        harness.read(.field)
        XCTAssertEqual(harness.read(.endOfSection), .violation(.trailerBlockTooLarge(limit: 8)))
    }

    // MARK: - Plain bodies

    func testBodyByLength() {
        XCTAssertEqual(LineReaderHarness.first(.bytes(5), "hello world"), .value("hello", consumed: 5))
        XCTAssertEqual(LineReaderHarness.first(.bytes(5), "hel"), .needMore)
        XCTAssertEqual(LineReaderHarness.first(.bytes(5), "hel", eof: true), .violation(.unexpectedEOF))
        XCTAssertEqual(LineReaderHarness.first(.bytes(0), ""), .value("", consumed: 0))
        // Negative: up to that many, as soon as there is one.
        var harness = LineReaderHarness("abc")
        XCTAssertEqual(harness.read(.bytes(-2), trickle: false), .value("ab", consumed: 2))
        XCTAssertEqual(harness.read(.bytes(-100), trickle: false), .value("c", consumed: 1))
        XCTAssertEqual(harness.read(.bytes(-100), trickle: false), .needMore)
        harness.eof = true
        XCTAssertEqual(harness.read(.bytes(-100), trickle: false), .value("", consumed: 0))
        harness = LineReaderHarness("abc")
        XCTAssertEqual(harness.read(.bytes(.min), trickle: false), .value("abc", consumed: 3))
    }

    func testBodyUntilClose() {
        XCTAssertEqual(LineReaderHarness.first(.toEnd(limit: 10), "hello"), .needMore)
        XCTAssertEqual(LineReaderHarness.first(.toEnd(limit: 10), "hello", eof: true), .value("hello", consumed: 5))
        XCTAssertEqual(LineReaderHarness.first(.toEnd(limit: 4), "hello"), .failed(.bodyTooLarge(limit: 4)))
    }

    func testFailuresConsumeNothingAndRepeat() {
        var harness = LineReaderHarness("GET / HTTP/9.9\r\n")
        XCTAssertEqual(harness.read(.requestLine), .violation(.unsupportedVersion(major: 9, minor: 9)))
        XCTAssertEqual(harness.read(.requestLine), .violation(.unsupportedVersion(major: 9, minor: 9)))
        XCTAssertEqual(harness.input.count, 16)
        // A different element starts afresh from the front of the same input.
        XCTAssertEqual(harness.read(.bytes(3)), .value("GET", consumed: 3))
    }
}
