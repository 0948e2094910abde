import Glibc
import XCTest

@testable import Reactor

/// `loop(timeout: 0)` is one step that does not wait, as cqueues' `loop(0)` is: it steps, then
/// looks at its deadline. It returned without stepping at all, so a host calling it once a frame
/// never made progress. A `stopLoop()` asked for before it still ends it before that step.
final class ZeroTimeoutLoopTests: XCTestCase {
    func testLoopWithTimeoutZeroStepsOnceWithoutWaiting() throws {
        let reactor = try Reactor()
        var ran = 0
        reactor.soon { ran += 1 }
        // Far off: a loop that waited for it would have fired it.
        var fired = false
        let later = reactor.schedule(after: 30) { _ in fired = true }
        defer { later.cancel() }
        try reactor.loop(timeout: 0)
        XCTAssertEqual(ran, 1, "loop(timeout: 0) made no step")
        XCTAssertFalse(fired)

        // A timeout that passed already is the same: one step.
        reactor.soon { ran += 1 }
        try reactor.loop(timeout: -1)
        XCTAssertEqual(ran, 2)

        // Work that keeps queueing work gets one step a call, not more (a frame's budget).
        var again: () -> Void = {}
        again = {
            ran += 1
            reactor.soon(again)
        }
        reactor.soon(again)
        let before = ran
        try reactor.loop(timeout: 0)
        XCTAssertEqual(ran - before, Reactor.maximumRoundsPerStep, "more than one step")
    }

    /// A stop asked for before the loop ends it before its first step, whatever its timeout; it
    /// is that loop's alone, so the next `loop(timeout: 0)` steps.
    func testAStopBeforeALoopWithTimeoutZeroEndsItBeforeItsStep() throws {
        let reactor = try Reactor()
        var ran = false
        reactor.soon { ran = true }
        reactor.stopLoop()
        try reactor.loop(timeout: 0)
        XCTAssertFalse(ran, "the loop stepped after a stop asked for before it")
        try reactor.loop(timeout: 0)
        XCTAssertTrue(ran, "the next loop did not step")
    }

    /// A host's frame loop of `loop(timeout: 0)` calls moves a task, a timer and IO on.
    func testAFrameLoopOfZeroTimeoutsMakesProgress() throws {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        var read = false
        let watcher = reactor.watch(fd: fds[0], events: .read) { _ in read = true }
        defer { watcher.cancel() }
        var slept = false
        reactor.spawn {
            try await reactor.sleep(seconds: 0.01)
            slept = true
        }
        XCTAssertEqual(write(fds[1], "x", 1), 1)
        var frames = 0
        while !(read && slept) && frames < 5_000 {
            try reactor.loop(timeout: 0)
            usleep(1000)
            frames += 1
        }
        XCTAssertTrue(read, "the pipe was never read")
        XCTAssertTrue(slept, "the task never woke")
    }

    /// `run(timeout: 0)` steps once too: a body that finishes without waiting returns its value.
    func testRunWithTimeoutZeroRunsABodyThatDoesNotWait() throws {
        let reactor = try Reactor()
        XCTAssertEqual(try reactor.run(timeout: 0) { 42 }, 42)
        XCTAssertThrowsError(try reactor.run(timeout: 0) { try await reactor.sleep(seconds: 10) }) { error in
            XCTAssertEqual(error as? ReactorError, .timedOut("Reactor.run"))
        }
        try reactor.loop(timeout: 2)
        XCTAssertTrue(reactor.empty())
    }
}
