import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Responses whose framing is ambiguous or wrong (RFC 9112 §6.3). The client must never take
/// octets of one response as the next response on a pooled connection: a refused framing fails
/// the request and closes the connection, and octets on a connection that awaits no response
/// close it.
final class ResponseFramingAttackTests: XCTestCase {
    /// Item 3: both fields "ought to be handled as an error".
    func testContentLengthWithTransferEncodingFailsAndCloses() throws {
        try assertRefused(
            "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "both Content-Length and Transfer-Encoding")
    }

    /// Item 5: differing values are "an unrecoverable error".
    func testTwoDifferentContentLengthsFailAndClose() throws {
        try assertRefused(
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!",
            "conflicting Content-Length values: \"5\" and \"6\"")
    }

    /// RFC 9112 §8: "A client that receives an incomplete response message, which can occur when
    /// a connection is closed prematurely [...] MUST record the message as incomplete".
    func testABodyCutShortByTheCloseIsAnError() throws {
        try assertRefused(
            "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this", "unexpected end of input", thenClose: true)
        try assertRefused(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n", "unexpected end of input",
            thenClose: true)
    }

    /// Item 1: a 204, a 304 and an answer to HEAD end at their heads. What a server sends after
    /// one (here a whole response, as a response-splitting attack would) is not the next
    /// request's response: the connection that received it closes, and the next request goes on a
    /// fresh one.
    func testOctetsAfterABodylessResponseAreNotTheNextResponse() throws {
        let cases: [(method: String, head: String)] = [
            ("GET", "HTTP/1.1 204 No Content\r\ncontent-length: 26\r\n\r\n"),
            ("GET", "HTTP/1.1 304 Not Modified\r\ncontent-length: 26\r\n\r\n"),
            ("HEAD", "HTTP/1.1 200 OK\r\ncontent-length: 26\r\n\r\n"),
        ]
        for (method, head) in cases {
            let server = try Self.smugglingServer(first: head + Self.smuggled)
            defer { server.stop() }
            let reactor = try Reactor()
            let pool = ConnectionPool(reactor: reactor)
            let first = try server.request(pool: pool)
            try first.headers.upsert(":method", method)
            XCTAssertEqual(try first.fetch(on: reactor, timeout: 5).body, [], head)
            XCTAssertEqual(try server.request(pool: pool).fetch(on: reactor, timeout: 5).text, "fresh", head)
            XCTAssertEqual(server.connections, 2, head)
            pool.closeIdle()
        }
    }

    /// A response on an idle pooled connection, before any request (RFC 9112 §9.3.2 has responses
    /// in the order of the requests; this one answers none), is not the next request's: the
    /// connection closes and the request goes on a fresh one.
    func testAnUnsolicitedResponseOnAnIdlePooledConnectionIsNotTheNextResponse() throws {
        let sent = Locked(false)
        let server = try Self.smugglingServer(first: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok") { client in
            usleep(20_000)
            RawPeer.send(Self.smuggled, to: client)
            sent.withLock { $0 = true }
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        XCTAssertEqual(try server.request(pool: pool).fetch(on: reactor, timeout: 5).text, "ok")
        while !sent.withLock({ $0 }) { usleep(1000) }
        usleep(20_000)
        // Nothing runs the reactor meanwhile: the octets wait in the socket until the pool is
        // asked for the connection.
        XCTAssertEqual(try server.request(pool: pool).fetch(on: reactor, timeout: 5).text, "fresh")
        XCTAssertEqual(server.connections, 2)
        pool.closeIdle()
    }

    /// A whole response a hostile server slips in after another.
    private static let smuggled = "HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\nspoofed"

    /// A server whose first connection answers the first request with `first`, then runs `then`,
    /// and answers any later request `reused`; later connections answer `fresh`.
    private static func smugglingServer(first: String, then: @escaping @Sendable (Int32) -> Void = { _ in })
        throws -> OneShotServer
    {
        let connections = Locked(0)
        return try OneShotServer { client in
            let index = connections.withLock {
                $0 += 1
                return $0
            }
            let answer = index == 1 ? "reused" : "fresh"
            if index == 1 {
                guard OneShotServer.readRequest(client) else { return }
                RawPeer.send(first, to: client)
                then(client)
            }
            while OneShotServer.readRequest(client) {
                RawPeer.send("HTTP/1.1 200 OK\r\ncontent-length: \(answer.utf8.count)\r\n\r\n\(answer)", to: client)
            }
        }
    }

    /// `response` to a pooled GET fails it with an error naming `reason`, and the connection is
    /// closed (`thenClose`: the server closes after sending it).
    private func assertRefused(_ response: String, _ reason: String, thenClose: Bool = false) throws {
        let closed = Locked(false)
        let server = try OneShotServer { client in
            guard OneShotServer.readRequest(client) else { return }
            RawPeer.send(response, to: client)
            if thenClose { return }
            closed.withLock { $0 = RawPeer.waitForClose(client) }
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        assertFails(reason) { _ = try server.request(pool: pool).fetch(on: reactor, timeout: 5) }
        XCTAssertEqual(pool.openConnections, 0)
        if !thenClose {
            let started = MonotonicClock.seconds()
            while !closed.withLock({ $0 }) && MonotonicClock.seconds() - started < 5 { usleep(1000) }
            XCTAssertTrue(closed.withLock { $0 }, "the connection stayed open")
        }
    }
}
