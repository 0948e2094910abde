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

    init() throws {
        fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard fd >= 0 else { throw SystemError("eventfd") }
    }

    deinit { close(fd) }

    /// Queues `item`; writes the eventfd when `wake` is set and nobody has signalled yet.
    func post(_ item: Item, wake: Bool) {
        let mustWrite = state.withLock { state -> Bool in
            state.items.append(item)
            guard wake, !state.signalled else { return false }
            state.signalled = true
            return true
        }
        if mustWrite {
            var one: UInt64 = 1
            _ = write(fd, &one, 8)
        }
    }

    var isEmpty: Bool { state.withLock { $0.items.isEmpty } }

    /// Takes everything queued so far, resetting the eventfd if it was signalled.
    func take() -> [Item] {
        let (items, wasSignalled) = state.withLock { state -> ([Item], Bool) in
            defer {
                state.items = []
                state.signalled = false
            }
            return (state.items, state.signalled)
        }
        if wasSignalled {
            var count: UInt64 = 0
            _ = read(fd, &count, 8)
        }
        return items
    }
}
