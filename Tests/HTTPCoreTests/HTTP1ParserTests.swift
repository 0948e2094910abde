import XCTest

@testable import HTTPCore

/// The parser against lua-http's acceptance edge cases (study §4.1 items 1–9), the bad-input list
/// with exact statuses, the client framing rules (RFC 9112 §6.3) and the parser's own contracts.
final class HTTP1ParserTests: XCTestCase {
    // MARK: - Basics

    func testSimpleGet() {
        let events = parseBothWays(
            "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent:  curl/8 \r\nAccept: */*\r\n\r\n"
        )
        guard let head = firstHead(events) else { return }
        XCTAssertEqual(
            head.headers.pairs,
            [
                ":method: GET", ":path: /index.html?q=1", ":authority: example.com", "user-agent: curl/8",
                "accept: */*",
            ])
        XCTAssertEqual(head.method, "GET")
        XCTAssertEqual(head.path, "/index.html?q=1")
        XCTAssertEqual(head.authority, "example.com")
        XCTAssertEqual(head.version, .http11)
        XCTAssertEqual(head.framing, .none)
        XCTAssertNil(head.status)
        XCTAssertTrue(head.keepAlive)
        XCTAssertFalse(head.requestsProtocolSwitch)
        XCTAssertEqual(events.count, 2)
        XCTAssertEqual(events.last, .end)
    }

    func testNamesAreLowerCasedAndValuesKeepTheirCase() {
        let events = parseBothWays(
            "GET / HTTP/1.1\r\nHOST: Example.COM\r\nX-Custom-Thing: MiXeD Case\r\n\r\n")
        XCTAssertEqual(
            firstHead(events)?.headers.pairs,
            [":method: GET", ":path: /", ":authority: Example.COM", "x-custom-thing: MiXeD Case"])
    }

    func testNeverIndexDefaultsApplyToParsedFields() {
        let events = parseBothWays(
            "GET / HTTP/1.1\r\nHost: a\r\nCookie: x=1\r\nAuthorization: secret\r\nAccept: */*\r\n\r\n")
        let flags = firstHead(events)?.headers.fields.filter { !$0.name.hasPrefix(":") }.map(
            \.neverIndex)
        XCTAssertEqual(flags, [true, true, false])
    }

    func testUTF8ValuesAreKeptAndInvalidUTF8IsReplaced() {
        let bytes =
            Array("GET / HTTP/1.1\r\nHost: a\r\nCity: Düsseldorf\r\nRaw: ".utf8) + [0xFF, 0x41]
            + Array("\r\n\r\n".utf8)
        let head = firstHead(parseBothWays(bytes))
        XCTAssertEqual(head?.headers.first("city"), "Düsseldorf")
        XCTAssertEqual(head?.headers.first("raw"), "\u{FFFD}A")
    }

    // MARK: - Item 1: the request line

    /// lua-http's invalid request lines (h1_connection_spec), plus the brief's list.
    func testInvalidRequestLinesAreRejectedWith400() {
        let cases = BadStartLines.requests
        for (line, error) in cases {
            let events = parseBothWays(line + "\r\nHost: a\r\n\r\n")
            XCTAssertEqual(events, [.error(error)], line.debugDescription)
            XCTAssertEqual(error.status, 400, line.debugDescription)
        }
    }

    func testBareLFAfterTheRequestLineIsRejected() {
        XCTAssertEqual(parseBothWays("GET / HTTP/1.1\nHeader: value\r\n\r\n"), [.error(.bareLF)])
        XCTAssertEqual(parseBothWays("GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n"), [.error(.bareLF)])
        XCTAssertEqual(parseBothWays("GET / HTTP/1.1\r\nHost: a\r\n\n"), [.error(.bareLF)])
        XCTAssertEqual(HTTP1ParseError.bareLF.status, 400)
    }

    func testMissingCRLFNeedsMoreInputThenEOFIsAnError() {
        XCTAssertEqual(parseBothWays("GET / HTTP/1.1"), [])
        XCTAssertEqual(parseBothWays("GET / HTTP/1.1", endInput: true), [.error(.unexpectedEOF)])
    }

    func testUnsupportedMajorVersionsAre505() {
        for (line, major, minor) in [
            ("GET / HTTP/2.0", 2, 0), ("GET / HTTP/0.9", 0, 9), ("PRI * HTTP/2.0", 2, 0),
        ] {
            let events = parseBothWays(line + "\r\n\r\nSM\r\n\r\n")
            XCTAssertEqual(events, [.error(.unsupportedVersion(major: major, minor: minor))], line)
            XCTAssertEqual(finalError(events)?.status, 505)
        }
        // Reported as soon as the version is complete, without waiting for the line to end.
        XCTAssertEqual(
            parseBothWays("GET / HTTP/5.6"), [.error(.unsupportedVersion(major: 5, minor: 6))])
    }

    func testHigherMinorVersionIsProcessedAsHTTP11() {
        // RFC 9110 §2.5: process as the highest supported minor version.
        XCTAssertEqual(firstHead(parseBothWays("GET / HTTP/1.2\r\nHost: a\r\n\r\n"))?.version, .http11)
        XCTAssertEqual(
            firstHead(parseBothWays("HTTP/1.7 200 OK\r\n\r\n", role: .client))?.version, .http11)
    }

    func testAnyTokenIsAMethod() {
        for method in ["M-SEARCH", "get", "PROPFIND", "X_Y.Z~!", "MKCOLA"] {
            let head = firstHead(
                parseBothWays("\(method) * HTTP/1.1\r\nHost: 239.255.255.250:1900\r\n\r\n"))
            XCTAssertEqual(head?.method, method)
            XCTAssertEqual(head?.path, "*")
        }
    }

