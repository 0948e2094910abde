import Glibc
import Stepwise

/// One line per request on stderr: peer, request line, status, body bytes, milliseconds, and
/// for a response cut short (`(cut short: why)`) the body octets that went out before it was (of
/// a file, those the kernel took into the socket's buffer: `FileBodySender`).
/// The lines go through `StandardError.writer`, so a stderr that does not keep up never stalls
/// the server.
final class RequestLog: Sendable {
    private var writer: LineWriter { StandardError.writer }

    /// A request's line in the making: what it needs from when the request came, the peer and
    /// the clock. The peer is read then, before anything can close the connection:
    /// `getpeername(2)` answers nothing once the connection was shut down (as a response that
    /// fails is) or the client reset it, and the line said "unspecified". A class, made only
    /// when there is a log: a site without one passes nil, and `/hello` pays nothing for it.
    final class Arrival: Sendable {
        let log: RequestLog
        let peer: SocketName
        let started: UInt64

        init(log: RequestLog, peer: SocketName, started: UInt64) {
            self.log = log
            self.peer = peer
            self.started = started
        }

        /// Writes the line: `bytes` is the body octets sent; with `cutShort`, why the rest of
        /// the response was not.
        func record(head: HTTP1MessageHead, status: Int, bytes: Int, cutShort: (any Error)? = nil) {
            log.record(self, head: head, status: status, bytes: bytes, cutShort: cutShort)
        }
    }

    func arrival(of stream: any HTTPStream) -> Arrival {
        Arrival(log: self, peer: stream.peername(), started: MonotonicClock.nanoseconds())
    }

    private func record(_ arrival: Arrival, head: HTTP1MessageHead, status: Int, bytes: Int, cutShort: (any Error)?) {
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
