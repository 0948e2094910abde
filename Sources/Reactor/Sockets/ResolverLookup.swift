/// A name lookup in flight (`Resolver.resolve`): its completion, until that runs or whoever
/// asked gives up (`cancel()`). The worker thread doing the lookup holds it, then the reactor's
/// inbox until a step delivers the result. Were that the completion itself, whatever it holds (a
/// connector, and through it the reactor) would wait in the reactor's own inbox: a reactor
/// dropped after its connect timed out in DNS would be part of a cycle nothing breaks.
///
/// Touched only on the reactor's thread.
public final class ResolverLookup: @unchecked Sendable {
    private var completion: ((Result<[SocketAddress], SocketError>) -> Void)?

    init(_ completion: @escaping (Result<[SocketAddress], SocketError>) -> Void) {
        self.completion = completion
    }

    /// Drops the completion, which then never runs; the lookup itself runs to its end.
    public func cancel() {
        completion = nil
    }

    /// Runs the completion, unless cancelled.
    func deliver(_ result: Result<[SocketAddress], SocketError>) {
        guard let completion else { return }
        self.completion = nil
        completion(result)
    }
}
