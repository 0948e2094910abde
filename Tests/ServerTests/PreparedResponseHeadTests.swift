import Stepwise
import XCTest

/// A handler that answers with the same `Headers` value every time gets its head prepared once
/// (`H1ResponseHeadCache`); what goes on the wire must not change because of it: the connection's
/// own fields are still added per response, and a changed head is written as changed.
final class PreparedResponseHeadTests: XCTestCase {
    func testAReusedHeadIsWrittenCorrectlyEveryTimeAndAChangedOneAsChanged() throws {
        let answer = Locked(headers([(":status", "200"), ("content-type", "text/plain"), ("content-length", "2")]))
        let server = try startServer(
            handler: .callback { stream in
                let path = (stream as? H1Stream)?.requestHead?.path ?? ""
                let headers = answer.withLock { headers -> Headers in
                    // A change in place first (same count of fields), then one that adds a field.
                    if path == "/retype" { headers.modify(at: 1, value: "text/html") }
                    if path == "/add" { headers.append("x-version", "2") }
                    return headers
                }
                try stream.writeHeaders(headers, endStream: false)
                try stream.writeChunk("ok", endStream: true)
            })
        let client = try TestClient(port: server.port)

        func expect(_ response: TestResponse, type: String, version: String?, body: String, _ line: UInt = #line) {
            XCTAssertEqual(response.status, 200, line: line)
            XCTAssertEqual(response.header("content-type"), type, line: line)
            XCTAssertEqual(response.header("content-length"), "2", line: line)
            XCTAssertEqual(response.header("x-version"), version, line: line)
            XCTAssertNotNil(response.header("date"), "the connection's date is added every time", line: line)
            XCTAssertNil(response.header("connection"), line: line)
            XCTAssertEqual(response.text, body, line: line)
        }

        try client.send(get("/a") + get("/b") + get("/c"))
        for _ in 0..<3 { expect(try client.readResponse(), type: "text/plain", version: nil, body: "ok") }

        try client.send(get("/retype") + get("/d") + get("/e"))
        for _ in 0..<3 { expect(try client.readResponse(), type: "text/html", version: nil, body: "ok") }

        try client.send(get("/add") + get("/d") + get("/e"))
        for _ in 0..<3 { expect(try client.readResponse(), type: "text/html", version: "2", body: "ok") }

        // The prepared head still gets the framing of each request: no body for HEAD (its
        // content-length kept), `connection: close` for a last request.
        try client.send("HEAD /f HTTP/1.1\r\nHost: test\r\n\r\n")
        expect(try client.readResponse(head: true), type: "text/html", version: "2", body: "")
        try client.send(get("/g", "Connection: close"))
        let last = try readLastResponse(client)
        XCTAssertEqual(last.header("x-version"), "2")
        XCTAssertEqual(last.text, "ok")
    }

    func testAnHTTP10ClientGetsItsConnectionFieldWithAReusedHead() throws {
        let answer = headers([(":status", "200"), ("content-length", "2")])
        let server = try startServer(
            handler: .callback { stream in
                try stream.writeHeaders(answer, endStream: false)
                try stream.writeChunk("ok", endStream: true)
            })
        let client = try TestClient(port: server.port)
        for _ in 0..<3 {
            try client.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let response = try client.readResponse()
            XCTAssertEqual(response.header("connection"), "keep-alive")
            XCTAssertEqual(response.text, "ok")
        }
        try client.send("GET / HTTP/1.0\r\n\r\n")
        XCTAssertEqual(try readLastResponse(client).text, "ok")
    }

    private func headers(_ pairs: [(String, String)]) -> Headers {
        var headers = Headers()
        for (name, value) in pairs { headers.append(name, value) }
        return headers
    }
}
