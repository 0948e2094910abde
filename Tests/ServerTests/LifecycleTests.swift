import Foundation
import Stepwise
import TestSupport
import XCTest

/// The server's life: pause/resume, graceful close, the connection limit, every timeout, and no
/// file descriptor left behind.
final class LifecycleTests: XCTestCase {
    /// lua-http: `server:listen()` "is required if localname is called before step or loop": the
    /// first step or loop listens.
    func testLoopOnAServerThatDidNotListenYetListensAndServes() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stepwise-implicit-\(getpid())-\(UUID()).sock"
        )
        .path
        defer { unlink(path) }
        var options = ServerOptions(path: path)
        options.tls = false
        let server = try Server(options: options, handler: TestRoutes().handler)
        let status = Locked<Int?>(nil)
        let clientDone = DispatchSemaphore(value: 0)
        Thread {
            defer { clientDone.signal() }
            let deadline = MonotonicClock.seconds() + 2
            while MonotonicClock.seconds() < deadline {
                if let client = try? TestClient(path: path), let response = try? client.exchange(get("/hello")) {
                    status.withLock { $0 = response.status }
                    break
                }
                usleep(20_000)
            }
            server.reactor.stopLoop()
        }.start()
        try server.loop(timeout: 3)
        _ = clientDone.wait(timeout: .now() + 5)
        XCTAssertEqual(status.withLock { $0 }, 200, "no answer: loop() did not listen")
        server.close(timeout: 0)
        try server.loop(timeout: 2)
    }

    /// A server that will listen on its first step is not empty yet: a host loop that steps it
    /// while it is not (`while !server.empty()`) serves. It was empty, and such a loop ended at
    /// once, before the server ever listened.
    func testAServerThatListensOnItsFirstStepIsNotEmptyBeforeIt() throws {
        let server = try Server(options: ServerOptions(host: "127.0.0.1", port: 0), handler: TestRoutes().handler)
        XCTAssertFalse(server.empty(), "it listens on its first step")
        let status = Locked<Int?>(nil)
        var clientStarted = false
        let deadline = MonotonicClock.seconds() + 10
        while !server.empty() && MonotonicClock.seconds() < deadline {
            var ready = pollfd(fd: server.pollfd(), events: server.events().rawValue, revents: 0)
            // -1 (no deadline, once the client's connection closed) would wait for ever: the
            // client's thread sets `status` without waking the server.
            let wait = server.timeoutMilliseconds()
            _ = poll(&ready, 1, wait < 0 ? 50 : min(wait, 50))
            try server.step(timeout: 0)
            if !clientStarted, let port = server.localname().port {
                clientStarted = true
                Thread {
                    let response = try? TestClient(port: port).exchange(get("/hello"))
                    status.withLock { $0 = response?.status ?? -1 }
                }.start()
            }
            if status.withLock({ $0 }) != nil { server.close(timeout: 0) }
        }
        XCTAssertEqual(status.withLock { $0 }, 200)
        XCTAssertTrue(server.empty())
    }

    /// A host that calls `server.loop(timeout: 0)` once a frame serves: each call is one step
    /// that does not wait. It returned without stepping, and the server never accepted.
    func testAServerLoopedWithTimeoutZeroOnceAFrameServes() throws {
        let server = try Server(options: ServerOptions(host: "127.0.0.1", port: 0), handler: TestRoutes().handler)
        try server.listen()
        let port = try XCTUnwrap(server.localname().port)
        let status = Locked<Int?>(nil)
        Thread {
            let response = try? TestClient(port: port).exchange(get("/hello"))
            status.withLock { $0 = response?.status ?? -1 }
        }.start()
        var frames = 0
        while status.withLock({ $0 }) == nil && frames < 5_000 {
            try server.loop(timeout: 0)
            usleep(1000)
            frames += 1
        }
        XCTAssertEqual(status.withLock { $0 }, 200, "no answer after \(frames) frames")
        server.close(timeout: 0)
        try server.loop(timeout: 2)
    }

    /// `step` and `loop` from inside a step are refused (`ReactorError.reentrantStep`) before
    /// the first step's `listen()`: the refused call used to bind the server's port first.
    func testAStepRefusedInsideAStepDoesNotListen() throws {
        let server = try Server(options: ServerOptions(host: "127.0.0.1", port: 0), handler: TestRoutes().handler)
        var refusals: [String] = []
        server.reactor.soon {
            do { try server.step(timeout: 0) } catch { refusals.append("\(error)") }
            do { try server.loop(timeout: 0) } catch { refusals.append("\(error)") }
        }
        try server.reactor.step(timeout: 0)
        XCTAssertEqual(refusals, ["\(ReactorError.reentrantStep)", "\(ReactorError.reentrantStep)"])
        XCTAssertNil(server.localname().port, "a refused step listened")
        server.close(timeout: 0)
    }

    func testPausedServerServesNewConnectionsOnlyAfterResume() throws {
        let server = try startServer()
        let earlier = try TestClient(port: server.port)
        XCTAssertEqual(try earlier.exchange(get("/hello")).status, 200)
        try server.onServer { $0.pause() }
        let waiting = try TestClient(port: server.port)
        try waiting.send(get("/hello"))
        try assertHeldBack(waiting)
        XCTAssertEqual(try server.onServer { $0.connections() }, 1)
        // Connections accepted before the pause go on.
        XCTAssertEqual(try earlier.exchange(get("/hello")).header("x-request-number"), "2")
        try server.onServer { $0.resume() }
        let response = try waiting.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("x-request-number"), "1")
    }

    func testGracefulCloseFinishesRequestsInFlight() throws {
        let routes = TestRoutes()
        let server = try startServer(handler: routes.handler)
        let idle = try TestClient(port: server.port)
        XCTAssertEqual(try idle.exchange(get("/hello")).status, 200)
        let busy = try TestClient(port: server.port)
        try busy.send(get("/slow?seconds=0.5"))
        XCTAssertTrue(waitUntil { routes.requests(from: busy.localPort) == 1 })
        let silent = try TestClient(port: server.port)
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 3 })

        try server.onServer { $0.close(timeout: 30) }
        XCTAssertEqual(try idle.readUntilClosed(within: 1), [])
        XCTAssertEqual(try silent.readUntilClosed(within: 1), [])
        idle.close()
        XCTAssertFalse(try server.onServer { $0.empty() })
        let response = try readLastResponse(busy)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "slow\n")
        busy.close()
        XCTAssertTrue(try server.waitOnServer { $0.empty() })
        // Nothing is left on the reactor either: no connection, task or timer (the close timeout's).
        XCTAssertTrue(try server.waitOnServer(within: 1) { $0.reactor.empty() })
        XCTAssertThrowsError(try TestClient(port: server.port))
    }

    func testCloseTimeoutCutsSlowHandlers() throws {
        let routes = TestRoutes()
        let server = try startServer(handler: routes.handler)
        let client = try TestClient(port: server.port)
        try client.send(get("/slow?seconds=1"))
        // The request is read and its handler sleeping (not merely the connection accepted).
        XCTAssertTrue(waitUntil { routes.requests(from: client.localPort) == 1 })
        let start = MonotonicClock.seconds()
        try server.onServer { $0.close(timeout: 0.2) }
        XCTAssertEqual(try client.readUntilClosed(), [])
        XCTAssertGreaterThanOrEqual(MonotonicClock.seconds() - start, 0.2)
        XCTAssertTrue(try server.waitOnServer { $0.empty() })
        // The handler wakes up to a closed connection; its write fails and is reported.
        XCTAssertTrue(
            waitUntil {
                server.errors.withLock { $0.contains { if case .handler = $0 { true } else { false } } }
            })
    }

    func testASecondCloseBringsTheDeadlineCloser() throws {
        let routes = TestRoutes()
        let server = try startServer(handler: routes.handler)
        let client = try TestClient(port: server.port)
        try client.send(get("/slow?seconds=3"))
        // The request is read and its handler sleeping (not merely the connection accepted).
        XCTAssertTrue(waitUntil { routes.requests(from: client.localPort) == 1 })
        try server.onServer { $0.close(timeout: nil) }
        usleep(100_000)
        XCTAssertEqual(try server.onServer { $0.connections() }, 1, "a request in flight is let finish")
        // Later: no more waiting. A later deadline than the current one changes nothing.
        let start = MonotonicClock.seconds()
        try server.onServer {
            $0.close(timeout: 0.1)
            $0.close(timeout: 30)
        }
        XCTAssertEqual(try client.readUntilClosed(), [])
        XCTAssertLessThan(MonotonicClock.seconds() - start, 2, "the second close did not shorten the wait")
        XCTAssertTrue(try server.waitOnServer { $0.empty() })
    }

    func testMaxConcurrentHoldsBackExtraConnections() throws {
        let server = try startServer { $0.maxConcurrent = 2 }
        let first = try TestClient(port: server.port)
        let second = try TestClient(port: server.port)
        XCTAssertEqual(try first.exchange(get("/hello")).status, 200)
        XCTAssertEqual(try second.exchange(get("/hello")).status, 200)
        let third = try TestClient(port: server.port)
        try third.send(get("/hello"))
        try assertHeldBack(third)
        XCTAssertEqual(try server.onServer { $0.connections() }, 2)
        // Both served connections keep working meanwhile.
        XCTAssertEqual(try second.exchange(get("/hello")).header("x-request-number"), "2")
        try first.send(get("/hello", "Connection: close"))
        XCTAssertEqual(try readLastResponse(first).status, 200)
        first.close()
        let response = try third.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(try server.onServer { $0.connections() }, 2)
    }

    /// Asserts that nothing reaches `client` for 0.3 s, and that waiting burns no CPU.
    private func assertHeldBack(_ client: TestClient, file: StaticString = #filePath, line: UInt = #line) throws {
        var silent = false
        let cpu = try cpuSeconds { silent = try client.staysSilent(for: 0.3) }
        XCTAssertTrue(silent, "a held-back connection was served", file: file, line: line)
        XCTAssertLessThan(cpu, 0.1, file: file, line: line)
    }

    /// Asserts that `client` is closed by the server `timeout` seconds or more after `start`, and
    /// well before 5 s; returns what arrived.
    private func assertClosed(
        _ client: TestClient, after timeout: Double, since start: Double, file: StaticString = #filePath,
        line: UInt = #line
    ) throws -> [UInt8] {
        let received = try client.readUntilClosed()
        let elapsed = MonotonicClock.seconds() - start
        XCTAssertGreaterThanOrEqual(elapsed, timeout, file: file, line: line)
        XCTAssertLessThan(elapsed, 5, file: file, line: line)
        return received
    }

    func testConnectionSetupTimeoutClosesSilentConnections() throws {
        let server = try startServer { $0.connectionSetupTimeout = 0.3 }
        let active = try TestClient(port: server.port)
        XCTAssertEqual(try active.exchange(get("/hello")).status, 200)
        let start = MonotonicClock.seconds()
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try assertClosed(client, after: 0.3, since: start), [])
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 1 })
        // It covers the setup only: the connection that spoke goes on.
        XCTAssertEqual(try active.exchange(get("/hello")).header("x-request-number"), "2")
    }

    func testIntraStreamTimeoutClosesIdleKeepAlive() throws {
        let server = try startServer { $0.intraStreamTimeout = 0.3 }
        let client = try TestClient(port: server.port)
        // A handler slower than the idle timeout: the connection is not idle meanwhile.
        XCTAssertEqual(try client.exchange(get("/slow?seconds=0.5")).status, 200)
        let start = MonotonicClock.seconds()
        XCTAssertEqual(try client.exchange(get("/hello")).status, 200)
        XCTAssertEqual(try assertClosed(client, after: 0.3, since: start), [])
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 })
    }

    func testIdleTimeoutRestartsWithEveryRequest() throws {
        // The connection's timer is re-armed lazily: it fires at the first deadline, finds a
        // later one and moves there. Requests 0.2 s apart keep a 0.3 s idle timeout at bay.
        let server = try startServer { $0.intraStreamTimeout = 0.3 }
        let client = try TestClient(port: server.port)
        let first = MonotonicClock.seconds()
        var lastSent = first
        for number in 1...4 {
            // The server re-arms the timeout once it has read the request, after it was sent and
            // before its response arrives here: measure from the send.
            lastSent = MonotonicClock.seconds()
            XCTAssertEqual(try client.exchange(get("/hello")).header("x-request-number"), "\(number)")
            if number < 4 { XCTAssertTrue(try client.staysSilent(for: 0.2)) }
        }
        XCTAssertGreaterThan(lastSent - first, 0.6)
        XCTAssertEqual(try assertClosed(client, after: 0.3, since: lastSent), [])
    }

    func testHeaderReadTimeoutAnswers408EvenWhileOctetsTrickle() throws {
        let server = try startServer { $0.headerReadTimeout = 0.3 }
        let client = try TestClient(port: server.port)
        let start = MonotonicClock.seconds()
        try client.send("GET /hello HTTP/1.1\r\nHost: test\r\nX-Slow: ")
        var trickled = 0
        while try client.staysSilent(for: 0.05) {
            trickled += 1
            guard trickled < 60 else { return XCTFail("no answer while the head trickles in") }
            try client.send("a")
        }
        let elapsed = MonotonicClock.seconds() - start
        XCTAssertGreaterThanOrEqual(elapsed, 0.3)
        XCTAssertLessThan(elapsed, 5)
        XCTAssertGreaterThanOrEqual(trickled, 3)
        XCTAssertEqual(try readLastResponse(client).status, 408)
    }

    func testNoFileDescriptorLeakOverManyConnections() throws {
        let server = try startServer()
        XCTAssertEqual(try TestClient(port: server.port).exchange(get("/hello")).status, 200)
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 })
        let before = openFileDescriptors()
        for index in 0..<5000 {
            let client = try TestClient(port: server.port)
            let request = index % 2 == 0 ? get("/hello", "Connection: close") : get("/hello", version: "HTTP/1.0")
            let response = try client.exchange(request)
            guard response.status == 200, try client.readUntilClosed() == [] else {
                return XCTFail("connection \(index): \(response.status)")
            }
        }
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 })
        XCTAssertLessThanOrEqual(openFileDescriptors(), before + 2)
    }

    func testStopLoopEndsServerLoopAndServingGoesOn() throws {
        let server = try Server.listen(ServerOptions(), handler: TestRoutes().handler)
        server.reactor.schedule(after: 0.05) { _ in server.reactor.stopLoop() }
        let start = MonotonicClock.seconds()
        try server.loop(timeout: 10)
        XCTAssertLessThan(MonotonicClock.seconds() - start, 5, "loop() did not stop")
        XCTAssertFalse(server.empty(), "still listening")
        server.close(timeout: 0)
        try server.loop(timeout: 5)
        XCTAssertTrue(server.empty())
    }
}
