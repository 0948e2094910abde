import Foundation
import Stepwise
import XCTest

/// `ConnectionPool` against nginx, checked from nginx's side: its access log's `$connection`
/// and `$connection_requests` say which requests shared a TCP connection. Also how the pool
/// copes when nginx ends a keep-alive connection: on its idle timeout, at `keepalive_requests`,
/// and killed while a request waits on it (retried once for GET, never for POST).
final class NginxPoolTests: XCTestCase {
    func testSequentialRequestsShareOneConnection() throws {
        let nginx = try startNginx()
        try nginx.writeFile("page.txt", Array("a page".utf8))
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        let requests: [(method: String, path: String, body: String?)] = (0..<20).map { i in
            switch i % 5 {
            case 0: return ("GET", "/hello", nil)
            case 1: return ("GET", "/page.txt", nil)
            case 2: return ("HEAD", "/page.txt", nil)
            case 3: return ("POST", "/sink", "post \(i)")
            default: return ("PUT", "/dav/\(i)", "put \(i)")
            }
        }
        for (method, path, body) in requests {
            let request = try Request(uri: nginx.url(path))
            request.pool = pool
            try request.headers.upsert(":method", method)
            if let body { request.setBody(body) }
            XCTAssertLessThan(try request.fetch(on: reactor, timeout: 5).status, 300, "\(method) \(path)")
        }
        XCTAssertEqual(pool.openConnections, 1)
        XCTAssertEqual(pool.idleConnections, 1)
        // `/sink`'s own proxied requests to `/answer` are nginx's connections, not ours.
        let ours = try nginx.accessLog(atLeast: 24).filter { $0.uri != "/answer" }
        XCTAssertEqual(ours.map { "\($0.method) \($0.uri)" }, requests.map { "\($0.method) \($0.path)" })
        XCTAssertEqual(Set(ours.map(\.connection)).count, 1, "more than one TCP connection")
        XCTAssertEqual(ours.map(\.requests), (1...20).map(String.init))
        pool.closeIdle()
        XCTAssertEqual(pool.openConnections, 0)
    }

    func testWithoutAPoolEachRequestHasItsOwnConnection() throws {
        let nginx = try startNginx()
        let reactor = try Reactor()
        for _ in 0..<3 {
            XCTAssertEqual(try Request(uri: nginx.url("/hello")).fetch(on: reactor, timeout: 5).text, "Hello, World!")
        }
        let log = try nginx.accessLog(atLeast: 3)
        XCTAssertEqual(Set(log.map(\.connection)).count, 3)
        XCTAssertEqual(log.map(\.requests), ["1", "1", "1"])
    }

    /// nginx closes the idle connection after `keepalive_timeout`; the pool sees the close and
    /// the next requests, GET and POST alike, go out on a new connection.
    func testAConnectionNginxClosedWhileIdleIsNotReused() throws {
        var settings = NginxPeer.Settings()
        settings.keepaliveTimeout = "100ms"
        let nginx = try startNginx(settings)
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        func send(_ method: String, _ path: String) throws -> String {
            let request = try Request(uri: nginx.url(path))
            request.pool = pool
            try request.headers.upsert(":method", method)
            if method == "POST" { request.setBody("once") }
            return try request.fetch(on: reactor, timeout: 5).text
        }
        XCTAssertEqual(try send("GET", "/hello"), "Hello, World!")
        XCTAssertTrue(nginx.waitUntilNoConnectionIsOpen(), "nginx kept the idle connection past its keepalive_timeout")
        XCTAssertEqual(try send("GET", "/hello"), "Hello, World!")
        XCTAssertEqual(try send("POST", "/sink"), "POST 4")
        let log = try nginx.accessLog(atLeast: 4).filter { $0.uri != "/answer" }
        XCTAssertEqual(log.map(\.requests), ["1", "1", "2"])
        XCTAssertNotEqual(log[0].connection, log[1].connection)
        XCTAssertEqual(log[1].connection, log[2].connection)
        XCTAssertEqual(log[2].requestBody, "once")
        XCTAssertEqual(pool.openConnections, 1)
    }

    /// At `keepalive_requests` nginx answers with `connection: close`; the pool then opens a new
    /// connection rather than sending on the closing one.
    func testKeepaliveRequestsLimitStartsNewConnections() throws {
        var settings = NginxPeer.Settings()
        settings.keepaliveRequests = 3
        let nginx = try startNginx(settings)
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        var closing: [String] = []
        for _ in 0..<7 {
            let request = try Request(uri: nginx.url("/hello"))
            request.pool = pool
            let response = try request.fetch(on: reactor, timeout: 5)
            XCTAssertEqual(response.text, "Hello, World!")
            closing.append(response.headers.first("connection") ?? "-")
        }
        XCTAssertEqual(
            closing, ["keep-alive", "keep-alive", "close", "keep-alive", "keep-alive", "close", "keep-alive"])
        let log = try nginx.accessLog(atLeast: 7)
        XCTAssertEqual(log.map(\.requests), ["1", "2", "3", "1", "2", "3", "1"])
        XCTAssertEqual(Set(log.map(\.connection)).count, 3)
    }

