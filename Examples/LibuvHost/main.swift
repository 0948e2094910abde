// example-libuv-host: a libuv loop (uv_run) that embeds a Stepwise reactor serving HTTP.
//
// libuv has no custom-source abstraction like GLib's; `ReactorOnLibuv` below builds one from
// three handles (docs/foreign-loop-hosts.md copies it):
//
//   uv_poll     watches the reactor's `pollfd()` for UV_READABLE and steps the reactor.
//   uv_timer    carries the reactor's deadline and steps the reactor when it passes.
//   uv_prepare  re-arms that timer to `timeoutMilliseconds()` just before libuv blocks, so work
//               that the host's own libuv callbacks gave the reactor (a timer scheduled, a
//               task spawned) is accounted for, like GLib's `prepare`.
//
// libev can rebuild its epoll instance (after `fork()`, or on its own when it finds its set
// stale): the reactor then calls `onPollfdChange`, and the uv_poll is closed and re-created on
// the new fd (a uv_poll's fd is fixed when it is made).
//
// With the reactor's fd-only mode (`fdOnly: true`), a timerfd makes the reactor's fd readable
// when a reactor timer is due or work is queued, and the uv_poll alone is enough.
//
// Never step the reactor from inside one of its own callbacks or tasks (and never `uv_run`
// there); libuv callbacks are fine, as they run outside any step.
//
//   example-libuv-host --self-test   serves HTTP from a Stepwise client on the same loop and from
//                                    curl while a libuv timer ticks; checks the reactor's timers
//                                    fire on time without I/O and the pollfd is re-registered
//                                    after an epoll rebuild; once with the uv_timer/uv_prepare
//                                    recipe, once in fd-only mode
//   example-libuv-host [--port N] [--seconds N]
//                                    serves /hello and /sleep on 127.0.0.1 (port 0: any)
import CLibuv
import Glibc
import Stepwise

/// Drives `reactor` from the libuv loop `loop`, on the loop's thread. Keep it alive until
/// `close()`: the handles' `data` holds it unretained.
final class ReactorOnLibuv {
    let reactor: Reactor
    let loop: UnsafeMutablePointer<uv_loop_t>
    let fdOnly: Bool
    private var poll = UnsafeMutablePointer<uv_poll_t>.allocate(capacity: 1)
    private let timer = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
    private let prepare = UnsafeMutablePointer<uv_prepare_t>.allocate(capacity: 1)
    /// How many times the reactor rebuilt its epoll instance and the uv_poll was re-created.
    private(set) var reRegistrations = 0
    /// How many times a libuv callback stepped the reactor.
    private(set) var steps = 0

    init(reactor: Reactor, loop: UnsafeMutablePointer<uv_loop_t>, fdOnly: Bool = false) {
        self.reactor = reactor
        self.loop = loop
        self.fdOnly = fdOnly
        if fdOnly {
            reactor.fdOnlyMode = true
        } else {
            uv_timer_init(loop, timer)
            timer.pointee.data = Unmanaged.passUnretained(self).toOpaque()
            uv_prepare_init(loop, prepare)
            prepare.pointee.data = Unmanaged.passUnretained(self).toOpaque()
            uv_prepare_start(prepare) { ReactorOnLibuv.from($0!.pointee.data).armTimer() }
        }
        startPoll(fd: reactor.pollfd())
        reactor.onPollfdChange = { [unowned self] fd in
            // Close the old handle first: closing removes its fd number from libuv's epoll set
            // and watcher table, which would otherwise drop the new handle on the same number.
            closeHandle(self.poll)
            self.poll = .allocate(capacity: 1)
            self.startPoll(fd: fd)
            self.reRegistrations += 1
        }
    }

    /// Detaches from the loop. libuv frees the handles in its close callbacks: let `uv_run`
    /// run once more.
    func close() {
        reactor.onPollfdChange = nil
        closeHandle(poll)
        if fdOnly {
            timer.deallocate()
            prepare.deallocate()
        } else {
            closeHandle(timer)
            closeHandle(prepare)
        }
    }

