import CLibev  // <sys/epoll.h> (not in Glibc) and libev with the shim's `evshim_io_*` wrappers
import Glibc
import Reactor
import XCTest

/// The epoll and libev-host recipes of docs/foreign-loop-hosts.md, run as written: the lines
/// between the `recipe` marks are what the document shows (ExamplesTests checks that it still
/// does). Around them, a scenario that fails when the recipe breaks: the reactor's timers fire
/// on time with no I/O, I/O that arrives after an epoll rebuild (`afterFork()`) wakes the host
/// at once (it is re-registered through `onPollfdChange`), work the host hands the reactor
/// between steps runs on time, and the host does not spin.
final class HostRecipeTests: XCTestCase {
    func testEpollRecipe() throws {
        // recipe: epoll, setup
        let reactor = try Reactor()
        let epfd = epoll_create1(Int32(EPOLL_CLOEXEC))

        func watchReactor(_ fd: Int32) {
            var event = epoll_event()
            event.events = EPOLLIN.rawValue
            event.data.fd = fd
            // A rebuild closed libev's old epoll file, which removed that file's entry here: add
            // the new one, even when its number is the same.
            if epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event) != 0 {
                print("epoll_ctl(EPOLL_CTL_ADD, \(fd)): errno \(errno)")
            }
        }
        watchReactor(reactor.pollfd())
        reactor.onPollfdChange = { watchReactor($0) }
        // end of recipe
        defer { close(epfd) }

        let scenario = RecipeScenario()
        let ownPipe = makePipe()
        let reactorPipe = makePipe()
        defer { [ownPipe.read, ownPipe.write, reactorPipe.read, reactorPipe.write].forEach { close($0) } }
        var ownEvent = epoll_event()
        ownEvent.events = EPOLLIN.rawValue
        ownEvent.data.fd = ownPipe.read
        XCTAssertEqual(epoll_ctl(epfd, EPOLL_CTL_ADD, ownPipe.read, &ownEvent), 0)
        // The host's own fd: read it, and hand the reactor a timer from outside any step.
        func handleOwnFd(_ fd: Int32) {
            var byte: UInt8 = 0
            _ = read(fd, &byte, 1)
            scenario.note("host read its pipe")
            scenario.note("host scheduled a reactor timer")
            reactor.schedule(after: 0.03) { _ in scenario.note("reactor timer from the host fired") }
        }
        scenario.start(on: reactor, reactorPipe: reactorPipe.read)
        // Keeps the reactor, and so the recipe's `while !reactor.empty()`, going until the host's
        // own fd and the timer it schedules have had their turn.
        reactor.schedule(after: 0.3) { _ in }
        let thread = try scenario.writeLater(own: ownPipe.write, reactors: reactorPipe.write)
        defer { thread.join() }

        let cpuBefore = threadCPUSeconds()
        // recipe: epoll, loop
        var ready = [epoll_event](repeating: epoll_event(), count: 64)
        while !reactor.empty() {
            let count = epoll_wait(epfd, &ready, Int32(ready.count), reactor.timeoutMilliseconds())
            for event in ready.prefix(Int(max(count, 0))) where event.data.fd != reactor.pollfd() {
                handleOwnFd(event.data.fd)  // one of your own fds is ready
            }
            try reactor.step(timeout: 0)
        }
        // end of recipe
        let cpu = threadCPUSeconds() - cpuBefore

        scenario.check(reactor: reactor, cpuSeconds: cpu, ownFd: true)
    }

    func testLibevHostRecipe() throws {
        let reactor = try Reactor()
        let hostLoop = try XCTUnwrap(ev_loop_new(UInt32(EVBACKEND_EPOLL) | UInt32(EVFLAG_NOSIGMASK)))
        defer { ev_loop_destroy(hostLoop) }

        // recipe: libev
        // C callbacks cannot capture: the reactor travels in the watcher's `data` field.
        let stepReactor: evshim_io_cb = { _, watcher, _ in
            let reactor = Unmanaged<Reactor>.fromOpaque(watcher!.pointee.data).takeUnretainedValue()
            do { try reactor.step(timeout: 0) } catch { print("reactor: \(error)") }
        }
        reactor.fdOnlyMode = true
        let io = UnsafeMutablePointer<ev_io>.allocate(capacity: 1)
        evshim_io_init(io, stepReactor, reactor.pollfd(), Int32(EV_READ))
        io.pointee.data = Unmanaged.passUnretained(reactor).toOpaque()  // keep `reactor` alive yourself
        ev_io_start(hostLoop, io)
        reactor.onPollfdChange = { fd in
            ev_io_stop(hostLoop, io)
            evshim_io_set(io, fd, Int32(EV_READ))
            ev_io_start(hostLoop, io)
        }
        // end of recipe
        defer {
            ev_io_stop(hostLoop, io)
            io.deallocate()
        }

        let scenario = RecipeScenario()
        let reactorPipe = makePipe()
        defer { [reactorPipe.read, reactorPipe.write].forEach { close($0) } }
        scenario.start(on: reactor, reactorPipe: reactorPipe.read)
        let thread = try scenario.writeLater(own: nil, reactors: reactorPipe.write)
        defer { thread.join() }
        // The host's own timers: at 200 ms it hands the reactor a timer from outside any step;
        // the loop ends when that timer fires (or, if the recipe broke, at the 3 s watchdog).
        let handOver = HostTimer(loop: hostLoop, after: 0.2) {
            scenario.note("host scheduled a reactor timer")
            reactor.schedule(after: 0.03) { _ in
                scenario.note("reactor timer from the host fired")
                ev_break(hostLoop, Int32(EVBREAK_ALL))
            }
        }
        let watchdog = HostTimer(loop: hostLoop, after: 3) {
            scenario.note("watchdog")
            ev_break(hostLoop, Int32(EVBREAK_ALL))
        }

        let cpuBefore = threadCPUSeconds()
        ev_run(hostLoop, 0)
        let cpu = threadCPUSeconds() - cpuBefore
        handOver.stop()
        watchdog.stop()

        XCTAssertNil(scenario.time(of: "watchdog"), "the host loop ran into its watchdog: \(scenario.events)")
        scenario.check(reactor: reactor, cpuSeconds: cpu, ownFd: false)
    }

    // MARK: Helpers

    private func makePipe() -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return (fds[0], fds[1])
    }
}

