import Glibc
import XCTest

@testable import Reactor

/// `WriteQueue.append(serializing:)` writes into the queue's last coalescing buffer in place:
/// every case of "which buffer" keeps the bytes in order, and a throwing serializer leaves the
/// queue as it was.
final class WriteQueueTests: XCTestCase {
    private struct Refused: Error {}

    private func contents(_ queue: inout WriteQueue) -> [UInt8] {
        var bytes: [UInt8] = []
        queue.takeAll { bytes += $0 }
        return bytes
    }

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func testSerializingIntoAnEmptyQueueAndCoalescingAfterIt() {
        var queue = WriteQueue()
        queue.append(serializing: { $0 += bytes("head ") })
        queue.append(serializing: { $0 += bytes("body") })
        queue.append(UnsafeRawBufferPointer(start: nil, count: 0))
        XCTAssertEqual(queue.count, 9)
        XCTAssertEqual(contents(&queue), bytes("head body"))
        XCTAssertTrue(queue.isEmpty)
    }

    func testASerializerThatWritesNothingLeavesAnEmptyQueueEmpty() {
        var queue = WriteQueue()
        queue.append(serializing: { _ in })
        XCTAssertTrue(queue.isEmpty)
        XCTAssertEqual(queue.count, 0)
        queue.append(serializing: { $0 += bytes("x") })
        XCTAssertEqual(contents(&queue), bytes("x"))
    }

    func testAThrowingSerializerTakesBackWhatItAppended() {
        var queue = WriteQueue()
        XCTAssertThrowsError(
            try queue.append(serializing: { (buffer: inout [UInt8]) throws(Refused) in
                buffer += self.bytes("lost")
                throw Refused()
            }))
        XCTAssertTrue(queue.isEmpty)
        queue.append(serializing: { $0 += bytes("kept") })
        XCTAssertThrowsError(
            try queue.append(serializing: { (buffer: inout [UInt8]) throws(Refused) in
                buffer += self.bytes(" lost")
                throw Refused()
            }))
        XCTAssertEqual(queue.count, 4)
        // Behind a chunk that is not a coalescing buffer (a large write, queued as it is).
        queue.append([UInt8](repeating: 1, count: WriteQueue.coalesceBelow))
        XCTAssertThrowsError(
            try queue.append(serializing: { (buffer: inout [UInt8]) throws(Refused) in
                buffer += self.bytes("lost")
                throw Refused()
            }))
        queue.append(serializing: { _ in })
        XCTAssertEqual(queue.count, 4 + WriteQueue.coalesceBelow)
        queue.append(serializing: { $0 += bytes("tail") })
        XCTAssertThrowsError(
            try queue.append(serializing: { (buffer: inout [UInt8]) throws(Refused) in
                buffer += self.bytes(" lost")
                throw Refused()
            }))
        XCTAssertEqual(
            contents(&queue), bytes("kept") + [UInt8](repeating: 1, count: WriteQueue.coalesceBelow) + bytes("tail"))
    }

    /// After part of the only chunk went out, new bytes go into a buffer after it (appending to
    /// it would resend nothing but keep its sent octets), and the order holds.
    func testSerializingAfterAPartialWriteKeepsTheOrder() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        defer { fds.forEach { close($0) } }
        var queue = WriteQueue()
        queue.append(serializing: { $0 += bytes("0123456789") })
        queue.consume(4)  // as if "0123" had been written
        queue.append(serializing: { $0 += bytes("abc") })
        queue.append(serializing: { $0 += bytes("def") })
        XCTAssertEqual(queue.count, 12)
        XCTAssertEqual(queue.write(to: fds[0]), 12)
        XCTAssertTrue(queue.isEmpty)
        var received = [UInt8](repeating: 0, count: 64)
        let n = read(fds[1], &received, received.count)
        XCTAssertEqual(Array(received[0..<max(0, n)]), bytes("456789abcdef"))
    }
}

/// `StreamSocket.write(serializing:)` sends what a serializer appended, and nothing of one that
/// threw (its error comes out as it is, typed).
final class SerializingWriteTests: XCTestCase {
    private struct Refused: Error, Equatable {}

    func testAThrowingSerializerSendsNothingAndItsErrorComesOut() throws {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let left = StreamSocket(adopting: fds[0], on: reactor)
        let right = StreamSocket(adopting: fds[1], on: reactor)
        defer {
            left.close()
            right.close()
        }
        let got = try reactor.run(timeout: 5) { () async throws -> [UInt8] in
            left.write(serializing: { $0 += Array("one ".utf8) })
            do throws(Refused) {
                try left.write(serializing: { (out: inout [UInt8]) throws(Refused) in
                    out += Array("lost ".utf8)
                    throw Refused()
                })
                XCTFail("the serializer's error did not come out")
            } catch {
                XCTAssertEqual(error, Refused())
            }
            left.write(serializing: { $0 += Array("two".utf8) })
            left.shutdownWrite()
            return try await right.readToEnd()
        }
        XCTAssertEqual(String(decoding: got, as: UTF8.self), "one two")
    }
}
