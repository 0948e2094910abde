import Stepwise
import XCTest

/// `ServerOptions.version`: a server pinned to HTTP/1.0 answers as one; HTTP/2 is refused.
final class VersionPinTests: XCTestCase {
    /// The same `Headers` value every time, so that from the second use the head is prepared
    /// (serialized once, `H1ResponseHeadCache`): the pinned version must reach that path too.
    private static let fixedHead: Headers = {
        var headers = Headers()
        headers.append(":status", "200")
        headers.append("content-type", "text/plain")
        return headers
    }()

    /// `/fixed`: a whole message with `fixedHead`; `/stream`: a body of unknown length;
    /// `/continue`: writes `100 Continue` (refused on HTTP/1.0), then answers with what it got.
    private static let handler = Server.Handler.task { stream in
        let request = try await stream.getHeaders(timeout: 10)
        switch request?.first(":path") {
        case "/stream":
            var headers = Headers()
            headers.append(":status", "200")
            try await stream.writeHeaders(headers, endStream: false, timeout: 10)
            try await stream.writeChunk(Array("one ".utf8), endStream: false, timeout: 10)
            try await stream.writeChunk(Array("two".utf8), endStream: true, timeout: 10)
        case "/continue":
            var refused = "sent"
            do { try await stream.writeContinue(timeout: 10) } catch { refused = "refused" }
            let body = try await stream.getBodyAsString(timeout: 10)
            var headers = Headers()
            headers.append(":status", "200")
            try stream.writeMessage(headers, body: Array("\(refused) \(body)".utf8))
        default:
            try stream.writeMessage(fixedHead, body: Array("fixed".utf8))
        }
    }

    private func pinnedServer() throws -> TestServer {
        var options = ServerOptions()
        options.version = .http10
        return try TestServer(options, handler: Self.handler)
    }

    func testAnHTTP11RequestIsAnsweredAsHTTP10AndKeptAliveSaidSo() throws {
        let server = try pinnedServer()
        let client = try TestClient(port: server.port)
        for _ in 0..<3 {  // the second and third from the prepared head
            let response = try client.exchange(get("/fixed"))
            XCTAssertEqual(response.version, "HTTP/1.0")
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.text, "fixed")
            // RFC 9112 §9.3: an HTTP/1.0 response persists only when it says keep-alive.
            XCTAssertEqual(response.header("connection"), "keep-alive")
        }
    }

    func testABodyOfUnknownLengthIsNotChunkedButEndsWithTheConnection() throws {
        let server = try pinnedServer()
        let client = try TestClient(port: server.port)
        let response = try client.exchange(get("/stream"))
        XCTAssertEqual(response.version, "HTTP/1.0")
        XCTAssertNil(response.header("transfer-encoding"))
        XCTAssertEqual(response.header("connection"), "close")
        XCTAssertEqual(response.text, "one two")
        XCTAssertTrue(client.isClosed)
    }

    func testAnHTTP10RequestWithoutKeepAliveIsClosed() throws {
        let server = try pinnedServer()
        let client = try TestClient(port: server.port)
        let response = try client.exchange(get("/fixed", version: "HTTP/1.0"))
        XCTAssertEqual(response.version, "HTTP/1.0")
        XCTAssertEqual(response.text, "fixed")
        XCTAssertEqual(try client.readUntilClosed(), [])
    }

    func testNoInterimResponsesAndRejectionsSayHTTP10() throws {
        let server = try pinnedServer()
        let client = try TestClient(port: server.port)
        try client.send("POST /continue HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        XCTAssertTrue(try client.staysSilent(for: 0.1), "no 100 Continue from an HTTP/1.0 server")
        try client.send("body")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "refused body")

        let rejected = try TestClient(port: server.port).exchange("GARBAGE\r\n\r\n")
        XCTAssertEqual(rejected.version, "HTTP/1.0")
        XCTAssertEqual(rejected.status, 400)
    }

    func testAnUnpinnedServerAnswersHTTP11() throws {
        let server = try TestServer(ServerOptions(), handler: Self.handler)
        let response = try TestClient(port: server.port).exchange(get("/fixed", version: "HTTP/1.0"))
        XCTAssertEqual(response.version, "HTTP/1.1", "RFC 9110 §6.2: the highest version with the request's major")
    }

    func testHTTP2CannotBePinned() {
        var options = ServerOptions()
        options.version = .http2
        XCTAssertThrowsError(try Server(options: options, handler: .callback { _ in })) { error in
            XCTAssertEqual(error as? ServerOptionsError, .unsupportedVersion(.http2))
        }
    }
}
