import Glibc
import XCTest

@testable import Reactor

final class BufferTests: XCTestCase {
    func testByteBufferAppendConsumeUngetAndGrowth() {
        var buffer = ByteBuffer()
        buffer.append(contentsOf: Array("hello world".utf8))
        XCTAssertEqual(buffer.readableBytes, 11)
        XCTAssertEqual(buffer.read(upTo: 6), Array("hello ".utf8))
        buffer.prepend(contentsOf: Array("big ".utf8))
        XCTAssertEqual(buffer.withUnsafeReadableBytes { Array($0) }, Array("big world".utf8))
        XCTAssertEqual(buffer.firstIndex(of: UInt8(ascii: "w")), 4)
        XCTAssertNil(buffer.firstIndex(of: UInt8(ascii: "w"), from: 5))
        // Growth keeps the unconsumed bytes and only them.
        let big = [UInt8](repeating: 7, count: 100_000)
        buffer.append(contentsOf: big)
        XCTAssertEqual(buffer.readableBytes, 9 + 100_000)
        XCTAssertEqual(buffer.read(upTo: 9), Array("big world".utf8))
        XCTAssertEqual(buffer.read(upTo: 200_000), big)
        XCTAssertTrue(buffer.isEmpty)
        XCTAssertEqual(buffer.readerIndex, 0, "an emptied buffer starts over at the front")
    }

    func testUngetMoreThanWasConsumed() {
        var buffer = ByteBuffer(Array("tail".utf8))
        buffer.prepend(contentsOf: Array("a long head, ".utf8))
        XCTAssertEqual(buffer.withUnsafeReadableBytes { Array($0) }, Array("a long head, tail".utf8))
    }

    func testWriteQueueCoalescesSmallWritesAndKeepsOrderAcrossPartialWrites() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        defer { fds.forEach { close($0) } }
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        var queue = WriteQueue()
        var expected: [UInt8] = []
        for i in 0..<200 {
            let chunk = [UInt8](repeating: UInt8(i % 251), count: i % 3 == 0 ? 10_000 : 17)
            queue.append(chunk)
            expected += chunk
        }
        XCTAssertEqual(queue.count, expected.count)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !queue.isEmpty || received.count < expected.count {
            if !queue.isEmpty { _ = queue.write(to: fds[0]) }
            let n = read(fds[1], &buffer, buffer.count)
            if n > 0 { received += buffer[0..<n] }
        }
        XCTAssertEqual(received, expected)
    }
}

final class ByteBufferStorageTests: XCTestCase {
    /// Reading into the free tail reuses the storage (no new allocation while it fits), and an
    /// emptied, released buffer holds none.
    func testTailIsReusedAndReleasedStorageIsGone() {
        var buffer = ByteBuffer()
        XCTAssertEqual(buffer.capacity, 0)
        Array("abc".utf8).withUnsafeBytes { buffer.append($0) }
        let capacity = buffer.capacity
        XCTAssertGreaterThanOrEqual(capacity, 3)
        let written = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 10) { room in
            room.copyBytes(from: Array("defg".utf8))
            return 4
        }
        XCTAssertEqual(written, 4)
        XCTAssertEqual(buffer.capacity, capacity, "a tail with room is written in place")
        XCTAssertEqual(buffer.read(upTo: 100), Array("abcdefg".utf8))
        buffer.releaseStorageIfEmpty()
        XCTAssertEqual(buffer.capacity, 0)
    }

    /// Copies share storage until one of them writes (copy-on-write), and neither sees the
    /// other's changes.
    func testCopiesAreIndependent() {
        var first = ByteBuffer(Array("hello".utf8))
        var second = first
        second.append(contentsOf: Array(" world".utf8))
        first.consume(1)
        first.prepend(contentsOf: Array("J".utf8))
        XCTAssertEqual(first.read(upTo: 100), Array("Jello".utf8))
        XCTAssertEqual(second.read(upTo: 100), Array("hello world".utf8))
    }
}
