import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A response its caller drops without reading it to the end (or `shutdown()`) is abandoned:
/// its connection closes, the descriptor goes, and a pool's place is free for the next request.
/// The stream and its connection held each other, so both stayed, the socket open, for good.
final class AbandonedResponseTests: XCTestCase {
    /// Through a pool of one connection per host: the dropped response frees the place, and the
    /// next request gets a connection at once rather than waiting out its deadline. A response
    /// that a task reads, holding it alone, is read to its end, and its connection goes back to
    /// the pool.
    func testAnUnreadResponseDroppedClosesItsConnectionAndFreesItsPoolPlace() throws {
        let server = try SizedBodyServer()
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        pool.maxConnectionsPerHost = 1
        let baseline = try Self.baseline(server, reactor)

        // The head of a 100-octet body, and no body: the response never ends by itself.
        let status = try reactor.run { () async throws -> Int in
            let request = try Request(uri: server.url("/head-only/100"))
            request.pool = pool
            let (headers, _) = try await request.go(on: reactor, timeout: 5)
            return Int(headers.first(":status") ?? "") ?? 0
        }
        XCTAssertEqual(status, 200)
        XCTAssertEqual(pool.openConnections, 0, "the dropped response kept its pool place")
        XCTAssertTrue(server.waitUntilConnectionsEnded(2), "the connection stayed open")
        XCTAssertTrue(Self.waitForDescriptors(baseline), "descriptors: \(Self.openDescriptors()), not \(baseline)")

        // The next request to the host has the place (it waited for it until its deadline).
        let next = try reactor.run { () async throws -> String in
            let request = try Request(uri: server.url("/length/5"))
            request.pool = pool
            return try await request.fetch(on: reactor, timeout: 2).text
        }
        XCTAssertEqual(next, "aaaaa")

        // A stream a task reads is held by it: never closed under it, whoever else let it go.
        let length = 4 << 20  // over `maxBufferedBody`: the reader waits for the body in pieces
        let read = try reactor.run { () async throws -> Int in
            let request = try Request(uri: server.url("/length/\(length)"))
            request.pool = pool
            var stream: (any HTTPStream)? = try await request.go(on: reactor, timeout: 5).1
            let reader = Task(executorPreference: reactor) { [stream] in
                try await reactor.sleep(seconds: 0.05)
                return try await stream!.getBodyAsBytes(limit: length, timeout: 5).count
            }
            stream = nil
            return try await reader.value
        }
        XCTAssertEqual(read, length)
        XCTAssertEqual(pool.idleConnections, 1, "a response read to its end leaves its connection for the next")
        pool.closeIdle()
        // The first connection, and the one the last two requests shared.
        XCTAssertTrue(server.waitUntilConnectionsEnded(3))
        XCTAssertTrue(Self.waitForDescriptors(baseline), "descriptors: \(Self.openDescriptors()), not \(baseline)")
    }

    /// Every way to get a response lets it go when dropped: `InFlightRequest.result`, the
    /// blocking `go`, an `HTTPConnection` dropped after its request, and a connection from
    /// `Client.connect` dropped with its stream.
    func testEveryFormOfTheClientLetsADroppedResponseGo() throws {
        let server = try SizedBodyServer()
        defer { server.stop() }
        let reactor = try Reactor()
        let baseline = try Self.baseline(server, reactor)
        var ended = 1
        func check(_ form: String, file: StaticString = #filePath, line: UInt = #line) {
            ended += 1
            XCTAssertTrue(server.waitUntilConnectionsEnded(ended), "\(form): the connection stayed open", line: line)
            XCTAssertTrue(Self.waitForDescriptors(baseline), "\(form): descriptors left open", line: line)
        }

        do {
            let inFlight = try Request(uri: server.url("/head-only/100")).start(on: reactor, timeout: 5)
            let result = try inFlight.loop(timeout: 5)
            XCTAssertNotNil(try result?.get())
        }
        check("InFlightRequest")

        do {
            let (headers, _) = try Request(uri: server.url("/length/\(4 << 20)")).go(on: reactor, timeout: 5)
            XCTAssertEqual(headers.first(":status"), "200")
        }
        check("blocking go, body in part")

        do {
            let connection = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5, on: reactor)
            try connection.request("GET", "/head-only/100")
        }
        check("HTTPConnection")

