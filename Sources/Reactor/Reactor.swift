internal import CLibev
import Glibc
import Synchronization

private let guardTimerCallback: evshim_timer_cb = { _, _, _ in }

private let forkCallback: evshim_fork_cb = { _, watcher, _ in
    guard let watcher, let data = watcher.pointee.data else { return }
    Unmanaged<Reactor>.fromOpaque(data).takeUnretainedValue().backendMayHaveChanged = true
}

/// A libev loop that a foreign main loop can drive: it owns IO watchers, timers, deferred calls
/// and tasks, and shows them all as one fd and one deadline (`Pollable`).
///
/// **Threads.** A reactor belongs to the thread that steps it; until the first `step` it belongs
/// to no thread yet, so it may be set up on one thread and stepped on another. Calls from
/// another thread are a precondition failure in debug builds; the way in from other threads is
/// `execute {}`. It is `Sendable` so that tasks and callbacks can carry it, but only `execute`,
/// `enqueue` (tasks) and `wake` may be used off its thread.
///
/// **Driving it.** Either `loop()`, or from a host: wait on `pollfd()` for `events()` with
/// `timeoutMilliseconds()`, then `step(timeout: 0)`. Hosts that cannot honour `timeout()` turn on
/// `fdOnlyMode`, and hosts that register the fd once (epoll, libuv, GLib) set `onPollfdChange`:
/// libev rebuilds its epoll instance after `afterFork()` and sometimes on its own.
///
/// Its mutable state is `@exclusivity(unchecked)`, like `StreamSocket`'s (reactor-thread only, no
/// access spans a callback; the runtime checks were a sixth of a request's instructions).
public final class Reactor: @unchecked Sendable {
    let loop: OpaquePointer
    /// What watchers and timers check before they use the reactor (they hold it unowned).
    let lifeline = ReactorLifeline()
    @exclusivity(unchecked) private var backendFD: Int32
    /// Bumped each time libev rebuilt its epoll instance (the fd number often stays the same, but
    /// a host's registration of the old instance is dead).
    public private(set) var pollfdGeneration = 0
    /// Called on the reactor's thread after libev rebuilt its epoll instance, with the new fd:
    /// re-register it with the host loop.
    public var onPollfdChange: ((Int32) -> Void)?
    fileprivate(set) var backendMayHaveChanged = false

    /// Watchers were started, stopped or changed since libev last synchronised its epoll set.
    @exclusivity(unchecked) private var fdChangesPending = false
    @exclusivity(unchecked) @usableFromInline var isStepping = false
    private let stopRequested = Atomic<Bool>(false)
    @exclusivity(unchecked) private var activeWatchers: [ObjectIdentifier: IOWatcher] = [:]
    @exclusivity(unchecked) private var userWatcherCount = 0
    @exclusivity(unchecked) private var timers = TimerHeap()
    @exclusivity(unchecked) private var deferred: [() -> Void] = []
    /// The batch being run (swapped with `deferred`, so neither array is reallocated per step).
    @exclusivity(unchecked) private var running: [() -> Void] = []
    /// Sockets with output to hand to the kernel at the end of this step (no closure each),
    /// each holding a reference to its socket (taken by `StreamSocket.scheduleFlush`, dropped
    /// once flushed). A socket holds the reactor, so the reactor never goes away with any here.
    @exclusivity(unchecked) private var flushes = ReactorStack<Unmanaged<StreamSocket>>(capacity: 64)
    @exclusivity(unchecked) private var flushing = ReactorStack<Unmanaged<StreamSocket>>(capacity: 64)
    let inbox: ReactorInbox
    @exclusivity(unchecked) private var inboxWatcher: IOWatcher?
    private let guardTimer: UnsafeMutablePointer<ev_timer>
    private let forkWatcher: UnsafeMutablePointer<ev_fork>
    @exclusivity(unchecked) var liveTasks = 0
    /// Blocking jobs (`startBlocking`) whose result has not come back yet.
    @exclusivity(unchecked) var blockingJobsInFlight = 0
    /// Name lookups (`Resolver.resolve`) on a worker thread whose result has not come back yet
    /// and which nobody cancelled.
    @exclusivity(unchecked) var lookupsInFlight = 0

