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
}