        try reactor.run {
            let connection = try await Client.connect(
                ClientOptions(host: "127.0.0.1", port: server.port), on: reactor, timeout: 5)
            let stream = try XCTUnwrap(connection.newStream())
            var request = Headers()
            request.append(":method", "GET")
            request.append(":scheme", "http")
            request.append(":authority", "127.0.0.1")
            request.append(":path", "/head-only/100")
            try await stream.writeHeaders(request, endStream: true, timeout: 5)
            _ = try await stream.getHeaders(timeout: 5)
        }
        check("Client.connect and newStream")
    }

    /// A `101 Switching Protocols` whose stream went, while its caller holds the connection, is
    /// not abandoned: the exchange goes on through `takeSocket()`, and Swift may release a stream
    /// right after its last use, before that call.
    func testASwitchWhoseStreamWentLeavesTheSocketToTake() throws {
        let server = try OneShotServer { client in
            guard OneShotServer.readRequest(client) else { return }
            let head = "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: x-test\r\n\r\nHI"
            _ = head.withCString { send(client, $0, strlen($0), 0) }
            var byte: UInt8 = 0
            while recv(client, &byte, 1, 0) > 0 {}
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let port = server.port
        let outcome = try reactor.run {
            try await AbandonedResponseTests.switchThenTakeTheSocket(port: port, on: reactor)
        }
        XCTAssertEqual(outcome, "101, open, HI")
    }

    /// Connects, upgrades (`upgrade(on:)`), then takes the socket and reads what the new
    /// protocol sent: "status, open or closed when taken, octets read".
    private static func switchThenTakeTheSocket(port: UInt16, on reactor: Reactor) async throws -> String {
        let connection = try await Client.connect(
            ClientOptions(host: "127.0.0.1", port: port), on: reactor, timeout: 5)
        let status = try await upgrade(on: connection)
        let state = connection.isClosed ? "closed" : "open"
        let socket = connection.takeSocket()
        defer { socket.close() }
        let octets = (try? await socket.readExactly(2, timeout: 5)) ?? []
        return "\(status ?? "none"), \(state), \(String(decoding: octets, as: UTF8.self))"
    }

    /// Sends an upgrade request on a stream of `connection` and returns the response's status;
    /// the stream goes with this call.
    private static func upgrade(on connection: H1Connection) async throws -> String? {
        let stream = try XCTUnwrap(connection.newStream())
        var request = Headers()
        request.append(":method", "GET")
        request.append(":scheme", "http")
        request.append(":authority", "127.0.0.1")
        request.append(":path", "/")
        request.append("connection", "upgrade")
        request.append("upgrade", "x-test")
        try await stream.writeHeaders(request, endStream: true, timeout: 5)
        return try await stream.getHeaders(timeout: 5)?.first(":status")
    }

    /// A response dropped on another thread is let go on the reactor's, in its next step.
    func testAResponseDroppedOnAnotherThreadIsLetGoInTheNextStep() throws {
        let server = try SizedBodyServer()
        defer { server.stop() }
        let reactor = try Reactor()
        let baseline = try Self.baseline(server, reactor)
        let holder = Holder()
        try Self.go(server.url("/head-only/100"), on: reactor, into: holder)
        let dropped = DispatchSemaphore(value: 0)
        Thread {
            holder.stream = nil
            dropped.signal()
        }.start()
        dropped.wait()
        let deadline = MonotonicClock.seconds() + 5
        while server.connectionsEnded == 1 && MonotonicClock.seconds() < deadline {
            try reactor.step(timeout: 0.01)
        }
        XCTAssertEqual(server.connectionsEnded, 2, "the connection stayed open")
        XCTAssertTrue(Self.waitForDescriptors(baseline), "descriptors: \(Self.openDescriptors()), not \(baseline)")
    }

    private final class Holder: @unchecked Sendable {
        var stream: (any HTTPStream)?
    }

    /// Sends a GET and leaves its stream with `holder` alone.
    private static func go(_ url: String, on reactor: Reactor, into holder: Holder) throws {
        holder.stream = try Request(uri: url).go(on: reactor, timeout: 5).1
    }

    /// The descriptors open once `server` has served one connection to `reactor`, its threads
    /// included (the first thread a raw server starts leaves descriptors of its own open).
    static func baseline(_ server: SizedBodyServer, _ reactor: Reactor) throws -> Int {
        _ = try Request(uri: server.url("/length/1")).fetch(on: reactor, timeout: 5)
        XCTAssertTrue(server.waitUntilConnectionsEnded(1))
        // Its thread closes its end just after: the count that holds 50 ms running.
        var count = openDescriptors()
        while true {
            usleep(50_000)
            let now = openDescriptors()
            if now == count { return count }
            count = now
        }
    }

    static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    /// Waits (up to 5 s) until the process has `count` descriptors open; false if it has not.
    /// (A raw test server's thread closes its end of a connection just after it saw it end.)
    static func waitForDescriptors(_ count: Int) -> Bool {
        let deadline = MonotonicClock.seconds() + 5
        while openDescriptors() != count {
            guard MonotonicClock.seconds() < deadline else { return false }
            usleep(1000)
        }
        return true
    }
}
