/// The foreign-loop face every stateful Stepwise object shows (reactor, server, connection,
/// request, websocket).
///
/// A host that waits with `poll([pollfd(), events()], ceil(timeout() * 1000))` and then calls
/// `step(timeout: 0)`, forever, serves traffic exactly as well as `loop()` does: no busy waiting
/// and no missed timers. Round `timeout()` **up** to the host's resolution (`timeoutMilliseconds()`
/// does it); rounding down wakes the host early and it spins until the deadline.
public protocol Pollable: AnyObject {
    /// One file descriptor the host can wait on.
    func pollfd() -> Int32
    /// What to wait for on `pollfd()`.
    func events() -> PollEvents
    /// Seconds until `step` must be called even without fd activity: `0` when work is queued
    /// now, `nil` when there is no deadline.
    func timeout() -> Double?
    /// Does all work that is ready, waiting at most `timeout` seconds for some (`nil`: until
    /// something happens). `step(timeout: 0)` never blocks.
    func step(timeout: Double?) throws
}

extension Pollable {
    /// `timeout()` in whole milliseconds, rounded up, clamped to `Int32`; `-1` when there is no
    /// deadline (the `poll(2)` convention).
    public func timeoutMilliseconds() -> Int32 {
        guard let seconds = timeout() else { return -1 }
        let milliseconds = (seconds * 1000).rounded(.up)
        return milliseconds >= Double(Int32.max) ? Int32.max : Int32(Swift.max(0, milliseconds))
    }
}
