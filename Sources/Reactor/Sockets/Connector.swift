import Glibc

/// Opens a TCP connection: resolves the host off the reactor's thread, then races its addresses
/// the Happy Eyeballs way (RFC 8305, `HappyEyeballs`): families interleaved, a new attempt every
/// `attemptDelay` seconds or as soon as the last one fails, the first to connect wins and the
/// others are closed. All under one deadline. A failure names the phase and the reason
/// (`connect to 127.0.0.1:9 refused`, `example.test:80: timed out after 2.0 s during connect`).
///
/// A host name asked for with `AF_UNSPEC` is two lookups, AAAA and A, each on its own worker
/// thread (RFC 8305 §3): attempts start on the first positive answer (after the Resolution Delay
/// if that is the A answer), and the other family's addresses join the list when they come. One
/// family failing or empty is no failure while the other has addresses. When both fail, the
/// error is the A lookup's, unless that only says "no address" and the AAAA lookup's says why it
/// failed; once an attempt has failed, its connect error is reported instead, as the more
/// telling one. The lookup still in flight when the connect finishes (won, failed, timed out or
/// cancelled) is cancelled: its result, when it comes, runs nothing.
final class Connector {
    /// One connect in flight.
    private struct Attempt {
        let fd: Int32
        let address: SocketAddress
        let watcher: IOWatcher
    }

    private let reactor: Reactor
    private let host: String
    private let port: UInt16
    private let family: Int32
    private let bind: SocketAddress?
    private let v6only: Bool?
    private let timeout: Double?
    private let attemptDelay: Double
    private let resolver: Resolver
    private var completion: ((Result<StreamSocket, SocketError>) -> Void)?
    /// The name lookups in flight by the family they ask for (`AF_INET6` and `AF_INET`, or the
    /// one `family`), cancelled by `cleanUp` so that a late result holds nothing.
    private var lookups: [Int32: ResolverLookup] = [:]
    /// Why each lookup that found nothing failed, by the family it asked for.
    private var lookupErrors: [Int32: SocketError] = [:]
    /// Whether the host is looked up per family (RFC 8305 §3) rather than in one lookup.
    private var perFamily = false
    /// Waits for the AAAA answer after the A answer came first (RFC 8305 §3).
    private var resolutionDelayTimer: ReactorTimer?
    /// Attempts have begun: answers coming now join the race instead of starting it.
    private var isConnecting = false
    /// The addresses not yet tried, in the order to try them (`HappyEyeballs.attemptOrder`).
    private var untried: [SocketAddress] = []
    /// The family of the address tried last, which the interleaving goes on from.
    private var lastFamily: Int32?
    private var attempts: [Attempt] = []
    /// Starts the next attempt beside the ones in flight (RFC 8305 §5).
    private var attemptTimer: ReactorTimer?
    private var deadlineTimer: ReactorTimer?
    private var phase = "DNS"
    private var lastError: SocketError?

    init(
        host: String, port: UInt16, family: Int32, bind: SocketAddress?, v6only: Bool? = nil, timeout: Double?,
        attemptDelay: Double = HappyEyeballs.defaultAttemptDelay, resolver: Resolver, on reactor: Reactor,
        completion: @escaping (Result<StreamSocket, SocketError>) -> Void
    ) {
        self.reactor = reactor
        self.host = host
        self.port = port
        self.family = family
        self.bind = bind
        self.v6only = v6only
        self.timeout = timeout
        let range = HappyEyeballs.attemptDelayRange
        self.attemptDelay =
            attemptDelay.isNaN
            ? HappyEyeballs.defaultAttemptDelay
            : Swift.min(Swift.max(attemptDelay, range.lowerBound), range.upperBound)
        self.resolver = resolver
        self.completion = completion
    }

