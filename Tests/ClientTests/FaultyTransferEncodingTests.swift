import Foundation
import Stepwise
import XCTest

/// A response whose Transfer-Encoding applies chunked twice, not last, or in HTTP/1.0 (RFC 9112
/// §6.1: "A sender MUST NOT apply the chunked transfer coding more than once to a message body";
/// "A server or client that receives an HTTP/1.0 message containing a Transfer-Encoding header
/// field MUST treat the message as if the framing is faulty"). The request fails, and the error
/// names the field as it came; before, it said `unknown transfer coding: "chunked"`, which is
/// not what was wrong.
final class FaultyTransferEncodingTests: XCTestCase {
    func testChunkedTwiceNotLastOrInHTTP10IsNamedAsFaultyFraming() throws {
        let cases: [(head: String, value: String)] = [
            ("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, chunked\r\n", "chunked, chunked"),
            ("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n", "chunked, chunked"),
            ("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n", "chunked, gzip"),
            ("HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n", "chunked"),
        ]
        for (head, value) in cases {
            let server = try OneShotServer { client in
                guard OneShotServer.readRequest(client) else { return }
                RawPeer.send(head + "\r\n5\r\nhello\r\n0\r\n\r\n", to: client)
                _ = RawPeer.waitForClose(client, seconds: 2)
            }
            defer { server.stop() }
            let reactor = try Reactor()
            let pool = ConnectionPool(reactor: reactor)
            assertFails("faulty Transfer-Encoding in a response: \"\(value)\"") {
                _ = try server.request(pool: pool).fetch(on: reactor, timeout: 2)
            }
            XCTAssertEqual(pool.openConnections, 0, head)
        }
    }
}
