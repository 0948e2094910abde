// example-glib-host: a GLib main loop (GMainLoop) that embeds a Stepwise reactor.
//
// The recommended recipe is one custom GSource per reactor (`ReactorSource` below):
//
//   prepare   returns the reactor's `timeoutMilliseconds()` as the source's timeout (GLib takes
//             the smallest over all sources, so GLib's own timers and the reactor's interleave),
//             and TRUE ("dispatch me now, don't wait") when that is 0: the reactor has work.
//   poll      the reactor's `pollfd()` for G_IO_IN, added with `g_source_add_unix_fd`.
//   check     TRUE when that fd is readable or the reactor's deadline has passed.
//   dispatch  `reactor.step(timeout: 0)`.
//
// libev can rebuild its epoll instance (after `fork()`, or on its own when it detects a stale
// one): the reactor then calls `onPollfdChange`, and the source swaps its unix fd. GLib polls
// the fd by number with poll(2), so a same-number rebuild is harmless, but a new number is not.
//
// Never step the reactor from inside one of its own callbacks or tasks; GLib callbacks (like
// `dispatch` or a `g_timeout_add` function) are fine, as they run outside any step.
//
// Simpler, for hosts that cannot use a custom source: set `reactor.fdOnlyMode = true` (a timerfd
// makes `pollfd()` readable when a reactor timer is due) and watch the fd alone with
// `g_unix_fd_add`, stepping in its callback.
//
//   example-glib-host --self-test   GLib and reactor timers interleave, a reactor task awaits a
//                                   pipe GLib writes, the pollfd is re-registered, the loop quits
//   example-glib-host [--seconds N] runs N seconds (default: until Ctrl-C)
import CGLib
import Glibc
import Stepwise

/// A GSource that drives `reactor` from a GLib main context.
///
/// Memory: GLib allocates the source with room for one pointer after the `GSource` header;
/// that slot holds a retained `ReactorSource`, so the C callbacks can find it, and `finalize`
/// releases it when GLib frees the source.
final class ReactorSource {
    let reactor: Reactor
    private let source: UnsafeMutablePointer<GSource>
    private var fdTag: gpointer?
    /// How often the reactor rebuilt its epoll instance and this source re-registered it.
    private(set) var reRegistrations = 0
    /// The fd the source polls.
    private(set) var fd: Int32

    /// Creates the source and attaches it to `context` (nil: the default main context).
    init(reactor: Reactor, context: OpaquePointer? = nil) {
        self.reactor = reactor
        fd = reactor.pollfd()
        let size = MemoryLayout<GSource>.stride + MemoryLayout<UnsafeRawPointer>.size
        source = g_source_new(reactorSourceFuncs, guint(size))
        g_source_set_name(source, "Stepwise reactor")
        slot(of: source).storeBytes(
            of: Unmanaged.passRetained(self).toOpaque(), as: UnsafeMutableRawPointer.self)
        fdTag = g_source_add_unix_fd(source, fd, G_IO_IN)
        reactor.onPollfdChange = { [unowned self] newFd in
            g_source_remove_unix_fd(self.source, self.fdTag)
            self.fdTag = g_source_add_unix_fd(self.source, newFd, G_IO_IN)
            self.fd = newFd
            self.reRegistrations += 1
        }
        g_source_attach(source, context)
        g_source_unref(source)  // the context holds it now
    }

    /// Detaches the source; GLib then finalizes it, which releases this object.
    func destroy() { g_source_destroy(source) }

    static func from(_ source: UnsafeMutablePointer<GSource>?) -> ReactorSource {
        Unmanaged<ReactorSource>.fromOpaque(
            slot(of: source!).load(as: UnsafeMutableRawPointer.self)
        ).takeUnretainedValue()
    }

    fileprivate func prepare(_ timeout: UnsafeMutablePointer<gint>?) -> gboolean {
        let milliseconds = reactor.timeoutMilliseconds()
        timeout?.pointee = milliseconds
        return milliseconds == 0 ? 1 : 0
    }

    fileprivate func check() -> gboolean {
        let revents = g_source_query_unix_fd(source, fdTag)
        return revents.rawValue != 0 || reactor.timeoutMilliseconds() == 0 ? 1 : 0
    }

