import Glibc

/// Lines for one file descriptor (the request log's stderr), written by a thread of their own.
/// The caller (the reactor's thread) only appends to a buffer, so a stderr that is a pipe nobody
/// drains, or a terminal paused with Ctrl-S, never stalls the server. Past `limit` buffered
/// octets lines are dropped and counted, and the count is written once the writer catches up.
final class LineWriter: @unchecked Sendable {
    private let fd: Int32
    private let limit: Int
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Signalled when lines arrive.
    private let arrived = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Broadcast when the buffer has been written out.
    private let drained = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Under `mutex`:
    private var pending: [UInt8] = []
    private var dropped = 0
    private var isWriting = false
    private var threadStarted = false

    /// A writer for `fd` buffering at most `limit` octets (default 1 MiB).
    init(fd: Int32, limit: Int = 1 << 20) {
        self.fd = fd
        self.limit = limit
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(arrived, nil)
        pthread_cond_init(drained, nil)
    }

    /// Queues `line` (with its newline) without waiting for the descriptor.
    func append(_ line: String) {
        var line = line
        line.withUTF8 { octets in
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            guard pending.count + octets.count <= limit else {
                dropped += 1
                return
            }
            pending.append(contentsOf: octets)
            if !threadStarted {
                threadStarted = true
                startThread()
            } else if !isWriting {
                pthread_cond_signal(arrived)
            }
        }
    }

    /// Waits until everything queued so far was written, or `seconds` passed (a descriptor that
    /// is never drained must not hold up the exit). Returns whether it was all written.
    @discardableResult
    func flush(within seconds: Double) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let nanoseconds = Int(deadline.tv_nsec) + Int(seconds * 1e9)
        deadline.tv_sec += nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !pending.isEmpty || dropped > 0 || isWriting {
            if pthread_cond_timedwait(drained, mutex, &deadline) == ETIMEDOUT { return false }
        }
        return true
    }

    private func startThread() {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(
            &thread, nil,
            { raw in
                Unmanaged<LineWriter>.fromOpaque(raw!).takeRetainedValue().run()
                return nil
            }, context)
        if rc == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<LineWriter>.fromOpaque(context).release()
            threadStarted = false  // the next line tries again; until then lines wait
        }
    }

    private func run() {
        var batch: [UInt8] = []
        pthread_mutex_lock(mutex)
        while true {
            while pending.isEmpty && dropped == 0 {
                isWriting = false
                pthread_cond_broadcast(drained)
                pthread_cond_wait(arrived, mutex)
            }
            isWriting = true
            swap(&batch, &pending)
            let lost = dropped
            dropped = 0
            pthread_mutex_unlock(mutex)
            if lost > 0 {
                batch.append(contentsOf: "stepwise: \(lost) request-log lines dropped: stderr did not keep up\n".utf8)
            }
            writeAll(batch)
            batch.removeAll(keepingCapacity: batch.capacity <= 64 * 1024)
            pthread_mutex_lock(mutex)
        }
    }

    /// Writes `octets`, waiting on this thread while a non-blocking stderr is full
    /// (`writeWaiting`), and giving up on an error (a closed stderr loses the log, not the server).
    private func writeAll(_ octets: [UInt8]) {
        _ = octets.withUnsafeBytes { writeWaiting($0, to: fd) }
    }
}
