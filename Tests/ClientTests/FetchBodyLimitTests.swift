import Foundation
import Stepwise
import XCTest

/// `Request.fetch(on:bodyLimit:timeout:)` and `HTTP.fetch(…, bodyLimit:)`: a caller's own bound
/// on the body buffered, in decoded octets. A body over it fails with `bodyTooLarge` and the
/// connection is closed, not read to its end: at the head when the `content-length` says so,
/// at the limit otherwise; a body of the limit is read whole, and its connection kept.
final class FetchBodyLimitTests: XCTestCase {
    private static let limit = 64 << 10

    /// The server declares more than the limit and sends no body: only the head can tell, and
    /// `fetch` fails at once instead of waiting for the body until its deadline.
    func testADeclaredLengthOverTheLimitFailsAtTheHeadBeforeAnyBodyIsRead() throws {
        let server = try SizedBodyServer()
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        let request = try Request(uri: server.url("/head-only/\(Self.limit + 1)"))
        request.pool = pool
        let elapsed = assertFails("body larger than \(Self.limit) bytes") {
            _ = try request.fetch(on: reactor, bodyLimit: Self.limit, timeout: 5)
        }
        XCTAssertLessThan(elapsed, 1, "waited for a body the head already ruled out")
        XCTAssertEqual(pool.openConnections, 0)
        XCTAssertTrue(server.waitUntilConnectionsEnded(1), "the connection was not closed")
    }

    /// A body of exactly the limit is read (framed by a length or chunked), and its connection
    /// goes back to the pool; one octet more fails. (That body all arrived, small as it is: its
    /// connection may stay, as after any response read to its end; `/head-only` and `/endless`
    /// show the close of one that did not.)
    func testABodyOfTheLimitIsReadAndOneOctetMoreFails() throws {
        let server = try SizedBodyServer()
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        func fetch(_ path: String) throws -> HTTPResponse {
            let request = try Request(uri: server.url(path))
            request.pool = pool
            return try request.fetch(on: reactor, bodyLimit: Self.limit, timeout: 5)
        }
        for framing in ["length", "chunked"] {
            XCTAssertEqual(try fetch("/\(framing)/\(Self.limit)").body.count, Self.limit, framing)
            XCTAssertEqual(pool.openConnections, 1, framing)
            XCTAssertEqual(pool.idleConnections, 1, framing)
            XCTAssertThrowsError(try fetch("/\(framing)/\(Self.limit + 1)"), framing) { error in
                XCTAssertEqual(error as? HTTPStreamError, .bodyTooLarge(limit: Self.limit))
            }
            XCTAssertEqual(pool.openConnections, pool.idleConnections, framing)
        }
    }

    /// A chunked body without end stops at the caller's limit, not the connection's 64 MiB: the
    /// server manages to send little more than the limit before the client closes.
    func testAnEndlessChunkedBodyStopsAtTheCallersLimit() throws {
        let server = try SizedBodyServer()
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        let request = try Request(uri: server.url("/endless"))
        request.pool = pool
        XCTAssertThrowsError(try request.fetch(on: reactor, bodyLimit: 1 << 20, timeout: 5)) { error in
            XCTAssertEqual(error as? HTTPStreamError, .bodyTooLarge(limit: 1 << 20))
        }
        XCTAssertEqual(pool.openConnections, 0)
        XCTAssertTrue(server.waitUntilConnectionsEnded(1), "the connection was not closed")
        // What the socket buffers of both ends hold besides the limit; 64 MiB without it.
        XCTAssertLessThan(server.bodyOctetsSent, 16 << 20)
    }

    /// The limit is on the octets the caller gets: a gzip body whose coded length is far under it
    /// fails when it decodes to more, and is read whole under a limit it fits.
    func testDecodedOctetsCountTowardTheLimit() throws {
        let server = try SizedBodyServer()
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        let request = try Request(uri: server.url("/gzip/\(1 << 20)"))
        request.pool = pool
        XCTAssertThrowsError(try request.fetch(on: reactor, bodyLimit: Self.limit, timeout: 5)) { error in
            XCTAssertEqual(error as? HTTPStreamError, .bodyTooLarge(limit: Self.limit))
        }
        // The server counts its octets once `send` returned, which may be after the client is done.
        let coded = try Deflater(format: .gzip).process([UInt8](repeating: 0, count: 1 << 20), final: true).count
        let until = MonotonicClock.seconds() + 5
        while server.bodyOctetsSent < coded && MonotonicClock.seconds() < until { usleep(1_000) }
        XCTAssertEqual(server.bodyOctetsSent, coded)
        XCTAssertLessThan(server.bodyOctetsSent, Self.limit)
        // Closed, or idle when the coded body had all arrived: none left busy.
        XCTAssertEqual(pool.openConnections, pool.idleConnections)
        let body = try request.fetch(on: reactor, bodyLimit: 1 << 20, timeout: 5).body
        XCTAssertEqual(body, [UInt8](repeating: 0, count: 1 << 20))
    }

    /// The `content-length` of a response to HEAD is the GET's, not a body: nothing to refuse.
    func testTheContentLengthOfAHeadResponseIsNotItsBody() throws {
        let server = try SizedBodyServer()
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        var head = Headers()
        head.append(":method", "HEAD")
        let request = try Request(uri: server.url("/length/\(1 << 30)"), headers: head)
        request.pool = pool
        let response = try request.fetch(on: reactor, bodyLimit: 1, timeout: 5)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, [])
        XCTAssertEqual(pool.idleConnections, 1)
    }

    func testHTTPFetchTakesTheLimit() throws {
        let server = try SizedBodyServer()
        defer { server.stop() }
        let elapsed = assertFails("body larger than \(Self.limit) bytes") {
            _ = try HTTP.fetch(server.url("/head-only/\(1 << 30)"), bodyLimit: Self.limit, timeout: 5)
        }
        XCTAssertLessThan(elapsed, 1, "waited for a body the head already ruled out")
        XCTAssertTrue(server.waitUntilConnectionsEnded(1), "the connection was not closed")
        XCTAssertEqual(try HTTP.fetch(server.url("/chunked/100"), bodyLimit: 100, timeout: 5).body.count, 100)
        XCTAssertThrowsError(try HTTP.fetch(server.url("/chunked/101"), bodyLimit: 100, timeout: 5)) { error in
            XCTAssertEqual(error as? HTTPStreamError, .bodyTooLarge(limit: 100))
        }
    }
}
