import Foundation
import Stepwise
import XCTest

/// `Request.go` on a pooled connection the server times out as the request leaves: it answers
/// `408 Request Timeout` and closes. On a reused connection an idempotent request whose body can
/// go again is sent once more on a fresh connection; otherwise the 408 is the response.
final class TimedOutConnectionRetryTests: XCTestCase {
    func testAGetAnswered408OnAReusedConnectionIsRetriedOnAFreshOne() throws {
        let server = try OneShotServer(serve: TimingOutServer.answerThenTimeOut)
        defer { server.stop() }
        let (reactor, pool) = try Self.warmPool(server)
        let response = try Self.request(to: server, in: pool).fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "ok")
        XCTAssertEqual(server.connections, 2)
    }

    func testAPutIsRetriedOnlyWhenItsBodyCanBeSentAgain() throws {
        /// A PUT answered 408 on a warm pooled connection: its response and the connections.
        func put(_ setBody: (Request) -> Void) throws -> (HTTPResponse, Int) {
            let server = try OneShotServer(serve: TimingOutServer.answerThenTimeOut)
            defer { server.stop() }
            let (reactor, pool) = try Self.warmPool(server)
            let request = try Self.request(to: server, in: pool)
            try request.headers.upsert(":method", "PUT")
            setBody(request)
            // The body goes with the head, before the 408 arrives.
            request.headers.delete("expect")
            return (try request.fetch(on: reactor, timeout: 5), server.connections)
        }
        // Bytes can go again: PUT is idempotent (RFC 9110 §9.2.2).
        let (bytes, bytesConnections) = try put { $0.setBody("all of it") }
        XCTAssertEqual(bytes.status, 200)
        XCTAssertEqual(bytesConnections, 2)
        // A producer's chunks went with the first attempt: a retry would send an empty body.
        let chunks = Locked([Array("hello ".utf8), Array("world".utf8)])
        let (produced, producedConnections) = try put {
            $0.setBody(producer: { chunks.withLock { $0.isEmpty ? nil : $0.removeFirst() } })
        }
        XCTAssertEqual(produced.status, 408)
        XCTAssertEqual(produced.text, "timeout")
        XCTAssertEqual(producedConnections, 1)
    }

    /// RFC 9110 §9.2.2: a POST is not repeated automatically, whether its body could go again
    /// (bytes) or not (a producer, which also waits for 100 Continue and gets the 408 instead).
    func testAPostAnswered408IsNotRetried() throws {
        let bodies: [(String, (Request) -> Void)] = [
            ("bytes", { $0.setBody("x") }),
            ("producer", { request in request.setBody(producer: { nil }) }),
        ]
        for (name, setBody) in bodies {
            let server = try OneShotServer(serve: TimingOutServer.answerThenTimeOut)
            defer { server.stop() }
            let (reactor, pool) = try Self.warmPool(server)
            let post = try Self.request(to: server, in: pool)
            try post.headers.upsert(":method", "POST")
            setBody(post)
            let response = try post.fetch(on: reactor, timeout: 5)
            XCTAssertEqual(response.status, 408, name)
            XCTAssertEqual(response.text, "timeout", name)
            XCTAssertEqual(server.connections, 1, name)
        }
    }

    /// Only a reused connection can be stale: a 408 on a new one is the server's answer.
    func testA408OnAFreshConnectionIsTheResponse() throws {
        let server = try OneShotServer(serve: TimingOutServer.timeOutAtOnce)
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        let response = try Self.request(to: server, in: pool).fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.status, 408)
        XCTAssertEqual(server.connections, 1)
    }

    /// A server that answers 408 and keeps the connection open answered the request itself (the
    /// connection did not time out): the 408 is the response, and the connection stays pooled.
    func testA408ThatKeepsTheConnectionIsTheResponse() throws {
        let server = try OneShotServer(serve: TimingOutServer.answerThen408KeepingAlive)
        defer { server.stop() }
        let (reactor, pool) = try Self.warmPool(server)
        let response = try Self.request(to: server, in: pool).fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.status, 408)
        XCTAssertEqual(server.connections, 1)
        XCTAssertEqual(pool.idleConnections, 1)
        pool.closeIdle()
    }

    /// A pool holding one idle connection to `server`, after a GET answered `ok` on it.
    private static func warmPool(_ server: OneShotServer) throws -> (Reactor, ConnectionPool) {
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        XCTAssertEqual(try request(to: server, in: pool).fetch(on: reactor, timeout: 5).text, "ok")
        XCTAssertEqual(pool.idleConnections, 1)
        return (reactor, pool)
    }

    private static func request(to server: OneShotServer, in pool: ConnectionPool) throws -> Request {
        let request = try Request(uri: "http://127.0.0.1:\(server.port)/")
        request.pool = pool
        return request
    }
}

/// `OneShotServer` behaviours of a server whose idle timeout fires as a request arrives.
enum TimingOutServer {
    static let timeout = "HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 7\r\n\r\ntimeout"

    /// Answers the first request (keep-alive), then, when the next request's first octet
    /// arrives, answers 408 and closes, as a server does whose idle timer fired just then.
    static func answerThenTimeOut(_ client: Int32) {
        guard OneShotServer.readRequest(client) else { return }
        sendText("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", to: client)
        var byte: UInt8 = 0
        guard recv(client, &byte, 1, 0) == 1 else { return }
        closeWith(timeout, client)
    }

    /// Answers 408 and closes as soon as the first request starts.
    static func timeOutAtOnce(_ client: Int32) {
        var byte: UInt8 = 0
        guard recv(client, &byte, 1, 0) == 1 else { return }
        closeWith(timeout, client)
    }

    /// Answers the first request `ok` and the second 408, both keep-alive, then waits for the end.
    static func answerThen408KeepingAlive(_ client: Int32) {
        guard OneShotServer.readRequest(client) else { return }
        sendText("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", to: client)
        guard OneShotServer.readRequest(client) else { return }
        sendText("HTTP/1.1 408 Request Timeout\r\ncontent-length: 7\r\n\r\ntimeout", to: client)
        drain(client)
    }

    private static func sendText(_ text: String, to client: Int32) {
        _ = text.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }

    /// Sends `response`, half-closes and reads until the client closes: the response is not
    /// lost to a reset (RFC 9112 §9.6), as the Stepwise server lingers.
    private static func closeWith(_ response: String, _ client: Int32) {
        sendText(response, to: client)
        shutdown(client, Int32(SHUT_WR))
        drain(client)
    }

    /// Reads until the client's end, or 5 s of silence.
    private static func drain(_ client: Int32) {
        var limit = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while recv(client, &buffer, buffer.count, 0) > 0 {}
    }
}
