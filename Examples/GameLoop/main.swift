// example-game-loop: a fixed 60 Hz frame loop that drives a Stepwise reactor.
//
// The recipe for loops that already wake up on their own schedule (games, audio callbacks,
// simulations, UI frame clocks): call `reactor.step(timeout: 0)` once per frame. That is all.
// `step(timeout: 0)` never blocks; it runs the timers that came due since the last frame, the
// IO that became ready and the tasks that can proceed, and returns. Timers therefore fire in
// the first frame that starts at or after their deadline (never early, at most one frame
// late), and a task waiting on an fd resumes in the first frame after the fd became ready.
// There is no need to look at `pollfd()` or `timeout()` here: the frame clock is the wait.
//
// Keep `step` out of reactor callbacks and tasks (it throws `ReactorError.reentrantStep`), and
// call it from the thread that owns the reactor: the game thread.
//
//   example-game-loop --self-test   a fixed scenario, then a per-frame summary and one line
//   example-game-loop [--seconds N] runs N seconds (default: until Ctrl-C), one line a second
import Glibc
import Stepwise

let framesPerSecond: UInt64 = 60
let frameNanoseconds = 1_000_000_000 / framesPerSecond

/// The frame clock: absolute CLOCK_MONOTONIC deadlines, so a late frame does not shift the
/// ones after it; when the game falls more than a frame behind it drops the missed frames
/// instead of running them back to back.
struct FrameClock {
    private(set) var next = MonotonicClock.nanoseconds()

    mutating func sleepUntilNextFrame() {
        next += frameNanoseconds
        let now = MonotonicClock.nanoseconds()
        if now > next + frameNanoseconds { next = now }
        var deadline = timespec(tv_sec: Int(next / 1_000_000_000), tv_nsec: Int(next % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nil) == EINTR {}
    }
}

/// The game's record of what happened in which frame. Reactor callbacks and task jobs run
/// inside `step`, on the game thread, so this is only ever touched there.
final class FrameLog: @unchecked Sendable {
    let start = MonotonicClock.nanoseconds()
    var frame = 0
    var entries: [(frame: Int, milliseconds: Double, what: String)] = []

    func note(_ what: String) {
        let elapsed = Double(MonotonicClock.nanoseconds() - start) / 1e6
        entries.append((frame, elapsed, what))
    }

