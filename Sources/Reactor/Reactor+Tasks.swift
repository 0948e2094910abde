/// Tasks on the reactor: the Swift analogue of lua-http's coroutines. A task spawned here runs
/// every job inside `step()` on the stepping thread; awaiting a socket, a timer or any other
/// reactor event suspends it without blocking, so a foreign loop driving `step(0)` drives tasks
/// too, and no extra threads are involved.
extension Reactor: TaskExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        post(job: UnownedJob(job))
    }
}

extension Reactor {
    /// Starts `body` as a task whose jobs run on this reactor. `empty()` stays false until it
    /// finishes.
    @discardableResult
    public func spawn<T: Sendable>(_ body: sending @escaping () async throws -> T) -> Task<
        T, any Error
    > {
        assertOnReactorThread()
        liveTasks += 1
        return Task(executorPreference: self) {
            defer { self.liveTasks -= 1 }
            return try await body()
        }
    }

    /// Blocking convenience for scripts and tests: runs `body` as a task and steps the reactor
    /// until it finishes, returning its result. Throws `ReactorError.reentrantStep` when called
    /// from inside a reactor callback or task (await the work there instead), and
    /// `ReactorError.timedOut` (cancelling the task) when `timeout` seconds pass first. The first
    /// step is made whatever `timeout` is (without waiting when it is 0), as `loop`'s is: a body
    /// that can finish without waiting does, even with `timeout: 0`.
    public func run<T: Sendable>(
        timeout: Double? = nil, _ body: sending @escaping () async throws -> T
    ) throws -> T {
        guard !isInsideStep else { throw ReactorError.reentrantStep }
        let outcome = TaskOutcome<T>()
        let task = spawn { () async -> Void in
            do {
                outcome.result = .success(try await body())
            } catch {
                outcome.result = .failure(error)
            }
        }
        let deadline = Deadline(timeout)
        // The first step, whatever the deadline (`loop`'s rule); the deadline is looked at after.
        var wait = deadline.remainingOrZero
        while true {
            try step(timeout: wait)
            if let result = outcome.result { return try result.get() }
            do {
                wait = try deadline.remaining("Reactor.run")
            } catch {
                task.cancel()
                throw error
            }
        }
    }

    /// Suspends the calling task for `seconds` (cancellable).
    public func sleep(seconds: Double) async throws {
        let _: Void = try await suspend("sleep") { suspension in
            let timer = self.schedule(after: seconds) { _ in suspension.resume(returning: ()) }
            return { timer.cancel() }
        }
    }

    /// Suspends the calling task until `fd` is ready for one of `events`; returns what is ready.
    /// Throws `ReactorError.timedOut` after `timeout` seconds, `CancellationError` when the task
    /// is cancelled; either way the watcher is gone.
    public func wait(for events: PollEvents, on fd: Int32, timeout: Double? = nil) async throws
        -> PollEvents
    {
        try await suspend("waiting for fd \(fd)", timeout: timeout) { suspension in
            let watcher = self.watch(fd: fd, events: events) { ready in
                suspension.resume(returning: ready)
            }
            return { watcher.cancel() }
        }
    }

    /// The primitive every async reactor API is built on. Runs `register` on the reactor's thread
    /// with a `Suspension` that some reactor event resumes; `register` returns a cleanup (stop the
    /// watcher, cancel the timer) that runs exactly once, however the suspension ends: by the
    /// event, by `timeout` (`ReactorError.timedOut(what)`), or by task cancellation
    /// (`CancellationError`). Callable from any task: it hops to the reactor for the wait.
    public func suspend<T: Sendable>(
        _ what: @autoclosure () -> String, timeout: Double? = nil,
        _ register: (Suspension<T>) -> (() -> Void)?
    ) async throws -> T {
        try await withTaskExecutorPreference(self) {
            let suspension = Suspension<T>()
            return try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { continuation in
                    assertOnReactorThread()
                    suspension.continuation = continuation
                    if let cleanup = register(suspension) {
                        suspension.setCleanup(cleanup)
                    }
                    if let timeout, !suspension.isFinished {
                        let description = what()
                        let timer = schedule(after: timeout) { _ in
                            suspension.resume(throwing: ReactorError.timedOut(description))
                        }
                        suspension.timer = timer
                    }
                }
            } onCancel: {
                // Any thread: hop to the reactor, which runs this after the continuation is set.
                self.execute { suspension.resume(throwing: CancellationError()) }
            }
        }
    }
}

/// A task suspended on a reactor event; resume it once from the reactor's thread. Later resumes
/// are ignored, so an event, a deadline and a cancellation may race safely.
public final class Suspension<T: Sendable>: @unchecked Sendable {
    fileprivate var continuation: UnsafeContinuation<T, any Error>?
    fileprivate var timer: ReactorTimer?
    private var cleanup: (() -> Void)?
    public private(set) var isFinished = false

    fileprivate init() {}

    fileprivate func setCleanup(_ cleanup: @escaping () -> Void) {
        if isFinished { cleanup() } else { self.cleanup = cleanup }
    }

    public func resume(returning value: T) { finish(.success(value)) }
    public func resume(throwing error: any Error) { finish(.failure(error)) }

    private func finish(_ result: Result<T, any Error>) {
        guard !isFinished, let continuation else { return }
        isFinished = true
        self.continuation = nil
        timer?.cancel()
        timer = nil
        let cleanup = self.cleanup
        self.cleanup = nil
        cleanup?()
        continuation.resume(with: result)
    }
}

/// Where `Reactor.run` parks its task's result; only touched on the reactor's thread.
private final class TaskOutcome<T: Sendable>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
