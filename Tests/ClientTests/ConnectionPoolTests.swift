import Foundation
import Stepwise
import XCTest

/// `ConnectionPool` through `Request.go`: keep-alive reuse, the per-host cap, and the one retry
/// of an idempotent request on a connection the server closed.
final class ConnectionPoolTests: XCTestCase {
    func testSequentialRequestsShareOneConnection() throws {
        let server = try TestServer { stream, head in try await reply(stream, head.path ?? "") }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        for i in 0..<10 {
            let request = try Request(uri: "http://127.0.0.1:\(server.port)/n/\(i)")
            request.pool = pool
            XCTAssertEqual(try request.fetch(on: reactor, timeout: 5).text, "/n/\(i)")
        }
        XCTAssertEqual(server.connectionsSeen, 1)
        XCTAssertEqual(pool.openConnections, 1)
        XCTAssertEqual(pool.idleConnections, 1)
        pool.closeIdle()
        XCTAssertEqual(pool.openConnections, 0)
    }

    func testWithoutAPoolEachRequestHasItsOwnConnection() throws {
        let server = try TestServer { stream, head in try await reply(stream, head.path ?? "") }
        defer { server.stop() }
        let reactor = try Reactor()
        for _ in 0..<3 {
            XCTAssertEqual(
                try Request(uri: "http://127.0.0.1:\(server.port)/x").fetch(on: reactor, timeout: 5).text, "/x")
        }
        XCTAssertEqual(server.connectionsSeen, 3)
    }