    private func startPoll(fd: Int32) {
        uv_poll_init(loop, poll, fd)
        poll.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        uv_poll_start(poll, Int32(UV_READABLE.rawValue)) { handle, _, _ in
            ReactorOnLibuv.from(handle!.pointee.data).step()
        }
    }

    /// The uv_prepare callback: libuv is about to block.
    private func armTimer() {
        let milliseconds = reactor.timeoutMilliseconds()
        guard milliseconds >= 0 else {
            uv_timer_stop(timer)
            return
        }
        // uv_timer_start counts from the loop's cached time, taken before this iteration's
        // callbacks ran: refresh it, or the timer may fire before the reactor's deadline (a
        // wasted step).
        uv_update_time(loop)
        uv_timer_start(timer, { ReactorOnLibuv.from($0!.pointee.data).step() }, UInt64(milliseconds), 0)
    }

    private func step() {
        steps += 1
        do { try reactor.step(timeout: 0) } catch { print("reactor step failed: \(error)") }
    }

    private static func from(_ data: UnsafeMutableRawPointer?) -> ReactorOnLibuv {
        Unmanaged<ReactorOnLibuv>.fromOpaque(data!).takeUnretainedValue()
    }
}

/// `uv_close`, then frees the handle's memory (allocated with `.allocate(capacity: 1)`).
func closeHandle<Handle>(_ handle: UnsafeMutablePointer<Handle>) {
    uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) {
        UnsafeMutableRawPointer($0!).deallocate()
    }
}

// MARK: - The HTTP side

/// The example's site: `/hello`, and `/sleep` (optionally `/sleep?from=…`), whose handler sleeps
/// 200 ms on the reactor before it answers: only the reactor's timer can wake it.
let sleepSeconds = 0.2
let helloBody = "hello from a reactor on libuv\n"
let sleepBody = "slept on the reactor\n"

/// `onEvent(what)` hears when a request arrived, when a sleep ended and when the answer went.
func serve(_ stream: any HTTPStream, reactor: Reactor, onEvent: @Sendable (String) -> Void) async throws {
    let request = try await stream.getHeaders()
    let path = request?.first(":path") ?? "/"
    onEvent("request \(path)")
    let body: String
    var status = "200"
    if path == "/hello" {
        body = helloBody
    } else if path == "/sleep" || path.hasPrefix("/sleep?") {
        try await reactor.sleep(seconds: sleepSeconds)
        onEvent("woke \(path)")
        body = sleepBody
    } else {
        status = "404"
        body = "try /hello or /sleep\n"
    }
    var response = Headers()
    response.append(":status", status)
    response.append("content-type", "text/plain")
    try await stream.writeHeaders(response, endStream: false, timeout: 5)
    try await stream.writeBody(body)
}

// MARK: - Small libuv helpers for the scenario

/// A libuv timer that calls a Swift closure. libuv's callbacks cannot capture, so the object
/// travels in the handle's `data`: keep it alive until `close()`.
final class LibuvTimer {
    private let handle = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
    private let body: (LibuvTimer) -> Void

    init(
        loop: UnsafeMutablePointer<uv_loop_t>, after milliseconds: UInt64, repeating: UInt64 = 0,
        _ body: @escaping (LibuvTimer) -> Void
    ) {
        self.body = body
        uv_timer_init(loop, handle)
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        uv_timer_start(
            handle,
            { handle in
                let timer = Unmanaged<LibuvTimer>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
                timer.body(timer)
            }, milliseconds, repeating)
    }

    func stop() { uv_timer_stop(handle) }
    func close() { closeHandle(handle) }
}

/// A child process started with `uv_spawn` (stdin and stdout to /dev/null, stderr inherited);
/// `onExit` hears its exit status (-1: killed by a signal).
final class LibuvProcess {
    private let handle = UnsafeMutablePointer<uv_process_t>.allocate(capacity: 1)
    private let onExit: (Int64) -> Void

