import Stepwise
import TestSupport
import XCTest

/// Invalid requests and failing handlers: exact statuses, closes, a usable server afterwards.
final class ErrorTests: XCTestCase {
    func testInvalidRequestsGetExactStatusesAndClose() throws {
        let server = try startServer()
        let manyFields = (0..<101).map { "X-Field-\($0): v\r\n" }.joined()
        let hugeField = "X-Huge: " + String(repeating: "h", count: 65 * 1024) + "\r\n"
        let cases: [(String, Int, String)] = [
            ("content-length not a number", 400, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n"),
            // RFC 9112 §6.3 item 5: a Content-Length that cannot be parsed (here one past
            // UInt64.max, 2^64, and one of 30 digits) is unrecoverable: 400, not a wrapped length.
            (
                "content-length of 2^64", 400,
                "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 18446744073709551616\r\n\r\n"
            ),
            (
                "content-length of 30 digits", 400,
                "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: \(String(repeating: "9", count: 30))\r\n\r\n"
            ),
            (
                "content-length with transfer-encoding", 400,
                "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            ),
            ("unknown transfer coding", 501, "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: foo, chunked\r\n\r\n"),
            ("9 KiB request target", 414, get("/" + String(repeating: "a", count: 9 * 1024))),
            ("101 header fields", 431, "GET / HTTP/1.1\r\nHost: t\r\n" + manyFields + "\r\n"),
            ("header block over 64 KiB", 431, "GET / HTTP/1.1\r\nHost: t\r\n" + hugeField + "\r\n"),
            ("HTTP/2.0 request line", 505, "GET / HTTP/2.0\r\nHost: t\r\n\r\n"),
            ("HTTP/1.1 without Host", 400, "GET / HTTP/1.1\r\n\r\n"),
            ("whitespace before a colon", 400, "GET / HTTP/1.1\r\nHost: t\r\nX-Bad : v\r\n\r\n"),
        ]
        for (what, status, request) in cases {
            let client = try TestClient(port: server.port)
            try client.send(request)
            XCTAssertEqual(try readLastResponse(client, what).status, status, what)
            // Another connection is served normally.
            XCTAssertEqual(try TestClient(port: server.port).exchange(get("/hello")).status, 200, what)
        }
        XCTAssertEqual(
            server.errors.withLock {
                $0.compactMap { if case .rejectedRequest(_, let e) = $0 { e.status } else { nil } }
            },
            cases.map { $0.1 })
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 })

        // Idle after all that, the server thread sleeps (lua-http spins at 100% here).
        XCTAssertLessThan(cpuSeconds { usleep(500_000) }, 0.2)
    }

    func testRejectedRequestLeavesNoSpinWhileTheClientStaysConnected() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        // The client keeps sending after the 400 and never closes: the server lingers, dropping input.
        let response = try client.exchange("GET / HTTP/1.1\r\nHost: t\r\nX-Bad : v\r\n\r\n")
        XCTAssertEqual(response.status, 400)
        try client.send(get("/hello"))
        XCTAssertLessThan(cpuSeconds { usleep(500_000) }, 0.2)
        XCTAssertEqual(try client.readUntilClosed(), [])
    }

    func testUnansweredRequestGets503AndTheConnectionStaysUsable() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        let response = try client.exchange(get("/silent"))
        XCTAssertEqual(response.status, 503)
        XCTAssertNil(response.header("connection"))
        XCTAssertEqual(response.text, "503 Service Unavailable\n")
        let next = try client.exchange(get("/hello"))
        XCTAssertEqual(next.status, 200)
        XCTAssertEqual(next.header("x-request-number"), "2")
        XCTAssertTrue(server.errors.withLock { $0.isEmpty })
    }

    func testUnansweredRequestWithUnreadBodyIsDrained() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        let body = String(repeating: "x", count: 100_000)
        let response = try client.exchange(
            "POST /silent HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(try client.exchange(get("/hello")).header("x-request-number"), "2")
        // That body arrived with its head and was buffered whole: nothing was left to drain. Sent
        // after the answer, the connection has to read and drop it before the next request.
        try client.send("POST /silent HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 503)
        try client.send(body + get("/hello"))
        XCTAssertEqual(try client.readResponse().header("x-request-number"), "4")
    }

    func testThrowingHandlerGets503AndIsReported() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try client.exchange(get("/throw")).status, 503)
        XCTAssertEqual(try client.exchange(get("/hello")).status, 200)
        let reported = server.errors.withLock { errors in
            errors.map { error -> String in
                guard case .handler(_, let request, let thrown) = error else { return "\(error)" }
                return "\(request): \(thrown)"
            }
        }
        XCTAssertEqual(reported, ["GET /throw: the handler threw on purpose"])
    }

    func testThrowingCallbackHandlerGets503() throws {
        let server = try startServer(
            handler: .callback { stream in
                guard (stream as? H1Stream)?.requestHead?.path == "/ok" else { throw TestError("callback failed") }
                var headers = Headers()
                headers.append(":status", "204")
                try stream.writeHeaders(headers, endStream: true)
            })
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try client.exchange(get("/fail")).status, 503)
        XCTAssertEqual(try client.exchange(get("/ok")).status, 204)
        XCTAssertEqual(server.errors.withLock { $0.count }, 1)
    }
}
