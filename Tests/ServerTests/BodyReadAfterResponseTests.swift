import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A handler that answers first and reads the request body afterwards: once the response is
/// complete the connection drops the rest of the body (keep-alive) or closes (`connection:
/// close`), and the reader is told, rather than given a shorter body as the whole or left waiting.
final class BodyReadAfterResponseTests: XCTestCase {
    /// A handler that answers first (a 202 for an upload it then stores) and reads the request
    /// body afterwards, before `shutdown`: the body it gets must be the one sent, or an error —
    /// not a shorter body presented as complete.
    func testABodyReadAfterTheResponseIsNotSilentlyTruncated() throws {
        let seen = Locked<String?>(nil)
        let server = try startServer(
            handler: .task { stream in
                _ = try await stream.getHeaders(timeout: 5)
                var headers = Headers()
                headers.append(":status", "202")
                try stream.writeMessage(headers, body: "accepted")
                do {
                    let body = try await stream.getBodyAsBytes(timeout: 2)
                    seen.withLock { $0 = "read \(String(decoding: body, as: UTF8.self))" }
                } catch {
                    seen.withLock { $0 = "threw \(error)" }
                }
            })
        let client = try TestClient(port: server.port)
        try client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabcde")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 202)
        try client.send("fghij")
        XCTAssertTrue(waitUntil { seen.withLock { $0 } != nil })
        let result = try XCTUnwrap(seen.withLock { $0 })
        if result.hasPrefix("read ") {
            XCTAssertEqual(result, "read abcdefghij", "a body returned as complete must be the whole body")
        } else {
            XCTAssertTrue(result.contains("discarded"), result)
        }
    }

    /// The same with a response that closes the connection (`connection: close`): the connection
    /// lingers and drops the input, and the reader is never told — it waits out its whole timeout
    /// (for ever without one), though the body arrived.
    func testABodyReadAfterAClosingResponseDoesNotHang() throws {
        let seen = Locked<String?>(nil)
        let server = try startServer(
            handler: .task { stream in
                _ = try await stream.getHeaders(timeout: 5)
                var headers = Headers()
                headers.append(":status", "202")
                headers.append("connection", "close")
                try stream.writeMessage(headers, body: "accepted")
                let started = MonotonicClock.seconds()
                do {
                    let body = try await stream.getBodyAsBytes(timeout: 3)
                    seen.withLock { $0 = "read \(String(decoding: body, as: UTF8.self))" }
                } catch {
                    let waited = MonotonicClock.seconds() - started
                    seen.withLock { $0 = "threw \(error) after \(waited >= 2.9 ? "the whole timeout" : "\(waited) s")" }
                }
            })
        let client = try TestClient(port: server.port)
        try client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabcde")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 202)
        try client.send("fghij")
        XCTAssertTrue(waitUntil(within: 10) { seen.withLock { $0 } != nil })
        let result = try XCTUnwrap(seen.withLock { $0 })
        XCTAssertFalse(result.hasSuffix("after the whole timeout"), result)
        if result.hasPrefix("read ") { XCTAssertEqual(result, "read abcdefghij") }
        XCTAssertTrue(result.contains("connection closed"), result)
    }
}
