internal import CLibev
import Glibc

/// Signals taken on the reactor's thread, as the readiness of a `signalfd(2)`: the handler runs
/// like any other reactor callback (not in a signal handler), and no thread waits for them.
///
/// The kernel queues a signal for the `signalfd` only while the signal is blocked; otherwise it
/// delivers it the usual way (SIGINT and SIGTERM then end the process). Block the signals with
/// `SignalWatcher.block(_:)` before anything starts a thread: threads inherit their creator's
/// mask, and a thread that has the signal unblocked takes it instead.
///
/// The watcher does not keep `Reactor.empty()` false: waiting for a signal is not work.
/// `cancel()` (or dropping the watcher) closes the `signalfd`; the signals stay blocked. Like
/// everything on a reactor, it belongs to the reactor's thread, and a signal is seen only when
/// the reactor steps: a callback that never returns keeps it from being seen.
public final class SignalWatcher {
    private let fd: Int32
    private var watcher: IOWatcher?
    private var handler: (Int32) -> Void

    /// Watches `signals` (blocked already, see above); `handler` gets each signal number.
    public init(reactor: Reactor, signals: [Int32], handler: @escaping (Int32) -> Void) throws {
        var set = Self.set(of: signals)
        let fd = signalfd(-1, &set, Int32(SFD_NONBLOCK | SFD_CLOEXEC))
        guard fd >= 0 else { throw SystemError("signalfd") }
        self.fd = fd
        self.handler = handler
        watcher = reactor.watchInternal(fd: fd) { [unowned self] _ in self.readSignals() }
    }

    deinit { cancel() }

    /// Blocks `signals` in the calling thread (and so in every thread it starts afterwards).
    public static func block(_ signals: [Int32]) {
        var set = Self.set(of: signals)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Unblocks `signals` in the calling thread: they get their usual action again.
    public static func unblock(_ signals: [Int32]) {
        var set = Self.set(of: signals)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Stops watching and closes the `signalfd`. Safe to call more than once and from the handler.
    public func cancel() {
        guard let watcher else { return }
        watcher.cancel()
        self.watcher = nil
        handler = { _ in }
        close(fd)
    }

    private func readSignals() {
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        // One signal per read; the handler may cancel the watcher (and close the fd).
        while watcher != nil, read(fd, &info, size) == size {
            handler(Int32(bitPattern: info.ssi_signo))
        }
    }

    private static func set(of signals: [Int32]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        return set
    }
}

extension Reactor {
    /// Calls `handler` on the reactor's thread with each of `signals` the process receives. Block
    /// them first: see `SignalWatcher`.
    public func watchSignals(_ signals: [Int32], handler: @escaping (Int32) -> Void) throws -> SignalWatcher {
        try SignalWatcher(reactor: self, signals: signals, handler: handler)
    }
}
