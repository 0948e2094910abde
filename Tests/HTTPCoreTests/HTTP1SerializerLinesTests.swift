import XCTest

@testable import HTTPCore

/// `HTTP1Serializer`'s element writers (the low-level writes of `H1Connection`): what they write,
/// what they refuse (lua-http asserts on bad input; these throw and write nothing), and round
/// trips through `HTTP1LineReader` and `HTTP1Parser`.
final class HTTP1SerializerLinesTests: XCTestCase {
    private func written(_ write: (inout [UInt8]) throws -> Void) rethrows -> String {
        var buffer: [UInt8] = []
        try write(&buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Asserts that `write` throws `expected` and leaves the buffer as it was.
    private func assertRefused(
        _ expected: HTTP1SerializeError, file: StaticString = #filePath, line: UInt = #line,
        _ write: (inout [UInt8]) throws -> Void
    ) {
        var buffer = Array("kept".utf8)
        do {
            try write(&buffer)
            XCTFail("no error, expected \(expected)", file: file, line: line)
        } catch {
            XCTAssertEqual(error as? HTTP1SerializeError, expected, file: file, line: line)
            XCTAssertFalse("\(error)".isEmpty, file: file, line: line)
        }
        XCTAssertEqual(buffer, Array("kept".utf8), "the buffer changed", file: file, line: line)
    }

    func testRequestLines() throws {
        XCTAssertEqual(
            try written {
                try HTTP1Serializer.writeRequestLine(method: "GET", target: "/", version: .http11, into: &$0)
            },
            "GET / HTTP/1.1\r\n")
        XCTAssertEqual(
            try written {
                try HTTP1Serializer.writeRequestLine(method: "M-SEARCH", target: "*", version: .http10, into: &$0)
            },
            "M-SEARCH * HTTP/1.0\r\n")
        for (method, target, error) in [
            ("", "/foo", HTTP1SerializeError.invalidMethod("")),
            ("GET ", "/", .invalidMethod("GET ")),
            ("GE\r\nT", "/", .invalidMethod("GE\r\nT")),
            ("G\0", "/", .invalidMethod("G\0")),
            ("GET", "", .invalidRequestTarget("")),
            ("GET", "/a b", .invalidRequestTarget("/a b")),
            ("GET", "/\r\nx: y", .invalidRequestTarget("/\r\nx: y")),
            ("GET", "/\0", .invalidRequestTarget("/\0")),
            ("GET", "/\u{E9}", .invalidRequestTarget("/\u{E9}")),
        ] {
            assertRefused(error) {
                try HTTP1Serializer.writeRequestLine(method: method, target: target, version: .http11, into: &$0)
            }
        }
    }

    func testStatusLines() throws {
        XCTAssertEqual(
            try written { try HTTP1Serializer.writeStatusLine(version: .http11, status: 200, reason: "OK", into: &$0) },
            "HTTP/1.1 200 OK\r\n")
        XCTAssertEqual(
            try written { try HTTP1Serializer.writeStatusLine(version: .http10, status: 999, reason: "", into: &$0) },
            "HTTP/1.0 999 \r\n")
        for status in [0, 99, 1000, -200, 20] {
            assertRefused(.invalidStatus(String(status))) {
                try HTTP1Serializer.writeStatusLine(version: .http11, status: status, reason: "OK", into: &$0)
            }
        }
        for reason in ["new lines\r\n", "weird\u{1}", "del\u{7F}", "nul\0"] {
            assertRefused(.invalidReasonPhrase(reason)) {
                try HTTP1Serializer.writeStatusLine(version: .http11, status: 200, reason: reason, into: &$0)
            }
        }
    }

    func testFields() throws {
        // lua-http's "odd fields" that are valid field values.
        for value in ["bar", " bar", "bar ", "bar: stuff", "bar, stuff", "a\tb", "\u{E9}"] {
            XCTAssertEqual(
                try written { try HTTP1Serializer.writeField(name: "Foo", value: value, into: &$0) },
                "Foo: \(value)\r\n")
        }
        for name in ["", ":", "\n", "foo\r\n", "f\r\noo", "foo bar", "foo:", "f\0"] {
            assertRefused(.invalidFieldName(name)) {
                try HTTP1Serializer.writeField(name: name, value: "bar", into: &$0)
            }
        }
        // No obs-fold is generated (lua-http writes "bar\n continuation").
        for value in [
            "bar\r\n", "bar\r\n\r\n", "bar\nbad continuation", "bar\n continuation", "bar\r\n continuation", "\0",
        ] {
            assertRefused(.invalidFieldValue(name: "foo")) {
                try HTTP1Serializer.writeField(name: "foo", value: value, into: &$0)
            }
        }
    }

    private func chunk(_ data: String, extensions: String) throws(HTTP1SerializeError) -> String {
        var buffer: [UInt8] = []
        let bytes = Array(data.utf8)
        // (withUnsafeBytes with a typed-throws closure crashes the compiler: untyped here.)
        do {
            try bytes.withUnsafeBytes { try HTTP1Serializer.writeChunk($0, extensions: extensions, into: &buffer) }
        } catch {
            throw error as! HTTP1SerializeError
        }
        return String(decoding: buffer, as: UTF8.self)
    }

    func testChunks() throws {
        XCTAssertEqual(try chunk("hello, world!!!!!", extensions: ""), "11\r\nhello, world!!!!!\r\n")
        XCTAssertEqual(try chunk("hello", extensions: ";a=b;c=\"d e\""), "5;a=b;c=\"d e\"\r\nhello\r\n")
        XCTAssertEqual(try chunk("hello", extensions: " ; a = b"), "5 ; a = b\r\nhello\r\n")
        // Empty data writes nothing: a zero-size chunk would end the body.
        XCTAssertEqual(try chunk("", extensions: ";a"), "")
        for extensions in ["a=b", ";", ";a\r\n", ";a=\"b", ";a=b c", ";a\r\n0\r\n\r\n", "x"] {
            XCTAssertThrowsError(try chunk("hello", extensions: extensions), extensions.debugDescription) { error in
                XCTAssertEqual(error as? HTTP1SerializeError, .invalidChunkExtension(extensions))
            }
            assertRefused(.invalidChunkExtension(extensions)) {
                try HTTP1Serializer.writeLastChunkLine(extensions: extensions, into: &$0)
            }
        }
        XCTAssertEqual(try written { try HTTP1Serializer.writeLastChunkLine(extensions: "", into: &$0) }, "0\r\n")
        XCTAssertEqual(
            try written { try HTTP1Serializer.writeLastChunkLine(extensions: ";end", into: &$0) }, "0;end\r\n")
    }

    /// A whole message written element by element reads back element by element (octet by
    /// octet), and the parser agrees with it.
    func testMessageRoundTrip() throws {
        var message: [UInt8] = []
        try HTTP1Serializer.writeRequestLine(method: "POST", target: "/upload?x=1", version: .http11, into: &message)
        try HTTP1Serializer.writeField(name: "Host", value: "example.com", into: &message)
        try HTTP1Serializer.writeField(name: "Transfer-Encoding", value: "chunked", into: &message)
        try HTTP1Serializer.writeField(name: "X-Empty", value: "", into: &message)
        HTTP1Serializer.writeEndOfSection(into: &message)
        message += Array(try chunk("this is a chunk", extensions: "").utf8)
        message += Array(try chunk("this is another chunk", extensions: ";n=v").utf8)
        try HTTP1Serializer.writeLastChunkLine(extensions: "", into: &message)
        try HTTP1Serializer.writeField(name: "Checksum", value: "abc", into: &message)
        HTTP1Serializer.writeEndOfSection(into: &message)

        var harness = LineReaderHarness(message)
        XCTAssertEqual(harness.read(.requestLine), .value("POST /upload?x=1 HTTP/1.1", consumed: 27))
        XCTAssertEqual(harness.read(.field), .value("Host: [example.com]", consumed: 19))
        XCTAssertEqual(harness.read(.field), .value("Transfer-Encoding: [chunked]", consumed: 28))
        XCTAssertEqual(harness.read(.field), .value("X-Empty: []", consumed: 11))
        XCTAssertEqual(harness.read(.field), .value("end", consumed: 0))
        XCTAssertEqual(harness.read(.endOfSection), .value("true", consumed: 2))
        XCTAssertEqual(harness.read(.chunk), .value("this is a chunk []", consumed: 20))
        XCTAssertEqual(harness.read(.chunk), .value("this is another chunk [;n=v]", consumed: 31))
        XCTAssertEqual(harness.read(.chunk), .value("last", consumed: 3))
        XCTAssertEqual(harness.read(.field), .value("Checksum: [abc]", consumed: 15))
        XCTAssertEqual(harness.read(.endOfSection), .value("true", consumed: 2))
        XCTAssertEqual(harness.input, [])

        let events = parseBothWays(message)
        XCTAssertEqual(firstHead(events)?.path, "/upload?x=1")
        XCTAssertEqual(
            events.dropFirst(),
            [
                .body(Array("this is a chunkthis is another chunk".utf8)), .trailers(Headers([("checksum", "abc")])),
                .end,
            ])
    }
}
