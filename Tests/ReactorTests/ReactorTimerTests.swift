import Glibc
import XCTest

@testable import Reactor

final class ReactorTimerTests: XCTestCase {
    func testFiftyMillisecondTimerFiresOnTimeWithoutBusyWaiting() throws {
        let reactor = try Reactor()
        let start = MonotonicClock.seconds()
        var firedAt: Double?
        reactor.schedule(after: 0.050) { _ in firedAt = MonotonicClock.seconds() - start }
        let wakeups = try foreignLoop(reactor, for: 2) { firedAt != nil }
        let elapsed = try XCTUnwrap(firedAt)
        XCTAssertGreaterThanOrEqual(elapsed, 0.050, "fired early")
        // Generous upper bound: a loaded 2-core CI machine must never flake.
        XCTAssertLessThan(elapsed, 0.250, "fired late")
        // One wake-up for the timer; a spurious one at most (no busy waiting for the sub-ms rest).
        XCTAssertLessThanOrEqual(wakeups, 3, "host woke \(wakeups) times for one timer")
        XCTAssertTrue(reactor.empty())
        XCTAssertNil(reactor.timeout())
    }

    func testTimeoutReportsEarliestDeadlineAndZeroForQueuedWork() throws {
        let reactor = try Reactor()
        XCTAssertNil(reactor.timeout())
        let late = reactor.schedule(after: 10) { _ in }
        reactor.schedule(after: 5) { _ in }.cancel()
        let early = reactor.schedule(after: 2) { _ in }
        let timeout = try XCTUnwrap(reactor.timeout())
        XCTAssert((1.9...2.0).contains(timeout), "timeout \(timeout)")
        early.cancel()
        XCTAssert((9.9...10).contains(try XCTUnwrap(reactor.timeout())))
        reactor.soon {}
        XCTAssertEqual(reactor.timeout(), 0)
        try reactor.step(timeout: 0)
        XCTAssert((9.9...10).contains(try XCTUnwrap(reactor.timeout())))
        late.cancel()
        XCTAssertNil(reactor.timeout())
        XCTAssertTrue(reactor.empty())
    }

    func testTimersFireInDeadlineOrderAndRepeatingTimerRepeats() throws {
        let reactor = try Reactor()
        var order: [String] = []
        reactor.schedule(after: 0.030) { _ in order.append("c") }
        reactor.schedule(after: 0.010) { _ in order.append("a") }
        reactor.schedule(after: 0.020) { _ in order.append("b") }
        var ticks = 0
        reactor.schedule(after: 0.005, repeating: 0.005) { timer in
            ticks += 1
            if ticks == 5 { timer.cancel() }
        }
        try foreignLoop(reactor, for: 2) { order.count == 3 && ticks == 5 }
        XCTAssertEqual(order, ["a", "b", "c"])
        XCTAssertEqual(ticks, 5)
        XCTAssertTrue(reactor.empty())
    }

    func testARepeatingTimerTooSlowForNanosecondsFiresOnceAndThenWaits() throws {
        // Intervals past what UInt64 nanoseconds hold (about 1.8e10 s), or infinite, saturate
        // as every deadline does: the timer fires once, then not again.
        for interval in [Double.infinity, 2e10, 1e9] {
            let reactor = try Reactor()
            var fired = 0
            let timer = reactor.schedule(after: 0, repeating: interval) { _ in fired += 1 }
            try reactor.step(timeout: 0)
            try reactor.step(timeout: 0)
            XCTAssertEqual(fired, 1, "repeating every \(interval) s")
            XCTAssertGreaterThan(reactor.timeout() ?? .infinity, 1e6, "repeating every \(interval) s")
            timer.cancel()
        }
    }

    func testManyTimersAreCheapAndCancellable() throws {
        let reactor = try Reactor()
        var fired = 0
        var timers: [ReactorTimer] = []
        for i in 0..<20_000 {
            timers.append(reactor.schedule(after: 0.001 + Double(i % 100) / 10_000) { _ in fired += 1 })
        }
        for (i, timer) in timers.enumerated() where i % 2 == 0 { timer.cancel() }
        try foreignLoop(reactor, for: 5) { reactor.empty() }
        XCTAssertEqual(fired, 10_000)
    }

