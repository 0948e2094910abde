import Stepwise
import XCTest

final class TrailersBeforeBodyTests: XCTestCase {
    /// `getHeaders` after the request head returns the trailers (or nil at the end). Before a body
    /// above `maxBufferedBody` was read, the connection has stopped reading and they cannot come:
    /// it says so at once instead of waiting out its timeout. Read afterwards, they are there.
    func testTrailersAskedForBeforeALargeBodyAreRefusedAtOnceAndReachableAfterIt() throws {
        let seen = Locked<String?>(nil)
        let server = try startServer(
            handler: .task { stream in
                _ = try await stream.getHeaders(timeout: 5)
                let started = MonotonicClock.seconds()
                do {
                    _ = try await stream.getHeaders(timeout: 2)
                    seen.withLock { $0 = "trailers before the body" }
                } catch {
                    let waited = MonotonicClock.seconds() - started
                    seen.withLock { $0 = waited < 1 ? "refused" : "waited \(waited) s: \(error)" }
                }
                let body = try await stream.getBodyAsBytes(timeout: 5)
                let trailers = try await stream.getHeaders(timeout: 2)
                seen.withLock { $0! += ", \(body.count) octets, trailers \(trailers?.first("x-sum") ?? "nil")" }
                var headers = Headers()
                headers.append(":status", "200")
                try stream.writeMessage(headers, body: "ok")
            })
        let client = try TestClient(port: server.port)
        let size = 300 * 1024
        try client.send(
            Array("POST /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
                + Array("\(String(size, radix: 16))\r\n".utf8) + pattern(0, size)
                + Array("\r\n0\r\nx-sum: 42\r\n\r\n".utf8))
        _ = try client.readResponse()
        XCTAssertEqual(seen.withLock { $0 }, "refused, \(size) octets, trailers 42")
    }
}
