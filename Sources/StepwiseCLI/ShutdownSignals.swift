import Glibc
import Stepwise

/// SIGINT and SIGTERM for `stepwise serve`: the first closes the server gracefully (it stops
/// accepting, lets requests in flight finish for up to `grace` seconds, closes idle
/// connections), so `loop()` returns and the process exits 0; a second one exits at once.
///
/// The signals are blocked in every thread (`block()` comes first, before any thread starts, so
/// they all inherit the mask) and taken by one thread of ours with `sigwait`: no code runs in a
/// signal handler, and the server is told on its own thread through `Reactor.execute`.
enum ShutdownSignals {
    static func block() {
        var signals = Self.signals
        pthread_sigmask(SIG_BLOCK, &signals, nil)
    }

    /// Starts the thread that waits for the signals `block()` blocked.
    static func install(for server: Server, grace: Double) {
        var signals = Self.signals
        let context = Unmanaged.passRetained(Waiter(server: server, grace: grace)).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(
            &thread, nil,
            { context in
                Unmanaged<Waiter>.fromOpaque(context!).takeRetainedValue().run()
                return nil
            }, context)
        if started == 0 {
            pthread_detach(thread)
        } else {
            // No waiter: the signals keep their default action (termination).
            Unmanaged<Waiter>.fromOpaque(context).release()
            pthread_sigmask(SIG_UNBLOCK, &signals, nil)
        }
    }

    private static var signals: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        return set
    }

    private final class Waiter: @unchecked Sendable {
        // Touched only on the reactor's thread (through `execute`).
        let server: Server
        let grace: Double

        init(server: Server, grace: Double) {
            self.server = server
            self.grace = grace
        }

        func run() {
            var signals = ShutdownSignals.signals
            var signal: Int32 = 0
            guard sigwait(&signals, &signal) == 0 else { return }
            Self.say("stepwise: \(Self.name(signal)), closing (again to stop at once)")
            server.reactor.execute { [self] in server.close(timeout: grace) }
            guard sigwait(&signals, &signal) == 0 else { return }
            Self.say("stepwise: \(Self.name(signal)) again, stopping now")
            _exit(128 + signal)
        }

        private static func name(_ signal: Int32) -> String { signal == SIGINT ? "SIGINT" : "SIGTERM" }

        private static func say(_ line: String) {
            var text = line + "\n"
            text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        }
    }
}
