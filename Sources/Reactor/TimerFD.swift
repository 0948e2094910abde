internal import CLibev
import Glibc

/// A `timerfd` registered inside libev's epoll set, armed to the reactor's next deadline: with
/// it, `pollfd()` becomes readable when a timer is due, so hosts that only wait on the fd still
/// fire timers on time (the reactor's fd-only mode).
final class TimerFD {
    /// An absolute deadline in the past: fire at once.
    static let asap: UInt64 = 1

    let fd: Int32
    private var watcher: IOWatcher?
    /// The absolute CLOCK_MONOTONIC deadline the timerfd is armed for, 0 when disarmed, nil
    /// when unknown (it fired).
    private var armed: UInt64? = 0

    init(reactor: Reactor) throws {
        fd = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
        guard fd >= 0 else { throw SystemError("timerfd_create") }
        watcher = reactor.watchInternal(fd: fd) { [unowned self] _ in
            var expirations: UInt64 = 0
            _ = read(self.fd, &expirations, 8)
            self.armed = nil
        }
    }

    deinit {
        // Also right when the reactor is going away: the watcher then only stops libev's.
        watcher?.cancel()
        close(fd)
    }

    /// Arms the timer for an absolute CLOCK_MONOTONIC deadline in nanoseconds (nil: disarm).
    func arm(deadline: UInt64?) {
        let target = deadline.map { $0 == .max ? 0 : Swift.max($0, 1) } ?? 0
        guard armed != target else { return }
        armed = target
        var spec = itimerspec()
        spec.it_value.tv_sec = Int(target / 1_000_000_000)
        spec.it_value.tv_nsec = Int(target % 1_000_000_000)
        _ = timerfd_settime(fd, Int32(TFD_TIMER_ABSTIME), &spec, nil)
    }
}
