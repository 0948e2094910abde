import XCTest

@testable import HTTPCore

/// `HTTP1Parser.endMessageAfterHead()`: a connection ends a message without a body right after
/// its head, instead of parsing once more for the `.messageEnd`; the parser then moves on exactly
/// as that `.messageEnd` would have made it.
final class HTTP1ParserEndAfterHeadTests: XCTestCase {
    func testEndingABodilessMessageAfterItsHeadReplacesMessageEnd() throws {
        var parser = HTTP1Parser(role: .server)
        let input = Array("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        let first = input.withUnsafeBytes { parser.parse($0) }
        guard case .head(let head)? = first.event else { return XCTFail("\(first)") }
        XCTAssertEqual(head.path, "/1")
        XCTAssertTrue(parser.endMessageAfterHead())
        XCTAssertTrue(parser.isIdle)
        XCTAssertFalse(parser.endMessageAfterHead())
        // The next request follows at once: no `.messageEnd` in between.
        let rest = Array(input[first.consumed...])
        let second = rest.withUnsafeBytes { parser.parse($0) }
        guard case .head(let next)? = second.event else { return XCTFail("\(second)") }
        XCTAssertEqual(next.path, "/2")
        XCTAssertEqual(second.consumed, rest.count)
    }

    func testAMessageWithABodyDoesNotEndAfterItsHead() throws {
        var parser = HTTP1Parser(role: .server)
        let input = Array("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok".utf8)
        let first = input.withUnsafeBytes { parser.parse($0) }
        guard case .head? = first.event else { return XCTFail("\(first)") }
        XCTAssertFalse(parser.endMessageAfterHead())
        XCTAssertTrue(parser.waitsForInput)
        let body = Array(input[first.consumed...]).withUnsafeBytes { parser.parse($0) }
        XCTAssertEqual(body.event, .body(0..<2))
        XCTAssertFalse(parser.waitsForInput)  // `.messageEnd` is due without more input
    }

    func testAConnectionCloseRequestEndsIntoTheClosedState() throws {
        var parser = HTTP1Parser(role: .server)
        let input = Array("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".utf8)
        let first = input.withUnsafeBytes { parser.parse($0) }
        guard case .head? = first.event else { return XCTFail("\(first)") }
        XCTAssertTrue(parser.endMessageAfterHead())
        XCTAssertTrue(parser.waitsForInput)
        // As after `.messageEnd`: nothing but stray CRLFs may follow.
        let after = Array("GET".utf8).withUnsafeBytes { parser.parse($0) }
        XCTAssertEqual(after.event, .error(.dataAfterClose))
    }
}
