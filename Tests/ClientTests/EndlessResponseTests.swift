import Foundation
import Stepwise
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Responses that never end, or end at the pace of one octet at a time: the request's one deadline
/// covers them however the octets trickle, the buffering `fetch` stops at `bodyLimit`, and the
/// connection is closed, not kept, after either.
final class EndlessResponseTests: XCTestCase {
    /// A head trickled one octet every 20 ms: every read gets an octet, so only a deadline over
    /// the whole head ends it, and waiting for the octets costs no CPU.
    func testAHeadTrickledOctetByOctetMeetsTheRequestsDeadline() throws {
        let server = try OneShotServer { client in
            guard OneShotServer.readRequest(client) else { return }
            let head = "HTTP/1.1 200 OK\r\n" + String(repeating: "x-slow: yes\r\n", count: 100)
            RawPeer.trickle(Array(head.utf8), to: client, every: 0.02, for: 3)
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        let request = try server.request(pool: pool)
        let cpu = cpuSeconds {
            assertFailsOnTime(
                "127.0.0.1:\(server.port): timed out after 0.5 s during response head read", within: 0.45...1.5
            ) { _ = try request.fetch(on: reactor, timeout: 0.5) }
        }
        XCTAssertLessThan(cpu, 0.25, "waiting for a trickled head took \(cpu) s of CPU")
        XCTAssertEqual(pool.openConnections, 0)
    }

    /// A body trickled under the deadline of `fetch` ends with it too (`response body read`).
    func testABodyTrickledOctetByOctetMeetsTheRequestsDeadline() throws {
        let server = try OneShotServer { client in
            guard OneShotServer.readRequest(client) else { return }
            RawPeer.send("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n", to: client)
            RawPeer.trickle([UInt8](repeating: 0x61, count: 1000), to: client, every: 0.02, for: 3)
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        let request = try server.request(pool: pool)
        let cpu = cpuSeconds {
            assertFailsOnTime(
                "127.0.0.1:\(server.port): timed out after 0.5 s during response body read", within: 0.45...1.5
            ) { _ = try request.fetch(on: reactor, timeout: 0.5) }
        }
        XCTAssertLessThan(cpu, 0.25, "waiting for a trickled body took \(cpu) s of CPU")
        XCTAssertEqual(pool.openConnections, 0)
    }

    func testAnEndlessChunkedBodyStopsFetchAtTheBodyLimit() throws {
        try assertFetchStopsAtTheBodyLimit(head: "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n") {
            Array("100000\r\n".utf8) + $0 + Array("\r\n".utf8)
        }
    }

    /// RFC 9112 §6.3 item 8: a body without a length is read until the server closes, which a
    /// hostile server never does.
    func testAnEndlessBodyWithoutALengthStopsFetchAtTheBodyLimit() throws {
        try assertFetchStopsAtTheBodyLimit(head: "HTTP/1.1 200 OK\r\n\r\n") { $0 }
    }

    /// `fetch` against a server sending `head`, then pieces of 1 MiB, each framed by `frame`,
    /// until the client goes: `bodyTooLarge` at 64 MiB, and the connection closed.
    private func assertFetchStopsAtTheBodyLimit(head: String, frame: @escaping @Sendable ([UInt8]) -> [UInt8]) throws {
        let clientClosed = Locked(false)
        let server = try OneShotServer { client in
            guard OneShotServer.readRequest(client) else { return }
            let piece = frame([UInt8](repeating: 0x61, count: 1 << 20))
            guard RawPeer.send(head, to: client) else { return }
            while RawPeer.send(piece, to: client) {}
            clientClosed.withLock { $0 = true }
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        let request = try server.request(pool: pool)
        let limit = H1ConnectionOptions().bodyLimit
        XCTAssertThrowsError(try request.fetch(on: reactor, timeout: 10)) { error in
            XCTAssertEqual(error as? HTTPStreamError, .bodyTooLarge(limit: limit))
        }
        XCTAssertEqual(pool.openConnections, 0)
        let started = MonotonicClock.seconds()
        while !clientClosed.withLock({ $0 }) && MonotonicClock.seconds() - started < 5 { usleep(1000) }
        XCTAssertTrue(clientClosed.withLock { $0 }, "the server could still send")
    }
}
