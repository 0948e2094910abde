import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The callback form of `getBodyAsString`, used by a `.callback` handler: a body arriving in
/// several pieces, the limit, the deadline, and a connection lost mid-body.
final class BodyCallbackTests: XCTestCase {
    /// A handler that reads the body with the callback `getBodyAsString(limit: 16, timeout: 0.5)`,
    /// answers 200 with it or 413/500 with the error, and records every outcome.
    private func startReader(_ outcomes: Locked<[Result<String, any Error>]>) throws -> TestServer {
        try startServer(
            handler: .callback { stream in
                stream.getBodyAsString(limit: 16, timeout: 0.5) { result in
                    outcomes.withLock { $0.append(result) }
                    var headers = Headers()
                    let body: String
                    switch result {
                    case .success(let text):
                        headers.append(":status", "200")
                        body = text
                    case .failure(let error):
                        headers.append(":status", (error as? HTTPStreamError)?.status.map(String.init) ?? "500")
                        body = "\(error)"
                    }
                    headers.append("content-length", String(body.utf8.count))
                    try? stream.writeHeaders(headers, endStream: false)
                    try? stream.writeChunk(body, endStream: true)
                }
            })
    }

    func testABodyInSeveralPieces() throws {
        let outcomes = Locked<[Result<String, any Error>]>([])
        let server = try startReader(outcomes)
        let client = try TestClient(port: server.port)
        try client.send("POST /b HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n")
        for piece in ["one ", "two ", "three"] {
            usleep(20_000)
            try client.send(String(piece.utf8.count, radix: 16) + "\r\n" + piece + "\r\n")
        }
        try client.send("0\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "one two three")
        XCTAssertEqual(try outcomes.withLock { try $0.map { try $0.get() } }, ["one two three"])
    }

    func testTheLimitExceeded() throws {
        let outcomes = Locked<[Result<String, any Error>]>([])
        let server = try startReader(outcomes)
        let client = try TestClient(port: server.port)
        try client.send("POST /b HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n")
        try client.send("a\r\n0123456789\r\n")
        usleep(20_000)
        try client.send("a\r\n0123456789\r\n0\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(response.text, "body larger than 16 bytes")
        XCTAssertEqual(outcomes.withLock { $0.count }, 1)
    }

    func testTheDeadline() throws {
        let outcomes = Locked<[Result<String, any Error>]>([])
        let server = try startReader(outcomes)
        let client = try TestClient(port: server.port)
        let started = MonotonicClock.seconds()
        try client.send("POST /b HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nabc")
        let response = try client.readResponse()
        let elapsed = MonotonicClock.seconds() - started
        XCTAssertEqual(response.status, 500)
        XCTAssertEqual(response.text, "getNextChunk: timed out")
        XCTAssertTrue((0.45...3).contains(elapsed), "answered after \(elapsed) s")
    }

    func testAConnectionLostMidBody() throws {
        let outcomes = Locked<[Result<String, any Error>]>([])
        let server = try startReader(outcomes)
        let client = try TestClient(port: server.port)
        try client.send("POST /b HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nabc")
        usleep(20_000)
        client.close()
        XCTAssertTrue(waitUntil { outcomes.withLock { !$0.isEmpty } })
        guard case .failure(let failure)? = outcomes.withLock({ $0.first }) else { return XCTFail("no failure") }
        XCTAssertEqual(
            failure as? HTTPStreamError, .connectionClosed("in the middle of the request body"), "\(failure)")
    }
}