    /// The `pthread_t` of the thread that first stepped the reactor; 0 (`unclaimed`) until then.
    private let owner: Atomic<UInt>
    private static let unclaimed: UInt = 0
    @exclusivity(unchecked) private var hasStepped = false
    private let fdOnly = Atomic<Bool>(false)
    @exclusivity(unchecked) private var timerFD: TimerFD?
    /// Where sockets with no input buffer of their own read (one per reactor: only its thread
    /// reads), so an idle connection needs no receive buffer; allocated on first use.
    @exclusivity(unchecked) private var receiveScratch: ByteStorage?
    static let receiveScratchSize = 64 * 1024

    /// `now()`'s reading for the current round (libev's callbacks, then expired timers, queued
    /// work and deferred calls); 0 when not read yet.
    @exclusivity(unchecked) @usableFromInline var stepClock: UInt64 = 0

    /// Monotonic nanoseconds, for deadlines measured from "now". Inside a step, the clock is
    /// read once per round of callbacks and shared by all of them (libev's `ev_now` idea): a
    /// server arming an idle timer after every response read the clock once per request, a
    /// twentieth of its user-space time. The value is then behind by at most the time the
    /// round's callbacks have run so far. Outside a step it is the clock.
    ///
    /// Inlinable: inside a step it is two loads (a connection asks for every request).
    @inlinable
    public func now() -> UInt64 {
        if isStepping && stepClock != 0 { return stepClock }
        return readClock()
    }

    /// `now()` when the round has not read the clock yet, or outside a step.
    @usableFromInline
    func readClock() -> UInt64 {
        let now = MonotonicClock.nanoseconds()
        if isStepping { stepClock = now }
        return now
    }

    /// Output buffers that sockets drained and gave back (`StreamSocket.flushNow`), for the next
    /// socket that writes: a busy server reuses a few instead of allocating and freeing one per
    /// response, and an idle connection still holds none.
    @exclusivity(unchecked) private var spareOutputBuffers = ReactorStack<[UInt8]>(
        capacity: Reactor.maximumSpareOutputBuffers)
    static let maximumSpareOutputBuffers = 16

    /// Most rounds of "run what became ready" one step makes before it returns with
    /// `timeout() == 0`, so that a callback that keeps queueing work cannot starve the host.
    static let maximumRoundsPerStep = 8

    public init() throws {
        guard let loop = ev_loop_new(evshim_loop_flags()) else {
            throw SystemError("ev_loop_new(EVBACKEND_EPOLL)")
        }
        self.loop = loop
        backendFD = evshim_backend_fd(loop)
        precondition(backendFD >= 0, "libev's epoll backend is not embeddable on this system")
        inbox = try ReactorInbox()
        owner = Atomic(Reactor.unclaimed)
        guardTimer = .allocate(capacity: 1)
        evshim_timer_init(guardTimer, guardTimerCallback, 0, 0)
        forkWatcher = .allocate(capacity: 1)
        evshim_fork_init(forkWatcher, forkCallback)
        forkWatcher.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        ev_fork_start(loop, forkWatcher)
        ev_unref(loop)
        // The reactor owns the watcher and detaches it (dropping this closure) when it goes away.
        inboxWatcher = IOWatcher(reactor: self, fd: inbox.fd, events: .read, isInternal: true) {
            [unowned(unsafe) self] _ in self.runInbox(fdFired: true)
        }
        synchroniseEpollSet()
    }

    /// Pushes watcher changes made outside a step into libev's epoll set. Nothing is ready yet
    /// on a watcher that was just started, so no callback runs.
    private func synchroniseEpollSet() {
        fdChangesPending = false
        ev_run(loop, Int32(EVRUN_NOWAIT))
    }

    deinit {
        // From here on, watchers and timers leave the reactor alone (a timer's or watcher's
        // deinit below may still call in).
        lifeline.isAlive = false
        if epollProbe >= 0 { close(epollProbe) }
        timerFD = nil
        inboxWatcher?.detachFromDyingReactor()
        for watcher in activeWatchers.values { watcher.detachFromDyingReactor() }
        timers.removeAll()
        ev_ref(loop)
        ev_fork_stop(loop, forkWatcher)
        ev_timer_stop(loop, guardTimer)
        ev_loop_destroy(loop)
        guardTimer.deallocate()
        forkWatcher.deallocate()
    }

