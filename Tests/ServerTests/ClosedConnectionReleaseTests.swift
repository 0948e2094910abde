import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A closed `H1Connection` lets go of the streams it was serving: each stream holds its
/// connection, so one kept after the close held both, the socket and the reactor in a cycle once
/// their owners dropped them (a timed-out `Request.fetch` leaked its reactor and its fds so).
final class ClosedConnectionReleaseTests: XCTestCase {
    /// Client: the response was still awaited when the connection closed (a timed-out read).
    func testAClientConnectionClosedWhileAResponseIsAwaitedReleasesItsStream() throws {
        let (reactor, fd, peer) = try Self.socketPair()
        defer { Glibc.close(peer) }
        weak var weakConnection: H1Connection?
        weak var weakStream: H1Stream?
        do {
            let connection = H1Connection(socket: StreamSocket(adopting: fd, on: reactor), type: .client)
            try connection.start()
            let stream = try XCTUnwrap(connection.newStream())
            var request = Headers()
            request.append(":method", "GET")
            request.append(":path", "/")
            request.append(":authority", "t")
            try stream.writeHeaders(request, endStream: true)
            try reactor.step(timeout: 0)
            weakConnection = connection
            weakStream = stream
            connection.close()
        }
        try reactor.step(timeout: 0)
        XCTAssertNil(weakStream, "the closed connection still holds its stream")
        XCTAssertNil(weakConnection, "the connection and its stream hold each other")
    }

    /// Server: a request was being served when the connection closed (a reset, a timeout).
    func testAServerConnectionClosedWhileARequestIsServedReleasesItsStream() throws {
        let (reactor, fd, peer) = try Self.socketPair()
        defer { Glibc.close(peer) }
        weak var weakConnection: H1Connection?
        weak var weakStream: H1Stream?
        do {
            let connection = H1Connection(socket: StreamSocket(adopting: fd, on: reactor), type: .server)
            connection.onStream = { weakStream = $0 }
            try connection.start()
            Self.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n", from: peer)
            try Self.step(reactor) { weakStream != nil }
            XCTAssertNotNil(weakStream, "the request never arrived")
            weakConnection = connection
            connection.close()
        }
        try reactor.step(timeout: 0)
        XCTAssertNil(weakStream, "the closed connection still holds its stream")
        XCTAssertNil(weakConnection, "the connection and its stream hold each other")
    }

    /// Server: the request's stream waits for `nextIncomingStream` (no `onStream`), and the
    /// connection closes before anyone takes it.
    func testAServerConnectionClosedWithAStreamNobodyTookReleasesIt() throws {
        let (reactor, fd, peer) = try Self.socketPair()
        defer { Glibc.close(peer) }
        weak var weakConnection: H1Connection?
        do {
            let connection = H1Connection(socket: StreamSocket(adopting: fd, on: reactor), type: .server)
            try connection.start()
            Self.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n", from: peer)
            // The connection reads and parses in the same step: once nothing is left to read, the
            // request's stream waits for `nextIncomingStream`.
            var unread: Int32 = 1
            try Self.step(reactor) {
                _ = ioctl(fd, UInt(FIONREAD), &unread)
                return unread == 0
            }
            XCTAssertEqual(unread, 0, "the request was never read")
            weakConnection = connection
            connection.close()
        }
        try reactor.step(timeout: 0)
        XCTAssertNil(weakConnection, "the connection and the stream it kept for nextIncomingStream hold each other")
    }

    /// Server: the handler took the socket after a 101 (`takeSocket`), which closes the
    /// connection without `close()`.
    func testAServerConnectionWhoseSocketWasTakenReleasesItsStream() throws {
        let (reactor, fd, peer) = try Self.socketPair()
        defer { Glibc.close(peer) }
        weak var weakConnection: H1Connection?
        weak var weakStream: H1Stream?
        do {
            let connection = H1Connection(socket: StreamSocket(adopting: fd, on: reactor), type: .server)
            var served: H1Stream?
            connection.onStream = { served = $0 }
            try connection.start()
            Self.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: shout\r\n\r\n", from: peer)
            try Self.step(reactor) { served != nil }
            let stream = try XCTUnwrap(served, "the request never arrived")
            var switching = Headers()
            switching.append(":status", "101")
            switching.append("connection", "upgrade")
            switching.append("upgrade", "shout")
            try stream.writeHeaders(switching, endStream: false)
            weakConnection = connection
            weakStream = stream
            connection.takeSocket().close()
            served = nil
        }
        try reactor.step(timeout: 0)
        XCTAssertNil(weakStream, "the closed connection still holds its stream")
        XCTAssertNil(weakConnection, "the connection and its stream hold each other")
    }

    /// Sends `text` from the peer's end of the pair.
    private static func send(_ text: String, from peer: Int32) {
        let octets = Array(text.utf8)
        XCTAssertEqual(Glibc.send(peer, octets, octets.count, 0), octets.count)
    }

    /// Steps `reactor` until `done` (asked after each step), for up to 5 s.
    private static func step(_ reactor: Reactor, until done: () -> Bool) throws {
        let deadline = MonotonicClock.seconds() + 5
        repeat { try reactor.step(timeout: 0.05) } while !done() && MonotonicClock.seconds() < deadline
    }

    private static func socketPair() throws -> (Reactor, Int32, Int32) {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw TestError("socketpair") }
        return (try Reactor(), fds[0], fds[1])
    }
}
