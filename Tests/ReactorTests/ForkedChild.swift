import Glibc

@testable import Reactor

/// Runs a test's body in a forked child and tells how the child ended. The child reports through
/// its exit status only (XCTest's assertions do not cross a fork): `body` returns 0 for success
/// or a code that says what went wrong.
enum ForkedChild: Equatable {
    case exited(Int32)
    case killedBySignal(Int32)
    /// Still running after the parent's timeout; it was killed.
    case hung

    static func run(timeout: Double = 10, _ body: () -> Int32) -> ForkedChild {
        let pid = fork()
        if pid == 0 { _exit(body()) }
        guard pid > 0 else { return .exited(-1) }
        var status: Int32 = 0
        let until = MonotonicClock.seconds() + timeout
        while waitpid(pid, &status, WNOHANG) != pid {
            guard MonotonicClock.seconds() < until else {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                return .hung
            }
            usleep(5_000)
        }
        return (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .killedBySignal(status & 0x7f)
    }
}