    /// A spare output buffer (empty, with capacity), if one was given back.
    func takeOutputBuffer() -> [UInt8]? {
        spareOutputBuffers.pop()
    }

    /// How many spare output buffers are kept (for tests).
    var spareOutputBufferCount: Int { spareOutputBuffers.count }

    /// Keeps a drained output buffer for the next socket that writes (up to a few).
    func recycleOutputBuffer(_ buffer: consuming [UInt8]) {
        if spareOutputBuffers.count < Reactor.maximumSpareOutputBuffers { spareOutputBuffers.push(buffer) }
    }

    /// The shared receive buffer (see `receiveScratch`), held by nobody else: a socket's input
    /// may borrow it while its reader runs (`ByteBuffer.borrow`); one that keeps a
    /// copy of that input keeps the old storage, and the reactor makes a new one.
    func unsharedReceiveScratch() -> ByteStorage {
        if receiveScratch == nil || !isKnownUniquelyReferenced(&receiveScratch) {
            receiveScratch = ByteStorage(capacity: Reactor.receiveScratchSize)
        }
        return receiveScratch!
    }

    // MARK: Pollable

    /// libev's epoll fd: readable whenever a watched fd is ready (or, in fd-only mode, a timer is
    /// due or work is queued).
    public func pollfd() -> Int32 { backendFD }

    /// Always `.read`: an epoll fd signals readiness by becoming readable.
    public func events() -> PollEvents { .read }

    /// `0` while work is queued (ready watchers, watcher changes libev has not applied yet,
    /// deferred calls, task jobs, cross-thread calls), else seconds to the earliest timer, or nil.
    public func timeout() -> Double? {
        timeout(now: nil)
    }

    /// `timeout()` measured from `now` (nil: the clock, read only if a timer needs it).
    private func timeout(now reading: UInt64?) -> Double? {
        if hasWorkNow { return 0 }
        guard let deadline = timers.firstDeadline, deadline != .max else { return nil }
        let now = reading ?? MonotonicClock.nanoseconds()
        return deadline > now ? Double(deadline - now) / 1e9 : 0
    }

    /// True when nothing is left to do: no user IO watchers, timers, deferred calls, tasks,
    /// blocking jobs or name lookups.
    public func empty() -> Bool {
        userWatcherCount == 0 && timers.isEmpty && deferred.isEmpty && flushes.isEmpty && liveTasks == 0
            && inbox.isEmpty && blockingJobsInFlight == 0 && lookupsInFlight == 0
    }

    private var hasWorkNow: Bool {
        fdChangesPending || alwaysReadyWatcherCount > 0 || !deferred.isEmpty || !flushes.isEmpty
            || ev_pending_count(loop) > 0 || !inbox.isEmpty
    }

    /// Runs everything that is ready, waiting at most `timeout` seconds for something to become
    /// ready first (`nil`: as long as it takes). `step(timeout: 0)` never blocks.
    public func step(timeout: Double? = 0) throws {
        _ = try step(timeout: timeout, resumingAt: nil)
    }

