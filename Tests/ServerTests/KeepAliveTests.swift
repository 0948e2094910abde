import Stepwise
import XCTest

/// Connection persistence: HTTP/1.0 and 1.1 keep-alive, pipelining, HEAD framing.
final class KeepAliveTests: XCTestCase {
    func testHTTP10ClosesByDefault() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        let response = try client.exchange(get("/hello", version: "HTTP/1.0"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "hello\n")
        XCTAssertEqual(response.header("content-length"), "6")
        // Our status line says HTTP/1.1, so the close is announced (RFC 9112 §9.3, §9.6).
        XCTAssertEqual(response.header("connection"), "close")
        XCTAssertEqual(try client.readUntilClosed(), [])
    }

    func testHTTP10KeepAlivePersists() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        for number in 1...3 {
            let response = try client.exchange(get("/hello", version: "HTTP/1.0", "Connection: keep-alive"))
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.header("connection"), "keep-alive")
            XCTAssertEqual(response.header("x-request-number"), String(number))
            XCTAssertEqual(response.header("x-peer-port"), String(client.localPort))
        }
        // Without keep-alive the last one closes.
        let last = try client.exchange(get("/hello", version: "HTTP/1.0"))
        XCTAssertEqual(last.header("x-request-number"), "4")
        XCTAssertEqual(last.header("connection"), "close")
        XCTAssertEqual(try client.readUntilClosed(), [])
    }

    func testHTTP11KeepAliveServesManyRequestsOnOneConnection() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        for number in 1...5 {
            let response = try client.exchange(get("/hello"))
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.text, "hello\n")
            XCTAssertNil(response.header("connection"))
            XCTAssertNotNil(response.header("date"))
            XCTAssertEqual(response.header("x-request-number"), String(number))
            XCTAssertEqual(response.header("x-peer-port"), String(client.localPort))
        }
        try client.send(get("/hello", "Connection: close"))
        XCTAssertEqual(try readLastResponse(client).header("x-request-number"), "6")
        // A second connection is counted on its own.
        let other = try TestClient(port: server.port)
        XCTAssertEqual(try other.exchange(get("/hello")).header("x-request-number"), "1")
    }

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        let body = "pipelined body"
        try client.send(
            get("/slow?seconds=0.1") + "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                + body + get("/stream"))
        let first = try client.readResponse()
        let second = try client.readResponse()
        let third = try client.readResponse()
        XCTAssertEqual([first.status, second.status, third.status], [200, 200, 200])
        XCTAssertEqual(first.text, "slow\n")
        XCTAssertEqual(second.text, body)
        XCTAssertEqual(third.text, "one two three ")
        XCTAssertEqual(
            [first, second, third].map { $0.header("x-request-number") }, ["1", "2", "3"])
        XCTAssertTrue(try client.staysSilent(for: 0.1))
    }

    func testNothingAfterARequestWithConnectionCloseIsServed() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        try client.send(get("/hello", "Connection: close") + get("/hello"))
        XCTAssertEqual(try readLastResponse(client).status, 200)
    }

    func testHalfClosedClientStillGetsItsResponse() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        try client.send(get("/slow?seconds=0.1"))
        client.shutdownWrite()
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "slow\n")
        XCTAssertEqual(try client.readUntilClosed(), [])
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 })
    }

    func testHeadHasHeadersButNoBody() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        try client.send("HEAD /hello HTTP/1.1\r\nHost: test\r\n\r\n")
        let head = try client.readResponse(head: true)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("content-length"), "6")
        // Had the body been sent, it would precede this response's status line.
        let next = try client.exchange(get("/hello"))
        XCTAssertEqual(next.status, 200)
        XCTAssertEqual(next.header("x-request-number"), "2")
        XCTAssertEqual(next.text, "hello\n")
        // HEAD of a response written without content-length: no chunked framing, no body.
        try client.send("HEAD /stream HTTP/1.1\r\nHost: test\r\n\r\n")
        let streamed = try client.readResponse(head: true)
        XCTAssertEqual(streamed.status, 200)
        XCTAssertTrue(try client.staysSilent(for: 0.2))
        XCTAssertEqual(try client.exchange(get("/hello")).text, "hello\n")
    }
}
