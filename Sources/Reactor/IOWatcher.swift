internal import CLibev
import Glibc

private let ioTrampoline: evshim_io_cb = { _, watcher, revents in
    guard let watcher, let data = watcher.pointee.data else { return }
    Unmanaged<IOWatcher>.fromOpaque(data).takeUnretainedValue().fire(revents)
}

/// A socket's watcher points libev straight at the socket: no watcher object, handler or
/// existential between readiness and `ioReady`. The socket cancels its watcher (which stops the
/// libev watcher and drops its pending events) before it goes away, so `data` is alive here
/// (`StreamSocket.ioReady` holds a reference of its own for the call).
private let socketTrampoline: evshim_io_cb = { _, watcher, revents in
    guard let watcher, let data = watcher.pointee.data else { return }
    StreamSocket.ioReady(Unmanaged.fromOpaque(data), PollEvents(libev: revents))
}

extension PollEvents {
    /// libev's `revents` (an error counts as both readable and writable).
    init(libev revents: Int32) {
        var ready: PollEvents = []
        if revents & Int32(EV_READ) != 0 { ready.insert(.read) }
        if revents & Int32(EV_WRITE) != 0 { ready.insert(.write) }
        if revents & Int32(EV_ERROR) != 0 { ready.formUnion([.read, .write]) }
        self = ready
    }
}

/// Interest in the readiness of one file descriptor. Change `events` at any time; `[]` pauses
/// the watcher, `cancel()` ends it for good (and drops the handler, breaking reference cycles).
/// The reactor keeps an active watcher alive; the fd itself belongs to the caller. A watcher may
/// outlive its reactor: it is then cancelled, and changing it does nothing.
///
/// Its mutable state is `@exclusivity(unchecked)`, like `StreamSocket`'s (reactor-thread only, no
/// access spans a callback; the runtime checks were a sixth of a request's instructions).
public final class IOWatcher {
    public let fd: Int32
    /// Valid while `lifeline.isAlive` (no weak reference: see `ReactorLifeline`).
    private unowned(unsafe) let reactor: Reactor
    private let lifeline: ReactorLifeline
    private let loop: OpaquePointer
    private let watcher: UnsafeMutablePointer<ev_io>
    @exclusivity(unchecked) private var handler: (PollEvents) -> Void
    @exclusivity(unchecked) private var libevActive = false
    /// Internal watchers (the inbox, the timerfd) do not keep `Reactor.empty()` false.
    let isInternal: Bool
    /// The fd is one epoll refuses (a regular file, `/dev/null`): libev treats it as always
    /// ready, and the reactor's `timeout()` is 0 while the watcher is active.
    let isAlwaysReady: Bool

    /// What the handler wants to hear about (`.read`, `.write`; `.priority` is not supported by
    /// libev and is ignored).
    @exclusivity(unchecked) public var events: PollEvents {
        didSet { if events != oldValue { apply() } }
    }

    @exclusivity(unchecked) public private(set) var isCancelled = false

    /// `isSocket`: the caller knows `fd` is a socket, which epoll takes (no probe).
    init(
        reactor: Reactor, fd: Int32, events: PollEvents, isInternal: Bool, isSocket: Bool = false,
        handler: @escaping (PollEvents) -> Void
    ) {
        self.fd = fd
        self.reactor = reactor
        self.lifeline = reactor.lifeline
        self.loop = reactor.loop
        self.events = events
        self.handler = handler
        self.isInternal = isInternal
        self.isAlwaysReady = !isInternal && !isSocket && reactor.epollRefuses(fd)
        watcher = .allocate(capacity: 1)
        evshim_io_init(watcher, ioTrampoline, fd, 0)
        watcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        apply()
    }

    /// A watcher that calls `socket.ioReady` (the socket owns it and cancels it before it goes
    /// away).
    init(reactor: Reactor, fd: Int32, events: PollEvents, socket: StreamSocket) {
        self.fd = fd
        self.reactor = reactor
        self.lifeline = reactor.lifeline
        self.loop = reactor.loop
        self.events = events
        self.handler = { _ in }
        self.isInternal = false
        self.isAlwaysReady = false
        watcher = .allocate(capacity: 1)
        evshim_io_init(watcher, socketTrampoline, fd, 0)
        watcher.pointee.data = Unmanaged.passUnretained(socket).toOpaque()
        apply()
    }

    deinit {
        stopLibevWatcher()
        watcher.deallocate()
    }

    /// The reactor is going away (its lifeline is dead already): stop the libev watcher while
    /// the loop still exists.
    func detachFromDyingReactor() {
        isCancelled = true
        handler = { _ in }
        stopLibevWatcher()
    }

    private func stopLibevWatcher() {
        if libevActive {
            ev_io_stop(loop, watcher)
            libevActive = false
        }
    }

    /// Stops the watcher for good. Safe to call more than once and from its own handler.
    public func cancel() {
        guard !isCancelled else { return }
        isCancelled = true
        handler = { _ in }
        apply()
    }

    fileprivate func fire(_ revents: Int32) {
        handler(PollEvents(libev: revents))
    }

    private func apply() {
        // Checked after `cancel` dropped the handler, which may have held the reactor's last
        // reference.
        guard lifeline.isAlive else {
            stopLibevWatcher()
            return
        }
        reactor.assertOnReactorThread()
        var mask: Int32 = 0
        if !isCancelled {
            if events.contains(.read) { mask |= Int32(EV_READ) }
            if events.contains(.write) { mask |= Int32(EV_WRITE) }
        }
        stopLibevWatcher()
        if mask != 0 {
            evshim_io_set(watcher, fd, mask)
            ev_io_start(loop, watcher)
            libevActive = true
        }
        reactor.watcherChanged(self, active: mask != 0)
    }
}
