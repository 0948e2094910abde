import Stepwise
import XCTest

/// A handler that sends `100 Continue` itself (`writeContinue`) before reading the body: the
/// client gets exactly one, and the connection stays open, whether or not the handler then
/// reads the body.
final class WriteContinueTests: XCTestCase {
    /// `/read`: writeContinue, then the body back; `/ignore`: writeContinue, then 204 unread.
    private static let handler = Server.Handler.task { stream in
        let request = try await stream.getHeaders(timeout: 10)
        try await stream.writeContinue(timeout: 10)
        var response = Headers()
        if request?.first(":path") == "/read" {
            let body = try await stream.getBodyAsBytes(timeout: 10)
            response.append(":status", "200")
            try stream.writeMessage(response, body: body)
        } else {
            response.append(":status", "204")
            try stream.writeMessage(response, body: [])
        }
    }

    private func post(_ path: String) -> String {
        "POST \(path) HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
    }

    func testOneContinueWhenTheHandlerSendsItAndReadsTheBody() throws {
        let server = try TestServer(ServerOptions(), handler: Self.handler)
        let client = try TestClient(port: server.port)
        try client.send(post("/read"))
        XCTAssertEqual(try client.readResponse().status, 100)
        try client.send("body")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200, "a second 100 Continue came first")
        XCTAssertEqual(response.text, "body")
        XCTAssertNil(response.header("connection"))
        XCTAssertTrue(try client.staysSilent(for: 0.1))
    }

    func testTheConnectionStaysWhenTheHandlerAnswersWithoutReading() throws {
        let server = try TestServer(ServerOptions(), handler: Self.handler)
        let client = try TestClient(port: server.port)
        try client.send(post("/ignore"))
        XCTAssertEqual(try client.readResponse().status, 100)
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 204)
        XCTAssertNil(response.header("connection"), "after a 100 Continue the body will come: no reason to close")
        // The announced body, then the next request on the same connection.
        try client.send("body")
        try client.send(post("/read"))
        XCTAssertEqual(try client.readResponse().status, 100)
        try client.send("next")
        XCTAssertEqual(try client.readResponse().text, "next")
    }
}
