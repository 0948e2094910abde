// ReactorOnLibuv: the libuv recipe of docs/foreign-loop-hosts.md (which copies it), used by
// example-libuv-host's self-test and interactive mode.
//
// libuv has no custom-source abstraction like GLib's; `ReactorOnLibuv` below builds one from
// three handles:
//
//   uv_poll     watches the reactor's `pollfd()` for UV_READABLE and steps the reactor.
//   uv_timer    carries the reactor's deadline and steps the reactor when it passes.
//   uv_prepare  re-arms that timer to `timeoutMilliseconds()` just before libuv blocks, so work
//               that the host's own libuv callbacks gave the reactor (a timer scheduled, a
//               task spawned) is accounted for, like GLib's `prepare`.
//
// libev can rebuild its epoll instance (after `fork()`, or on its own when it finds its set
// stale): the reactor then calls `onPollfdChange`, and the uv_poll is closed and re-created on
// the new fd (a uv_poll's fd is fixed when it is made).
//
// With the reactor's fd-only mode (`fdOnly: true`), a timerfd makes the reactor's fd readable
// when a reactor timer is due or work is queued, and the uv_poll alone is enough.
//
// Never step the reactor from inside one of its own callbacks or tasks (and never `uv_run`
// there); libuv callbacks are fine, as they run outside any step.
import CLibuv
import Glibc
import Stepwise

/// Drives `reactor` from the libuv loop `loop`, on the loop's thread. Keep it alive until
/// `close()`: the handles' `data` holds it unretained.
final class ReactorOnLibuv {
    let reactor: Reactor
    let loop: UnsafeMutablePointer<uv_loop_t>
    let fdOnly: Bool
    private var poll = UnsafeMutablePointer<uv_poll_t>.allocate(capacity: 1)
    private let timer = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
    private let prepare = UnsafeMutablePointer<uv_prepare_t>.allocate(capacity: 1)
    /// How many times the reactor rebuilt its epoll instance and the uv_poll was re-created.
    private(set) var reRegistrations = 0
    /// How many times a libuv callback stepped the reactor.
    private(set) var steps = 0

    init(reactor: Reactor, loop: UnsafeMutablePointer<uv_loop_t>, fdOnly: Bool = false) {
        self.reactor = reactor
        self.loop = loop
        self.fdOnly = fdOnly
        if fdOnly {
            reactor.fdOnlyMode = true
        } else {
            uv_timer_init(loop, timer)
            timer.pointee.data = Unmanaged.passUnretained(self).toOpaque()
            uv_prepare_init(loop, prepare)
            prepare.pointee.data = Unmanaged.passUnretained(self).toOpaque()
            uv_prepare_start(prepare) { ReactorOnLibuv.from($0!.pointee.data).armTimer() }
        }
        startPoll(fd: reactor.pollfd())
        reactor.onPollfdChange = { [unowned self] fd in
            // Close the old handle first: closing removes its fd number from libuv's epoll set
            // and watcher table, which would otherwise drop the new handle on the same number.
            closeHandle(self.poll)
            self.poll = .allocate(capacity: 1)
            self.startPoll(fd: fd)
            self.reRegistrations += 1
        }
    }

    /// Detaches from the loop. libuv frees the handles in its close callbacks: let `uv_run`
    /// run once more.
    func close() {
        reactor.onPollfdChange = nil
        closeHandle(poll)
        if fdOnly {
            timer.deallocate()
            prepare.deallocate()
        } else {
            closeHandle(timer)
            closeHandle(prepare)
        }
    }

    private func startPoll(fd: Int32) {
        uv_poll_init(loop, poll, fd)
        poll.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        uv_poll_start(poll, Int32(UV_READABLE.rawValue)) { handle, _, _ in
            ReactorOnLibuv.from(handle!.pointee.data).step()
        }
    }

    /// The uv_prepare callback: libuv is about to block.
    private func armTimer() {
        let milliseconds = reactor.timeoutMilliseconds()
        guard milliseconds >= 0 else {
            uv_timer_stop(timer)
            return
        }
        // uv_timer_start counts from the loop's cached time, taken before this iteration's
        // callbacks ran: refresh it, or the timer may fire before the reactor's deadline (a
        // wasted step).
        uv_update_time(loop)
        uv_timer_start(timer, { ReactorOnLibuv.from($0!.pointee.data).step() }, UInt64(milliseconds), 0)
    }

    private func step() {
        steps += 1
        do { try reactor.step(timeout: 0) } catch { print("reactor step failed: \(error)") }
    }

    private static func from(_ data: UnsafeMutableRawPointer?) -> ReactorOnLibuv {
        Unmanaged<ReactorOnLibuv>.fromOpaque(data!).takeUnretainedValue()
    }
}

/// `uv_close`, then frees the handle's memory (allocated with `.allocate(capacity: 1)`).
func closeHandle<Handle>(_ handle: UnsafeMutablePointer<Handle>) {
    uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) {
        UnsafeMutableRawPointer($0!).deallocate()
    }
}
