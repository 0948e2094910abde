import XCTest

@testable import HTTPCore

/// `H1OutboundMessage` on its own (sans-IO): the framing it chooses, the fields it adds and the
/// octets it frames, compared exactly, and every misuse it must refuse.
final class H1OutboundMessageTests: XCTestCase {
    private typealias Message = H1OutboundMessage
    private static let date = "Sun, 06 Nov 1994 08:49:37 GMT"
    private static let lowercase = "abcdefghijklmnopqrstuvwxyz"

    // MARK: - Helpers

    /// The request a response answers, and whether its client accepts the gzip transfer coding.
    private struct Request {
        var context: Message.RequestContext
        var acceptsGzip: Bool
    }

    private func request(
        _ method: String = "GET", _ version: HTTP1Version = .http11, keepAlive: Bool = true, gzip: Bool = false
    ) -> Request {
        Request(context: .init(method: method, version: version, keepAlive: keepAlive), acceptsGzip: gzip)
    }

    /// Writes a response head and returns its octets as text.
    private func head(
        _ message: inout Message, _ pairs: [(String, String)], endStream: Bool = false,
        request: Request? = nil, persistent: Bool = true, date: String? = nil
    ) throws -> String {
        var out: [UInt8] = []
        let request = request ?? self.request()
        var asked = false
        try message.writeResponseHead(
            Headers(pairs), endStream: endStream, request: request.context, persistent: persistent,
            date: date.map { IMFFixdate($0)! },
            acceptsGzip: {
                asked = true
                return request.acceptsGzip
            }, into: &out)
        // `TE` is looked up only for a body of unknown length: a chunked one.
        let text = String(decoding: out, as: UTF8.self)
        if asked { XCTAssert(text.contains("transfer-encoding:"), "TE looked up for \(text)") }
        return text
    }

    /// Writes a request head and returns its octets as text.
    private func requestHead(
        _ message: inout Message, _ pairs: [(String, String)], endStream: Bool, version: HTTP1Version = .http11
    ) throws -> String {
        var out: [UInt8] = []
        try message.writeRequestHead(Headers(pairs), endStream: endStream, version: version, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes body octets and returns everything handed to the sink, in order.
    private func body(
        _ message: inout Message, _ data: [UInt8], endStream: Bool = false, trailers: Headers? = nil
    ) throws -> [UInt8] {
        var out: [UInt8] = []
        try data.withUnsafeBytes { buffer in
            try message.writeBody(buffer, endStream: endStream, trailers: trailers) { out.append(contentsOf: $0) }
        }
        return out
    }

    private func body(
        _ message: inout Message, _ text: String, endStream: Bool = false, trailers: Headers? = nil
    ) throws -> String {
        String(
            decoding: try body(&message, Array(text.utf8), endStream: endStream, trailers: trailers), as: UTF8.self)
    }

    private enum ErrorKind { case invalidState, invalidHeaders }

    private func assertThrows(
        _ kind: ErrorKind, file: StaticString = #filePath, line: UInt = #line, _ call: () throws -> Void
    ) {
        XCTAssertThrowsError(try call(), file: file, line: line) { error in
            switch (kind, error as? HTTPStreamError) {
            case (.invalidState, .invalidState?), (.invalidHeaders, .invalidHeaders?): break
            default: XCTFail("expected \(kind), got \(error)", file: file, line: line)
            }
        }
    }

    private func assertThrows(
        _ expected: HTTPStreamError, file: StaticString = #filePath, line: UInt = #line, _ call: () throws -> Void
    ) {
        XCTAssertThrowsError(try call(), file: file, line: line) { error in
            XCTAssertEqual(error as? HTTPStreamError, expected, file: file, line: line)
        }
    }

    /// Removes the chunked framing (RFC 9112 §7.1) from `bytes`, which must be a complete chunked
    /// body without trailers; fails on anything malformed.
    private func dechunk(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> [UInt8]? {
        var data: [UInt8] = []
        var index = 0
        while true {
            guard
                let crlf = (index..<max(index, bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }
                ),
                let size = Int(String(decoding: bytes[index..<crlf], as: UTF8.self), radix: 16)
            else {
                XCTFail("no chunk size at offset \(index)", file: file, line: line)
                return nil
            }
            index = crlf + 2
            if size == 0 {
                XCTAssertEqual(Array(bytes[index...]), [13, 10], "after the last chunk", file: file, line: line)
                return data
            }
            guard index + size + 2 <= bytes.count, bytes[index + size] == 13, bytes[index + size + 1] == 10 else {
                XCTFail("chunk of \(size) octets at offset \(index) is cut or lacks its CRLF", file: file, line: line)
                return nil
            }
            data.append(contentsOf: bytes[index..<(index + size)])
            index += size + 2
        }
    }

    // MARK: - Content-Length

    func testContentLengthGiven() throws {
        var message = Message()
        XCTAssertFalse(message.hasStarted)
        XCTAssertEqual(
            try head(&message, [(":status", "200"), ("content-type", "text/plain"), ("content-length", "5")]),
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\n")
        XCTAssertEqual(message.state, .body(.contentLength(remaining: 5, declared: 5)))
        XCTAssertTrue(message.hasStarted)
        XCTAssertEqual(message.status, 200)
        XCTAssertEqual(try body(&message, "hel"), "hel")
        XCTAssertEqual(try body(&message, ""), "")
        XCTAssertEqual(message.state, .body(.contentLength(remaining: 2, declared: 5)))
        XCTAssertEqual(try body(&message, "lo", endStream: true), "lo")
        XCTAssertTrue(message.isComplete)
        XCTAssertFalse(message.closeAfter)
        XCTAssertFalse(message.switchedProtocols)
    }

    func testContentLengthGivenAndEndedByAnEmptyWrite() throws {
        var message = Message()
        _ = try head(&message, [(":status", "200"), ("content-length", "3")])
        XCTAssertEqual(try body(&message, "ab"), "ab")
        XCTAssertFalse(message.isComplete)
        // The declared length written, the message is complete on the wire; the empty write that
        // ends it changes nothing, and more data is refused.
        XCTAssertEqual(try body(&message, "c"), "c")
        XCTAssertTrue(message.isComplete)
        XCTAssertEqual(try body(&message, "", endStream: true), "")
        XCTAssertThrowsError(try body(&message, "d"))
        XCTAssertTrue(message.isComplete)
        XCTAssertFalse(message.closeAfter)
    }

    func testEndStreamOnHeadersAddsContentLengthZero() throws {
        var message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200")], endStream: true), "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        XCTAssertTrue(message.isComplete)
        XCTAssertFalse(message.closeAfter)

        // A content-length of 0 given by the handler is kept and not repeated.
        message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "404"), ("content-length", "0")], endStream: true),
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
        XCTAssertTrue(message.isComplete)

        // Ending at the head with a non-zero content-length cannot be true.
        message = Message()
        assertThrows(.contentLengthMismatch(declared: 5, written: 0)) {
            _ = try head(&message, [(":status", "200"), ("content-length", "5")], endStream: true)
        }
    }

    func testInvalidContentLengthsAreRejected() {
        for value in ["", "abc", "-1", "+5", "5 ", "0x10", "99999999999999999999"] {
            var message = Message()
            assertThrows(.invalidHeaders) { _ = try head(&message, [(":status", "200"), ("content-length", value)]) }
        }
        var message = Message()
        assertThrows(.invalidHeaders) {
            _ = try head(&message, [(":status", "200"), ("content-length", "5"), ("content-length", "5")])
        }
    }

    func testBodyLongerThanContentLength() throws {
        var message = Message()
        _ = try head(&message, [(":status", "200"), ("content-length", "5")])
        var sunk = ""
        assertThrows(.contentLengthMismatch(declared: 5, written: 6)) { sunk = try body(&message, "hello!") }
        XCTAssertEqual(sunk, "", "nothing of a refused write goes out")
        XCTAssertEqual(try body(&message, "hel"), "hel")
        assertThrows(.contentLengthMismatch(declared: 5, written: 6)) { _ = try body(&message, "lol") }
        XCTAssertEqual(message.state, .body(.contentLength(remaining: 2, declared: 5)))
        XCTAssertEqual(try body(&message, "lo", endStream: true), "lo")
        XCTAssertTrue(message.isComplete)
        XCTAssertFalse(message.closeAfter)
    }

    func testBodyShorterThanContentLengthAtItsEnd() throws {
        var message = Message()
        _ = try head(&message, [(":status", "200"), ("content-length", "5")])
        XCTAssertFalse(message.closeAfter)
        var out: [UInt8] = []
        XCTAssertThrowsError(
            try Array("hel".utf8).withUnsafeBytes { buffer in
                try message.writeBody(buffer, endStream: true) { out.append(contentsOf: $0) }
            }
        ) { error in
            XCTAssertEqual(error as? HTTPStreamError, .contentLengthMismatch(declared: 5, written: 3))
        }
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "hel")
        XCTAssertTrue(message.closeAfter, "the peer cannot frame what follows a short body")
        XCTAssertTrue(message.isComplete)
    }