/// What both recipes must get right, on this timeline:
///
///      50 ms  a reactor timer (no I/O before it)
///      60 ms  a reactor timer calls `afterFork()`: libev rebuilds its epoll instance
///     100 ms  another thread writes the pipe a reactor task awaits: I/O after the rebuild, with
///             nothing else due until 200 ms
///     200 ms  the host schedules a reactor timer 30 ms away between steps: from the callback of
///             its own fd, a pipe another thread writes (epoll), or of its own timer (libev)
private final class RecipeScenario: @unchecked Sendable {
    private let start = MonotonicClock.seconds()
    private(set) var events: [(milliseconds: Double, what: String)] = []
    /// How late a timer or a wake-up may be: generous for a loaded machine, far below the 2 s
    /// a missed wake-up costs (the task's wait times out) or the 3 s watchdog.
    let slack = 40.0

    var now: Double { (MonotonicClock.seconds() - start) * 1000 }
    func note(_ what: String) { events.append((now, what)) }
    func time(of what: String) -> Double? { events.first { $0.what == what }?.milliseconds }

    func start(on reactor: Reactor, reactorPipe: Int32) {
        reactor.schedule(after: 0.05) { _ in self.note("reactor timer fired") }
        reactor.schedule(after: 0.06) { _ in
            self.note("afterFork")
            reactor.afterFork()
        }
        reactor.spawn {
            do {
                _ = try await reactor.wait(for: .read, on: reactorPipe, timeout: 2)
                self.note("task read its pipe")
            } catch {
                self.note("task failed: \(error)")
            }
        }
    }

    /// Another thread writes `reactors` at 100 ms and `own` at 200 ms.
    func writeLater(own: Int32?, reactors: Int32) throws -> TestThread {
        let start = start
        return try TestThread {
            var byte: UInt8 = 1
            func sleep(until milliseconds: Double) {
                let left = start + milliseconds / 1000 - MonotonicClock.seconds()
                if left > 0 { usleep(UInt32(left * 1e6)) }
            }
            sleep(until: 100)
            _ = write(reactors, &byte, 1)
            if let own {
                sleep(until: 200)
                _ = write(own, &byte, 1)
            }
        }
    }

    func check(
        reactor: Reactor, cpuSeconds: Double, ownFd: Bool, file: StaticString = #filePath, line: UInt = #line
    ) {
        let log = "events: \(events)"
        func within(_ what: String, _ elapsed: Double?, from low: Double) {
            guard let elapsed else { return XCTFail("\(what) never happened; \(log)", file: file, line: line) }
            XCTAssertGreaterThanOrEqual(elapsed, low, "\(what) came early; \(log)", file: file, line: line)
            XCTAssertLessThan(elapsed, low + slack, "\(what) came late; \(log)", file: file, line: line)
        }
        within("the 50 ms reactor timer", time(of: "reactor timer fired"), from: 50)
        XCTAssertEqual(reactor.pollfdGeneration, 1, "libev did not rebuild its epoll instance", file: file, line: line)
        // The task's pipe was written 100 ms in, after the rebuild: only a re-registered fd
        // wakes the host for it before 200 ms.
        within("the task's wake-up", time(of: "task read its pipe"), from: 100)
        if ownFd { within("the host's own fd", time(of: "host read its pipe"), from: 200) }
        if let scheduled = time(of: "host scheduled a reactor timer") {
            within(
                "the reactor timer the host scheduled",
                time(of: "reactor timer from the host fired").map { $0 - scheduled }, from: 30)
        } else {
            XCTFail("the host never scheduled its reactor timer; \(log)", file: file, line: line)
        }
        // A host that spins burns its thread's CPU for the whole run; this one sleeps in the kernel.
        let wall = (events.last?.milliseconds ?? now) / 1000
        XCTAssertLessThan(
            cpuSeconds, wall / 2, "the host loop used \(cpuSeconds) s of CPU in \(wall) s: busy-waiting", file: file,
            line: line)
    }
}

/// CPU time the calling thread has used, in seconds.
private func threadCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// A one-shot `ev_timer` on a host libev loop that calls a Swift closure.
private final class HostTimer {
    private let watcher = UnsafeMutablePointer<ev_timer>.allocate(capacity: 1)
    private let loop: OpaquePointer
    private let body: () -> Void

    init(loop: OpaquePointer, after seconds: Double, _ body: @escaping () -> Void) {
        self.loop = loop
        self.body = body
        evshim_timer_init(
            watcher,
            { _, watcher, _ in Unmanaged<HostTimer>.fromOpaque(watcher!.pointee.data).takeUnretainedValue().body() },
            seconds, 0)
        watcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        ev_timer_start(loop, watcher)
    }

    /// Call before the loop goes away.
    func stop() { ev_timer_stop(loop, watcher) }
    deinit { watcher.deallocate() }
}
