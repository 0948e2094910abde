import Glibc

/// Carries a value that is only ever used on the reactor's thread across a thread hop.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// At most `maximumThreads` detached pthreads that run submitted jobs, first submitted first
/// started. A thread is started only when a job finds none idle, so a pool that is never used
/// has none; threads then stay for the life of the process, waiting for work.
final class WorkerPool: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Jobs not yet taken: those from `head` on.
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var started = 0
    private var idle = 0
    let maximumThreads: Int

    init(threads: Int) {
        precondition(threads > 0, "WorkerPool: at least one thread")
        maximumThreads = threads
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    /// Runs `job` on one of the pool's threads (any thread may submit).
    func submit(_ job: @escaping @Sendable () -> Void) {
        pthread_mutex_lock(mutex)
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
                Unmanaged<WorkerPool>.fromOpaque(raw!).takeUnretainedValue().work()
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
