import Foundation
import Stepwise

#if canImport(Glibc)
    import Glibc
#endif

/// A raw blocking loopback socket for the soak: sends in pieces, reads until EOF with a deadline,
/// can reset (SO_LINGER 0) or half-close.
final class SoakSocket {
    private(set) var fd: Int32

    /// - Parameter receiveBuffer: a fixed SO_RCVBUF (set before connect, so the kernel does not
    ///   grow it: Linux's autotuning may reach `tcp_rmem`'s maximum, 32 MiB on some machines).
    init(port: UInt16, receiveBuffer: Int32? = nil) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestError("socket: errno \(errno)") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let error = errno
            Glibc.close(fd)
            throw TestError("connect: errno \(error)")
        }
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// What arrived while sending (a client reads while it sends: a server may answer, and stop
    /// reading, before the request ends).
    var received: [UInt8] = []
    /// The peer closed or reset while this side was sending.
    private(set) var receivedEnd: End?

    /// Sends what the peer takes before `deadline`, reading meanwhile; false if the peer closed
    /// or reset.
    @discardableResult
    func send(_ bytes: ArraySlice<UInt8>, until deadline: Double) -> Bool {
        var offset = bytes.startIndex
        var buffer = [UInt8](repeating: 0, count: 65536)
        while offset < bytes.endIndex {
            let events = Int16(POLLOUT) | (receivedEnd == nil ? Int16(POLLIN) : 0)
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let left = deadline - MonotonicClock.seconds()
            guard left > 0, poll(&entry, 1, Int32(left * 1000)) == 1 else { return false }
            if receivedEnd == nil && entry.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if count > 0 {
                    received += buffer[..<count]
                } else if count == 0 {
                    receivedEnd = .eof
                } else if errno != EAGAIN && errno != EINTR {
                    receivedEnd = .reset
                }
            }
            guard entry.revents & Int16(POLLOUT) != 0 else { continue }
            let sent = bytes.withUnsafeBytes {
                Glibc.send(
                    fd, $0.baseAddress! + (offset - bytes.startIndex), bytes.endIndex - offset,
                    Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if sent < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                return false
            }
            offset += sent
        }
        return true
    }

    enum End { case eof, reset, timedOut }

    /// Reads until EOF, a reset or `deadline`.
    func readAll(until deadline: Double, into output: inout [UInt8], stopWhen: (([UInt8]) -> Bool)? = nil) -> End {
        output += received
        received = []
        if let receivedEnd { return receivedEnd }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let stopWhen, stopWhen(output) { return .timedOut }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = deadline - MonotonicClock.seconds()
            guard left > 0 else { return .timedOut }
            let ready = poll(&entry, 1, Int32(left * 1000) + 1)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return .eof }
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                return .reset
            }
            output += buffer[..<count]
        }
    }

    func shutdownWrite() { Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// Closes with a reset (SO_LINGER 0).
    func reset() {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        Glibc.close(fd)
        fd = -1
    }

    func close() {
        Glibc.close(fd)
        fd = -1
    }
}
