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
/// last thread has ended.
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
        let startThread = waiting > idle && started < maximumThreads
        if startThread { started += 1 }
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
        if startThread { startWorker() }
    }

    /// In a child after `fork()` (called by the `pthread_atfork` child handler, while the child
    /// has one thread): the parent's threads did not come along, and the lock may have been
    /// held by one of them. Jobs queued and not taken stay, for the child's own threads.
    func resetInForkedChild() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        started = 0
        idle = 0
    }

    private func startWorker() {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
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
            Unmanaged<WorkerPool>.fromOpaque(context).release()
            // Out of threads: the queued jobs wait for a thread already running, or for the
            // next submit to start one.
            pthread_mutex_lock(mutex)
            started -= 1
            pthread_mutex_unlock(mutex)
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
