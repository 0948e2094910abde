import Foundation
import Stepwise
import XCTest

/// `Request.go` / `fetch` against an in-process server: methods, bodies, redirects, 100-continue,
/// decoding and the one deadline.
final class RequestGoTests: XCTestCase {
    /// Echoes `METHOD path body` (the body read in full) and the accept-encoding it got.
    static let echo: @Sendable (any HTTPStream, HTTP1MessageHead) async throws -> Void = { stream, head in
        let body = try await stream.getBodyAsString(timeout: 5)
        try await reply(
            stream, "\(head.method ?? "?") \(head.path ?? "?") \(body)",
            extra: [("x-accept-encoding", head.headers.first("accept-encoding") ?? "-")])
    }

    func testGetHeadAndPost() throws {
        let server = try TestServer(Self.echo)
        defer { server.stop() }
        let reactor = try Reactor()
        let get = try Request(uri: "http://127.0.0.1:\(server.port)/a?b=c")
        let response = try get.fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "GET /a?b=c ")
        XCTAssertEqual(response.headers.first("x-accept-encoding"), "gzip, deflate")

        let head = try Request(uri: "http://127.0.0.1:\(server.port)/h")
        try head.headers.upsert(":method", "HEAD")
        let headResponse = try head.fetch(on: reactor, timeout: 5)
        XCTAssertEqual(headResponse.status, 200)
        XCTAssertEqual(headResponse.body, [])

        let post = try Request(uri: "http://127.0.0.1:\(server.port)/p")
        try post.headers.upsert(":method", "POST")
        post.setBody("name=value")
        post.decodeContent = false
        let posted = try post.fetch(on: reactor, timeout: 5)
        XCTAssertEqual(posted.text, "POST /p name=value")
        XCTAssertEqual(posted.headers.first("x-accept-encoding"), "-")

