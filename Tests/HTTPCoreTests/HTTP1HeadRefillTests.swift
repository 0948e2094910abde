import TestSupport
import XCTest

@testable import HTTPCore

/// A server parser refills the request head it built last once nothing else holds it
/// (`HTTP1MessageHead.reclaiming`, `HTTP1FieldRefill`): every head must still be exactly what a new
/// parser makes of the same request, and a head (or its headers) that someone still holds must
/// never change.
final class HTTP1HeadRefillTests: XCTestCase {
    /// Requests that differ in every way a refill must notice: method, target, Host (present,
    /// absent, case), field count (more, fewer, none, past the name index's threshold), name case,
    /// values that are not UTF-8, never-index fields, CONNECT (no `:path`, no `:scheme`), framing.
    /// All keep the connection open, so any may follow any on one parser.
    static let requests: [String] = [
        "GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
        "GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n",
        "GET /hellp HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
        "HEAD /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
        "GET /a/much/longer/path/than/fifteen/octets?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "GET /a/much/longer/path/than/fifteen/octets?q=2 HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0\r\n"
            + "Accept: */*\r\nCookie: a=1; b=2\r\n\r\n",
        "GET / HTTP/1.1\r\nhost: example.com\r\nuser-agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0\r\n"
            + "ACCEPT: */*\r\nCookie: a=1; b=3\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: example.com\r\nX-Custom: \u{e9}t\u{e9}\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: example.com\r\nAuthorization: secret\r\nX-Authorization: secret\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: example.com\r\nX-Authorization: secret\r\nAuthorization: secret\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET /old HTTP/1.0\r\nConnection: keep-alive\r\nHost: example.com\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        "CONNECT example.com:444 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok",
        "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n"
            + (0..<40).map { "X-Field-\($0 % 7): value \($0)\r\n" }.joined() + "\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n"
            + (0..<40).map { "X-Field-\($0 % 5): value \($0)\r\n" }.joined() + "\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nEmpty:\r\nSpaced:   padded value  \r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nEmpty: x\r\nSpaced: padded value\r\n\r\n",
    ]

    /// Obs-text: octets that are not UTF-8 are repaired (U+FFFD) in the value; the same octets
    /// again must not be taken for the repaired String's UTF-8, and the repaired String's own
    /// octets must give the same value.
    static let notUTF8: [[UInt8]] = [
        Array("GET / HTTP/1.1\r\nHost: x\r\nX-Latin: caf".utf8) + [0xE9] + Array("\r\n\r\n".utf8),
        Array("GET / HTTP/1.1\r\nHost: x\r\nX-Latin: caf".utf8) + [0xEF, 0xBF, 0xBD] + Array("\r\n\r\n".utf8),
        Array("GET / HTTP/1.1\r\nHost: x\r\nX-Latin: caf".utf8) + [0xE9] + Array("\r\n\r\n".utf8),
    ]

