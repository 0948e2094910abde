import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A `417 Expectation Failed` to a request's `100-continue` expectation, before the body went:
/// RFC 9110 §10.1.1, "A client that receives a 417 (Expectation Failed) status code in response
/// to a request containing a 100-continue expectation SHOULD repeat that request without a
/// 100-continue expectation, since the 417 response merely indicates that the response chain
/// does not support expectations (e.g., it is passed through an HTTP/1.0 server)." Both APIs
/// repeat it once, without the expectation and with the body, on another connection; a 417 after
/// the body started, or to the repeat, is the response. (Both returned the first 417.)
final class ExpectationFailedRepeatTests: XCTestCase {
    /// What the server saw of one request: its `expect` field values and its body (nil when it
    /// was refused at its head, unread).
    struct Seen: Equatable {
        var expect: [String]
        var body: String?
    }

    /// The response (`status`, `text`) was `expected`, the server saw `seenExpected`, and it took
    /// `connectionsExpected` connections.
    private func assertAnswered(
        _ status: Int, _ text: String, is expected: (Int, String), seen: [Seen], _ seenExpected: [Seen],
        connections: Int, _ connectionsExpected: Int, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(status, expected.0, file: file, line: line)
        XCTAssertEqual(text, expected.1, file: file, line: line)
        XCTAssertEqual(seen, seenExpected, file: file, line: line)
        XCTAssertEqual(connections, connectionsExpected, file: file, line: line)
    }

    // MARK: - Request.go

    /// The pool's one slot is freed by the 417's connection for the repeat, which sends the
    /// bytes without the expectation, whose field goes (nothing else was in it).
    func testRequestGoRepeatsA417dRequestWithoutTheExpectation() throws {
        let seen = Locked<[Seen]>([])
        let server = try OneShotServer(serve: Self.refusingExpectations(seen))
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        pool.maxConnectionsPerHost = 1
        let request = try server.request("/upload", pool: pool)
        try request.headers.upsert(":method", "PUT")
        request.setBody("hello")
        request.headers.append("expect", "100-continue")
        let response = try request.fetch(on: reactor, timeout: 5)
        assertAnswered(
            response.status, response.text, is: (200, "got hello"), seen: seen.withLock { $0 },
            [Seen(expect: ["100-continue"], body: nil), Seen(expect: [], body: "hello")],
            connections: server.connections, 2)
        // The caller's request is not changed: its next `go` asks again.
        XCTAssertEqual(request.headers.values(for: "expect"), ["100-continue"])
    }

