import Glibc

/// Opens a TCP connection: resolves the host off the reactor's thread, then tries each address
/// in turn, all under one deadline. A failure names the phase and the reason
/// (`connect to 127.0.0.1:9 refused`, `example.test:80: timed out after 2.0 s during connect`).
final class Connector {
    private let reactor: Reactor
    private let host: String
    private let port: UInt16
    private let family: Int32
    private let bind: SocketAddress?
    private let v6only: Bool?
    private let timeout: Double?
    private let resolver: Resolver
    private var completion: ((Result<StreamSocket, SocketError>) -> Void)?
    private var addresses: [SocketAddress] = []
    private var nextAddress = 0
    private var fd: Int32 = -1
    private var watcher: IOWatcher?
    private var timer: ReactorTimer?
    private var phase = "DNS"
    private var lastError: SocketError?

    init(
        host: String, port: UInt16, family: Int32, bind: SocketAddress?, v6only: Bool? = nil, timeout: Double?,
        resolver: Resolver, on reactor: Reactor,
        completion: @escaping (Result<StreamSocket, SocketError>) -> Void
    ) {
        self.reactor = reactor
        self.host = host
        self.port = port
        self.family = family
        self.bind = bind
        self.v6only = v6only
        self.timeout = timeout
        self.resolver = resolver
        self.completion = completion
    }

    private var target: String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    func start() {
        if let timeout {
            timer = reactor.schedule(after: timeout) { [self] _ in
                finish(.failure(.timedOut(target: target, phase: phase, seconds: timeout)))
            }
        }
        resolver.resolve(host: host, port: port, family: family, on: reactor) { [self] result in
            guard completion != nil else { return }
            switch result {
            case .success(let found):
                addresses = found
                phase = "connect"
                tryNextAddress()
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

    private func tryNextAddress() {
        guard nextAddress < addresses.count else {
            finish(.failure(lastError ?? .noAddresses(host: host)))
            return
        }
        let address = addresses[nextAddress]
        nextAddress += 1
        do {
            fd = try Socket.make(family: address.family)
            if let v6only, address.family == AF_INET6 {
                // RFC 3493 §5.3: with IPV6_V6ONLY an IPv6 socket cannot reach IPv4-mapped
                // addresses; nil leaves the system default (net.ipv6.bindv6only).
                Socket.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, v6only ? 1 : 0)
            }
            if let bind { try Socket.bind(fd, to: bind) }
            if try Socket.startConnect(fd, to: address) {
                connected()
                return
            }
            watcher = reactor.watch(fd: fd, events: .write) { [self] _ in
                let error = Socket.pendingError(fd)
                if error == 0 {
                    connected()
                } else {
                    failedAttempt(.connectFailed(target: address.description, errno: error))
                }
            }
        } catch let error as SocketError {
            failedAttempt(error)
        } catch {
            failedAttempt(.connectFailed(target: address.description, errno: EINVAL))
        }
    }

    private func failedAttempt(_ error: SocketError) {
        lastError = error
        watcher?.cancel()
        watcher = nil
        if fd >= 0 { close(fd) }
        fd = -1
        tryNextAddress()
    }

    private func connected() {
        let socket = StreamSocket(adopting: fd, on: reactor)
        fd = -1
        finish(.success(socket))
    }

    private func finish(_ result: Result<StreamSocket, SocketError>) {
        guard let completion else { return }
        self.completion = nil
        cleanUp()
        completion(result)
    }

    /// Stops the timer and watcher and closes a socket that never made it to a `StreamSocket`.
    private func cleanUp() {
        timer?.cancel()
        timer = nil
        watcher?.cancel()
        watcher = nil
        if fd >= 0 {
            close(fd)
            fd = -1
        }
    }
}

extension StreamSocket {
    /// Connects to `host` (a name or an IP literal) and `port`, with one `timeout` over DNS and
    /// connect; `completion` runs on the reactor's thread. `bind` picks the local address;
    /// `v6only` sets `IPV6_V6ONLY` on IPv6 sockets (nil: the system default); `resolver` looks
    /// the name up.
    public static func connect(
        host: String, port: UInt16, family: Int32 = AF_UNSPEC, bind: SocketAddress? = nil, v6only: Bool? = nil,
        resolver: Resolver = .shared, on reactor: Reactor,
        timeout: Double? = nil, completion: @escaping (Result<StreamSocket, SocketError>) -> Void
    ) {
        Connector(
            host: host, port: port, family: family, bind: bind, v6only: v6only, timeout: timeout, resolver: resolver,
            on: reactor, completion: completion
        ).start()
    }

    /// Connects from a task (see the callback form).
    public static func connect(
        host: String, port: UInt16, family: Int32 = AF_UNSPEC, bind: SocketAddress? = nil, v6only: Bool? = nil,
        resolver: Resolver = .shared, on reactor: Reactor,
        timeout: Double? = nil
    ) async throws -> StreamSocket {
        try await reactor.suspend("connect to \(host):\(port)") {
            (suspension: Suspension<StreamSocket>) in
            let connector = Connector(
                host: host, port: port, family: family, bind: bind, v6only: v6only, timeout: timeout,
                resolver: resolver, on: reactor
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
