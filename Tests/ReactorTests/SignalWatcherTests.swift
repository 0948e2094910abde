import Glibc
import XCTest

@testable import Reactor

/// Signals read from a `signalfd` on the reactor. Each test sends SIGUSR1 or SIGUSR2 to its own
/// thread (which has them blocked, and is the reactor's thread), so the rest of the test process
/// never sees them; whatever a test leaves pending is taken before the mask is restored.
final class SignalWatcherTests: XCTestCase {
    private var savedMask = sigset_t()

    override func setUp() {
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_BLOCK, &none, &savedMask)
        SignalWatcher.block([SIGUSR1, SIGUSR2])
    }

    override func tearDown() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGUSR1)
        sigaddset(&set, SIGUSR2)
        var zero = timespec()
        while sigtimedwait(&set, nil, &zero) > 0 {}
        pthread_sigmask(SIG_SETMASK, &savedMask, nil)
    }

    private func raiseHere(_ signal: Int32) {
        XCTAssertEqual(pthread_kill(pthread_self(), signal), 0)
    }

    func testHandlerGetsEachSignalOnTheReactorsStep() throws {
        let reactor = try Reactor()
        var received: [Int32] = []
        let watcher = try reactor.watchSignals([SIGUSR1, SIGUSR2]) { received.append($0) }
        defer { watcher.cancel() }
        raiseHere(SIGUSR1)
        XCTAssertEqual(received, [], "a signal was handled outside step")
        try reactor.step(timeout: 1)
        XCTAssertEqual(received, [SIGUSR1])
        raiseHere(SIGUSR2)
        try reactor.step(timeout: 1)
        XCTAssertEqual(received, [SIGUSR1, SIGUSR2])
    }

    func testWaitingForASignalIsNotWork() throws {
        let reactor = try Reactor()
        let watcher = try reactor.watchSignals([SIGUSR1]) { _ in }
        defer { watcher.cancel() }
        XCTAssertTrue(reactor.empty())
    }

    func testCancelledWatcherLeavesTheSignalPending() throws {
        let reactor = try Reactor()
        var received = 0
        let watcher = try reactor.watchSignals([SIGUSR1]) { _ in received += 1 }
        watcher.cancel()
        watcher.cancel()
        raiseHere(SIGUSR1)
        try reactor.step(timeout: 0.05)
        XCTAssertEqual(received, 0)
        var pending = sigset_t()
        sigpending(&pending)
        XCTAssertEqual(sigismember(&pending, SIGUSR1), 1, "the signal was taken, not left blocked")
    }

    func testUnblockGivesTheSignalBack() {
        func blocked(_ signal: Int32) -> Bool {
            var none = sigset_t()
            var current = sigset_t()
            sigemptyset(&none)
            pthread_sigmask(SIG_BLOCK, &none, &current)
            return sigismember(&current, signal) == 1
        }
        XCTAssertTrue(blocked(SIGUSR1))
        SignalWatcher.unblock([SIGUSR1])
        XCTAssertFalse(blocked(SIGUSR1))
        XCTAssertTrue(blocked(SIGUSR2))
    }

    func testHandlerMayCancelItsWatcher() throws {
        let reactor = try Reactor()
        var received = 0
        var watcher: SignalWatcher?
        watcher = try reactor.watchSignals([SIGUSR1, SIGUSR2]) { _ in
            received += 1
            watcher?.cancel()
        }
        raiseHere(SIGUSR1)
        raiseHere(SIGUSR2)
        try reactor.step(timeout: 1)
        XCTAssertEqual(received, 1, "the handler ran after its watcher was cancelled")
        watcher = nil
    }
}
