import Glibc
import Stepwise

/// One line per request on stderr: peer, request line, status, body bytes, milliseconds, and
/// for a response cut short (`(cut short: why)`) the body octets that went out before it was.
/// The lines go through `StandardError.writer`, so a stderr that does not keep up never stalls
/// the server.
final class RequestLog: Sendable {
    private var writer: LineWriter { StandardError.writer }

    /// What a request's log line needs from when it came: the peer and the clock. The peer is
    /// read then, before anything can close the connection: `getpeername(2)` answers nothing
    /// once the connection was shut down (as a response that fails is) or the client reset it,
    /// and the line said "unspecified".
    struct Arrival: Sendable {
        let peer: SocketName
        let started: UInt64

        /// For a site that keeps no log: no system call, no clock.
        static let unlogged = Arrival(peer: .unspecified, started: 0)
    }

    func arrival(of stream: any HTTPStream) -> Arrival {
        Arrival(peer: stream.peername(), started: MonotonicClock.nanoseconds())
    }

    /// `bytes` is the body octets sent; with `cutShort`, why the rest of the response was not.
    func record(_ arrival: Arrival, head: HTTP1MessageHead, status: Int, bytes: Int, cutShort: (any Error)? = nil) {
        let milliseconds = Double(MonotonicClock.nanoseconds() - arrival.started) / 1e6
        let rounded = (milliseconds * 10).rounded() / 10
        let note = cutShort.map { " (cut short: \($0))" } ?? ""
        writer.append(
            "\(arrival.peer) \"\(head.method ?? "-") \(head.path ?? head.authority ?? "-") \(head.version)\" \(status) \(bytes) \(rounded) ms\(note)\n"
        )
    }

    /// A request the server answered itself because it could not be parsed (no request line to
    /// show): its status and why.
    func recordRejected(peer: String, status: Int, reason: String) {
        writer.append("\(peer) \"-\" \(status) - - (\(reason))\n")
    }
}
