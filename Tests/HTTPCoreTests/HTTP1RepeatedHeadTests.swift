import XCTest

@testable import HTTPCore

/// A server parser answers a request head that repeats the octets of the head it built last with
/// that head again (`HTTP1Parser.repeatedRequestHead`): every outcome must still be exactly what a
/// new parser gives, whatever changed in between (settings, holders of the head, what follows it).
final class HTTP1RepeatedHeadTests: XCTestCase {
    static let hello = Array("GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n".utf8)

    /// Parses `bytes` with `parser` and with a new parser of the same settings; the events must be
    /// equal. Returns the events.
    @discardableResult
    private func parseAndCompare(
        _ parser: inout HTTP1Parser, _ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line
    ) -> [HTTP1TestEvent] {
        var fresh = HTTP1Parser(role: .server, limits: parser.limits, requireHost: parser.requireHost)
        fresh.scheme = parser.scheme
        let expected = drive(&fresh, bytes)
        let events = drive(&parser, bytes)
        XCTAssertEqual(events, expected, String(decoding: bytes, as: UTF8.self), file: file, line: line)
        if case .head(let want)? = expected.first, case .head(let head)? = events.first {
            XCTAssertEqual(head.method, want.method, file: file, line: line)
            XCTAssertEqual(head.path, want.path, file: file, line: line)
            XCTAssertEqual(head.authority, want.authority, file: file, line: line)
            XCTAssertEqual(head.keepAlive, want.keepAlive, file: file, line: line)
            XCTAssertEqual(head.framing, want.framing, file: file, line: line)
        }
        return events
    }

    func testARepeatedHeadIsTheSameHeadAgain() throws {
        var parser = HTTP1Parser(role: .server)
        parser.scheme = "http"
        for _ in 0..<3 { parseAndCompare(&parser, Self.hello) }
        XCTAssertEqual(parser.spareRequestOctets, Self.hello)
        // The same head, not a rebuilt one (what makes it cheap): its fields where they were.
        let storage: UnsafePointer<Headers.Field>?
        do {
            let first = try XCTUnwrap(firstHead(drive(&parser, Self.hello)))
            storage = first.headers.fields.withUnsafeBufferPointer { $0.baseAddress }
        }
        let again = try XCTUnwrap(firstHead(drive(&parser, Self.hello)))
        XCTAssertEqual(again.headers.fields.withUnsafeBufferPointer { $0.baseAddress }, storage)
    }

    func testAParsersFirstHeadKeepsNoOctets() {
        var parser = HTTP1Parser(role: .server)
        parseAndCompare(&parser, Self.hello)
        XCTAssertEqual(parser.spareRequestOctets, [])
        parseAndCompare(&parser, Self.hello)
        XCTAssertEqual(parser.spareRequestOctets, Self.hello)
    }

    func testAHeadThatDiffersInOneOctetIsBuilt() {
        var parser = HTTP1Parser(role: .server)
        for _ in 0..<2 { parseAndCompare(&parser, Self.hello) }
        for index in Self.hello.indices {
            var changed = Self.hello
            changed[index] = changed[index] == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")
            parseAndCompare(&parser, changed)
            // After an error, or in the middle of a head, start again with the usual head kept.
            if !parser.isIdle {
                parser = HTTP1Parser(role: .server)
                for _ in 0..<2 { parseAndCompare(&parser, Self.hello) }
            }
            parseAndCompare(&parser, Self.hello)
        }
    }

    func testChangedSettingsAreHonoured() {
        var parser = HTTP1Parser(role: .server)
        for _ in 0..<2 { parseAndCompare(&parser, Self.hello) }
        parser.scheme = "https"
        parseAndCompare(&parser, Self.hello)
        parseAndCompare(&parser, Self.hello)
        parser.scheme = nil
        parseAndCompare(&parser, Self.hello)

        let noHost = Array("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n".utf8)
        parser.requireHost = false
        for _ in 0..<3 { parseAndCompare(&parser, noHost) }
        parser.requireHost = true
        XCTAssertEqual(finalError(parseAndCompare(&parser, noHost)), .missingHost)

        var limited = HTTP1Parser(role: .server)
        for _ in 0..<2 { parseAndCompare(&limited, Self.hello) }
        limited.limits.maxFieldCount = 0
        XCTAssertEqual(finalError(parseAndCompare(&limited, Self.hello)), .tooManyFields(limit: 0))

        var short = HTTP1Parser(role: .server)
        for _ in 0..<2 { parseAndCompare(&short, Self.hello) }
        short.limits.maxHeaderBlockSize = Self.hello.count - 1
        XCTAssertEqual(
            finalError(parseAndCompare(&short, Self.hello)), .headerBlockTooLarge(limit: Self.hello.count - 1))
    }

