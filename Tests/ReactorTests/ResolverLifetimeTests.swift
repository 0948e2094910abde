import Foundation
import Glibc
import Synchronization
import XCTest

@testable import Reactor

/// What a `Resolver` and its lookups hold: worker threads that must not outlive the resolver, and
/// results that must not keep a dropped reactor alive.
final class ResolverLifetimeTests: XCTestCase {
    /// A resolver dropped while its lookup runs: the lookup still delivers its result, then the
    /// worker thread ends, releasing the resolver's pool. Before, the thread waited for work for
    /// the life of the process, holding the pool, so every such resolver kept a thread.
    /// A lookup cancelled while it waits for a worker thread is not made: the one thread goes
    /// on to the next lookup, and the cancelled one's completion never runs.
    func testALookupCancelledBeforeItStartsIsNotMade() throws {
        let reactor = try Reactor()
        let release = DispatchSemaphore(value: 0)
        let asked = Mutex<[String]>([])
        let resolver = Resolver(threads: 1) { host, port, _ in
            asked.withLock { $0.append(host) }
            if host == "first.test" { release.wait() }
            return .success([.ipv4(address: "192.0.2.1", port: port)])
        }
        var answered: [String] = []
        resolver.resolve(host: "first.test", port: 80, on: reactor) { _ in answered.append("first") }
        let second = resolver.resolve(host: "second.test", port: 80, on: reactor) { _ in answered.append("second") }
        resolver.resolve(host: "third.test", port: 80, on: reactor) { _ in answered.append("third") }
        second.cancel()
        release.signal()
        try reactor.loop(timeout: 5) { answered.count == 2 }
        XCTAssertEqual(answered, ["first", "third"])
        XCTAssertEqual(asked.withLock { $0 }, ["first.test", "third.test"])
    }

    func testAResolverGoneAwayEndsItsWorkerThreadOnceItsLookupIsDone() throws {
        let reactor = try Reactor()
        let workerThread = Atomic<Int32>(0)
        let release = DispatchSemaphore(value: 0)
        var result: Result<[SocketAddress], SocketError>?
        weak var weakResolver: Resolver?
        do {
            let resolver = Resolver(threads: 1) { _, port, _ in
                workerThread.store(Self.currentThreadID(), ordering: .releasing)
                release.wait()
                return .success([.ipv4(address: "192.0.2.1", port: port)])
            }
            weakResolver = resolver
            resolver.resolve(host: "app.test", port: 8080, on: reactor) { result = $0 }
        }
        XCTAssertNil(weakResolver, "the lookup in flight does not hold its resolver")
        release.signal()
        try reactor.loop(timeout: 5) { result != nil }
        XCTAssertEqual(try result?.get(), [.ipv4(address: "192.0.2.1", port: 8080)])

        let thread = workerThread.load(ordering: .acquiring)
        XCTAssertNotEqual(thread, 0)
        let running = { access("/proc/self/task/\(thread)", F_OK) == 0 }
        let deadline = MonotonicClock.seconds() + 5
        while running() && MonotonicClock.seconds() < deadline { usleep(10_000) }
        XCTAssertFalse(running(), "the worker thread still runs")
    }

    /// A connect that timed out during DNS, on a reactor then dropped (`HTTP.fetch` makes one
    /// per call): once the lookup ends, the reactor and its fds go away. Its result used to wait
    /// in the reactor's inbox holding the connector's completion, which holds the connector, which
    /// holds the reactor: a cycle nothing broke, so each such fetch kept its epoll fd and eventfd.
    func testAReactorDroppedAfterAConnectTimedOutInDNSIsFreedOnceTheLookupEnds() throws {
        let release = DispatchSemaphore(value: 0)
        let ended = DispatchSemaphore(value: 0)
        // A connect asks once per family, here on one thread: the AAAA lookup stalls it, and the
        // A lookup, given up on with the connect before it started, is not made.
        let stalled = Resolver(threads: 1) { host, _, _ in
            release.wait()
            release.signal()
            ended.signal()
            return .failure(.noAddresses(host: host))
        }
        var reactor: Reactor? = try Reactor()
        weak let gone = reactor
        let epollFD = reactor!.pollfd()
        var outcome: Result<StreamSocket, SocketError>?
        StreamSocket.connect(host: "stalled.test", port: 80, resolver: stalled, on: reactor!, timeout: 0.05) {
            outcome = $0
        }
        try reactor!.loop(timeout: 5) { outcome != nil }
        guard case .failure(.timedOut(_, "DNS", _)) = outcome else {
            return XCTFail("not a timeout during DNS: \(String(describing: outcome))")
        }
        reactor = nil
        release.signal()
        XCTAssertEqual(ended.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(ended.wait(timeout: .now() + 0.3), .timedOut, "a lookup given up on before it started was made")
        // The result is posted right after the lookup returns: give the worker a moment.
        let until = MonotonicClock.seconds() + 1
        while gone != nil && MonotonicClock.seconds() < until { usleep(10_000) }
        XCTAssertNil(gone, "the reactor outlived every reference to it (cycle through its inbox)")
        // A weak reference reads nil once the reactor's deinit has begun, on the worker's thread,
        // before it closed its fds: wait for the close too.
        while fcntl(epollFD, F_GETFD) != -1 && MonotonicClock.seconds() < until { usleep(1_000) }
        XCTAssertEqual(fcntl(epollFD, F_GETFD), -1, "libev's epoll fd \(epollFD) leaked")
    }

    /// The calling thread's kernel id: `/proc/thread-self` links to `<pid>/task/<tid>`.
    private static func currentThreadID() -> Int32 {
        var link = [UInt8](repeating: 0, count: 64)
        let count = link.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { readlink("/proc/thread-self", $0.baseAddress!, $0.count) }
        }
        guard count > 0 else { return 0 }
        return Int32(String(decoding: link[..<count], as: UTF8.self).split(separator: "/").last ?? "") ?? 0
    }
}
