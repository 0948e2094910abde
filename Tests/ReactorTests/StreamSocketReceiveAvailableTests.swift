import Glibc
import XCTest

@testable import Reactor

/// `receiveAvailable` reads what the kernel holds now, without the reactor stepping: octets and
/// the peer's end reach `input`, `isEOF` and the reader at once; with nothing there it returns.
final class StreamSocketReceiveAvailableTests: XCTestCase {
    func testWhatArrivedIsReadWithoutAStep() throws {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let socket = StreamSocket(adopting: fds[0], on: reactor)
        defer { socket.close() }
        var notified = 0
        socket.onReadable = { notified += 1 }
        socket.readInterest = true

        // Nothing there: it neither waits nor reports anything.
        socket.receiveAvailable()
        XCTAssertEqual(socket.input.readableBytes, 0)
        XCTAssertFalse(socket.isEOF)
        XCTAssertEqual(notified, 0)

        // Octets, then the peer's end, each in the kernel: the reactor never stepped, yet each is
        // seen.
        XCTAssertEqual(send(fds[1], "abc", 3, 0), 3)
        socket.receiveAvailable()
        XCTAssertEqual(socket.withUnsafeReadableInput { Array($0) }, Array("abc".utf8))
        XCTAssertFalse(socket.isEOF)
        XCTAssertEqual(notified, 1)
        close(fds[1])
        socket.receiveAvailable()
        XCTAssertTrue(socket.isEOF)
        XCTAssertEqual(notified, 2)
        XCTAssertEqual(socket.input.readableBytes, 3)
    }
}
