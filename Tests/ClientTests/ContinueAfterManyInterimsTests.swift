import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A `100 Continue` that comes after many other interim responses (here forty `103 Early
/// Hints`, in one write with it) is the go-ahead all the same. RFC 9110 §15.2: "A client MUST be
/// able to parse one or more 1xx responses received prior to a final response, even if the client
/// does not expect one." The connection keeps at most `maximumUnreadInterimResponses` (16) interim
/// heads its reader has not taken, and used to drop the ones past that, the `100` among them, so
/// the body waited for `expect100Timeout` (or, for `Request.go`, failed at its deadline).
///
/// The server gives the body 5 s to come after its `100`; the clients would wait 60 s unasked.
final class ContinueAfterManyInterimsTests: XCTestCase {
    static let body = [UInt8](repeating: UInt8(ascii: "b"), count: 1000)

    /// Reads a request head, answers forty 103s and a 100 in one write, then reads the body and
    /// answers with its length; closes when the body does not come within 5 s.
    static func serve(_ client: Int32) {
        var limit = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var headEnd: Int?
        while headEnd == nil {
            let got = recv(client, &buffer, buffer.count, 0)
            guard got > 0 else { return }
            data += buffer[..<got]
            let end: [UInt8] = Array("\r\n\r\n".utf8)
            headEnd = data.count < 4 ? nil : (0...(data.count - 4)).first { data[$0..<$0 + 4].elementsEqual(end) }
        }
        let hints = String(repeating: "HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n", count: 40)
        guard RawPeer.send(hints + "HTTP/1.1 100 Continue\r\n\r\n", to: client) else { return }
        var received = data.count - headEnd! - 4
        while received < body.count {
            let got = recv(client, &buffer, buffer.count, 0)
            guard got > 0 else { return }
            received += got
        }
        let text = "got \(received)"
        RawPeer.send("HTTP/1.1 200 OK\r\ncontent-length: \(text.utf8.count)\r\n\r\n\(text)", to: client)
        _ = RawPeer.waitForClose(client)
    }

    func testRequestGoSendsTheBodyOnTheContinueAfterManyEarlyHints() throws {
        let server = try OneShotServer(serve: Self.serve)
        defer { server.stop() }
        let reactor = try Reactor()
        let request = try server.request("/upload")
        try request.headers.upsert(":method", "PUT")
        request.setBody(bytes: Self.body)
        request.headers.append("expect", "100-continue")
        request.expect100Timeout = 60
        let response = try request.fetch(on: reactor, timeout: 10)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "got \(Self.body.count)")
    }

    func testHTTPConnectionSendsTheBodyOnTheContinueAfterManyEarlyHints() throws {
        let server = try OneShotServer(serve: Self.serve)
        defer { server.stop() }
        let connection = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 60)
        defer { connection.close() }
        connection.expect100Timeout = 60
        try connection.request("PUT", "/upload", body: Self.body, expectContinue: true)
        let response = try connection.getResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "got \(Self.body.count)")
    }
}
