import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Odd response heads, end to end through `fetch`: what RFC 9112 lets a client read is read, the
/// rest fails the request with the parser's reason and closes the connection.
final class ResponseHeadOddityTests: XCTestCase {
    /// `status-line = HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 §4): an empty
    /// reason is fine; the SP before it is required (a documented divergence from llhttp, curl
    /// and browsers, which read `HTTP/1.1 200` too: see HTTP1ConformanceTests).
    func testAnEmptyReasonNeedsItsSpace() throws {
        XCTAssertEqual(try fetch("HTTP/1.1 200 \r\ncontent-length: 2\r\n\r\nok").text, "ok")
        try assertRefused("HTTP/1.1 200\r\ncontent-length: 2\r\n\r\nok", "no SP after the status code")
    }

    /// RFC 9110 §2.5 / §6.2: an HTTP/1 exchange is answered in HTTP/1.
    func testAnotherMajorVersionIsRefused() throws {
        try assertRefused("HTTP/2.0 200 OK\r\ncontent-length: 2\r\n\r\nok", "unsupported HTTP version: HTTP/2.0")
    }

    /// RFC 9110 §15: "three-digit integer code"; 099 is not one of the 1xx–5xx classes, 1000 has
    /// four digits.
    func testAStatusOutside100To999IsRefused() throws {
        try assertRefused("HTTP/1.1 099 Odd\r\ncontent-length: 0\r\n\r\n", "invalid status code: \"0\"")
        try assertRefused("HTTP/1.1 1000 Odd\r\ncontent-length: 0\r\n\r\n", "invalid status code: \"1000\"")
    }

    /// RFC 9112 §5.2: "A user agent that receives an obs-fold in a response message [...] MUST
    /// replace each received obs-fold with one or more SP octets prior to interpreting the field
    /// value."
    func testObsFoldInAResponseIsUnfolded() throws {
        let response = try fetch("HTTP/1.1 200 OK\r\nx-folded: one\r\n  two\r\ncontent-length: 2\r\n\r\nok")
        XCTAssertEqual(response.headers.first("x-folded")?.split(separator: " "), ["one", "two"])
        XCTAssertEqual(response.text, "ok")
    }

    /// RFC 9112 §5.1: "A server MUST reject, with a response status code of 400 [...] any
    /// received request message that contains whitespace between a header field name and colon.
    /// A proxy MUST remove any such whitespace from a response message before forwarding"; a
    /// client reading the framing of `content-length :` one way while a proxy reads it another is
    /// how responses are split, so it is refused.
    func testWhitespaceBeforeTheColonIsRefused() throws {
        try assertRefused(
            "HTTP/1.1 200 OK\r\ncontent-length : 2\r\n\r\nok",
            "whitespace between field name \"content-length\" and colon")
    }

    /// `maxFieldCount` (100) holds for responses too: 1000 `set-cookie` lines fail the request
    /// (Python's http.client stops at 100 as well).
    func testAThousandSetCookieLinesPassTheFieldCountLimit() throws {
        let cookies = (0..<1000).map { "set-cookie: c\($0)=1\r\n" }.joined()
        try assertRefused("HTTP/1.1 200 OK\r\n\(cookies)content-length: 0\r\n\r\n", "more than 100 header fields")
    }

    /// The response to a GET on a fresh connection of a server that sends `response`.
    private func fetch(_ response: String) throws -> HTTPResponse {
        let server = try OneShotServer { client in
            guard OneShotServer.readRequest(client) else { return }
            RawPeer.send(response, to: client)
            _ = RawPeer.waitForClose(client)
        }
        defer { server.stop() }
        let reactor = try Reactor()
        return try server.request().fetch(on: reactor, timeout: 5)
    }

    /// `response` fails a pooled GET with an error naming `reason`, and the connection closes.
    private func assertRefused(_ response: String, _ reason: String, file: StaticString = #filePath, line: UInt = #line)
        throws
    {
        let closed = Locked(false)
        let server = try OneShotServer { client in
            guard OneShotServer.readRequest(client) else { return }
            RawPeer.send(response, to: client)
            closed.withLock { $0 = RawPeer.waitForClose(client) }
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        assertFails(reason, file: file, line: line) {
            _ = try server.request(pool: pool).fetch(on: reactor, timeout: 5)
        }
        XCTAssertEqual(pool.openConnections, 0, file: file, line: line)
        let started = MonotonicClock.seconds()
        while !closed.withLock({ $0 }) && MonotonicClock.seconds() - started < 5 { usleep(1000) }
        XCTAssertTrue(closed.withLock { $0 }, "the connection stayed open", file: file, line: line)
    }
}
