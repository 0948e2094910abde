import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A connection dropped by its owner while its socket lives on (a pending flush holds the socket)
/// must not be called back: the socket's reader and the connection's timer hold it unowned.
final class H1ConnectionLifetimeTests: XCTestCase {
    func testASocketOutlivingItsConnectionDoesNotCallIt() throws {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw TestError("socketpair") }
        let reactor = try Reactor()
        let socket = StreamSocket(adopting: fds[0], on: reactor)
        Glibc.close(fds[1])
        do {
            let connection = H1Connection(socket: socket, type: .server)
            try connection.start()
            // Queued for the end of the step: the reactor keeps the socket until the flush runs.
            socket.write(Array("HTTP/1.1 200 OK\r\n\r\n".utf8))
        }
        // The flush fails (the peer is gone) and the socket reports it to its reader: none now.
        try reactor.step(timeout: 0)
        XCTAssertNotNil(socket.failure)
        socket.close()
    }
}

/// A connection that outlives its server (a handler kept its stream) must not call the server's
/// events object, which connections hold unowned: the server clears it when it goes away.
final class ServerOutlivedByConnectionTests: XCTestCase {
    /// A server dropped while a connection is still in setup (accepted, no octet yet): the
    /// socket, which reads into the setup, must not outlive it (its first octet crashed the
    /// process: the setup is its unowned reader).
    func testServerDroppedDuringConnectionSetupDoesNotCrashOnTheFirstOctet() throws {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw TestError("socketpair") }
        defer { Glibc.close(fds[1]) }
        let reactor = try Reactor()
        do {
            var options = ServerOptions()
            options.tls = false
            options.connectionSetupTimeout = 5
            let server = try Server(options: options, on: reactor, handler: .callback { _ in })
            server.addSocket(StreamSocket(adopting: fds[0], on: reactor))
            try reactor.step(timeout: 0)
            XCTAssertEqual(server.connections(), 1)
        }
        // The server is gone (as in the test above, which allows this). The request may find
        // the socket closed already (EPIPE).
        let request = Array("GET / HTTP/1.1\r\nHost: test\r\n\r\n".utf8)
        _ = send(fds[1], request, request.count, Int32(MSG_NOSIGNAL))
        let deadline = MonotonicClock.seconds() + 0.5
        while MonotonicClock.seconds() < deadline { try reactor.step(timeout: 0.05) }
        // Reached only if reading the socket did not trap; the server closed the socket.
        var buffer = [UInt8](repeating: 0, count: 16)
        XCTAssertEqual(read(fds[1], &buffer, buffer.count), 0, "the socket of the setup is still open")
    }

    func testAConnectionClosingAfterItsServerWentAwayDoesNotCallIt() throws {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw TestError("socketpair") }
        defer { Glibc.close(fds[1]) }
        let reactor = try Reactor()
        let kept = Locked<H1Stream?>(nil)
        var server: Server? = try Server(
            options: ServerOptions(), on: reactor,
            handler: .callback { stream in kept.withLock { $0 = stream as? H1Stream } })
        server?.addSocket(StreamSocket(adopting: fds[0], on: reactor))
        let request = Array("GET / HTTP/1.1\r\nHost: test\r\n\r\n".utf8)
        XCTAssertEqual(write(fds[1], request, request.count), request.count)
        let deadline = MonotonicClock.seconds() + 5
        while kept.withLock({ $0 }) == nil && MonotonicClock.seconds() < deadline { try reactor.step(timeout: 0.05) }
        let stream = try XCTUnwrap(kept.withLock { $0 })

        weak let gone = server
        server = nil
        XCTAssertNil(gone, "the server is not held by its connections or the reactor")

        // The connection answers and then sees the peer close: it closes, with nobody to tell.
        var headers = Headers()
        headers.append(":status", "200")
        try stream.writeMessage(headers, body: "ok")
        shutdown(fds[1], Int32(SHUT_WR))
        let closing = MonotonicClock.seconds() + 5
        while !stream.connection.isClosed && MonotonicClock.seconds() < closing { try reactor.step(timeout: 0.05) }
        XCTAssertTrue(stream.connection.isClosed)
        kept.withLock { $0 = nil }
    }
}
