import Glibc
import Reactor

/// A host loop that drives a pollable object only through its foreign-loop face: wait on
/// `pollfd()` for `events()` with `timeoutMilliseconds()` (rounded up), then `step(timeout: 0)`.
/// Returns how many times the host woke up.
@discardableResult
func foreignLoop(
    _ object: some Pollable, for seconds: Double, honourTimeout: Bool = true, pollingEvery slice: Double? = nil,
    until done: () -> Bool
) throws -> Int {
    let deadline = MonotonicClock.seconds() + seconds
    var wakeups = 0
    while !done() {
        let left = deadline - MonotonicClock.seconds()
        guard left > 0 else { break }
        // `slice` bounds each wait, for conditions outside the object (a child process exiting)
        // that nothing on the object's fd would wake the host for.
        var wait = Int32((Swift.min(left, slice ?? left) * 1000).rounded(.up))
        if honourTimeout {
            let ms = object.timeoutMilliseconds()
            if ms >= 0 && ms < wait { wait = ms }
        }
        var pfd = pollfd(fd: object.pollfd(), events: object.events().rawValue, revents: 0)
        _ = poll(&pfd, 1, wait)
        wakeups += 1
        try object.step(timeout: 0)
    }
    return wakeups
}
