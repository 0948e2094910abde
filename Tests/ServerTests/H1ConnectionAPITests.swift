import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `H1Connection`'s server API used without a `Server`: `nextIncomingStream(timeout:)`, `onIdle`,
/// `flush`; and through a `Server`: `takeSocket` after a 101, and a non-default `drainLimit`.
final class H1ConnectionAPITests: XCTestCase {
    /// Runs `body` on one reactor with a server connection (not started; no date field, so
    /// responses are exact) and a raw client socket over a socket pair.
    private func withServerConnection<T: Sendable>(
        _ body: @escaping @Sendable (H1Connection, StreamSocket, Reactor) async throws -> T
    ) throws -> T {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw TestError("socketpair") }
        var options = H1ConnectionOptions()
        options.sendDate = false
        let server = H1Connection(
            socket: StreamSocket(adopting: fds[1], on: reactor), type: .server, options: options)
        let client = StreamSocket(adopting: fds[0], on: reactor)
        defer {
            server.close()
            client.close()
        }
        return try reactor.run(timeout: 10) { try await body(server, client, reactor) }
    }

    private static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// Answers `stream` with 200 and `body` (exact on the wire: `ok(body)`).
    private static func answer(_ stream: H1Stream?, _ body: String) throws {
        var headers = Headers()
        headers.append(":status", "200")
        try XCTUnwrap(stream).writeMessage(headers, body: body)
    }

    private static func ok(_ body: String) -> String {
        "HTTP/1.1 200 OK\r\ncontent-length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    func testNextIncomingStreamHandsOutRequestsInOrderThenNil() throws {
        try withServerConnection { server, client, reactor in
            try server.start()
            let early = await thrownError { try await server.nextIncomingStream(timeout: 0.05) }
            XCTAssertEqual(early as? ReactorError, .timedOut("nextIncomingStream"))

            // A caller already waiting gets the stream when the request arrives.
            let waiting = reactor.spawn { try await server.nextIncomingStream(timeout: 2) }
            try await client.write(
                Self.bytes("GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n"), timeout: 1)
            let first = try await waiting.value
            XCTAssertEqual(first?.requestHead?.path, "/a")
            // The pipelined request is not handed out while the first exchange runs.
            let during = await thrownError { try await server.nextIncomingStream(timeout: 0.05) }
            XCTAssertEqual(during as? ReactorError, .timedOut("nextIncomingStream"))
            try Self.answer(first, "a")
            let second = try await server.nextIncomingStream(timeout: 1)
            XCTAssertEqual(second?.requestHead?.path, "/b")
            try Self.answer(second, "b")
            let responses = try await client.readExactly(Self.ok("a").utf8.count + Self.ok("b").utf8.count, timeout: 1)
            XCTAssertEqual(Self.text(responses), Self.ok("a") + Self.ok("b"))

            // The client finished sending: no more streams.
            client.shutdownWrite()
            let end = try await server.nextIncomingStream(timeout: 1)
            XCTAssertNil(end)
        }
        // A caller waiting when the connection closes gets nil.
        try withServerConnection { server, _, reactor in
            try server.start()
            let waiting = reactor.spawn { try await server.nextIncomingStream(timeout: 2) }
            try await reactor.sleep(seconds: 0.01)
            server.close()
            let stream = try await waiting.value
            XCTAssertNil(stream)
        }
    }

    func testOnIdleIsCalledWhenNoExchangeRuns() throws {
        try withServerConnection { server, client, _ in
            let idles = Locked(0)
            server.onIdle = { connection in
                XCTAssertTrue(connection === server)
                idles.withLock { $0 += 1 }
            }
            try server.start()
            XCTAssertEqual(idles.withLock { $0 }, 1, "idle from the start")

            // Part of a head: not idle (the header-read timer runs instead).
            try await client.write(Self.bytes("POST /x HTTP/1.1\r\nHo"), timeout: 1)
            let partial = await thrownError { try await server.nextIncomingStream(timeout: 0.05) }
            XCTAssertEqual(partial as? ReactorError, .timedOut("nextIncomingStream"))
            XCTAssertEqual(idles.withLock { $0 }, 1)

            // The head, then its body in two pieces: still not idle.
            try await client.write(Self.bytes("st: t\r\nContent-Length: 6\r\n\r\nabc"), timeout: 1)
            let stream = try await server.nextIncomingStream(timeout: 1)
            let firstPart = try await stream?.getBodyChars(3, timeout: 1)
            XCTAssertEqual(firstPart, Self.bytes("abc"))
            try await client.write(Self.bytes("def"), timeout: 1)
            let body = try await stream?.getBodyAsBytes(timeout: 1)
            XCTAssertEqual(body, Self.bytes("def"))
            XCTAssertEqual(idles.withLock { $0 }, 1)

            // Answered: idle again, once.
            try Self.answer(stream, "done")
            let response = try await client.readExactly(Self.ok("done").utf8.count, timeout: 1)
            XCTAssertEqual(Self.text(response), Self.ok("done"))
            XCTAssertEqual(idles.withLock { $0 }, 2)
        }
    }

    func testFlushWaitsUntilTheKernelTookEverything() throws {
        try withServerConnection { server, client, reactor in
            try server.start()
            try await client.write(Self.bytes("GET /big HTTP/1.1\r\nHost: t\r\n\r\n"), timeout: 1)
            let stream = try await server.nextIncomingStream(timeout: 1)
            let size = 8 << 20
            let head = "HTTP/1.1 200 OK\r\ncontent-length: \(size)\r\n\r\n"
            var headers = Headers()
            headers.append(":status", "200")
            headers.append("content-length", String(size))
            // Queued without waiting: far more than the socket pair's buffers hold.
            try stream?.writeHeaders(headers, endStream: false)
            try stream?.writeChunk(pattern(0, size), endStream: true)

            // Nobody reads: flush cannot finish.
            let stuck = await thrownError { try await server.flush(timeout: 0.05) }
            XCTAssertEqual(stuck as? ReactorError, .timedOut("flush"))
            XCTAssertGreaterThan(server.socket.pendingOutputBytes, 0)

            // The client reads: flush returns once nothing is left queued.
            let reader = reactor.spawn { try await client.readExactly(head.utf8.count + size, timeout: 5) }
            try await server.flush(timeout: 5)
            XCTAssertEqual(server.socket.pendingOutputBytes, 0)
            let received = try await reader.value
            XCTAssertEqual(Self.text(Array(received.prefix(head.utf8.count))), head)
            XCTAssertTrue(matchesPattern(Array(received.dropFirst(head.utf8.count)), at: 0))
        }
    }

    func testTakeSocketEndsAWaitForTheNextIncomingStream() throws {
        try withServerConnection { server, client, reactor in
            try server.start()
            try await client.write(
                Self.bytes("GET / HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: shout\r\n\r\n"), timeout: 1)
            let incoming = try await server.nextIncomingStream(timeout: 2)
            let stream = try XCTUnwrap(incoming)
            // The connection's accept loop asks for the next request while this one switches.
            let heard = Locked<String?>(nil)
            reactor.spawn {
                do {
                    let next = try await server.nextIncomingStream()
                    heard.withLock { $0 = next == nil ? "nil" : "a stream" }
                } catch {
                    heard.withLock { $0 = "\(error)" }
                }
            }
            try await reactor.sleep(seconds: 0.01)
            var headers = Headers()
            headers.append(":status", "101")
            headers.append("connection", "upgrade")
            headers.append("upgrade", "shout")
            try await stream.writeHeaders(headers, endStream: false, timeout: 1)
            server.takeSocket().close()
            // The waiter is resumed now (its task runs in this step's next round), as `close()`
            // resumes it: before, it stayed suspended for good and the reactor never emptied.
            try await reactor.sleep(seconds: 0.01)
            XCTAssertEqual(heard.withLock { $0 }, "nil")
        }
    }

    /// Once the last response is out and the connection lingers (RFC 9112 §9.6), no request will
    /// come: a task already waiting for one hears nil then, as a caller asking now does. It
    /// waited for the linger's end (the peer's EOF, or `lingerTimeout`) instead.
    func testAWaitForTheNextStreamEndsWhenTheConnectionStartsLingering() throws {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw TestError("socketpair") }
        let peer = fds[0]
        defer { Glibc.close(peer) }
        var options = H1ConnectionOptions()
        options.lingerTimeout = 30
        let server = H1Connection(socket: StreamSocket(adopting: fds[1], on: reactor), type: .server, options: options)
        defer { server.close() }
        let heard = Locked<String?>(nil)
        try server.start()
        let request = Self.bytes("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(Glibc.send(peer, request, request.count, 0), request.count)
        let incoming = try reactor.run(timeout: 2) { try await server.nextIncomingStream(timeout: 2) }
        let stream = try XCTUnwrap(incoming)
        reactor.spawn {
            do {
                let next = try await server.nextIncomingStream(timeout: 10)
                heard.withLock { $0 = next == nil ? "nil" : "a stream" }
            } catch {
                heard.withLock { $0 = "\(error)" }
            }
        }
        try reactor.step(timeout: 0)
        try Self.answer(stream, "last")
        // The client neither reads nor closes: the connection lingers, up to 30 s.
        let deadline = MonotonicClock.seconds() + 1
        while heard.withLock({ $0 }) == nil && MonotonicClock.seconds() < deadline { try reactor.step(timeout: 0.05) }
        XCTAssertFalse(server.isClosed, "still lingering")
        XCTAssertEqual(heard.withLock { $0 }, "nil")
        let late = try reactor.run(timeout: 1) { try await server.nextIncomingStream(timeout: 1) }
        XCTAssertNil(late)
    }

    func testTakeSocketAfter101LeavesTheSocketAndUnparsedInputToTheHandler() throws {
        let server = try startServer(
            handler: .task { stream in
                guard try await stream.getHeaders(timeout: 5) != nil, let connection = (stream as? H1Stream)?.connection
                else { return }
                var headers = Headers()
                headers.append(":status", "101")
                headers.append("connection", "upgrade")
                headers.append("upgrade", "shout")
                try await stream.writeHeaders(headers, endStream: false, timeout: 5)
                let socket = connection.takeSocket()
                XCTAssertTrue(connection.isClosed)
                XCTAssertFalse(socket.isClosed)
                // The raw protocol: every octet back upper-cased, until the client finishes.
                while case let bytes = try await socket.read(timeout: 5), !bytes.isEmpty {
                    try await socket.write(Array(Self.text(bytes).uppercased().utf8), timeout: 5)
                }
                try await socket.flush(timeout: 5)
                socket.close()
            })
        let client = try TestClient(port: server.port)
        // Octets after the head, in the same write: they are the new protocol's, left in the input.
        try client.send("GET /shout HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: shout\r\n\r\nearly ")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 101)
        XCTAssertEqual(response.header("upgrade"), "shout")
        // The server let go of the connection; the socket lives on in the handler.
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 })
        try client.send("ping")
        client.shutdownWrite()
        XCTAssertEqual(Self.text(try client.readUntilClosed()), "EARLY PING")
        XCTAssertEqual(server.errors.withLock { $0.count }, 0)
    }

    func testDrainLimitDecidesWhetherAnUnreadBodyKeepsTheConnection() throws {
        // The handler answers 413 at once; the body is sent after the answer, so the connection
        // has to read and drop it (a body that arrived whole with the head needs no draining).
        func rejectThenSend(_ server: TestServer, bodySize: Int, closes: Bool) throws -> TestClient {
            let client = try TestClient(port: server.port)
            try client.send("POST /reject HTTP/1.1\r\nHost: t\r\nContent-Length: \(bodySize)\r\n\r\n")
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 413)
            XCTAssertEqual(response.header("connection"), closes ? "close" : nil)
            try client.send(String(repeating: "x", count: bodySize))
            return client
        }
        let limited = try startServer { $0.http1.drainLimit = 1000 }
        // At the limit: drained, and the connection serves the next request.
        let kept = try rejectThenSend(limited, bodySize: 1000, closes: false)
        XCTAssertEqual(try kept.exchange(get("/hello")).header("x-request-number"), "2")
        // One octet more: the connection closes, as the answer says (its content-length told).
        let closed = try rejectThenSend(limited, bodySize: 1001, closes: true)
        XCTAssertEqual(try closed.readUntilClosed(), [])
        // The same body under the default limit (500 KiB) keeps its connection.
        let unlimited = try rejectThenSend(try startServer(), bodySize: 1001, closes: false)
        XCTAssertEqual(try unlimited.exchange(get("/hello")).header("x-request-number"), "2")
    }
}
