import Glibc
import XCTest

@testable import Reactor

/// `flush(timeout:)` while `sendFile` runs waits for the file's end: it must not flush the
/// (empty, lent) queue meanwhile, which would tell the socket it drained and send a half-close
/// asked for during the send in the middle of the file.
final class SendFileFlushTests: XCTestCase {
    func testAFlushDuringTheSendWaitsForTheFileAndTheHalfCloseFollowsIt() throws {
        let reactor = try Reactor()
        let count = 12 << 20
        let file = try TestFile(size: count)
        let (sender, receiver) = try connectedPair(on: reactor)
        defer { sender.close(); receiver.close() }
        let (sent, flushed, received) = try reactor.run(timeout: 30) { () async throws -> (String, String, Int) in
            async let sending = outcome("sent") { try await sender.sendFile(file, offset: 0, count: UInt64(count)) }
            while !sender.sendingFile { await Task.yield() }
            sender.shutdownWrite()
            async let flushing: String = {
                do {
                    try await sender.flush(timeout: 20)
                    return sender.sendingFile ? "flushed before the file's end" : "flushed"
                } catch {
                    return "\(error)"
                }
            }()
            // Let the flush run a while before the receiver makes room.
            try await Task.sleep(nanoseconds: 200_000_000)
            let body = try await receiver.readToEnd(limit: 16 << 20, timeout: 20)
            return (await sending, await flushing, body.count)
        }
        XCTAssertEqual(sent, "sent")
        XCTAssertEqual(flushed, "flushed")
        XCTAssertEqual(received, count)
    }

    /// A flush of the lent queue meanwhile (`flushNow`, or one scheduled before the send began
    /// and run at the end of that step) finds it empty: the half-close still waits for the file.
    func testAFlushOfTheLentQueueDoesNotSendTheHalfCloseEarly() throws {
        let reactor = try Reactor()
        let count = 12 << 20
        let file = try TestFile(size: count)
        let (sender, receiver) = try connectedPair(on: reactor)
        defer { sender.close(); receiver.close() }
        let (sent, received) = try reactor.run(timeout: 30) { () async throws -> (String, Int) in
            async let sending = outcome("sent") { try await sender.sendFile(file, offset: 0, count: UInt64(count)) }
            while !sender.sendingFile { await Task.yield() }
            sender.shutdownWrite()
            sender.flushNow()
            let body = try await receiver.readToEnd(limit: 16 << 20, timeout: 20)
            return (await sending, body.count)
        }
        XCTAssertEqual(sent, "sent")
        XCTAssertEqual(received, count)
    }
}