    fileprivate func dispatch() -> gboolean {
        do {
            try reactor.step(timeout: 0)
        } catch {
            print("reactor step failed: \(error)")
        }
        return 1  // G_SOURCE_CONTINUE
    }

    fileprivate func finalize() {
        reactor.onPollfdChange = nil
        Unmanaged.passUnretained(self).release()
    }
}

/// The pointer-sized slot right after the GSource header.
private func slot(of source: UnsafeMutablePointer<GSource>) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(source) + MemoryLayout<GSource>.stride
}

/// GLib keeps a pointer to the function table for the source's lifetime: allocate it once and
/// never free it. Written here, read-only afterwards.
nonisolated(unsafe) let reactorSourceFuncs: UnsafeMutablePointer<GSourceFuncs> = {
    let funcs = UnsafeMutablePointer<GSourceFuncs>.allocate(capacity: 1)
    funcs.initialize(
        to: GSourceFuncs(
            prepare: { source, timeout in ReactorSource.from(source).prepare(timeout) },
            check: { source in ReactorSource.from(source).check() },
            dispatch: { source, _, _ in ReactorSource.from(source).dispatch() },
            finalize: { source in ReactorSource.from(source).finalize() },
            closure_callback: nil, closure_marshal: nil))
    return funcs
}()

/// `g_timeout_add` with a Swift closure; the closure returns whether to keep the timer.
@discardableResult
func glibTimeout(milliseconds: guint, _ body: @escaping () -> Bool) -> guint {
    final class Box {
        let body: () -> Bool
        init(_ body: @escaping () -> Bool) { self.body = body }
    }
    return g_timeout_add_full(
        G_PRIORITY_DEFAULT, milliseconds,
        { data in Unmanaged<Box>.fromOpaque(data!).takeUnretainedValue().body() ? 1 : 0 },
        Unmanaged.passRetained(Box(body)).toOpaque(),
        { data in Unmanaged<Box>.fromOpaque(data!).release() })
}

/// The self-test's state. Touched from GLib callbacks and from reactor callbacks and task jobs,
/// all of which run on the main loop's thread (the reactor steps inside `dispatch`): that is
/// what makes `@unchecked Sendable` honest.
final class Scenario: @unchecked Sendable {
    let loop = g_main_loop_new(nil, 0)
    let start = MonotonicClock.seconds()
    var events: [(milliseconds: Double, what: String)] = []
    var glibTicks = 0
    var reactorTicks = 0
    var taskDone = false
    var watchdogFired = false

    deinit { g_main_loop_unref(loop) }

    func note(_ what: String) {
        events.append(((MonotonicClock.seconds() - start) * 1000, what))
    }
    func time(of what: String) -> Double? { events.first { $0.what == what }?.milliseconds }

    func quitWhenDone() {
        if taskDone && glibTicks == 4 && reactorTicks == 4 { g_main_loop_quit(loop) }
    }
}

