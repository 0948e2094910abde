import Glibc

/// Every live `WorkerPool`, so that `fork()` hands each one to the child in a usable state: the
/// blocking-work pool, `Resolver.shared`'s and each `Resolver(threads:)`'s. Only the thread that
/// called `fork()` comes along into the child, so a pool would still count its parent's threads,
/// start none, and leave every job it is given (a host-name lookup, a file read) queued forever.
///
/// The `pthread_atfork` handlers hold every pool's lock across the fork, so no pool is copied in
/// the middle of an update by one of its threads (its queue half-changed, its lock held by a
/// thread that does not exist in the child). The parent then goes on as before; the child's
/// pools forget the threads they had and start their own on the next job (`WorkerPool`'s
/// `prepareForFork`, `resumeInParent`, `resumeInForkedChild`).
///
/// Pools are held weakly: a pool goes away when its owner and its threads let go of it, fork or
/// not. Lock order: the registry's lock, then a pool's; a pool never takes the registry's lock
/// while holding its own.
final class WorkerPoolRegistry: @unchecked Sendable {
    static let shared: WorkerPoolRegistry = {
        let registry = WorkerPoolRegistry()
        pthread_atfork(
            { WorkerPoolRegistry.shared.prepareForFork() },
            { WorkerPoolRegistry.shared.resumeInParent() },
            { WorkerPoolRegistry.shared.resumeInForkedChild() })
        return registry
    }()

    private struct Entry {
        weak var pool: WorkerPool?
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var entries: [Entry] = []
    /// The pools whose locks are held, from `prepareForFork` until the fork has returned.
    private var heldAcrossFork: [WorkerPool] = []

    private init() {
        pthread_mutex_init(mutex, nil)
    }

    /// Adds a new pool; entries of pools gone since go.
    func register(_ pool: WorkerPool) {
        pthread_mutex_lock(mutex)
        entries.removeAll { $0.pool == nil }
        entries.append(Entry(pool: pool))
        pthread_mutex_unlock(mutex)
    }

    /// Before `fork()`, in the forking thread: takes the registry's lock and every pool's, so
    /// that nothing changes them until the fork is done.
    private func prepareForFork() {
        pthread_mutex_lock(mutex)
        heldAcrossFork = entries.compactMap(\.pool)
        for pool in heldAcrossFork { pool.prepareForFork() }
    }

    /// After `fork()`, in the parent: everything goes on as it was.
    private func resumeInParent() {
        for pool in heldAcrossFork { pool.resumeInParent() }
        heldAcrossFork = []
        pthread_mutex_unlock(mutex)
    }

    /// After `fork()`, in the child, which has one thread (this one): each pool forgets its
    /// parent's threads.
    private func resumeInForkedChild() {
        for pool in heldAcrossFork { pool.resumeInForkedChild() }
        heldAcrossFork = []
        pthread_mutex_unlock(mutex)
    }
}
