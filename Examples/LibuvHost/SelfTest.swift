import CLibuv
import Glibc
import Stepwise

// MARK: - Self-test

/// What one pass of the self-test saw. Touched from libuv callbacks and from reactor callbacks
/// and tasks, which all run on the loop's thread (the reactor steps inside libuv callbacks):
/// that is what makes `@unchecked Sendable` honest.
final class Scenario: @unchecked Sendable {
    let loop: UnsafeMutablePointer<uv_loop_t>
    let start = MonotonicClock.seconds()
    var events: [(milliseconds: Double, what: String)] = []
    var problems: [String] = []
    var hostTicks: [Double] = []
    var clientDone = false
    var curlDone = false
    var watchdogFired = false
    /// Kept until it exits.
    var curl: LibuvProcess?

    init(loop: UnsafeMutablePointer<uv_loop_t>) { self.loop = loop }

    var now: Double { (MonotonicClock.seconds() - start) * 1000 }
    func note(_ what: String) { events.append((now, what)) }
    func time(of what: String) -> Double? { events.first { $0.what == what }?.milliseconds }
    func problem(_ what: String) { problems.append(what) }

    /// Stops the loop once the client, curl and the host's ticker are all done.
    func stopIfDone() {
        if clientDone && curlDone && hostTicks.count == Scenario.hostTickCount { uv_stop(loop) }
    }

    static let hostTickCount = 6
    static let hostTickMilliseconds: UInt64 = 50
}

