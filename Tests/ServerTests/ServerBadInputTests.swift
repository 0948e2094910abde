import Stepwise
import XCTest

/// Bad input end to end on a server: two differing `Content-Length` fields, a request line that
/// is not one, and bare LF line ends (rejected: the codec accepts CRLF only, see
/// `HTTP1HeadScanner`). Each gets its exact status and the close, answers nothing that follows
/// it, and leaves the server serving other connections.
final class ServerBadInputTests: XCTestCase {
    /// Sends `request` on a connection of its own, followed by a well-formed request that must not
    /// be answered; returns the one response (which must announce and do the close).
    private func rejected(_ server: TestServer, _ request: String, _ what: String) throws -> TestResponse {
        let client = try TestClient(port: server.port)
        try client.send(request + get("/hello"))
        let response = try readLastResponse(client, what)
        // Another connection is served normally.
        XCTAssertEqual(try TestClient(port: server.port).exchange(get("/hello")).text, "hello\n", what)
        return response
    }

    /// The parse errors the server reported, in order.
    private func rejections(_ server: TestServer) -> [HTTP1ParseError] {
        server.errors.withLock { $0.compactMap { if case .rejectedRequest(_, let e) = $0 { e } else { nil } } }
    }

    func testDifferingContentLengthsAre400() throws {
        let server = try startServer()
        let twoFields = try rejected(
            server, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            "two fields")
        XCTAssertEqual(twoFields.status, 400)
        let oneList = try rejected(
            server, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4, 3\r\n\r\nabcd", "one list")
        XCTAssertEqual(oneList.status, 400)
        XCTAssertEqual(
            rejections(server), [.conflictingContentLengths("3", "4"), .conflictingContentLengths("4", "3")])
    }

    func testGarbageRequestLineIs400() throws {
        let server = try startServer()
        let response = try rejected(server, "GARBAGE\r\n\r\n", "GARBAGE")
        XCTAssertEqual(response.status, 400)
        // A line without SP: rejected as an invalid method.
        let errors = rejections(server)
        XCTAssertEqual(errors.count, 1)
        guard case .invalidMethod(let method)? = errors.first else { return XCTFail("\(errors)") }
        XCTAssertTrue(method.hasPrefix("GARBAGE"), method)
    }

    func testBareLFLineEndsAre400() throws {
        let server = try startServer()
        let cases = [
            ("every line", "GET /hello HTTP/1.1\nHost: t\n\n"),
            ("the request line", "GET /hello HTTP/1.1\nHost: t\r\n\r\n"),
            ("a field line", "GET /hello HTTP/1.1\r\nHost: t\nX-A: b\r\n\r\n"),
            ("the end of the head", "GET /hello HTTP/1.1\r\nHost: t\r\n\n"),
        ]
        for (what, request) in cases {
            XCTAssertEqual(try rejected(server, request, what).status, 400, what)
        }
        XCTAssertEqual(rejections(server), Array(repeating: .bareLF, count: cases.count))
    }

    func testBareLFInAChunkSizeLineFailsTheBodyWith400() throws {
        let server = try startServer()
        // The head is fine, so the handler runs; its read of the body fails and the stream's
        // shutdown answers 400 with the close.
        let response = try rejected(
            server, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
            "chunk size line")
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(rejections(server), [])
    }

    func testAChunkSizeOfMoreThan16HexDigitsFailsTheBodyWith400() throws {
        // RFC 9112 §7.1: "Recipients MUST anticipate potentially large hexadecimal numerals and
        // prevent parsing errors due to integer conversion overflows". Sixteen digits fit a
        // UInt64 and leading zeros count: a seventeenth is refused, not wrapped or read on for ever.
        let server = try startServer()
        let head = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        let sixteen = try TestClient(port: server.port).exchange(head + "0000000000000005\r\nhello\r\n0\r\n\r\n")
        XCTAssertEqual(sixteen.text, "hello")
        for size in ["00000000000000005", "10000000000000000"] {
            let response = try rejected(server, head + size + "\r\nhello\r\n0\r\n\r\n", size)
            XCTAssertEqual(response.status, 400, size)
        }
    }
}
