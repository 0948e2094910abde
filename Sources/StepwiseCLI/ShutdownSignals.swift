import Glibc
import Stepwise

/// SIGINT and SIGTERM for `stepwise serve`: the first closes the server gracefully (it stops
/// accepting, lets requests in flight finish for up to `grace` seconds, closes idle
/// connections), so `loop()` returns and the process exits 0; a second one exits at once.
///
/// The signals are blocked in every thread (`block()` comes first, before any thread starts, so
/// they all inherit the mask) and read from a `signalfd` on the reactor (`SignalWatcher`): no
/// code runs in a signal handler, and no thread is started for them. A single-threaded process
/// is worth about 1 % of a request's CPU: while a process has a second thread, the kernel takes
/// and drops a reference to the file on every socket call (`fdget`/`fput`), since the fd table
/// is shared. `--quiet` serving `/hello` stays single-threaded; the request log's writer and the
/// blocking-work threads (files) start on first use.
enum ShutdownSignals {
    static let signals = [SIGINT, SIGTERM]

    static func block() { SignalWatcher.block(signals) }

    /// Starts watching for the signals `block()` blocked; the watcher lives as long as the result.
    /// Without a watcher (no `signalfd`), the signals are unblocked again and keep their default
    /// action: they end the process at once.
    static func install(for server: Server, grace: Double) -> SignalWatcher? {
        var received = 0
        do {
            return try server.reactor.watchSignals(signals) { signal in
                received += 1
                if received == 1 {
                    say("stepwise: \(name(signal)), closing (again to stop at once)")
                    server.close(timeout: grace)
                } else {
                    say("stepwise: \(name(signal)) again, stopping now")
                    StandardError.writer.flush(within: 0.2)
                    _exit(128 + signal)
                }
            }
        } catch {
            say("stepwise: \(error); SIGINT and SIGTERM stop the server without a graceful close")
            SignalWatcher.unblock(signals)
            return nil
        }
    }

    private static func name(_ signal: Int32) -> String { signal == SIGINT ? "SIGINT" : "SIGTERM" }

    private static func say(_ line: String) {
        StandardError.writer.append(line + "\n")
    }
}
