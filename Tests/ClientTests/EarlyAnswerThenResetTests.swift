import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A server that answers a request whose body is still on its way, then resets the connection
/// (it closes with the body unread, or with `SO_LINGER` 0): the answer reached the client's
/// kernel before the reset, and the write into the reset connection must not lose it. RFC 9112
/// §9.5: "A client sending a message body SHOULD monitor the network connection for an error
/// response while it is transmitting the request." Before, the failed write closed the
/// connection before the answer was read, and the request failed with `socket closed`.
final class EarlyAnswerThenResetTests: XCTestCase {
    private static func answerThenReset() throws -> OneShotServer {
        try OneShotServer { client in
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = recv(client, &buffer, buffer.count, 0)
            RawPeer.send(
                "HTTP/1.1 413 Content Too Large\r\nconnection: close\r\ncontent-length: 7\r\n\r\ntoo big", to: client)
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
    }

    /// More than the socket buffers hold: the answer comes while the body is still going.
    private static let body = [UInt8](repeating: 0x61, count: 4 << 20)

    func testRequestGoReturnsTheAnswer() throws {
        let server = try Self.answerThenReset()
        defer { server.stop() }
        let reactor = try Reactor()
        for _ in 0..<3 {
            let request = try server.request("/up")
            try request.headers.upsert(":method", "POST")
            request.setBody(bytes: Self.body)
            request.headers.delete("expect")
            let response = try request.fetch(on: reactor, timeout: 5)
            XCTAssertEqual(response.status, 413)
            XCTAssertEqual(response.text, "too big")
        }
    }

    func testHTTPConnectionReturnsTheAnswer() throws {
        let server = try Self.answerThenReset()
        defer { server.stop() }
        let connection = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        defer { connection.close() }
        for _ in 0..<3 {
            try connection.request("POST", "/up", body: Self.body)
            let response = try connection.getResponse()
            XCTAssertEqual(response.status, 413)
            XCTAssertEqual(response.text, "too big")
        }
    }
}
