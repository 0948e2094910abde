/// A client connection's reference to one of its streams that does not keep the stream alive.
///
/// A client stream holds its connection (reading needs it), so a connection that held its
/// streams too made a cycle: a response dropped unread by its caller kept the two of them, the
/// socket and its descriptor, and a pool's place, for good. Through this link the stream lives as
/// long as somebody uses it (the caller, a task or callback reading it); once nobody does, it
/// goes, and the connection hears of it (`H1Connection.clientStreamWentAway`). `stream` is then
/// nil.
struct H1StreamLink {
    weak var stream: H1Stream?

    init(_ stream: H1Stream) { self.stream = stream }

    /// Whether the stream went away.
    var isGone: Bool { stream == nil }
}
