import Dispatch
import Glibc
import Synchronization
import XCTest

@testable import Reactor

/// `startBlocking` / `runBlocking`: work that may block runs on a worker thread, and the reactor
/// goes on stepping (timers, other tasks) until its result comes back inside a step.
final class ReactorBlockingTests: XCTestCase {
    /// `afterFork()` makes a reactor usable in a forked child (a pre-forking server), but the
    /// process-wide blocking pool is not reset: the child inherits its counts of started and
    /// idle threads without the threads themselves, so `submit` wakes nobody and starts no
    /// thread. Every blocking job in the child waits forever (and `loop()` with it).
    func testBlockingJobsRunInAForkedChild() throws {
        let reactor = try Reactor()
        // The parent has used blocking work: the pool has idle threads.
        let answers = try reactor.run(timeout: 5) {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<4 {
                    group.addTask {
                        try await reactor.runBlocking("warm-up \(i)") {
                            usleep(20_000); return i
                        }
                    }
                }
                var sum = 0
                for try await value in group { sum += value }
                return sum
            }
        }
        XCTAssertEqual(answers, 6)
        usleep(50_000)  // the workers are back in pthread_cond_wait

        let pid = fork()
        if pid == 0 {
            reactor.afterFork()
            let job = reactor.startBlocking("in the child") { 42 }
            let until = MonotonicClock.seconds() + 2
            while !job.isFinished && MonotonicClock.seconds() < until {
                try? reactor.step(timeout: 0.05)
            }
            _exit(job.isFinished ? 0 : 3)
        }
        XCTAssertGreaterThan(pid, 0)
        var status: Int32 = 0
        let until = MonotonicClock.seconds() + 10
        var reaped = false
        while MonotonicClock.seconds() < until {
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped = true
                break
            }
            usleep(10_000)
        }
        if !reaped {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
            XCTFail("the child hung")
            return
        }
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        XCTAssertTrue(exited, "the child died of signal \(status & 0x7f)")
        XCTAssertEqual(code, 0, "the blocking job never ran in the forked child (exit \(code))")
    }

    /// A host that drops its reactor while a blocking job runs (a window closed, a request
    /// abandoned after `runBlocking`'s timeout): once the job ends, its delivery closure sits in
    /// the reactor's own inbox holding the job, which holds the reactor, a cycle nothing ever
    /// breaks. The reactor, its epoll fd and its eventfd are never freed.
    func testAReactorDroppedWithAJobInFlightIsFreedOnceTheJobEnds() throws {
        var reactor: Reactor? = try Reactor()
        weak let gone = reactor
        let epollFD = reactor!.pollfd()
        let finished = DispatchSemaphore(value: 0)
        _ = reactor!.startBlocking("a short job") { () -> Int in
            finished.signal()
            return 1
        }
        reactor = nil
        XCTAssertEqual(finished.wait(timeout: .now() + 5), .success)
        // The delivery is posted right after the work returns: give the worker a moment.
        let until = MonotonicClock.seconds() + 1
        while gone != nil && MonotonicClock.seconds() < until { usleep(10_000) }
        XCTAssertNil(gone, "the reactor outlived every reference to it (cycle through its inbox)")
        // A weak reference reads nil once the reactor's deinit has begun, on the worker's thread,
        // before it closed its fds: wait for the close too.
        while fcntl(epollFD, F_GETFD) != -1 && MonotonicClock.seconds() < until { usleep(1_000) }
        XCTAssertEqual(fcntl(epollFD, F_GETFD), -1, "libev's epoll fd \(epollFD) leaked")
    }

    func testWorkRunsOnAnotherThreadAndItsResultComesBackOnTheReactors() throws {
        let reactor = try Reactor()
        let reactorThread = pthread_self()
        let threads = try reactor.run(timeout: 5) {
            let worker = try await reactor.runBlocking("naming the thread") { UInt(pthread_self()) }
            return (worker, UInt(pthread_self()))
        }
        XCTAssertNotEqual(threads.0, UInt(reactorThread), "the work ran on the reactor's thread")
        XCTAssertEqual(threads.1, UInt(reactorThread), "the task went on off the reactor's thread")
        XCTAssertTrue(reactor.empty())
    }

    /// The job waits for a semaphore that only a reactor timer signals: were the job run on the
    /// reactor's thread, the timer could never fire.
    func testTimersFireWhileAJobBlocks() throws {
        let reactor = try Reactor()
        let release = DispatchSemaphore(value: 0)
        let log = Log()
        reactor.schedule(after: 0.05) { _ in
            log.append("timer")
            release.signal()
        }
        let answer = try reactor.run(timeout: 5) {
            try await reactor.runBlocking("waiting for the timer") { () -> Int in
                guard release.wait(timeout: .now() + 3) == .success else { return -1 }
                return 42
            }
        }
        XCTAssertEqual(answer, 42, "the job never saw the timer fire")
        XCTAssertEqual(log.entries, ["timer"])
    }

    func testErrorsComeBackAsThrown() throws {
        let reactor = try Reactor()
        XCTAssertThrowsError(
            try reactor.run(timeout: 5) {
                try await reactor.runBlocking("failing") { () throws -> Int in
                    throw SystemError("open /nowhere", errno: ENOENT)
                }
            }
        ) { error in
            XCTAssertEqual(error as? SystemError, SystemError("open /nowhere", errno: ENOENT))
        }
    }

    /// A timed-out wait throws at its deadline; the work runs to its end, the reactor is not
    /// empty until its result is back, and a later wait gets that result.
    func testATimeoutEndsTheWaitNotTheWork() throws {
        let reactor = try Reactor()
        let release = DispatchSemaphore(value: 0)
        let job = reactor.startBlocking("a slow job") { () -> String in
            _ = release.wait(timeout: .now() + 5)
            return "done"
        }
        let started = MonotonicClock.seconds()
        XCTAssertThrowsError(try reactor.run(timeout: 5) { try await job.value(timeout: 0.05) }) { error in
            guard case ReactorError.timedOut(let what) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(what, "a slow job")
        }
        XCTAssertLessThan(MonotonicClock.seconds() - started, 2)
        XCTAssertFalse(job.isFinished)
        XCTAssertFalse(reactor.empty(), "a job in flight leaves the reactor not empty")
        release.signal()
        try reactor.loop(timeout: 5)
        XCTAssertTrue(job.isFinished)
        XCTAssertEqual(try reactor.run(timeout: 1) { try await job.value() }, "done")
    }

    /// `waitUntilFinished` outlasts a timed-out `value` and the task's cancellation: it returns
    /// once the work ended, and at once for a job already finished.
    func testWaitUntilFinishedWaitsForTheWorkWhateverTheTask() throws {
        let reactor = try Reactor()
        let release = DispatchSemaphore(value: 0)
        let ended = Atomic<Bool>(false)
        let job = reactor.startBlocking("a slow job") { () -> Int in
            _ = release.wait(timeout: .now() + 5)
            ended.store(true, ordering: .sequentiallyConsistent)
            return 1
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { release.signal() }
        let sawEnd = try reactor.run(timeout: 5) { () async -> Bool in
            _ = try? await job.value(timeout: 0.01)
            withUnsafeCurrentTask { $0?.cancel() }
            await job.waitUntilFinished()
            return ended.load(ordering: .sequentiallyConsistent) && job.isFinished
        }
        XCTAssertTrue(sawEnd)
        try reactor.run(timeout: 1) { await job.waitUntilFinished() }
    }

    /// The callback form, driven by a host loop blocked on the reactor's fd: the result wakes it.
    func testTheResultWakesAForeignLoop() throws {
        let reactor = try Reactor()
        let log = Log()
        reactor.runBlocking("sleeping") { () -> Int in
            usleep(50_000)
            return 7
        } completion: { result in
            log.append("result \((try? result.get()) ?? -1)")
        }
        XCTAssertFalse(reactor.empty())
        let started = MonotonicClock.seconds()
        let wakeups = try foreignLoop(reactor, for: 5) { reactor.empty() }
        XCTAssertEqual(log.entries, ["result 7"])
        XCTAssertLessThan(MonotonicClock.seconds() - started, 2)
        XCTAssertLessThanOrEqual(wakeups, 3, "the host polled instead of sleeping on the fd")
    }

    /// More jobs than threads: each runs, in order of submission per thread, and all results
    /// arrive.
    func testMoreJobsThanThreadsAllFinish() throws {
        let reactor = try Reactor()
        let count = Reactor.blockingThreadCount * 4
        let results = try reactor.run(timeout: 10) {
            var jobs: [BlockingJob<Int>] = []
            for index in 0..<count {
                jobs.append(
                    reactor.startBlocking("job \(index)") {
                        usleep(2_000)
                        return index * index
                    })
            }
            var results: [Int] = []
            for job in jobs { results.append(try await job.value(timeout: 5)) }
            return results
        }
        XCTAssertEqual(results, (0..<count).map { $0 * $0 })
        XCTAssertTrue(reactor.empty())
    }
}
