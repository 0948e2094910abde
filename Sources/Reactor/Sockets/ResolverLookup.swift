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

    init(_ completion: @escaping (Result<[SocketAddress], SocketError>) -> Void) {
        self.completion = completion
    }

    /// Drops the completion, which then never runs. A lookup not started yet is not made; one
    /// under way runs to its end.
    public func cancel() {
        completion = nil
        cancelled.store(true, ordering: .relaxed)
    }

    /// Runs the completion, unless cancelled.
    func deliver(_ result: Result<[SocketAddress], SocketError>) {
        guard let completion else { return }
        self.completion = nil
        completion(result)
    }
}
