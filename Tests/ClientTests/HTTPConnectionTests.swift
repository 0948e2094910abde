import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

final class HTTPConnectionTests: XCTestCase {
    func testTheReferenceDemoRunsAsWritten() throws {
        let server = try TestServer { stream, head in
            try await reply(stream, "hello from \(head.path ?? "?")")
        }
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5, scheme: "http")
        try conn.request("GET", "/")
        let resp = try conn.getResponse()
        XCTAssertEqual(resp.status, 200)
        XCTAssertEqual(resp.text, "hello from /")
        conn.close()
        conn.close()
    }

    func testOneConnectionServesAHundredRequests() throws {
        let server = try TestServer { stream, head in
            try await reply(stream, head.path ?? "")
        }
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        for i in 0..<100 {
            try conn.request("GET", "/n/\(i)")
            XCTAssertEqual(try conn.getResponse().text, "/n/\(i)")
        }
        XCTAssertEqual(server.connectionsSeen, 1)
        conn.close()
    }

    func testHostAndContentLengthAreAddedAndBodiesArrive() throws {
        let server = try TestServer { stream, head in
            let body = try await stream.getBodyAsString(timeout: 5)
            let framing = head.headers.first("content-length").map { "cl=\($0)" } ?? "chunked"
            try await reply(stream, "\(head.authority ?? "-") \(framing) \(body)")
        }
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        try conn.request("POST", "/", body: Array("abc".utf8))
        XCTAssertEqual(try conn.getResponse().text, "127.0.0.1:\(server.port) cl=3 abc")

        var pieces = [Array("de".utf8), Array("f".utf8)]
        try conn.request("POST", "/", bodyStream: { pieces.isEmpty ? nil : pieces.removeFirst() }, bodyLength: 3)
        XCTAssertEqual(try conn.getResponse().text, "127.0.0.1:\(server.port) cl=3 def")

        var more = [Array("gh".utf8), Array("i".utf8)]
        try conn.request("POST", "/", bodyStream: { more.isEmpty ? nil : more.removeFirst() })
        XCTAssertEqual(try conn.getResponse().text, "127.0.0.1:\(server.port) chunked ghi")
        XCTAssertEqual(server.connectionsSeen, 1)
    }

    func testExpectContinueSendsTheBodyAfterTheGoAhead() throws {
        let server = try TestServer { stream, _ in
            let body = try await stream.getBodyAsString(timeout: 5)
            try await reply(stream, "got \(body.count)")
        }
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        let started = MonotonicClock.seconds()
        try conn.request("PUT", "/", body: [UInt8](repeating: 1, count: 100_000), expectContinue: true)
        XCTAssertEqual(try conn.getResponse().text, "got 100000")
        // The server's automatic 100 Continue means no 1 s stall waiting for the timeout.
        XCTAssertLessThan(MonotonicClock.seconds() - started, 0.9)
    }

    /// A server that never sends `100 Continue` (lua-http's does not) and reads the body
    /// anyway: the body goes after `expect100Timeout` (1 s, as for `Request`), not after the
    /// whole read timeout (RFC 9110 §10.1.1: a client "SHOULD NOT wait for an indefinite period
    /// before sending the content").
    func testExpectContinueWaitsForTheGoAheadOnlyUpToItsOwnTimeout() throws {
        let server = try OneShotServer { client in
            guard OneShotServer.readRequest(client) else { return }
            let answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
            _ = answer.withCString { send(client, $0, strlen($0), 0) }
        }
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        defer { conn.close() }
        XCTAssertEqual(conn.expect100Timeout, 1)
        conn.expect100Timeout = 0.3
        let started = MonotonicClock.seconds()
        try conn.request("PUT", "/", body: Array("hello".utf8), expectContinue: true)
        XCTAssertEqual(try conn.getResponse().text, "ok")
        let elapsed = MonotonicClock.seconds() - started
        XCTAssertGreaterThanOrEqual(elapsed, 0.29)
        XCTAssertLessThan(elapsed, 2)
    }

    /// `expectContinue` with an `expect` field of the caller's: the `100-continue` element goes
    /// beside it, so a server that honours it says `100 Continue` and the body goes at once,
    /// invited. (It was left out: `request` waited the whole `expect100Timeout` for a go-ahead no
    /// server had been asked for, and since `ContinueWait` looks at the head it sent the body
    /// unasked, not waiting as asked. RFC 9110 §10.1.1: "A client that will wait for a 100
    /// (Continue) response before sending the request content MUST send an Expect header field
    /// containing a 100-continue expectation.")
    func testExpectContinueGoesBesideAnotherExpectation() throws {
        let expectations = Locked<[String]>([])
        let server = try OneShotServer { client in
            guard let head = Self.readHead(client) else { return }
            let expect = head.split(separator: "\r\n").filter { $0.lowercased().hasPrefix("expect:") }
            expectations.withLock {
                $0 = expect.map { String($0.dropFirst("expect:".count)).trimmingCharacters(in: .whitespaces) }
            }
            // The go-ahead only when it was asked for, as a server does (RFC 9110 §10.1.1).
            if expect.contains(where: { $0.lowercased().contains("100-continue") }) {
                RawPeer.send("HTTP/1.1 100 Continue\r\n\r\n", to: client)
            }
            var body = [UInt8](repeating: 0, count: 5)
            guard recv(client, &body, body.count, Int32(MSG_WAITALL)) == body.count else { return }
            RawPeer.send(
                "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n" + String(decoding: body, as: UTF8.self), to: client)
        }
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        defer { conn.close() }
        let started = MonotonicClock.seconds()
        try conn.request(
            "PUT", "/", headers: [("expect", "x-checked")], body: Array("hello".utf8), expectContinue: true)
        XCTAssertEqual(try conn.getResponse().text, "hello")
        XCTAssertLessThan(MonotonicClock.seconds() - started, 0.9, "waited for the 100-continue timeout")
        XCTAssertEqual(expectations.withLock { $0 }, ["x-checked", "100-continue"])
    }

    func testExpectContinueRefusedSkipsTheBody() throws {
        let server = try TestServer { stream, _ in
            try await reply(stream, status: 413, "too big")
        }
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        try conn.request("PUT", "/", body: [UInt8](repeating: 1, count: 100_000), expectContinue: true)
        let response = try conn.getResponse()
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(response.text, "too big")
    }

    func testARefusedExpectationLeavesTheNextRequestANewConnection() throws {
        // A server that answers the PUT's head at once and keeps the connection, waiting for the
        // announced body (RFC 9110 §10.1.1 lets it read on); a GET gets "ok".
        let server = try OneShotServer { client in
            while let head = Self.readHead(client) {
                let answer =
                    head.hasPrefix("PUT ")
                    ? "HTTP/1.1 401 Unauthorized\r\ncontent-length: 4\r\n\r\nnope"
                    : "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
                _ = answer.withCString { send(client, $0, strlen($0), 0) }
            }
        }
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        try conn.request("PUT", "/", body: Array("hello".utf8), expectContinue: true)
        XCTAssertEqual(try conn.getResponse().status, 401)
        // The PUT never ended on that connection (its body was not sent), so it carries no other
        // request: the next one goes on a new connection.
        try conn.request("GET", "/next")
        XCTAssertEqual(try conn.getResponse().text, "ok")
        XCTAssertEqual(server.connections, 2)
        conn.close()
    }

    /// A server that goes away mid-exchange (it read the request and closed without an answer):
    /// `getResponse` fails, and the next request opens a new connection instead of being refused
    /// for a response that can no longer come.
    func testAFailedExchangeLeavesTheNextRequestANewConnection() throws {
        let server = try OneShotServer { client in
            while let head = Self.readHead(client), !head.hasPrefix("GET /drop ") {
                let answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
                _ = answer.withCString { send(client, $0, strlen($0), 0) }
            }
        }
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        defer { conn.close() }
        try conn.request("GET", "/drop")
        XCTAssertThrowsError(try conn.getResponse())
        try conn.request("GET", "/next")
        XCTAssertEqual(try conn.getResponse().text, "ok")
        XCTAssertEqual(server.connections, 2)
    }

    /// A `Host` among the request's fields is the one sent, once, and first (RFC 9110 §7.2: "A
    /// user agent that sends Host SHOULD send it as the first field"), as `HTTP.fetch` does.
    func testAHostFieldIsSentFirstInsteadOfTheGeneratedOne() throws {
        let heads = Locked<[String]>([])
        let server = try OneShotServer { client in
            guard let head = Self.readHead(client) else { return }
            heads.withLock { $0.append(head) }
            let answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
            _ = answer.withCString { send(client, $0, strlen($0), 0) }
        }
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        defer { conn.close() }
        try conn.request("GET", "/", headers: [("X-Before", "1"), ("Host", "example.test")])
        XCTAssertEqual(try conn.getResponse().text, "ok")
        let lines = heads.withLock { $0 }.first?.split(separator: "\r\n").map(String.init) ?? []
        XCTAssertEqual(lines.first, "GET / HTTP/1.1")
        XCTAssertEqual(lines.dropFirst().first, "host: example.test")
        XCTAssertEqual(lines.filter { $0.lowercased().hasPrefix("host:") }.count, 1, "\(lines)")
    }

    /// The next request head from `client` (up to its blank line), or nil at EOF.
    private static func readHead(_ client: Int32) -> String? {
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while !head.suffix(4).elementsEqual("\r\n\r\n".utf8) {
            guard recv(client, &byte, 1, 0) == 1 else { return nil }
            head.append(byte)
        }
        return String(decoding: head, as: UTF8.self)
    }

    /// A server that refuses the body at its head and closes: `getResponse` gives its answer, not
    /// `request` the failed write (RFC 9112 §9.5), and the next request goes on a new connection.
    func testAnAnswerBeforeTheBodyEndedIsTheResponse() throws {
        let server = try TestServer { stream, head in
            guard head.method == "POST" else { return try await reply(stream, "ok") }
            try await reply(stream, status: 413, "too big", extra: [("connection", "close")])
        }
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        defer { conn.close() }
        // More than the socket buffers hold: the answer comes while the body is still going.
        try conn.request("POST", "/", body: [UInt8](repeating: 1, count: 16 << 20))
        let response = try conn.getResponse()
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(response.text, "too big")
        try conn.request("GET", "/")
        XCTAssertEqual(try conn.getResponse().text, "ok")
    }

    func testExpectContinueLooksPastEarlyHintsForTheGoAhead() throws {
        let server = try TestServer { stream, _ in
            // RFC 8297: 103 Early Hints, before the 100 Continue that reading the body sends.
            var hints = Headers()
            hints.append(":status", "103")
            hints.append("link", "</style.css>; rel=preload")
            try await stream.writeHeaders(hints, endStream: false, timeout: 5)
            let body = try await stream.getBodyAsString(timeout: 5)
            try await reply(stream, "got \(body)")
        }
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        try conn.request("PUT", "/", body: Array("hello".utf8), expectContinue: true)
        XCTAssertEqual(try conn.getResponse().text, "got hello")
    }

    func testReadTimeoutFiresAgainstAStallingServer() throws {
        let server = try TestServer { stream, _ in
            try await stream.reactor.sleep(seconds: 2)
            try await reply(stream, "late")
        }
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port)
        conn.setTimeouts(.init(connect: 5, read: 0.3, write: 5))
        try conn.request("GET", "/")
        let started = MonotonicClock.seconds()
        XCTAssertThrowsError(try conn.getResponse()) { error in
            guard case SocketError.timedOut(_, "response head read", 0.3) = error else { return XCTFail("\(error)") }
        }
        let elapsed = MonotonicClock.seconds() - started
        XCTAssertGreaterThanOrEqual(elapsed, 0.29)
        XCTAssertLessThan(elapsed, 1.5)
        conn.close()
    }

    func testConnectTimeoutCoversTheTLSHandshakeAndNamesIt() throws {
        // A listener nobody accepts from: TCP connects (the kernel's backlog), TLS never answers.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                XCTAssertEqual(bind(fd, pointer, length), 0)
                XCTAssertEqual(listen(fd, 8), 0)
                XCTAssertEqual(getsockname(fd, pointer, &length), 0)
            }
        }
        let conn = try HTTPConnection(host: "127.0.0.1", port: UInt16(bigEndian: address.sin_port), scheme: "https")
        conn.setTimeouts(.init(connect: 0.3))
        let started = MonotonicClock.seconds()
        XCTAssertThrowsError(try conn.connect()) { error in
            XCTAssertEqual(
                "\(error)",
                "127.0.0.1:\(UInt16(bigEndian: address.sin_port)): timed out after 0.3 s during TLS handshake")
        }
        let elapsed = MonotonicClock.seconds() - started
        XCTAssertGreaterThanOrEqual(elapsed, 0.29)
        XCTAssertLessThan(elapsed, 2)
    }

    func testRefusedConnectSaysSo() throws {
        let conn = try HTTPConnection(host: "127.0.0.1", port: 9, timeout: 2)
        XCTAssertThrowsError(try conn.request("GET", "/")) { error in
            XCTAssertEqual("\(error)", "connect to 127.0.0.1:9 refused")
        }
    }
}