    /// A GET waiting on a pooled connection to a killed nginx is sent again, once, on a fresh
    /// connection (`killWhileARequestWaits`); the killed nginx never logged it.
    func testAKilledConnectionIsRetriedOnceForGet() throws {
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        let request = { (port: UInt16) throws -> Request in
            let request = try Request(uri: "http://127.0.0.1:\(port)/hello")
            request.pool = pool
            return request
        }
        let (first, second, result) = try killWhileARequestWaits(pool: pool, reactor: reactor, request: request)
        XCTAssertEqual(try result.get().text, "Hello, World!")
        XCTAssertEqual(try first.accessLog().map(\.uri), ["/hello"])
        let retried = try second.accessLog(atLeast: 1)
        XCTAssertEqual(retried.map { "\($0.method) \($0.uri) \($0.requests)" }, ["GET /hello 1"])
        XCTAssertEqual(pool.openConnections, 1)
    }

    /// The same for a POST: it fails with the reset rather than being sent twice (RFC 9110
    /// §9.2.2: a user agent "SHOULD NOT automatically retry a request with a non-idempotent
    /// method"); the pool then serves the next request on a fresh connection.
    func testAKilledConnectionFailsAPost() throws {
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        let request = { (port: UInt16) throws -> Request in
            let request = try Request(uri: "http://127.0.0.1:\(port)/sink")
            request.pool = pool
            try request.headers.upsert(":method", "POST")
            request.setBody("not twice")
            return request
        }
        let (first, second, result) = try killWhileARequestWaits(pool: pool, reactor: reactor, request: request)
        XCTAssertThrowsError(try result.get()) { error in
            // The reset that makes a GET retry: what the pool's retry rule calls stale.
            guard case HTTPStreamError.socket = error else { return XCTFail("not the reset: \(error)") }
        }
        XCTAssertEqual(try first.accessLog().map(\.uri).filter { $0 != "/answer" }, ["/sink"])
        XCTAssertEqual(try second.accessLog().count, 0)
        let after = try Request(uri: second.url("/hello"))
        after.pool = pool
        XCTAssertEqual(try after.fetch(on: reactor, timeout: 5).text, "Hello, World!")
        XCTAssertEqual(try second.accessLog(atLeast: 1).map { "\($0.method) \($0.uri)" }, ["GET /hello"])
    }

    /// Sends `request(port)` through `pool` to a first nginx (its connection goes back to the
    /// pool), freezes that nginx and sends `request(port)` again, which waits on the pooled
    /// connection. Once the request sits unread in nginx's socket, another thread starts a second
    /// nginx on the same port (`reuseport`) and kills the first: the kernel resets the pooled
    /// connection before any response. Returns both and the second request's outcome.
    private func killWhileARequestWaits(
        pool: ConnectionPool, reactor: Reactor, request: (UInt16) throws -> Request
    ) throws -> (first: NginxPeer, second: NginxPeer, result: Result<HTTPResponse, any Error>) {
        var reusePort = NginxPeer.Settings()
        reusePort.reusePort = true
        let settings = reusePort
        let first = try startNginx(settings)
        let warmUp = try request(first.port)
        XCTAssertLessThan(try warmUp.fetch(on: reactor, timeout: 5).status, 300)
        XCTAssertEqual(pool.idleConnections, 1)
        try first.freeze()
        let second = Locked<Result<NginxPeer, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            let outcome = Result { () throws -> NginxPeer in
                try first.waitForUnreadBytes()
                let second = try NginxPeer(settings, port: first.port)
                try first.terminateFrozen()
                return second
            }
            second.withLock { $0 = outcome }
            done.signal()
        }.start()
        let waiting = try request(first.port)
        let result = Result { try waiting.fetch(on: reactor, timeout: 5) }
        done.wait()
        let takeover = try XCTUnwrap(second.withLock { $0 }).get()
        addTeardownBlock { takeover.stop() }
        return (first, takeover, result)
    }

    /// nginx closes a reused connection when the next request arrives on it, without an answer
    /// (`return 444` unless `$connection_requests` is 1): the GET is sent again on a new
    /// connection, the POST fails.
    func testAConnectionClosedAtTheNextRequestIsRetriedForGetOnly() throws {
        var settings = NginxPeer.Settings()
        settings.locations = """
            location = /first-only {
                if ($connection_requests != 1) { return 444; }
                default_type text/plain;
                return 200 "first on its connection";
            }
            """
        let nginx = try startNginx(settings)
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        func send(_ method: String) throws -> HTTPResponse {
            let request = try Request(uri: nginx.url("/first-only"))
            request.pool = pool
            try request.headers.upsert(":method", method)
            if method == "POST" { request.setBody("once") }
            return try request.fetch(on: reactor, timeout: 5)
        }
        XCTAssertEqual(try send("GET").text, "first on its connection")
        XCTAssertEqual(try send("GET").text, "first on its connection")
        XCTAssertThrowsError(try send("POST")) { error in
            // The end of input where a response should start: what the pool's retry rule calls stale.
            guard case HTTPStreamError.connectionClosed("before a response arrived") = error else {
                return XCTFail("not the close: \(error)")
            }
        }
        let log = try nginx.accessLog(atLeast: 4)
        XCTAssertEqual(
            log.map { "\($0.method) \($0.status) \($0.requests)" },
            ["GET 200 1", "GET 444 2", "GET 200 1", "POST 444 2"])
        XCTAssertEqual(Set(log.map(\.connection)).count, 2)
    }
}
