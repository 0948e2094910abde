import Glibc
import XCTest

@testable import Reactor

/// A `sendFile` whose wait ends (a timeout, a cancellation) in the same step as its stretch:
/// the stretch's result, posted first, is delivered before the waiting task hears of its
/// timeout. The output must still come back to the socket, once, whichever comes first.
final class SendFileTimeoutRaceTests: XCTestCase {
    func testATimeoutDeliveredAfterTheStretchsResultGivesTheOutputBack() throws {
        let reactor = try Reactor()
        let file = try TestFile(size: 1000)
        let (sender, receiver) = try connectedPair(on: reactor, sendBuffer: nil)
        defer { sender.close(); receiver.close() }
        let (error, received) = try reactor.run(timeout: 10) { () async throws -> (String, Int) in
            async let sending: String = {
                do {
                    try await sender.sendFile(file, offset: 0, count: 1000, timeout: 0.05)
                    return "sent"
                } catch {
                    return "\(error)"
                }
            }()
            while !sender.sendingFile { await Task.yield() }
            // The reactor's thread is busy past the deadline while the stretch ends: its result
            // is in the inbox when the timer fires, ahead of the task the timer resumes.
            usleep(300_000)
            let error = await sending
            // The socket is its own again: a half-close goes out, and another send may start.
            try await reactor.sleep(seconds: 0.05)
            XCTAssertTrue(sender.canSendFile)
            sender.shutdownWrite()
            let body = try await receiver.readToEnd(timeout: 2)
            return (error, body.count)
        }
        // Either outcome is fair (the stretch was done), but the output is back either way.
        XCTAssertTrue(error == "sent" || error.contains("timed out"), error)
        XCTAssertEqual(received, 1000)
        XCTAssertFalse(sender.sendingFile)
    }
}