    private var target: String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    func start() {
        if let timeout {
            deadlineTimer = reactor.schedule(after: timeout) { [self] _ in
                finish(.failure(.timedOut(target: target, phase: phase, seconds: timeout)))
            }
        }
        // RFC 8305 §3: "When a client has both IPv4 and IPv6 connectivity and is trying to
        // establish a connection with a named host, it needs to send out both AAAA and A DNS
        // queries. Both queries SHOULD be made as soon after one another as possible, with the
        // AAAA query made first and immediately followed by the A query." [...] "this behavior can
        // be simulated by making two separate synchronous queries on different threads, one per
        // address family." An IP literal needs no query; a family asked for is that one query.
        perFamily = family == AF_UNSPEC && SocketAddress(ipLiteral: host, port: port) == nil
        for asked in perFamily ? [AF_INET6, AF_INET] : [family] {
            // The completion never runs before `resolve` returns (a literal's answer comes from
            // `soon`, a worker's through the inbox), so the lookup is in the table by then.
            lookups[asked] = resolver.resolve(host: host, port: port, family: asked, on: reactor) {
                [self] result in answered(asked, result)
            }
        }
    }

    /// One lookup's answer, `asked` being the family it asked for.
    private func answered(_ asked: Int32, _ result: Result<[SocketAddress], SocketError>) {
        lookups[asked] = nil
        guard completion != nil else { return }
        let found: [SocketAddress]
        switch result {
        case .success(let addresses) where !addresses.isEmpty:
            found = addresses.filter { !untried.contains($0) }
        case .success:
            lookupErrors[asked] = .noAddresses(host: host)
            return noAddressesFrom(asked)
        case .failure(let error):
            lookupErrors[asked] = error
            return noAddressesFrom(asked)
        }
        // Nothing tried yet: a per-family lookup prefers IPv6 (RFC 8305 §3, below); one lookup
        // keeps `getaddrinfo`'s first family (RFC 6724). Otherwise the family not tried last.
        let lead = lastFamily.map { $0 == AF_INET6 ? AF_INET : AF_INET6 } ?? (perFamily ? AF_INET6 : nil)
        untried = HappyEyeballs.attemptOrder(untried + found, startingWith: lead)
        if isConnecting {
            // RFC 8305 §6: "If an address is added to the list, it should be sorted into the list
            // of addresses not yet attempted". It starts when the attempt delay since the last
            // attempt has passed (the timer is gone), or at once when nothing is in flight; with
            // a port to bind, only when nothing is in flight (`startAttempt`).
            if attemptTimer == nil && (attempts.isEmpty || !bindsPort) { startNextAttempt() }
        } else if asked == AF_INET && lookups[AF_INET6] != nil {
            // RFC 8305 §3: "If a positive A response is received first due to reordering, the
            // client SHOULD wait a short time for the AAAA response to ensure that preference is
            // given to IPv6". Until then the phase stays "DNS".
            resolutionDelayTimer = reactor.schedule(after: HappyEyeballs.resolutionDelay) { [self] _ in
                // RFC 8305 §3: "If [...] the AAAA response has not been received by the end of
                // the Resolution Delay period, the client SHOULD proceed to sorting addresses
                // [...] and staggered connection attempts [...] using any IPv4 addresses
                // returned so far."
                beginConnecting()
            }
        } else {
            // RFC 8305 §3: "if a positive AAAA response (a response with at least one valid AAAA
            // record) is received first, the first IPv6 connection attempt is immediately
            // started." [...] "If a positive AAAA response is received within the Resolution
            // Delay period, the client immediately starts the IPv6 connection attempt." (Also
            // the one lookup's answer, or the A answer after the AAAA lookup found nothing.)
            beginConnecting()
        }
    }

    /// The lookup for `asked` found nothing usable (its error is in `lookupErrors`).
    private func noAddressesFrom(_ asked: Int32) {
        if isConnecting {
            // Nothing in flight and nothing more to come: `startNextAttempt` reports the failure.
            if attempts.isEmpty && lookups.isEmpty { startNextAttempt() }
        } else if !untried.isEmpty {
            // RFC 8305 §3: "If a negative AAAA response (no error, no data) is received within
            // the Resolution Delay period [...], the client SHOULD proceed [...] using any IPv4
            // addresses returned so far." A failed AAAA lookup is treated the same.
            beginConnecting()
        } else if lookups.isEmpty {
            finish(.failure(lookupError))
        }
    }

