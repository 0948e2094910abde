// example-poll-host: a plain poll(2) loop that drives a Stepwise reactor.
//
// The recipe, for any host loop that can wait on file descriptors with a timeout:
//
//   1. Wait on `reactor.pollfd()` for `reactor.events()` (next to your own fds), with
//      `reactor.timeoutMilliseconds()` as the timeout. It is already rounded UP: a timeout that
//      is rounded down wakes you a hair before the reactor's deadline, and you spin until it
//      passes. -1 means the reactor has no deadline.
//   2. Call `reactor.step(timeout: 0)`, whatever woke you (fd, timeout or your own fds). It runs
//      everything that is ready and never blocks.
//   3. Ask again: every step can change the fd set and the next deadline.
//
// Never call `step` from inside a reactor callback or task; from another thread, hand work to
// the reactor with `reactor.execute { }`, which wakes your poll().
//
//   example-poll-host --self-test   a fixed scenario: timers, a cross-thread `execute`, a task
//                                   that sleeps and awaits a pipe; prints how often poll() woke
//   example-poll-host [--seconds N] interactive: type lines, the reactor echoes them half a
//                                   second later; a heartbeat every second; Ctrl-D ends
import Glibc
import Stepwise

/// The integration: `pollfd/events/timeoutMilliseconds/step(timeout: 0)` and nothing else.
/// `extra` gives the host's own fds, polled alongside the reactor's; `ownFdReady` hears about
/// them. `maxWait` caps each wait (milliseconds, -1: none) so the host keeps its own deadline.
/// Returns how many times poll() returned.
@discardableResult
func hostLoop(
    _ reactor: some Pollable, extra: () -> [pollfd] = { [] }, maxWait: () -> Int32 = { -1 },
    ownFdReady: (pollfd) -> Void = { _ in }, until done: () -> Bool
) throws -> Int {
    var wakeups = 0
    while !done() {
        var fds = [pollfd(fd: reactor.pollfd(), events: reactor.events().rawValue, revents: 0)] + extra()
        var wait = reactor.timeoutMilliseconds()
        let cap = maxWait()
        if cap >= 0 && (wait < 0 || cap < wait) { wait = cap }
        if poll(&fds, nfds_t(fds.count), wait) < 0 && errno != EINTR {
            throw SystemError("poll")
        }
        wakeups += 1
        for fd in fds.dropFirst() where fd.revents != 0 { ownFdReady(fd) }
        try reactor.step(timeout: 0)
    }
    return wakeups
}

/// Milliseconds since `start`, for the log.
func milliseconds(since start: Double) -> Double {
    (MonotonicClock.seconds() - start) * 1000
}

