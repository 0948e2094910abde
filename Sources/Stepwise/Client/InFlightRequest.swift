public import HTTPCore
public import Reactor

/// A request on its way: the callback and foreign-loop form of `Request.go`.
///
/// `Request.start(on:timeout:)` begins the exchange as a task on the reactor and returns at
/// once. The handle is `Pollable` like every Stepwise object: a host loop waits on `pollfd()`
/// for `events()` up to `timeout()`, calls `step(timeout: 0)`, and reads `result` once
/// `isFinished`. `onFinish` (set before the first step) hears the outcome on the reactor's thread
/// instead. The request's one deadline covers every phase up to the response headers, as for
/// `go`; the body is read from the stream afterwards with its own timeouts.
///
/// ```swift
/// let inFlight = request.start(on: reactor, timeout: 10)
/// while !inFlight.isFinished {
///     var fds = [pollfd(fd: inFlight.pollfd(), events: inFlight.events().rawValue, revents: 0)]
///     poll(&fds, 1, inFlight.timeoutMilliseconds())
///     try inFlight.step(timeout: 0)
/// }
/// let (headers, stream) = try inFlight.result!.get()
/// ```
public final class InFlightRequest: Pollable, @unchecked Sendable {
    public let request: Request
    public let reactor: Reactor
    /// The response head and the stream to read its body from, or why there is none; nil while
    /// the exchange is in progress. A stream dropped unread (with this handle) is abandoned, as
    /// `go`'s is: its connection closes.
    public private(set) var result: Result<(Headers, any HTTPStream), any Error>?
    /// Called once on the reactor's thread with `result`.
    public var onFinish: ((Result<(Headers, any HTTPStream), any Error>) -> Void)?
    private var task: Task<Void, any Error>?

    init(request: Request, reactor: Reactor) {
        self.request = request
        self.reactor = reactor
    }

    /// Begins the exchange; called once, on the reactor's thread.
    func begin(timeout: Double?) {
        task = reactor.spawn { [self] in
            let outcome: Result<(Headers, any HTTPStream), any Error>
            do {
                outcome = .success(try await request.go(on: reactor, timeout: timeout))
            } catch {
                outcome = .failure(error)
            }
            finish(outcome)
        }
    }

    private func finish(_ outcome: Result<(Headers, any HTTPStream), any Error>) {
        guard result == nil else {
            // Cancelled first: nobody will read this stream.
            if case .success((_, let stream)) = outcome { stream.shutdown() }
            return
        }
        result = outcome
        task = nil
        let onFinish = self.onFinish
        self.onFinish = nil
        onFinish?(outcome)
    }

    /// Whether `result` is set.
    public var isFinished: Bool { result != nil }

    /// Gives up: the exchange stops at its next suspension point and `result` becomes a
    /// `CancellationError` now (`onFinish` hears it). No effect once finished.
    public func cancel() {
        guard result == nil else { return }
        task?.cancel()
        finish(.failure(CancellationError()))
    }

    /// Steps the reactor until the response headers arrived (or the exchange failed), at most
    /// `timeout` seconds; returns `result` (nil on timeout). Not from inside a reactor callback
    /// or task (`ReactorError.reentrantStep`): await `go` there.
    ///
    /// Unless finished already, it steps at least once, without waiting when `timeout` is 0, and
    /// looks at the deadline after that (as `Reactor.loop` does): a host calling `loop(timeout:
    /// 0)` once a frame moves the exchange on every frame. Unlike `Reactor.loop` it does not
    /// heed `stopLoop()`, which stays for the next `Reactor.loop`.
    @discardableResult
    public func loop(timeout: Double? = nil) throws -> Result<(Headers, any HTTPStream), any Error>? {
        let deadline = Deadline(timeout)
        var wait = deadline.remainingOrZero
        while result == nil {
            try reactor.step(timeout: wait)
            do { wait = try deadline.remaining("InFlightRequest.loop") } catch { break }
        }
        return result
    }

    // MARK: - Pollable: the reactor's face (the exchange's sockets, timers and tasks live there)

    // Finished or not, these are the reactor's: `result` is set inside a step (or by `cancel()`,
    // which the host itself called), so a host checks `isFinished` after stepping and needs no
    // early wake-up for it. A finished handle that said `timeout() == 0` made a host reading the
    // body through it (or one that kept it registered) spin until it let go.

    public func pollfd() -> Int32 { reactor.pollfd() }
    public func events() -> PollEvents { reactor.events() }
    public func timeout() -> Double? { reactor.timeout() }
    public func step(timeout: Double?) throws { try reactor.step(timeout: timeout) }
}

extension Request {
    /// Starts `go(on:timeout:)` and returns at once with a handle to poll, step or cancel. Call
    /// on the reactor's thread (or before the reactor runs).
    public func start(on reactor: Reactor, timeout: Double? = nil) -> InFlightRequest {
        let inFlight = InFlightRequest(request: self, reactor: reactor)
        inFlight.begin(timeout: timeout)
        return inFlight
    }

    /// The callback form of `go`: `completion` runs on the reactor's thread with the response
    /// head and stream, or the error.
    @discardableResult
    public func go(
        on reactor: Reactor, timeout: Double? = nil,
        completion: @escaping (Result<(Headers, any HTTPStream), any Error>) -> Void
    ) -> InFlightRequest {
        let inFlight = InFlightRequest(request: self, reactor: reactor)
        inFlight.onFinish = completion
        inFlight.begin(timeout: timeout)
        return inFlight
    }
}
