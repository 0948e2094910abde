import Stepwise
import XCTest

/// CONNECT on a server that does not tunnel. RFC 9110 §9.3.6: "A CONNECT request message does not
/// have content. The interpretation of data sent after the header section of the CONNECT request
/// message is specific to the version of HTTP in use." In HTTP/1.1 those octets are the tunnel's
/// (a client may send them before the answer), so a refused CONNECT ends the connection and
/// nothing after its head is read as a request, whatever framing fields the CONNECT carried.
final class ConnectMethodTests: XCTestCase {
    func testARefusedConnectClosesWithoutReadingWhatFollowsAsRequests() throws {
        let server = try startServer()
        let smuggled = get("/hello")
        let framings = [
            ("no framing", ""),
            ("a content-length covering the next request", "Content-Length: \(smuggled.utf8.count)\r\n"),
            ("chunked", "Transfer-Encoding: chunked\r\n"),
        ]
        for (what, framing) in framings {
            let client = try TestClient(port: server.port)
            try client.send("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\(framing)\r\n" + smuggled)
            // The routes answer 404 to anything they do not know; the answer closes, and the
            // GET that followed is never answered.
            XCTAssertEqual(try readLastResponse(client, what).status, 404, what)
        }
        XCTAssertEqual(try TestClient(port: server.port).exchange(get("/hello")).text, "hello\n")
    }
}