    func testRescheduleMovesDeadline() throws {
        let reactor = try Reactor()
        var fired = false
        let timer = reactor.schedule(after: 5) { _ in fired = true }
        timer.reschedule(after: 0.01)
        try foreignLoop(reactor, for: 2) { fired }
        XCTAssertTrue(fired)
        XCTAssertFalse(timer.isScheduled)
    }

    func testStepWithTimeoutBlocksAtMostThatLong() throws {
        let reactor = try Reactor()
        let start = MonotonicClock.seconds()
        try reactor.step(timeout: 0.030)
        let elapsed = MonotonicClock.seconds() - start
        XCTAssertGreaterThanOrEqual(elapsed, 0.029)
        XCTAssertLessThan(elapsed, 0.250)
        let zeroStart = MonotonicClock.seconds()
        try reactor.step(timeout: 0)
        XCTAssertLessThan(MonotonicClock.seconds() - zeroStart, 0.010)
    }

    func testFdOnlyModeFiresTimersWhenTheHostIgnoresTimeout() throws {
        let reactor = try Reactor()
        reactor.fdOnlyMode = true
        let start = MonotonicClock.seconds()
        var firedAt: Double?
        reactor.schedule(after: 0.050) { _ in firedAt = MonotonicClock.seconds() - start }
        let wakeups = try foreignLoop(reactor, for: 2, honourTimeout: false) { firedAt != nil }
        let elapsed = try XCTUnwrap(firedAt, "the fd never became readable for the timer")
        XCTAssertGreaterThanOrEqual(elapsed, 0.050)
        XCTAssertLessThan(elapsed, 0.250)
        XCTAssertLessThanOrEqual(wakeups, 3)
        // Deferred work queued outside a step also wakes an fd-only host.
        var ran = false
        reactor.soon { ran = true }
        var pfd = pollfd(fd: reactor.pollfd(), events: Int16(POLLIN), revents: 0)
        XCTAssertEqual(poll(&pfd, 1, 1000), 1)
        try reactor.step(timeout: 0)
        XCTAssertTrue(ran)
    }

    func testLoopRunsUntilEmpty() throws {
        let reactor = try Reactor()
        var count = 0
        reactor.schedule(after: 0.01) { _ in
            count += 1
            reactor.schedule(after: 0.01) { _ in count += 1 }
        }
        try reactor.loop(timeout: 5)
        XCTAssertEqual(count, 2)
        XCTAssertTrue(reactor.empty())
    }

    func testLoopUntilReturnsOnceDoneWithWorkLeft() throws {
        let reactor = try Reactor()
        let later = reactor.schedule(after: 10) { _ in XCTFail("ran the late timer") }
        var done = false
        reactor.schedule(after: 0.01) { _ in done = true }
        let start = MonotonicClock.seconds()
        try reactor.loop(timeout: 5) { done }
        XCTAssertTrue(done)
        XCTAssertLessThan(MonotonicClock.seconds() - start, 2, "waited for the late timer")
        XCTAssertFalse(reactor.empty())
        later.cancel()
        XCTAssertTrue(reactor.empty())
    }

    /// `loop` measures each wait from the clock reading that ended the previous step: timers
    /// still fire on time while other work keeps it stepping.
    func testLoopFiresTimersOnTimeBetweenBusySteps() throws {
        let reactor = try Reactor()
        var delays: [Double] = []
        var busyRounds = 0
        func keepBusy() {
            busyRounds += 1
            if delays.count < 5 { reactor.soon { keepBusy() } }
        }
        func arm() {
            let armedAt = MonotonicClock.seconds()
            reactor.schedule(after: 0.02) { _ in
                delays.append(MonotonicClock.seconds() - armedAt)
                if delays.count < 5 { arm() }
            }
        }
        arm()
        keepBusy()
        try reactor.loop(timeout: 10)
        XCTAssertEqual(delays.count, 5)
        for delay in delays {
            XCTAssertGreaterThanOrEqual(delay, 0.02, "fired early")
            XCTAssertLessThan(delay, 0.5, "fired late")
        }
        XCTAssertGreaterThan(busyRounds, 5)
        XCTAssertTrue(reactor.empty())
    }
}
