import Glibc
import XCTest

@testable import Reactor

/// `withUnsafeReadableInput` shows `input`'s readable bytes in place (consuming nothing), and
/// `hasFailed` agrees with `failure`.
final class StreamSocketInputTests: XCTestCase {
    func testReadableInputInPlaceAndHasFailed() throws {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let left = StreamSocket(adopting: fds[0], on: reactor)
        let right = StreamSocket(adopting: fds[1], on: reactor)
        defer { left.close() }
        let seen = try reactor.run(timeout: 5) { () async throws -> [UInt8] in
            left.write(Array("abc".utf8))
            while right.input.readableBytes < 3 {
                try await right.waitForMoreInput("abc", deadline: Deadline(5))
            }
            return right.withUnsafeReadableInput { Array($0) }
        }
        XCTAssertEqual(seen, Array("abc".utf8))
        XCTAssertEqual(right.input.readableBytes, 3, "looking consumes nothing")
        XCTAssertEqual(right.withUnsafeReadableInput { $0.count }, 3)
        XCTAssertFalse(right.hasFailed)
        XCTAssertNil(right.failure)

        // Writing to a peer that is gone fails (EPIPE): `failure` says so, and `hasFailed` too.
        right.close()
        _ = try? reactor.run(timeout: 5) { () async throws -> Bool in
            left.write(Array("lost".utf8))
            try await left.flush()
            return true
        }
        XCTAssertNotNil(left.failure)
        XCTAssertTrue(left.hasFailed)
    }
}