/// One pass: a fresh libuv loop and reactor; returns the pass's summary, or nil after printing
/// what went wrong.
///
///      0 ms  a Stepwise client on the reactor fetches /hello, /sleep (its handler sleeps 200 ms on
///            the reactor, with no I/O meanwhile) and /hello; a reactor task awaits a pipe
///    100 ms  a reactor timer calls `afterFork()`: libev rebuilds its epoll instance
///    150 ms  the host's libuv timer (every 50 ms, six times) writes the pipe and starts curl,
///            which fetches /sleep?from=curl: I/O that only the re-created uv_poll sees
///    250 ms  the host's libuv timer schedules a reactor timer 30 ms away, from outside any step
func runScenario(fdOnly: Bool) throws -> String? {
    let name = fdOnly ? "fd-only (uv_poll alone)" : "recipe (uv_poll, uv_timer, uv_prepare)"
    let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
    defer { loop.deallocate() }
    guard uv_loop_init(loop) == 0 else { throw LibuvError(call: "uv_loop_init", code: -1) }
    let scenario = Scenario(loop: loop)

    let reactor = try Reactor()
    let server = try Server(
        options: ServerOptions(host: "127.0.0.1", port: 0), on: reactor,
        handler: .task { stream in
            try await serve(stream, reactor: reactor) { scenario.note($0) }
        })
    try server.listen()
    guard let port = server.localname().port else { throw LibuvError(call: "Server.localname", code: -1) }
    let host = ReactorOnLibuv(reactor: reactor, loop: loop, fdOnly: fdOnly)
    let firstFd = reactor.pollfd()

    var pipeFds: [Int32] = [0, 0]
    guard pipe(&pipeFds) == 0 else { throw SystemError("pipe") }
    defer { pipeFds.forEach { close($0) } }
    let (readEnd, writeEnd) = (pipeFds[0], pipeFds[1])

    // A Stepwise client on the same reactor.
    reactor.spawn {
        defer {
            scenario.clientDone = true
            scenario.stopIfDone()
        }
        for (index, path) in ["/hello", "/sleep", "/hello"].enumerated() {
            let expected = path == "/sleep" ? sleepBody : helloBody
            do {
                let response = try await Request(uri: "http://127.0.0.1:\(port)\(path)").fetch(on: reactor, timeout: 5)
                scenario.note("client got \(path) #\(index)")
                if response.status != 200 || response.text != expected {
                    scenario.problem("client: \(path) answered \(response.status) \(response.text.debugDescription)")
                }
            } catch {
                scenario.problem("client: \(path) failed: \(error)")
                return
            }
        }
    }
    // A reactor task that awaits the pipe the host writes.
    reactor.spawn {
        do {
            _ = try await reactor.wait(for: .read, on: readEnd, timeout: 2)
            scenario.note("task read the pipe")
        } catch {
            scenario.problem("the task awaiting the pipe failed: \(error)")
        }
    }

    // What libev does after fork() or when it finds its epoll set stale: rebuild it. The
    // uv_poll must follow (`onPollfdChange`), or I/O that comes later wakes nothing: the reactor
    // would only be stepped at a deadline seconds away (the fetches' and connections' timeouts).
    reactor.schedule(after: 0.1) { _ in
        scenario.note("afterFork")
        reactor.afterFork()
    }

    // The host's own libuv timer, every 50 ms while the requests run; it also hands the reactor
    // I/O and work from outside any step.
    let curlOutput = "/tmp/example-libuv-host-\(getpid())-\(fdOnly ? "fd-only" : "recipe").out"
    defer { unlink(curlOutput) }
    var curlStatus: Int64?
    var curlSkipped = false
    // libuv counts from the loop's cached time, taken at `uv_loop_init`, before the reactor and
    // the server (its self-signed certificate) were made: refresh it, and measure the first tick
    // from here, or it seems to come early by however long that took.
    uv_update_time(loop)
    let tickerArmed = scenario.now
    let ticker = LibuvTimer(
        loop: loop, after: Scenario.hostTickMilliseconds, repeating: Scenario.hostTickMilliseconds
    ) { ticker in
        scenario.hostTicks.append(scenario.now)
        switch scenario.hostTicks.count {
        case 3:
            var byte: UInt8 = 1
            _ = write(writeEnd, &byte, 1)
            scenario.note("host wrote the pipe")
            do {
                scenario.curl = try LibuvProcess(
                    loop: loop,
                    arguments: [
                        "curl", "--silent", "--show-error", "--fail", "--max-time", "5", "--output", curlOutput,
                        "http://127.0.0.1:\(port)/sleep?from=curl",
                    ]
                ) { status in
                    curlStatus = status
                    scenario.note("curl exited")
                    scenario.curlDone = true
                    scenario.stopIfDone()
                }
            } catch let error as LibuvError where error.code == UV_ENOENT.rawValue {
                print("note: curl is not installed: the self-test runs without it")
                curlSkipped = true
                scenario.curlDone = true
            } catch {
                scenario.problem("could not start curl: \(error)")
                scenario.curlDone = true
            }
        case 5:
            // Between steps, with nothing else due for 100 ms: only the uv_prepare's re-arming
            // (or, in fd-only mode, the timerfd) makes the reactor's timer fire on time.
            scenario.note("host scheduled a reactor timer")
            reactor.schedule(after: 0.03) { _ in scenario.note("reactor timer from the host fired") }
        case Scenario.hostTickCount:
            ticker.stop()
        default:
            break
        }
        scenario.stopIfDone()
    }

    let watchdog = LibuvTimer(loop: loop, after: 3000) { _ in
        scenario.watchdogFired = true
        uv_stop(loop)
    }

    uv_run(loop, UV_RUN_DEFAULT)
    // Detach everything and let libuv run the close callbacks; then the loop must have no
    // handle left.
    watchdog.close()
    ticker.close()
    host.close()
    uv_run(loop, UV_RUN_DEFAULT)
    let loopClose = uv_loop_close(loop)

    func fail(_ reason: String) -> String? {
        print("libuv-host self-test FAILED, \(name): \(reason); events: \(scenario.events)")
        return nil
    }
    guard !scenario.watchdogFired else { return fail("the loop did not finish within 3 s: \(scenario.problems)") }
    guard scenario.problems.isEmpty else { return fail(scenario.problems.joined(separator: "; ")) }
    if !curlSkipped {
        guard curlStatus == 0 else { return fail("curl exited with \(curlStatus.map(String.init) ?? "?")") }
        guard let body = readFile(curlOutput), body == sleepBody else {
            return fail("curl got \(readFile(curlOutput)?.debugDescription ?? "nothing")")
        }
    }
    guard loopClose == 0 else { return fail("uv_loop_close: \(String(cString: uv_strerror(loopClose)))") }

    // The host's timer fired on time while the requests ran: each tick 50 ms after the one
    // before (libuv counts whole milliseconds, so a tick may come up to 1 ms early by the
    // monotonic clock), and never late by more than `tickSlack`: wider than the reactor timers'
    // `slack`, as the loop's own `uv_spawn` of curl (a fork and exec on this thread) may hold
    // a tick on a busy machine, while a reactor step that blocked the loop would hold it for a
    // whole 200 ms sleep.
    let slack = 40.0
    let tickSlack = 120.0
    var previous = tickerArmed
    var worstTick = 0.0
    for (index, at) in scenario.hostTicks.enumerated() {
        let lateness = at - previous - Double(Scenario.hostTickMilliseconds)
        guard lateness >= -1 else { return fail("host tick \(index + 1) came \(ms(-lateness)) early") }
        guard lateness < tickSlack else { return fail("host tick \(index + 1) came \(ms(lateness)) late") }
        worstTick = max(worstTick, lateness)
        previous = at
    }

    // The reactor's timers fired on time: each /sleep handler's 200 ms, with no I/O to wake the
    // loop, and the timer the host scheduled between steps.
    var sleeps: [Double] = []
    for path in ["/sleep"] + (curlSkipped ? [] : ["/sleep?from=curl"]) {
        guard let asleep = scenario.time(of: "request \(path)"), let woke = scenario.time(of: "woke \(path)") else {
            return fail("the handler for \(path) did not sleep and wake")
        }
        let slept = woke - asleep
        guard slept >= sleepSeconds * 1000 else { return fail("\(path)'s sleep ended early, after \(ms(slept))") }
        guard slept < sleepSeconds * 1000 + slack else {
            return fail("\(path)'s sleep ended late, after \(ms(slept))")
        }
        sleeps.append(slept)
    }
    guard let scheduled = scenario.time(of: "host scheduled a reactor timer"),
        let fired = scenario.time(of: "reactor timer from the host fired")
    else { return fail("the reactor timer the host scheduled did not fire") }
    guard fired - scheduled >= 30, fired - scheduled < 30 + slack else {
        return fail("the reactor timer the host scheduled for 30 ms fired after \(ms(fired - scheduled))")
    }

    // After the rebuild, I/O still wakes the loop at once: the pipe the host wrote, curl's
    // request (its sleep was on time, above), the answer to /sleep and the last /hello.
    guard host.reRegistrations == 1, reactor.pollfdGeneration == 1 else {
        return fail(
            "pollfd re-registered \(host.reRegistrations) times for generation \(reactor.pollfdGeneration), "
                + "expected 1 and 1")
    }
    guard let rebuilt = scenario.time(of: "afterFork"), let wrote = scenario.time(of: "host wrote the pipe"),
        wrote > rebuilt
    else { return fail("the host wrote the pipe before the epoll rebuild") }
    guard let read = scenario.time(of: "task read the pipe"), read - wrote < slack else {
        return fail("the task did not resume promptly after the host wrote its pipe")
    }
    guard let woke = scenario.time(of: "woke /sleep"), let answered = scenario.time(of: "client got /sleep #1"),
        answered - woke < slack
    else { return fail("the answer to /sleep did not reach the client promptly after the handler woke") }
    guard let lastHello = scenario.time(of: "client got /hello #2"), lastHello > rebuilt else {
        return fail("the last /hello was not served after the epoll rebuild")
    }

    // No busy-waiting: a step for each I/O event and deadline, not one per loop spin.
    guard host.steps <= 100 else { return fail("the reactor was stepped \(host.steps) times: busy-waiting") }

    let requests =
        curlSkipped
        ? "3 requests (from a Stepwise client on the loop)"
        : "4 requests (3 from a Stepwise client on the loop, 1 from curl)"
    return "\(name): \(requests) in \(ms(scenario.events.last!.milliseconds)), "
        + "handler sleeps \(sleeps.map(ms).joined(separator: ", ")), "
        + "\(scenario.hostTicks.count) libuv ticks at most \(ms(worstTick)) late, "
        + "reactor timer scheduled by the host fired after \(ms(fired - scheduled)), "
        + "task resumed \(ms(read - wrote)) after the host wrote its pipe, "
        + "pollfd re-registered after an epoll rebuild (fd \(firstFd) -> \(reactor.pollfd())), "
        + "\(host.steps) steps"
}

func readFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { break }
        bytes += buffer[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// "12.3 ms"
func ms(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(abs(tenths % 10)) ms"
}

func selfTest() throws -> Bool {
    var summaries: [String] = []
    for fdOnly in [false, true] {
        guard let summary = try runScenario(fdOnly: fdOnly) else { return false }
        summaries.append(summary)
    }
    print("libuv-host self-test ok: " + summaries.joined(separator: "; "))
    return true
}
