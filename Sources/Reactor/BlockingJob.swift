/// Work that may block (file system calls, a slow library call) running on one of the
/// process's blocking-work threads, started by `Reactor.startBlocking`. Its result comes back to
/// the reactor's thread, where it is read with `value(timeout:)` or handed to `onResult`.
///
/// Touched only on the reactor's thread. A job that nobody waits for still runs to its end; its
/// result is then dropped (a value that owns a resource, such as a `BodyFile`, releases it), as
/// it is when the reactor went away meanwhile.
public final class BlockingJob<T: Sendable>: @unchecked Sendable {
    /// Valid while `lifeline.isAlive`: held unowned, so that a job whose result waits in the
    /// reactor's inbox does not keep a reactor nobody else holds alive (the inbox holds the job).
    unowned(unsafe) let reactor: Reactor
    private let lifeline: ReactorLifeline
    /// What the job does, for timeout errors ("reading /srv/a.bin").
    public let what: String
    private var outcome: Result<T, any Error>?
    private var waiter: Suspension<T>?
    private var resultHandler: ((Result<T, any Error>) -> Void)?

    init(reactor: Reactor, what: String) {
        self.reactor = reactor
        self.lifeline = reactor.lifeline
        self.what = what
    }

    /// Whether the work has ended and its result is here.
    public var isFinished: Bool {
        guard lifeline.isAlive else { return false }
        reactor.assertOnReactorThread()
        return outcome != nil
    }

    /// The work's result, waiting for it at most `timeout` seconds (`ReactorError.timedOut`; the
    /// work goes on and a later call may still get its result). One task waits at a time.
    public func value(timeout: Double? = nil) async throws -> T {
        guard lifeline.isAlive else { throw ReactorError.closed("\(what): its reactor is gone") }
        if let outcome {
            reactor.assertOnReactorThread()
            return try outcome.get()
        }
        return try await reactor.suspend(what, timeout: timeout) { suspension in
            if let outcome = self.outcome {
                Self.resume(suspension, with: outcome)
                return nil
            }
            precondition(self.waiter == nil, "BlockingJob.value: another task is already waiting for \(self.what)")
            self.waiter = suspension
            return { self.waiter = nil }
        }
    }

    /// Waits until the work has ended, with no deadline and whatever the task's cancellation:
    /// for a caller that must not return while the work may still act (a write into a file it
    /// hands back). Returns at once when the result is here or the reactor is gone. Uses the
    /// job's one result handler (`onResult`); not with a task waiting in `value(timeout:)`.
    public func waitUntilFinished() async {
        guard lifeline.isAlive, outcome == nil else { return }
        reactor.assertOnReactorThread()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            onResult { _ in continuation.resume() }
        }
    }

    /// Runs `handler` on the reactor's thread with the result, at once if it is here already.
    /// One handler per job.
    public func onResult(_ handler: @escaping (Result<T, any Error>) -> Void) {
        guard lifeline.isAlive else { return }
        reactor.assertOnReactorThread()
        if let outcome {
            handler(outcome)
            return
        }
        precondition(resultHandler == nil, "BlockingJob.onResult: \(what) has a result handler already")
        resultHandler = handler
    }

    /// The result arrived (on the reactor's thread).
    func finish(_ result: Result<T, any Error>) {
        outcome = result
        if let waiter {
            self.waiter = nil
            Self.resume(waiter, with: result)
        }
        if let handler = resultHandler {
            resultHandler = nil
            handler(result)
        }
    }

    private static func resume(_ suspension: Suspension<T>, with result: Result<T, any Error>) {
        switch result {
        case .success(let value): suspension.resume(returning: value)
        case .failure(let error): suspension.resume(throwing: error)
        }
    }
}
