import Stepwise
import XCTest

/// A response framed by `content-length` is complete once that many octets are written (RFC 9112
/// §6.3), before the handler ends its stream: the next pipelined request is served at once, and
/// the handler's late empty end changes nothing.
final class ContentLengthEndTests: XCTestCase {
    func testTheNextRequestIsServedBeforeTheHandlerEndsItsStream() throws {
        let helloServed = Locked(false)
        let lateEnd = Locked<String?>(nil)
        let server = try startServer(
            handler: .task { stream in
                guard let request = try await stream.getHeaders(timeout: 5) else { return }
                var headers = Headers()
                headers.append(":status", "200")
                headers.append("content-length", "5")
                switch request.first(":path") {
                case "/late-end":
                    try await stream.writeHeaders(headers, endStream: false, timeout: 5)
                    try await stream.writeChunk(Array("early".utf8), endStream: false, timeout: 5)
                    // Only once the next request was served: were this response not complete
                    // yet, that request would wait for it, and this wait would time out.
                    var waited = 0
                    while !helloServed.withLock({ $0 }) && waited < 250 {
                        try await stream.reactor.sleep(seconds: 0.02)
                        waited += 1
                    }
                    do {
                        try await stream.writeChunk([], endStream: true, timeout: 5)
                        lateEnd.withLock { $0 = helloServed.withLock { $0 } ? "ended after /hello" : "timed out" }
                    } catch {
                        lateEnd.withLock { $0 = "threw \(error)" }
                    }
                default:
                    try await stream.writeHeaders(headers, endStream: false, timeout: 5)
                    try await stream.writeChunk(Array("hello".utf8), endStream: true, timeout: 5)
                    helloServed.withLock { $0 = true }
                }
            })
        let client = try TestClient(port: server.port)
        try client.send(get("/late-end") + get("/hello"))
        XCTAssertEqual(try client.readResponse().text, "early")
        XCTAssertEqual(try client.readResponse().text, "hello")
        XCTAssertTrue(waitUntil { lateEnd.withLock { $0 } != nil })
        XCTAssertEqual(lateEnd.withLock { $0 }, "ended after /hello")
        // The connection goes on.
        XCTAssertEqual(try client.exchange(get("/hello")).text, "hello")
    }
}
