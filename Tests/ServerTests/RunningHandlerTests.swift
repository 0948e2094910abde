import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `Server.empty()`, and so `Server.loop()`, count the `.task` handlers still running, as
/// lua-http's `server:empty()` counts its cqueue's coroutines: a host that stops stepping once the
/// server is empty must not leave a handler suspended half-way.
final class RunningHandlerTests: XCTestCase {
    private func socketPair() throws -> (client: Int32, server: Int32) {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw TestError("socketpair") }
        return (fds[0], fds[1])
    }

    private func send(_ text: String, to fd: Int32) {
        let sent = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        XCTAssertEqual(sent, text.utf8.count)
    }

    func testLoopAfterTheCloseDeadlineWaitsForAHandlerInABlockingJob() throws {
        let reactor = try Reactor()
        let started = Locked(false)
        let finished = Locked(false)
        var options = ServerOptions()
        options.tls = false
        let server = try Server(
            options: options, on: reactor,
            handler: .task { stream in
                _ = try await stream.getHeaders(timeout: 5)
                started.withLock { $0 = true }
                // Work that outlives the connection: its result must still be delivered.
                _ = try await stream.reactor.runBlocking("a slow job") { usleep(200_000) }
                finished.withLock { $0 = true }
            })
        let (client, accepted) = try socketPair()
        defer { close(client) }
        server.addSocket(StreamSocket(adopting: accepted, on: reactor))
        send(get("/"), to: client)
        try foreignLoop(server, for: 5) { started.withLock { $0 } }
        XCTAssertTrue(started.withLock { $0 })

        // The deadline closes the connection at once; the handler is still in its job.
        server.close(timeout: 0)
        try server.loop(timeout: 5)
        XCTAssertTrue(finished.withLock { $0 }, "loop() returned with the handler still running")
        XCTAssertTrue(server.empty())
        XCTAssertTrue(reactor.empty())
    }

    /// A graceful close's deadline timer goes once nothing is left, as it went when the last
    /// connection closed: a handler that outlives its connection (it aborted its response, and
    /// works on) is part of that now, so its end must take the timer away too (it stayed in the
    /// reactor's heap for the whole timeout: the reactor not `empty()`, its host woken for it).
    func testTheCloseTimerGoesWhenTheLastHandlerEnds() throws {
        let reactor = try Reactor()
        let started = Locked(false)
        let aborted = Locked(false)
        var options = ServerOptions()
        options.tls = false
        let server = try Server(
            options: options, on: reactor,
            handler: .task { stream in
                _ = try await stream.getHeaders(timeout: 5)
                started.withLock { $0 = true }
                try await stream.reactor.sleep(seconds: 0.05)
                var headers = Headers()
                headers.append(":status", "200")
                // No length: a response cut short now cannot be completed, and closes its connection.
                try await stream.writeHeaders(headers, endStream: false, timeout: 5)
                stream.shutdown()
                aborted.withLock { $0 = true }
                _ = try await stream.reactor.runBlocking("the handler's own work") { usleep(50_000) }
            })
        let (client, accepted) = try socketPair()
        defer { close(client) }
        server.addSocket(StreamSocket(adopting: accepted, on: reactor))
        send(get("/"), to: client)
        try foreignLoop(server, for: 5) { started.withLock { $0 } }
        server.close(timeout: 30)
        try foreignLoop(server, for: 5) { aborted.withLock { $0 } }
        XCTAssertEqual(server.connections(), 0)
        XCTAssertFalse(server.empty(), "the handler still runs")

        try server.loop(timeout: 5)
        XCTAssertTrue(server.empty())
        XCTAssertTrue(reactor.empty(), "the close timer outlived the server's last work")
        XCTAssertNil(reactor.timeout())
    }

    func testLoopRunsTheHandlerOfAStreamFromAddStream() throws {
        let reactor = try Reactor()
        let finished = Locked(false)
        let server = try Server(
            options: ServerOptions(), on: reactor,
            handler: .task { stream in
                _ = try await stream.getHeaders(timeout: 5)
                var headers = Headers()
                headers.append(":status", "200")
                try stream.writeMessage(headers, body: "from addStream")
                finished.withLock { $0 = true }
            })
        let (client, accepted) = try socketPair()
        defer { close(client) }
        let connection = H1Connection(socket: StreamSocket(adopting: accepted, on: reactor), type: .server)
        defer { connection.close() }
        var delivered: H1Stream?
        connection.onStream = { delivered = $0 }
        try connection.start()
        send(get("/"), to: client)
        try foreignLoop(connection, for: 5) { delivered != nil }
        server.addStream(try XCTUnwrap(delivered))
        delivered = nil

        // The server never listens (it was given a stream): `loop` runs until that handler ends.
        XCTAssertFalse(server.empty(), "a handler is running")
        try server.loop(timeout: 5)
        XCTAssertTrue(finished.withLock { $0 }, "loop() returned before the handler ran")
        XCTAssertTrue(server.empty())
    }
}
