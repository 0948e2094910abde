import Stepwise
import XCTest

/// Writes that come after a response's head or its end: an interim response after the final
/// head is refused (RFC 9110 §15.2), not taken for trailers that end the body, and a stray write
/// after a complete closing response does not drop that response.
final class WritesAfterTheResponseTests: XCTestCase {
    private static func headers(_ pairs: [(String, String)]) -> Headers {
        var headers = Headers()
        for (name, value) in pairs { headers.append(name, value) }
        return headers
    }

    /// A handler that writes `head`, then a 103, then "hello" ending the body; `seen` says what
    /// was refused.
    private func interimAfterHead(_ head: [(String, String)], seen: Locked<String>) -> Server.Handler {
        .task { stream in
            _ = try await stream.getHeaders(timeout: 5)
            try stream.writeHeaders(Self.headers(head), endStream: false)
            do {
                try stream.writeHeaders(
                    Self.headers([(":status", "103"), ("link", "</s.css>; rel=preload")]), endStream: false)
                seen.withLock { $0 += "103 accepted; " }
            } catch {
                seen.withLock { $0 += "103 refused: \(error); " }
            }
            do {
                try stream.writeChunk("hello", endStream: true)
            } catch {
                seen.withLock { $0 += "body refused: \(error)" }
            }
        }
    }

    /// Content-length framing: a 103 after the head is refused, and the response completes (it
    /// was taken for trailers that ended the body 5 octets short, which aborted the connection).
    func testInterimAfterContentLengthHeadIsRefusedWithoutKillingTheResponse() throws {
        let seen = Locked<String>("")
        let server = try startServer(
            handler: interimAfterHead([(":status", "200"), ("content-length", "5")], seen: seen))
        let client = try TestClient(port: server.port)
        let response = try? client.exchange(get("/"))
        XCTAssertEqual(response?.status, 200, seen.withLock { $0 })
        XCTAssertEqual(response.map { String(decoding: $0.body, as: UTF8.self) }, "hello", seen.withLock { $0 })
        XCTAssertFalse(seen.withLock { $0 }.contains("body refused"), seen.withLock { $0 })
    }

    /// HTTP/1.0 (read until close): a 103 after the head no longer ends the response silently,
    /// leaving the client an empty 200.
    func testInterimAfterHeadToHTTP10DoesNotEndTheResponse() throws {
        let seen = Locked<String>("")
        let server = try startServer(handler: interimAfterHead([(":status", "200")], seen: seen))
        let client = try TestClient(port: server.port)
        try client.send(get("/", version: "HTTP/1.0"))
        let raw = String(decoding: try client.readUntilClosed(), as: UTF8.self)
        XCTAssertTrue(raw.hasSuffix("\r\n\r\nhello"), "wire: \(raw.debugDescription); handler: " + seen.withLock { $0 })
    }

    /// A write refused after a complete response that closes the connection (`connection:
    /// close`, HTTP/1.0) leaves that response to be delivered (RFC 9112 §9.6).
    func testStrayWriteAfterCompleteClosingResponseDoesNotDropIt() throws {
        let seen = Locked<String>("")
        let server = try startServer(
            handler: .task { stream in
                _ = try await stream.getHeaders(timeout: 5)
                var headers = Headers()
                headers.append(":status", "200")
                headers.append("connection", "close")
                try stream.writeMessage(headers, body: "hello")
                do {
                    try stream.writeChunk("extra", endStream: true)
                    seen.withLock { $0 = "extra accepted" }
                } catch {
                    seen.withLock { $0 = "extra refused: \(error)" }
                }
            })
        let client = try TestClient(port: server.port)
        try client.send(get("/"))
        let raw = String(decoding: try client.readUntilClosed(), as: UTF8.self)
        XCTAssertTrue(raw.hasSuffix("\r\n\r\nhello"), "wire: \(raw.debugDescription); handler: " + seen.withLock { $0 })
    }
}
