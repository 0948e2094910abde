import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `Request.go` with a `ConnectionPool`, from a task on the pool's reactor, against a Stepwise
/// `Server` that closes the idle pooled connection at its `intraStreamTimeout` while the task runs
/// on without letting the reactor step: the pool reads the close before it hands the connection
/// out, so even a POST (never sent twice) goes on a new connection instead of failing in the
/// closed one. The same check as `HTTPConnection`'s (HTTPConnectionServerCloseTests).
final class PooledConnectionServerCloseTests: XCTestCase {
    func testAPostAfterTheServerClosedTheIdlePooledConnectionGoesOnANewOne() throws {
        let server = try TestServer(configure: { $0.intraStreamTimeout = 0.1 }) { stream, head in
            let body = try await stream.getBodyAsString(timeout: 5)
            try await reply(stream, "\(head.method ?? "?") \(body)")
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        let uri = "http://127.0.0.1:\(server.port)/"
        let texts = try reactor.run { () async throws -> [String] in
            let get = try Request(uri: uri)
            get.pool = pool
            let first = try await get.fetch(on: reactor, timeout: 5).text
            XCTAssertEqual(pool.idleConnections, 1)
            // Blocks the reactor's thread: the pool's reactor does not step meanwhile.
            XCTAssertTrue(server.waitUntilNoConnectionIsOpen(), "the server kept the idle connection")
            var waiting = pollfd(fd: reactor.pollfd(), events: Int16(POLLIN), revents: 0)
            XCTAssertEqual(poll(&waiting, 1, 1000), 1, "the server's close did not arrive")
            let post = try Request(uri: uri)
            post.pool = pool
            try post.headers.upsert(":method", "POST")
            post.setBody("body")
            return [first, try await post.fetch(on: reactor, timeout: 5).text]
        }
        XCTAssertEqual(texts, ["GET ", "POST body"])
        XCTAssertEqual(server.connectionsSeen, 2)
        pool.closeIdle()
    }
}
