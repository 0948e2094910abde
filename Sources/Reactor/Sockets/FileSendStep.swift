import Glibc

/// One stretch of `StreamSocket.sendFile`, run on a blocking-work thread (the kernel may have to
/// read the file from disk inside `sendfile(2)`): the output queued before the file, then the
/// file's octets, until all is sent, the socket's buffer is full, or `maximumOctets` went out.
///
/// The socket descriptor is the send's own duplicate (`socket`), open until its last step
/// ended: the socket may be closed meanwhile on the reactor's thread, and its number reused,
/// without this step writing to whatever the number names next.
struct FileSendStep: Sendable {
    /// Output queued before the file (a response head, a chunk-size line), not sent yet.
    var prefix: [UInt8]
    var fileOffset: UInt64
    var fileOctets: UInt64

    /// What one step achieved.
    struct Progress: Sendable, Equatable {
        var prefixSent = 0
        var fileSent: UInt64 = 0
        var outcome = Outcome.done
    }

    enum Outcome: Sendable, Equatable {
        /// All of the prefix and of the file octets asked for were sent.
        case done
        /// The socket's buffer is full: wait until it is writable and run another step for the
        /// rest.
        case wouldBlock
        /// The step sent its share (`maximumOctets`) and more is left: run another at once.
        case more
        /// The file ended before the octets asked for.
        case fileEnded
        case failed(operation: String, errno: Int32)
    }

    /// The most one step sends, so that a fast reader does not keep a blocking-work thread, nor
    /// keep the reactor from noticing a timeout or a close, for the whole of a large file.
    static let maximumOctets: UInt64 = 8 << 20

    /// `sendfile(2)` takes a `size_t` but sends at most 0x7ffff000 octets a call (Linux).
    private static let maximumPerCall: UInt64 = 0x7fff_f000

    /// Runs the step on the calling (blocking-work) thread.
    ///
    /// `sendfile(2)` has no `MSG_NOSIGNAL`: a peer that went away raises SIGPIPE on the calling
    /// thread, whose default action ends the process. So SIGPIPE is blocked on the thread while
    /// the step runs, and the one a failed call left pending is taken before the thread's mask
    /// is restored: the call fails with EPIPE instead, like every other write of the library.
    func run(socket: Int32, file: Int32) -> Progress {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var saved = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &saved)
        let progress = send(socket: socket, file: file)
        if case .failed(_, EPIPE) = progress.outcome {
            var now = timespec()
            _ = sigtimedwait(&pipeSignal, nil, &now)
        }
        pthread_sigmask(SIG_SETMASK, &saved, nil)
        return progress
    }

    private func send(socket: Int32, file: Int32) -> Progress {
        var progress = Progress()
        let budget = Swift.min(fileOctets, FileSendStep.maximumOctets)
        while progress.prefixSent < prefix.count {
            // MSG_MORE: the file's first octets go in the same segment as the head, as if corked
            // (TCP_NODELAY would send a small head on its own).
            let flags = Int32(MSG_NOSIGNAL) | (budget > 0 ? Int32(MSG_MORE) : 0)
            let sent = prefix.withUnsafeBytes { raw in
                Glibc.send(socket, raw.baseAddress! + progress.prefixSent, raw.count - progress.prefixSent, flags)
            }
            if sent >= 0 {
                progress.prefixSent += sent
                continue
            }
            guard let stop = Self.outcome(ofFailed: "send") else { continue }
            progress.outcome = stop
            return progress
        }
        var offset = off_t(fileOffset)
        while progress.fileSent < budget {
            let want = Int(Swift.min(budget - progress.fileSent, FileSendStep.maximumPerCall))
            let sent = Glibc.sendfile(socket, file, &offset, want)
            if sent > 0 {
                progress.fileSent += UInt64(sent)
                continue
            }
            if sent == 0 {
                progress.outcome = .fileEnded
                return progress
            }
            guard let stop = Self.outcome(ofFailed: Self.isFileSide(errno) ? Self.readingTheFile : "sendfile") else {
                continue
            }
            progress.outcome = stop
            return progress
        }
        progress.outcome = progress.fileSent < fileOctets ? .more : .done
        return progress
    }

    /// The operation a failed `sendfile` names when the file, not the socket, failed.
    static let readingTheFile = "sendfile, reading the file"

    /// Whether `sendfile(2)` failing with `number` is the input file's doing (its man page):
    /// "EIO Unspecified error while reading from in_fd", "ENOMEM Insufficient memory to read from
    /// in_fd", EOVERFLOW, ESPIPE (an offset in a file that cannot seek) and EINVAL ("an
    /// mmap(2)-like operation is not available for in_fd": a directory, most of `/proc`). The
    /// send fails all the same (part of the file may have gone), but its error says so rather
    /// than blaming the connection.
    static func isFileSide(_ number: Int32) -> Bool {
        number == EIO || number == ENOMEM || number == EOVERFLOW || number == ESPIPE || number == EINVAL
    }

    /// What a call that returned -1 means, from `errno`: nil to call it again (EINTR).
    private static func outcome(ofFailed operation: String) -> Outcome? {
        switch errno {
        case EINTR: return nil
        case EAGAIN, EWOULDBLOCK: return .wouldBlock
        default: return .failed(operation: operation, errno: errno)
        }
    }
}