    func testTheCapMakesRequestsWait() throws {
        let server = try TestServer { stream, head in
            try await stream.reactor.sleep(seconds: 0.1)
            try await reply(stream, head.path ?? "")
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        pool.maxConnectionsPerHost = 2
        let port = server.port
        let texts = try reactor.run { () async throws -> [String] in
            try await withThrowingTaskGroup(of: String.self) { group in
                for i in 0..<5 {
                    group.addTask(executorPreference: reactor) {
                        let request = try Request(uri: "http://127.0.0.1:\(port)/\(i)")
                        request.pool = pool
                        return try await request.fetch(on: reactor, timeout: 5).text
                    }
                }
                var all: [String] = []
                for try await text in group { all.append(text) }
                return all.sorted()
            }
        }
        XCTAssertEqual(texts, ["/0", "/1", "/2", "/3", "/4"])
        XCTAssertEqual(server.connectionsSeen, 2)
    }

    func testAStaleConnectionIsRetriedOnceForGet() throws {
        let server = try OneShotServer()
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        for _ in 0..<2 {
            let request = try pooledRequest(to: server.port, in: pool)
            XCTAssertEqual(try request.fetch(on: reactor, timeout: 5).text, "ok")
        }
        XCTAssertEqual(server.connections, 2)
    }

    func testAStaleConnectionFailsAPost() throws {
        let server = try OneShotServer()
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        let first = try pooledRequest(to: server.port, in: pool)
        XCTAssertEqual(try first.fetch(on: reactor, timeout: 5).text, "ok")
        let post = try pooledRequest(to: server.port, in: pool)
        try post.headers.upsert(":method", "POST")
        post.setBody("x")
        XCTAssertThrowsError(try post.fetch(on: reactor, timeout: 5))
        XCTAssertEqual(server.connections, 1)
    }

    func testAStaleConnectionIsRetriedForAPutOnlyWhenItsBodyCanBeSentAgain() throws {
        /// A PUT on a pooled connection the server closes when it arrives (after a GET on it);
        /// returns its response's text and the connections the server accepted.
        func putOnAStaleConnection(_ setBody: (Request) -> Void) throws -> (String, Int) {
            let server = try OneShotServer()
            defer { server.stop() }
            let reactor = try Reactor()
            let pool = ConnectionPool(reactor: reactor)
            let warm = try pooledRequest(to: server.port, in: pool)
            XCTAssertEqual(try warm.fetch(on: reactor, timeout: 5).text, "ok")
            let put = try pooledRequest(to: server.port, in: pool)
            try put.headers.upsert(":method", "PUT")
            setBody(put)
            // No wait for a 100 Continue: the body goes out with the head, into the stale connection.
            put.headers.delete("expect")
            let text = (try? put.fetch(on: reactor, timeout: 5).text) ?? "failed"
            return (text, server.connections)
        }
        // Bytes can go again: PUT is idempotent (RFC 9110 §9.2.2), so it is retried.
        let (bytes, bytesConnections) = try putOnAStaleConnection { $0.setBody("all of it") }
        XCTAssertEqual(bytes, "ok")
        XCTAssertEqual(bytesConnections, 2)
        // A producer's chunks went with the first attempt: a retry would send an empty body.
        let chunks = Locked([Array("hello ".utf8), Array("world".utf8)])
        let (produced, producedConnections) = try putOnAStaleConnection {
            $0.setBody(producer: { chunks.withLock { $0.isEmpty ? nil : $0.removeFirst() } })
        }
        XCTAssertEqual(produced, "failed")
        XCTAssertEqual(producedConnections, 1)
    }

    /// An HTTP/1.0 request without `connection: keep-alive` asks the server to close after its
    /// response (RFC 9112 §9.3; lua-http's client closes too), even when the response says
    /// HTTP/1.1 without `close`: the connection is not pooled, and a POST after it goes on a new
    /// one instead of failing on the closed one.
    func testAnHTTP10ConnectionWithoutKeepAliveIsNotReused() throws {
        let server = try OneShotServer()
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        let first = try pooledRequest(to: server.port, in: pool)
        first.version = .http10
        XCTAssertEqual(try first.fetch(on: reactor, timeout: 5).text, "ok")
        XCTAssertEqual(pool.openConnections, 0)
        let post = try pooledRequest(to: server.port, in: pool)
        post.version = .http10
        try post.headers.upsert(":method", "POST")
        post.setBody("x")
        XCTAssertEqual(try post.fetch(on: reactor, timeout: 5).text, "ok")
        XCTAssertEqual(server.connections, 2)
    }

    /// A 101 the request did not ask for (or a tunnel nobody takes): `fetch` shuts the stream,
    /// and with nobody to speak the new protocol the connection closes and gives its place back,
    /// rather than staying open and counted for good (the next request waited for it forever).
    func testASwitchNobodyTakesClosesTheConnection() throws {
        let server = try OneShotServer { client in
            guard OneShotServer.readRequest(client) else { return }
            let answer = "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: other\r\n\r\nhello"
            _ = answer.withCString { send(client, $0, strlen($0), 0) }
            // Speaks the new protocol no further; waits (a while) for the client to go.
            var timeout = timeval(tv_sec: 3, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var byte: UInt8 = 0
            _ = recv(client, &byte, 1, 0)
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        pool.maxConnectionsPerHost = 1
        for _ in 0..<2 {
            let request = try pooledRequest(to: server.port, in: pool)
            XCTAssertEqual(try request.fetch(on: reactor, timeout: 1).status, 101)
            XCTAssertEqual(pool.openConnections, 0)
        }
        XCTAssertEqual(server.connections, 2)
    }

    /// A body refused at its head (a 401 to `expect: 100-continue`) leaves the connection to no
    /// other request; once the response is complete it closes and gives its place back at once.
    /// It went through the server-style linger instead (half-close, then wait for the server's
    /// EOF up to 2 s), so against a server that does not close on the half-close the next
    /// request waited for the slot up to 2 s.
    func testARefusedBodyGivesItsPlaceBackOnceTheResponseIsRead() throws {
        let server = try OneShotServer { client in
            var head: [UInt8] = []
            var byte: UInt8 = 0
            while !head.suffix(4).elementsEqual("\r\n\r\n".utf8) {
                guard recv(client, &byte, 1, 0) == 1 else { return }
                head.append(byte)
            }
            let answer = "HTTP/1.1 401 Unauthorized\r\ncontent-length: 4\r\n\r\nnope"
            _ = answer.withCString { send(client, $0, strlen($0), 0) }
            // Waits for the body it announced no interest in, without reading.
            Thread.sleep(forTimeInterval: 3)
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        pool.maxConnectionsPerHost = 1
        let request = try pooledRequest(to: server.port, in: pool)
        try request.headers.upsert(":method", "PUT")
        request.setBody("hello")
        request.headers.append("expect", "100-continue")
        let (headers, stream) = try request.go(on: reactor, timeout: 5)
        XCTAssertEqual(headers.first(":status"), "401")
        XCTAssertEqual(try reactor.run { try await stream.getBodyAsString(timeout: 5) }, "nope")
        try reactor.run { try await reactor.sleep(seconds: 0.2) }
        XCTAssertEqual(pool.openConnections, 0)
    }

    /// A pooled connection whose exchange timed out is closed and no longer counted: the next
    /// request gets a connection of its own instead of waiting for that one.
    func testATimedOutExchangeGivesItsPlaceBack() throws {
        let listener = try StalledListener()
        defer { listener.close() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        pool.maxConnectionsPerHost = 1
        for _ in 0..<2 {
            let request = try Request(uri: "http://127.0.0.1:\(listener.port)/")
            request.pool = pool
            assertFailsOnTime("127.0.0.1:\(listener.port): timed out after 0.3 s during response head read") {
                _ = try request.go(on: reactor, timeout: 0.3)
            }
            XCTAssertEqual(pool.openConnections, 0)
        }
    }

    /// A pooled connection belongs to the resolver that found its address: a request through
    /// another resolver does not get it, even one made where a freed resolver was (the key held
    /// only the resolver's address, so such a request took a connection to the old resolver's
    /// address). Here the second resolver finds no address at all, so its request must fail.
    func testAConnectionIsNotReusedThroughAResolverMadeWhereAFreedOneWas() throws {
        let server = try TestServer { stream, head in try await reply(stream, "ok") }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        let port = server.port
        func fetch(through resolver: Resolver) throws -> String {
            let request = try Request(uri: "http://app.test:\(port)/")
            request.pool = pool
            request.resolver = resolver
            return try request.fetch(on: reactor, timeout: 5).text
        }
        let gone = try fetchFreeing {
            Resolver { _, port, _ in .success([.ipv4(address: "127.0.0.1", port: port)]) }
        } with: {
            XCTAssertEqual(try fetch(through: $0), "ok")
        }
        XCTAssertEqual(pool.idleConnections, 1)
        let nowhere = madeAt(gone) { Resolver { host, _, _ in .failure(.noAddresses(host: host)) } }
        XCTAssertThrowsError(try fetch(through: nowhere)) { error in
            XCTAssertEqual("\(error)", "DNS lookup of app.test found no usable address")
        }
    }

    /// A target whose connections are all gone leaves nothing behind in the pool: not its
    /// resolver (held by the pool's key), nor empty lists of idle connections and waiters kept
    /// for every target ever used (a long-lived client talking to many hosts grew without end).
    func testATargetWithoutConnectionsLeavesNothingInThePool() throws {
        let server = try TestServer { stream, head in
            try await stream.reactor.sleep(seconds: 0.05)
            try await reply(stream, "ok")
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        pool.maxConnectionsPerHost = 1
        pool.idleTimeout = 0.1
        let port = server.port
        weak var weakResolver: Resolver?
        try {
            let resolver = Resolver { _, port, _ in .success([.ipv4(address: "127.0.0.1", port: port)]) }
            weakResolver = resolver
            // Two at once under a cap of one: the second waits for the first one's connection.
            let texts = try reactor.run { () async throws -> [String] in
                try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<2 {
                        group.addTask(executorPreference: reactor) {
                            let request = try Request(uri: "http://app.test:\(port)/")
                            request.pool = pool
                            request.resolver = resolver
                            return try await request.fetch(on: reactor, timeout: 5).text
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            XCTAssertEqual(texts, ["ok", "ok"])
        }()
        XCTAssertEqual(server.connectionsSeen, 1)
        // The idle connection closes after the pool's idle timeout.
        try reactor.run { try await reactor.sleep(seconds: 0.3) }
        XCTAssertEqual(pool.openConnections, 0)
        XCTAssertNil(weakResolver)
    }

    /// Uses an object made by `make` in `body`, frees it and returns where it was.
    /// A request for `/` on `127.0.0.1:port` that takes its connections from `pool`.
    private func pooledRequest(to port: UInt16, in pool: ConnectionPool) throws -> Request {
        let request = try Request(uri: "http://127.0.0.1:\(port)/")
        request.pool = pool
        return request
    }

    private func fetchFreeing<T: AnyObject>(_ make: () throws -> T, with body: (T) throws -> Void) throws
        -> ObjectIdentifier
    {
        var object: T? = try make()
        let identity = ObjectIdentifier(object!)
        try body(object!)
        object = nil
        return identity
    }

    /// An object made by `make` where the freed object `gone` was, if the allocator puts one
    /// there within a few tries (it usually does at once); else the last one made.
    private func madeAt<T: AnyObject>(_ gone: ObjectIdentifier, _ make: () throws -> T) rethrows -> T {
        var tries: [T] = []
        for _ in 0..<64 {
            let object = try make()
            if ObjectIdentifier(object) == gone { return object }
            tries.append(object)
        }
        return tries.removeLast()
    }

    /// The request runs as a task; only the reactor's Pollable face drives it, from `poll(2)`.
    func testGoDrivenFromAForeignPollLoop() throws {
        let server = try TestServer { stream, head in try await reply(stream, "polled \(head.path ?? "")") }
        defer { server.stop() }
        let reactor = try Reactor()
        let result = Locked<String?>(nil)
        let port = server.port
        reactor.spawn {
            let request = try Request(uri: "http://127.0.0.1:\(port)/p")
            let (headers, stream) = try await request.go(on: reactor, timeout: 5)
            let body = try await stream.getBodyAsString(timeout: 5)
            result.withLock { $0 = "\(headers.first(":status") ?? "") \(body)" }
        }
        let started = MonotonicClock.seconds()
        while result.withLock({ $0 }) == nil && MonotonicClock.seconds() - started < 5 {
            var fds = pollfd(fd: reactor.pollfd(), events: reactor.events().rawValue, revents: 0)
            _ = poll(&fds, 1, reactor.timeoutMilliseconds())
            try reactor.step(timeout: 0)
        }
        XCTAssertEqual(result.withLock { $0 }, "200 polled /p")
    }
}

/// A raw HTTP/1.1 server that answers the first request of each connection with keep-alive, then
/// closes the connection when the next request arrives, without answering: a stale keep-alive
/// connection as a client sees it. Counts the connections accepted.
final class OneShotServer: @unchecked Sendable {
    private let listener: Int32
    private let serve: @Sendable (Int32) -> Void
    let port: UInt16
    private let count = Locked(0)
    private let done = DispatchSemaphore(value: 0)

    var connections: Int { count.withLock { $0 } }

    /// - Parameter serve: talks to one accepted connection (on its own thread); by default the
    ///   stale keep-alive behaviour above. The socket is closed after it returns.
    init(serve: @escaping @Sendable (Int32) -> Void = OneShotServer.answerOnce) throws {
        self.serve = serve
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = listener
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                _ = bind(fd, pointer, length)
                _ = listen(fd, 8)
                _ = getsockname(fd, pointer, &length)
            }
        }
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [count, done, serve] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { break }
                count.withLock { $0 += 1 }
                Thread {
                    serve(client)
                    close(client)
                }.start()
            }
            done.signal()
        }
        thread.start()
    }

    /// Reads one request head (and a body by content-length), answers it, reads the next
    /// request's first octets and closes.
    static func answerOnce(_ client: Int32) {
        guard readRequest(client) else { return }
        let response = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
        _ = response.withCString { send(client, $0, strlen($0), 0) }
        var byte: UInt8 = 0
        _ = recv(client, &byte, 1, 0)
    }

    static func readRequest(_ client: Int32) -> Bool {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = recv(client, &buffer, buffer.count, 0)
            if got <= 0 { return false }
            data += buffer[..<got]
            let text = String(decoding: data, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { continue }
            let head = text[..<end.lowerBound].lowercased()
            let length =
                head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            if text.utf8.count - text.utf8.distance(from: text.startIndex, to: end.upperBound) >= length {
                return true
            }
        }
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        done.wait()
    }
}
