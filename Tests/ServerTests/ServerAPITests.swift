import Foundation
import Logging
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `Server`'s entry points besides `listen`: `Server(listener:options:handler:)`, `addStream`, and
/// the default `onError` (log and go on serving). The server runs on the test's thread, stepped
/// through its Pollable face; clients run on another thread.
final class ServerAPITests: XCTestCase {
    /// Steps `server` on this thread while `client` runs on another; returns what `client` returned.
    private func serving<T: Sendable>(_ server: Server, _ client: @escaping @Sendable () throws -> T) throws -> T {
        let result = Locked<Result<T, any Error>?>(nil)
        Thread {
            let outcome = Result { try client() }
            result.withLock { $0 = outcome }
        }.start()
        try foreignLoop(server, for: 10, pollingEvery: 0.05) { result.withLock { $0 != nil } }
        return try XCTUnwrap(result.withLock { $0 }, "the client did not finish").get()
    }

    /// Closes `server` and steps it until every connection is gone.
    private func closeAndDrain(_ server: Server) throws {
        server.close(timeout: 0)
        try foreignLoop(server, for: 5) { server.empty() }
        XCTAssertTrue(server.empty())
    }

    func testServerOnAnExistingListenerUsesItAndItsOptions() throws {
        let reactor = try Reactor()
        let listener = try Listener.listen(ListenOptions(host: "127.0.0.1", port: 0), on: reactor)
        let port = try XCTUnwrap(listener.localname().port)
        var options = ServerOptions(path: "/nonexistent/ignored.sock")
        options.tls = false
        options.http1.sendDate = false
        let server = try Server(listener: listener, options: options, handler: TestRoutes().handler)
        XCTAssertTrue(server.reactor === reactor)
        // `listen()` binds nothing more: the listener given is the one.
        try server.listen()
        XCTAssertEqual(server.localname().port, port)

        let responses = try serving(server) {
            let client = try TestClient(port: port)
            return [try client.exchange(get("/hello")), try client.exchange(get("/hello"))]
        }
        XCTAssertEqual(responses.map(\.status), [200, 200])
        XCTAssertEqual(responses.map(\.text), ["hello\n", "hello\n"])
        XCTAssertEqual(responses.map { $0.header("x-request-number") }, ["1", "2"])
        // The options apply: no date field.
        XCTAssertEqual(responses.map { $0.header("date") }, [nil, nil])
        try closeAndDrain(server)
        XCTAssertTrue(listener.isClosed)
    }

    func testAddStreamRunsTheHandlerForAStreamFromElsewhere() throws {
        let reactor = try Reactor()
        let errors = Locked<[String]>([])
        let server = try Server(
            options: ServerOptions(), on: reactor,
            handler: .task { stream in
                guard let path = try await stream.getHeaders(timeout: 5)?.first(":path") else { return }
                if path == "/throw" { throw TestError("thrown for \(path)") }
                var headers = Headers()
                headers.append(":status", "200")
                try stream.writeMessage(headers, body: "served \(path)")
            })
        server.onError = { error in
            guard case .handler(_, let request, let thrown) = error else {
                return errors.withLock { $0.append("\(error)") }
            }
            errors.withLock { $0.append("\(request): \(thrown)") }
        }
        // A connection the server did not accept: its streams go to the server's handler.
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw TestError("socketpair") }
        var connectionOptions = H1ConnectionOptions()
        connectionOptions.sendDate = false
        let connection = H1Connection(
            socket: StreamSocket(adopting: fds[1], on: reactor), type: .server, options: connectionOptions)
        connection.onStream = { [server] stream in server.addStream(stream) }
        try connection.start()
        let client = StreamSocket(adopting: fds[0], on: reactor)
        defer {
            connection.close()
            client.close()
        }
        let served = "HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nserved /a"
        let unavailable =
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
            + "content-length: 24\r\n\r\n503 Service Unavailable\n"
        let servedB = "HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nserved /b"
        let expected = served + unavailable + servedB
        let received = try reactor.run(timeout: 10) {
            try await client.write(
                Array((get("/a") + get("/throw") + get("/b")).utf8), timeout: 1)
            return try await client.readExactly(expected.utf8.count, timeout: 5)
        }
        XCTAssertEqual(String(decoding: received, as: UTF8.self), expected)
        XCTAssertEqual(errors.withLock { $0 }, ["GET /throw: thrown for /throw"])
    }

    func testAddSocketServesTLSOnAServerThatNeverListened() throws {
        // inetd or SCM_RIGHTS: the server's only connections come from `addSocket`.
        let reactor = try Reactor()
        for tls in [true, nil] as [Bool?] {
            var options = ServerOptions()
            options.tls = tls
            let server = try Server(
                options: options, on: reactor,
                handler: .callback { stream in
                    var headers = Headers()
                    headers.append(":status", "200")
                    try stream.writeMessage(headers, body: "over TLS")
                })
            let errors = Locked<[String]>([])
            server.onError = { error in errors.withLock { $0.append("\(error)") } }
            var fds: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw TestError("socketpair") }
            server.addSocket(StreamSocket(adopting: fds[1], on: reactor))
            let client = StreamSocket(adopting: fds[0], on: reactor)
            defer {
                client.close()
                server.close(timeout: 0)
            }
            let response = try reactor.run(timeout: 10) {
                _ = try await client.startTLS(
                    context: TLSContext.client(verify: false), role: .client(serverName: "localhost"), timeout: 5)
                try await client.write(Array(get("/").utf8), timeout: 1)
                return String(decoding: try await client.read(timeout: 5), as: UTF8.self)
            }
            XCTAssertTrue(response.hasPrefix("HTTP/1.1 200 OK\r\n"), "tls \(String(describing: tls)): \(response)")
            XCTAssertTrue(response.hasSuffix("\r\n\r\nover TLS"), response)
            XCTAssertEqual(errors.withLock { $0 }, [])
        }
    }

    func testDefaultOnErrorLogsAndTheServerGoesOn() throws {
        let records = Locked<[(level: Logger.Level, message: String)]>([])
        var options = ServerOptions()
        options.logger = Logger(label: "test.server") { _ in RecordingLogHandler(records: records) }
        // `onError` is left as it is.
        let server = try Server.listen(options, handler: TestRoutes().handler)
        let port = server.localname().port ?? 0
        let statuses = try serving(server) {
            let failing = try TestClient(port: port)
            let thrown = try failing.exchange(get("/throw")).status
            // The connection of the failed handler goes on too.
            let after = try failing.exchange(get("/hello")).status
            let rejected = try TestClient(port: port)
            try rejected.send("GET / HTTP/1.1\r\n\r\n")
            let missingHost = try rejected.readResponse().status
            let other = try TestClient(port: port).exchange(get("/hello")).status
            return [thrown, after, missingHost, other]
        }
        XCTAssertEqual(statuses, [503, 200, 400, 200])
        let logged = records.withLock { $0 }
        XCTAssertEqual(logged.map(\.level), [.error, .info], "\(logged)")
        XCTAssertTrue(logged.first?.message.hasPrefix("handler for GET /throw from ") ?? false, "\(logged)")
        XCTAssertTrue(logged.first?.message.hasSuffix(" failed: the handler threw on purpose") ?? false, "\(logged)")
        XCTAssertTrue(logged.last?.message.hasPrefix("bad request from ") ?? false, "\(logged)")
        XCTAssertTrue(logged.last?.message.contains("(400)") ?? false, "\(logged)")
        try closeAndDrain(server)
    }
}
