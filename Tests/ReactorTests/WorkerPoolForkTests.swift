import Dispatch
import Glibc
import XCTest

@testable import Reactor

/// Worker pools in a child after `fork()`: only the forking thread comes along, so a pool that
/// still counted its parent's threads started none for a new job. A pre-forking server, or any
/// program that looked a name up before forking, got a child whose host-name lookups were queued
/// forever (only the caller's timeout ended them).
final class WorkerPoolForkTests: XCTestCase {
    /// The parent looks `localhost` up with `Resolver.shared`; the child looks a name up too, and
    /// gets an answer.
    func testResolverSharedLooksUpANameInAForkedChild() throws {
        let reactor = try Reactor()
        let addresses = try reactor.run(timeout: 5) {
            try await Resolver.shared.resolve(host: "localhost", port: 80, on: reactor, timeout: 5)
        }
        XCTAssertFalse(addresses.isEmpty)
        try waitUntilIdle(Resolver.shared.pool)

        let child = ForkedChild.run { Self.lookUp("localhost", with: Resolver.shared, after: reactor) }
        XCTAssertEqual(child, .exited(0), "exit 3: no answer in the child; 4: the lookup failed")
    }

    /// The same for a resolver made for one client (`Resolver(threads:lookUp:)`).
    func testAClientsOwnResolverLooksUpANameInAForkedChild() throws {
        let resolver = Resolver(threads: 1) { _, port, _ in .success([.ipv4(address: "192.0.2.7", port: port)]) }
        let reactor = try Reactor()
        _ = try reactor.run(timeout: 5) {
            try await resolver.resolve(host: "app.test", port: 80, on: reactor, timeout: 5)
        }
        try waitUntilIdle(resolver.pool)

        let child = ForkedChild.run { Self.lookUp("app.test", with: resolver, after: reactor) }
        XCTAssertEqual(child, .exited(0), "exit 3: no answer in the child; 4: the lookup failed")
    }

    /// A pool retired in the child (its `Resolver` gone) goes away there, as it does in the
    /// parent once its threads end: the references the parent's threads held are not left behind.
    func testAPoolRetiredInAForkedChildGoesAway() throws {
        var pool: WorkerPool? = WorkerPool(threads: 1)
        weak let gone = pool
        let ran = DispatchSemaphore(value: 0)
        pool!.submit { ran.signal() }
        XCTAssertEqual(ran.wait(timeout: .now() + 5), .success)
        try waitUntilIdle(pool!)

        let child = ForkedChild.run {
            pool!.retire()
            pool = nil
            return gone == nil ? 0 : 3
        }
        XCTAssertEqual(child, .exited(0), "exit 3: the pool outlived its owner in the child")
        pool!.retire()
    }

    /// In the child: `afterFork()`, then looks `host` up and steps until the answer (0), a
    /// failure (4) or two seconds without either (3).
    private static func lookUp(_ host: String, with resolver: Resolver, after reactor: Reactor) -> Int32 {
        reactor.afterFork()
        var result: Result<[SocketAddress], SocketError>?
        resolver.resolve(host: host, port: 80, on: reactor) { result = $0 }
        let until = MonotonicClock.seconds() + 2
        while result == nil && MonotonicClock.seconds() < until { try? reactor.step(timeout: 0.05) }
        switch result {
        case .success?: return 0
        case .failure?: return 4
        case nil: return 3
        }
    }

    /// Waits until every thread the pool started waits for a job (the state a fork most often
    /// finds a pool in, and the one in which a pool that miscounts starts no thread).
    private func waitUntilIdle(_ pool: WorkerPool, file: StaticString = #filePath, line: UInt = #line) throws {
        let until = MonotonicClock.seconds() + 5
        while MonotonicClock.seconds() < until {
            let counts = pool.threadCounts
            if counts.started > 0 && counts.idle == counts.started { return }
            usleep(1_000)
        }
        XCTFail("the pool's threads never became idle: \(pool.threadCounts)", file: file, line: line)
    }
}