    /// `step(timeout:)` for `loop`, which steps again at once: `clock` is the reading that ended
    /// the previous step (nil: none), so the wait is measured from it and libev's clock, updated
    /// when its poll returned, is current enough for the guard timer: two clock reads a step
    /// fewer (of six; about 0.2% of a busy server's time, below what its benchmark resolves).
    /// Returns the clock reading that ended this step, if it took one.
    private func step(timeout: Double?, resumingAt clock: UInt64?) throws -> UInt64? {
        try enterStep()
        defer { isStepping = false }

        var wait = timeout
        if let next = self.timeout(now: clock) {
            wait = Swift.min(wait ?? next, next)
        }
        runLibev(waiting: wait, clockIsCurrent: clock != nil)

        var rounds = 0
        var ending: UInt64? = nil
        while true {
            if rounds > 0 { stepClock = 0 }
            runExpiredTimers()
            runInbox()
            runDeferred()
            rounds += 1
            guard rounds < Reactor.maximumRoundsPerStep else { break }
            if fdChangesPending || ev_pending_count(loop) > 0 {
                // Callbacks run at the end of ev_run, after libev pushed watcher changes to
                // epoll: run it again so that a watcher started inside a callback is in the
                // kernel's set before the host polls (what libev's embed_prepare_cb does).
                runLibev(waiting: 0)
                continue
            }
            if !deferred.isEmpty || !flushes.isEmpty || !inbox.isEmpty { continue }
            let now = MonotonicClock.nanoseconds()
            if timerDue(now: now) { continue }
            ending = now
            break
        }
        if backendMayHaveChanged { noteBackendRebuilt() }
        if fdOnly.load(ordering: .relaxed) { armTimerFD() }
        return ending
    }

    /// Steps until `empty()`, `stopLoop()`, or `timeout` seconds have passed. At least one step
    /// is made unless the reactor is empty or a stop was asked for before (see
    /// `loop(timeout:until:)`): `loop(timeout: 0)` is one step that does not wait.
    public func loop(timeout: Double? = nil) throws {
        try loop(timeout: timeout) { self.empty() }
    }

    /// Steps until `isDone()`, `stopLoop()`, or `timeout` seconds have passed (`Server.loop`
    /// runs until the server is closed and empty). `isDone` runs between steps, on this thread.
    ///
    /// The deadline is looked at after the first step, not before it: that step is made
    /// whatever `timeout` is, without waiting when it is 0 (or less), as cqueues' `loop` steps
    /// once before it checks its deadline. So a host that calls `loop(timeout: 0)` once a frame
    /// makes progress every frame. What ends a loop before its first step: being done already
    /// (`isDone()`), and a `stopLoop()` asked for before it started.
    public func loop(timeout: Double? = nil, until isDone: () -> Bool) throws {
        // Refused before anything else, as `step` refuses: a loop inside a step would otherwise
        // return at once when done, or take the running loop's stop (the `defer` below, and the
        // check before the first step), and that loop would go on past it.
        guard !isStepping else { throw ReactorError.reentrantStep }
        let deadline = timeout.map {
            MonotonicClock.deadline(after: $0, from: MonotonicClock.nanoseconds())
        }
        // A stop asked for while this loop runs is this loop's, even when it ends for another
        // reason (done after the step that asked): libuv's `uv_run` clears `uv_stop`'s flag
        // when it returns too.
        defer { stopRequested.store(false, ordering: .relaxed) }
        var clock: UInt64? = nil
        var stepped = false
        while !isDone() {
            // One asked for while no loop ran (from another thread, just before this one
            // started) ends this one before its first step, as libuv's `uv_stop` before `uv_run`
            // does, rather than being lost.
            if stopRequested.load(ordering: .relaxed) && stopRequested.exchange(false, ordering: .relaxed) {
                return
            }
            var wait: Double? = nil
            if let deadline {
                let now = clock ?? MonotonicClock.nanoseconds()
                if now < deadline {
                    wait = Double(deadline - now) / 1e9
                } else {
                    // Passed (or 0): one step that does not wait, then no more. cqueues' `loop`
                    // steps before it checks: `checkstep(self, deadline, self:step(timeout))`.
                    guard !stepped else { return }
                    wait = 0
                }
            }
            clock = try step(timeout: wait, resumingAt: clock)
            stepped = true
        }
    }

    /// Makes a running `loop()` return after the current step; with none running, the next
    /// `loop()` returns before its first step. A loop that returns takes every stop asked for
    /// until then. Safe from any thread.
    public func stopLoop() {
        stopRequested.store(true, ordering: .relaxed)
        wake()
    }

    private func enterStep() throws {
        guard !isStepping else { throw ReactorError.reentrantStep }
        if !hasStepped {
            hasStepped = true
            owner.store(UInt(pthread_self()), ordering: .relaxed)
        }
        assertOnReactorThread()
        isStepping = true
    }

