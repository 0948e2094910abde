internal import CLibev
import Glibc

/// Where and how to listen: TCP on `host`/`port`, or a Unix socket at `path`.
public struct ListenOptions: Sendable {
    /// An IP literal, or a name (resolved off the reactor thread by the async `listen`). Nil:
    /// all addresses of `family` (IPv6 `::` when the family is `AF_INET6`, else `0.0.0.0`).
    public var host: String?
    /// 0 picks an ephemeral port (read it back with `localname()`).
    public var port: UInt16 = 0
    /// A Unix-domain socket path (instead of host and port).
    public var path: String?
    /// `AF_UNSPEC`, `AF_INET` or `AF_INET6`.
    public var family: Int32 = AF_UNSPEC
    /// IPv6 only (no IPv4-mapped addresses). Default false.
    public var v6only = false
    /// `SO_REUSEADDR`. Default true (restart without waiting out TIME_WAIT).
    public var reuseAddress = true
    /// `SO_REUSEPORT`. Default false.
    public var reusePort = false
    /// The accept queue length. Default 511 (nginx's).
    public var backlog: Int32 = 511
    /// Unix sockets: `chmod` the socket file to this mode after binding.
    public var mode: UInt32?
    /// Unix sockets: the umask to set while binding (restored afterwards).
    public var mask: UInt32?
    /// Unix sockets: remove a stale socket file before binding (only a socket: any other file
    /// at the path stays, and binding fails). Default false.
    public var unlink = false

    public init(host: String? = nil, port: UInt16 = 0) {
        self.host = host
        self.port = port
    }

    public init(path: String, mode: UInt32? = nil, mask: UInt32? = nil, unlink: Bool = false) {
        self.path = path
        self.mode = mode
        self.mask = mask
        self.unlink = unlink
    }
}

/// A listening socket on a reactor. Set `onAccept` to accept with callbacks, or `await accept()`.
public final class Listener: @unchecked Sendable {
    public let reactor: Reactor
    public private(set) var fd: Int32
    private var watcher: IOWatcher?
    private var paused = false
    private var acceptWaiters: [Suspension<StreamSocket>] = []
    private var emfileBackoff: ReactorTimer?
    /// Out of descriptors was reported, and no connection was accepted since: the back-off
    /// retries every 30 ms, and reporting each retry would flood the log.
    private var outOfDescriptorsReported = false
    /// Why the socket can accept no more (it was shut down, or is not a listening socket any
    /// more): reported once, then the listener stops watching it and `accept()` throws this.
    private var unusable: SocketError?
    /// Whether accepted connections are TCP (they get `TCP_NODELAY`), not Unix-domain.
    private let acceptsTCP: Bool

    /// Called with each accepted connection.
    public var onAccept: ((StreamSocket) -> Void)? {
        didSet { updateInterest() }
    }
    /// Called when accepting failed (the listener keeps going). Out of descriptors (EMFILE,
    /// ENFILE, ENOBUFS, ENOMEM), it retries every 30 ms and reports once until it accepts again.
    /// A socket that cannot accept at all any more (EINVAL: it was shut down, by this process or
    /// another holding it; EBADF, ENOTSOCK) is reported once, and the listener stops accepting.
    public var onError: ((SocketError) -> Void)?

    /// Listens on an IP literal (or all addresses) or a Unix path, now.
    public static func listen(_ options: ListenOptions, on reactor: Reactor) throws -> Listener {
        if let path = options.path { return try listenUnix(path, options, on: reactor) }
        let address = try literalAddress(options)
        return try listen(on: address, options, reactor)
    }

    /// Listens, resolving a host name off the reactor's thread first.
    public static func listen(
        resolving options: ListenOptions, on reactor: Reactor, timeout: Double? = nil
    ) async throws
        -> Listener
    {
        if options.path != nil
            || options.host.map({ SocketAddress(ipLiteral: $0, port: 0) != nil }) ?? true
        {
            return try listen(options, on: reactor)
        }
        let addresses = try await Resolver.shared.resolve(
            host: options.host!, port: options.port, family: options.family, on: reactor, timeout: timeout
        )
        return try listen(on: addresses[0], options, reactor)
    }

    private static func literalAddress(_ options: ListenOptions) throws -> SocketAddress {
        guard let host = options.host else {
            return options.family == AF_INET6
                ? .ipv6(address: "::", port: options.port, scopeID: 0)
                : .ipv4(address: "0.0.0.0", port: options.port)
        }
        guard let address = SocketAddress(ipLiteral: host, port: options.port) else {
            throw SocketError.invalidAddress(
                "\(host) is not an IP literal (use the async listen to resolve names)")
        }
        guard options.family == AF_UNSPEC || options.family == address.family else {
            throw SocketError.invalidAddress("\(host) is not of the requested address family")
        }
        return address
    }

