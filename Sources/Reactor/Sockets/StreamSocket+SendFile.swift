import Glibc

/// Sending a file's octets with `sendfile(2)`: the kernel moves the file's pages to the socket,
/// never through user space (no `read` into a buffer, no copy into the queue). The kernel may
/// have to read the pages from disk inside the call, so it runs on a blocking-work thread
/// (`Reactor.startBlocking`), a stretch at a time (`FileSendStep`); between stretches the
/// reactor waits for room in the socket's buffer.
///
/// Nothing on the hot path of other writes knows of it: the end-of-step flush inlines the
/// queue's write only while it stays as small as it is (some 75 instructions a response went
/// when it looked at `sendingFile`). So the socket's owner must not write to it while
/// `sendFile` runs (debug builds assert it; `H1Connection` refuses such writes itself).
extension StreamSocket {
    /// Whether `sendFile` can run now: an open socket without TLS (the kernel would send the
    /// file's octets unencrypted), with no error and no other `sendFile` running.
    public var canSendFile: Bool { fd >= 0 && transport == nil && failure == nil && !sendingFile }

    /// The file octets this socket sent with `sendFile`.
    public var fileOctetsSent: UInt64 { fileOctetsSentSoFar }

    /// Sends what is queued, then `prefix`, then `count` octets of `file` from `offset` (the
    /// file's own offset does not move), and returns once all of it is with the kernel. Until it
    /// returns, the output is lent to the send: write nothing to the socket meanwhile. A
    /// `shutdownWrite()` meanwhile sends its FIN after the file.
    ///
    /// Throws `unsupported`, having taken and sent nothing, when `canSendFile` is false, the
    /// range ends past the largest file offset, or no descriptor is left for the send's own
    /// duplicate of the socket (EMFILE: the caller may still write the file's octets itself).
    /// Once it started: the socket's failure (or the file's, as `SocketError.system` with the
    /// operation `sendfile, reading the file`: EIO and the like; the socket fails with it all the
    /// same, its stream cut short), `SocketError.closed` when it is closed meanwhile,
    /// `fileEnded(missing:)` when the file has fewer octets than `count`, and
    /// `ReactorError.timedOut` after `timeout` seconds (nil: none). Some of the file may be sent
    /// by then: the stream cannot go on as if nothing was, so the caller should close the
    /// socket. The file stays open (`file` is held) until the kernel is done with it.
    public func sendFile(
        _ file: some FileDescriptorOwner, offset: UInt64, count: UInt64, prefix: [UInt8] = [],
        timeout: Double? = nil
    ) async throws {
        if let failure { throw failure }
        guard fd >= 0 else { throw SocketError.closed }
        guard transport == nil else { throw SocketError.unsupported("sendfile on a TLS socket") }
        guard !sendingFile else { throw SocketError.unsupported("a second sendfile while one runs") }
        // sendfile(2) takes a signed offset, and the range must end within it.
        let (end, overflow) = offset.addingReportingOverflow(count)
        guard !overflow, off_t(exactly: end) != nil else {
            throw SocketError.unsupported(
                "sendfile of \(count) octets at offset \(offset): past the largest file offset")
        }
        // The stretches send through a duplicate of their own, made once, before anything is
        // taken: a close meanwhile cannot make them write to whatever the fd number names next.
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else {
            throw SocketError.unsupported("sendfile without a descriptor to spare: \(String(cString: strerror(errno)))")
        }
        let socketCopy = SocketCopy(fd: copy)
        let deadline = Deadline(timeout)
        var step = FileSendStep(prefix: takeQueuedOutput() + prefix, fileOffset: offset, fileOctets: count)
        sendingFile = true
        while true {
            let progress = try await runFileSendStep(step, file: file, through: socketCopy, deadline: deadline)
            step.advance(by: progress)
            guard fd >= 0 else { throw SocketError.closed }
            switch progress.outcome {
            case .done:
                fileSendEnded()
                return
            case .more:
                continue
            case .wouldBlock:
                do {
                    try await waitUntilWritable(deadline)
                } catch {
                    fileSendEnded()
                    throw error
                }
            case .fileEnded:
                fileSendEnded()
                throw SocketError.fileEnded(missing: step.fileOctets)
            case .failed(let operation, let number):
                // As a failed write: sticky, and the reader hears of it.
                let error = SocketError.system(operation: operation, errno: number)
                fileSendFailed(error)
                throw error
            }
        }
    }