    // MARK: - Chunked

    func testChunkedWhenLengthUnknownOnHTTP11() throws {
        var message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200")]), "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        XCTAssertEqual(message.state, .body(.chunked))
        XCTAssertEqual(try body(&message, "hello"), "5\r\nhello\r\n")
        XCTAssertEqual(try body(&message, Self.lowercase), "1a\r\n\(Self.lowercase)\r\n")
        XCTAssertEqual(try body(&message, ""), "", "an empty write must not end the body")
        XCTAssertEqual(
            try body(&message, Array(repeating: UInt8(ascii: "x"), count: 4096)),
            Array("1000\r\n".utf8) + Array(repeating: UInt8(ascii: "x"), count: 4096) + [13, 10])
        XCTAssertEqual(try body(&message, "abc", endStream: true), "3\r\nabc\r\n0\r\n\r\n")
        XCTAssertTrue(message.isComplete)
        XCTAssertFalse(message.closeAfter)
    }

    func testChunkedEndedByAnEmptyWrite() throws {
        var message = Message()
        _ = try head(&message, [(":status", "200")])
        XCTAssertEqual(try body(&message, "hi"), "2\r\nhi\r\n")
        XCTAssertEqual(try body(&message, "", endStream: true), "0\r\n\r\n")
        XCTAssertTrue(message.isComplete)
    }

    func testLastChunkWithTrailers() throws {
        var message = Message()
        _ = try head(&message, [(":status", "200"), ("trailer", "x-checksum")])
        XCTAssertEqual(try body(&message, "data"), "4\r\ndata\r\n")
        XCTAssertEqual(
            try body(&message, "", endStream: true, trailers: Headers([("x-checksum", "abc"), ("x-count", "1")])),
            "0\r\nx-checksum: abc\r\nx-count: 1\r\n\r\n")
        XCTAssertTrue(message.isComplete)

        // Data and trailers in one write.
        message = Message()
        _ = try head(&message, [(":status", "200")])
        XCTAssertEqual(
            try body(&message, "xy", endStream: true, trailers: Headers([("x-a", "b")])),
            "2\r\nxy\r\n0\r\nx-a: b\r\n\r\n")

        // Trailers cannot carry pseudo-headers or broken values.
        for trailers in [Headers([(":status", "200")]), Headers([("x-a", "b\r\nx-evil: 1")])] {
            message = Message()
            _ = try head(&message, [(":status", "200")])
            assertThrows(.invalidHeaders) { _ = try body(&message, "", endStream: true, trailers: trailers) }
        }
    }

    func testHandlerAskingForChunkedGetsOneTransferEncoding() throws {
        var message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200"), ("x-a", "1"), ("transfer-encoding", "chunked"), ("x-b", "2")]),
            "HTTP/1.1 200 OK\r\nx-a: 1\r\nx-b: 2\r\ntransfer-encoding: chunked\r\n\r\n")
        XCTAssertEqual(try body(&message, "hi", endStream: true), "2\r\nhi\r\n0\r\n\r\n")