        let streamed = try Request(uri: "http://127.0.0.1:\(server.port)/s")
        try streamed.headers.upsert(":method", "PUT")
        let pieces = Locked([Array("ab".utf8), Array("cd".utf8)])
        streamed.setBody(producer: { pieces.withLock { $0.isEmpty ? nil : $0.removeFirst() } })
        streamed.headers.delete("expect")
        XCTAssertEqual(try streamed.fetch(on: reactor, timeout: 5).text, "PUT /s abcd")
    }

    func testFileBodyIsReadFromItsStart() throws {
        let server = try TestServer(Self.echo)
        defer { server.stop() }
        let path = NSTemporaryDirectory() + "go-body-\(UUID().uuidString)"
        try Data("file body".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reactor = try Reactor()
        let request = try Request(uri: "http://127.0.0.1:\(server.port)/f")
        try request.headers.upsert(":method", "POST")
        try request.setBody(filePath: path)
        XCTAssertEqual(try request.fetch(on: reactor, timeout: 5).text, "POST /f file body")
        XCTAssertEqual(try request.fetch(on: reactor, timeout: 5).text, "POST /f file body")
    }

    static let redirector: @Sendable (any HTTPStream, HTTP1MessageHead) async throws -> Void = { stream, head in
        switch head.path ?? "" {
        case "/301": try await reply(stream, status: 301, "", extra: [("location", "/target")])
        case "/dir/307": try await reply(stream, status: 307, "", extra: [("location", "target")])
        case "/loop": try await reply(stream, status: 302, "", extra: [("location", "/loop")])
        case "/304": try await reply(stream, status: 304, "")
        default: try await echo(stream, head)
        }
    }

    func testRedirectsAreFollowed() throws {
        let server = try TestServer(Self.redirector)
        defer { server.stop() }
        let reactor = try Reactor()
        let base = "http://127.0.0.1:\(server.port)"

        let post301 = try Request(uri: base + "/301")
        try post301.headers.upsert(":method", "POST")
        post301.setBody("data")
        XCTAssertEqual(try post301.fetch(on: reactor, timeout: 5).text, "GET /target ")

        let post307 = try Request(uri: base + "/dir/307")
        try post307.headers.upsert(":method", "POST")
        post307.setBody("kept")
        XCTAssertEqual(try post307.fetch(on: reactor, timeout: 5).text, "POST /dir/target kept")

        let notFollowed = try Request(uri: base + "/301")
        notFollowed.followRedirects = false
        XCTAssertEqual(try notFollowed.fetch(on: reactor, timeout: 5).status, 301)

        XCTAssertEqual(try Request(uri: base + "/304").fetch(on: reactor, timeout: 5).status, 304)

        let loop = try Request(uri: base + "/loop")
        loop.maxRedirects = 3
        XCTAssertThrowsError(try loop.fetch(on: reactor, timeout: 5)) { error in
            XCTAssertEqual(error as? RequestError, .tooManyRedirects)
        }
    }

    func testA307NeedingAProducersBodyAgainIsRefusedUnlessTheBodyHadNotGone() throws {
        let server = try TestServer(Self.redirector)
        defer { server.stop() }
        let reactor = try Reactor()
        func post(expectingContinue: Bool) throws -> Request {
            let request = try Request(uri: "http://127.0.0.1:\(server.port)/dir/307")
            try request.headers.upsert(":method", "POST")
            let chunks = Locked([Array("hello ".utf8), Array("world".utf8)])
            request.setBody(producer: { chunks.withLock { $0.isEmpty ? nil : $0.removeFirst() } })
            request.headers.delete("expect")
            if expectingContinue { request.headers.append("expect", "100-continue") }
            return request
        }
        // The body goes with the head; the 307 (RFC 9110 §15.4.8: "MUST NOT change the request
        // method") would need it again, and the producer has nothing more to give.
        XCTAssertThrowsError(try post(expectingContinue: false).fetch(on: reactor, timeout: 5)) { error in
            XCTAssertEqual(error as? RequestError, .bodyNotResendable(status: 307))
        }
        // With 100-continue the 307 comes before the body went: the chunks go to the target.
        XCTAssertEqual(
            try post(expectingContinue: true).fetch(on: reactor, timeout: 5).text, "POST /dir/target hello world")
    }

    func testExpectContinueAccepted() throws {
        let server = try TestServer(Self.echo)
        defer { server.stop() }
        let reactor = try Reactor()
        let request = try Request(uri: "http://127.0.0.1:\(server.port)/c")
        try request.headers.upsert(":method", "PUT")
        request.setBody(bytes: [UInt8](repeating: 0x61, count: 2 << 20))
        XCTAssertTrue(request.expectsContinue)
        let started = MonotonicClock.seconds()
        let response = try request.fetch(on: reactor, timeout: 10)
        XCTAssertEqual(response.body.count, "PUT /c ".utf8.count + (2 << 20))
        XCTAssertLessThan(MonotonicClock.seconds() - started, 0.9, "waited for the 100-continue timeout")
    }

    /// A final status before the body (not a 417, which is repeated without the expectation:
    /// `ExpectationFailedRepeatTests`) is the response, and the body does not go.
    func testExpectContinueRefusedSkipsTheBody() throws {
        let received = Locked(-1)
        let handled = DispatchSemaphore(value: 0)
        let server = try TestServer { stream, _ in
            try await reply(stream, status: 413, "no")
            let body = try? await stream.getBodyAsBytes(timeout: 0.5)
            received.withLock { $0 = body?.count ?? 0 }
            handled.signal()
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let request = try Request(uri: "http://127.0.0.1:\(server.port)/c")
        try request.headers.upsert(":method", "PUT")
        request.setBody(bytes: [UInt8](repeating: 0x61, count: 2 << 20))
        let response = try request.fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(response.text, "no")
        // The handler's read ends within its 0.5 s (at once should the connection close).
        XCTAssertEqual(handled.wait(timeout: .now() + 5), .success, "the handler's read of the body did not end")
        XCTAssertEqual(received.withLock { $0 }, 0)
    }

    func testExpectContinueTimesOutAndSendsTheBody() throws {
        let server = try TestServer { stream, head in
            try await stream.reactor.sleep(seconds: 0.6)
            try await RequestGoTests.echo(stream, head)
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let request = try Request(uri: "http://127.0.0.1:\(server.port)/t")
        try request.headers.upsert(":method", "PUT")
        let pieces = Locked([Array("late body".utf8)])
        request.setBody(producer: { pieces.withLock { $0.isEmpty ? nil : $0.removeFirst() } })
        XCTAssertTrue(request.expectsContinue)
        request.expect100Timeout = 0.2
        let response = try request.fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.text, "PUT /t late body")
    }

    /// A server that never answers the `expect: 100-continue` head: the body must come anyway,
    /// after `expect100Timeout`, not after the server gave up waiting.
    func testExpectContinueTimeoutSendsTheBodyUnasked() throws {
        let server = try OneShotServer { client in
            var buffer = [UInt8](repeating: 0, count: 65536)
            var head: [UInt8] = []
            while !String(decoding: head, as: UTF8.self).contains("\r\n\r\n") {
                let got = recv(client, &buffer, buffer.count, 0)
                if got <= 0 { return }
                head += buffer[..<got]
            }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let got = recv(client, &buffer, buffer.count, 0)
            let answer = got > 0 ? "sent" : "none"
            let response = "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 4\r\n\r\n\(answer)"
            _ = response.withCString { send(client, $0, strlen($0), 0) }
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let request = try Request(uri: "http://127.0.0.1:\(server.port)/t")
        try request.headers.upsert(":method", "PUT")
        request.setBody(bytes: [UInt8](repeating: 0x61, count: 1000))
        request.headers.append("expect", "100-continue")
        request.expect100Timeout = 0.3
        let started = MonotonicClock.seconds()
        let response = try request.fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.text, "sent")
        XCTAssertGreaterThanOrEqual(MonotonicClock.seconds() - started, 0.29)
    }

    /// A server that refuses the body at its head and closes (as a Stepwise server does past its
    /// body limit): the rest of the body cannot go, and the answer is what `fetch` returns, not
    /// the failed write (RFC 9112 §9.5).
    func testAnAnswerBeforeTheBodyEndedIsTheOutcome() throws {
        let server = try TestServer { stream, _ in
            try await reply(stream, status: 413, "too big", extra: [("connection", "close")])
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let request = try Request(uri: "http://127.0.0.1:\(server.port)/up")
        try request.headers.upsert(":method", "POST")
        // More than the socket buffers hold: the answer comes while the body is still going.
        request.setBody(bytes: [UInt8](repeating: 0x61, count: 16 << 20))
        request.headers.delete("expect")
        let response = try request.fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(response.text, "too big")
    }

    /// The same with the body sent from a file (by sendfile(2) on a plain connection): the
    /// failed send must not lose the answer that came.
    func testAnAnswerBeforeAFileBodyEndedIsTheOutcome() throws {
        let server = try TestServer { stream, _ in
            try await reply(stream, status: 413, "too big", extra: [("connection", "close")])
        }
        defer { server.stop() }
        let path = NSTemporaryDirectory() + "/stepwise-early-answer-\(getpid()).bin"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(count: 16 << 20)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reactor = try Reactor()
        let request = try Request(uri: "http://127.0.0.1:\(server.port)/up")
        try request.headers.upsert(":method", "POST")
        try request.setBody(filePath: path)
        request.headers.delete("expect")
        let response = try request.fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(response.text, "too big")
    }

    func testGzipIsDecoded() throws {
        let text = String(repeating: "compress me ", count: 1000)
        let server = try TestServer { stream, _ in
            var compressed: [UInt8] = []
            try Deflater(format: .gzip).process(Array(text.utf8), final: true, into: &compressed)
            var headers = Headers()
            headers.append(":status", "200")
            headers.append("content-encoding", "gzip")
            headers.append("content-length", String(compressed.count))
            try await stream.writeHeaders(headers, endStream: false, timeout: 5)
            try await stream.writeChunk(compressed, endStream: true, timeout: 5)
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let response = try Request(uri: "http://127.0.0.1:\(server.port)/z").fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.text, text)
        XCTAssertFalse(response.headers.has("content-encoding"))
        XCTAssertFalse(response.headers.has("content-length"))

        let raw = try Request(uri: "http://127.0.0.1:\(server.port)/z")
        raw.decodeContent = false
        let encoded = try raw.fetch(on: reactor, timeout: 5)
        XCTAssertEqual(encoded.headers.first("content-encoding"), "gzip")
        XCTAssertLessThan(encoded.body.count, text.utf8.count)
    }

    /// A 206's range is of the encoded octets (RFC 9110 §14.1.2, §8.4: "the representation is
    /// defined in terms of the coded form"): a piece of a gzip stream cannot be decoded alone. It is handed over as it came, `content-encoding`
    /// kept, so that the caller can join the ranges and decode the whole; decoding it failed.
    func testAPartialContentIsNotDecoded() throws {
        let text = String(repeating: "compress me ", count: 1000)
        var compressed: [UInt8] = []
        try Deflater(format: .gzip).process(Array(text.utf8), final: true, into: &compressed)
        let whole = compressed
        let server = try TestServer { stream, head in
            // `bytes=first-last`, both given.
            let range = head.headers.first("range")?.dropFirst("bytes=".count).split(separator: "-")
            let first = Int(range?.first ?? "") ?? 0
            let last = Int(range?.last ?? "") ?? whole.count - 1
            var headers = Headers()
            headers.append(":status", "206")
            headers.append("content-encoding", "gzip")
            headers.append("content-range", "bytes \(first)-\(last)/\(whole.count)")
            headers.append("content-length", String(last - first + 1))
            try await stream.writeHeaders(headers, endStream: false, timeout: 5)
            try await stream.writeChunk(Array(whole[first...last]), endStream: true, timeout: 5)
        }
        defer { server.stop() }
        let reactor = try Reactor()
        var joined: [UInt8] = []
        for range in ["0-9", "10-\(whole.count - 1)"] {
            let request = try Request(uri: "http://127.0.0.1:\(server.port)/z")
            request.headers.append("range", "bytes=\(range)")
            let response = try request.fetch(on: reactor, timeout: 5)
            XCTAssertEqual(response.status, 206)
            XCTAssertEqual(response.headers.first("content-encoding"), "gzip")
            joined += response.body
        }
        XCTAssertEqual(joined, whole)
        XCTAssertEqual(String(decoding: try Inflater(format: .gzip).process(joined, final: true), as: UTF8.self), text)
    }

    /// A range is of the octets as the server encodes them, and a 206 is not decoded: a request
    /// with a `range` asks for `identity` (RFC 9110 §12.5.3: without the field any coding would
    /// be acceptable), so a resumed download gets octets it can append. A caller's own
    /// `accept-encoding` stays; with `decodeContent` off nothing is added.
    func testARangeRequestAcceptsTheOctetsAsTheyAre() throws {
        let server = try TestServer(Self.echo)
        defer { server.stop() }
        let reactor = try Reactor()
        func acceptEncoding(_ configure: (Request) throws -> Void) throws -> String? {
            let request = try Request(uri: "http://127.0.0.1:\(server.port)/r")
            request.headers.append("range", "bytes=10-")
            try configure(request)
            return try request.fetch(on: reactor, timeout: 5).headers.first("x-accept-encoding")
        }
        XCTAssertEqual(try acceptEncoding { _ in }, "identity")
        XCTAssertEqual(try acceptEncoding { $0.headers.append("accept-encoding", "gzip") }, "gzip")
        XCTAssertEqual(try acceptEncoding { $0.decodeContent = false }, "-")
    }

    /// A `host` field names the virtual host while the URI says where to connect, as in
    /// `HTTP.fetch`, `HTTPConnection` and `stepwise get -H`: it is sent as the one Host line,
    /// after a relative redirect too. It used to be refused beside the URI's `:authority` ("both
    /// :authority and a host field") before anything was sent. The request itself is not changed.
    func testAHostFieldIsSentAsTheAuthority() throws {
        let server = try TestServer { stream, head in
            if head.path == "/moved" {
                try await reply(stream, status: 302, "", extra: [("location", "/here")])
            } else {
                try await reply(stream, "\(head.path ?? "?") \(head.authority ?? "-")")
            }
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let request = try Request(uri: "http://127.0.0.1:\(server.port)/moved")
        request.headers.append("host", "example.test")
        XCTAssertEqual(try request.fetch(on: reactor, timeout: 5).text, "/here example.test")
        XCTAssertEqual(request.headers.first("host"), "example.test")
        XCTAssertEqual(request.headers.first(":authority"), "127.0.0.1:\(server.port)")
    }

    func testOneDeadlineFiresOnTime() throws {
        let server = try TestServer { stream, _ in
            try await stream.reactor.sleep(seconds: 3)
            try await reply(stream, "late")
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let request = try Request(uri: "http://127.0.0.1:\(server.port)/slow")
        let started = MonotonicClock.seconds()
        XCTAssertThrowsError(try request.fetch(on: reactor, timeout: 0.4)) { error in
            XCTAssertEqual("\(error)", "127.0.0.1:\(server.port): timed out after 0.4 s during response head read")
        }
        let elapsed = MonotonicClock.seconds() - started
        XCTAssertGreaterThanOrEqual(elapsed, 0.39)
        XCTAssertLessThan(elapsed, 1.4)
    }

    func testRefusedConnectSaysSo() throws {
        let reactor = try Reactor()
        XCTAssertThrowsError(try Request(uri: "http://127.0.0.1:9/").fetch(on: reactor, timeout: 2)) { error in
            XCTAssertEqual("\(error)", "connect to 127.0.0.1:9 refused")
        }
    }
}

/// A value shared between the test thread and a server thread.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        try lock.withLock { try body(&value) }
    }
}
