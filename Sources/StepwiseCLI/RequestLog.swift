import Glibc
import Stepwise

/// One line per request on stderr: peer, request line, status, body bytes, milliseconds. The
/// lines go through `StandardError.writer`, so a stderr that does not keep up never stalls the
/// server.
final class RequestLog: Sendable {
    private var writer: LineWriter { StandardError.writer }

    func record(peer: SocketName, head: HTTP1MessageHead, status: Int, bytes: Int, started: UInt64) {
        let milliseconds = Double(MonotonicClock.nanoseconds() - started) / 1e6
        let rounded = (milliseconds * 10).rounded() / 10
        writer.append(
            "\(peer) \"\(head.method ?? "-") \(head.path ?? head.authority ?? "-") \(head.version)\" \(status) \(bytes) \(rounded) ms\n"
        )
    }

    /// A request the server answered itself because it could not be parsed (no request line to
    /// show): its status and why.
    func recordRejected(peer: String, status: Int, reason: String) {
        writer.append("\(peer) \"-\" \(status) - - (\(reason))\n")
    }
}
