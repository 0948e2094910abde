import Glibc
import XCTest

@testable import Reactor

/// Watchers and timers hold their reactor `unowned(unsafe)` and check its lifeline: whatever
/// outlives the reactor must leave it alone, and what holds the reactor strongly keeps it alive.
final class ReactorLifetimeTests: XCTestCase {
    private func makePipe() -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return (fds[0], fds[1])
    }

    func testActiveWatcherOutlivingItsReactorIsCancelledAndInert() throws {
        let pipe = makePipe()
        defer { [pipe.read, pipe.write].forEach { close($0) } }
        var reactor: Reactor? = try Reactor()
        weak let gone = reactor
        var calls = 0
        let watcher = reactor!.watch(fd: pipe.read, events: .read) { _ in calls += 1 }
        reactor = nil
        XCTAssertNil(gone, "an active watcher kept its reactor alive")
        XCTAssertTrue(watcher.isCancelled)
        watcher.events = [.read, .write]
        watcher.events = []
        watcher.cancel()
        XCTAssertEqual(calls, 0)
    }

    func testPausedWatcherOutlivingItsReactorCanBeChangedSafely() throws {
        let pipe = makePipe()
        defer { [pipe.read, pipe.write].forEach { close($0) } }
        var reactor: Reactor? = try Reactor()
        weak let gone = reactor
        let watcher = reactor!.watch(fd: pipe.read, events: []) { _ in XCTFail("called") }
        reactor = nil
        XCTAssertNil(gone)
        // Nothing to start it on: changing it must not touch the dead reactor or its loop.
        XCTAssertEqual(write(pipe.write, "x", 1), 1)
        watcher.events = .read
        watcher.cancel()
        XCTAssertTrue(watcher.isCancelled)
    }

    func testDroppingTheHandlerThatHeldTheLastReferenceEndsTheReactorSafely() throws {
        let pipe = makePipe()
        defer { [pipe.read, pipe.write].forEach { close($0) } }
        var reactor: Reactor? = try Reactor()
        weak let gone = reactor
        let watcher = reactor!.watch(fd: pipe.read, events: .read) { [reactor] _ in _ = reactor }
        reactor = nil
        XCTAssertNotNil(gone, "the handler holds the reactor")
        // `cancel` drops the handler (and with it the reactor) before it updates the reactor.
        watcher.cancel()
        XCTAssertNil(gone)
        XCTAssertTrue(watcher.isCancelled)
        watcher.events = .read
    }

    func testScheduledTimerOutlivingItsReactorIsUnscheduledAndInert() throws {
        var reactor: Reactor? = try Reactor()
        weak let gone = reactor
        var fired = 0
        let timer = reactor!.schedule(after: 0.001, repeating: 0.001) { _ in fired += 1 }
        let target = Target()
        let targeted = reactor!.schedule(after: 60, target: target)
        XCTAssertTrue(timer.isScheduled)
        reactor = nil
        XCTAssertNil(gone, "a scheduled timer kept its reactor alive")
        for each in [timer, targeted] {
            XCTAssertFalse(each.isScheduled)
            XCTAssertNil(each.remaining)
            XCTAssertNil(each.scheduledDeadline)
            each.reschedule(after: 0)
            each.reschedule(at: 0)
            XCTAssertFalse(each.isScheduled)
            each.cancel()
        }
        XCTAssertEqual(fired, 0)
        XCTAssertEqual(target.fired, 0)
    }

    func testFiredTimerOutlivingItsReactorCannotBeRescheduled() throws {
        var reactor: Reactor? = try Reactor()
        weak let gone = reactor
        var fired = 0
        let timer = reactor!.schedule(after: 0) { _ in fired += 1 }
        try reactor!.step(timeout: 1)
        XCTAssertEqual(fired, 1)
        XCTAssertFalse(timer.isScheduled)
        reactor = nil
        XCTAssertNil(gone)
        timer.reschedule(after: 0)
        XCTAssertFalse(timer.isScheduled)
        timer.cancel()
    }

    func testTimerHandlerHoldingTheReactorKeepsItUntilCancelled() throws {
        var reactor: Reactor? = try Reactor()
        weak let gone = reactor
        let timer = reactor!.schedule(after: 60) { [reactor] _ in _ = reactor }
        reactor = nil
        XCTAssertNotNil(gone, "the scheduled timer's handler holds the reactor")
        timer.cancel()
        XCTAssertNotNil(gone, "the timer still holds its handler")
        XCTAssertFalse(timer.isScheduled)
        timer.reschedule(after: 60)
        XCTAssertTrue(timer.isScheduled)
        XCTAssertEqual(gone?.empty(), false)
        timer.cancel()
    }

    func testSocketsKeepTheirReactorAlive() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        var reactor: Reactor? = try Reactor()
        weak let gone = reactor
        var socket: StreamSocket? = StreamSocket(adopting: fds[0], on: reactor!)
        var peer: StreamSocket? = StreamSocket(adopting: fds[1], on: reactor!)
        reactor = nil
        XCTAssertNotNil(gone, "a socket holds its reactor")
        var received: [UInt8] = []
        socket!.readInterest = true
        socket!.onReadable = { [unowned socket = socket!] in
            received += socket.input.read(upTo: 100)
        }
        peer!.write([1, 2, 3])
        // A socket that wrote and was dropped stays until its bytes went out.
        peer = nil
        try socket!.reactor.loop(timeout: 2)
        XCTAssertEqual(received, [1, 2, 3])
        socket!.close()
        socket = nil
        XCTAssertNil(gone)
    }

    func testReactorInFdOnlyModeGoesAwayCleanly() throws {
        var reactor: Reactor? = try Reactor()
        weak let gone = reactor
        let baseline = reactor!.activeWatcherCount
        // Turning fd-only mode off stops the timerfd's watcher for good.
        for _ in 0..<3 {
            reactor!.fdOnlyMode = true
            XCTAssertEqual(reactor!.activeWatcherCount, baseline + 1)
            reactor!.fdOnlyMode = false
            XCTAssertEqual(reactor!.activeWatcherCount, baseline)
        }
        reactor!.fdOnlyMode = true
        let timer = reactor!.schedule(after: 60) { _ in }
        reactor = nil
        XCTAssertNil(gone)
        XCTAssertFalse(timer.isScheduled)
    }
}

private final class Target: ReactorTimerTarget {
    var fired = 0
    func timerFired(_ timer: ReactorTimer) { fired += 1 }
}
