import Glibc
import XCTest

@testable import Reactor

final class ReactorIOTests: XCTestCase {
    /// A watcher on a regular file (stdin redirected from a file, a log being tailed): libev's
    /// epoll backend gets EPERM and emulates it as "always ready" by polling with a zero
    /// timeout, which a host blocked on `pollfd()` never sees. `loop()` fires the handler at
    /// once; a host that follows the documented recipe sleeps through it.
    func testAWatcherOnARegularFileWakesAForeignHost() throws {
        var template = Array("/tmp/stepwise-regular-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer {
            close(fd)
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        }
        _ = write(fd, "hello\n", 6)
        _ = lseek(fd, 0, SEEK_SET)

        // Standalone: the handler runs at once.
        do {
            let reactor = try Reactor()
            var fired = false
            let watcher = reactor.watch(fd: fd, events: .read) { _ in fired = true }
            try reactor.loop(timeout: 1) { fired }
            watcher.cancel()
            XCTAssertTrue(fired, "loop() did not see the regular file as readable")
        }

        // The same through the foreign-loop face.
        let reactor = try Reactor()
        var fired = false
        let watcher = reactor.watch(fd: fd, events: .read) { _ in fired = true }
        defer { watcher.cancel() }
        // The first step (timeout() == 0 for the new watcher) registers it with libev.
        try reactor.step(timeout: 0)
        fired = false
        // Nothing else is pending: what does the host see?
        let ms = reactor.timeoutMilliseconds()
        var pfd = pollfd(fd: reactor.pollfd(), events: reactor.events().rawValue, revents: 0)
        let start = MonotonicClock.seconds()
        let ready = poll(&pfd, 1, ms < 0 || ms > 500 ? 500 : ms)
        let slept = MonotonicClock.seconds() - start
        try reactor.step(timeout: 0)
        XCTAssertTrue(
            ready == 1 || ms == 0,
            "the host slept \(Int(slept * 1000)) ms (timeout() = \(ms) ms, pollfd not readable) "
                + "although the watched fd is always ready (fired in the next step: \(fired))")
    }

