import Stepwise
import XCTest

/// A handler that lets a body helper's error end it: the request is answered with the error's
/// status (413 past the limit), not 503, and the connection closes after it. The limit a helper
/// uses without one is the server's `http1.bodyLimit`.
final class HandlerErrorStatusTests: XCTestCase {
    /// Reads the whole body with the helper's default limit and answers 200 with its size.
    private static let readWholeBody = Server.Handler.task { stream in
        _ = try await stream.getHeaders(timeout: 10)
        let body = try await stream.getBodyAsBytes(timeout: 10)
        var response = Headers()
        response.append(":status", "200")
        try stream.writeMessage(response, body: Array("\(body.count)".utf8))
    }

    private func server(bodyLimit: Int, handler: Server.Handler = readWholeBody) throws -> TestServer {
        var options = ServerOptions()
        options.http1.bodyLimit = bodyLimit
        return try TestServer(options, handler: handler)
    }

    private func post(_ body: String) -> String {
        "POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    func testABodyOverTheServersLimitIsAnswered413AndTheConnectionCloses() throws {
        let server = try server(bodyLimit: 8)
        let client = try TestClient(port: server.port)
        let response = try client.exchange(post("0123456789"))
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(response.header("connection"), "close")
        XCTAssertEqual(try client.readUntilClosed(), [])
        // The error still reached onError, and the server serves on.
        XCTAssertEqual(server.errors.withLock { $0.count }, 1)
        XCTAssertEqual(try TestClient(port: server.port).exchange(post("01234567")).text, "8")
    }

    func testACallsOwnLimitWinsOverTheServers() throws {
        let handler = Server.Handler.task { stream in
            _ = try await stream.getHeaders(timeout: 10)
            let body = try await stream.getBodyAsString(limit: 4, timeout: 10)
            var response = Headers()
            response.append(":status", "200")
            try stream.writeMessage(response, body: Array(body.utf8))
        }
        let server = try server(bodyLimit: 1 << 20, handler: handler)
        XCTAssertEqual(try TestClient(port: server.port).exchange(post("abcd")).text, "abcd")
        XCTAssertEqual(try TestClient(port: server.port).exchange(post("abcde")).status, 413)
    }

    func testACallbackHandlersThrownStatusErrorIsAnsweredWithItsStatus() throws {
        let handler = Server.Handler.callback { _ in throw HTTPStreamError.bodyTooLarge(limit: 1) }
        let server = try TestServer(ServerOptions(), handler: handler)
        XCTAssertEqual(try TestClient(port: server.port).exchange(post("xy")).status, 413)
    }

    func testOtherHandlerErrorsStill503AndKeepTheConnection() throws {
        let server = try TestServer(ServerOptions(), handler: .callback { _ in throw TestError("no") })
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try client.exchange(post("xy")).status, 503)
        XCTAssertEqual(try client.exchange(post("xy")).status, 503, "the same connection")
    }
}
