import Glibc
import Stepwise

/// One line per request on stderr: peer, request line, status, body bytes, milliseconds.
final class RequestLog: Sendable {
    func record(peer: SocketName, head: HTTP1MessageHead, status: Int, bytes: Int, started: UInt64) {
        let milliseconds = Double(MonotonicClock.nanoseconds() - started) / 1e6
        let rounded = (milliseconds * 10).rounded() / 10
        var text =
            "\(peer) \"\(head.method ?? "-") \(head.path ?? head.authority ?? "-") \(head.version)\" \(status) \(bytes) \(rounded) ms\n"

        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}