    /// Runs one stretch on a blocking-work thread, through the send's duplicate of the socket
    /// (held by the job until it ends). If the wait ends first (a timeout, a cancellation), the
    /// output stays lent until the stretch ends.
    private func runFileSendStep(
        _ step: FileSendStep, file: some FileDescriptorOwner, through socketCopy: SocketCopy, deadline: Deadline
    ) async throws -> FileSendStep.Progress {
        let job = reactor.startBlocking("sending a file") {
            step.run(socket: socketCopy.fd, file: file.fd)
        }
        // Runs before the waiting task goes on; after it stopped waiting, it ends the send.
        let abandoned = AbandonedWait()
        job.onResult { [self] result in
            if case .success(let progress) = result { fileSendState.fileOctetsSent += progress.fileSent }
            if abandoned.value { fileSendEnded() }
        }
        do {
            return try await job.value(timeout: deadline.remaining("sendFile"))
        } catch {
            abandoned.value = true
            // The stretch's result may have been delivered already, between the wait's end and
            // this task going on (both wait in the reactor's inbox, the result first): then no
            // handler is left to end the send, and the output would stay lent for good.
            if job.isFinished { fileSendEnded() }
            throw error
        }
    }

    /// Waits until the socket's buffer has room (or an error, a close, the deadline), with a
    /// watcher of its own: the socket's watches for what its queue needs.
    private func waitUntilWritable(_ deadline: Deadline) async throws {
        let remaining = try deadline.remaining("sendFile")
        try await reactor.suspend("sendFile", timeout: remaining) { (suspension: Suspension<Void>) in
            let watcher = self.reactor.watchSocket(fd: self.fd, events: .write) { _ in
                suspension.resume(returning: ())
            }
            self.fileSendState.writableWaiters.append(suspension)
            return { [weak self] in
                watcher.cancel()
                self?.fileSendState.writableWaiters.removeAll { $0 === suspension }
            }
        }
        if let failure { throw failure }
        guard fd >= 0 else { throw SocketError.closed }
    }

    /// The output is the socket's again: a half-close asked for meanwhile follows the file.
    func fileSendEnded() {
        guard sendingFile else { return }
        sendingFile = false
        guard fd >= 0 else { return }
        flushNow()
    }

    /// `close()` during a `sendFile`, before the descriptor is closed. The stretch's own
    /// descriptor keeps the connection open until the stretch ends: shutting it down tells the
    /// peer now and ends the stretch's next `sendfile` at once. A task waiting for room hears
    /// of the close.
    func abandonFileSend() {
        sendingFile = false
        Glibc.shutdown(fd, Int32(SHUT_RDWR))
        let waiters = fileSendState.writableWaiters
        fileSendState.writableWaiters = []
        for waiter in waiters { waiter.resume(throwing: SocketError.closed) }
    }
}

/// The duplicate of a socket `sendFile`'s stretches send through, closed when the last of
/// them (and the send) let it go.
private final class SocketCopy: Sendable {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { Glibc.close(fd) }
}

/// Whether `sendFile` stopped waiting for a stretch that still runs.
private final class AbandonedWait {
    var value = false
}

extension FileSendStep {
    /// What is left after `progress`.
    mutating func advance(by progress: Progress) {
        // A copy of the rest, not `removeFirst`: that would share a specialisation of
        // `replaceSubrange` with the output queue's `removeAll(keepingCapacity:)`.
        if progress.prefixSent > 0 { prefix = Array(prefix[progress.prefixSent...]) }
        fileOffset += progress.fileSent
        fileOctets -= progress.fileSent
    }
}