    /// Parses one request with `parser` and compares its events with a new parser's; the head is
    /// dropped on return (so the next call may refill it).
    private func parseAndCompare(
        _ parser: inout HTTP1Parser, _ bytes: [UInt8], scheme: String?, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        var fresh = HTTP1Parser(role: .server)
        fresh.scheme = scheme
        let expected = drive(&fresh, bytes)
        let events = drive(&parser, bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertEqual(events, expected, text, file: file, line: line)
        if case .head(let want)? = expected.first, case .head(let head)? = events.first {
            XCTAssertEqual(head.method, want.method, text, file: file, line: line)
            XCTAssertEqual(head.path, want.path, text, file: file, line: line)
            XCTAssertEqual(head.authority, want.authority, text, file: file, line: line)
            XCTAssertEqual(head.transferCodings, want.transferCodings, text, file: file, line: line)
            XCTAssertEqual(
                head.headers.fields.map(\.neverIndex), want.headers.fields.map(\.neverIndex), text, file: file,
                line: line)
            XCTAssertEqual(head.headers.first("x-field-3"), want.headers.first("x-field-3"), file: file, line: line)
            XCTAssertEqual(
                head.headers.count(of: "x-field-1"), want.headers.count(of: "x-field-1"), file: file, line: line)
        }
    }

    func testEveryPairOfRequestsInARowParsesAsANewParserWould() {
        let all = Self.requests.map { Array($0.utf8) } + Self.notUTF8
        for scheme in [nil, "http"] {
            for first in all {
                for second in all {
                    var parser = HTTP1Parser(role: .server)
                    parser.scheme = scheme
                    parseAndCompare(&parser, first, scheme: scheme)
                    parseAndCompare(&parser, second, scheme: scheme)
                    parseAndCompare(&parser, first, scheme: scheme)
                }
            }
        }
    }

    func testALongRandomSequenceOnOneConnectionParsesAsNewParsersWould() {
        let all = Self.requests.map { Array($0.utf8) } + Self.notUTF8
        var random = SplitMix64(seed: 0x5EED)
        var parser = HTTP1Parser(role: .server)
        for _ in 0..<2_000 {
            parseAndCompare(&parser, all[Int(random.next() % UInt64(all.count))], scheme: nil)
        }
    }

    func testARepeatedFieldKeepsItsStrings() throws {
        let request = Array(Self.requests[6].utf8)
        var parser = HTTP1Parser(role: .server)
        var agent: String
        do {
            let head = try XCTUnwrap(firstHead(drive(&parser, request)))
            agent = try XCTUnwrap(head.headers.first("user-agent"))
        }
        // The head is gone; the String taken from it is still held here, so its storage cannot
        // have been freed and reused: the same address means the same String, kept.
        let head = try XCTUnwrap(firstHead(drive(&parser, request)))
        let again = try XCTUnwrap(head.headers.first("user-agent"))
        XCTAssertEqual(again, agent)
        XCTAssertEqual(address(of: &agent), address(of: again), "the refilled head made a new String")
    }

    private func address(of string: inout String) -> UnsafeRawPointer? {
        string.withUTF8 { UnsafeRawPointer($0.baseAddress) }
    }

    private func address(of string: String) -> UnsafeRawPointer? {
        var copy = string
        return address(of: &copy)
    }

    func testAHeldHeadIsNeverRefilled() throws {
        var parser = HTTP1Parser(role: .server)
        let held = try XCTUnwrap(firstHead(drive(&parser, Array(Self.requests[6].utf8))))
        let copy = held
        for text in Self.requests {
            parseAndCompare(&parser, Array(text.utf8), scheme: nil)
        }
        var fresh = HTTP1Parser(role: .server)
        let expected = try XCTUnwrap(firstHead(drive(&fresh, Array(Self.requests[6].utf8))))
        XCTAssertEqual(held, expected)
        XCTAssertEqual(copy, expected)
        XCTAssertEqual(held.headers.pairs, expected.headers.pairs)
        XCTAssertEqual(held.path, "/")
        XCTAssertEqual(held.authority, "example.com")
    }

    func testHeldHeadersAreNeverRefilled() throws {
        var parser = HTTP1Parser(role: .server)
        let headers = try XCTUnwrap(firstHead(drive(&parser, Array(Self.requests[6].utf8)))).headers
        for text in Self.requests.reversed() {
            parseAndCompare(&parser, Array(text.utf8), scheme: nil)
        }
        var fresh = HTTP1Parser(role: .server)
        let expected = try XCTUnwrap(firstHead(drive(&fresh, Array(Self.requests[6].utf8)))).headers
        XCTAssertEqual(headers.pairs, expected.pairs)
    }

    func testAHeadMutatedByItsHolderDoesNotChangeTheNext() throws {
        var parser = HTTP1Parser(role: .server)
        do {
            var head = try XCTUnwrap(firstHead(drive(&parser, Array(Self.requests[0].utf8))))
            head.headers.append("x-added", "1")
            head.keepAlive = false
        }
        parseAndCompare(&parser, Array(Self.requests[0].utf8), scheme: nil)
    }

    func testAnInvalidHostAfterAValidOneIsStillRejected() {
        var parser = HTTP1Parser(role: .server)
        parseAndCompare(&parser, Array(Self.requests[0].utf8), scheme: nil)
        let events = drive(&parser, Array("GET /hello HTTP/1.1\r\nHost: 127.0.0.1:80\"80\r\n\r\n".utf8))
        XCTAssertEqual(finalError(events), .invalidHost("127.0.0.1:80\\x2280"))
    }

    func testAFramingErrorAfterAKeptHostIsReportedAsBefore() {
        var parser = HTTP1Parser(role: .server)
        parseAndCompare(&parser, Array(Self.requests[0].utf8), scheme: nil)
        let events = drive(
            &parser, Array("GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nTransfer-Encoding: br, chunked\r\n\r\n".utf8)
        )
        XCTAssertEqual(finalError(events), .unknownTransferCoding("br"))
    }

    func testAConnectionClosingRequestStillParsesAsANewParserWould() {
        var parser = HTTP1Parser(role: .server)
        parseAndCompare(&parser, Array(Self.requests[0].utf8), scheme: nil)
        parseAndCompare(&parser, Array("GET / HTTP/1.0\r\n\r\n".utf8), scheme: nil)
    }

    func testALargeHeadIsNotKeptForRefilling() throws {
        var parser = HTTP1Parser(role: .server)
        let big =
            "GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: HTTP1Parser.maximumReusedHeadSize))\r\n\r\n"
        parseAndCompare(&parser, Array(big.utf8), scheme: nil)
        XCTAssertNil(parser.spareRequestHead)
        parseAndCompare(&parser, Array(Self.requests[0].utf8), scheme: nil)
        XCTAssertNotNil(parser.spareRequestHead)
    }
}