    /// Whether the caller is inside `step` (a callback or a task job).
    public var isInsideStep: Bool { isStepping }

    /// `clockIsCurrent`: nothing slept since libev last read its clock (`loop` stepping again).
    private func runLibev(waiting wait: Double?, clockIsCurrent: Bool = false) {
        fdChangesPending = false
        // The callbacks libev is about to run read the clock afresh, once (`now()`).
        stepClock = 0
        if wait == 0 {
            ev_run(loop, Int32(EVRUN_NOWAIT))
            return
        }
        if let wait {
            // The host may have slept outside libev: refresh its clock or the guard fires early.
            // Early by only the callbacks' time since, it ends a step whose timer is not due
            // yet, and `loop` steps again.
            if !clockIsCurrent { ev_now_update(loop) }
            evshim_timer_set(guardTimer, wait, 0)
            ev_timer_start(loop, guardTimer)
            ev_run(loop, Int32(EVRUN_ONCE))
            ev_timer_stop(loop, guardTimer)
        } else {
            ev_run(loop, Int32(EVRUN_ONCE))
        }
    }

    private func noteBackendRebuilt() {
        backendMayHaveChanged = false
        let fd = evshim_backend_fd(loop)
        guard fd >= 0 else { return }
        backendFD = fd
        pollfdGeneration += 1
        onPollfdChange?(fd)
    }

    /// Call in the child after `fork()`: libev recreates its epoll instance on the next step, and
    /// `onPollfdChange` reports the new fd.
    public func afterFork() {
        ev_loop_fork(loop)
        fdChangesPending = true
    }

    // MARK: Threads

    /// True on the thread that steps the reactor, and on any thread before the first step (when
    /// it may be set up anywhere). What may be called directly here must go through `execute {}`
    /// elsewhere.
    public var isOnReactorThread: Bool {
        let owner = owner.load(ordering: .relaxed)
        return owner == Reactor.unclaimed || pthread_equal(pthread_self(), pthread_t(owner)) != 0
    }

    @inline(__always)
    func assertOnReactorThread(_ function: StaticString = #function) {
        assert(
            isOnReactorThread,
            "Reactor.\(function) called off the reactor's thread: use reactor.execute { } from other threads"
        )
    }

    /// Runs `body` on the reactor's thread during a coming step. Safe from any thread; from
    /// another thread it wakes a host blocked on `pollfd()`.
    public func execute(_ body: @escaping @Sendable () -> Void) {
        inbox.post(.closure(body), wake: needsWake)
    }

    /// Wakes a host blocked on `pollfd()` (any thread).
    public func wake() {
        inbox.post(.closure({}), wake: true)
    }

    /// Whether a post must write the eventfd. Before the first step nobody knows which thread
    /// will step (a host may already be blocked on `pollfd()` on its own thread), so every post
    /// wakes; after it, only posts from other threads, or any in fd-only mode, need to. A post
    /// racing with the first step sees either no owner or another thread's: it wakes either way.
    private var needsWake: Bool {
        let owner = owner.load(ordering: .relaxed)
        return owner == Reactor.unclaimed || pthread_equal(pthread_self(), pthread_t(owner)) == 0
            || fdOnly.load(ordering: .relaxed)
    }

    func post(job: UnownedJob) {
        inbox.post(.job(job), wake: needsWake)
    }

    private func runInbox(fdFired: Bool = false) {
        for item in inbox.take(fdFired: fdFired) {
            switch item {
            case .closure(let body): body()
            case .job(let job): job.runSynchronously(on: asUnownedTaskExecutor())
            }
        }
    }

    // MARK: Deferred calls

    /// Runs `body` on the reactor's thread in this step or the next one (never synchronously).
    public func soon(_ body: @escaping () -> Void) {
        assertOnReactorThread()
        deferred.append(body)
        if !isStepping { workQueuedOutsideStep() }
    }

    /// Flushes `socket` once this step's callbacks ran (`StreamSocket` batches its writes so),
    /// then releases the reference to it that the caller passes on.
    @inline(__always)
    func scheduleFlush(_ socket: Unmanaged<StreamSocket>) {
        flushes.push(socket)
        if !isStepping { workQueuedOutsideStep() }
    }

