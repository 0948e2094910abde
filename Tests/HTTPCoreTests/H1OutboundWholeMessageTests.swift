import XCTest

@testable import HTTPCore

/// `H1OutboundMessage.writeResponseHead(…body:…)`: a whole response (`HTTPStream.writeMessage`),
/// head and body in one piece, framed by a `content-length` that is the body's.
final class H1OutboundWholeMessageTests: XCTestCase {
    private typealias Message = H1OutboundMessage

    private func write(
        _ message: inout Message, _ pairs: [(String, String)], body: String, method: String = "GET",
        version: HTTP1Version = .http11, keepAlive: Bool = true
    ) throws -> String {
        try write(&message, pairs, body: Array(body.utf8), method: method, version: version, keepAlive: keepAlive)
    }

    private func write(
        _ message: inout Message, _ pairs: [(String, String)], body: [UInt8], method: String = "GET",
        version: HTTP1Version = .http11, keepAlive: Bool = true
    ) throws -> String {
        var out: [UInt8] = []
        let headers = Headers(pairs)
        try body.withUnsafeBytes { body in
            try message.writeResponseHead(
                headers, fields: H1FramingFields(headers), prepared: nil, endStream: false, body: body,
                request: .init(method: method, version: version, keepAlive: keepAlive), persistent: true, date: nil,
                acceptsGzip: {
                    XCTFail("a whole message is never chunked")
                    return true
                }, into: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    func testAHeadWithoutContentLengthGetsTheBodysLength() throws {
        var message = Message()
        XCTAssertEqual(
            try write(&message, [(":status", "200"), ("content-type", "text/plain")], body: "Hello, World!"),
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\nHello, World!")
        XCTAssertTrue(message.isComplete)
        XCTAssertFalse(message.closeAfter)
    }

    func testAnEmptyBodyGetsContentLengthZero() throws {
        var message = Message()
        XCTAssertEqual(
            try write(&message, [(":status", "404")], body: ""), "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
        XCTAssertTrue(message.isComplete)
    }

    func testTheHandlersMatchingContentLengthIsKept() throws {
        var message = Message()
        XCTAssertEqual(
            try write(&message, [(":status", "200"), ("content-length", "2")], body: "ok"),
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        XCTAssertTrue(message.isComplete)
    }

    /// A length that is not the body's is refused before anything is written, and the response
    /// can still be written (where two calls would have sent the head and had to close).
    func testAContentLengthThatIsNotTheBodysIsRefusedAndNothingIsWritten() throws {
        for declared in ["1", "3", "0"] {
            var message = Message()
            var out: [UInt8] = [7]
            let headers = Headers([(":status", "200"), ("content-length", declared)])
            XCTAssertThrowsError(
                try Array("ok".utf8).withUnsafeBytes { body in
                    try message.writeResponseHead(
                        headers, fields: H1FramingFields(headers), prepared: nil, endStream: false, body: body,
                        request: .init(method: "GET", version: .http11, keepAlive: true), persistent: true,
                        date: nil, acceptsGzip: { false }, into: &out)
                }
            ) { error in
                XCTAssertEqual(
                    error as? HTTPStreamError, .contentLengthMismatch(declared: UInt64(declared)!, written: 2))
            }
            XCTAssertEqual(out, [7])
            XCTAssertFalse(message.hasStarted)
            XCTAssertEqual(
                try write(&message, [(":status", "500")], body: ""),
                "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n")
        }
    }

    /// An HTTP/1.0 client reads a whole message by its length: the connection may persist, where
    /// a body of unknown length would be read until close.
    func testAnHTTP10KeepAliveClientKeepsItsConnection() throws {
        var message = Message()
        XCTAssertEqual(
            try write(&message, [(":status", "200")], body: "ok", version: .http10),
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok")
        XCTAssertFalse(message.closeAfter)
        var closing = Message()
        XCTAssertEqual(
            try write(&closing, [(":status", "200")], body: "ok", version: .http10, keepAlive: false),
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        XCTAssertTrue(closing.closeAfter)
    }

    /// RFC 9110 §9.3.2: HEAD gets the length a GET would, and no body.
    func testAHEADResponseGetsTheLengthAndNoBody() throws {
        var message = Message()
        XCTAssertEqual(
            try write(&message, [(":status", "200")], body: "Hello", method: "HEAD"),
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
        XCTAssertTrue(message.isComplete)
        var declared = Message()
        XCTAssertEqual(
            try write(&declared, [(":status", "200"), ("content-length", "5")], body: "Hello", method: "HEAD"),
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
    }

    /// RFC 9110 §15.3.5, §15.4.5, §8.6: no body and no content-length for 204 and 304; no whole
    /// message as an interim response.
    func testStatusesWithoutABody() throws {
        for status in ["204", "304"] {
            var message = Message()
            XCTAssertEqual(
                try write(&message, [(":status", status)], body: ""),
                "HTTP/1.1 \(status) \(ReasonPhrase.registered(status: Int(status)!)!)\r\n\r\n")
            XCTAssertTrue(message.isComplete)
            var withBody = Message()
            XCTAssertThrowsError(try write(&withBody, [(":status", status)], body: "x")) { error in
                guard case .invalidState? = error as? HTTPStreamError else { return XCTFail("\(error)") }
            }
            XCTAssertFalse(withBody.hasStarted)
        }
        for status in ["100", "103"] {
            var message = Message()
            XCTAssertThrowsError(try write(&message, [(":status", status)], body: ""))
            XCTAssertThrowsError(try write(&message, [(":status", status)], body: "x"))
            XCTAssertFalse(message.hasStarted)
        }
    }

    /// A body above the inline limit follows the head in the same output, whole and in order.
    func testALargeBodyFollowsItsHead() throws {
        for count in [HTTP1Serializer.inlineBodyLimit, HTTP1Serializer.inlineBodyLimit + 1, 100_000] {
            let body = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            var message = Message()
            let text = try write(&message, [(":status", "200")], body: body)
            let head = "HTTP/1.1 200 OK\r\ncontent-length: \(count)\r\n\r\n"
            XCTAssertEqual(Array(text.utf8.prefix(head.utf8.count)), Array(head.utf8))
            var out: [UInt8] = []
            var again = Message()
            let headers = Headers([(":status", "200")])
            try body.withUnsafeBytes { raw in
                try again.writeResponseHead(
                    headers, fields: H1FramingFields(headers), prepared: nil, endStream: false, body: raw,
                    request: .init(method: "GET", version: .http11, keepAlive: true), persistent: true, date: nil,
                    acceptsGzip: { false }, into: &out)
            }
            XCTAssertEqual(Array(out.dropFirst(head.utf8.count)), body)
        }
    }

    /// A prepared head (`H1ResponseHeadCache`) writes the same octets.
    func testAPreparedHeadWritesTheSameOctets() throws {
        let headers = Headers([(":status", "200"), ("content-type", "text/plain")])
        let prepared = try XCTUnwrap(H1PreparedResponseHead(headers))
        var message = Message()
        var out: [UInt8] = []
        try Array("Hello".utf8).withUnsafeBytes { body in
            try message.writeResponseHead(
                headers, fields: prepared.framing, prepared: prepared.bytes, endStream: false, body: body,
                request: .init(method: "GET", version: .http11, keepAlive: true), persistent: true,
                date: IMFFixdate("Sun, 06 Nov 1994 08:49:37 GMT"), acceptsGzip: { false }, into: &out)
        }
        XCTAssertEqual(
            String(decoding: out, as: UTF8.self),
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\ndate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\nHello"
        )
    }
}
