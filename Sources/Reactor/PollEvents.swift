import Glibc

/// What a pollable object wants its host to wait for on `pollfd()`: the `poll(2)` events
/// (`POLLIN`, `POLLOUT`, `POLLPRI`), like cqueues' "r", "w" and "p".
public struct PollEvents: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    public static let read = PollEvents(rawValue: Int16(POLLIN))
    public static let write = PollEvents(rawValue: Int16(POLLOUT))
    public static let priority = PollEvents(rawValue: Int16(POLLPRI))

    /// The lua-http spelling: "r", "w", "p" in that order.
    public var description: String {
        (contains(.read) ? "r" : "") + (contains(.write) ? "w" : "") + (contains(.priority) ? "p" : "")
    }
}