        // Upper case is accepted too; anything but chunked belongs to the library.
        message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200"), ("transfer-encoding", "Chunked")]),
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        for coding in ["gzip", "gzip, chunked", "identity"] {
            message = Message()
            assertThrows(.invalidHeaders) {
                _ = try head(&message, [(":status", "200"), ("transfer-encoding", coding)])
            }
        }
    }

    func testContentLengthAndTransferEncodingRejected() {
        var message = Message()
        assertThrows(.invalidHeaders) {
            _ = try head(&message, [(":status", "200"), ("content-length", "5"), ("transfer-encoding", "chunked")])
        }
        XCTAssertFalse(message.hasStarted)
    }

    // MARK: - HTTP/1.0 and persistence

    func testHTTP10UnknownLengthIsCloseDelimited() throws {
        for keepAlive in [false, true] {
            var message = Message()
            XCTAssertEqual(
                try head(&message, [(":status", "200")], request: request("GET", .http10, keepAlive: keepAlive)),
                "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n", "keep-alive: \(keepAlive)")
            XCTAssertEqual(message.state, .body(.untilClose))
            XCTAssertTrue(message.closeAfter)
            XCTAssertEqual(try body(&message, "raw octets"), "raw octets")
            XCTAssertEqual(try body(&message, "", endStream: true), "")
            XCTAssertTrue(message.isComplete)
        }
    }

    func testHTTP10NeverSeesTransferEncoding() throws {
        // A handler asking for chunked gets a close-delimited body: HTTP/1.0 has no chunked coding
        // (RFC 9112 §6.1: no transfer-encoding unless the request is HTTP/1.1).
        var message = Message()
        XCTAssertEqual(
            try head(
                &message, [(":status", "200"), ("transfer-encoding", "chunked")],
                request: request("GET", .http10, keepAlive: true, gzip: true)),
            "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n")
        XCTAssertEqual(try body(&message, "abc", endStream: true), "abc")
    }

    func testHTTP10WithoutKeepAliveAndContentLength() throws {
        var message = Message()
        XCTAssertEqual(
            try head(
                &message, [(":status", "200"), ("content-length", "2")],
                request: request("GET", .http10, keepAlive: false)),
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n")
        XCTAssertTrue(message.closeAfter)
        XCTAssertEqual(try body(&message, "ok", endStream: true), "ok")
    }

    func testHTTP10KeepAlive() throws {
        let keepAlive = request("GET", .http10, keepAlive: true)
        var message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200"), ("content-length", "2")], request: keepAlive),
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n")
        XCTAssertFalse(message.closeAfter)

        message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200")], endStream: true, request: keepAlive),
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n")
        XCTAssertFalse(message.closeAfter)

        // The handler's own keep-alive is not repeated.
        message = Message()
        XCTAssertEqual(
            try head(
                &message, [(":status", "200"), ("connection", "Keep-Alive")], endStream: true, request: keepAlive),
            "HTTP/1.1 200 OK\r\nconnection: Keep-Alive\r\ncontent-length: 0\r\n\r\n")

        // A closing server or a handler's close ends it.
        message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200")], endStream: true, request: keepAlive, persistent: false),
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        XCTAssertTrue(message.closeAfter)
        message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200"), ("connection", "close")], endStream: true, request: keepAlive),
            "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
        XCTAssertTrue(message.closeAfter)
    }

    func testHTTP11Close() throws {
        var message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200")], endStream: true, request: request(keepAlive: false)),
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        XCTAssertTrue(message.closeAfter)

        message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200")], endStream: true, persistent: false),
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        XCTAssertTrue(message.closeAfter)

        message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200"), ("connection", "upgrade, Close")], endStream: true),
            "HTTP/1.1 200 OK\r\nconnection: upgrade, Close\r\ncontent-length: 0\r\n\r\n")
        XCTAssertTrue(message.closeAfter)
    }

    func testA408ClosesTheConnection() throws {
        // RFC 9110 §15.5.9: "A server SHOULD send the "close" connection option".
        var message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "408"), ("content-length", "0")], endStream: true),
            "HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        XCTAssertTrue(message.closeAfter)
    }

    // MARK: - Date

    func testDateAddedOnlyWhenAbsent() throws {
        var message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200")], endStream: true, date: Self.date),
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\ndate: \(Self.date)\r\n\r\n")

        message = Message()
        XCTAssertEqual(
            try head(
                &message, [(":status", "200"), ("date", "Mon, 07 Nov 1994 08:49:37 GMT")], endStream: true,
                date: Self.date),
            "HTTP/1.1 200 OK\r\ndate: Mon, 07 Nov 1994 08:49:37 GMT\r\ncontent-length: 0\r\n\r\n")

        // Interim responses carry none.
        message = Message()
        XCTAssertEqual(try head(&message, [(":status", "100")], date: Self.date), "HTTP/1.1 100 Continue\r\n\r\n")
    }

    // MARK: - Responses without a body

    func testHEADDropsTheBodyAndKeepsContentLength() throws {
        var message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200"), ("content-length", "13")], request: request("HEAD")),
            "HTTP/1.1 200 OK\r\ncontent-length: 13\r\n\r\n")
        XCTAssertEqual(message.state, .body(.discarded))
        XCTAssertEqual(try body(&message, "Hello, "), "")
        XCTAssertEqual(try body(&message, "World!", endStream: true), "")
        XCTAssertTrue(message.isComplete)
        XCTAssertFalse(message.closeAfter)

        // Unknown length: no framing fields at all (neither content-length: 0 nor chunked).
        message = Message()
        XCTAssertEqual(try head(&message, [(":status", "200")], request: request("HEAD")), "HTTP/1.1 200 OK\r\n\r\n")
        XCTAssertEqual(try body(&message, "ignored", endStream: true), "")
        XCTAssertTrue(message.isComplete)

        message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200")], endStream: true, request: request("HEAD")),
            "HTTP/1.1 200 OK\r\n\r\n")
        XCTAssertTrue(message.isComplete)
    }

    func testNoBodyFor204And304() throws {
        var message = Message()
        XCTAssertEqual(try head(&message, [(":status", "204")]), "HTTP/1.1 204 No Content\r\n\r\n")
        XCTAssertTrue(message.isComplete, "a 204 ends at its head")
        XCTAssertFalse(message.closeAfter)
        assertThrows(.invalidState) { _ = try body(&message, "x") }

        // 304 may carry the content-length of the representation (RFC 9110 §8.6).
        message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "304"), ("etag", "\"v1\""), ("content-length", "10")]),
            "HTTP/1.1 304 Not Modified\r\netag: \"v1\"\r\ncontent-length: 10\r\n\r\n")
        XCTAssertTrue(message.isComplete)
        assertThrows(.invalidState) { _ = try body(&message, "0123456789", endStream: true) }

        // Neither gets a transfer coding, whatever the handler or the client asks.
        for status in ["204", "304"] {
            message = Message()
            let text = try head(
                &message, [(":status", status), ("transfer-encoding", "chunked")], request: request(gzip: true))
            XCTAssertFalse(text.contains("transfer-encoding"), text)
            XCTAssertTrue(message.isComplete)
        }
    }

    /// RFC 9110 §15.3.6: "a server MUST NOT generate content in a 205 response"; RFC 9112 §6.3
    /// does not make it a status without content, so it is framed as `content-length: 0`.
    func test205HasNoContentAndSaysSo() throws {
        var message = Message()
        let text = try head(&message, [(":status", "205")], date: Self.date)
        XCTAssertTrue(text.contains("content-length: 0\r\n"), text)
        XCTAssertThrowsError(try body(&message, "hello", endStream: true))
        var withBody = Message()
        XCTAssertThrowsError(try head(&withBody, [(":status", "205"), ("content-length", "5")]))
    }

    /// Two `:status` fields: the framing would follow the first and the status line the last
    /// (a 304's empty framing under a 200 line, a 200's chunked body under a 204 line).
    func testASecondStatusIsRefused() {
        for pairs in [[(":status", "304"), (":status", "200")], [(":status", "200"), (":status", "204")]] {
            var message = Message()
            XCTAssertThrowsError(try head(&message, pairs, endStream: pairs[0].1 == "304"), "\(pairs)")
        }
    }

    /// Refused trailers (a CR LF in a value) leave the message as it was, with or without the
    /// gzip transfer coding: nothing of the refused write goes out, and the body can be ended.
    func testRefusedTrailersLeaveTheBodyToBeEnded() throws {
        for gzip in [false, true] {
            var message = Message()
            _ = try head(&message, [(":status", "200")], request: request(gzip: gzip))
            var bad = Headers()
            bad.append("x-sum", "1\r\nx-evil: 1")
            var refused: [UInt8] = []
            XCTAssertThrowsError(
                try Array("tail".utf8).withUnsafeBytes { buffer in
                    try message.writeBody(buffer, endStream: true, trailers: bad) { refused.append(contentsOf: $0) }
                }, "gzip \(gzip)")
            XCTAssertEqual(refused, [], "gzip \(gzip): a refused write framed octets")
            var good = Headers()
            good.append("x-sum", "1")
            XCTAssertNoThrow(try body(&message, "tail", endStream: true, trailers: good) as String, "gzip \(gzip)")
            XCTAssertTrue(message.isComplete, "gzip \(gzip)")
        }
    }

    /// Trailers that must not be trailers (RFC 9110 §6.5.1: a `content-length`, a `host` after the
    /// body) went out like any other; they are refused, and like any refused trailers leave the
    /// message as it was: nothing framed, and the body can be ended.
    func testForbiddenTrailersAreRefusedAndLeaveTheBodyToBeEnded() throws {
        for (gzip, name) in [(false, "content-length"), (true, "host"), (false, "transfer-encoding")] {
            var message = Message()
            _ = try head(&message, [(":status", "200")], request: request(gzip: gzip))
            var bad = Headers()
            bad.append("x-sum", "1")
            bad.append(name, "0")
            var refused: [UInt8] = []
            assertThrows(.invalidHeaders("trailers: \(HTTP1SerializeError.forbiddenTrailer(name))")) {
                try Array("tail".utf8).withUnsafeBytes { buffer in
                    try message.writeBody(buffer, endStream: true, trailers: bad) { refused.append(contentsOf: $0) }
                }
            }
            XCTAssertEqual(refused, [], "\(name): a refused write framed octets")
            XCTAssertFalse(message.isComplete, name)
            XCTAssertNoThrow(try body(&message, "tail", endStream: true, trailers: Headers([("x-sum", "1")])) as String)
            XCTAssertTrue(message.isComplete, name)
        }
    }

    /// Trailers need the chunked coding (RFC 9112 §7.1.2): a body delimited by its length or by
    /// the close cannot carry them, and they were dropped without a word. They are refused, with
    /// nothing written, and the body can still be ended.
    func testTrailersOnABodyThatIsNotChunkedAreRefused() throws {
        var trailers = Headers()
        trailers.append("x-checksum", "1")
        let heads: [([(String, String)], Request)] = [
            ([(":status", "200"), ("content-length", "4")], request()),
            ([(":status", "200")], request("GET", .http10, keepAlive: false)),
        ]
        for (pairs, request) in heads {
            var message = Message()
            _ = try head(&message, pairs, request: request)
            var written: [UInt8] = []
            assertThrows(.invalidHeaders) {
                try Array("tail".utf8).withUnsafeBytes { buffer in
                    try message.writeBody(buffer, endStream: true, trailers: trailers) {
                        written.append(contentsOf: $0)
                    }
                }
            }
            XCTAssertEqual(written, [], "\(pairs): a refused write put octets out")
            XCTAssertEqual(try body(&message, "tail", endStream: true, trailers: Headers()), "tail", "\(pairs)")
            XCTAssertTrue(message.isComplete, "\(pairs)")
        }
        // A HEAD response's body, trailers included, is dropped as it always was.
        var message = Message()
        _ = try head(&message, [(":status", "200")], request: request("HEAD"))
        XCTAssertEqual(try body(&message, "", endStream: true, trailers: trailers), "")
    }

    /// Field names go out in lower case: the framing checks compare them so, and an upper-case
    /// `Content-Length` went out unnoticed beside the library's own `transfer-encoding: chunked`
    /// (or a second `content-length`).
    func testUpperCaseFieldNamesAreRefused() {
        for pairs in [
            [(":status", "200"), ("Content-Length", "5")], [(":status", "200"), ("Transfer-Encoding", "chunked")],
            [(":status", "200"), ("X-Note", "a")],
        ] {
            var message = Message()
            XCTAssertThrowsError(try head(&message, pairs), "\(pairs)") { error in
                XCTAssertTrue("\(error)".contains("lower case"), "\(error)")
            }
        }
    }

    func testContentLengthIn204Rejected() {
        var message = Message()
        assertThrows(.invalidHeaders) { _ = try head(&message, [(":status", "204"), ("content-length", "0")]) }
        XCTAssertFalse(message.hasStarted)
    }

    // MARK: - Interim responses and protocol switches

    func testInterimResponsesThenFinal() throws {
        var message = Message()
        XCTAssertEqual(try head(&message, [(":status", "100")]), "HTTP/1.1 100 Continue\r\n\r\n")
        XCTAssertEqual(message.state, .head)
        XCTAssertFalse(message.hasStarted, "an interim response does not start the final one")
        XCTAssertNil(message.status)
        XCTAssertEqual(
            try head(&message, [(":status", "103"), ("link", "</style.css>; rel=preload")]),
            "HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n")
        assertThrows(.invalidState) { _ = try body(&message, "too early") }
        XCTAssertEqual(
            try head(&message, [(":status", "200"), ("content-length", "2")]),
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        XCTAssertEqual(try body(&message, "ok", endStream: true), "ok")
        XCTAssertTrue(message.isComplete)
    }

    func testInterimResponseMisuse() {
        var message = Message()
        assertThrows(.invalidState) { _ = try head(&message, [(":status", "100")], endStream: true) }
        message = Message()
        assertThrows(.invalidHeaders) { _ = try head(&message, [(":status", "103"), ("content-length", "0")]) }
        message = Message()
        assertThrows(.invalidHeaders) {
            _ = try head(&message, [(":status", "100"), ("transfer-encoding", "chunked")])
        }
    }

    func testInterimResponseToHTTP10Rejected() throws {
        for status in ["100", "103", "101"] {
            var message = Message()
            var out: [UInt8] = []
            assertThrows(.invalidState) {
                try message.writeResponseHead(
                    Headers([(":status", status)]), endStream: false, request: request("GET", .http10).context,
                    persistent: true, date: nil, into: &out)
            }
            XCTAssertEqual(out, [])
            XCTAssertFalse(message.hasStarted)
            XCTAssertFalse(message.switchedProtocols)
            // The final response can still be written.
            XCTAssertEqual(
                try head(&message, [(":status", "200")], endStream: true, request: request("GET", .http10)),
                "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n")
        }
    }

    func testSwitchingProtocols() throws {
        var message = Message()
        XCTAssertEqual(
            try head(
                &message, [(":status", "101"), ("upgrade", "websocket"), ("connection", "upgrade")], date: Self.date),
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n")
        XCTAssertTrue(message.switchedProtocols)
        XCTAssertTrue(message.isComplete)
        XCTAssertTrue(message.hasStarted)
        XCTAssertEqual(message.status, 101)
        assertThrows(.invalidState) { _ = try body(&message, "websocket frames are not HTTP body") }
    }

    func testCONNECTSuccessOpensATunnel() throws {
        var message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200")], request: request("CONNECT"), date: Self.date),
            "HTTP/1.1 200 OK\r\ndate: \(Self.date)\r\n\r\n")
        XCTAssertTrue(message.switchedProtocols)
        XCTAssertTrue(message.isComplete)
        XCTAssertFalse(message.closeAfter)

        message = Message()
        assertThrows(.invalidHeaders) {
            _ = try head(&message, [(":status", "200"), ("content-length", "0")], request: request("CONNECT"))
        }
        XCTAssertFalse(message.switchedProtocols)

        // A refused CONNECT is an ordinary response that ends the connection: what the client
        // sent after the CONNECT head is tunnel data, not requests (RFC 9110 §9.3.6).
        message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "407"), ("content-length", "4")], request: request("CONNECT")),
            "HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 4\r\nconnection: close\r\n\r\n")
        XCTAssertFalse(message.switchedProtocols)
        XCTAssertTrue(message.closeAfter)
        XCTAssertEqual(try body(&message, "nope", endStream: true), "nope")
    }

    // MARK: - Misuse

    func testBodyBeforeHeadersAndAfterEnd() throws {
        var message = Message()
        assertThrows(.invalidState) { _ = try body(&message, "x") }
        assertThrows(.invalidState) { _ = try body(&message, "", endStream: true) }

        _ = try head(&message, [(":status", "200"), ("content-length", "1")])
        XCTAssertEqual(try body(&message, "x", endStream: true), "x")
        assertThrows(.invalidState) { _ = try body(&message, "y") }
        // Empty writes after the end, ending again included (`writeBody("")` after a 204 head),
        // are harmless and write nothing.
        XCTAssertEqual(try body(&message, "", endStream: true), "")
        XCTAssertEqual(try body(&message, ""), "")
        assertThrows(.invalidState) { _ = try head(&message, [(":status", "200")]) }
    }

    func testInvalidStatusRejected() {
        for pairs in [[], [(":status", "abc")], [(":status", "99")], [(":status", "1000")], [("x-a", "b")]] {
            var message = Message()
            assertThrows(.invalidHeaders) { _ = try head(&message, pairs) }
        }
    }

    func testHeadThatCannotBeSerializedHasNoEffect() throws {
        // A refused head leaves the message as it was, so the handler can still answer.
        var message = Message()
        assertThrows(.invalidHeaders) {
            _ = try head(&message, [(":status", "200"), ("x-evil", "a\r\nb")], request: request("CONNECT"))
        }
        XCTAssertFalse(message.hasStarted)
        XCTAssertNil(message.status)
        XCTAssertFalse(message.switchedProtocols)
        XCTAssertEqual(
            try head(&message, [(":status", "502"), ("content-length", "0")], request: request("CONNECT")),
            "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        XCTAssertFalse(message.switchedProtocols)
        XCTAssertTrue(message.closeAfter)

        message = Message()
        assertThrows(.invalidHeaders) {
            _ = try head(&message, [(":status", "200"), ("x-evil", "a\nb")], request: request(keepAlive: false))
        }
        XCTAssertFalse(message.hasStarted)
        XCTAssertFalse(message.closeAfter)

        message = Message()
        assertThrows(.invalidHeaders) { _ = try head(&message, [(":status", "101"), ("x-evil", "\0")]) }
        XCTAssertFalse(message.hasStarted)
        XCTAssertFalse(message.switchedProtocols)
        XCTAssertFalse(message.isComplete)
    }

    // MARK: - gzip transfer coding

    func testGzipTransferCoding() throws {
        var message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200"), ("content-type", "text/plain")], request: request(gzip: true)),
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: gzip, chunked\r\n\r\n")
        var text: [UInt8] = []
        var wire: [UInt8] = []
        for part in 0..<20 {
            let piece = Array(String(repeating: "part \(part) of a compressible body; ", count: 50).utf8)
            text += piece
            let framed = try body(&message, piece)
            if part == 0 {
                XCTAssertFalse(framed.isEmpty, "each write is flushed, so the client can decode as it goes")
            }
            wire += framed
        }
        wire += try body(&message, Array("the end".utf8), endStream: true)
        text += Array("the end".utf8)
        XCTAssertTrue(message.isComplete)
        XCTAssertEqual(Array(wire.suffix(5)), Array("0\r\n\r\n".utf8))
        let compressed = try XCTUnwrap(dechunk(wire))
        XCTAssertLessThan(compressed.count, text.count / 4)
        XCTAssertEqual(try Inflater(format: .gzip).process(compressed, final: true), text)
    }

    func testGzipTransferCodingOfAnEmptyBody() throws {
        var message = Message()
        _ = try head(&message, [(":status", "200")], request: request(gzip: true))
        let wire = try body(&message, [], endStream: true)
        let compressed = try XCTUnwrap(dechunk(wire))
        XCTAssertEqual(try Inflater(format: .gzip).process(compressed, final: true), [])
    }

    func testGzipTransferCodingOnlyWhereItFits() throws {
        // Already content-coded: chunked only.
        var message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200"), ("content-encoding", "br")], request: request(gzip: true)),
            "HTTP/1.1 200 OK\r\ncontent-encoding: br\r\ntransfer-encoding: chunked\r\n\r\n")
        XCTAssertEqual(try body(&message, "abc", endStream: true), "3\r\nabc\r\n0\r\n\r\n")

        // A known length is sent as is.
        message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200"), ("content-length", "3")], request: request(gzip: true)),
            "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n")
        XCTAssertEqual(try body(&message, "abc", endStream: true), "abc")

        // A handler that asked for chunked gets gzip first, in one transfer-encoding field.
        message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200"), ("transfer-encoding", "chunked")], request: request(gzip: true)),
            "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n")
        let wire = try body(&message, Array("abc".utf8), endStream: true)
        XCTAssertEqual(
            try Inflater(format: .gzip).process(try XCTUnwrap(dechunk(wire)), final: true), Array("abc".utf8))
    }

    // MARK: - Request heads

    func testRequestHeads() throws {
        var message = Message()
        XCTAssertEqual(
            try requestHead(
                &message, [(":method", "POST"), (":path", "/upload"), (":authority", "example.com")], endStream: true),
            "POST /upload HTTP/1.1\r\nhost: example.com\r\ncontent-length: 0\r\n\r\n")
        XCTAssertTrue(message.isComplete)
        XCTAssertFalse(message.closeAfter)

        message = Message()
        XCTAssertEqual(
            try requestHead(
                &message, [(":method", "GET"), (":path", "/"), (":authority", "example.com")], endStream: true),
            "GET / HTTP/1.1\r\nhost: example.com\r\n\r\n")
        XCTAssertTrue(message.isComplete)

        message = Message()
        XCTAssertEqual(
            try requestHead(
                &message, [(":method", "PUT"), (":path", "/f"), (":authority", "h"), ("content-length", "3")],
                endStream: false),
            "PUT /f HTTP/1.1\r\nhost: h\r\ncontent-length: 3\r\n\r\n")
        XCTAssertEqual(message.state, .body(.contentLength(remaining: 3, declared: 3)))
        XCTAssertEqual(try body(&message, "abc", endStream: true), "abc")
        XCTAssertTrue(message.isComplete)

        message = Message()
        XCTAssertEqual(
            try requestHead(
                &message, [(":method", "GET"), (":path", "/"), (":authority", "h"), ("connection", "close")],
                endStream: true),
            "GET / HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n")
        XCTAssertTrue(message.closeAfter)
        assertThrows(.invalidState) {
            _ = try requestHead(&message, [(":method", "GET"), (":path", "/"), (":authority", "h")], endStream: true)
        }
    }

    /// Request field names go out in lower case too: the framing checks compare them so, and an
    /// upper-case `Content-Length` went out beside the library's own `transfer-encoding: chunked`
    /// (a `Transfer-Encoding` beside its `content-length: 0`), which a server or proxy may frame
    /// either way (RFC 9112 §6.3 item 3).
    func testUpperCaseFieldNamesInRequestsAreRefused() {
        for (field, endStream) in [
            (("Content-Length", "5"), false), (("Transfer-Encoding", "gzip"), true), (("X-Note", "a"), true),
        ] {
            var message = Message()
            var out: [UInt8] = []
            let headers = Headers([(":method", "POST"), (":path", "/"), (":authority", "h"), field])
            XCTAssertThrowsError(
                try message.writeRequestHead(headers, endStream: endStream, version: .http11, into: &out),
                "\(field)"
            ) { error in
                XCTAssertTrue("\(error)".contains("lower case"), "\(error)")
            }
            XCTAssertEqual(String(decoding: out, as: UTF8.self), "")
            XCTAssertEqual(message.state, .head)
        }
    }

    func testRequestOfUnknownLength() throws {
        var message = Message()
        XCTAssertEqual(
            try requestHead(&message, [(":method", "POST"), (":path", "/up"), (":authority", "h")], endStream: false),
            "POST /up HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n")
        XCTAssertEqual(try body(&message, "abc"), "3\r\nabc\r\n")
        XCTAssertEqual(try body(&message, "", endStream: true), "0\r\n\r\n")
        XCTAssertTrue(message.isComplete)

        // HTTP/1.0 has no way to delimit it.
        message = Message()
        var out: [UInt8] = []
        assertThrows(.invalidState) {
            try message.writeRequestHead(
                Headers([(":method", "POST"), (":path", "/up")]), endStream: false, version: .http10, into: &out)
        }
        XCTAssertEqual(out, [])
        XCTAssertEqual(message.state, .head)

        // With a length it is fine.
        XCTAssertEqual(
            try requestHead(&message, [(":method", "POST"), (":path", "/up")], endStream: true, version: .http10),
            "POST /up HTTP/1.0\r\ncontent-length: 0\r\n\r\n")
    }

    /// A CONNECT has no content (RFC 9110 §9.3.6): what a client writes after its head is the
    /// tunnel's, sent as it is (lua-http's body type "close"). It went out as a chunked body,
    /// under `transfer-encoding: chunked`, so the far end of the tunnel got "5\r\nhello\r\n".
    func testCONNECTRequestIsNeverFramed() throws {
        let connect = [(":method", "CONNECT"), (":authority", "a.example:443")]
        var message = Message()
        XCTAssertEqual(
            try requestHead(&message, connect, endStream: false),
            "CONNECT a.example:443 HTTP/1.1\r\nhost: a.example:443\r\n\r\n")
        XCTAssertEqual(try body(&message, "hello"), "hello")
        XCTAssertEqual(try body(&message, " world", endStream: true), " world")
        XCTAssertTrue(message.isComplete)
        // Tunnel octets were sent before the answer: no request may follow on the connection.
        XCTAssertTrue(message.closeAfter)

        // Ended at its head (the usual CONNECT): nothing added, and a refusal (407) leaves the
        // connection to carry the next attempt.
        message = Message()
        XCTAssertEqual(
            try requestHead(&message, connect, endStream: true),
            "CONNECT a.example:443 HTTP/1.1\r\nhost: a.example:443\r\n\r\n")
        XCTAssertTrue(message.isComplete)
        XCTAssertFalse(message.closeAfter)

        // A length or a transfer coding would promise content it cannot have.
        for field in [("content-length", "5"), ("content-length", "0"), ("transfer-encoding", "chunked")] {
            message = Message()
            assertThrows(.invalidHeaders) { _ = try requestHead(&message, connect + [field], endStream: false) }
            XCTAssertEqual(message.state, .head)
        }
    }

    /// RFC 9110 §10.1.1: "A client MUST NOT generate a 100-continue expectation in a request that
    /// does not include content." It went out on any request that carried the field (a GET, a
    /// request ended at its head, one declaring `content-length: 0`, a CONNECT), and a server
    /// could wait for, or answer 100 to, content that never comes. The expectation is dropped
    /// from such a request (the request itself is fine); one with content keeps it.
    func testAContinueExpectationOnARequestWithoutContentIsDropped() throws {
        let expect = ("expect", "100-continue")
        let cases: [([(String, String)], Bool, String)] = [
            (
                [(":method", "GET"), (":path", "/"), (":authority", "h"), expect], true,
                "GET / HTTP/1.1\r\nhost: h\r\n\r\n"
            ),
            (
                [(":method", "POST"), (":path", "/"), (":authority", "h"), expect, ("x-a", "1")], true,
                "POST / HTTP/1.1\r\nhost: h\r\nx-a: 1\r\ncontent-length: 0\r\n\r\n"
            ),
            (
                [
                    (":method", "POST"), (":path", "/"), (":authority", "h"), ("content-length", "0"),
                    ("expect", "100-Continue"),
                ],
                false, "POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 0\r\n\r\n"
            ),
            (
                [(":method", "CONNECT"), (":authority", "a:443"), expect], false,
                "CONNECT a:443 HTTP/1.1\r\nhost: a:443\r\n\r\n"
            ),
            // Found as `hasToken` finds it: with parameters, among others, which stay.
            (
                [(":method", "GET"), (":path", "/"), (":authority", "h"), ("expect", "x-a ,100-continue;x=1, x-b")],
                true, "GET / HTTP/1.1\r\nhost: h\r\nexpect: x-a, x-b\r\n\r\n"
            ),
            (
                [(":method", "GET"), (":path", "/"), (":authority", "h"), ("expect", " 100-CONTINUE ; y")], true,
                "GET / HTTP/1.1\r\nhost: h\r\n\r\n"
            ),
        ]
        for (pairs, endStream, expected) in cases {
            var message = Message()
            XCTAssertEqual(try requestHead(&message, pairs, endStream: endStream), expected, "\(pairs)")
        }

        // With content (a length, or chunked) the expectation goes out as given.
        var message = Message()
        XCTAssertEqual(
            try requestHead(
                &message, [(":method", "PUT"), (":path", "/f"), (":authority", "h"), ("content-length", "3"), expect],
                endStream: false),
            "PUT /f HTTP/1.1\r\nhost: h\r\ncontent-length: 3\r\nexpect: 100-continue\r\n\r\n")
        message = Message()
        XCTAssertEqual(
            try requestHead(
                &message, [(":method", "POST"), (":path", "/"), (":authority", "h"), expect], endStream: false),
            "POST / HTTP/1.1\r\nhost: h\r\nexpect: 100-continue\r\ntransfer-encoding: chunked\r\n\r\n")
    }

    /// A request that declares `content-length: 0` without ending at its head is complete on the
    /// wire (RFC 9112 §6.3: the length delimits it), as a body is once its declared length is
    /// written. It stayed "being written" until an empty end-of-stream write, so the connection
    /// refused the next request meanwhile; a response declaring 0 stayed unfinished the same way.
    func testADeclaredLengthOfZeroIsCompleteAtTheHead() throws {
        var message = Message()
        XCTAssertEqual(
            try requestHead(
                &message, [(":method", "POST"), (":path", "/"), (":authority", "h"), ("content-length", "0")],
                endStream: false),
            "POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 0\r\n\r\n")
        XCTAssertTrue(message.isComplete)
        XCTAssertEqual(try body(&message, "", endStream: true), "")
        XCTAssertThrowsError(try body(&message, "x"))
        XCTAssertFalse(message.closeAfter)

        message = Message()
        XCTAssertEqual(
            try head(&message, [(":status", "200"), ("content-length", "0")]),
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        XCTAssertTrue(message.isComplete)
        XCTAssertEqual(try body(&message, "", endStream: true), "")
        XCTAssertThrowsError(try body(&message, "x"))
        XCTAssertFalse(message.closeAfter)
    }

    func testRequestAskingForChunkedWithoutABody() throws {
        // `transfer-encoding: chunked` on a request that ends at its head would leave the server
        // waiting for chunks that never come.
        var message = Message()
        let text = try requestHead(
            &message, [(":method", "POST"), (":path", "/"), (":authority", "h"), ("transfer-encoding", "chunked")],
            endStream: true)
        XCTAssertEqual(text, "POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 0\r\n\r\n")
        XCTAssertTrue(message.isComplete)
    }

    // MARK: - Headers.hasToken

    func testHasToken() {
        let headers = Headers([
            ("connection", "keep-alive, Close"),
            ("te", "trailers, gzip;q=0.5"),
            ("upgrade", " \th2c\t ,  websocket "),
            ("x-list", ",, a ,,b,"),
            ("x-params", "deflate ; q=1, br;level=4"),
            ("x-weird", "a[, @b"),
            ("accept-encoding", "gzip"),
            ("accept-encoding", "identity"),
            ("x-connection", "upgrade"),
        ])
        XCTAssertTrue(headers.hasToken("connection", "close"))
        XCTAssertTrue(headers.hasToken("connection", "CLOSE"))
        XCTAssertTrue(headers.hasToken("connection", "keep-alive"))
        XCTAssertFalse(headers.hasToken("connection", "keep"))
        XCTAssertFalse(headers.hasToken("connection", "alive"))
        XCTAssertFalse(headers.hasToken("connection", "clos"))
        XCTAssertFalse(headers.hasToken("connection", "closed"))
        XCTAssertFalse(headers.hasToken("connection", "keep-alive, close"))
        XCTAssertFalse(headers.hasToken("connection", "upgrade"), "x-connection is another field")

        XCTAssertTrue(headers.hasToken("te", "gzip"), "parameters are ignored")
        XCTAssertTrue(headers.hasToken("te", "trailers"))
        XCTAssertFalse(headers.hasToken("te", "q=0.5"))

        XCTAssertTrue(headers.hasToken("upgrade", "h2c"), "spaces and tabs around elements are ignored")
        XCTAssertTrue(headers.hasToken("upgrade", "websocket"))

        XCTAssertTrue(headers.hasToken("x-list", "a"))
        XCTAssertTrue(headers.hasToken("x-list", "b"))
        XCTAssertTrue(headers.hasToken("x-params", "deflate"), "whitespace before a parameter is ignored")
        XCTAssertTrue(headers.hasToken("x-params", "br"))

        // Only A-Z fold: `[` is not `{` and `@` is not a backquote.
        XCTAssertTrue(headers.hasToken("x-weird", "A["))
        XCTAssertFalse(headers.hasToken("x-weird", "a{"))
        XCTAssertFalse(headers.hasToken("x-weird", "`b"))
        XCTAssertTrue(headers.hasToken("x-weird", "@B"))

        XCTAssertTrue(headers.hasToken("accept-encoding", "identity"), "every field of the name counts")
        XCTAssertTrue(headers.hasToken("accept-encoding", "gzip"))
        XCTAssertFalse(headers.hasToken("absent", "x"))
        XCTAssertFalse(Headers([("connection", "")]).hasToken("connection", "close"))
        XCTAssertFalse(Headers([("connection", " , ")]).hasToken("connection", "close"))
    }

    func testHasTokenOnALargeHeaderSet() {
        // A set large enough to carry a name index gives the same answers.
        var headers = Headers()
        for index in 0..<(Headers.indexThreshold + 8) { headers.append("x-\(index)", "v") }
        headers.append("connection", "Upgrade, HTTP2-Settings")
        XCTAssertTrue(headers.hasToken("connection", "http2-settings"))
        XCTAssertTrue(headers.hasToken("connection", "upgrade"))
        XCTAssertFalse(headers.hasToken("connection", "close"))
    }
}

