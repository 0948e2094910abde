import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The callback tier's read (`getHeaders`, `getNextChunk` with a completion) registers a waiter,
/// which asks the connection to parse what the socket holds; when that parsing delivers what the
/// reader wanted, the wait is over before its timeout timer would be armed. No timer may be left
/// behind then: it would hold the stream (and, through it, the connection) and keep the reactor
/// from being `empty()` until it fired.
final class CallbackWaitTimerTests: XCTestCase {
    func testAWaitThatEndsWhileRegisteringLeavesNoTimer() throws {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let peer = fds[1]
        defer { close(peer) }
        // Not started: nothing parses the socket's input until a reader's wait asks for it, so
        // the response below is there, unparsed, when `getHeaders` registers its waiter.
        let client = H1Connection(socket: StreamSocket(adopting: fds[0], on: reactor), type: .client)
        weak var weakStream: H1Stream?
        var status: String?
        do {
            let stream = try XCTUnwrap(client.newStream())
            weakStream = stream
            var request = Headers()
            request.append(":method", "GET")
            request.append(":path", "/")
            request.append(":authority", "t")
            try stream.writeHeaders(request, endStream: true)
            let response = Array("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".utf8)
            XCTAssertEqual(response.withUnsafeBytes { write(peer, $0.baseAddress, $0.count) }, response.count)
            client.socket.receiveAvailable()
            XCTAssertFalse(client.socket.input.isEmpty)

            stream.getHeaders(timeout: 60) { result in status = (try? result.get())??.first(":status") }
            // The wait ended inside the call: the head was parsed while the waiter registered.
            XCTAssertEqual(status, "200")
        }
        // The response is complete, so the connection let go of the stream; nothing else may
        // hold it (a stray 60 s timer did).
        XCTAssertNil(weakStream, "a timer of the finished wait still holds the stream")
        client.close()
        try reactor.step(timeout: 0)
        XCTAssertTrue(reactor.empty(), "a timer of the finished wait is still in the reactor's heap")
    }
}
