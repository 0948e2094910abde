import Stepwise
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `H1Connection` as a client against a raw peer: when it may take the next request (not while
/// a request body is still going out, even if the response came first), what a protocol switch
/// leaves to `takeSocket`, and a reset in a body delimited by the close.
final class H1ClientConnectionTests: XCTestCase {
    private func withClient<T: Sendable>(
        _ body: @escaping @Sendable (H1Connection, Int32, Reactor) async throws -> T
    ) throws -> T {
        try withClientConnection(body)
    }

    private static func send(_ fd: Int32, _ text: String) { send(fd, Array(text.utf8)) }

    private static func send(_ fd: Int32, _ bytes: [UInt8]) {
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        XCTAssertEqual(written, bytes.count)
    }

    /// What the peer has received so far (it waits up to a second for the first octets).
    private static func received(_ fd: Int32) -> String {
        var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&waiting, 1, 1000) == 1 else { return "" }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        return String(decoding: buffer[0..<max(0, count)], as: UTF8.self)
    }

    private static func request(_ method: String, _ path: String, _ fields: (String, String)...) -> Headers {
        var headers = Headers()
        headers.append(":method", method)
        headers.append(":path", path)
        headers.append(":authority", "t")
        for (name, value) in fields { headers.append(name, value) }
        return headers
    }

    func testARequestBodyStillGoingOutKeepsTheConnectionFromTheNextRequest() throws {
        try withClient { client, peer, _ in
            let idleCalls = Locked(0)
            client.onIdle = { _ in idleCalls.withLock { $0 += 1 } }
            let upload = try XCTUnwrap(client.newStream())
            try upload.writeHeaders(Self.request("POST", "/upload"), endStream: false)
            try upload.writeChunk(Array("first part".utf8), endStream: false)
            try await client.flush(timeout: 1)
            XCTAssertEqual(
                Self.received(peer),
                "POST /upload HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\na\r\nfirst part\r\n")

            // The server answers before the body ended (RFC 9110 §15: it may) and keeps the
            // connection.
            Self.send(peer, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            _ = try await upload.getHeaders(timeout: 1)
            let end = try await upload.getNextChunk(timeout: 1)
            XCTAssertNil(end)
            XCTAssertFalse(client.isIdle)
            XCTAssertEqual(idleCalls.withLock { $0 }, 0)
            // A head now would land inside the chunked body on the wire.
            let early = try XCTUnwrap(client.newStream())
            XCTAssertThrowsError(try early.writeHeaders(Self.request("GET", "/next"), endStream: true)) { error in
                guard case .invalidState? = error as? HTTPStreamError else { return XCTFail("\(error)") }
            }

            // Once the body ends the connection is idle, and the next request follows it.
            try upload.writeChunk([], endStream: true)
            XCTAssertTrue(client.isIdle)
            XCTAssertEqual(idleCalls.withLock { $0 }, 1)
            let next = try XCTUnwrap(client.newStream())
            try next.writeHeaders(Self.request("GET", "/next"), endStream: true)
            try await client.flush(timeout: 1)
            XCTAssertEqual(Self.received(peer), "0\r\n\r\nGET /next HTTP/1.1\r\nhost: t\r\n\r\n")
            Self.send(peer, "HTTP/1.1 204 No Content\r\n\r\n")
            let answer = try await next.getHeaders(timeout: 1)
            XCTAssertEqual(answer?.first(":status"), "204")
        }
    }

    /// A request declaring `content-length: 0` is complete once its head is out (RFC 9112 §6.3),
    /// whether or not its writer ended it yet. The connection counted it as a body still being
    /// written and refused the next request until an empty end-of-stream write.
    func testARequestDeclaringLengthZeroDoesNotHoldTheConnection() throws {
        try withClient { client, peer, _ in
            let empty = try XCTUnwrap(client.newStream())
            try empty.writeHeaders(Self.request("POST", "/empty", ("content-length", "0")), endStream: false)
            let next = try XCTUnwrap(client.newStream())
            try next.writeHeaders(Self.request("GET", "/next"), endStream: true)
            try await client.flush(timeout: 1)
            XCTAssertEqual(
                Self.received(peer),
                "POST /empty HTTP/1.1\r\nhost: t\r\ncontent-length: 0\r\n\r\nGET /next HTTP/1.1\r\nhost: t\r\n\r\n")
            // The writer's end changes nothing.
            try empty.writeChunk([], endStream: true)
            Self.send(peer, "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
            let first = try await empty.getHeaders(timeout: 1)
            XCTAssertEqual(first?.first(":status"), "204")
            let second = try await next.getHeaders(timeout: 1)
            XCTAssertEqual(second?.first(":status"), "204")
            XCTAssertTrue(client.isIdle)
        }
    }

    /// A whole request (`writeMessage`) has a known length, so it goes out with `content-length`,
    /// as a whole response does. It went out chunked (a server may refuse that with 411, RFC 9112
    /// §6.3), an HTTP/1.0 connection refused it as a body "of unknown length", and a
    /// `content-length` other than the body's was refused only once the head had gone out,
    /// leaving the connection with a request it could neither finish nor follow.
    func testAWholeRequestGoesOutWithItsLength() throws {
        for version in [HTTP1Version.http11, .http10] {
            try withClientConnection(version: version) { client, peer, _ in
                let line = version == .http10 ? "HTTP/1.0" : "HTTP/1.1"
                // An HTTP/1.0 connection persists only when the request asks (RFC 9112 §9.3).
                let keep = version == .http10 ? ("connection", "keep-alive") : ("x-v", "1.1")
                let kept = "\(keep.0): \(keep.1)\r\n"
                let upload = try XCTUnwrap(client.newStream())
                try upload.writeMessage(Self.request("POST", "/upload", keep), body: "hello")
                try await client.flush(timeout: 1)
                XCTAssertEqual(
                    Self.received(peer), "POST /upload \(line)\r\nhost: t\r\n\(kept)content-length: 5\r\n\r\nhello")
                XCTAssertTrue(upload.isOutboundComplete)
                Self.send(peer, "HTTP/1.1 204 No Content\r\n\r\n")
                _ = try await upload.getHeaders(timeout: 1)
                XCTAssertTrue(client.isIdle)

                let wrong = try XCTUnwrap(client.newStream())
                XCTAssertThrowsError(
                    try wrong.writeMessage(Self.request("POST", "/x", keep, ("content-length", "3")), body: "hello")
                ) { error in
                    XCTAssertEqual(error as? HTTPStreamError, .contentLengthMismatch(declared: 3, written: 5))
                }
                XCTAssertTrue(client.isIdle)
                let next = try XCTUnwrap(client.newStream())
                try next.writeMessage(Self.request("PUT", "/y", keep, ("content-length", "2")), body: "ok")
                try await client.flush(timeout: 1)
                XCTAssertEqual(
                    Self.received(peer), "PUT /y \(line)\r\nhost: t\r\n\(kept)content-length: 2\r\n\r\nok")
            }
        }
    }

    func testA101FollowedAtOnceByTheNewProtocolLeavesItToTakeSocket() throws {
        try withClient { client, peer, _ in
            let upgrade = try XCTUnwrap(client.newStream())
            try upgrade.writeHeaders(
                Self.request("GET", "/chat", ("connection", "upgrade"), ("upgrade", "websocket")), endStream: true)
            // Pipelined after the upgrade: it can never get an HTTP/1 response.
            let pipelined = try XCTUnwrap(client.newStream())
            try pipelined.writeHeaders(Self.request("GET", "/after"), endStream: true)
            // The server speaks first in the new protocol, in the same segment as the 101.
            Self.send(
                peer, "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\nHELLO")
            let response = try await upgrade.getHeaders(timeout: 1)
            XCTAssertEqual(response?.first(":status"), "101")
            XCTAssertFalse(client.isClosed)
            let failure = await thrownError { try await pipelined.getHeaders(timeout: 1) }
            guard case .connectionClosed? = failure as? HTTPStreamError else {
                return XCTFail("the request after the upgrade: \(String(describing: failure))")
            }
            let socket = client.takeSocket()
            defer { socket.close() }
            XCTAssertFalse(socket.isClosed)
            XCTAssertEqual(socket.input.readableBytes, 5)
            // Shutting the stream down once the socket is taken leaves it to its new owner.
            upgrade.shutdown()
            XCTAssertFalse(socket.isClosed)
        }
    }

    func testA101NobodyTakesClosesTheConnectionWhenItsStreamEnds() throws {
        try withClient { client, peer, _ in
            let upgrade = try XCTUnwrap(client.newStream())
            try upgrade.writeHeaders(
                Self.request("GET", "/chat", ("connection", "upgrade"), ("upgrade", "websocket")), endStream: true)
            Self.send(peer, "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n")
            let response = try await upgrade.getHeaders(timeout: 1)
            XCTAssertEqual(response?.first(":status"), "101")
            XCTAssertFalse(client.isClosed)
            // HTTP/1 reads no more, and nobody took the socket for the new protocol: nothing else
            // would ever close it.
            upgrade.shutdown()
            XCTAssertTrue(client.isClosed)
        }
    }

    func testInterimResponsesNobodyReadsAreBoundedAndTheFinalOneStillComes() throws {
        try withClient { client, peer, _ in
            let stream = try XCTUnwrap(client.newStream())
            try stream.writeHeaders(Self.request("GET", "/slow"), endStream: true)
            try await client.flush(timeout: 1)
            // A server sending 102 Processing without end while the reader looks elsewhere.
            Self.send(peer, String(repeating: "HTTP/1.1 102 Processing\r\n\r\n", count: 1000))
            Self.send(peer, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            try await client.reactor.sleep(seconds: 0.1)
            var interim = 0
            while let head = try await stream.getHeaders(timeout: 1), head.first(":status") == "102" { interim += 1 }
            XCTAssertEqual(interim, H1Connection.maximumUnreadInterimResponses)
            let body = try await stream.getBodyAsString(timeout: 1)
            XCTAssertEqual(body, "ok")
        }
    }

    func testAResponsesTransferCodingsAreUndoneInReverseAndAnUnknownOneIsRefused() throws {
        try withClient { client, peer, _ in
            // RFC 9112 §6.1: listed "in the order in which they were applied".
            let text = String(repeating: "chained transfer codings ", count: 40)
            var coded = Array(text.utf8)
            for format in [Deflater.Format.deflate, .gzip] {
                coded = try Deflater(format: format).process(coded, final: true)
            }
            let chained = try XCTUnwrap(client.newStream())
            try chained.writeHeaders(Self.request("GET", "/chained"), endStream: true)
            Self.send(
                peer,
                Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: deflate, gzip, chunked\r\n\r\n".utf8)
                    + Array("\(String(coded.count, radix: 16))\r\n".utf8) + coded + Array("\r\n0\r\n\r\n".utf8))
            _ = try await chained.getHeaders(timeout: 1)
            var body: [UInt8] = []
            while let chunk = try await chained.getNextChunk(timeout: 1) { body += chunk }
            XCTAssertEqual(String(decoding: body, as: UTF8.self), text)

            // A coding this side cannot undo leaves the body unreadable: the response fails.
            let unknown = try XCTUnwrap(client.newStream())
            try unknown.writeHeaders(Self.request("GET", "/br"), endStream: true)
            Self.send(peer, "HTTP/1.1 200 OK\r\nTransfer-Encoding: br, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
            let failure = await thrownError { try await unknown.getHeaders(timeout: 1) }
            XCTAssertEqual(failure as? HTTPStreamError, .protocolViolation(.unknownTransferCoding("br")))
        }
    }

    func testABodyDelimitedByTheCloseOverTLSEndsOnlyWithCloseNotify() throws {
        // RFC 9112 §9.8: complete "only if a valid closure alert has been received".
        XCTAssertEqual(try readCloseDelimitedBodyOverTLS(closingWithCloseNotify: true), "returned 13 octets")
        XCTAssertEqual(
            try readCloseDelimitedBodyOverTLS(closingWithCloseNotify: false),
            "threw \(HTTPStreamError.protocolViolation(.closedWithoutCloseNotify))")
    }

    /// A TLS peer answers with a body delimited by the close and closes, with or without
    /// close_notify; says what reading the whole body did.
    private func readCloseDelimitedBodyOverTLS(closingWithCloseNotify: Bool) throws -> String {
        try withTLSClientConnection { client, peer in
            try await Self.readCloseDelimitedBody(client, from: peer, closingWithCloseNotify: closingWithCloseNotify)
        }
    }

    private static func readCloseDelimitedBody(
        _ client: H1Connection, from peer: StreamSocket, closingWithCloseNotify: Bool
    ) async throws -> String {
        try client.start()
        let stream = try XCTUnwrap(client.newStream())
        try stream.writeHeaders(request("GET", "/"), endStream: true)
        // Neither a length nor chunked: the body ends with the connection (RFC 9112 §6.3).
        peer.write(Array("HTTP/1.1 200 OK\r\n\r\npart one, ".utf8))
        try await peer.flush(timeout: 1)
        _ = try await stream.getHeaders(timeout: 1)
        var body: [UInt8] = []
        body += try await stream.getNextChunk(timeout: 1) ?? []
        peer.write(Array("two".utf8))
        try await peer.flush(timeout: 1)
        endTLS(peer, withCloseNotify: closingWithCloseNotify)
        do {
            while let chunk = try await stream.getNextChunk(timeout: 1) { body += chunk }
            return "returned \(body.count) octets"
        } catch {
            return "threw \(error)"
        }
    }

    func testAResetInABodyDelimitedByTheCloseFailsTheBody() throws {
        let listener = try LoopbackListener()
        defer { listener.close() }
        let reactor = try Reactor()
        let outcome = try reactor.run(timeout: 10) { @Sendable in try await Self.readAfterAReset(listener, reactor) }
        XCTAssertTrue(outcome.hasPrefix("threw a socket error"), outcome)
    }

    /// Reads a close-delimited body whose first part arrives, then a reset; says what the next
    /// read did.
    private static func readAfterAReset(_ listener: LoopbackListener, _ reactor: Reactor) async throws -> String {
        let socket = try await StreamSocket.connect(host: "127.0.0.1", port: listener.port, on: reactor, timeout: 5)
        let client = H1Connection(socket: socket, type: .client)
        defer { client.close() }
        try client.start()
        let peer = try listener.accept()
        let stream = try XCTUnwrap(client.newStream())
        do {
            try stream.writeHeaders(request("GET", "/"), endStream: true)
            // Neither a length nor chunked: the body ends with the connection (RFC 9112 §6.3).
            send(peer, "HTTP/1.1 200 OK\r\n\r\npart one")
            _ = try await stream.getHeaders(timeout: 1)
            let first = try await stream.getNextChunk(timeout: 1)
            XCTAssertEqual(first.map { String(decoding: $0, as: UTF8.self) }, "part one")
        } catch {
            Glibc.close(peer)
            throw error
        }
        // A reset instead of a FIN: close with SO_LINGER's timeout zero.
        var abort = linger(l_onoff: 1, l_linger: 0)
        setsockopt(peer, SOL_SOCKET, SO_LINGER, &abort, socklen_t(MemoryLayout<linger>.size))
        Glibc.close(peer)
        do {
            let next = try await stream.getNextChunk(timeout: 1)
            return "returned \(next.map { "\($0.count) octets" } ?? "the end of the body")"
        } catch HTTPStreamError.socket(let error) {
            return "threw a socket error: \(error)"
        } catch {
            return "threw \(error)"
        }
    }
}

/// A TCP listener on 127.0.0.1 whose connections the test accepts itself (blocking).
private final class LoopbackListener: Sendable {
    let port: UInt16
    private let fd: Int32

    init() throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = self.fd
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw TestError("bind 127.0.0.1") }
        port = UInt16(bigEndian: address.sin_port)
    }

    /// The next connection (its handshake is complete once `connect` returned).
    func accept() throws -> Int32 {
        let peer = Glibc.accept(fd, nil, nil)
        guard peer >= 0 else { throw TestError("accept") }
        return peer
    }

    func close() { Glibc.close(fd) }
}
