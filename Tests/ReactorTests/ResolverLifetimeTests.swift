import Foundation
import Glibc
import Synchronization
import XCTest

@testable import Reactor

/// A `Resolver` made for one client owns worker threads; they must not outlive it.
final class ResolverLifetimeTests: XCTestCase {
    /// A resolver dropped while its lookup runs: the lookup still delivers its result, then the
    /// worker thread ends, releasing the resolver's pool. Before, the thread waited for work for
    /// the life of the process, holding the pool, so every such resolver kept a thread.
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
