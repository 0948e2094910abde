import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// What the server listens on and speaks underneath HTTP: TLS and plain on one port, TLS only,
/// plain only, Unix sockets, and a host's own poll(2) loop driving it.
final class TransportTests: XCTestCase {
    func testTLSAndPlainOnTheSamePort() throws {
        let server = try startServer()
        let secure = try TestClient(tlsPort: server.port, alpn: ["http/1.1"])
        let plain = try TestClient(port: server.port)
        for number in 1...2 {
            XCTAssertEqual(try secure.exchange(get("/hello")).header("x-request-number"), String(number))
            XCTAssertEqual(try plain.exchange(get("/hello")).header("x-request-number"), String(number))
        }
        let echoed = try secure.exchange("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 6\r\n\r\nsecret")
        XCTAssertEqual(echoed.text, "secret")
        // Large bodies both ways through TLS.
        try assertUploadWithBackPressure(secure)
        let size = 4 << 20
        let download = try secure.exchange(get("/download?bytes=\(size)"))
        XCTAssertEqual(download.body.count, size)
        XCTAssertTrue(matchesPattern(download.body, at: 0))
        try secure.send(get("/stream", "Connection: close"))
        XCTAssertEqual(try readLastResponse(secure).text, "one two three ")
    }

    func testTLSOnlyRejectsPlainClients() throws {
        let server = try startServer { $0.tls = true }
        let plain = try TestClient(port: server.port)
        try plain.send(get("/hello"))
        XCTAssertEqual(try plain.readUntilClosed(), [])
        XCTAssertEqual(try TestClient(tlsPort: server.port).exchange(get("/hello")).status, 200)
        XCTAssertTrue(
            server.errors.withLock { errors in
                errors.contains {
                    if case .connectionSetup(_, let reason) = $0 {
                        reason == "plain data on a TLS-only port"
                    } else {
                        false
                    }
                }
            })
    }

    func testPlainOnlyAnswersAClientHelloWith400() throws {
        let server = try startServer { $0.tls = false }
        let engine = try TLSEngine(context: TLSContext.client(verify: false), role: .client(serverName: "localhost"))
        XCTAssertEqual(try engine.handshake(), .needsMoreInput)
        var clientHello: [UInt8] = []
        engine.takeCiphertext(into: &clientHello)
        XCTAssertEqual(clientHello.first, 0x16)
        let client = try TestClient(port: server.port)
        try client.send(clientHello)
        XCTAssertEqual(try readLastResponse(client).status, 400)
        XCTAssertEqual(try TestClient(port: server.port).exchange(get("/hello")).status, 200)
    }

    func testUnixSocketServer() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-\(getpid())-\(UUID()).sock")
            .path
        defer { unlink(path) }
        // A stale socket where the socket goes (a listener closed without unlinking its path):
        // `unlink` removes it first.
        try Listener.listen(ListenOptions(path: path), on: Reactor()).close()
        var options = ServerOptions(path: path, unlink: true)
        options.tls = false
        let server = try TestServer(options)
        addTeardownBlock { server.stop() }
        XCTAssertEqual(server.name.family, AF_UNIX)
        let client = try TestClient(path: path)
        for number in 1...3 {
            let response = try client.exchange(get("/hello"))
            XCTAssertEqual(response.text, "hello\n")
            XCTAssertEqual(response.header("x-request-number"), String(number))
        }
        XCTAssertEqual(
            try client.exchange("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\n\r\nunix").text, "unix")
    }

    /// A fixed conversation; the responses without their `date` and `x-peer-port` fields.
    private static func conversation(port: UInt16) throws -> [String] {
        let client = try TestClient(port: port)
        var responses = [
            try client.exchange(get("/hello")),
            try client.exchange("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello"),
            try client.exchange(
                "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"),
        ]
        try client.send(get("/slow?seconds=0.05") + get("/stream") + get("/missing"))
        for _ in 0..<3 { responses.append(try client.readResponse()) }
        let old = try TestClient(port: port)
        responses.append(try old.exchange(get("/hello", version: "HTTP/1.0")))
        responses.append(try TestClient(port: port).exchange("GET / HTTP/1.1\r\n\r\n"))
        return responses.map { response in
            let fields = response.headers.filter { $0.name != "date" && $0.name != "x-peer-port" }
            return "\(response.status) \(fields.map { "\($0.name): \($0.value)" }) \(response.text)"
        }
    }

    func testForeignPollLoopServesLikeLoop() throws {
        let reference = try Self.conversation(port: try startServer(driver: .loop).port)
        XCTAssertEqual(reference.count, 8)
        XCTAssertEqual(
            reference.map { $0.prefix(4) }, ["200 ", "200 ", "200 ", "200 ", "200 ", "404 ", "200 ", "400 "])

        // The same conversation with the server driven only through its Pollable face.
        let server = try Server.listen(ServerOptions(), handler: TestRoutes().handler)
        let port = server.localname().port ?? 0
        let result = Locked<Result<[String], any Error>?>(nil)
        Thread {
            let responses = Result { try Self.conversation(port: port) }
            result.withLock { $0 = responses }
        }.start()
        try foreignLoop(server, for: 10, pollingEvery: 0.05) { result.withLock { $0 != nil } }
        XCTAssertEqual(try XCTUnwrap(result.withLock { $0 }).get(), reference)

        // Idle, the host sleeps: a handful of wake-ups in 0.3 s, not a spin.
        let wakeups = try foreignLoop(server, for: 0.3) { false }
        XCTAssertLessThan(wakeups, 10)
        server.close(timeout: 0)
        try foreignLoop(server, for: 5) { server.empty() }
        XCTAssertTrue(server.empty())
    }
}

/// A host loop that drives `object` only through `pollfd()`/`events()`/`timeoutMilliseconds()`
/// and `step(timeout: 0)`, until `done` or `seconds` pass. `slice` bounds each wait, for
/// conditions nothing on the fd signals. Returns the number of wake-ups.
@discardableResult
func foreignLoop(
    _ object: some Pollable, for seconds: Double, pollingEvery slice: Double? = nil, until done: () -> Bool
) throws -> Int {
    let deadline = MonotonicClock.seconds() + seconds
    var wakeups = 0
    while !done() {
        let left = deadline - MonotonicClock.seconds()
        guard left > 0 else { break }
        var wait = Int32((min(left, slice ?? left) * 1000).rounded(.up))
        let milliseconds = object.timeoutMilliseconds()
        if milliseconds >= 0 && milliseconds < wait { wait = milliseconds }
        var entry = pollfd(fd: object.pollfd(), events: object.events().rawValue, revents: 0)
        _ = poll(&entry, 1, wait)
        wakeups += 1
        try object.step(timeout: 0)
    }
    return wakeups
}
