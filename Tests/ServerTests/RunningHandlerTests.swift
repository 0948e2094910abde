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
