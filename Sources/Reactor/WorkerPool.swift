import Glibc

/// Carries a value that is only ever used on the reactor's thread across a thread hop.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// At most `maximumThreads` detached pthreads that run submitted jobs, first submitted first
/// started. A thread is started only when a job finds none idle, so a pool that is never used
/// has none; threads then stay, waiting for work, until the pool's owner `retire()`s it (the
/// process-wide pools never do). Each thread holds the pool, so the pool goes away when its
/// last thread has ended. Every pool is in `WorkerPoolRegistry`, which makes it usable in a child
/// after `fork()`.
final class WorkerPool: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Jobs not yet taken: those from `head` on.
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var started = 0
    private var idle = 0
    /// `retire()` was called: threads end once no job is left.
    private var isRetired = false
    let maximumThreads: Int

    init(threads: Int) {
        precondition(threads > 0, "WorkerPool: at least one thread")
        maximumThreads = threads
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        WorkerPoolRegistry.shared.register(self)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Threads started and threads waiting for a job, as of now (what tests and a debugger look
    /// at; the pool itself decides under its lock).
    var threadCounts: (started: Int, idle: Int) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return (started, idle)
    }

    /// Lets the threads end once the jobs already submitted have run, so that a pool whose owner
    /// went away (a `Resolver` made for one client) does not keep its threads, and through them
    /// itself, for the life of the process. Nothing may be submitted afterwards.
    func retire() {
        pthread_mutex_lock(mutex)
        isRetired = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Runs `job` on one of the pool's threads (any thread may submit).
    func submit(_ job: @escaping @Sendable () -> Void) {
        pthread_mutex_lock(mutex)
        precondition(!isRetired, "WorkerPool: submit after retire()")
        jobs.append(job)
        let waiting = jobs.count - head
        // The new thread's reference to the pool is taken together with the count, under the
        // lock, so that `started` is always the number of references threads hold or are about
        // to (a thread lets go only after it has left the count): `resumeInForkedChild` releases
        // that many for the threads a fork leaves behind.
        var newThread: UnsafeMutableRawPointer?
        if waiting > idle && started < maximumThreads {
            started += 1
            newThread = Unmanaged.passRetained(self).toOpaque()
        }
        let wakeIdleThread = idle > 0
        pthread_mutex_unlock(mutex)
        // Signalled after the unlock: a thread woken while the lock is held (on the submitter's
        // core, where the scheduler runs it at once) would only block on the lock and switch
        // back, two context switches more for every job (a file's download is a job per chunk).
        // No wake-up is lost: a thread about to wait checks the queue under the lock, and one
        // already waiting counts in `idle`.
        if wakeIdleThread { pthread_cond_signal(condition) }
        if let newThread { startWorker(newThread) }
    }

    /// Before `fork()` (`WorkerPoolRegistry`, in the forking thread): holds the lock across the
    /// fork, so the child gets the pool as it is between two updates.
    func prepareForFork() {
        pthread_mutex_lock(mutex)
    }

    /// After `fork()`, in the parent.
    func resumeInParent() {
        pthread_mutex_unlock(mutex)
    }

    /// After `fork()`, in the child, which has one thread: the parent's threads did not come
    /// along, so the pool counts none, and the next job starts a thread of the child's. Jobs
    /// queued and not taken stay, for those threads; jobs the parent's threads were running are
    /// lost in the child (they go on in the parent). The condition is made anew rather than
    /// destroyed: its state counts waiters that are gone. The references the parent's threads
    /// held are released, so a pool retired in the child goes away as it would in the parent
    /// (but for a thread caught by the fork between leaving the count and letting go: its
    /// reference stays, and so does the pool's memory).
    func resumeInForkedChild() {
        let orphanedReferences = started
        started = 0
        idle = 0
        pthread_cond_init(condition, nil)
        pthread_mutex_unlock(mutex)
        for _ in 0..<orphanedReferences { Unmanaged.passUnretained(self).release() }
    }

    /// Starts a thread that runs jobs; `context` is its retained reference to the pool.
    private func startWorker(_ context: UnsafeMutableRawPointer) {
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, nil,
            { raw in
                // The thread's reference, released when `work` returns (the pool retired).
                let pool = Unmanaged<WorkerPool>.fromOpaque(raw!).takeRetainedValue()
                pool.work()
                return nil
            }, context)
        if rc == 0 {
            pthread_detach(thread)
        } else {
            // Out of threads: the queued jobs wait for a thread already running, or for the
            // next submit to start one. The count goes first, then the reference.
            pthread_mutex_lock(mutex)
            started -= 1
            pthread_mutex_unlock(mutex)
            Unmanaged<WorkerPool>.fromOpaque(context).release()
        }
    }

    private func work() {
        while true {
            pthread_mutex_lock(mutex)
            while head == jobs.count {
                if isRetired {
                    started -= 1
                    pthread_mutex_unlock(mutex)
                    return
                }
                idle += 1
                pthread_cond_wait(condition, mutex)
                idle -= 1
            }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: jobs.capacity <= 64)
                head = 0
            } else if head >= 64 && head * 2 >= jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            pthread_mutex_unlock(mutex)
            job()
        }
    }
}
