internal import CLibev
import Glibc
import Synchronization

/// The thread-safe way into a reactor: closures from `execute {}` and task jobs, queued under a
/// lock and signalled through an `eventfd` that the reactor watches as an ordinary IO watcher.
///
/// Not `ev_async`: libev writes its async pipe only while it is itself blocked in `ev_run`, so
/// `ev_async_send` never wakes a host blocked in its own `poll()` on the reactor's fd.
final class ReactorInbox: Sendable {
    enum Item: Sendable {
        case closure(@Sendable () -> Void)
        case job(UnownedJob)
    }

    private struct State {
        var items: [Item] = []
        /// The eventfd holds a count that nobody has read yet.
        var signalled = false
    }

    let fd: Int32
    private let state = Mutex(State())
    /// How many items `state` holds, kept under the lock and readable without it: the reactor
    /// asks whether anything is queued several times a step, and a lock and unlock each time
    /// were two atomic operations.
    private let count = Atomic<Int>(0)

    init() throws {
        fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard fd >= 0 else { throw SystemError("eventfd") }
    }

    deinit { close(fd) }

    /// Queues `item`; writes the eventfd when `wake` is set and nobody has signalled yet.
    func post(_ item: Item, wake: Bool) {
        let mustWrite = state.withLock { state -> Bool in
            state.items.append(item)
            count.store(state.items.count, ordering: .releasing)
            guard wake, !state.signalled else { return false }
            state.signalled = true
            return true
        }
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
        let (items, wasSignalled) = state.withLock { state -> ([Item], Bool) in
            defer {
                state.items = []
                state.signalled = false
                count.store(0, ordering: .releasing)
            }
            return (state.items, state.signalled)
        }
        if wasSignalled || fdFired { resetSignal() }
        return items
    }

    /// Reads the eventfd's count, making it unreadable until the next signal.
    private func resetSignal() {
        var count: UInt64 = 0
        _ = read(fd, &count, 8)
    }
}