final class AcceptsCodingTests: XCTestCase {
    func testAWeightOfZeroRefusesTheCoding() {
        var headers = Headers()
        headers.append("te", "trailers, gzip;q=0")
        XCTAssertFalse(headers.acceptsCoding("gzip", in: "te"))
        var weighted = Headers()
        weighted.append("te", "Gzip ; q=0.5")
        XCTAssertTrue(weighted.acceptsCoding("gzip", in: "te"))
        var absent = Headers()
        absent.append("te", "trailers")
        XCTAssertFalse(absent.acceptsCoding("gzip", in: "te"))
    }

    /// RFC 9110 §12.4.2's `qvalue` grammar: a weight that does not follow it makes the element
    /// invalid, and an invalid element accepts nothing (`q=nan` and `q=abc` accepted gzip).
    func testOnlyAValidWeightAboveZeroAcceptsTheCoding() {
        func accepts(_ value: String) -> Bool {
            var headers = Headers()
            headers.append("te", value)
            return headers.acceptsCoding("gzip", in: "te")
        }
        for value in ["gzip", "gzip;q=1", "gzip;q=1.000", "gzip;q=0.001", "gzip;Q=0.5", "gzip; q=0.5", "gzip;q=1."] {
            XCTAssertTrue(accepts(value), value)
        }
        for value in [
            "gzip;q=0", "gzip; q=0.", "gzip;q=0.000", "gzip;q=abc", "gzip;q=nan", "gzip;q=inf", "gzip;q=2",
            "gzip;q=1.5",
            "gzip;q=0.0001", "gzip;q=-1", "gzip;q=", "gzip;q=.5", "gzip;q=+1",
        ] {
            XCTAssertFalse(accepts(value), value)
        }
    }
}