    /// A producer's body, not called before the 417, goes whole with the repeat; the other
    /// expectation of the list stays. (`100-Continue` among others is the expectation:
    /// `expectsContinue`.)
    func testRequestGoRepeatsAProducersBodyAndKeepsOtherExpectations() throws {
        let seen = Locked<[Seen]>([])
        let server = try OneShotServer(serve: Self.refusingExpectations(seen))
        defer { server.stop() }
        let reactor = try Reactor()
        let request = try server.request("/upload")
        try request.headers.upsert(":method", "POST")
        let pieces = Locked([Array("hello ".utf8), Array("world".utf8)])
        let calls = Locked(0)
        request.setBody(producer: {
            calls.withLock { $0 += 1 }
            return pieces.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        })
        request.headers.delete("expect")
        request.headers.append("expect", "100-Continue, x-checked")
        XCTAssertTrue(request.expectsContinue)
        let response = try request.fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.text, "got hello world")
        XCTAssertEqual(
            seen.withLock { $0 },
            [Seen(expect: ["100-Continue, x-checked"], body: nil), Seen(expect: ["x-checked"], body: "hello world")])
        XCTAssertEqual(calls.withLock { $0 }, 3, "the producer was called before the repeat")
    }

    /// A 417 to the repeat (which has no expectation) is the response: no third request.
    func testRequestGoReturnsA417ToTheRepeat() throws {
        let seen = Locked<[Seen]>([])
        let server = try OneShotServer(serve: Self.refusingExpectations(seen, refusingAll: true))
        defer { server.stop() }
        let reactor = try Reactor()
        let request = try server.request("/upload")
        try request.headers.upsert(":method", "PUT")
        request.setBody("hello")
        request.headers.append("expect", "100-continue")
        let response = try request.fetch(on: reactor, timeout: 5)
        assertAnswered(
            response.status, response.text, is: (417, "refused hello"), seen: seen.withLock { $0 },
            [Seen(expect: ["100-continue"], body: nil), Seen(expect: [], body: "hello")],
            connections: server.connections, 2)
    }

    /// A 417 after `100 Continue` and the body is the server's answer to the request: it is the
    /// response, and the request does not go again.
    func testRequestGoReturnsA417AfterTheBody() throws {
        let seen = Locked<[Seen]>([])
        let server = try OneShotServer(serve: Self.refusingAfterTheBody(seen))
        defer { server.stop() }
        let reactor = try Reactor()
        let request = try server.request("/upload")
        try request.headers.upsert(":method", "PUT")
        request.setBody("hello")
        request.headers.append("expect", "100-continue")
        let response = try request.fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.status, 417)
        XCTAssertEqual(response.text, "refused hello")
        XCTAssertEqual(seen.withLock { $0 }, [Seen(expect: ["100-continue"], body: "hello")])
        XCTAssertEqual(server.connections, 1)
    }

    /// The repeat runs under the caller's one deadline: a repeat that gets no answer times out
    /// with it, not after a deadline of its own.
    func testRequestGoRepeatsUnderTheOneDeadline() throws {
        let seen = Locked<[Seen]>([])
        let server = try OneShotServer(serve: Self.refusingExpectations(seen, answering: false))
        defer { server.stop() }
        let reactor = try Reactor()
        let request = try server.request("/upload")
        try request.headers.upsert(":method", "PUT")
        request.setBody("hello")
        request.headers.append("expect", "100-continue")
        assertFailsOnTime("127.0.0.1:\(server.port): timed out after 0.5 s during response head read") {
            _ = try request.fetch(on: reactor, timeout: 0.5)
        }
        XCTAssertEqual(
            seen.withLock { $0 }, [Seen(expect: ["100-continue"], body: nil), Seen(expect: [], body: "hello")])
    }

    // MARK: - HTTPConnection

    /// `request` repeats it on a new connection: the `100-continue` field goes, the caller's
    /// other expectation stays, and `bodyStream` (not called before the 417) gives the body.
    func testHTTPConnectionRepeatsA417dRequestWithoutTheExpectation() throws {
        let seen = Locked<[Seen]>([])
        let server = try OneShotServer(serve: Self.refusingExpectations(seen))
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        defer { conn.close() }
        var pieces = [Array("hello ".utf8), Array("world".utf8)]
        var calls = 0
        try conn.request(
            "POST", "/upload", headers: [("expect", "x-checked")], expectContinue: true,
            bodyStream: {
                calls += 1
                return pieces.isEmpty ? nil : pieces.removeFirst()
            })
        let response = try conn.getResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "got hello world")
        XCTAssertEqual(
            seen.withLock { $0 },
            [Seen(expect: ["x-checked", "100-continue"], body: nil), Seen(expect: ["x-checked"], body: "hello world")])
        XCTAssertEqual(calls, 3, "bodyStream was called before the repeat")
        XCTAssertEqual(server.connections, 2)
    }

    /// A 417 to the repeat is the response; an `expect: 100-continue` of the caller's own goes
    /// from the repeat too.
    func testHTTPConnectionReturnsA417ToTheRepeat() throws {
        let seen = Locked<[Seen]>([])
        let server = try OneShotServer(serve: Self.refusingExpectations(seen, refusingAll: true))
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        defer { conn.close() }
        try conn.request(
            "PUT", "/upload", headers: [("Expect", "100-continue")], body: Array("hello".utf8), expectContinue: true)
        let response = try conn.getResponse()
        assertAnswered(
            response.status, response.text, is: (417, "refused hello"), seen: seen.withLock { $0 },
            [Seen(expect: ["100-continue"], body: nil), Seen(expect: [], body: "hello")],
            connections: server.connections, 2)
    }

    /// A 417 after `100 Continue` and the body is the response.
    func testHTTPConnectionReturnsA417AfterTheBody() throws {
        let seen = Locked<[Seen]>([])
        let server = try OneShotServer(serve: Self.refusingAfterTheBody(seen))
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        defer { conn.close() }
        try conn.request("PUT", "/upload", body: Array("hello".utf8), expectContinue: true)
        let response = try conn.getResponse()
        XCTAssertEqual(response.status, 417)
        XCTAssertEqual(response.text, "refused hello")
        XCTAssertEqual(seen.withLock { $0 }, [Seen(expect: ["100-continue"], body: "hello")])
        XCTAssertEqual(server.connections, 1)
    }

    // MARK: - Servers

    /// A server behind which expectations are not taken: a request with the `100-continue`
    /// expectation gets a 417 at its head (the body is not read; the connection stays until
    /// the client closes it). One without it has its body read and gets `got <body>` and the
    /// connection's end; or with `refusingAll` a 417 (`refused <body>`); or without `answering`
    /// nothing until the client goes.
    static func refusingExpectations(
        _ seen: Locked<[Seen]>, refusingAll: Bool = false, answering: Bool = true
    ) -> @Sendable (Int32) -> Void {
        { client in
            guard let head = readHead(client) else { return }
            let expect = fieldValues("expect", in: head)
            let expectsContinue = expect.flatMap { $0.split(separator: ",") }.contains {
                $0.trimmingCharacters(in: .whitespaces).lowercased() == "100-continue"
            }
            if expectsContinue {
                seen.withLock { $0.append(Seen(expect: expect, body: nil)) }
                RawPeer.send("HTTP/1.1 417 Expectation Failed\r\ncontent-length: 15\r\n\r\nno expectations", to: client)
                _ = RawPeer.waitForClose(client)
                return
            }
            guard let body = readBody(client, head: head) else { return }
            seen.withLock { $0.append(Seen(expect: expect, body: body)) }
            guard answering else {
                _ = RawPeer.waitForClose(client)
                return
            }
            let (status, text) = refusingAll ? ("417 Expectation Failed", "refused \(body)") : ("200 OK", "got \(body)")
            RawPeer.send(
                "HTTP/1.1 \(status)\r\nconnection: close\r\ncontent-length: \(text.utf8.count)\r\n\r\n\(text)",
                to: client)
        }
    }

    /// A server that says `100 Continue`, reads the body, and then refuses the expectation.
    static func refusingAfterTheBody(_ seen: Locked<[Seen]>) -> @Sendable (Int32) -> Void {
        { client in
            guard let head = readHead(client) else { return }
            RawPeer.send("HTTP/1.1 100 Continue\r\n\r\n", to: client)
            guard let body = readBody(client, head: head) else { return }
            seen.withLock { $0.append(Seen(expect: fieldValues("expect", in: head), body: body)) }
            let text = "refused \(body)"
            RawPeer.send(
                "HTTP/1.1 417 Expectation Failed\r\ncontent-length: \(text.utf8.count)\r\n\r\n\(text)", to: client)
            _ = RawPeer.waitForClose(client)
        }
    }

    /// The request head from `client` (up to its blank line), or nil at EOF.
    static func readHead(_ client: Int32) -> String? {
        readUntil("\r\n\r\n", from: client)
    }

    /// The values of the `name` fields of `head`, trimmed.
    static func fieldValues(_ name: String, in head: String) -> [String] {
        head.split(separator: "\r\n").dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == name else { return nil }
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }

    /// The body after `head`: by its `content-length`, or chunked; nil at EOF.
    static func readBody(_ client: Int32, head: String) -> String? {
        if let length = fieldValues("content-length", in: head).first.flatMap({ Int($0) }) {
            var body = [UInt8](repeating: 0, count: length)
            guard length == 0 || recv(client, &body, length, Int32(MSG_WAITALL)) == length else { return nil }
            return String(decoding: body, as: UTF8.self)
        }
        guard fieldValues("transfer-encoding", in: head).contains("chunked") else { return "" }
        var body: [UInt8] = []
        while true {
            guard let line = readUntil("\r\n", from: client),
                let size = Int(line.prefix { $0 != ";" }.trimmingCharacters(in: .whitespacesAndNewlines), radix: 16)
            else { return nil }
            if size == 0 { return readUntil("\r\n", from: client).map { _ in String(decoding: body, as: UTF8.self) } }
            var chunk = [UInt8](repeating: 0, count: size + 2)
            guard recv(client, &chunk, chunk.count, Int32(MSG_WAITALL)) == chunk.count else { return nil }
            body += chunk.dropLast(2)
        }
    }

    /// The octets from `client` up to and with `end`, or nil at EOF.
    private static func readUntil(_ end: String, from client: Int32) -> String? {
        var text: [UInt8] = []
        var byte: UInt8 = 0
        while !text.suffix(end.utf8.count).elementsEqual(end.utf8) {
            guard recv(client, &byte, 1, 0) == 1 else { return nil }
            text.append(byte)
        }
        return String(decoding: text, as: UTF8.self)
    }
}