    private static func listen(
        on address: SocketAddress, _ options: ListenOptions, _ reactor: Reactor
    ) throws
        -> Listener
    {
        let fd = try Socket.make(family: address.family)
        do {
            if options.reuseAddress { Socket.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1) }
            if options.reusePort { Socket.setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
            if address.family == AF_INET6 {
                Socket.setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, options.v6only ? 1 : 0)
            }
            try Socket.bind(fd, to: address)
            guard Glibc.listen(fd, options.backlog) == 0 else {
                throw SocketError.last("listen on \(address)")
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return Listener(fd: fd, reactor: reactor)
    }

    private static func listenUnix(_ path: String, _ options: ListenOptions, on reactor: Reactor)
        throws -> Listener
    {
        let fd = try Socket.make(family: AF_UNIX)
        do {
            if options.unlink { try removeStaleSocket(at: path) }
            let saved = options.mask.map { umask($0) }
            defer { if let saved { umask(saved) } }
            try Socket.bind(fd, to: .unix(path: path))
            if let mode = options.mode, chmod(path, mode) != 0 { throw SocketError.last("chmod \(path)") }
            guard Glibc.listen(fd, options.backlog) == 0 else {
                throw SocketError.last("listen on \(path)")
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return Listener(fd: fd, reactor: reactor)
    }

    /// Removes a socket file left at `path` by an earlier listener. Anything else there (a
    /// regular file, a directory, a symlink) is not stale: it stays, and binding then fails.
    private static func removeStaleSocket(at path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { return }
        guard Glibc.unlink(path) == 0 || errno == ENOENT else { throw SocketError.last("unlink \(path)") }
    }

    /// Adopts a listening socket fd (systemd, inetd).
    public init(fd: Int32, reactor: Reactor) {
        self.fd = fd
        self.reactor = reactor
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
        acceptsTCP = Socket.localName(fd).family != AF_UNIX
        watcher = reactor.watch(fd: fd, events: []) { [unowned self] _ in self.acceptReady() }
    }

    deinit { close() }

    public func localname() -> SocketName { fd >= 0 ? Socket.localName(fd) : .unspecified }

    /// Stops accepting (connections wait in the kernel's queue); `resume()` continues.
    public func pause() {
        paused = true
        updateInterest()
    }

    public func resume() {
        paused = false
        updateInterest()
    }

    public var isClosed: Bool { fd < 0 }

    /// Closes the listening socket; waiting `accept` calls get `SocketError.closed`.
    public func close() {
        guard fd >= 0 else { return }
        emfileBackoff?.cancel()
        watcher?.cancel()
        watcher = nil
        Glibc.close(fd)
        fd = -1
        let waiters = acceptWaiters
        acceptWaiters.removeAll()
        for waiter in waiters { waiter.resume(throwing: SocketError.closed) }
    }

    /// Waits for the next connection.
    public func accept(timeout: Double? = nil) async throws -> StreamSocket {
        guard fd >= 0 else { throw SocketError.closed }
        if let unusable { throw unusable }
        return try await reactor.suspend("accept", timeout: timeout) {
            (suspension: Suspension<StreamSocket>) in
            self.acceptWaiters.append(suspension)
            self.updateInterest()
            return { [weak self] in
                self?.acceptWaiters.removeAll { $0 === suspension }
                self?.updateInterest()
            }
        }
    }

    private func updateInterest() {
        let wanted =
            !paused && emfileBackoff == nil && unusable == nil && (onAccept != nil || !acceptWaiters.isEmpty)
        watcher?.events = wanted ? .read : []
    }

    /// The socket can accept no more: no more watching, waiting `accept` calls fail.
    private func stopAccepting(_ error: SocketError) {
        unusable = error
        updateInterest()
        let waiters = acceptWaiters
        acceptWaiters.removeAll()
        for waiter in waiters { waiter.resume(throwing: error) }
        onError?(error)
    }

    /// Accepts what the kernel queued, up to 64 connections per wake-up.
    private func acceptReady() {
        for _ in 0..<64 {
            guard fd >= 0, !paused, unusable == nil, onAccept != nil || !acceptWaiters.isEmpty else { return }
            let client = evshim_accept4(fd, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
            if client < 0 {
                switch errno {
                case EAGAIN, EWOULDBLOCK: return
                case EINTR, ECONNABORTED, EPROTO: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors: stop accepting for a moment instead of spinning on a
                    // listener that stays readable. Reported once until a connection is accepted.
                    let error = SocketError.last("accept")
                    if !outOfDescriptorsReported {
                        outOfDescriptorsReported = true
                        onError?(error)
                    }
                    emfileBackoff = reactor.schedule(after: 0.030) { [weak self] _ in
                        self?.emfileBackoff = nil
                        self?.updateInterest()
                    }
                    updateInterest()
                    return
                case EINVAL, EBADF, ENOTSOCK:
                    // accept(2): EINVAL "Socket is not listening for connections". A listening
                    // socket that was shut down (`shutdown(2)`, here or by another process that
                    // holds it, as after socket activation) stays readable for good (its poll
                    // says EPOLLHUP), so retrying would spin: stop, and say so once.
                    stopAccepting(SocketError.last("accept"))
                    return
                default:
                    onError?(.last("accept"))
                    return
                }
            }
            outOfDescriptorsReported = false
            let socket = StreamSocket(nonBlocking: client, isTCP: acceptsTCP, on: reactor)
            if !acceptWaiters.isEmpty {
                acceptWaiters.removeFirst().resume(returning: socket)
                updateInterest()
            } else {
                onAccept?(socket)
            }
        }
    }
}