    /// Starts the attempts on the addresses found so far.
    private func beginConnecting() {
        resolutionDelayTimer?.cancel()
        resolutionDelayTimer = nil
        isConnecting = true
        phase = "connect"
        startNextAttempt()
    }

    /// Two sockets cannot bind one local port: with a port to bind, attempts go one at a time.
    private var bindsPort: Bool { (bind?.port ?? 0) != 0 }

    /// The error to report when no lookup found an address: the A lookup's (or the one
    /// lookup's), unless it is only `.noAddresses` and the AAAA lookup's says more.
    private var lookupError: SocketError {
        let errors = [AF_INET, family, AF_INET6].compactMap { lookupErrors[$0] }
        return errors.first { if case .noAddresses = $0 { false } else { true } } ?? errors.first
            ?? .noAddresses(host: host)
    }

    /// Abandons the attempt (the completion is not called).
    func cancel() {
        completion = nil
        cleanUp()
    }

    /// Starts a connect to the next address that gets as far as "in progress", leaving the
    /// attempts in flight running; fails when none is left, none is in flight and no lookup is
    /// still to answer (while one is, the phase is "DNS" again).
    private func startNextAttempt() {
        attemptTimer?.cancel()
        attemptTimer = nil
        while !untried.isEmpty {
            let address = untried.removeFirst()
            lastFamily = address.family
            do {
                if try startAttempt(to: address) { return }
            } catch let error as SocketError {
                lastError = error
            } catch {
                lastError = .connectFailed(target: address.description, errno: EINVAL)
            }
        }
        guard attempts.isEmpty else { return }
        if lookups.isEmpty {
            finish(.failure(lastError ?? lookupError))
        } else {
            phase = "DNS"
        }
    }

    /// Opens a socket and starts connecting it to `address`. Returns true once the connection is
    /// made (the connector finished) or in progress.
    private func startAttempt(to address: SocketAddress) throws -> Bool {
        let fd = try Socket.make(family: address.family)
        do {
            if let v6only, address.family == AF_INET6 {
                // RFC 3493 §5.3: with IPV6_V6ONLY an IPv6 socket cannot reach IPv4-mapped
                // addresses; nil leaves the system default (net.ipv6.bindv6only).
                Socket.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, v6only ? 1 : 0)
            }
            if let bind { try Socket.bind(fd, to: bind) }
            if try Socket.startConnect(fd, to: address) {
                connected(fd, to: address)
                return true
            }
        } catch {
            close(fd)
            throw error
        }
        // The watchers and timers hold the connector until it finishes (`cleanUp` lets go).
        let watcher = reactor.watch(fd: fd, events: .write) { [self] _ in attemptFinished(fd) }
        attempts.append(Attempt(fd: fd, address: address, watcher: watcher))
        phase = "connect"
        // Two sockets cannot bind one local port: with a port to bind, attempts go one at a time
        // (the next when this one fails), or the later addresses would all fail to bind. While a
        // lookup is still out, the timer runs too: once it has fired, its addresses start as
        // soon as they come (RFC 8305 §5's delay counts from this attempt's start).
        if (!untried.isEmpty || !lookups.isEmpty) && !bindsPort {
            attemptTimer = reactor.schedule(after: attemptDelay) { [self] _ in startNextAttempt() }
        }
        return true
    }

    /// The connect on `fd` completed, one way or the other.
    private func attemptFinished(_ fd: Int32) {
        guard let index = attempts.firstIndex(where: { $0.fd == fd }) else { return }
        let attempt = attempts.remove(at: index)
        attempt.watcher.cancel()
        let error = Socket.pendingError(fd)
        guard error != 0 else {
            connected(fd, to: attempt.address)
            return
        }
        close(fd)
        lastError = .connectFailed(target: attempt.address.description, errno: error)
        // RFC 8305 §5: a failed attempt starts the next one at once rather than at the delay.
        startNextAttempt()
    }

    private func connected(_ fd: Int32, to address: SocketAddress) {
        let socket = StreamSocket(nonBlocking: fd, isTCP: address.family != AF_UNIX, on: reactor)
        finish(.success(socket))
    }

    private func finish(_ result: Result<StreamSocket, SocketError>) {
        guard let completion else {
            if case .success(let socket) = result { socket.close() }
            return
        }
        self.completion = nil
        cleanUp()
        completion(result)
    }

    /// Cancels the lookup, stops the timers and closes the attempts still in flight (losers of
    /// the race, or all of them on a timeout or cancel).
    private func cleanUp() {
        for lookup in lookups.values { lookup.cancel() }
        lookups.removeAll()
        resolutionDelayTimer?.cancel()
        resolutionDelayTimer = nil
        deadlineTimer?.cancel()
        deadlineTimer = nil
        attemptTimer?.cancel()
        attemptTimer = nil
        for attempt in attempts {
            attempt.watcher.cancel()
            close(attempt.fd)
        }
        attempts.removeAll()
    }
}