    /// Work was queued between steps: an fd-only host must wake up for it.
    @inline(never)
    private func workQueuedOutsideStep() {
        if fdOnly.load(ordering: .relaxed) { timerFD?.arm(deadline: TimerFD.asap) }
    }

    private func runDeferred() {
        if !flushes.isEmpty {
            flushes.swapContents(with: &flushing)
            // Nothing else changes `flushing` meanwhile (`step` is not re-entrant; flushes
            // scheduled now go into `flushes`).
            for index in 0..<flushing.count {
                let socket = flushing[index]
                socket._withUnsafeGuaranteedRef { $0.scheduledFlush() }
                socket.release()
            }
            flushing.removeAll()
        }
        guard !deferred.isEmpty else { return }
        swap(&deferred, &running)
        for body in running { body() }
        running.removeAll(keepingCapacity: true)
    }

    // MARK: IO watchers

    /// Watches `fd` for `events`; the handler runs on the reactor's thread with what is ready.
    /// The fd stays the caller's: cancel the watcher before closing it.
    public func watch(fd: Int32, events: PollEvents, handler: @escaping (PollEvents) -> Void)
        -> IOWatcher
    {
        IOWatcher(reactor: self, fd: fd, events: events, isInternal: false, handler: handler)
    }

    /// `watch` for a descriptor known to be a socket (no probe of whether epoll takes it).
    func watchSocket(fd: Int32, events: PollEvents, handler: @escaping (PollEvents) -> Void) -> IOWatcher {
        IOWatcher(reactor: self, fd: fd, events: events, isInternal: false, isSocket: true, handler: handler)
    }

    func watchInternal(fd: Int32, handler: @escaping (PollEvents) -> Void) -> IOWatcher {
        IOWatcher(reactor: self, fd: fd, events: .read, isInternal: true, handler: handler)
    }

    func watcherChanged(_ watcher: IOWatcher, active: Bool) {
        fdChangesPending = true
        if !isStepping { workQueuedOutsideStep() }
        let key = ObjectIdentifier(watcher)
        let wasActive = activeWatchers[key] != nil
        guard wasActive != active else { return }
        if active {
            activeWatchers[key] = watcher
        } else {
            activeWatchers[key] = nil
        }
        if !watcher.isInternal { userWatcherCount += active ? 1 : -1 }
        if watcher.isAlwaysReady { alwaysReadyWatcherCount += active ? 1 : -1 }
    }

    /// Active watchers on fds epoll refuses (`IOWatcher.isAlwaysReady`).
    @exclusivity(unchecked) private var alwaysReadyWatcherCount = 0
    /// An epoll instance that only tries fds (`epollRefuses`), made on first use.
    @exclusivity(unchecked) private var epollProbe: Int32 = -1

    /// Whether epoll refuses `fd` (EPERM: a regular file, a directory, `/dev/null`). libev then
    /// treats it as always ready by polling without waiting, which the epoll fd a host waits on
    /// never shows: such a watcher has to make `timeout()` 0 instead.
    func epollRefuses(_ fd: Int32) -> Bool {
        evshim_epoll_refuses(&epollProbe, fd) != 0
    }

    /// How many watchers libev watches for the reactor, internal ones included (for tests).
    var activeWatcherCount: Int { activeWatchers.count }

    // MARK: Timers

    /// Calls `handler` once after `seconds`.
    @discardableResult
    public func schedule(after seconds: Double, _ handler: @escaping (ReactorTimer) -> Void)
        -> ReactorTimer
    {
        schedule(after: seconds, repeating: 0, handler)
    }

    /// Calls `handler` after `seconds`, then every `interval` seconds (0: once) until cancelled.
    @discardableResult
    public func schedule(
        after seconds: Double, repeating interval: Double, _ handler: @escaping (ReactorTimer) -> Void
    ) -> ReactorTimer {
        schedule(after: seconds, repeating: interval, action: .closure(handler))
    }

