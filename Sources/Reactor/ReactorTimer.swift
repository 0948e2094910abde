/// A one-shot or repeating timer scheduled on a reactor. Cancel it with `cancel()`; a timer that
/// is neither repeating nor cancelled goes away by itself after it fires. A timer may outlive its
/// reactor: it is then unscheduled, and rescheduling it does nothing.
///
/// Its mutable state is `@exclusivity(unchecked)`, like `StreamSocket`'s (reactor-thread only, no
/// access spans a callback; the runtime checks were a sixth of a request's instructions).
public final class ReactorTimer {
    /// Valid while `lifeline.isAlive` (no weak reference: see `ReactorLifeline`).
    private unowned(unsafe) let reactor: Reactor
    private let lifeline: ReactorLifeline
    private let action: Action
    /// Seconds between firings, or 0 for a one-shot timer.
    public let interval: Double
    @exclusivity(unchecked) @usableFromInline var deadline: UInt64
    @exclusivity(unchecked) var sequence: UInt64 = 0
    @exclusivity(unchecked) @usableFromInline var heapIndex: Int?

    /// A closure, or an owner told through `ReactorTimerTarget` (no closure context per timer).
    enum Action {
        case closure((ReactorTimer) -> Void)
        case target(UnownedTimerTarget)
    }

    init(reactor: Reactor, deadline: UInt64, interval: Double, action: Action) {
        self.reactor = reactor
        self.lifeline = reactor.lifeline
        self.deadline = deadline
        self.interval = interval
        self.action = action
    }

    func fire() {
        switch action {
        case .closure(let handler): handler(self)
        case .target(let target): target.value.timerFired(self)
        }
    }

    /// Whether the timer will still fire.
    @inlinable public var isScheduled: Bool { heapIndex != nil }

    /// Seconds until the timer fires (0 when due), or nil when it is not scheduled.
    public var remaining: Double? {
        guard isScheduled else { return nil }
        let now = MonotonicClock.nanoseconds()
        return deadline > now ? Double(deadline - now) / 1e9 : 0
    }

    /// Stops the timer; safe to call more than once and from inside its own handler.
    public func cancel() {
        if lifeline.isAlive { reactor.unschedule(self) }
    }

    /// Moves the deadline to `seconds` from now (and schedules the timer again if it fired).
    public func reschedule(after seconds: Double) {
        reschedule(at: MonotonicClock.deadline(after: seconds, from: MonotonicClock.nanoseconds()))
    }

    /// Moves the deadline to `deadline` (`MonotonicClock` nanoseconds), scheduling the timer
    /// again if it fired or was cancelled.
    public func reschedule(at deadline: UInt64) {
        if lifeline.isAlive { reactor.reschedule(self, at: deadline) }
    }

    /// When the timer fires (`MonotonicClock` nanoseconds), or nil when it is not scheduled.
    /// Inlinable: a connection asks on every request whether its timer is due early enough.
    @inlinable public var scheduledDeadline: UInt64? { isScheduled ? deadline : nil }
}

/// Told when its timers fire: for objects that own a timer for their whole life (a connection's
/// idle timer), where a closure per timer would cost an allocation each. The timer holds its
/// target unowned: cancel the timer before the target goes away.
public protocol ReactorTimerTarget: AnyObject {
    func timerFired(_ timer: ReactorTimer)
}

struct UnownedTimerTarget {
    unowned let value: any ReactorTimerTarget
}