    func testLeadingEmptyLinesAreIgnored() {
        XCTAssertEqual(firstHead(parseBothWays("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"))?.path, "/")
        XCTAssertEqual(firstHead(parseBothWays("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"))?.path, "/")
        XCTAssertEqual(parseBothWays("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), [.error(.bareLF)])
        XCTAssertEqual(parseBothWays("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"), [.error(.bareCR)])
        // Between messages too (a client's stray CRLF after a body).
        let events = parseBothWays(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
        )
        XCTAssertEqual(events.count, 5)
        XCTAssertEqual(events[1], .body(Array("hi".utf8)))
        if case .head(let head)? = events.dropFirst(3).first {
            XCTAssertEqual(head.path, "/2")
        } else {
            XCTFail("\(events)")
        }
    }

    func testEmptyLinesOnlyAreIdle() {
        var parser = HTTP1Parser(role: .server)
        XCTAssertEqual(drive(&parser, Array("\r\n\r\n".utf8)), [])
        XCTAssertTrue(parser.isIdle)
        XCTAssertNil(parser.inputEnded())
    }

    // MARK: - Item 2: the status line

    /// lua-http's 16 invalid status lines (h1_connection_spec).
    func testInvalidStatusLinesAreRejected() {
        let cases = BadStartLines.statuses
        XCTAssertEqual(cases.count, 16)
        for (line, error) in cases {
            XCTAssertEqual(
                parseBothWays(line + "\r\n\r\n", role: .client), [.error(error)], line.debugDescription)
        }
        // A few more: a 2-digit code, a tab after the version, a CTL in the reason phrase.
        XCTAssertEqual(
            parseBothWays("HTTP/1.1 20 OK\r\n\r\n", role: .client), [.error(.invalidStatusCode("20 "))])
        XCTAssertEqual(
            parseBothWays("HTTP/1.1\t200 OK\r\n\r\n", role: .client),
            [.error(.invalidVersion("HTTP/1.1\\x09"))])
        XCTAssertEqual(
            parseBothWays("HTTP/1.1 200 weird\u{1}\r\n\r\n", role: .client),
            [.error(.invalidStatusLine("control character in the reason phrase"))])
    }

    func testValidStatusLines() {
        let cases: [(String, Int, String, HTTP1Version)] = [
            ("HTTP/1.1 200 OK", 200, "OK", .http11),
            ("HTTP/1.0 404 Not Found", 404, "Not Found", .http10),
            ("HTTP/1.1 200 ", 200, "", .http11),
            ("HTTP/1.1 999 weird and\twonderful", 999, "weird and\twonderful", .http11),
            ("HTTP/1.1 500 Oriëntatieprobleem", 500, "Oriëntatieprobleem", .http11),
        ]
        for (line, status, reason, version) in cases {
            let head = firstHead(parseBothWays(line + "\r\nContent-Length: 0\r\n\r\n", role: .client))
            XCTAssertEqual(head?.status, status, line)
            XCTAssertEqual(head?.reasonPhrase, reason, line)
            XCTAssertEqual(head?.version, version, line)
            XCTAssertEqual(head?.headers.pairs.first, ":status: \(status)", line)
        }
    }

    func testEOFBeforeAStatusLineIsClean() {
        var parser = HTTP1Parser(role: .client)
        XCTAssertNil(parser.inputEnded())
        XCTAssertEqual(
            parser.parse(UnsafeRawBufferPointer(start: nil, count: 0)),
            HTTP1ParseResult(consumed: 0, event: nil))
    }

    // MARK: - Item 3: the header reader

    func testOptionalWhitespaceIsTrimmed() {
        let head = firstHead(
            parseBothWays(
                "GET / HTTP/1.1\r\nHost: a\r\nfoo: bar \r\nx:\t \tspaced  out\t\r\nempty:\r\nblank:   \r\n\r\n"
            ))
        XCTAssertEqual(
            head?.headers.pairs.dropFirst(3), ["foo: bar", "x: spaced  out", "empty: ", "blank: "])
    }

    func testObsFoldIsJoinedWithASpaceInResponses() {
        let events = parseBothWays(
            "HTTP/1.1 200 OK\r\nfoo: bar\r\n qux\r\nLine: a  \r\n\t \tb\r\n  c\r\nEmpty:\r\n \r\nContent-Length: 0\r\n\r\n",
            role: .client)
        XCTAssertEqual(
            firstHead(events)?.headers.pairs,
            [":status: 200", "foo: bar qux", "line: a b c", "empty: ", "content-length: 0"])
    }

    func testObsFoldIsRejectedInRequests() {
        XCTAssertEqual(
            parseBothWays("GET / HTTP/1.1\r\nHost: a\r\nfoo: bar\r\n qux\r\n\r\n"),
            [.error(.obsoleteLineFolding)])
        XCTAssertEqual(HTTP1ParseError.obsoleteLineFolding.status, 400)
    }

    func testFoldedContentLengthIsInvalid() {
        let events = parseBothWays("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n 5\r\n\r\n", role: .client)
        XCTAssertEqual(events, [.error(.invalidContentLength("5 (folded)"))])
    }

    func testWhitespaceAfterTheStartLineIsRejected() {
        XCTAssertEqual(
            parseBothWays("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), [.error(.whitespaceAfterStartLine)])
        XCTAssertEqual(
            parseBothWays("HTTP/1.1 200 OK\r\n\tX: y\r\n\r\n", role: .client),
            [.error(.whitespaceAfterStartLine)])
    }

    func testFieldLineFailures() {
        let cases: [(String, HTTP1ParseError)] = [
            ("foo : bar", .whitespaceBeforeColon("foo")),
            ("foo\t: bar", .whitespaceBeforeColon("foo")),
            ("foo bar", .whitespaceBeforeColon("foo")),
            ("foo", .missingColon("foo")),
            (": fs", .invalidFieldName("")),
            ("f@o: bar", .invalidFieldName("f@")),
            ("fo\u{0}o: bar", .invalidFieldName("fo\\x00")),
            ("foo: b\u{0}r", .invalidFieldValue(name: "foo")),
            ("foo: b\u{1}r", .invalidFieldValue(name: "foo")),
            ("foo: b\u{7F}r", .invalidFieldValue(name: "foo")),
            ("foo: b\u{0C}r", .invalidFieldValue(name: "foo")),
            ("foo: b\rar", .bareCR),
        ]
        for (line, error) in cases {
            XCTAssertEqual(
                parseBothWays("GET / HTTP/1.1\r\nHost: a\r\n\(line)\r\n\r\n"), [.error(error)],
                line.debugDescription)
            XCTAssertEqual(error.status, 400)
        }
        XCTAssertEqual(
            HTTP1ParseError.whitespaceBeforeColon("foo").description,
            "whitespace between field name \"foo\" and colon")
    }

    func testPartialHeadsWaitForMoreInput() {
        // Not a continuation, only a partial next field; a lone CR of the final CRLF.
        for partial in [
            "foo: bar\r\npartial", "foo: bar\r\n\r", "foo: bar\r\n", "foo: bar\r", "foo:", "foo",
        ] {
            var parser = HTTP1Parser(role: .server, requireHost: false)
            XCTAssertEqual(
                drive(&parser, Array("GET / HTTP/1.1\r\n\(partial)".utf8), pieceSize: 1), [],
                partial.debugDescription)
            XCTAssertEqual(parser.inputEnded(), .error(.unexpectedEOF), partial.debugDescription)
        }
    }

    func testTrickledHeadIsScannedOnce() {
        // Every call examines only the new octets: linear, however the head is split.
        var text = "GET / HTTP/1.1\r\nHost: a\r\n"
        for index in 0..<90 { text += "X-Field-\(index): \(String(repeating: "v", count: 500))\r\n" }
        text += "\r\n"
        let bytes = Array(text.utf8)
        var parser = HTTP1Parser(role: .server)
        var buffer: [UInt8] = []
        for (index, byte) in bytes.enumerated() {
            buffer.append(byte)
            let result = buffer.withUnsafeBytes { parser.parse($0) }
            if index < bytes.count - 1 {
                XCTAssertEqual(result, HTTP1ParseResult(consumed: 0, event: nil))
                XCTAssertEqual(parser.scanner.scanned, buffer.count)
            } else {
                XCTAssertEqual(result.consumed, bytes.count)
                guard case .head(let head)? = result.event else { return XCTFail("\(result)") }
                XCTAssertEqual(head.headers.count, 93)
            }
        }
    }

    // MARK: - Items 5 and 9: chunked and Content-Length bodies

    let chunkedHead = "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"

    func testChunkedBodyIsResumableAcrossEverySplit() {
        // lua-http: "6", "\r\nfoo", "bar\r\n", "0", "\r", "\n" — then the final CRLF.
        var parser = HTTP1Parser(role: .server)
        let pieces = [chunkedHead, "6", "\r\nfoo", "bar\r\n", "0", "\r", "\n", "\r", "\n"].map {
            Array($0.utf8)
        }
        let events = drive(&parser, pieces: pieces)
        XCTAssertEqual(Array(events.dropFirst()), [.body(Array("foobar".utf8)), .end])
        XCTAssertEqual(firstHead(events)?.framing, .chunked)
        // And whole / octet by octet.
        let text =
            chunkedHead
            + "6\r\nfoobar\r\n1a;name=value;flag;q=\"x \\\" y\"\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n"
        XCTAssertEqual(
            Array(parseBothWays(text).dropFirst()),
            [.body(Array("foobarabcdefghijklmnopqrstuvwxyz".utf8)), .end])
    }

    func testBodyRangesPointIntoTheCallersInput() {
        var parser = HTTP1Parser(role: .server)
        let input = Array((chunkedHead + "3\r\nabc\r\n").utf8)
        input.withUnsafeBytes { raw in
            let head = parser.parse(raw)
            let rest = UnsafeRawBufferPointer(rebasing: raw[head.consumed...])
            let body = parser.parse(rest)
            XCTAssertEqual(body.event, .body(3..<6))  // after "3\r\n", within `rest`
            XCTAssertEqual(body.consumed, 6)
            XCTAssertEqual(Array(rest[3..<6]), Array("abc".utf8))
        }
    }

    func testChunkSizeLimits() {
        // 16 hex digits fit in 64 bits; a 17th digit (even a leading zero) is refused.
        let big = parseBothWays(chunkedHead + "FFFFFFFFFFFFFFFF\r\nabc")
        XCTAssertEqual(Array(big.dropFirst()), [.body(Array("abc".utf8))])
        XCTAssertEqual(
            parseBothWays(chunkedHead + "00000000000000005\r\nhello\r\n0\r\n\r\n").last,
            .error(.chunkSizeTooLarge))
        XCTAssertEqual(
            parseBothWays(chunkedHead + "10000000000000000\r\n").last, .error(.chunkSizeTooLarge))
        XCTAssertEqual(parseBothWays(chunkedHead + "0000000000000005\r\nhello\r\n0\r\n\r\n").last, .end)
    }

    func testMalformedChunksAreRejected() {
        let cases: [(String, HTTP1ParseError)] = [
            ("\r\n", .invalidChunkSize),
            ("g\r\n", .invalidChunkSize),
            ("-1\r\n", .invalidChunkSize),
            ("0x5\r\n", .invalidChunkSize),
            ("5 \r\nhello\r\n", .invalidChunkSize),
            ("5 abc\r\nhello\r\n", .invalidChunkSize),
            ("5\nhello\r\n", .bareLF),
            ("5\rhello\r\n", .bareCR),
            ("5;\r\nhello\r\n", .invalidChunkExtension),
            ("5;a=\r\nhello\r\n", .invalidChunkExtension),
            ("5;a=\"b\r\nhello\r\n", .invalidChunkExtension),
            ("5;a b\r\nhello\r\n", .invalidChunkExtension),
            ("5;a=b c\r\nhello\r\n", .invalidChunkExtension),
            ("5\r\nhelloX", .missingChunkTerminator),
            ("5\r\nhello\rX", .missingChunkTerminator),
            ("5\r\nhello\n0\r\n\r\n", .missingChunkTerminator),
            ("0\r\nfoo\r\n\r\n", .missingColon("foo")),
        ]
        for (body, error) in cases {
            let events = parseBothWays(chunkedHead + body)
            XCTAssertEqual(events.last, .error(error), body.debugDescription)
            XCTAssertEqual(error.status, 400)
        }
    }

    func testChunkExtensionsAreSkippedWithinTheirLimit() {
        XCTAssertEqual(
            parseBothWays(chunkedHead + "5 ;a ; b = c ;d=\"e;f\"\r\nhello\r\n0;last\r\n\r\n").last, .end)
        let long = String(repeating: "x", count: 5000)
        XCTAssertEqual(
            parseBothWays(chunkedHead + "5;\(long)\r\nhello\r\n").last,
            .error(.chunkExtensionTooLong(limit: 4096)))
        let events = parseBothWays(chunkedHead + "5;abcdef\r\nhello\r\n") {
            $0.limits.maxChunkExtensionLength = 4
        }
        XCTAssertEqual(events.last, .error(.chunkExtensionTooLong(limit: 4)))
    }

    func testTrailersAreASecondHeaderBlockAndTheEndWaitsForThem() {
        var parser = HTTP1Parser(role: .server)
        let pieces = [
            chunkedHead, "5\r\nhello\r\n0\r\n", "Expires: never\r\nX-Checksum:", " abc \r\n", "\r", "\n",
        ].map { Array($0.utf8) }
        var events: [HTTP1TestEvent] = []
        for count in 1...pieces.count {
            var fresh = HTTP1Parser(role: .server)
            events = drive(&fresh, pieces: Array(pieces.prefix(count)))
            if count < pieces.count {
                XCTAssertFalse(events.contains(.end), "no end before the trailer section is complete")
            }
        }
        XCTAssertEqual(
            events.dropFirst(),
            [
                .body(Array("hello".utf8)),
                .trailers(Headers([("expires", "never"), ("x-checksum", "abc")])), .end,
            ])
        XCTAssertEqual(drive(&parser, pieces: pieces), events)
        // Trailer limits and folding rules are those of the header section.
        XCTAssertEqual(
            parseBothWays(chunkedHead + "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n") {
                $0.limits.maxTrailerFieldCount = 2
            }.last,
            .error(.tooManyTrailerFields(limit: 2)))
        XCTAssertEqual(
            parseBothWays(chunkedHead + "0\r\nA: 1234567890\r\n\r\n") {
                $0.limits.maxTrailerBlockSize = 10
            }.last,
            .error(.trailerBlockTooLarge(limit: 10)))
        XCTAssertEqual(
            parseBothWays(chunkedHead + "0\r\nA: 1\r\n 2\r\n\r\n").last, .error(.obsoleteLineFolding))
        XCTAssertEqual(
            parseBothWays(chunkedHead + "0\r\n A: 1\r\n\r\n").last, .error(.obsoleteLineFolding))
    }

    func testContentLengthBodyIsReadExactly() {
        let pipelined =
            "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: a\r\n\r\n"
        let events = parseBothWays(pipelined)
        XCTAssertEqual(events.count, 5)
        XCTAssertEqual(firstHead(events)?.framing, .contentLength(5))
        XCTAssertEqual(events[1], .body(Array("hello".utf8)))
        XCTAssertEqual(events[2], .end)
        if case .head(let second) = events[3] {
            XCTAssertEqual(second.path, "/b")
        } else {
            XCTFail("\(events)")
        }
        // Split anywhere.
        var parser = HTTP1Parser(role: .server)
        let split = drive(
            &parser,
            pieces: ["POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhe", "l", "lo"].map {
                Array($0.utf8)
            })
        XCTAssertEqual(Array(split.dropFirst()), [.body(Array("hello".utf8)), .end])
        // Zero.
        XCTAssertEqual(
            parseBothWays("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").last, .end)
    }

    func testEarlyEOFInABodyIsAnErrorNotAHang() {
        XCTAssertEqual(
            parseBothWays("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello", endInput: true)
                .last,
            .error(.unexpectedEOF))
        XCTAssertEqual(
            parseBothWays(chunkedHead + "5\r\nhel", endInput: true).last, .error(.unexpectedEOF))
        XCTAssertEqual(
            parseBothWays(chunkedHead + "5\r\nhello\r\n0\r\nX: y\r\n", endInput: true).last,
            .error(.unexpectedEOF))
        XCTAssertEqual(HTTP1ParseError.unexpectedEOF.status, 400)
    }

    func testEOFBetweenMessagesIsClean() {
        var parser = HTTP1Parser(role: .server)
        XCTAssertEqual(
            drive(&parser, Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8), endInput: true).count, 2)
        var after = HTTP1Parser(role: .server)
        _ = drive(&after, Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        XCTAssertTrue(after.isIdle)
        XCTAssertNil(after.inputEnded())
        XCTAssertNil(after.inputEnded())
        // Input after the end is a caller error, reported like any other.
        XCTAssertEqual(drive(&after, Array("x".utf8)), [.error(.dataAfterEnd)])
    }

    // MARK: - Items 6–8: what the codec contributes to the stream and connection rules

    func testPipelinedRequestsKeepTheirOrder() {
        let text = (1...3).map { "GET /\($0) HTTP/1.1\r\nHost: a\r\n\r\n" }.joined()
        let paths = parseBothWays(text).compactMap { event -> String? in
            if case .head(let head) = event { return head.path } else { return nil }
        }
        XCTAssertEqual(paths, ["/1", "/2", "/3"])
    }

    func testPersistence() {
        // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 closes unless "keep-alive".
        let cases: [(String, Bool)] = [
            ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", true),
            ("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false),
            ("GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", false),
            ("GET / HTTP/1.0\r\n\r\n", false),
            ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
        ]
        for (text, keepAlive) in cases {
            XCTAssertEqual(firstHead(parseBothWays(text))?.keepAlive, keepAlive, text)
        }
        XCTAssertEqual(
            firstHead(parseBothWays("HTTP/1.1 200 OK\r\n\r\nbody", role: .client))?.keepAlive, false)
    }

    func testNothingIsProcessedAfterAClosingMessage() {
        // RFC 9112 §9.6: a server "MUST NOT process any further requests received on that connection".
        let events = parseBothWays(
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n\r\nGET /evil HTTP/1.1\r\nHost: a\r\n\r\n"
        )
        XCTAssertEqual(events.count, 3)
        XCTAssertEqual(events.last, .error(.dataAfterClose))
        var parser = HTTP1Parser(role: .server)
        XCTAssertEqual(drive(&parser, Array("GET / HTTP/1.0\r\n\r\n\r\n".utf8)).count, 2)
        XCTAssertTrue(parser.isIdle)
        XCTAssertNil(parser.inputEnded())
    }

    func testErrorsCarryTheStatusToAnswerAndTheParserNeverSpins() {
        var parser = HTTP1Parser(role: .server)
        let input = Array("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n".utf8)
        input.withUnsafeBytes { raw in
            let first = parser.parse(raw)
            XCTAssertEqual(first.event, .error(.invalidContentLength("abc")))
            XCTAssertEqual(first.consumed, 0)
            for _ in 0..<3 {
                XCTAssertEqual(
                    parser.parse(raw),
                    HTTP1ParseResult(consumed: 0, event: .error(.invalidContentLength("abc"))))
                XCTAssertEqual(parser.parse(UnsafeRawBufferPointer(rebasing: raw[5...])).consumed, 0)
            }
        }
        XCTAssertEqual(parser.inputEnded(), .error(.invalidContentLength("abc")))
        XCTAssertEqual(HTTP1ParseError.invalidContentLength("abc").status, 400)
        XCTAssertEqual(
            HTTP1ParseError.invalidContentLength("abc").description, "invalid Content-Length: \"abc\"")
        XCTAssertTrue(HTTP1ParseEvent.error(.bareCR).isTerminal)
    }

    // MARK: - The bad-input list, with exact statuses

    func testBadInputStatuses() {
        func request(_ fields: String, line: String = "POST / HTTP/1.1") -> String {
            "\(line)\r\n\(fields)\r\n"
        }
        let cases: [(String, HTTP1ParseError, Int)] = [
            (
                request("Host: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
                .contentLengthWithTransferEncoding, 400
            ),
            (
                request("Host: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
                .contentLengthWithTransferEncoding, 400
            ),
            (
                request("Host: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n"),
                .conflictingContentLengths("5", "6"), 400
            ),
            (request("Host: a\r\nContent-Length: 5, 6\r\n"), .conflictingContentLengths("5", "6"), 400),
            (request("Host: a\r\nContent-Length: abc\r\n"), .invalidContentLength("abc"), 400),
            (request("Host: a\r\nContent-Length: 5,\r\n"), .invalidContentLength("5,"), 400),
            (request("Host: a\r\nContent-Length: -1\r\n"), .invalidContentLength("-1"), 400),
            (request("Host: a\r\nContent-Length: +5\r\n"), .invalidContentLength("+5"), 400),
            (request("Host: a\r\nContent-Length:\r\n"), .invalidContentLength(""), 400),
            (
                request("Host: a\r\nContent-Length: 18446744073709551616\r\n"),
                .invalidContentLength("18446744073709551616"), 400
            ),
            (request("Host: a\r\nTransfer-Encoding: foo\r\n"), .unknownTransferCoding("foo"), 501),
            (
                request("Host: a\r\nTransfer-Encoding: identity\r\n"), .unknownTransferCoding("identity"),
                501
            ),
            (
                request("Host: a\r\nTransfer-Encoding: compress, chunked\r\n"),
                .unknownTransferCoding("compress"), 501
            ),
            // Every listed coding counts towards `maxTransferCodings` (4), over one field line or
            // several: each undone coding costs a decoder.
            (
                request("Host: a\r\nTransfer-Encoding: gzip, gzip, gzip, gzip, chunked\r\n"),
                .tooManyTransferCodings(limit: 4), 501
            ),
            (
                request("Host: a\r\nTransfer-Encoding: gzip, gzip\r\nTransfer-Encoding: gzip, gzip, chunked\r\n"),
                .tooManyTransferCodings(limit: 4), 501
            ),
            (request("Host: a\r\nTransfer-Encoding: gzip\r\n"), .chunkedNotFinal("gzip"), 400),
            (
                request("Host: a\r\nTransfer-Encoding: chunked, gzip\r\n"),
                .chunkedNotFinal("chunked, gzip"), 400
            ),
            (
                request("Host: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
                .invalidTransferEncoding("chunked, chunked"), 400
            ),
            (
                request("Host: a\r\nTransfer-Encoding: chunked;x=1\r\n"),
                .invalidTransferEncoding("chunked;x=1"), 400
            ),
            (request("Host: a\r\nTransfer-Encoding: ,\r\n"), .chunkedNotFinal(","), 400),
            (
                request("Transfer-Encoding: chunked\r\n", line: "POST / HTTP/1.0"),
                .transferEncodingInHTTP10, 400
            ),
            (request("Host : a\r\n"), .whitespaceBeforeColon("Host"), 400),
            (request("Host: a\r\n", line: "GET / HTTP/1.1 extra"), .invalidVersion("HTTP/1.1 "), 400),
            (request(""), .missingHost, 400),
            (request("Host: a\r\nHost: a\r\n"), .multipleHosts, 400),
            (request("Host: a\r\nHost: b\r\n", line: "GET / HTTP/1.0"), .multipleHosts, 400),
            (request("Host: a b\r\n"), .invalidHost("a b"), 400),
            (request("Host: a/b\r\n"), .invalidHost("a/b"), 400),
            (request("Host: user@a\r\n"), .invalidHost("user@a"), 400),
            (request("Host: a\r\n", line: "CONNECT a/b HTTP/1.1"), .invalidRequestTarget("a/b"), 400),
        ]
        for (text, error, status) in cases {
            let events = parseBothWays(text + "\r\n")
            XCTAssertEqual(events, [.error(error)], text.debugDescription)
            XCTAssertEqual(error.status, status, text.debugDescription)
        }
    }

    func testTransferCodingsUpToTheLimitAreAcceptedInRequestsAndResponses() {
        let four = "Transfer-Encoding: gzip, deflate, gzip, chunked\r\n"
        let request = parseBothWays("POST / HTTP/1.1\r\nHost: a\r\n\(four)\r\n0\r\n\r\n")
        XCTAssertFalse(request.contains { if case .error = $0 { true } else { false } }, "\(request)")
        let response = parseBothWays("HTTP/1.1 200 OK\r\n\(four)\r\n0\r\n\r\n", role: .client) {
            $0.expectResponse(toMethod: "GET")
        }
        XCTAssertFalse(response.contains { if case .error = $0 { true } else { false } }, "\(response)")
        let five = "Transfer-Encoding: gzip, gzip, gzip, gzip, chunked\r\n"
        XCTAssertEqual(
            parseBothWays("HTTP/1.1 200 OK\r\n\(five)\r\n", role: .client) { $0.expectResponse(toMethod: "GET") },
            [.error(.tooManyTransferCodings(limit: 4))])
    }

    func testSizeLimitsAnd414And431() {
        let target = "/" + String(repeating: "a", count: 9 * 1024)
        XCTAssertEqual(
            parseBothWays("GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n"),
            [.error(.requestTargetTooLong(limit: 8192))])
        XCTAssertEqual(HTTP1ParseError.requestTargetTooLong(limit: 8192).status, 414)
        let method = String(repeating: "M", count: 9 * 1024)
        XCTAssertEqual(
            parseBothWays("\(method) / HTTP/1.1\r\n\r\n"), [.error(.methodTooLong(limit: 8192))])
        XCTAssertEqual(HTTP1ParseError.methodTooLong(limit: 8192).status, 501)
        // Long enough only once the version is added: still the target's fault (or the method's).
        let almost = "/" + String(repeating: "a", count: 8192 - 4 - 1 - 9 + 1)
        XCTAssertEqual(
            parseBothWays("GET \(almost) HTTP/1.1\r\n\r\n"), [.error(.requestTargetTooLong(limit: 8192))])
        XCTAssertEqual(
            parseBothWays("GET \(almost.dropLast()) HTTP/1.1\r\n\r\n").last, .error(.missingHost))
        let longMethod = String(repeating: "M", count: 8192 - 2 - 9 + 1)
        XCTAssertEqual(
            parseBothWays("\(longMethod) / HTTP/1.1\r\n\r\n"), [.error(.methodTooLong(limit: 8192))])
        let reason = String(repeating: "r", count: 9 * 1024)
        XCTAssertEqual(
            parseBothWays("HTTP/1.1 200 \(reason)\r\n\r\n", role: .client),
            [.error(.startLineTooLong(limit: 8192))])

        let fields = (0...100).map { "X-\($0): v\r\n" }.joined()
        XCTAssertEqual(
            parseBothWays("GET / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n"),
            [.error(.tooManyFields(limit: 100))])
        XCTAssertEqual(HTTP1ParseError.tooManyFields(limit: 100).status, 431)
        // 99 + Host = 100 field lines: accepted.
        let hundred = (0..<99).map { "X-\($0): v\r\n" }.joined()
        XCTAssertEqual(
            firstHead(parseBothWays("GET / HTTP/1.1\r\nHost: a\r\n\(hundred)\r\n"))?.headers.count, 102)

        let big = "X-Big: " + String(repeating: "b", count: 70 * 1024) + "\r\n"
        XCTAssertEqual(
            parseBothWays("GET / HTTP/1.1\r\nHost: a\r\n\(big)\r\n"),
            [.error(.headerBlockTooLarge(limit: 65536))])
        XCTAssertEqual(HTTP1ParseError.headerBlockTooLarge(limit: 65536).status, 431)
    }

    func testLimitsAreSettableAndExactAtTheirBoundary() {
        // Request line: 17 octets; header section: 30 octets.
        let head = "GET /abc HTTP/1.1\r\nHost: a\r\n\r\n"
        XCTAssertEqual(parseBothWays(head) { $0.limits.maxStartLineLength = 17 }.last, .end)
        XCTAssertEqual(
            parseBothWays(head) { $0.limits.maxStartLineLength = 16 },
            [.error(.requestTargetTooLong(limit: 16))])
        XCTAssertEqual(
            parseBothWays("GET /abcdef HTTP/1.1\r\n\r\n") { $0.limits.maxStartLineLength = 10 },
            [.error(.requestTargetTooLong(limit: 10))])
        XCTAssertEqual(parseBothWays(head) { $0.limits.maxHeaderBlockSize = 30 }.last, .end)
        XCTAssertEqual(
            parseBothWays(head) { $0.limits.maxHeaderBlockSize = 29 },
            [.error(.headerBlockTooLarge(limit: 29))])
        XCTAssertEqual(parseBothWays(head) { $0.limits.maxFieldCount = 1 }.last, .end)
        XCTAssertEqual(
            parseBothWays(head) { $0.limits.maxFieldCount = 0 }, [.error(.tooManyFields(limit: 0))])
        // Extreme settings neither trap nor loop: "no limit" and "nothing allowed".
        let unlimited = HTTP1Limits(
            maxStartLineLength: .max, maxHeaderBlockSize: .max, maxFieldCount: .max,
            maxChunkExtensionLength: .max,
            maxTrailerBlockSize: .max, maxTrailerFieldCount: .max)
        let chunked =
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;x=y\r\na\r\n0\r\nT: 1\r\n\r\n"
        XCTAssertEqual(parseBothWays(chunked) { $0.limits = unlimited }.last, .end)
        XCTAssertEqual(
            parseBothWays("HTTP/1.1 200 OK\r\n\r\n", role: .client) { $0.limits = unlimited }.count, 1)
        var nothing = HTTP1Limits()
        nothing.maxStartLineLength = 0
        XCTAssertEqual(parseBothWays(head) { $0.limits = nothing }, [.error(.methodTooLong(limit: 0))])
        nothing = HTTP1Limits()
        nothing.maxHeaderBlockSize = -1
        XCTAssertEqual(
            parseBothWays(head) { $0.limits = nothing }, [.error(.headerBlockTooLarge(limit: -1))])
        nothing = HTTP1Limits()
        nothing.maxChunkExtensionLength = 0
        XCTAssertEqual(
            parseBothWays(chunked) { $0.limits = nothing }.last, .error(.chunkExtensionTooLong(limit: 0)))
        let limits = HTTP1Limits()
        XCTAssertEqual(
            [
                limits.maxStartLineLength, limits.maxHeaderBlockSize, limits.maxFieldCount,
                limits.maxChunkExtensionLength,
                limits.maxTrailerBlockSize, limits.maxTrailerFieldCount,
            ],
            [8192, 65536, 100, 4096, 65536, 100])
    }

    // MARK: - Framing

    func testContentLengthListsOfTheSameValueAreAccepted() {
        for fields in [
            "Content-Length: 5, 5", "Content-Length: 5\r\nContent-Length: 5", "Content-Length: 005",
            "Content-Length:  5 ",
        ] {
            let events = parseBothWays("POST / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n\r\nhello")
            XCTAssertEqual(firstHead(events)?.framing, .contentLength(5), fields)
            XCTAssertEqual(events.last, .end, fields)
        }
    }

    func testTransferCodingsBeforeChunkedAreReported() {
        let events = parseBothWays(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: GZIP, deflate\r\nTransfer-Encoding: x-gzip , Chunked\r\n\r\n0\r\n\r\n"
        )
        let head = firstHead(events)
        XCTAssertEqual(head?.framing, .chunked)
        XCTAssertEqual(head?.transferCodings, ["gzip", "deflate", "x-gzip"])
        XCTAssertEqual(head?.headers.first("transfer-encoding"), "GZIP, deflate")
        XCTAssertEqual(events.last, .end)
        let parameters = firstHead(
            parseBothWays(
                "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip;q=\"1\" ;x=y, chunked\r\n\r\n"))
        XCTAssertEqual(parameters?.transferCodings, ["gzip"])
    }

    func testRequestsWithoutFramingHaveNoBody() {
        let events = parseBothWays(
            "POST / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(
            events.map { if case .head = $0 { return "head" } else { return "\($0)" } },
            ["head", "end", "head", "end"])
    }

    func testHostBecomesAuthorityAndIsOptionalInHTTP10() {
        XCTAssertNil(firstHead(parseBothWays("GET / HTTP/1.0\r\n\r\n"))?.authority)
        XCTAssertEqual(
            firstHead(parseBothWays("GET / HTTP/1.0\r\nHost: [::1]:8080\r\n\r\n"))?.authority,
            "[::1]:8080")
        XCTAssertEqual(firstHead(parseBothWays("GET / HTTP/1.1\r\nHost:\r\n\r\n"))?.authority, "")
        XCTAssertEqual(
            firstHead(parseBothWays("GET / HTTP/1.1\r\n\r\n") { $0.requireHost = false })?.authority, nil)
        let absolute = firstHead(
            parseBothWays("GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        XCTAssertEqual(absolute?.path, "http://example.com/x")
    }

    /// RFC 9112 §3.2.2: "When an origin server receives a request with an absolute-form of
    /// request-target, the origin server MUST ignore the received Host header field (if any) and
    /// instead use the host information of the request-target." `:path` keeps the target as sent.
    func testAnAbsoluteFormTargetsAuthorityIsTheRequests() {
        let cases = [
            ("GET http://example.com/x HTTP/1.1\r\nHost: other.example\r\n\r\n", "example.com"),
            ("GET HTTPS://Ex.example:8443?q=1 HTTP/1.1\r\nHost: h\r\n\r\n", "Ex.example:8443"),
            ("GET http://[::1]:81#f HTTP/1.1\r\nHost: h\r\n\r\n", "[::1]:81"),
            ("GET http://a.example HTTP/1.0\r\n\r\n", "a.example"),
            // Another scheme is the handler's to make sense of: Host stays the authority.
            ("GET ftp://f.example/ HTTP/1.1\r\nHost: h\r\n\r\n", "h"),
        ]
        for (text, authority) in cases {
            let head = firstHead(parseBothWays(text))
            XCTAssertEqual(head?.authority, authority, text)
            XCTAssertEqual(head?.headers.pairs.filter { $0.hasPrefix(":authority") }.count, 1, text)
        }
        // A refilled head takes each request's own: absolute-form after origin-form and back.
        let events = parseBothWays(
            "GET http://a.example/ HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"
                + "GET http://a.example/ HTTP/1.1\r\nHost: h\r\n\r\nGET http://b.example/ HTTP/1.1\r\nHost: h\r\n\r\n")
        let authorities = events.compactMap { event -> String? in
            if case .head(let head) = event { return head.authority ?? "-" } else { return nil }
        }
        XCTAssertEqual(authorities, ["a.example", "h", "a.example", "b.example"])
    }

    /// An http(s) target without a host (RFC 9110 §4.2.1: "MUST reject it as invalid") or with
    /// userinfo (§4.2.4: "treat its presence as an error") is a 400; so is an invalid Host beside
    /// it (RFC 9112 §3.2), which is ignored but must still be valid.
    func testAnAbsoluteFormTargetWithoutAHostOrWithUserinfoIsRefused() {
        for target in ["http:///x", "http://", "https://?q", "http://user:pw@a.example/", "http://:80/"] {
            XCTAssertEqual(
                parseBothWays("GET \(target) HTTP/1.1\r\nHost: h\r\n\r\n"), [.error(.invalidRequestTarget(target))],
                target)
        }
        XCTAssertEqual(
            parseBothWays("GET http://a.example/ HTTP/1.1\r\nHost: a b\r\n\r\n"), [.error(.invalidHost("a b"))])
        XCTAssertEqual(parseBothWays("GET http://a.example/ HTTP/1.1\r\n\r\n"), [.error(.missingHost)])
    }

    func testConnectAndUpgradeRequests() {
        let connect = parseBothWays(
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 3\r\n\r\nTLS")
        guard let head = firstHead(connect) else { return }
        XCTAssertEqual(
            head.headers.pairs, [":method: CONNECT", ":authority: example.com:443", "content-length: 3"])
        XCTAssertNil(head.path)
        XCTAssertEqual(head.framing, .none)  // RFC 9110 §9.3.6: a CONNECT request has no content
        XCTAssertTrue(head.requestsProtocolSwitch)
        XCTAssertEqual(connect[1], .end)

        let upgrade = firstHead(
            parseBothWays(
                "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n"
            ))
        XCTAssertEqual(upgrade?.requestsProtocolSwitch, true)
        let withoutOption = firstHead(
            parseBothWays("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n"))
        XCTAssertEqual(withoutOption?.requestsProtocolSwitch, false)
    }

    // MARK: - The client role (RFC 9112 §6.3)

    func testResponseToHEADHasNoBody() {
        let text =
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
        let events = parseBothWays(text, role: .client) { parser in
            parser.expectResponse(toMethod: "HEAD")
            parser.expectResponse(toMethod: "GET")
        }
        XCTAssertEqual(firstHead(events)?.framing, HTTP1BodyFraming.none)
        XCTAssertEqual(events.count, 5)
        XCTAssertEqual(events[1], .end)
        XCTAssertEqual(events[3], .body(Array("hi".utf8)))
    }

    func test204And304HaveNoBody() {
        for status in [204, 304] {
            let events = parseBothWays(
                "HTTP/1.1 \(status) X\r\nContent-Length: 7\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                role: .client)
            XCTAssertEqual(events.count, 4, "\(status)")
            XCTAssertEqual(events[1], .end)
        }
    }

    func testInterimResponsesComeBeforeTheFinalOne() {
        let text =
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
        let events = parseBothWays(text, role: .client) { $0.expectResponse(toMethod: "HEAD") }
        let statuses = events.compactMap { event -> Int? in
            if case .head(let head) = event { return head.status } else { return nil }
        }
        XCTAssertEqual(statuses, [100, 103, 200])
        // The HEAD expectation belongs to the final response, not to the 1xx ones.
        XCTAssertEqual(events.count, 4)
        XCTAssertEqual(events.last, .end)
    }

    /// RFC 9110 §15.2: a client parses "one or more" 1xx, not any number: the interim heads of
    /// one response count together toward `maxHeaderBlockSize`, and a final response starts the
    /// count again.
    func testInterimHeadsOfOneResponseShareTheHeaderBlockLimit() {
        let interim = "HTTP/1.1 100 Continue\r\n\r\n"  // 25 octets
        let final = "HTTP/1.1 204 No Content\r\n\r\n"
        let configure: (inout HTTP1Parser) -> Void = { parser in
            parser.limits.maxHeaderBlockSize = 100
            for _ in 0..<3 { parser.expectResponse(toMethod: "GET") }
        }
        // Four are 100 octets: within the limit, twice over, as the count starts again.
        let within = parseBothWays(
            String(repeating: String(repeating: interim, count: 4) + final, count: 2), role: .client,
            configure: configure)
        XCTAssertNil(finalError(within))
        XCTAssertEqual(within.count, 12)
        // A fifth before the same final response is one too many.
        let over = parseBothWays(String(repeating: interim, count: 5) + final, role: .client, configure: configure)
        XCTAssertEqual(finalError(over), .interimResponsesTooLarge(limit: 100))
        XCTAssertEqual(over.count, 5)
    }

    func test101SwitchesProtocolsAndStops() {
        var parser = HTTP1Parser(role: .client)
        parser.expectResponse(toMethod: "GET")
        let input = Array(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\u{81}\u{05}hello"
                .utf8)
        input.withUnsafeBytes { raw in
            let head = parser.parse(raw)
            guard case .head(let response)? = head.event else { return XCTFail("\(head)") }
            XCTAssertEqual(response.status, 101)
            let rest = UnsafeRawBufferPointer(rebasing: raw[head.consumed...])
            XCTAssertEqual(Array(rest.prefix(1)), [0xC2])  // the WebSocket frame starts here, untouched
            for _ in 0..<3 {
                XCTAssertEqual(parser.parse(rest), HTTP1ParseResult(consumed: 0, event: .switchedProtocols))
            }
        }
        XCTAssertNil(parser.inputEnded())
    }

    func testConnectSuccessOpensATunnelAndFailureHasABody() {
        let ok = parseBothWays("HTTP/1.1 200 Connection Established\r\n\r\n\u{16}\u{03}", role: .client) {
            $0.expectResponse(toMethod: "CONNECT")
        }
        XCTAssertEqual(ok.count, 2)
        XCTAssertEqual(ok.last, .switched)
        let refused = parseBothWays(
            "HTTP/1.1 407 Proxy Auth\r\nContent-Length: 4\r\n\r\ndeny", role: .client
        ) {
            $0.expectResponse(toMethod: "CONNECT")
        }
        XCTAssertEqual(Array(refused.dropFirst()), [.body(Array("deny".utf8)), .end])
    }

    func testResponseWithoutLengthIsReadUntilClose() {
        let events = parseBothWays(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello world", role: .client,
            endInput: true)
        XCTAssertEqual(firstHead(events)?.framing, .untilClose)
        XCTAssertEqual(Array(events.dropFirst()), [.body(Array("hello world".utf8)), .end])
    }

    func testResponseTransferEncodingRules() {
        let notFinal = parseBothWays(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nraw", role: .client,
            endInput: true)
        XCTAssertEqual(firstHead(notFinal)?.framing, .untilClose)
        XCTAssertEqual(firstHead(notFinal)?.transferCodings, ["chunked", "gzip"])
        XCTAssertEqual(notFinal.last, .end)
        let unknown = firstHead(
            parseBothWays(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: br, chunked\r\n\r\n0\r\n\r\n", role: .client))
        XCTAssertEqual(unknown?.framing, .chunked)
        XCTAssertEqual(unknown?.transferCodings, ["br"])
        let http10 = firstHead(
            parseBothWays("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", role: .client))
        XCTAssertEqual(http10?.framing, .untilClose)
        XCTAssertEqual(http10?.keepAlive, false)
        XCTAssertEqual(
            parseBothWays(
                "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", role: .client),
            [.error(.contentLengthWithTransferEncoding)])
    }

    func testClientDataAfterAClosingResponseIsAnError() {
        let events = parseBothWays(
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n\r\n",
            role: .client)
        XCTAssertEqual(events.last, .error(.dataAfterClose))
    }
}
