import Glibc
import XCTest

@testable import Reactor

/// A drained coalescing buffer goes back to the reactor for the next response instead of being
/// freed; buffers that are not the queue's own (a caller's large array) or too large never do.
final class SpareOutputBufferTests: XCTestCase {
    /// Sends everything queued into a socket pair and reads it back.
    private func drain(_ queue: inout WriteQueue) throws -> [UInt8] {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        let count = queue.count
        XCTAssertEqual(queue.write(to: fds[0]), count)
        var received = [UInt8](repeating: 0, count: count)
        XCTAssertEqual(read(fds[1], &received, count), count)
        return received
    }

    func testADrainedCoalescingBufferIsSpareAndAnotherQueueWritesIntoIt() throws {
        var queue = WriteQueue()
        queue.append(Array("HTTP/1.1 200 OK\r\n\r\n".utf8))
        XCTAssertNil(queue.takeSpareStorage(), "not while bytes are queued")
        XCTAssertEqual(try drain(&queue), Array("HTTP/1.1 200 OK\r\n\r\n".utf8))
        let spare = try XCTUnwrap(queue.takeSpareStorage())
        XCTAssertTrue(spare.isEmpty)
        XCTAssertGreaterThanOrEqual(spare.capacity, WriteQueue.minimumCoalescingCapacity)
        XCTAssertTrue(queue.needsStorage, "the drained queue holds no storage once it gave it away")
        XCTAssertNil(queue.takeSpareStorage())

        var next = WriteQueue()
        XCTAssertTrue(next.needsStorage)
        next.adoptSpareStorage(spare)
        XCTAssertFalse(next.needsStorage)
        next.append(Array("second".utf8))
        next.append(Array(" response".utf8))
        XCTAssertEqual(try drain(&next), Array("second response".utf8))
    }

    func testACallersLargeArrayIsNeverKept() throws {
        var queue = WriteQueue()
        let large = [UInt8](repeating: 7, count: WriteQueue.coalesceBelow)
        queue.append(large)
        XCTAssertEqual(try drain(&queue), large)
        XCTAssertNil(queue.takeSpareStorage(), "the caller's array is not the queue's to hand on")
        XCTAssertTrue(queue.needsStorage)
    }

    func testABufferThatGrewLargeIsFreed() throws {
        var queue = WriteQueue()
        queue.appendUnlessRefused {
            $0 += [UInt8](repeating: 1, count: WriteQueue.maximumSpareCapacity + 1)
            return true
        }
        XCTAssertEqual(try drain(&queue).count, WriteQueue.maximumSpareCapacity + 1)
        XCTAssertNil(queue.takeSpareStorage())
    }

    /// Through sockets: responses on many connections one after another use a handful of buffers
    /// that the reactor keeps, bounded, and the bytes arrive intact.
    func testSocketsGiveTheirDrainedBuffersToTheReactor() throws {
        let reactor = try Reactor()
        var pairs: [(StreamSocket, Int32)] = []
        for _ in 0..<(Reactor.maximumSpareOutputBuffers + 4) {
            var fds: [Int32] = [0, 0]
            XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
            pairs.append((StreamSocket(adopting: fds[0], on: reactor), fds[1]))
        }
        defer {
            for (socket, peer) in pairs {
                socket.close()
                close(peer)
            }
        }
        for round in 0..<3 {
            for (index, (socket, peer)) in pairs.enumerated() {
                let text = Array("round \(round) socket \(index)".utf8)
                socket.write(text)
                socket.flushNow()
                var received = [UInt8](repeating: 0, count: text.count)
                XCTAssertEqual(read(peer, &received, text.count), text.count)
                XCTAssertEqual(received, text)
            }
        }
        XCTAssertEqual(reactor.spareOutputBufferCount, 1, "one buffer served every response, in turn")
        // All written before any drains: each socket needs a buffer; at most the bound are kept.
        for (index, (socket, _)) in pairs.enumerated() { socket.write(Array("late \(index)".utf8)) }
        for (socket, _) in pairs { socket.flushNow() }
        XCTAssertEqual(reactor.spareOutputBufferCount, Reactor.maximumSpareOutputBuffers)
        for (index, (_, peer)) in pairs.enumerated() {
            let text = Array("late \(index)".utf8)
            var received = [UInt8](repeating: 0, count: text.count)
            XCTAssertEqual(read(peer, &received, text.count), text.count)
            XCTAssertEqual(received, text)
        }
    }
}