    func testAHeadChangedByItsHolderDoesNotChangeTheRepeat() throws {
        var parser = HTTP1Parser(role: .server)
        for _ in 0..<2 { parseAndCompare(&parser, Self.hello) }
        var held = try XCTUnwrap(firstHead(drive(&parser, Self.hello)))
        // Held and changed by its stream (which gets storage of its own): the repeat is as built.
        held.headers.append("x-added", "1")
        held.keepAlive = false
        let next = try XCTUnwrap(firstHead(parseAndCompare(&parser, Self.hello)))
        XCTAssertNil(next.headers.first("x-added"))
        XCTAssertTrue(next.keepAlive)
        XCTAssertEqual(held.headers.first("x-added"), "1")
        // Held unchanged while the same head comes again (pipelined): both are the one head.
        let also = try XCTUnwrap(firstHead(parseAndCompare(&parser, Self.hello)))
        XCTAssertEqual(also, next)
        let unchanged = try XCTUnwrap(firstHead(drive(&parser, Self.hello)))
        XCTAssertNil(unchanged.headers.first("x-added"))
    }

    func testTheFramingOfARepeatedHeadIsApplied() {
        let requests = [
            "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
            "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            "\r\nGET /after-an-empty-line HTTP/1.1\r\nHost: x\r\n\r\n",
        ]
        for text in requests {
            var parser = HTTP1Parser(role: .server)
            for _ in 0..<3 { parseAndCompare(&parser, Array(text.utf8)) }
        }
        // The last one closes the connection: what follows is refused as before.
        let closing = Array("GET / HTTP/1.0\r\n\r\n".utf8)
        var parser = HTTP1Parser(role: .server)
        parseAndCompare(&parser, Array("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".utf8))
        parseAndCompare(&parser, closing)
        var again = HTTP1Parser(role: .server)
        parseAndCompare(&again, Array("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".utf8))
        parseAndCompare(&again, Array("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".utf8))
        parseAndCompare(&again, Array("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".utf8) + closing + closing)
    }

    func testPipelinedRepeatsAndATrickledRepeat() {
        var parser = HTTP1Parser(role: .server)
        for _ in 0..<2 { parseAndCompare(&parser, Self.hello) }
        parseAndCompare(&parser, Self.hello + Self.hello + Self.hello)
        // Arriving in pieces, the head is scanned as it comes: the same events.
        var fresh = HTTP1Parser(role: .server)
        XCTAssertEqual(drive(&parser, Self.hello, pieceSize: 7), drive(&fresh, Self.hello, pieceSize: 7))
        parseAndCompare(&parser, Self.hello)
    }

    func testALargeHeadKeepsNoOctets() {
        var parser = HTTP1Parser(role: .server)
        let big = Array(
            ("GET / HTTP/1.1\r\nHost: x\r\nX-Big: "
                + String(repeating: "a", count: HTTP1Parser.maximumRepeatedHeadSize) + "\r\n\r\n").utf8)
        for _ in 0..<2 { parseAndCompare(&parser, Self.hello) }
        for _ in 0..<2 { parseAndCompare(&parser, big) }
        XCTAssertEqual(parser.spareRequestOctets, [])
        XCTAssertNotNil(parser.spareRequestHead)
    }

    func testACopiedParserKeepsItsOwnOctets() {
        var parser = HTTP1Parser(role: .server)
        for _ in 0..<2 { parseAndCompare(&parser, Self.hello) }
        var copy = parser
        let other = Array("GET /other HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n".utf8)
        parseAndCompare(&copy, other)
        parseAndCompare(&copy, other)
        parseAndCompare(&parser, Self.hello)
        parseAndCompare(&copy, other)
        parseAndCompare(&copy, Self.hello)
    }
}
