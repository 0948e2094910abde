import Glibc
import XCTest

@testable import Reactor

/// `Reactor.now()`: one reading of the clock per round of callbacks, the clock itself outside.
final class ReactorClockTests: XCTestCase {
    func testCallbacksOfOneRoundShareOneReadingAndTheNextStepReadsAgain() throws {
        let reactor = try Reactor()
        var readings: [UInt64] = []
        reactor.soon {
            readings.append(reactor.now())
            usleep(2000)
            readings.append(reactor.now())
        }
        reactor.soon { readings.append(reactor.now()) }
        try reactor.step(timeout: 0)
        XCTAssertEqual(readings.count, 3)
        XCTAssertEqual(Set(readings).count, 1, "one reading for the round: \(readings)")

        usleep(2000)
        let outside = reactor.now()
        XCTAssertGreaterThan(outside, readings[0] + 2_000_000 - 1, "outside a step: the clock")
        XCTAssertGreaterThanOrEqual(reactor.now(), outside)

        var later: UInt64 = 0
        reactor.soon { later = reactor.now() }
        try reactor.step(timeout: 0)
        XCTAssertGreaterThanOrEqual(later, outside, "a new step reads the clock again")
    }

    /// A timer's callback and an IO callback in the same step each see a reading no older than
    /// the wait that woke them.
    func testAReadingIsTakenAfterTheWait() throws {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        var seen: UInt64 = 0
        var wrote: UInt64 = 0
        let watcher = reactor.watch(fd: fds[0], events: .read) { _ in
            seen = reactor.now()
            var byte: UInt8 = 0
            _ = read(fds[0], &byte, 1)
        }
        defer { watcher.cancel() }
        try reactor.step(timeout: 0)
        usleep(3000)
        wrote = MonotonicClock.nanoseconds()
        var byte: UInt8 = 1
        XCTAssertEqual(write(fds[1], &byte, 1), 1)
        try reactor.step(timeout: 1)
        XCTAssertGreaterThanOrEqual(seen, wrote)
    }
}
