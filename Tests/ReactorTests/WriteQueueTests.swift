import Glibc
import XCTest

@testable import Reactor

/// `WriteQueue.appendUnlessRefused` (`StreamSocket.write(serializing:)`) writes into the queue's
/// last coalescing buffer in place: every case of "which buffer" keeps the bytes in order, and a
/// refusing (throwing) serializer leaves the queue as it was.
final class WriteQueueTests: XCTestCase {
    private func contents(_ queue: inout WriteQueue) -> [UInt8] {
        var bytes: [UInt8] = []
        queue.takeAll { bytes += $0 }
        return bytes
    }

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func append(_ queue: inout WriteQueue, _ text: String) {
        queue.appendUnlessRefused {
            $0 += self.bytes(text)
            return true
        }
    }

    func testSerializingIntoAnEmptyQueueAndCoalescingAfterIt() {
        var queue = WriteQueue()
        append(&queue, "head ")
        append(&queue, "body")
        queue.append(UnsafeRawBufferPointer(start: nil, count: 0))
        XCTAssertEqual(queue.count, 9)
        XCTAssertEqual(contents(&queue), bytes("head body"))
        XCTAssertTrue(queue.isEmpty)
    }

    func testASerializerThatWritesNothingLeavesAnEmptyQueueEmpty() {
        var queue = WriteQueue()
        append(&queue, "")
        XCTAssertTrue(queue.isEmpty)
        XCTAssertEqual(queue.count, 0)
        append(&queue, "x")
        XCTAssertEqual(contents(&queue), bytes("x"))
    }

    func testARefusingSerializerTakesBackWhatItAppended() {
        var queue = WriteQueue()
        queue.appendUnlessRefused {
            $0 += self.bytes("lost")
            return false
        }
        XCTAssertTrue(queue.isEmpty)
        append(&queue, "kept")
        queue.appendUnlessRefused {
            $0 += self.bytes(" lost")
            return false
        }
        XCTAssertEqual(queue.count, 4)
        // Behind a chunk that is not a coalescing buffer (a large write, queued as it is).
        queue.append([UInt8](repeating: 1, count: WriteQueue.coalesceBelow))
        queue.appendUnlessRefused {
            $0 += self.bytes("lost")
            return false
        }
        append(&queue, "")
        XCTAssertEqual(queue.count, 4 + WriteQueue.coalesceBelow)
        append(&queue, "tail")
        queue.appendUnlessRefused {
            $0 += self.bytes(" lost")
            return false
        }
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
        append(&queue, "0123456789")
        queue.consume(4)  // as if "0123" had been written
        append(&queue, "abc")
        append(&queue, "def")
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
