import Glibc

/// Writes all of `octets` to `fd`, waiting for the descriptor when it is full. Returns 0, or the
/// `errno` of the call that failed.
///
/// stdout and stderr may be non-blocking although this process never asked for it: `O_NONBLOCK`
/// belongs to the open file description, which a pipe or terminal shares with the parent that set
/// it (Node's `child_process`, some shells and terminals). `write` then fails with `EAGAIN`
/// (`EWOULDBLOCK`, the same value on Linux) once the reader falls behind, which is no error: this
/// waits with `poll(POLLOUT)` and writes on, as a blocking descriptor would have waited inside
/// `write`. It blocks the calling thread, so it belongs where a blocking write would: a
/// blocking-work thread, a writer thread, a short message on stderr.
func writeWaiting(_ octets: UnsafeRawBufferPointer, to fd: Int32) -> Int32 {
    var offset = 0
    while offset < octets.count {
        let written = write(fd, octets.baseAddress! + offset, octets.count - offset)
        if written >= 0 {
            offset += written
            continue
        }
        switch errno {
        case EINTR:
            continue
        case EAGAIN:
            var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            // POLLERR or POLLHUP end the wait too; the next write then says what went wrong.
            if poll(&descriptor, 1, -1) < 0 && errno != EINTR { return errno }
        case let failure:
            return failure
        }
    }
    return 0
}
