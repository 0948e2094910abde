import Foundation
import Stepwise
import XCTest

/// `HTTPConnection` on a reused connection that a raw server gives up on exactly as the next
/// request arrives (it resets or closes it, or answers 408 and closes): the stale-connection rule
/// of `Request.go` (`StaleConnection`, docs/client.md). An idempotent request whose body can go
/// again is sent once more on a fresh connection; a POST, or a producer's body that already went,
/// fails with the error (or gets the 408) instead.
final class HTTPConnectionStaleRetryTests: XCTestCase {
    func testAGetIsSentAgainWhenTheServerClosesTheReusedConnection() throws {
        let server = try OneShotServer(serve: Self.answerThenCloseAtTheNextRequest)
        defer { server.stop() }
        let conn = try Self.warmConnection(to: server)
        defer { conn.close() }
        try conn.request("GET", "/second")
        XCTAssertEqual(try conn.getResponse().text, "ok")
        XCTAssertEqual(server.connections, 2)
    }

    /// The same reset, two methods: a GET is sent again; a POST is not (RFC 9110 §9.2.2: "A user
    /// agent SHOULD NOT automatically retry a request with a non-idempotent method"): it fails with
    /// the connection's error, and the request after it goes on a new connection.
    func testOnAResetReusedConnectionAGetIsSentAgainAndAPostFails() throws {
        // `answerOnce` closes with the request unread: the kernel resets the connection.
        let getServer = try OneShotServer(serve: OneShotServer.answerOnce)
        defer { getServer.stop() }
        let get = try Self.warmConnection(to: getServer)
        defer { get.close() }
        XCTAssertEqual(try Self.exchange(get, "GET").text, "ok")
        XCTAssertEqual(getServer.connections, 2)

        let postServer = try OneShotServer(serve: OneShotServer.answerOnce)
        defer { postServer.stop() }
        let post = try Self.warmConnection(to: postServer)
        defer { post.close() }
        XCTAssertThrowsError(try Self.exchange(post, "POST", body: Array("x".utf8))) { error in
            XCTAssertTrue("\(error)".contains("reset"), "not the connection's reset: \(error)")
        }
        XCTAssertEqual(postServer.connections, 1)
        XCTAssertEqual(try Self.exchange(post, "GET").text, "ok")
        XCTAssertEqual(postServer.connections, 2)
    }

    /// A producer's pieces went with the first attempt: a second would send an empty body. Bytes
    /// can go again, so a PUT (idempotent) with bytes is sent again.
    func testAPutIsSentAgainOnlyWhenItsBodyCanBe() throws {
        func put(bytes: [UInt8]?, producer: (() throws -> [UInt8]?)?) throws -> (Result<String, any Error>, Int) {
            let server = try OneShotServer(serve: OneShotServer.answerOnce)
            defer { server.stop() }
            let conn = try Self.warmConnection(to: server)
            defer { conn.close() }
            let outcome = Result { try Self.exchange(conn, "PUT", body: bytes, bodyStream: producer).text }
            return (outcome, server.connections)
        }
        let (bytes, bytesConnections) = try put(bytes: Array("all of it".utf8), producer: nil)
        XCTAssertEqual(try bytes.get(), "ok")
        XCTAssertEqual(bytesConnections, 2)
        var pieces = [Array("hello ".utf8), Array("world".utf8)]
        let (produced, producedConnections) = try put(
            bytes: nil, producer: { pieces.isEmpty ? nil : pieces.removeFirst() })
        XCTAssertThrowsError(try produced.get())
        XCTAssertEqual(producedConnections, 1)
    }

    /// With `expect: 100-continue` the staleness shows while `request` waits for the go-ahead:
    /// the request is sent again from there, its producer not called yet, so it can be.
    func testAStaleConnectionSeenWhileWaitingForTheGoAheadIsReplacedByRequest() throws {
        let server = try OneShotServer(serve: OneShotServer.answerOnce)
        defer { server.stop() }
        let conn = try Self.warmConnection(to: server)
        defer { conn.close() }
        // The raw server sends no 100 Continue: the body goes after this wait.
        conn.expect100Timeout = 0.05
        var pieces = [Array("abc".utf8)]
        try conn.request(
            "PUT", "/", expectContinue: true, bodyStream: { pieces.isEmpty ? nil : pieces.removeFirst() },
            bodyLength: 3)
        XCTAssertEqual(try conn.getResponse().text, "ok")
        XCTAssertEqual(server.connections, 2)
    }

    /// A 408 that ends a reused connection (the server timed it out as the request came, RFC 9110
    /// §15.5.9) is not a GET's answer: the GET is sent again. A POST gets the 408, and so does a
    /// GET whose server keeps the connection after the 408 (it answered that request).
    func testA408EndingAReusedConnectionIsRetriedForAGet() throws {
        for (method, serve, status, connections) in [
            ("GET", TimingOutServer.answerThenTimeOut, 200, 2),
            ("POST", TimingOutServer.answerThenTimeOut, 408, 1),
            ("GET", TimingOutServer.answerThen408KeepingAlive, 408, 1),
        ] as [(String, @Sendable (Int32) -> Void, Int, Int)] {
            let server = try OneShotServer(serve: serve)
            defer { server.stop() }
            let conn = try Self.warmConnection(to: server)
            defer { conn.close() }
            let response = try Self.exchange(conn, method, body: method == "POST" ? Array("x".utf8) : nil)
            XCTAssertEqual(response.status, status, method)
            XCTAssertEqual(response.text, status == 408 ? "timeout" : "ok", method)
            XCTAssertEqual(server.connections, connections, method)
        }
    }

    /// A connection to `server` that served one GET (answered `ok`) and is kept.
    private static func warmConnection(to server: OneShotServer) throws -> HTTPConnection {
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        XCTAssertEqual(try exchange(conn, "GET").text, "ok")
        XCTAssertTrue(conn.isConnected)
        return conn
    }

    /// `request` and `getResponse`.
    private static func exchange(
        _ conn: HTTPConnection, _ method: String, body: [UInt8]? = nil, bodyStream: (() throws -> [UInt8]?)? = nil
    ) throws -> HTTPResponse {
        try conn.request(method, "/", body: body, bodyStream: bodyStream)
        return try conn.getResponse()
    }

    /// Answers the first request `ok` (keep-alive), then reads the next request whole and closes
    /// without answering: a FIN, not a reset, as a server whose idle timer fired just then.
    @Sendable private static func answerThenCloseAtTheNextRequest(_ client: Int32) {
        guard OneShotServer.readRequest(client) else { return }
        let response = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
        _ = response.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        _ = OneShotServer.readRequest(client)
    }
}
