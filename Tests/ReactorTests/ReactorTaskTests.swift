import Glibc
import XCTest

@testable import Reactor

final class ReactorTaskTests: XCTestCase {
    func testTaskAwaitingFdAndTimerCompletesInsideForeignLoopSteps() throws {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { fds.forEach { close($0) } }
        let readEnd = fds[0]
        let writeEnd = fds[1]
        let log = Log()
        reactor.spawn {
            log.append("start")
            try await reactor.sleep(seconds: 0.02)
            log.append("slept")
            let ready = try await reactor.wait(for: .read, on: readEnd, timeout: 5)
            log.append(ready.contains(.read) ? "readable" : "other")
        }
        reactor.schedule(after: 0.05) { _ in _ = write(writeEnd, "x", 1) }
        try foreignLoop(reactor, for: 5) { reactor.empty() }
        XCTAssertEqual(log.entries, ["start", "slept", "readable"])
        XCTAssertTrue(reactor.empty())
    }

    func testCancellationFreesTheWatcher() throws {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { fds.forEach { close($0) } }
        let readEnd = fds[0]
        let outcome = Log()
        let task = reactor.spawn {
            do {
                _ = try await reactor.wait(for: .read, on: readEnd)
                outcome.append("resumed")
            } catch is CancellationError {
                outcome.append("cancelled")
            }
        }
        try reactor.step(timeout: 0)
        XCTAssertFalse(reactor.empty(), "the task and its watcher are live")
        task.cancel()
        try foreignLoop(reactor, for: 2) { reactor.empty() }
        XCTAssertEqual(outcome.entries, ["cancelled"])
        XCTAssertTrue(reactor.empty(), "the watcher outlived the cancelled wait")
    }

    func testPerCallTimeout() throws {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { fds.forEach { close($0) } }
        let readEnd = fds[0]
        let start = MonotonicClock.seconds()
        XCTAssertThrowsError(
            try reactor.run { try await reactor.wait(for: .read, on: readEnd, timeout: 0.05) }
        ) { error in
            XCTAssertEqual(error as? ReactorError, .timedOut("waiting for fd \(readEnd)"))
        }
        XCTAssertGreaterThanOrEqual(MonotonicClock.seconds() - start, 0.05)
        XCTAssertTrue(reactor.empty())
    }

    func testRunReturnsTheResultAndRefusesToNest() throws {
        let reactor = try Reactor()
        let value = try reactor.run { () async throws -> Int in
            try await reactor.sleep(seconds: 0.01)
            return 42
        }
        XCTAssertEqual(value, 42)
        let nested = try reactor.run { () async -> String in
            do {
                _ = try reactor.run { 1 }
                return "nested run was allowed"
            } catch {
                return String(describing: error)
            }
        }
        XCTAssertTrue(nested.contains("from inside a reactor callback or task"), nested)
    }

    func testRunTimeoutCancelsTheTask() throws {
        let reactor = try Reactor()
        XCTAssertThrowsError(try reactor.run(timeout: 0.03) { try await reactor.sleep(seconds: 10) }) {
            error in
            XCTAssertEqual(error as? ReactorError, .timedOut("Reactor.run"))
        }
        try reactor.loop(timeout: 2)
        XCTAssertTrue(reactor.empty())
    }

    func testAwaitFromATaskOnAnotherExecutorHopsToTheReactor() throws {
        let reactor = try Reactor()
        let done = Log()
        let reactorThread = pthread_self()
        let onReactor = Log()
        Task.detached {
            let _: Void = try await reactor.suspend("probe") { suspension in
                onReactor.append(pthread_equal(pthread_self(), reactorThread) != 0 ? "yes" : "no")
                reactor.soon { suspension.resume(returning: ()) }
                return nil
            }
            done.append("done")
        }
        try foreignLoop(reactor, for: 5, pollingEvery: 0.01) { !done.entries.isEmpty }
        XCTAssertEqual(onReactor.entries, ["yes"])
        XCTAssertEqual(done.entries, ["done"])
    }
}

/// A thread-safe list of strings for tests.
final class Log: @unchecked Sendable {
    private var lock = pthread_mutex_t()
    private var storage: [String] = []

    init() { pthread_mutex_init(&lock, nil) }

    func append(_ entry: String) {
        pthread_mutex_lock(&lock)
        storage.append(entry)
        pthread_mutex_unlock(&lock)
    }

    var entries: [String] {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return storage
    }
}
