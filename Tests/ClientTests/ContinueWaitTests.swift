import Stepwise
import XCTest

/// The wait for `100 Continue` that `Request.go` and `HTTPConnection` share (`ContinueWait`), where
/// a request's head goes without the expectation although it was asked for: the body is empty.
/// RFC 9110 §10.1.1: "A client MUST NOT generate a 100-continue expectation in a request that
/// does not include content", so the head carries none, no `100 Continue` comes, and the server
/// answers the complete request at once. That answer is the response, not a refusal of a body
/// still to come: the connection stays for the next request. (Both APIs waited, took the answer
/// for one, and gave up the connection.)
final class ContinueWaitTests: XCTestCase {
    func testRequestGoWithAnEmptyBodyKeepsItsPooledConnection() throws {
        let server = try TestServer { stream, head in
            let body = try await stream.getBodyAsString(timeout: 5)
            try await reply(stream, "\(head.headers.first("expect") ?? "no expectation") \(body.count)")
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        for _ in 0..<2 {
            let request = try Request(uri: "http://127.0.0.1:\(server.port)/")
            request.pool = pool
            try request.headers.upsert(":method", "PUT")
            request.setBody(bytes: [])
            request.headers.append("expect", "100-continue")
            XCTAssertTrue(request.expectsContinue)
            XCTAssertEqual(try request.fetch(on: reactor, timeout: 5).text, "no expectation 0")
        }
        XCTAssertEqual(server.connectionsSeen, 1)
    }

    func testHTTPConnectionWithAnEmptyProducedBodyKeepsTheConnection() throws {
        let server = try TestServer { stream, head in
            let body = try await stream.getBodyAsString(timeout: 5)
            try await reply(stream, "\(head.headers.first("expect") ?? "no expectation") \(body.count)")
        }
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        defer { conn.close() }
        for _ in 0..<2 {
            try conn.request("PUT", "/", expectContinue: true, bodyStream: { nil }, bodyLength: 0)
            XCTAssertEqual(try conn.getResponse().text, "no expectation 0")
        }
        XCTAssertEqual(server.connectionsSeen, 1)
    }
}
