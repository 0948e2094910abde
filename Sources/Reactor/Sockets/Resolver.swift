import Glibc

/// Name resolution that never blocks the reactor: `getaddrinfo` (which reads `/etc/hosts`,
/// `nsswitch.conf` and DNS) runs on a small pool of worker threads, and each result comes back
/// to the reactor's thread through `Reactor.execute`, so timers keep firing on time while a
/// lookup runs. IP literals are answered at once, without a thread.
///
/// `StreamSocket.connect` to a host name with `AF_UNSPEC` asks twice, once per family (`AF_INET6`,
/// then `AF_INET`), so that the two answers run side by side on two threads and the connect can
/// start on the first (RFC 8305 §3, `Connector`). `resolve(host:port:family:on:)` asked for
/// `AF_UNSPEC` stays one lookup with one combined answer.
public final class Resolver: @unchecked Sendable {
    /// The process-wide resolver: two worker threads, started on first use.
    public static let shared = Resolver(threads: 2)

    /// Where the lookups run (internal for tests).
    let pool: WorkerPool
    /// A blocking lookup of a host name: `(host, port, family)` to stream-socket addresses, or
    /// the error to report (`SocketError.resolutionFailed`, `.noAddresses`). `family` is
    /// `AF_UNSPEC`, `AF_INET` or `AF_INET6`; a connect asks once with each of the last two.
    public typealias LookUp = @Sendable (String, UInt16, Int32) -> Result<[SocketAddress], SocketError>
    private let lookUp: LookUp

    /// A resolver asking `getaddrinfo` on `threads` worker threads.
    public convenience init(threads: Int) {
        self.init(threads: threads, lookUp: Resolver.getaddrinfo)
    }

    /// A resolver asking `lookUp` instead of `getaddrinfo`: a way to plug in another name
    /// service, such as a static hosts map, a DNS-over-HTTPS client or a test's slow lookup.
    /// `lookUp` runs on one of `threads` worker threads, so it may block; IP literals never reach
    /// it. A connect asks it twice, for `AF_INET6` and `AF_INET`: with one thread the two take
    /// turns (the AAAA lookup first), so a slow one holds the other up; the default of two runs
    /// them side by side. Addresses of another family than the one asked for are dropped, so a
    /// `lookUp` may ignore `family`. Give it to a client with `ClientOptions.resolver` or
    /// `Request.resolver`.
    ///
    /// ```swift
    /// let hosts = ["app.test": "127.0.0.1"]
    /// let resolver = Resolver { host, port, _ in
    ///     guard let address = hosts[host] else { return .failure(.noAddresses(host: host)) }
    ///     return .success([.ipv4(address: address, port: port)])
    /// }
    /// ```
    public init(threads: Int = 2, lookUp: @escaping LookUp) {
        pool = WorkerPool(threads: Swift.max(1, threads))
        self.lookUp = lookUp
    }

    /// Its threads end once the lookups in flight are done (their results still come back).
    deinit { pool.retire() }

    /// Resolves `host` to stream-socket addresses (`family`: `AF_UNSPEC`, `AF_INET` or
    /// `AF_INET6`), in the order `getaddrinfo` prefers, without duplicates. `AF_UNSPEC` is one
    /// lookup answering both families at once (a connect asks per family instead, see the type's
    /// summary); `AF_INET` or `AF_INET6` answers only addresses of that family, or
    /// `.noAddresses`. `completion` runs on the reactor's thread, unless the returned lookup is
    /// cancelled first; until then the reactor is not `empty()`, so its `loop()` waits for it.
    @discardableResult
    public func resolve(
        host: String, port: UInt16, family: Int32 = AF_UNSPEC, on reactor: Reactor,
        completion: @escaping (Result<[SocketAddress], SocketError>) -> Void
    ) -> ResolverLookup {
        let lookup = ResolverLookup(completion)
        if let literal = SocketAddress(ipLiteral: host, port: port) {
            let matches = family == AF_UNSPEC || family == literal.family
            reactor.soon {
                lookup.deliver(matches ? .success([literal]) : .failure(.noAddresses(host: host)))
            }
            return lookup
        }
        lookup.holdLoop(of: reactor)
        let delivery = UncheckedBox(lookup)
        let lookUp = self.lookUp
        // The worker holds the reactor's inbox, not the reactor (as `startBlocking` does), so it
        // keeps no dropped reactor alive; a result for a reactor gone goes away with its inbox.
        let inbox = reactor.inbox
        pool.submit {
            // Given up on while it waited for a thread: no lookup, and nothing to deliver.
            if delivery.value.isCancelled { return }
            var result = lookUp(host, port, family)
            if family != AF_UNSPEC, case .success(let found) = result {
                // A custom `lookUp` may answer every family alike: an AAAA query answers IPv6
                // addresses only (and an A query IPv4 ones), as the literal above does.
                let matching = found.filter { $0.family == family }
                result = matching.isEmpty ? .failure(.noAddresses(host: host)) : .success(matching)
            }
            let answer = result
            inbox.post(.closure({ delivery.value.deliver(answer) }), wake: true)
        }
        return lookup
    }

    /// Resolves `host` from a task (see `resolve(host:port:family:on:completion:)`).
    public func resolve(
        host: String, port: UInt16, family: Int32 = AF_UNSPEC, on reactor: Reactor,
        timeout: Double? = nil
    ) async throws -> [SocketAddress] {
        try await reactor.suspend("DNS lookup of \(host)", timeout: timeout) { suspension in
            let lookup = self.resolve(host: host, port: port, family: family, on: reactor) { result in
                switch result {
                case .success(let addresses): suspension.resume(returning: addresses)
                case .failure(let error): suspension.resume(throwing: error)
                }
            }
            return { lookup.cancel() }
        }
    }

    /// The blocking lookup, run on a worker thread.
    @Sendable
    static func getaddrinfo(host: String, port: UInt16, family: Int32) -> Result<
        [SocketAddress], SocketError
    > {
        var hints = addrinfo()
        hints.ai_family = family
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = Glibc.getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0 else {
            let reason =
                rc == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(rc))
            return .failure(.resolutionFailed(host: host, reason: reason))
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var cursor = list
        while let entry = cursor {
            if let address = entry.pointee.ai_addr,
                let parsed = SocketAddress(address, length: entry.pointee.ai_addrlen),
                !addresses.contains(parsed)
            {
                addresses.append(parsed)
            }
            cursor = entry.pointee.ai_next
        }
        return addresses.isEmpty ? .failure(.noAddresses(host: host)) : .success(addresses)
    }
}
