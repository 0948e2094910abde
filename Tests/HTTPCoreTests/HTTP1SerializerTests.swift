import XCTest

@testable import HTTPCore

final class HTTP1SerializerTests: XCTestCase {
    // MARK: - Round trips

    func testRequestHeadRoundTrip() throws {
        let headers = Headers([
            (":method", "GET"), (":path", "/search?q=a%20b"), (":authority", "example.com:8080"),
            (":scheme", "https"),
            ("user-agent", "stepwise/0"), ("accept", "*/*"), ("cookie", "a=1"),
        ])
        var buffer: [UInt8] = []
        try HTTP1Serializer.writeRequestHead(headers, into: &buffer)
        XCTAssertEqual(
            String(decoding: buffer, as: UTF8.self),
            "GET /search?q=a%20b HTTP/1.1\r\nhost: example.com:8080\r\nuser-agent: stepwise/0\r\naccept: */*\r\ncookie: a=1\r\n\r\n"
        )
        let head = firstHead(parseBothWays(buffer))
        var expected = headers
        // HTTP/1 does not carry :scheme; the caller knows it.
        expected.fields.removeAll { $0.name == ":scheme" }
        XCTAssertEqual(head?.headers, expected)
        XCTAssertEqual(head?.headers.fields.last?.neverIndex, true)
    }

    func testRequestVariants() throws {
        var buffer: [UInt8] = []
        try HTTP1Serializer.writeRequestHead(
            Headers([(":method", "CONNECT"), (":authority", "example.com:443")]), into: &buffer)
        XCTAssertEqual(
            String(decoding: buffer, as: UTF8.self),
            "CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n")
        XCTAssertEqual(firstHead(parseBothWays(buffer))?.authority, "example.com:443")

        buffer = []
        try HTTP1Serializer.writeRequestHead(
            Headers([(":method", "OPTIONS"), (":path", "*")]), version: .http10, into: &buffer)
        XCTAssertEqual(String(decoding: buffer, as: UTF8.self), "OPTIONS * HTTP/1.0\r\n\r\n")

        buffer = []
        try HTTP1Serializer.writeRequestHead(
            Headers([(":method", "M-SEARCH"), (":path", "*"), ("host", "239.255.255.250:1900")]),
            into: &buffer)
        XCTAssertEqual(firstHead(parseBothWays(buffer))?.authority, "239.255.255.250:1900")
    }

    func testResponseHeadRoundTrip() throws {
        let cases: [(Int, String?, String)] = [
            (200, nil, "OK"), (404, nil, "Not Found"), (431, nil, "Request Header Fields Too Large"),
            (299, nil, ""), (999, "weird\tand wonderful", "weird\tand wonderful"), (200, "", ""),
            (201, "Fine", "Fine"),
        ]
        for (status, given, written) in cases {
            let headers = Headers([
                (":status", String(status)), ("content-length", "0"), ("x-odd", " bar: stuff, more "),
            ])
            var buffer: [UInt8] = []
            try HTTP1Serializer.writeResponseHead(headers, reasonPhrase: given, into: &buffer)
            XCTAssertEqual(
                String(decoding: buffer, as: UTF8.self),
                "HTTP/1.1 \(status) \(written)\r\ncontent-length: 0\r\nx-odd:  bar: stuff, more \r\n\r\n")
            let head = firstHead(parseBothWays(buffer, role: .client))
            XCTAssertEqual(head?.status, status)
            XCTAssertEqual(head?.reasonPhrase, written)
            // The recipient trims the optional whitespace around a value.
            XCTAssertEqual(
                head?.headers.pairs, [":status: \(status)", "content-length: 0", "x-odd: bar: stuff, more"])
        }
        var buffer: [UInt8] = []
        try HTTP1Serializer.writeResponseHead(
            Headers([(":status", "204")]), version: .http10, into: &buffer)
        XCTAssertEqual(String(decoding: buffer, as: UTF8.self), "HTTP/1.0 204 No Content\r\n\r\n")
    }

    func testChunkFramingRoundTrip() throws {
        var buffer: [UInt8] = []
        try HTTP1Serializer.writeRequestHead(
            Headers([
                (":method", "POST"), (":path", "/"), (":authority", "a"), ("transfer-encoding", "chunked"),
            ]), into: &buffer)
        HTTP1Serializer.writeChunk(Array("hello".utf8), into: &buffer)
        // Writes nothing: a zero-size chunk would end the body.
        HTTP1Serializer.writeChunk([], into: &buffer)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz".utf8)
        alphabet.withUnsafeBytes { HTTP1Serializer.writeChunk($0, into: &buffer) }
        try HTTP1Serializer.writeLastChunk(
            trailers: Headers([("x-checksum", "abc"), ("expires", "never")]), into: &buffer)
        let text = String(decoding: buffer, as: UTF8.self)
        XCTAssertTrue(
            text.hasSuffix(
                "\r\n\r\n5\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nx-checksum: abc\r\nexpires: never\r\n\r\n"
            ), text)
        let events = parseBothWays(buffer)
        XCTAssertEqual(
            Array(events.dropFirst()),
            [
                .body(Array("hello".utf8) + alphabet),
                .trailers(Headers([("x-checksum", "abc"), ("expires", "never")])), .end,
            ])

        buffer = []
        try HTTP1Serializer.writeLastChunk(into: &buffer)
        XCTAssertEqual(buffer, Array("0\r\n\r\n".utf8))
    }

