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
            connection.start()
            // Queued for the end of the step: the reactor keeps the socket until the flush runs.
            socket.write(Array("HTTP/1.1 200 OK\r\n\r\n".utf8))
        }
        // The flush fails (the peer is gone) and the socket reports it to its reader: none now.
        try reactor.step(timeout: 0)
        XCTAssertNotNil(socket.failure)
        socket.close()
    }
}
