import Stepwise
import XCTest

/// A client that sends part of a declared body, then nothing: the handler's read times out, and
/// when the handler ends without answering (rethrowing the timeout or not), the request is
/// answered 408 and the connection closes after it, rather than 503 and a drain of a body that is
/// not coming. RFC 9110 §15.5.9: 408 (Request Timeout) "indicates that the server did not
/// receive a complete request message within the time that it was prepared to wait".
final class StalledBodyTimeoutTests: XCTestCase {
    /// Declares ten octets and sends five.
    private let stalledPost = "POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n01234"

    private func assertAnswered408AndClosed(_ server: TestServer, file: StaticString = #filePath, line: UInt = #line)
        throws
    {
        let client = try TestClient(port: server.port)
        try client.send(stalledPost)
        let response = try client.readResponse(within: 5)
        XCTAssertEqual(response.status, 408, file: file, line: line)
        XCTAssertEqual(response.header("connection"), "close", file: file, line: line)
        // Closed after it, without waiting for the rest of the body.
        XCTAssertEqual(try client.readUntilClosed(within: 5), [], file: file, line: line)
    }

    func testATaskHandlerThatRethrowsItsBodyReadTimeoutGets408AndAClose() throws {
        let server = try TestServer(
            ServerOptions(),
            handler: .task { stream in
                _ = try await stream.getBodyAsBytes(timeout: 0.2)
                var response = Headers()
                response.append(":status", "200")
                try stream.writeMessage(response, body: [])
            })
        try assertAnswered408AndClosed(server)
        // The timeout still reached onError.
        let errors = server.errors.withLock { $0 }
        XCTAssertEqual(errors.count, 1)
        guard case .handler(_, _, let error)? = errors.first, case ReactorError.timedOut? = error as? ReactorError
        else {
            return XCTFail("\(errors)")
        }
    }

    func testATaskHandlerThatReturnsWithoutAnsweringAfterTheTimeoutGets408() throws {
        let server = try TestServer(
            ServerOptions(),
            handler: .task { stream in
                do {
                    while try await stream.getNextChunk(timeout: 0.2) != nil {}
                } catch ReactorError.timedOut {
                    return
                }
            })
        try assertAnswered408AndClosed(server)
    }

    func testACallbackHandlerThatShutsDownAfterTheTimeoutGets408() throws {
        let server = try TestServer(
            ServerOptions(),
            handler: .callback { stream in
                stream.getBodyAsBytes(timeout: 0.2) { result in
                    if case .failure = result { stream.shutdown() }
                }
            })
        try assertAnswered408AndClosed(server)
    }

    /// A read that timed out while the body kept coming afterwards leaves a whole request: the
    /// usual 503 on a kept connection.
    func testATimeoutFollowedByTheWholeBodyKeepsThe503() throws {
        let server = try TestServer(
            ServerOptions(),
            handler: .task { stream in
                do {
                    _ = try await stream.getBodyAsBytes(timeout: 0.2)
                } catch ReactorError.timedOut {
                    // The rest arrives meanwhile, and is read to its end.
                    _ = try await stream.getBodyAsBytes(timeout: 5)
                }
            })
        let client = try TestClient(port: server.port)
        try client.send(stalledPost)
        XCTAssertTrue(try client.staysSilent(for: 0.4))
        try client.send("56789")
        XCTAssertEqual(try client.readResponse(within: 5).status, 503)
        XCTAssertEqual(try client.exchange(get("/again")).status, 503, "the same connection")
    }
}
