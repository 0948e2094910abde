import Glibc
import XCTest

@testable import Reactor

/// A listening socket shut down under its listener (`shutdown(2)` here, or by another process
/// holding the same socket, as after socket activation) can accept no more, and epoll reports it
/// ready for good. The listener used to try `accept` again on every step: a host loop spun, and
/// `onError` heard EINVAL thousands of times a second.
final class ListenerShutdownTests: XCTestCase {
    func testAShutDownListenerStopsAcceptingAndSaysSoOnce() throws {
        let reactor = try Reactor()
        let listener = try Listener.listen(ListenOptions(host: "127.0.0.1", port: 0), on: reactor)
        defer { listener.close() }
        var errors: [SocketError] = []
        listener.onError = { errors.append($0) }
        listener.onAccept = { $0.close() }
        let waiting = reactor.spawn { try await listener.accept(timeout: 5) }
        try reactor.step(timeout: 0)

        XCTAssertEqual(shutdown(listener.fd, Int32(SHUT_RDWR)), 0)
        var wakeups = 0
        let started = MonotonicClock.seconds()
        while MonotonicClock.seconds() - started < 0.2 {
            var ready = pollfd(fd: reactor.pollfd(), events: reactor.events().rawValue, revents: 0)
            let remaining = Int32(((0.2 - (MonotonicClock.seconds() - started)) * 1000).rounded(.up))
            let ms = reactor.timeoutMilliseconds()
            _ = poll(&ready, 1, ms >= 0 ? min(ms, max(remaining, 0)) : max(remaining, 0))
            try reactor.step(timeout: 0)
            wakeups += 1
        }
        XCTAssertLessThan(wakeups, 20, "the host spun on the shut-down listener")
        XCTAssertEqual(errors, [.system(operation: "accept", errno: EINVAL)])
        // A task waiting in `accept` hears it too, and so does a later one.
        let outcome = Result { try reactor.run(timeout: 1) { try await waiting.value } }
        guard case .failure(SocketError.system("accept", EINVAL)) = outcome else {
            return XCTFail("the waiting accept: \(outcome)")
        }
        let later = Result { try reactor.run(timeout: 1) { try await listener.accept(timeout: 1) } }
        guard case .failure(SocketError.system("accept", EINVAL)) = later else {
            return XCTFail("a later accept: \(later)")
        }
    }
}
