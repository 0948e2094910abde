import Glibc

/// Nanoseconds on `CLOCK_MONOTONIC`: the one time base of every deadline in the reactor.
/// libev's own timers use the same clock, so a host that sleeps the rounded-up `timeout()`
/// wakes at or after the deadline, never just before it.
///
/// Inlinable: a connection reads the clock and computes a deadline for every request.
public enum MonotonicClock {
    @inlinable
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Seconds since an arbitrary origin, for measurements and logs.
    public static func seconds() -> Double {
        Double(nanoseconds()) / 1e9
    }

    /// `seconds` from now, as a deadline in nanoseconds; negative values mean "now", `infinity`
    /// saturates.
    @inlinable
    public static func deadline(after seconds: Double, from now: UInt64) -> UInt64 {
        guard seconds > 0 else { return now }
        guard seconds < 1e9 else { return UInt64.max }
        return now &+ UInt64(seconds * 1e9)
    }
}