/// Runs `body` on a new pthread (the "other thread" of the scenario).
func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
    var thread = pthread_t()
    let context = Unmanaged.passRetained(Body(body)).toOpaque()
    let rc = pthread_create(
        &thread, nil,
        { context in
            Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
    precondition(rc == 0, "pthread_create failed: \(rc)")
    return thread
}

/// What the self-test saw. Only touched on the reactor's thread (timer handlers, `execute`
/// closures and task jobs all run inside `step`), which is what makes `@unchecked` honest.
final class Scenario: @unchecked Sendable {
    let start = MonotonicClock.seconds()
    var oneShotAt: Double?
    var ticks: [Double] = []
    var executeAt: Double?
    var executeOnReactorThread = false
    var taskLog: [String] = []
    var taskDoneAt: Double?

    func now() -> Double { milliseconds(since: start) }
}

func selfTest() throws -> String? {
    let reactor = try Reactor()
    let scenario = Scenario()
    let hostThread = pthread_self()

    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw SystemError("pipe") }
    defer { fds.forEach { close($0) } }
    let (readEnd, writeEnd) = (fds[0], fds[1])

    // A one-shot timer at 50 ms and a repeating one every 25 ms.
    reactor.schedule(after: 0.05) { _ in scenario.oneShotAt = scenario.now() }
    let ticker = reactor.schedule(after: 0.025, repeating: 0.025) { _ in
        scenario.ticks.append(scenario.now())
    }

    // A task: sleeps 30 ms, then awaits the pipe (written by the `execute` closure below).
    reactor.spawn {
        scenario.taskLog.append("started")
        try await reactor.sleep(seconds: 0.03)
        scenario.taskLog.append("slept")
        let ready = try await reactor.wait(for: .read, on: readEnd, timeout: 2)
        var byte: UInt8 = 0
        _ = read(readEnd, &byte, 1)
        scenario.taskLog.append(ready.contains(.read) && byte == 0x21 ? "read the pipe" : "bad read")
        scenario.taskDoneAt = scenario.now()
        ticker.cancel()  // nothing left: the reactor becomes empty
    }

    // Another thread hands work to the reactor at ~100 ms: execute{} wakes the host's poll().
    let thread = startThread {
        usleep(100_000)
        reactor.execute {
            scenario.executeAt = scenario.now()
            scenario.executeOnReactorThread = pthread_equal(pthread_self(), hostThread) != 0
            var bang: UInt8 = 0x21
            _ = write(writeEnd, &bang, 1)
        }
    }
    defer { pthread_join(thread, nil) }

    let giveUp = MonotonicClock.seconds() + 5
    let wakeups = try hostLoop(
        reactor,
        maxWait: { Int32(Swift.max(0, ((giveUp - MonotonicClock.seconds()) * 1000).rounded(.up))) },
        until: { reactor.empty() || MonotonicClock.seconds() > giveUp })
    let elapsed = scenario.now()

    func fail(_ reason: String) -> String? {
        print("poll-host self-test FAILED: \(reason)")
        return nil
    }
    guard reactor.empty() else { return fail("the scenario did not finish within 5 s") }
    guard let oneShot = scenario.oneShotAt else { return fail("the 50 ms timer never fired") }
    guard oneShot >= 50 else { return fail("the 50 ms timer fired early, at \(ms(oneShot))") }
    guard oneShot < 500 else { return fail("the 50 ms timer fired late, at \(ms(oneShot))") }
    guard scenario.ticks.count >= 3 else {
        return fail("the repeating timer ticked \(scenario.ticks.count) times, expected 3 or more")
    }
    if let early = scenario.ticks.enumerated().first(where: { $1 < Double($0 + 1) * 25 }) {
        return fail("tick \(early.offset + 1) came early, at \(ms(early.element))")
    }
    guard let executeAt = scenario.executeAt else { return fail("execute{} never ran") }
    guard scenario.executeOnReactorThread else {
        return fail("execute{} ran off the reactor's thread")
    }
    guard scenario.taskLog == ["started", "slept", "read the pipe"], let done = scenario.taskDoneAt
    else { return fail("task log \(scenario.taskLog)") }
    // A busy-waiting host would wake thousands of times in 100 ms. This one wakes for each timer
    // deadline, the task's sleep, the execute{} and a few steps' follow-up work.
    guard wakeups <= 40 else { return fail("poll() woke \(wakeups) times: busy-waiting") }

    return "poll-host self-test ok: one-shot timer at \(ms(oneShot)), \(scenario.ticks.count) ticks, "
        + "execute from a pthread at \(ms(executeAt)), task done at \(ms(done)); "
        + "poll() woke \(wakeups) times in \(ms(elapsed)) (no busy-wait)"
}

/// "12.3 ms"
func ms(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10) ms"
}

/// Interactive: the host polls stdin itself, next to the reactor's fd, and schedules reactor
/// timers from outside any step; the next `timeoutMilliseconds()` already accounts for them.
func interactive(seconds: Double?) throws {
    let reactor = try Reactor()
    let start = MonotonicClock.seconds()
    let stopAt = seconds.map { start + $0 }
    var polls = 0
    var beats = 0
    var pending: [UInt8] = []
    var stdinOpen = true
    var done = false
    print("poll host: type a line and the reactor echoes it 0.5 s later; Ctrl-D ends.")
    let heartbeat = reactor.schedule(after: 1, repeating: 1) { _ in
        beats += 1
        print("heartbeat \(beats): poll() returned \(polls) times so far")
    }
    try hostLoop(
        reactor,
        extra: { stdinOpen ? [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)] : [] },
        maxWait: {
            polls += 1
            guard let stopAt else { return -1 }
            return Int32(Swift.max(0, ((stopAt - MonotonicClock.seconds()) * 1000).rounded(.up)))
        },
        ownFdReady: { _ in
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = read(STDIN_FILENO, &buffer, buffer.count)
            guard count > 0 else {
                // Ctrl-D (or no stdin at all): stop reading; it ends the run unless --seconds was given.
                stdinOpen = false
                done = stopAt == nil
                return
            }
            pending += buffer[..<count]
            while let newline = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                reactor.schedule(after: 0.5) { _ in print("echo: \(line)") }
            }
        },
        until: { done || stopAt.map { MonotonicClock.seconds() >= $0 } ?? false })
    heartbeat.cancel()
    try reactor.loop(timeout: 1)  // deliver the echoes still due
    print("poll host: done after \(ms(milliseconds(since: start))), poll() returned \(polls) times")
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "--self-test":
    guard let summary = try selfTest() else { exit(1) }
    print(summary)
case nil, "--seconds":
    let seconds = arguments.count == 2 ? Double(arguments[1]) : nil
    guard arguments.isEmpty || seconds != nil else {
        print("usage: example-poll-host [--self-test | --seconds N]")
        exit(2)
    }
    try interactive(seconds: seconds)
default:
    print("usage: example-poll-host [--self-test | --seconds N]")
    exit(2)
}
