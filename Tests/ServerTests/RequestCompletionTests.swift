import Stepwise
import XCTest

/// When the server considers a request read: a request without a body is complete with its head.
final class RequestCompletionTests: XCTestCase {
    /// A request without a body is complete when its handler runs: a callback handler's read of
    /// the body ends at once, and an answer written there finishes the exchange, so pipelined
    /// requests are served in one go. A request with a body is not complete before its body.
    func testABodilessRequestIsCompleteWhenItsHandlerRuns() throws {
        let endedAtOnce = Locked<[String: Bool]>([:])
        let server = try startServer(
            handler: .callback { stream in
                let path = (stream as? H1Stream)?.requestHead?.path ?? "?"
                var ended = false
                stream.getNextChunk(timeout: 5) { result in
                    if case .success(nil) = result { ended = true }
                }
                endedAtOnce.withLock { $0[path] = ended }
                var headers = Headers()
                headers.append(":status", "200")
                headers.append("content-length", String(path.utf8.count))
                try stream.writeHeaders(headers, endStream: false)
                try stream.writeChunk(path, endStream: true)
            })
        let client = try TestClient(port: server.port)
        try client.send(
            get("/a") + "POST /b HTTP/1.1\r\nHost: test\r\nContent-Length: 2\r\n\r\nok" + get("/c")
                + get("/d", "Connection: close"))
        let texts = try (0..<3).map { _ in try client.readResponse().text }
        XCTAssertEqual(texts, ["/a", "/b", "/c"])
        XCTAssertEqual(try readLastResponse(client).text, "/d")
        XCTAssertEqual(endedAtOnce.withLock { $0 }, ["/a": true, "/b": false, "/c": true, "/d": true])
    }
}
