/// A deadline across several waits: "the timeout is one deadline over every phase".
public struct Deadline: Sendable {
    public let nanoseconds: UInt64?

    public init(_ timeout: Double?) {
        nanoseconds = timeout.map {
            MonotonicClock.deadline(after: $0, from: MonotonicClock.nanoseconds())
        }
    }

    /// Seconds left (nil: no deadline); throws `ReactorError.timedOut(what)` once it passed.
    public func remaining(_ what: @autoclosure () -> String) throws -> Double? {
        guard let nanoseconds else { return nil }
        let now = MonotonicClock.nanoseconds()
        guard now < nanoseconds else { throw ReactorError.timedOut(what()) }
        return Double(nanoseconds - now) / 1e9
    }

    /// Seconds left, 0 once it passed (nil: no deadline). For a call that hands over what it
    /// already has before it waits (`getNextChunk` returns queued octets whatever its timeout, a
    /// finished `BlockingJob` its value): given this, it times out only when it would have to
    /// wait. lua-http's body helpers pass `deadline - monotime()` to `get_next_chunk` the same way.
    public var remainingOrZero: Double? {
        guard let nanoseconds else { return nil }
        let now = MonotonicClock.nanoseconds()
        return now < nanoseconds ? Double(nanoseconds - now) / 1e9 : 0
    }
}
