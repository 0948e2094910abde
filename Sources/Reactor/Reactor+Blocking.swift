import Glibc

/// Blocking work off the reactor's thread. Nothing that may block runs on the thread that steps
/// the reactor: a `read` of a file on a slow disk or a network file system would stall every
/// connection and timer of the reactor meanwhile. Such work runs on a small process-wide pool of
/// threads instead, and its result comes back through `execute`, so it is delivered inside
/// `step()` like any other event, and a host blocked on `pollfd()` wakes for it.
extension Reactor {
    /// Threads the process's blocking jobs run on, at most; started on first use.
    public static let blockingThreadCount = 4

    /// A forked child (a pre-forking server, after `afterFork()`) starts threads of its own
    /// (`WorkerPoolRegistry`).
    static let blockingWorkers = WorkerPool(threads: blockingThreadCount)

    /// Starts `work` on a blocking-work thread; read its result from the returned job on this
    /// reactor's thread. `what` names the work in errors ("reading /srv/a.bin"). The reactor is
    /// not `empty()` until the result is back.
    ///
    /// `work` must not touch the reactor or anything that lives on its thread; values it
    /// captures cross threads (`Sendable`).
    public func startBlocking<T: Sendable>(_ what: String, _ work: @escaping @Sendable () throws -> T)
        -> BlockingJob<T>
    {
        assertOnReactorThread()
        let job = BlockingJob<T>(reactor: self, what: what)
        blockingJobsInFlight += 1
        let delivery = UncheckedBox(job)
        // The result goes into the inbox, which the worker holds, not the reactor: a reactor
        // dropped meanwhile goes away (its inbox, the job and the result with it once the worker
        // lets go) instead of living on in a cycle through its own inbox. Delivered by a step,
        // the reactor is alive.
        let inbox = self.inbox
        Reactor.blockingWorkers.submit {
            let result = Result<T, any Error> { try work() }
            inbox.post(
                .closure({
                    let job = delivery.value
                    job.reactor.blockingJobsInFlight -= 1
                    job.finish(result)
                }), wake: true)
        }
        return job
    }

    /// Runs `work` on a blocking-work thread and returns its result (see `startBlocking`).
    /// After `timeout` seconds throws `ReactorError.timedOut`; the work itself runs to its end,
    /// and its result is dropped.
    public func runBlocking<T: Sendable>(
        _ what: String, timeout: Double? = nil, _ work: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await startBlocking(what, work).value(timeout: timeout)
    }

    /// Callback form of `runBlocking`: `completion` runs on the reactor's thread.
    public func runBlocking<T: Sendable>(
        _ what: String, _ work: @escaping @Sendable () throws -> T,
        completion: @escaping (Result<T, any Error>) -> Void
    ) {
        startBlocking(what, work).onResult(completion)
    }
}
