import Stepwise
import XCTest

/// A handler that buffers the body with a limit (`getBodyAsBytes(limit:)`) and lets its error end
/// it: a request whose `content-length` is over the limit is answered 413 from its head alone,
/// before any of the body is read and without a `100 Continue` inviting it (RFC 9110 §10.1.1,
/// §15.5.14). The client sends the head only and waits: the answer must come at once.
final class DeclaredBodyOverLimitTests: XCTestCase {
    private static let limit = 1000

    /// Answers 200 with the body's length, read with `limit`.
    private static let handler = Server.Handler.task { stream in
        _ = try await stream.getHeaders(timeout: 10)
        let body = try await stream.getBodyAsBytes(limit: limit, timeout: 10)
        var response = Headers()
        response.append(":status", "200")
        try stream.writeMessage(response, body: Array("\(body.count)".utf8))
    }

    private func head(length: Int, expect: Bool) -> String {
        "POST /up HTTP/1.1\r\nHost: test\r\n\(expect ? "Expect: 100-continue\r\n" : "")Content-Length: \(length)\r\n\r\n"
    }

    /// Sends `head` alone and reads the answer, which must be a prompt 413 that closes.
    private func assertRefusedFromTheHead(
        _ server: TestServer, _ head: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let client = try TestClient(port: server.port)
        client.timeout = 2
        let started = MonotonicClock.seconds()
        try client.send(head)
        let response = try readLastResponse(client, "no body was sent", file: file, line: line)
        XCTAssertEqual(response.status, 413, "the first answer, with no 100 Continue before it", file: file, line: line)
        XCTAssertLessThan(MonotonicClock.seconds() - started, 1, "the body was waited for", file: file, line: line)
    }

    func testALengthOverTheLimitWithExpectIsRefusedWithoutContinue() throws {
        let server = try TestServer(ServerOptions(), handler: Self.handler)
        try assertRefusedFromTheHead(server, head(length: 1_000_000_000, expect: true))
    }

    func testALengthOverTheLimitWithoutExpectIsRefusedBeforeTheBodyComes() throws {
        let server = try TestServer(ServerOptions(), handler: Self.handler)
        try assertRefusedFromTheHead(server, head(length: 1_000_000_000, expect: false))
        // The server serves on.
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try client.exchange(head(length: 3, expect: false) + "abc").text, "3")
    }

    /// The limit itself is invited and read; one octet more is refused from the head; a chunked
    /// body, whose length nothing declares, is invited and refused once it passes the limit.
    func testOnlyADeclaredLengthOverTheLimitIsRefusedBeforeReading() throws {
        let server = try TestServer(ServerOptions(), handler: Self.handler)
        let client = try TestClient(port: server.port)
        try client.send(head(length: Self.limit, expect: true))
        XCTAssertEqual(try client.readResponse().status, 100)
        try client.send(pattern(0, Self.limit))
        let accepted = try client.readResponse()
        XCTAssertEqual(accepted.status, 200)
        XCTAssertEqual(accepted.text, "\(Self.limit)")
        XCTAssertNil(accepted.header("connection"))

        try assertRefusedFromTheHead(server, head(length: Self.limit + 1, expect: true))

        let chunked = try TestClient(port: server.port)
        try chunked.send(
            "POST /up HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n")
        XCTAssertEqual(try chunked.readResponse().status, 100, "nothing says the chunked body is too long")
        try chunked.send(
            Array(String(Self.limit + 1, radix: 16).utf8) + [13, 10] + pattern(0, Self.limit + 1) + [13, 10])
        XCTAssertEqual(try readLastResponse(chunked).status, 413)
    }
}