extension StreamSocket {
    /// Connects to `host` (a name or an IP literal) and `port`, with one `timeout` over DNS and
    /// connect; `completion` runs on the reactor's thread. `bind` picks the local address;
    /// `v6only` sets `IPV6_V6ONLY` on IPv6 sockets (nil: the system default); `resolver` looks
    /// the name up (with `AF_UNSPEC`, AAAA and A apart, RFC 8305 §3). A host with several
    /// addresses is raced Happy Eyeballs style: a new attempt starts every `attemptDelay`
    /// seconds (kept within 0.1–2 s, RFC 8305 §5) while earlier ones are in flight, and the
    /// first to connect wins.
    public static func connect(
        host: String, port: UInt16, family: Int32 = AF_UNSPEC, bind: SocketAddress? = nil, v6only: Bool? = nil,
        resolver: Resolver = .shared, attemptDelay: Double = HappyEyeballs.defaultAttemptDelay, on reactor: Reactor,
        timeout: Double? = nil, completion: @escaping (Result<StreamSocket, SocketError>) -> Void
    ) {
        Connector(
            host: host, port: port, family: family, bind: bind, v6only: v6only, timeout: timeout,
            attemptDelay: attemptDelay, resolver: resolver, on: reactor, completion: completion
        ).start()
    }

    /// Connects from a task (see the callback form).
    public static func connect(
        host: String, port: UInt16, family: Int32 = AF_UNSPEC, bind: SocketAddress? = nil, v6only: Bool? = nil,
        resolver: Resolver = .shared, attemptDelay: Double = HappyEyeballs.defaultAttemptDelay, on reactor: Reactor,
        timeout: Double? = nil
    ) async throws -> StreamSocket {
        try await reactor.suspend("connect to \(host):\(port)") {
            (suspension: Suspension<StreamSocket>) in
            let connector = Connector(
                host: host, port: port, family: family, bind: bind, v6only: v6only, timeout: timeout,
                attemptDelay: attemptDelay, resolver: resolver, on: reactor
            ) { result in
                switch result {
                case .success(let socket): suspension.resume(returning: socket)
                case .failure(let error): suspension.resume(throwing: error)
                }
            }
            connector.start()
            return { connector.cancel() }
        }
    }

    /// Connects to a Unix-domain socket.
    public static func connect(unixPath path: String, on reactor: Reactor, timeout: Double? = nil)
        async throws
        -> StreamSocket
    {
        let fd = try Socket.make(family: AF_UNIX)
        do {
            if try Socket.startConnect(fd, to: .unix(path: path)) {
                return StreamSocket(adopting: fd, on: reactor)
            }
            _ = try await reactor.wait(for: .write, on: fd, timeout: timeout)
            let error = Socket.pendingError(fd)
            guard error == 0 else {
                throw SocketError.connectFailed(target: "unix:\(path)", errno: error)
            }
            return StreamSocket(adopting: fd, on: reactor)
        } catch let error as ReactorError {
            Glibc.close(fd)
            if case .timedOut = error {
                throw SocketError.timedOut(target: "unix:\(path)", phase: "connect", seconds: timeout ?? 0)
            }
            throw error
        } catch {
            Glibc.close(fd)
            throw error
        }
    }
}