    /// Tells `target` after `seconds`, then every `interval` seconds (0: once) until cancelled.
    /// The timer holds `target` unowned: cancel it before the target goes away.
    @discardableResult
    public func schedule(
        after seconds: Double, repeating interval: Double = 0, target: any ReactorTimerTarget
    ) -> ReactorTimer {
        schedule(after: seconds, repeating: interval, action: .target(UnownedTimerTarget(value: target)))
    }

    private func schedule(after seconds: Double, repeating interval: Double, action: ReactorTimer.Action)
        -> ReactorTimer
    {
        assertOnReactorThread()
        let now = MonotonicClock.nanoseconds()
        let timer = ReactorTimer(
            reactor: self, deadline: MonotonicClock.deadline(after: seconds, from: now),
            interval: Swift.max(0, interval), action: action)
        insert(timer)
        return timer
    }

    private func insert(_ timer: ReactorTimer) {
        timers.insert(timer)
        if !isStepping && fdOnly.load(ordering: .relaxed) && timers.first === timer {
            armTimerFD()
        }
    }

    func unschedule(_ timer: ReactorTimer) {
        assertOnReactorThread()
        timers.remove(timer)
    }

    func reschedule(_ timer: ReactorTimer, at deadline: UInt64) {
        assertOnReactorThread()
        timers.remove(timer)
        timer.deadline = deadline
        insert(timer)
    }

    /// Whether the earliest timer is due. Reads the deadline in place: a method call on the heap
    /// copied it, retaining and releasing its array.
    private func timerDue(now: UInt64) -> Bool {
        guard let deadline = timers.firstDeadline else { return false }
        return deadline <= now
    }

    private func runExpiredTimers() {
        let now = self.now()
        // Timers added while these run (with new sequence numbers) wait for the next round, so a
        // zero-interval timer cannot keep one step busy forever.
        let watermark = timers.sequenceWatermark
        while let timer = timers.popExpired(now: now, before: watermark) {
            if timer.interval > 0 {
                // Saturating, as every deadline is: an interval of 1e9 s or more (or infinite)
                // fires once, then never again.
                timer.deadline = MonotonicClock.deadline(after: timer.interval, from: timer.deadline)
                if timer.deadline <= now { timer.deadline = MonotonicClock.deadline(after: timer.interval, from: now) }
                timers.insert(timer)
            }
            timer.fire()
        }
    }

    // MARK: fd-only mode

    private func armTimerFD() {
        timerFD?.arm(deadline: hasWorkNow ? TimerFD.asap : timers.firstDeadline)
    }

    /// For hosts that cannot honour `timeout()` (they only wait on the fd, or cache the timeout):
    /// a timerfd inside libev's epoll set makes `pollfd()` readable when a timer is due or work is
    /// queued, so waiting on the fd alone is enough. Costs one `timerfd_settime` when the earliest
    /// deadline moves. Off by default.
    public var fdOnlyMode: Bool {
        get { fdOnly.load(ordering: .relaxed) }
        set {
            assertOnReactorThread()
            guard newValue != fdOnlyMode else { return }
            if newValue {
                guard let timerFD = try? TimerFD(reactor: self) else { return }
                self.timerFD = timerFD
                fdOnly.store(true, ordering: .relaxed)
                if isStepping {
                    armTimerFD()
                } else {
                    // A step puts the timerfd in libev's epoll set; it must not make this thread
                    // the reactor's (it may be set up here and stepped on a host's thread).
                    let claimed = hasStepped
                    try? step(timeout: 0)
                    if !claimed {
                        hasStepped = false
                        owner.store(Reactor.unclaimed, ordering: .relaxed)
                    }
                }
            } else {
                fdOnly.store(false, ordering: .relaxed)
                timerFD = nil
            }
        }
    }
}

extension TimerHeap {
    /// Sequence numbers below this belong to timers inserted before now.
    var sequenceWatermark: UInt64 { nextSequenceNumber }

    func hasExpired(now: UInt64) -> Bool {
        guard let deadline = firstDeadline else { return false }
        return deadline <= now
    }

    mutating func popExpired(now: UInt64, before watermark: UInt64) -> ReactorTimer? {
        guard hasExpired(now: now), let head = first, head.sequence < watermark else { return nil }
        remove(head)
        return head
    }
}

extension Reactor: Pollable {}