    private func makePipe() -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return (fds[0], fds[1])
    }

    func testWatcherStartedInsideCallbackIsSeenWithoutDelay() throws {
        let reactor = try Reactor()
        let first = makePipe()
        let second = makePipe()
        defer { [first.read, first.write, second.read, second.write].forEach { close($0) } }
        // The second pipe is already readable before anybody watches it.
        XCTAssertEqual(write(second.write, "x", 1), 1)
        var secondSeenAt: Double?
        var inner: IOWatcher?
        let outer = reactor.watch(fd: first.read, events: .read) { _ in
            var byte: UInt8 = 0
            _ = read(first.read, &byte, 1)
            inner = reactor.watch(fd: second.read, events: .read) { _ in
                secondSeenAt = MonotonicClock.seconds()
                inner?.cancel()
            }
        }
        XCTAssertEqual(write(first.write, "x", 1), 1)
        let start = MonotonicClock.seconds()
        try foreignLoop(reactor, for: 2) { secondSeenAt != nil }
        outer.cancel()
        let seen = try XCTUnwrap(secondSeenAt)
        XCTAssertLessThan(
            seen - start, 0.100, "a watcher started in a callback waited for another event")
    }

    func testCrossThreadExecuteWakesHostBlockedInPoll() throws {
        let reactor = try Reactor()
        let thread = try TestThread {
            usleep(50_000)
            reactor.execute { reactor.stopLoop() }
        }
        let ran = Flag()
        reactor.execute { ran.value = true }  // same thread: no wake-up needed, timeout() is 0
        XCTAssertEqual(reactor.timeout(), 0)
        try reactor.step(timeout: 0)
        XCTAssertTrue(ran.value)
        // Now block in the host's poll with no deadline at all: only the eventfd can wake it.
        XCTAssertNil(reactor.timeout())
        var pfd = pollfd(fd: reactor.pollfd(), events: reactor.events().rawValue, revents: 0)
        let start = MonotonicClock.seconds()
        XCTAssertEqual(poll(&pfd, 1, 5_000), 1, "execute from another thread did not wake poll()")
        XCTAssertLessThan(MonotonicClock.seconds() - start, 1.0)
        try reactor.step(timeout: 0)
        thread.join()
    }

    func testWatcherEventsCanChangeAndCancelStopsDelivery() throws {
        let reactor = try Reactor()
        let p = makePipe()
        defer {
            close(p.read)
            close(p.write)
        }
        var writable = 0
        let watcher = reactor.watch(fd: p.write, events: .write) { ready in
            if ready.contains(.write) { writable += 1 }
        }
        try reactor.step(timeout: 0.1)
        XCTAssertGreaterThan(writable, 0)
        watcher.events = []
        let before = writable
        try reactor.step(timeout: 0.02)
        XCTAssertEqual(writable, before)
        XCTAssertTrue(reactor.empty())
        watcher.events = .write
        XCTAssertFalse(reactor.empty())
        watcher.cancel()
        try reactor.step(timeout: 0.02)
        XCTAssertEqual(writable, before + 0, "a cancelled watcher fired")
        XCTAssertTrue(reactor.empty())
    }

    /// A `stopLoop()` from another thread that lands before the loop starts is not lost: the
    /// loop returns before its first step, and the next one runs (each call ends one loop).
    func testAStopBeforeTheLoopStartsEndsIt() throws {
        let reactor = try Reactor()
        let ticks = Flag()
        let timer = reactor.schedule(after: 0.01, repeating: 0.01) { _ in ticks.value = true }
        defer { timer.cancel() }
        let thread = try TestThread { reactor.stopLoop() }
        thread.join()
        let start = MonotonicClock.seconds()
        try reactor.loop(timeout: 5)  // the repeating timer never lets it be empty
        XCTAssertLessThan(MonotonicClock.seconds() - start, 1, "the stop was lost")
        XCTAssertFalse(ticks.value, "the loop stepped")
        try reactor.loop(timeout: 0.1)
        XCTAssertTrue(ticks.value, "the second loop did not run")

        // A stop asked for in the step after which a loop is done is that loop's: the next one
        // runs.
        timer.cancel()
        var fired = 0
        reactor.schedule(after: 0.01) { _ in
            fired += 1
            reactor.stopLoop()
        }
        try reactor.loop(timeout: 5)
        XCTAssertEqual(fired, 1)
        reactor.schedule(after: 0.01) { _ in fired += 1 }
        try reactor.loop(timeout: 5)
        XCTAssertEqual(fired, 2, "a stop the first loop ended without was left for the second")
    }

    func testReentrantStepIsAnError() throws {
        let reactor = try Reactor()
        var caught: Error?
        reactor.soon {
            do { try reactor.step(timeout: 0) } catch { caught = error }
        }
        try reactor.step(timeout: 0)
        XCTAssertEqual(caught as? ReactorError, .reentrantStep)
    }

    /// `loop` from inside a step is refused as `step` is, before it looks at `stopLoop()`: it
    /// returned at once without an error, having taken the running loop's stop (which then went
    /// on to its timeout).
    func testReentrantLoopIsAnErrorAndLeavesTheRunningLoopsStop() throws {
        let reactor = try Reactor()
        var caught: [String] = []
        reactor.soon {
            reactor.stopLoop()
            do { try reactor.loop(timeout: 1) } catch { caught.append("\(error)") }
            do { try reactor.loop(timeout: 1) { true } } catch { caught.append("\(error)") }
        }
        // Fires only if the running loop missed its stop.
        var ranOn = false
        reactor.schedule(after: 1) { _ in ranOn = true }
        try reactor.loop(timeout: 3)
        XCTAssertEqual(caught, ["\(ReactorError.reentrantStep)", "\(ReactorError.reentrantStep)"])
        XCTAssertFalse(ranOn, "the loop went on past the stop asked for inside it")
    }

    func testPollfdChangeIsReportedAfterFork() throws {
        let reactor = try Reactor()
        var reported: Int32?
        reactor.onPollfdChange = { reported = $0 }
        let generation = reactor.pollfdGeneration
        reactor.afterFork()
        try reactor.step(timeout: 0)
        XCTAssertEqual(reactor.pollfdGeneration, generation + 1)
        XCTAssertEqual(reported, reactor.pollfd())
        // The new epoll instance works: a timer still wakes a host polling the (new) fd.
        var fired = false
        reactor.schedule(after: 0.02) { _ in fired = true }
        try foreignLoop(reactor, for: 2) { fired }
        XCTAssertTrue(fired)
    }
}

/// A joinable pthread for tests.
final class TestThread: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: () -> Void

    init(_ body: @escaping @Sendable () -> Void) throws {
        self.body = body
        let unmanaged = Unmanaged.passRetained(self)
        let rc = pthread_create(
            &thread, nil,
            { raw in
                let me = Unmanaged<TestThread>.fromOpaque(raw!).takeRetainedValue()
                me.body()
                return nil
            }, unmanaged.toOpaque())
        if rc != 0 {
            unmanaged.release()
            throw SystemError("pthread_create", errno: rc)
        }
    }

    func join() { pthread_join(thread, nil) }
}

/// A flag a @Sendable closure can set in a test; only read after the writer is done.
final class Flag: @unchecked Sendable {
    var value = false
}
