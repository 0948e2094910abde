import Synchronization

/// A name lookup in flight (`Resolver.resolve`): its completion, until that runs or whoever
/// asked gives up (`cancel()`). The worker thread doing the lookup holds it, then the reactor's
/// inbox until a step delivers the result. Were that the completion itself, whatever it holds (a
/// connector, and through it the reactor) would wait in the reactor's own inbox: a reactor
/// dropped after its connect timed out in DNS would be part of a cycle nothing breaks.
///
/// Touched only on the reactor's thread, but for `isCancelled`, which the worker reads.
public final class ResolverLookup: @unchecked Sendable {
    private var completion: ((Result<[SocketAddress], SocketError>) -> Void)?
    /// Set by `cancel()`: a worker that has not started the lookup yet skips it, so that lookups
    /// given up on (a connect won on the other family, timed out, cancelled) do not hold the
    /// resolver's few threads while later ones wait.
    private let cancelled = Atomic<Bool>(false)
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    /// The reactor whose `empty()` this lookup keeps false until its result is delivered or it
    /// is cancelled (`Reactor.lookupsInFlight`), as a blocking job does: a `loop()` that
    /// returned meanwhile would never deliver it. Held unowned, valid while `lifeline.isAlive`
    /// (the worker and the inbox hold the lookup, and must not keep the reactor alive).
    private unowned(unsafe) var heldReactor: Reactor?
    private var lifeline: ReactorLifeline?

    init(_ completion: @escaping (Result<[SocketAddress], SocketError>) -> Void) {
        self.completion = completion
    }

    /// Counts the lookup in `reactor.empty()` until it ends (a worker thread runs it).
    func holdLoop(of reactor: Reactor) {
        reactor.lookupsInFlight += 1
        heldReactor = reactor
        lifeline = reactor.lifeline
    }

    private func releaseLoop() {
        guard let lifeline else { return }
        self.lifeline = nil
        if lifeline.isAlive, let heldReactor { heldReactor.lookupsInFlight -= 1 }
        heldReactor = nil
    }

    /// Drops the completion, which then never runs. A lookup not started yet is not made; one
    /// under way runs to its end.
    public func cancel() {
        completion = nil
        cancelled.store(true, ordering: .relaxed)
        // Nothing is left to deliver: the reactor's loop need not wait for the thread.
        releaseLoop()
    }

    /// Runs the completion, unless cancelled.
    func deliver(_ result: Result<[SocketAddress], SocketError>) {
        guard let completion else { return }
        self.completion = nil
        releaseLoop()
        completion(result)
    }
}