func selfTest() throws -> Bool {
    let scenario = Scenario()
    let reactor = try Reactor()
    let embedding = ReactorSource(reactor: reactor)
    defer { embedding.destroy() }
    let firstFd = embedding.fd

    var pipeFds: [Int32] = [0, 0]
    guard pipe(&pipeFds) == 0 else { throw SystemError("pipe") }
    defer { pipeFds.forEach { close($0) } }
    let (readEnd, writeEnd) = (pipeFds[0], pipeFds[1])

    // GLib's timer at 50, 100, 150, 200 ms; the reactor's at 25, 75, 125, 175 ms.
    glibTimeout(milliseconds: 50) {
        scenario.glibTicks += 1
        scenario.note("GLib timer \(scenario.glibTicks)")
        scenario.quitWhenDone()
        return scenario.glibTicks < 4
    }
    reactor.schedule(after: 0.025, repeating: 0.05) { timer in
        scenario.reactorTicks += 1
        scenario.note("reactor timer \(scenario.reactorTicks)")
        if scenario.reactorTicks == 2 {
            // What libev does after fork() or when it finds its epoll set stale: rebuild it. The
            // source must follow (ReactorSource's onPollfdChange). Simulated here to exercise that.
            reactor.afterFork()
        }
        if scenario.reactorTicks == 4 { timer.cancel() }
        scenario.quitWhenDone()
    }
    // A reactor task that awaits a pipe GLib writes at 110 ms: the reactor's fd wakes GLib up.
    reactor.spawn {
        try await reactor.sleep(seconds: 0.06)
        scenario.note("task slept")
        _ = try await reactor.wait(for: .read, on: readEnd, timeout: 2)
        var byte: UInt8 = 0
        _ = read(readEnd, &byte, 1)
        scenario.note("task read the pipe")
        scenario.taskDone = true
        scenario.quitWhenDone()
    }
    glibTimeout(milliseconds: 110) {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
        scenario.note("GLib wrote the pipe")
        return false
    }
    let watchdog = glibTimeout(milliseconds: 3000) {
        scenario.watchdogFired = true
        g_main_loop_quit(scenario.loop)
        return false
    }
    g_main_loop_run(scenario.loop)
    if !scenario.watchdogFired { g_source_remove(watchdog) }

    func fail(_ reason: String) -> Bool {
        print("glib-host self-test FAILED: \(reason); events: \(scenario.events)")
        return false
    }
    guard !scenario.watchdogFired else { return fail("the main loop did not finish within 3 s") }
    let ticks = scenario.events.map(\.what).filter { $0.contains(" timer ") }
    let interleaved = [
        "reactor timer 1", "GLib timer 1", "reactor timer 2", "GLib timer 2",
        "reactor timer 3", "GLib timer 3", "reactor timer 4", "GLib timer 4",
    ]
    guard ticks == interleaved else {
        return fail("timers out of order: \(ticks), expected \(interleaved)")
    }
    for (index, name) in interleaved.enumerated() {
        let due = Double(index + 1) * 25
        guard let at = scenario.time(of: name), at >= due else {
            return fail("\(name) fired before \(Int(due)) ms")
        }
    }
    guard let wrote = scenario.time(of: "GLib wrote the pipe"),
        let read = scenario.time(of: "task read the pipe"), read - wrote < 20
    else { return fail("the task did not resume promptly after GLib wrote the pipe") }
    guard embedding.reRegistrations == 1, reactor.pollfdGeneration == 1 else {
        return fail(
            "pollfd re-registered \(embedding.reRegistrations) times for "
                + "generation \(reactor.pollfdGeneration), expected 1 and 1")
    }
    guard reactor.empty() else { return fail("the reactor still has work") }
    print(
        "glib-host self-test ok: GLib and reactor timers interleaved (\(ticks.joined(separator: ", "))), "
            + "task resumed \(Int((read - wrote) * 1000)) µs after GLib wrote its pipe, "
            + "pollfd re-registered after an epoll rebuild (fd \(firstFd) -> \(embedding.fd)), "
            + "main loop quit at "
            + "\(Int(scenario.events.last!.milliseconds.rounded())) ms")
    return true
}

/// Interactive: a GLib timer and a reactor timer, each once a second, half a second apart.
func interactive(seconds: Double?) throws {
    let loop = g_main_loop_new(nil, 0)
    defer { g_main_loop_unref(loop) }
    let reactor = try Reactor()
    let embedding = ReactorSource(reactor: reactor)
    defer { embedding.destroy() }
    let start = MonotonicClock.seconds()
    let elapsed = { String(Int(((MonotonicClock.seconds() - start) * 1000).rounded())) + " ms" }
    glibTimeout(milliseconds: 1000) {
        print("\(elapsed()): GLib timer")
        return true
    }
    reactor.schedule(after: 0.5, repeating: 1) { _ in print("\(elapsed()): reactor timer") }
    if let seconds {
        glibTimeout(milliseconds: guint(seconds * 1000)) {
            g_main_loop_quit(loop)
            return false
        }
    }
    g_main_loop_run(loop)
}

let arguments = Array(CommandLine.arguments.dropFirst())
let usage = "usage: example-glib-host [--self-test | --seconds N]"
switch (arguments.first, arguments.count) {
case ("--self-test", 1):
    exit(try selfTest() ? 0 : 1)
case (nil, 0):
    try interactive(seconds: nil)
case ("--seconds", 2) where Double(arguments[1]).map({ $0 >= 0 }) ?? false:
    try interactive(seconds: Double(arguments[1]))
default:
    print(usage)
    exit(2)
}
