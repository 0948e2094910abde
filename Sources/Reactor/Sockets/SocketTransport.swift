import Glibc

/// What one attempt to move input from the fd into the socket's buffer achieved.
enum ReceiveOutcome {
    /// Bytes arrived; `drained` when the kernel probably has no more right now.
    case received(drained: Bool)
    case wouldBlock
    case endOfStream
    case failed(SocketError)
}

/// What one attempt to move output to the fd achieved.
enum SendOutcome {
    case done
    case wouldBlock
    case failed(SocketError)
}

/// Moves bytes between a socket fd and the stream socket's plaintext buffers through a TLS
/// session (a plain socket has no transport: `PlainTransport` moves them as they are).
protocol SocketTransport: AnyObject {
    /// Reads into `input`; `scratch` is the reactor's shared buffer (held by nobody else), to
    /// read ciphertext into: `input` must not keep it (only a plain socket's input borrows it).
    func receive(fd: Int32, into input: inout ByteBuffer, chunkSize: Int, scratch: ByteStorage) -> ReceiveOutcome
    func send(fd: Int32, from output: inout WriteQueue) -> SendOutcome
    /// Whether there is something to write now: for TLS, ciphertext, or plaintext once the
    /// handshake lets it be encrypted.
    func hasOutputToSend(plaintextQueued: Bool) -> Bool
    /// Octets the transport holds for the kernel (TLS: ciphertext encrypted but not sent yet).
    var queuedOutputBytes: Int { get }
    /// Queues the transport's own goodbye (TLS close_notify) before a half-close.
    func shutdown()
}

/// Plain TCP and Unix sockets: `recv(2)` into the buffer's tail, `sendmsg(2)` from the queue.
/// Static functions that the socket calls directly (no transport object, no dynamic call).
///
/// `recv` rather than `read`: the fd is always a socket (the send side's `sendmsg` needs one
/// too), and `recv` enters the socket layer directly where `read` goes through the VFS first
/// (nginx reads its connections with `recv` for the same reason).
enum PlainTransport {
    /// Reads into `input`. An `input` with no storage borrows the scratch that `scratch()`
    /// returns (the reactor's, held by nobody else), and `lent` identifies it: the socket ends
    /// the borrow when its reader is done.
    @inline(__always)
    static func receive(
        fd: Int32, into input: inout ByteBuffer, chunkSize: Int, lent: inout ObjectIdentifier?,
        scratch: () -> ByteStorage
    ) -> ReceiveOutcome {
        var room = 0
        let n: Int
        if input.storage == nil {
            // An idle connection keeps no buffer: read into the shared one and borrow it; a
            // request parsed while its reader runs is never copied.
            let scratch = scratch()
            room = scratch.capacity
            n = recv(fd, scratch.base, room, 0)
            if n > 0 {
                lent = ObjectIdentifier(scratch)
                input.borrow(scratch, count: n)
            }
        } else {
            n = input.writeWithUnsafeMutableBytes(minimumWritableBytes: chunkSize) { raw in
                room = raw.count
                return recv(fd, raw.baseAddress, raw.count, 0)
            }
        }
        if n > 0 { return .received(drained: n < room) }
        if n == 0 { return .endOfStream }
        switch errno {
        case EAGAIN, EWOULDBLOCK, EINTR: return .wouldBlock
        default: return .failed(.last("read"))
        }
    }

    static func send(fd: Int32, from output: inout WriteQueue) -> SendOutcome {
        while !output.isEmpty {
            if output.write(to: fd) < 0 {
                switch errno {
                case EAGAIN, EWOULDBLOCK: return .wouldBlock
                case EINTR: continue
                default: return .failed(.last("write"))
                }
            }
        }
        return .done
    }
}
