import Glibc

/// Opens a TCP connection: resolves the host off the reactor's thread, then races its addresses
/// the Happy Eyeballs way (RFC 8305, `HappyEyeballs`): families interleaved, a new attempt every
/// `attemptDelay` seconds or as soon as the last one fails, the first to connect wins and the
/// others are closed. All under one deadline. A failure names the phase and the reason
/// (`connect to 127.0.0.1:9 refused`, `example.test:80: timed out after 2.0 s during connect`).
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
    /// The name lookup in flight, cancelled by `cleanUp` so that its late result holds nothing.
    private var lookup: ResolverLookup?
    private var addresses: [SocketAddress] = []
    private var nextAddress = 0
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
        lookup = resolver.resolve(host: host, port: port, family: family, on: reactor) { [self] result in
            lookup = nil
            guard completion != nil else { return }
            switch result {
            case .success(let found):
                addresses = HappyEyeballs.attemptOrder(found)
                phase = "connect"
                startNextAttempt()
            case .failure(let error):
                finish(.failure(error))
            }
        }
    }

    /// Abandons the attempt (the completion is not called).
    func cancel() {
        completion = nil
        cleanUp()
    }

    /// Starts a connect to the next address that gets as far as "in progress", leaving the
    /// attempts in flight running; fails when none is left and none is in flight.
    private func startNextAttempt() {
        attemptTimer?.cancel()
        attemptTimer = nil
        while nextAddress < addresses.count {
            let address = addresses[nextAddress]
            nextAddress += 1
            do {
                if try startAttempt(to: address) { return }
            } catch let error as SocketError {
                lastError = error
            } catch {
                lastError = .connectFailed(target: address.description, errno: EINVAL)
            }
        }
        if attempts.isEmpty { finish(.failure(lastError ?? .noAddresses(host: host))) }
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
        // Two sockets cannot bind one local port: with a port to bind, attempts go one at a time
        // (the next when this one fails), or the later addresses would all fail to bind.
        if nextAddress < addresses.count && (bind?.port ?? 0) == 0 {
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
        lookup?.cancel()
        lookup = nil
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
    /// the name up. A host with several addresses is raced Happy Eyeballs style: a new attempt
    /// starts every `attemptDelay` seconds (kept within 0.1–2 s, RFC 8305 §5) while earlier
    /// ones are in flight, and the first to connect wins.
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
