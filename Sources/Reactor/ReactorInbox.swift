internal import CLibev
import Glibc
import Synchronization

/// The thread-safe way into a reactor: closures from `execute {}` and task jobs, queued under a
/// lock and signalled through an `eventfd` that the reactor watches as an ordinary IO watcher.
///
/// Not `ev_async`: libev writes its async pipe only while it is itself blocked in `ev_run`, so
/// `ev_async_send` never wakes a host blocked in its own `poll()` on the reactor's fd.
///
/// The lock is a `pthread_mutex_t`, not `Synchronization.Mutex`: on Linux a contended `Mutex` is
/// handed from thread to thread by the kernel (`FUTEX_LOCK_PI` and `FUTEX_UNLOCK_PI`, called
/// from libswiftSynchronization, which is not instrumented), so ThreadSanitizer sees no order
/// between two threads' turns and reports every access to what it guards as a race.
/// ThreadSanitizer intercepts `pthread_mutex_lock`. The price is a call into glibc: about 75
/// instructions more per item posted and taken (callgrind, 906 against 830), paid only when
/// something was posted; a step with nothing posted reads `isEmpty`, which takes no lock, so a
/// callback server's request pays nothing.
final class ReactorInbox: @unchecked Sendable {
    enum Item: Sendable {
        case closure(@Sendable () -> Void)
        case job(UnownedJob)
    }

    let fd: Int32
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Under `mutex`, which makes the runtime's exclusivity checks redundant (they were a third
    /// of a post's and take's instructions).
    @exclusivity(unchecked) private var items: [Item] = []
    /// Under `mutex`: the eventfd holds a count that nobody has read yet.
    @exclusivity(unchecked) private var signalled = false
    /// How many items `items` holds, kept under the lock and readable without it: the reactor
    /// asks whether anything is queued several times a step, and a lock and unlock each time
    /// were two atomic operations.
    private let count = Atomic<Int>(0)

    init() throws {
        fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard fd >= 0 else {
            mutex.deallocate()
            throw SystemError("eventfd")
        }
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        close(fd)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Queues `item`; writes the eventfd when `wake` is set and nobody has signalled yet.
    func post(_ item: Item, wake: Bool) {
        pthread_mutex_lock(mutex)
        items.append(item)
        count.store(items.count, ordering: .releasing)
        let mustWrite = wake && !signalled
        if mustWrite { signalled = true }
        pthread_mutex_unlock(mutex)
        if mustWrite {
            var one: UInt64 = 1
            _ = write(fd, &one, 8)
        }
    }

    /// Whether nothing is queued. From the reactor's thread, exact for its own posts; a post
    /// from another thread racing with it wakes the reactor (the eventfd) if it needs waking.
    var isEmpty: Bool { count.load(ordering: .acquiring) == 0 }

    /// Takes everything queued so far, resetting the eventfd if it was signalled (it is only
    /// signalled once something was queued) or `fdFired`: the reactor saw it readable. A poster
    /// writes the fd after it unlocked, so a `take` may have taken its items (reading nothing
    /// yet) before the write landed, and the fd would stay readable with nothing queued.
    func take(fdFired: Bool = false) -> [Item] {
        guard !isEmpty else {
            if fdFired { resetSignal() }
            return []
        }
        pthread_mutex_lock(mutex)
        let taken = items
        let wasSignalled = signalled
        items = []
        signalled = false
        count.store(0, ordering: .releasing)
        pthread_mutex_unlock(mutex)
        if wasSignalled || fdFired { resetSignal() }
        return taken
    }

    /// Reads the eventfd's count, making it unreadable until the next signal.
    private func resetSignal() {
        var count: UInt64 = 0
        _ = read(fd, &count, 8)
    }
}