    func testLargeChunkSizesAreHex() {
        var buffer: [UInt8] = []
        HTTP1Serializer.writeChunk([UInt8](repeating: 0x61, count: 0x1234), into: &buffer)
        XCTAssertEqual(Array(buffer.prefix(6)), Array("1234\r\n".utf8))
        XCTAssertEqual(buffer.count, 6 + 0x1234 + 2)
    }

    func testWrittenBytesDoNotChangeWhenTheHeadersDo() throws {
        var headers = Headers([(":method", "GET"), (":path", "/"), (":authority", "a"), ("x", "1")])
        var buffer: [UInt8] = []
        try HTTP1Serializer.writeRequestHead(headers, into: &buffer)
        let written = buffer
        headers.append("y", "2")
        XCTAssertEqual(buffer, written)
    }

    // MARK: - Refusals: each throws and writes nothing

    func assertRefused(
        _ expected: HTTP1SerializeError, file: StaticString = #filePath, line: UInt = #line,
        _ write: (inout [UInt8]) throws(HTTP1SerializeError) -> Void
    ) {
        var buffer: [UInt8] = Array("previous output".utf8)
        do {
            try write(&buffer)
            XCTFail(
                "expected \(expected), but it was written: \(String(decoding: buffer, as: UTF8.self).debugDescription)",
                file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
        }
        XCTAssertEqual(buffer, Array("previous output".utf8), "nothing written", file: file, line: line)
    }

    func request(
        _ extra: [(String, String)], method: String = "GET", path: String = "/", authority: String = "a"
    ) -> Headers {
        Headers([(":method", method), (":path", path), (":authority", authority)] + extra)
    }

    func testInjectionInTheRequestLineIsRefused() {
        for method in ["GET\r\nX: y", "G ET", "", "GET\0", "GET\n", "GÉT"] {
            assertRefused(.invalidMethod(method)) { buffer throws(HTTP1SerializeError) in
                try HTTP1Serializer.writeRequestHead(request([], method: method), into: &buffer)
            }
        }
        for path in ["/a\r\nX: y", "/a b", "", "/\0", "/é", "/a\tb", "/\u{7F}"] {
            assertRefused(.invalidRequestTarget(path)) { buffer throws(HTTP1SerializeError) in
                try HTTP1Serializer.writeRequestHead(request([], path: path), into: &buffer)
            }
        }
        for authority in ["a\r\nX: y", "a b", "a/b", "a\0", "user@a"] {
            assertRefused(.invalidAuthority(authority)) { buffer throws(HTTP1SerializeError) in
                try HTTP1Serializer.writeRequestHead(request([], authority: authority), into: &buffer)
            }
        }
    }

    /// lua-http's write_header rejections, plus NUL and other CTLs. obs-fold is refused too (RFC
    /// 9112 §5.2: "A sender MUST NOT generate a message that includes line folding").
    func testInjectionInFieldsIsRefused() {
        for name in ["", ":", "\n", "foo\r\n", "f\r\noo", "x y", "x:y", "x\0", "é", ":foo"] {
            let expected: HTTP1SerializeError =
                name.hasPrefix(":") ? .unexpectedPseudoHeader(name) : .invalidFieldName(name)
            assertRefused(expected) { buffer throws(HTTP1SerializeError) in
                try HTTP1Serializer.writeRequestHead(request([(name, "bar")]), into: &buffer)
            }
            if !name.hasPrefix(":") {
                assertRefused(.invalidFieldName(name)) { buffer throws(HTTP1SerializeError) in
                    try HTTP1Serializer.writeResponseHead(
                        Headers([(":status", "200"), (name, "bar")]), into: &buffer)
                }
            }
        }
        let values = [
            "bar\r\n", "bar\r\n\r\n", "bar\nbad continuation", "bar\r\nbad continuation",
            "bar\n continuation",
            "bar\r\n continuation", "a\0b", "a\u{1}b", "a\u{7F}b", "\r", "a\rb",
        ]
        for value in values {
            assertRefused(.invalidFieldValue(name: "foo")) { buffer throws(HTTP1SerializeError) in
                try HTTP1Serializer.writeRequestHead(request([("foo", value)]), into: &buffer)
            }
            assertRefused(.invalidFieldValue(name: "foo")) { buffer throws(HTTP1SerializeError) in
                try HTTP1Serializer.writeResponseHead(
                    Headers([(":status", "200"), ("foo", value)]), into: &buffer)
            }
            assertRefused(.invalidFieldValue(name: "foo")) { buffer throws(HTTP1SerializeError) in
                try HTTP1Serializer.writeLastChunk(
                    trailers: Headers([("ok", "1"), ("foo", value)]), into: &buffer)
            }
        }
        // A refused field anywhere means nothing of the head is written, not even the fields before it.
        assertRefused(.invalidFieldValue(name: "late")) { buffer throws(HTTP1SerializeError) in
            try HTTP1Serializer.writeRequestHead(
                request([("early", "fine"), ("late", "x\r\ny")]), into: &buffer)
        }
        // A response head checks its values while copying them: a bad one after good ones, or in
        // the added fields, still leaves the buffer as it was.
        assertRefused(.invalidFieldValue(name: "late")) { buffer throws(HTTP1SerializeError) in
            try HTTP1Serializer.writeResponseHead(
                Headers([(":status", "200"), ("early", "fine"), ("late", "long enough to span words\0")]),
                into: &buffer)
        }
        assertRefused(.invalidFieldValue(name: "added")) { buffer throws(HTTP1SerializeError) in
            try HTTP1Serializer.writeResponseHead(
                Headers([(":status", "200"), ("early", "fine")]),
                appending: [
                    .init(name: "date", value: "fine", neverIndex: false),
                    .init(name: "added", value: "a\nb", neverIndex: false),
                ], into: &buffer)
        }
        assertRefused(.invalidFieldName("bad name")) { buffer throws(HTTP1SerializeError) in
            try HTTP1Serializer.writeResponseHead(
                Headers([(":status", "200")]), appending: [.init(name: "bad name", value: "v", neverIndex: false)],
                into: &buffer)
        }
    }

    func testStatusAndReasonAreValidated() {
        for status in ["1000", "99", "abc", "", "099", "20", "2 0", "+200", "２00"] {
            assertRefused(.invalidStatus(status)) { buffer throws(HTTP1SerializeError) in
                try HTTP1Serializer.writeResponseHead(Headers([(":status", status)]), into: &buffer)
            }
        }
        for reason in ["OK\r\nX: y", "O\nK", "\0", "a\u{1B}b"] {
            assertRefused(.invalidReasonPhrase(reason)) { buffer throws(HTTP1SerializeError) in
                try HTTP1Serializer.writeResponseHead(
                    Headers([(":status", "200")]), reasonPhrase: reason, into: &buffer)
            }
        }
    }

    func testPseudoHeaderRules() {
        assertRefused(.missingPseudoHeader(":method")) { buffer throws(HTTP1SerializeError) in
            try HTTP1Serializer.writeRequestHead(
                Headers([(":path", "/"), (":authority", "a")]), into: &buffer)
        }
        assertRefused(.missingPseudoHeader(":path")) { buffer throws(HTTP1SerializeError) in
            try HTTP1Serializer.writeRequestHead(
                Headers([(":method", "GET"), (":authority", "a")]), into: &buffer)
        }
        assertRefused(.missingPseudoHeader(":authority")) { buffer throws(HTTP1SerializeError) in
            try HTTP1Serializer.writeRequestHead(
                Headers([(":method", "GET"), (":path", "/")]), into: &buffer)
        }
        assertRefused(.missingPseudoHeader(":authority")) { buffer throws(HTTP1SerializeError) in
            try HTTP1Serializer.writeRequestHead(
                Headers([(":method", "CONNECT"), ("host", "a:1")]), version: .http10, into: &buffer)
        }
        assertRefused(.unexpectedPseudoHeader(":path")) { buffer throws(HTTP1SerializeError) in
            try HTTP1Serializer.writeRequestHead(
                Headers([(":method", "CONNECT"), (":authority", "a:1"), (":path", "/")]), into: &buffer)
        }
        assertRefused(.unexpectedPseudoHeader(":status")) { buffer throws(HTTP1SerializeError) in
            try HTTP1Serializer.writeRequestHead(request([(":status", "200")]), into: &buffer)
        }
        assertRefused(.conflictingHost) { buffer throws(HTTP1SerializeError) in
            try HTTP1Serializer.writeRequestHead(request([("host", "b")]), into: &buffer)
        }
        assertRefused(.missingPseudoHeader(":status")) { buffer throws(HTTP1SerializeError) in
            try HTTP1Serializer.writeResponseHead(Headers([("content-length", "0")]), into: &buffer)
        }
        assertRefused(.unexpectedPseudoHeader(":path")) { buffer throws(HTTP1SerializeError) in
            try HTTP1Serializer.writeResponseHead(
                Headers([(":status", "200"), (":path", "/")]), into: &buffer)
        }
        assertRefused(.unexpectedPseudoHeader(":status")) { buffer throws(HTTP1SerializeError) in
            try HTTP1Serializer.writeLastChunk(trailers: Headers([(":status", "200")]), into: &buffer)
        }
    }

    /// RFC 9110 §6.5.1: "A sender MUST NOT generate a trailer field unless the sender knows the
    /// corresponding header field name's definition permits the field to be sent in trailers."
    /// Fields that frame the message, route it, are connection-specific, authenticate, modify the
    /// request or say how to process the content went out after the body as readily as any other,
    /// where a recipient that merges trailers would have taken them for the head's (a second
    /// `content-length`, a `host`). Each is refused, in any case, with nothing written; other
    /// trailers still go out.
    func testTrailersThatFrameRouteOrControlTheMessageAreRefused() throws {
        let forbidden = [
            "content-length", "Transfer-Encoding", "host", "trailer", "te", "connection", "keep-alive",
            "proxy-connection", "upgrade", "authorization", "proxy-authorization", "www-authenticate",
            "proxy-authenticate", "content-type", "content-encoding", "content-range", "cache-control", "pragma",
            "expect", "max-forwards", "range", "if-match", "If-None-Match", "realm",
        ]
        for name in forbidden {
            assertRefused(.forbiddenTrailer(name)) { buffer throws(HTTP1SerializeError) in
                try HTTP1Serializer.writeLastChunk(trailers: Headers([("x-ok", "1"), (name, "1")]), into: &buffer)
            }
        }
        var buffer: [UInt8] = []
        try HTTP1Serializer.writeLastChunk(
            trailers: Headers([("x-checksum", "1"), ("server-timing", "db;dur=5"), ("content-md5", "x")]),
            into: &buffer)
        XCTAssertEqual(
            String(decoding: buffer, as: UTF8.self),
            "0\r\nx-checksum: 1\r\nserver-timing: db;dur=5\r\ncontent-md5: x\r\n\r\n")
        XCTAssertEqual(
            HTTP1SerializeError.forbiddenTrailer("host").description,
            "host cannot be sent in trailers (RFC 9110 §6.5.1: it frames, routes, authenticates or controls the"
                + " message, or says how to process its content)")
    }

    /// One request line: a second `:method` went out in the line while the connection framed the
    /// request, and read its response, by the first (a `HEAD` line read as a `GET`, whose
    /// response then swallowed the next one); a second `:path` or `:authority` replaced the first.
    func testARepeatedPseudoHeaderInARequestIsRefused() {
        for pseudo in [(":method", "HEAD"), (":path", "/other"), (":authority", "b")] {
            assertRefused(.unexpectedPseudoHeader(pseudo.0)) { buffer throws(HTTP1SerializeError) in
                try HTTP1Serializer.writeRequestHead(request([pseudo]), into: &buffer)
            }
        }
        assertRefused(.unexpectedPseudoHeader(":authority")) { buffer throws(HTTP1SerializeError) in
            try HTTP1Serializer.writeRequestHead(
                Headers([(":method", "CONNECT"), (":authority", "a:1"), (":authority", "b:2")]), into: &buffer)
        }
    }

    func testErrorDescriptionsSayWhatAndShowControls() {
        XCTAssertEqual(
            HTTP1SerializeError.invalidFieldValue(name: "x-evil").description,
            "invalid character (CR, LF, NUL or CTL) in the value of \"x-evil\"")
        XCTAssertEqual(
            HTTP1SerializeError.invalidMethod("GET\r\nX\0").description,
            "invalid method: \"GET\\r\\nX\\0\"")
        XCTAssertEqual(
            HTTP1SerializeError.invalidStatus("1000").description,
            "invalid :status \"1000\" (must be 100...999)")
    }
}

extension HTTP1SerializerTests {
    /// Writing many pieces into one buffer grows it geometrically, not by each piece's size
    /// (`reserveCapacity` with an exact size would copy the whole buffer on every call).
    func testAccumulatingWritesGrowTheBufferGeometrically() throws {
        var buffer: [UInt8] = []
        var capacityChanges = 0
        var lastCapacity = buffer.capacity
        let head = Headers([(":status", "200"), ("transfer-encoding", "chunked")])
        for index in 0..<10_000 {
            if index % 100 == 0 { try HTTP1Serializer.writeResponseHead(head, into: &buffer) }
            HTTP1Serializer.writeChunk(Array("chunk \(index)".utf8), into: &buffer)
            if buffer.capacity != lastCapacity {
                capacityChanges += 1
                lastCapacity = buffer.capacity
            }
        }
        try HTTP1Serializer.writeLastChunk(into: &buffer)
        XCTAssertLessThan(capacityChanges, 40, "\(buffer.count) bytes")
    }
}