    /// Throws the libuv error (`UV_ENOENT` when the program is not found).
    init(loop: UnsafeMutablePointer<uv_loop_t>, arguments: [String], onExit: @escaping (Int64) -> Void) throws {
        self.onExit = onExit
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var stdio = [uv_stdio_container_t](repeating: uv_stdio_container_t(), count: 3)
        stdio[0].flags = UV_IGNORE
        stdio[1].flags = UV_IGNORE
        stdio[2].flags = UV_INHERIT_FD
        stdio[2].data.fd = STDERR_FILENO
        var options = uv_process_options_t()
        options.exit_cb = { handle, status, signal in
            let process = Unmanaged<LibuvProcess>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
            closeHandle(handle!)
            process.onExit(signal == 0 ? status : -1)
        }
        var argvCopy = argv
        let rc = argvCopy.withUnsafeMutableBufferPointer { argvBuffer in
            stdio.withUnsafeMutableBufferPointer { stdioBuffer in
                options.file = UnsafePointer(argvBuffer[0])
                options.args = argvBuffer.baseAddress
                options.stdio = stdioBuffer.baseAddress
                options.stdio_count = 3
                return uv_spawn(loop, handle, &options)
            }
        }
        if rc != 0 {
            closeHandle(handle)  // uv_spawn registered the handle even though it failed
            throw LibuvError(call: "uv_spawn(\(arguments[0]))", code: rc)
        }
    }
}

struct LibuvError: Error, CustomStringConvertible {
    var call: String
    var code: Int32
    var description: String { "\(call): \(String(cString: uv_strerror(code)))" }
}

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
    // monotonic clock), and never late by more than the slack.
    let slack = 40.0
    var previous = 0.0
    var worstTick = 0.0
    for (index, at) in scenario.hostTicks.enumerated() {
        let lateness = at - previous - Double(Scenario.hostTickMilliseconds)
        guard lateness >= -1 else { return fail("host tick \(index + 1) came \(ms(-lateness)) early") }
        guard lateness < slack else { return fail("host tick \(index + 1) came \(ms(lateness)) late") }
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

// MARK: - Interactive

/// Serves /hello and /sleep until `seconds` pass (nil: until killed); a libuv timer reports
/// once a second.
func interactive(port: UInt16, seconds: Double?) throws {
    let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
    defer { loop.deallocate() }
    guard uv_loop_init(loop) == 0 else { throw LibuvError(call: "uv_loop_init", code: -1) }
    let reactor = try Reactor()
    final class Counter: @unchecked Sendable { var requests = 0 }  // the loop's thread only
    let counter = Counter()
    let server = try Server(
        options: ServerOptions(host: "127.0.0.1", port: port), on: reactor,
        handler: .task { stream in
            try await serve(stream, reactor: reactor) { event in
                if event.hasPrefix("request ") { counter.requests += 1 }
                print(event)
            }
        })
    try server.listen()
    print("serving http://\(server.localname())/hello and /sleep from a reactor on libuv")
    let host = ReactorOnLibuv(reactor: reactor, loop: loop)
    let ticker = LibuvTimer(loop: loop, after: 1000, repeating: 1000) { _ in
        print("libuv timer: \(counter.requests) requests so far")
    }
    let stopper = seconds.map { LibuvTimer(loop: loop, after: UInt64(($0 * 1000).rounded(.up))) { _ in uv_stop(loop) } }
    uv_run(loop, UV_RUN_DEFAULT)
    stopper?.close()
    ticker.close()
    host.close()
    uv_run(loop, UV_RUN_DEFAULT)
    _ = uv_loop_close(loop)
}

let arguments = Array(CommandLine.arguments.dropFirst())
let usage = "usage: example-libuv-host [--self-test | [--port N] [--seconds N]]"
if arguments == ["--self-test"] {
    exit(try selfTest() ? 0 : 1)
}
var port: UInt16 = 0
var seconds: Double?
var rest = arguments[...]
while let option = rest.popFirst() {
    switch (option, rest.popFirst()) {
    case ("--port", let value?) where UInt16(value) != nil:
        port = UInt16(value)!
    case ("--seconds", let value?) where Double(value).map({ $0 >= 0 }) ?? false:
        seconds = Double(value)
    default:
        print(usage)
        exit(2)
    }
}
try interactive(port: port, seconds: seconds)
