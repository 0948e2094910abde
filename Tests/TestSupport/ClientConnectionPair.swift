import HTTPCore
import Reactor

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `body` on a new reactor with a started client `H1Connection` over a socket pair, and the
/// raw peer's fd (both closed afterwards).
public func withClientConnection<T: Sendable>(
    version: HTTP1Version = .http11, options: H1ConnectionOptions = H1ConnectionOptions(),
    _ body: @escaping @Sendable (H1Connection, Int32, Reactor) async throws -> T
) throws -> T {
    let reactor = try Reactor()
    var fds: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
        throw SocketPairError(errno: errno)
    }
    let client = H1Connection(
        socket: StreamSocket(adopting: fds[0], on: reactor), type: .client, version: version, options: options)
    let peer = fds[1]
    defer {
        client.close()
        close(peer)
    }
    try client.start()
    return try reactor.run(timeout: 10) { try await body(client, peer, reactor) }
}

/// `socketpair` failed.
public struct SocketPairError: Error {
    public let errno: Int32
}

/// Sends `GET /` (authority `t`) on a new stream of `client` and flushes it: the request a test
/// peer answers.
public func sendGET(on client: H1Connection) async throws -> H1Stream {
    guard let stream = client.newStream() else { throw H1StreamUnavailable() }
    var headers = Headers()
    headers.append(":method", "GET")
    headers.append(":path", "/")
    headers.append(":authority", "t")
    try stream.writeHeaders(headers, endStream: true)
    try await client.flush(timeout: 1)
    return stream
}

/// `newStream()` returned nil.
public struct H1StreamUnavailable: Error {}
