import Foundation
import Stepwise
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Interim (1xx) responses from a hostile server. RFC 9110 §15.2: "A client MUST be able to parse
/// one or more 1xx responses received prior to a final response", but not without end: a server
/// sending `100 Continue` forever, each well within any read timeout, would keep a request (and a
/// connection, and the CPU parsing them) for as long as the caller allows. The interim heads of
/// one response count together toward `maxHeaderBlockSize`, as curl counts every head of a
/// request toward its 300 KiB (`Curl_bump_headersize`).
final class InterimResponseAttackTests: XCTestCase {
    func testEndless100ContinueFailsOnceTheInterimHeadsPassTheHeaderBlockLimit() throws {
        let server = try OneShotServer { client in
            guard OneShotServer.readRequest(client) else { return }
            let batch = String(repeating: "HTTP/1.1 100 Continue\r\n\r\n", count: 1000)
            while RawPeer.send(batch, to: client) {}
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let request = try server.request()
        let seconds = assertFails("interim (1xx) responses larger than 65536 bytes") {
            _ = try request.fetch(on: reactor, timeout: 5)
        }
        XCTAssertLessThan(seconds, 2, "the request lasted until its deadline")
    }

    /// Interim responses at a pace well under the limit, one every 20 ms, each a new head to
    /// wait for: the request's one deadline still ends the wait, and waiting costs no CPU.
    func testInterimResponsesTrickledUnderTheLimitMeetTheRequestsDeadline() throws {
        let server = try OneShotServer { client in
            guard OneShotServer.readRequest(client) else { return }
            for _ in 0..<150 {
                guard RawPeer.send("HTTP/1.1 102 Processing\r\n\r\n", to: client) else { return }
                usleep(20_000)
            }
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let request = try server.request()
        let cpu = cpuSeconds {
            assertFailsOnTime(
                "127.0.0.1:\(server.port): timed out after 0.5 s during response head read", within: 0.45...1.5
            ) { _ = try request.fetch(on: reactor, timeout: 0.5) }
        }
        XCTAssertLessThan(cpu, 0.25, "waiting between interim responses took \(cpu) s of CPU")
    }

    /// A few early hints, however large, are skipped and the final response is the answer.
    func testEarlyHintsWithinTheLimitAreSkipped() throws {
        let link = "link: </style.css>; rel=preload; as=style" + String(repeating: ", </a.js>; rel=preload", count: 40)
        let server = try OneShotServer { client in
            guard OneShotServer.readRequest(client) else { return }
            let hint = "HTTP/1.1 103 Early Hints\r\n\(link)\r\n\r\n"
            RawPeer.send(
                String(repeating: hint, count: 20) + "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", to: client)
            _ = RawPeer.waitForClose(client)
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let response = try server.request().fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "ok")
    }

    /// The limit is per response: a keep-alive connection whose every response has a few 1xx
    /// before it goes on serving.
    func testTheLimitIsPerResponse() throws {
        let server = try OneShotServer { client in
            let hints = String(repeating: "HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n", count: 800)
            while OneShotServer.readRequest(client) {
                RawPeer.send(hints + "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", to: client)
            }
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        for _ in 0..<3 {
            XCTAssertEqual(try server.request(pool: pool).fetch(on: reactor, timeout: 5).text, "ok")
        }
        XCTAssertEqual(server.connections, 1)
        pool.closeIdle()
    }
}