    func frame(of what: String) -> Int? { entries.first { $0.what == what }?.frame }
}

/// Runs the frame loop until `done()`: step the reactor, then the game's own update.
/// Returns the longest `step(timeout: 0)` took, in microseconds.
func runFrames(
    _ reactor: Reactor, log: FrameLog, update: () -> Void, until done: () -> Bool
) throws -> Double {
    var clock = FrameClock()
    var slowestStep: UInt64 = 0
    while !done() {
        log.frame += 1
        let before = MonotonicClock.nanoseconds()
        try reactor.step(timeout: 0)
        slowestStep = max(slowestStep, MonotonicClock.nanoseconds() - before)
        update()  // the game: physics, rendering, input…
        clock.sleepUntilNextFrame()
    }
    return Double(slowestStep) / 1000
}

func selfTest() throws -> Bool {
    let reactor = try Reactor()
    let log = FrameLog()
    var input: [Int32] = [0, 0]
    guard pipe(&input) == 0 else { throw SystemError("pipe") }
    defer { input.forEach { close($0) } }
    let (inputReadEnd, inputWriteEnd) = (input[0], input[1])

    reactor.schedule(after: 0.05) { _ in log.note("one-shot timer (50 ms)") }
    var ticks = 0
    let autosave = reactor.schedule(after: 0.1, repeating: 0.1) { _ in
        ticks += 1
        log.note("repeating timer, tick \(ticks)")
    }
    // A task that sleeps, then waits for the player's input on a pipe.
    reactor.spawn {
        log.note("task started")
        try await reactor.sleep(seconds: 0.12)
        log.note("task woke from its 120 ms sleep")
        _ = try await reactor.wait(for: .read, on: inputReadEnd, timeout: 2)
        var key: UInt8 = 0
        _ = read(inputReadEnd, &key, 1)
        log.note("task read key '\(Character(Unicode.Scalar(key)))'")
    }

    // The game's own update: at frame 15 the "player presses a key", i.e. writes to the pipe.
    let inputFrame = 15
    let slowest = try runFrames(
        reactor, log: log,
        update: {
            if log.frame == inputFrame {
                var key = UInt8(ascii: "k")
                _ = write(inputWriteEnd, &key, 1)
                log.note("game wrote key 'k' to the input pipe")
            }
            if ticks == 3 { autosave.cancel() }
        },
        until: { reactor.empty() || log.frame >= 3 * Int(framesPerSecond) })
    let elapsed = Double(MonotonicClock.nanoseconds() - log.start) / 1e6

    print("frame    time  what happened")
    for entry in log.entries {
        let frame = String(entry.frame)
        let time = String(Int(entry.milliseconds.rounded()))
        print(
            String(repeating: " ", count: max(0, 5 - frame.count)) + frame
                + String(repeating: " ", count: max(0, 6 - time.count)) + time + " ms  " + entry.what)
    }

    func fail(_ reason: String) -> Bool {
        print("game-loop self-test FAILED: \(reason)")
        return false
    }
    guard reactor.empty() else { return fail("the reactor still had work after 3 s") }
    let timeOf = { (what: String) in log.entries.first { $0.what == what }?.milliseconds }
    guard let oneShot = timeOf("one-shot timer (50 ms)") else {
        return fail("the one-shot timer never fired")
    }
    guard oneShot >= 50 else { return fail("the 50 ms timer fired early, at \(oneShot) ms") }
    guard ticks == 3, let third = timeOf("repeating timer, tick 3"), third >= 300 else {
        return fail("expected 3 ticks, the third at 300 ms or later; log: \(log.entries)")
    }
    guard let slept = timeOf("task woke from its 120 ms sleep"), slept >= 120 else {
        return fail("the task did not sleep 120 ms")
    }
    guard let keyFrame = log.frame(of: "task read key 'k'") else {
        return fail("the task never read the key")
    }
    // The write happened after frame 15's step, so frame 16's step must resume the task.
    guard keyFrame == inputFrame + 1 else {
        return fail("the task read the key in frame \(keyFrame), expected frame \(inputFrame + 1)")
    }
    // Paced by the frame clock, not spinning: never more frames than 60 Hz allows.
    let allowed = Int(elapsed * Double(framesPerSecond) / 1000) + 2
    guard log.frame <= allowed else {
        return fail("\(log.frame) frames in \(Int(elapsed)) ms is faster than 60 Hz")
    }
    print(
        "game-loop self-test ok: \(log.frame) frames in \(Int(elapsed.rounded())) ms at 60 Hz, "
            + "one-shot timer in frame \(log.frame(of: "one-shot timer (50 ms)")!), \(ticks) ticks, "
            + "task resumed in frame \(keyFrame) right after the input in frame \(inputFrame), "
            + "slowest step(0) \(Int(slowest.rounded())) µs")
    return true
}

/// Interactive: a reactor timer every 250 ms and one line per second of frames.
func interactive(seconds: Double?) throws {
    let reactor = try Reactor()
    let log = FrameLog()
    var timerFirings = 0
    reactor.schedule(after: 0.25, repeating: 0.25) { _ in timerFirings += 1 }
    var lastReport = 0
    let frames = seconds.map { Int($0 * Double(framesPerSecond)) }
    let slowest = try runFrames(
        reactor, log: log,
        update: {
            guard log.frame - lastReport == Int(framesPerSecond) else { return }
            lastReport = log.frame
            print("frame \(log.frame): 4 Hz reactor timer fired \(timerFirings) times so far")
        },
        until: { frames.map { log.frame >= $0 } ?? false })
    print("game loop: \(log.frame) frames, slowest step(0) \(Int(slowest.rounded())) µs")
}

let arguments = Array(CommandLine.arguments.dropFirst())
let usage = "usage: example-game-loop [--self-test | --seconds N]"
if arguments == ["--self-test"] {
    exit(try selfTest() ? 0 : 1)
} else if arguments.isEmpty || (arguments.count == 2 && arguments[0] == "--seconds") {
    guard arguments.isEmpty || Double(arguments[1]) != nil else {
        print(usage)
        exit(2)
    }
    try interactive(seconds: arguments.count == 2 ? Double(arguments[1]) : nil)
} else {
    print(usage)
    exit(2)
}
