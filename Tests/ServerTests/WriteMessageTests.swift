import Stepwise
import XCTest

/// `HTTPStream.writeMessage` on a server: the whole response in one call, framed by the body's
/// length, with a prepared head or not, and refused whole when it cannot be written as asked.
final class WriteMessageTests: XCTestCase {
    /// Answers each path its own way: `/fixed` with one `Headers` value every time (a prepared
    /// head from the second use), `/big` with 100,000 octets, `/wrong` with a `content-length` that
    /// is not its body's, then (the error caught) a 500 the same way.
    private func handler(errors: Locked<[String]>) -> Server.Handler {
        let fixed = Self.headers([(":status", "200"), ("content-type", "text/plain")])
        return .callback { stream in
            switch (stream as? H1Stream)?.requestHead?.path ?? "" {
            case "/fixed":
                try stream.writeMessage(fixed, body: "Hello, World!")
            case "/big":
                try stream.writeMessage(fixed, body: Self.big)
            case "/wrong":
                do {
                    try stream.writeMessage(Self.headers([(":status", "200"), ("content-length", "3")]), body: "ok")
                } catch {
                    errors.withLock { $0.append("\(error)") }
                    try stream.writeMessage(Self.headers([(":status", "500")]), body: "")
                }
            default:
                try stream.writeMessage(Self.headers([(":status", "404")]), body: "not here")
            }
        }
    }

    static let big = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    func testWholeResponsesOverOneKeepAliveConnection() throws {
        let errors = Locked<[String]>([])
        let server = try startServer(handler: handler(errors: errors))
        let client = try TestClient(port: server.port)

        try client.send(get("/fixed") + get("/fixed") + get("/fixed") + get("/big") + get("/other"))
        for _ in 0..<3 {
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.header("content-length"), "13")
            XCTAssertEqual(response.header("content-type"), "text/plain")
            XCTAssertNotNil(response.header("date"))
            XCTAssertNil(response.header("transfer-encoding"))
            XCTAssertEqual(response.text, "Hello, World!")
        }
        let big = try client.readResponse()
        XCTAssertEqual(big.header("content-length"), "100000")
        XCTAssertEqual(big.body, Self.big)
        let other = try client.readResponse()
        XCTAssertEqual(other.status, 404)
        XCTAssertEqual(other.text, "not here")

        // HEAD: the length a GET gets, no body.
        try client.send("HEAD /fixed HTTP/1.1\r\nHost: test\r\n\r\n")
        let head = try client.readResponse(head: true)
        XCTAssertEqual(head.header("content-length"), "13")
        XCTAssertEqual(head.body, [])

        // A refused message leaves the exchange open: the handler's 500 goes out, and the
        // connection serves the next request.
        try client.send(get("/wrong") + get("/fixed"))
        let refused = try client.readResponse()
        XCTAssertEqual(refused.status, 500)
        XCTAssertEqual(refused.header("content-length"), "0")
        XCTAssertEqual(try client.readResponse().text, "Hello, World!")
        XCTAssertEqual(errors.withLock { $0.count }, 1)
    }

    /// An HTTP/1.0 client that asked for keep-alive keeps its connection: the body's length is
    /// known, so it is not read until close.
    func testAnHTTP10ClientKeepsItsConnection() throws {
        let server = try startServer(handler: handler(errors: Locked([])))
        let client = try TestClient(port: server.port)
        for _ in 0..<2 {
            try client.send("GET /fixed HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let response = try client.readResponse()
            XCTAssertEqual(response.header("connection"), "keep-alive")
            XCTAssertEqual(response.header("content-length"), "13")
            XCTAssertEqual(response.text, "Hello, World!")
        }
        try client.send("GET /fixed HTTP/1.0\r\n\r\n")
        XCTAssertEqual(try readLastResponse(client).text, "Hello, World!")
    }

    private static func headers(_ pairs: [(String, String)]) -> Headers {
        var headers = Headers()
        for (name, value) in pairs { headers.append(name, value) }
        return headers
    }
}
