import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `H1Connection`'s low-level calls (lua-http's h1_connection `read_*` / `write_*`) between a
/// client and a server connection over a socket pair: whole exchanges with nothing else, timeouts
/// and partial input that leave the input for the next call, the end of input, misuse.
final class H1LowLevelTests: XCTestCase {
    /// Runs `body` with a client and a server connection over a socket pair on one reactor,
    /// neither started.
    private func withPair<T: Sendable>(
        _ options: H1ConnectionOptions = H1ConnectionOptions(),
        _ body: @escaping @Sendable (H1Connection, H1Connection, Reactor) async throws -> T
    ) throws -> T {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw TestError("socketpair") }
        let client = H1Connection(
            socket: StreamSocket(adopting: fds[0], on: reactor), type: .client, options: options)
        let server = H1Connection(
            socket: StreamSocket(adopting: fds[1], on: reactor), type: .server, options: options)
        defer {
            client.close()
            server.close()
        }
        return try reactor.run(timeout: 20) { try await body(client, server, reactor) }
    }

    private static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func testExchangesWithTheLowLevelCallsOnly() throws {
        try withPair { client, server, _ in
            // A chunked request with extensions and a trailer.
            try client.writeRequestLine(method: "POST", target: "/upload")
            try client.writeHeader(name: "Host", value: "example.com")
            try client.writeHeader(name: "Transfer-Encoding", value: "chunked")
            try await client.writeHeadersDone()
            try await client.writeBodyChunk(Self.bytes("this is a chunk"))
            try await client.writeBodyChunk(Self.bytes("this is another chunk"), extensions: ";n=v")
            try client.writeBodyLastChunk()
            try client.writeHeader(name: "Checksum", value: "abc")
            try await client.writeHeadersDone()

            let requestLine = try await server.readRequestLine()
            XCTAssertEqual(requestLine?.method, "POST")
            XCTAssertEqual(requestLine?.target, "/upload")
            XCTAssertEqual(requestLine?.version, .http11)
            var fields: [String] = []
            while let field = try await server.readHeader() { fields.append("\(field.name): \(field.value)") }
            XCTAssertEqual(fields, ["Host: example.com", "Transfer-Encoding: chunked"])
            let headEnded = try await server.readHeadersDone()
            XCTAssertTrue(headEnded)
            var chunks: [String] = []
            while let chunk = try await server.readBodyChunk() {
                chunks.append(String(decoding: chunk.data, as: UTF8.self) + "|" + chunk.extensions)
            }
            XCTAssertEqual(chunks, ["this is a chunk|", "this is another chunk|;n=v"])
            let headersEndedBeforeTrailers = try await server.readHeadersDone()
            XCTAssertFalse(headersEndedBeforeTrailers)
            let trailer = try await server.readHeader()
            XCTAssertEqual(trailer?.name, "Checksum")
            XCTAssertEqual(trailer?.value, "abc")
            let trailersEnded = try await server.readHeadersDone()
            XCTAssertTrue(trailersEnded)

            // A response with content-length.
            try server.writeStatusLine(status: 200, reason: "OK")
            try server.writeHeader(name: "Content-Length", value: "5")
            try await server.writeHeadersDone()
            try await server.writeBodyPlain(Self.bytes("hello"))
            let statusLine = try await client.readStatusLine()
            XCTAssertEqual(statusLine?.version, .http11)
            XCTAssertEqual(statusLine?.status, 200)
            XCTAssertEqual(statusLine?.reason, "OK")
            let length = try await client.readHeader()
            XCTAssertEqual(length?.name, "Content-Length")
            XCTAssertEqual(length?.value, "5")
            let noMoreFields = try await client.readHeader()
            XCTAssertNil(noMoreFields)
            let responseHeadEnded = try await client.readHeadersDone()
            XCTAssertTrue(responseHeadEnded)
            let body = try await client.readBodyByLength(5)
            XCTAssertEqual(body, Self.bytes("hello"))

            // HTTP/1.0, a method lua-http rejects, and a body delimited by the close.
            try client.writeRequestLine(method: "M-SEARCH", target: "*", version: .http10)
            try await client.writeHeadersDone()
            let search = try await server.readRequestLine()
            XCTAssertEqual(search?.method, "M-SEARCH")
            XCTAssertEqual(search?.version, .http10)
            let searchHeadEnded = try await server.readHeadersDone()
            XCTAssertTrue(searchHeadEnded)
            try server.writeStatusLine(version: .http10, status: 299, reason: "")
            try await server.writeHeadersDone()
            try await server.writeBodyPlain(Self.bytes("until the close"))
            server.close()
            let last = try await client.readStatusLine()
            XCTAssertEqual(last?.version, .http10)
            XCTAssertEqual(last?.status, 299)
            XCTAssertEqual(last?.reason, "")
            let lastHeadEnded = try await client.readHeadersDone()
            XCTAssertTrue(lastHeadEnded)
            let closeDelimited = try await client.readBodyTillClose()
            XCTAssertEqual(closeDelimited, Self.bytes("until the close"))
            let afterClose = try await client.readStatusLine()
            XCTAssertNil(afterClose)
        }
    }

    func testTimeoutsLeaveTheInputForTheNextCall() throws {
        try withPair { client, server, _ in
            var error = await thrownError { try await server.readRequestLine(timeout: 0.02) }
            XCTAssertEqual(error as? ReactorError, .timedOut("readRequestLine"))
            try await client.writeBodyPlain(Self.bytes("GET / HT"))
            error = await thrownError { try await server.readRequestLine(timeout: 0.02) }
            XCTAssertEqual(error as? ReactorError, .timedOut("readRequestLine"))
            try await client.writeBodyPlain(Self.bytes("TP/1.1\r\nfoo: b"))
            let target = try await server.readRequestLine(timeout: 1)?.target
            XCTAssertEqual(target, "/")
            error = await thrownError { try await server.readHeader(timeout: 0.02) }
            XCTAssertEqual(error as? ReactorError, .timedOut("readHeader"))
            try await client.writeBodyPlain(Self.bytes("ar\r\n\r"))
            let value = try await server.readHeader(timeout: 1)?.value
            XCTAssertEqual(value, "bar")
            error = await thrownError { try await server.readHeadersDone(timeout: 0.02) }
            XCTAssertEqual(error as? ReactorError, .timedOut("readHeadersDone"))
            try await client.writeBodyPlain(Self.bytes("\n"))
            let ended = try await server.readHeadersDone(timeout: 1)
            XCTAssertTrue(ended)

            // lua-http's resumable chunk reads.
            for (piece, complete) in [("6", false), ("\r\nfoo", false), ("bar\r\n", true)] {
                try await client.writeBodyPlain(Self.bytes(piece))
                if complete {
                    let chunk = try await server.readBodyChunk(timeout: 1)?.data
                    XCTAssertEqual(chunk, Self.bytes("foobar"))
                } else {
                    error = await thrownError { try await server.readBodyChunk(timeout: 0.02) }
                    XCTAssertEqual(error as? ReactorError, .timedOut("readBodyChunk"), piece.debugDescription)
                }
            }
            for piece in ["0", "\r"] {
                try await client.writeBodyPlain(Self.bytes(piece))
                error = await thrownError { try await server.readBodyChunk(timeout: 0.02) }
                XCTAssertEqual(error as? ReactorError, .timedOut("readBodyChunk"), piece.debugDescription)
            }
            try await client.writeBodyPlain(Self.bytes("\n\r\n"))
            let lastChunk = try await server.readBodyChunk(timeout: 1)
            XCTAssertNil(lastChunk)
            let trailersEnded = try await server.readHeadersDone(timeout: 1)
            XCTAssertTrue(trailersEnded)

            error = await thrownError { try await server.readBodyByLength(4, timeout: 0.02) }
            XCTAssertEqual(error as? ReactorError, .timedOut("readBodyByLength"))
            try await client.writeBodyPlain(Self.bytes("body"))
            let body = try await server.readBodyByLength(4, timeout: 1)
            XCTAssertEqual(body, Self.bytes("body"))
        }
    }

    func testEndOfInput() throws {
        try withPair { client, server, _ in
            client.close()
            let requestLine = try await server.readRequestLine()
            XCTAssertNil(requestLine)
            let error = await thrownError { try await server.readHeader() }
            XCTAssertEqual(error as? HTTPStreamError, .protocolViolation(.unexpectedEOF))
        }
        let cases: [(String, @Sendable (H1Connection) async throws -> Void)] = [
            ("GET / HT", { _ = try await $0.readRequestLine() }),
            ("foo: bar\r", { _ = try await $0.readHeader() }),
            ("\r", { _ = try await $0.readHeadersDone() }),
            ("5\r\nhel", { _ = try await $0.readBodyChunk() }),
        ]
        for (input, read) in cases {
            try withPair { client, server, _ in
                try await client.writeBodyPlain(Self.bytes(input))
                client.close()
                let error = await thrownError { try await read(server) }
                XCTAssertEqual(error as? HTTPStreamError, .protocolViolation(.unexpectedEOF), input.debugDescription)
                // Nothing was consumed.
                let rest = try await server.readBodyTillClose()
                XCTAssertEqual(rest, Self.bytes(input))
            }
        }
        try withPair { client, server, _ in
            try await client.writeBodyPlain(Self.bytes("abc"))
            client.close()
            let error = await thrownError { try await server.readBodyByLength(10) }
            XCTAssertEqual(error as? HTTPStreamError, .protocolViolation(.unexpectedEOF))
            let available = try await server.readBodyByLength(-10)
            XCTAssertEqual(available, Self.bytes("abc"))
            let atEOF = try await server.readBodyByLength(-10)
            XCTAssertEqual(atEOF, [])
        }
    }

    func testInvalidInputThrowsTheParsersErrorsAndConsumesNothing() throws {
        try withPair { client, server, _ in
            try await client.writeBodyPlain(Self.bytes("GET / HTTP/2.0\r\n"))
            let error = await thrownError { try await server.readRequestLine() }
            XCTAssertEqual(error as? HTTPStreamError, .protocolViolation(.unsupportedVersion(major: 2, minor: 0)))
            let rest = try await server.readBodyByLength(-100)
            XCTAssertEqual(rest, Self.bytes("GET / HTTP/2.0\r\n"))

            try await client.writeBodyPlain(Self.bytes("foo : bar\r\n"))
            let colon = await thrownError { try await server.readHeader() }
            XCTAssertEqual(colon as? HTTPStreamError, .protocolViolation(.whitespaceBeforeColon("foo")))
            let line = try await server.readBodyByLength(-100)
            XCTAssertEqual(line, Self.bytes("foo : bar\r\n"))
        }
        // The options' limits apply.
        var options = H1ConnectionOptions()
        options.limits.maxStartLineLength = 32
        options.limits.maxFieldCount = 1
        try withPair(options) { client, server, _ in
            try await client.writeBodyPlain(Self.bytes("GET /" + String(repeating: "a", count: 40)))
            let error = await thrownError { try await server.readRequestLine() }
            XCTAssertEqual(error as? HTTPStreamError, .protocolViolation(.requestTargetTooLong(limit: 32)))
            _ = try await server.readBodyByLength(45)
            try await client.writeBodyPlain(Self.bytes("GET / HTTP/1.1\r\na: 1\r\nb: 2\r\n"))
            _ = try await server.readRequestLine()
            let name = try await server.readHeader()?.name
            XCTAssertEqual(name, "a")
            let tooMany = await thrownError { try await server.readHeader() }
            XCTAssertEqual(tooMany as? HTTPStreamError, .protocolViolation(.tooManyFields(limit: 1)))
        }
    }

    func testInvalidWritesThrowAndWriteNothing() throws {
        try withPair { client, server, _ in
            let target = await thrownError { try client.writeRequestLine(method: "GET", target: "/a b") }
            XCTAssertEqual(target as? HTTP1SerializeError, .invalidRequestTarget("/a b"))
            let method = await thrownError { try client.writeRequestLine(method: "GET\r\n", target: "/") }
            XCTAssertEqual(method as? HTTP1SerializeError, .invalidMethod("GET\r\n"))
            let value = await thrownError { try client.writeHeader(name: "foo", value: "bar\r\nx: y") }
            XCTAssertEqual(value as? HTTP1SerializeError, .invalidFieldValue(name: "foo"))
            let status = await thrownError { try server.writeStatusLine(status: 1000, reason: "OK") }
            XCTAssertEqual(status as? HTTP1SerializeError, .invalidStatus("1000"))
            let ext = await thrownError { try await client.writeBodyChunk([1], extensions: "\r\n0\r\n\r\n") }
            XCTAssertEqual(ext as? HTTP1SerializeError, .invalidChunkExtension("\r\n0\r\n\r\n"))
            try client.writeRequestLine(method: "GET", target: "/")
            try await client.writeHeadersDone()
            let written = try await server.readBodyByLength(-100)
            XCTAssertEqual(written, Self.bytes("GET / HTTP/1.1\r\n\r\n"))
        }
    }

    /// A connection runs streams or the low-level calls, never both: once a low-level call ran,
    /// `start()` throws and changes nothing, on a client as on a server
    /// (`testAServerThatUsedTheLowLevelCallsRefusesToStart`). A client started after its
    /// low-level calls wrote a request could not read the response (its low-level reads
    /// refused, and the response reached a parser with no stream waiting: the connection
    /// closed). Once started, the low-level calls throw.
    func testOnlyForConnectionsThatDoNotRunStreams() throws {
        try withPair { client, server, reactor in
            // Reads may not overlap.
            let first = reactor.spawn { try await server.readHeader(timeout: 5) }
            try await reactor.sleep(seconds: 0.01)
            let overlap = await thrownError { try await server.readHeader() }
            XCTAssertEqual(overlap as? HTTPStreamError, .invalidState("readHeader: another low-level read is running"))
            try await client.writeBodyPlain(Self.bytes("a: b\r\n"))
            let value = try await first.value?.value
            XCTAssertEqual(value, "b")

            let start = await thrownError { try client.start() }
            XCTAssertEqual(
                start as? HTTPStreamError,
                .invalidState("start(): the low-level calls were used on this connection; it cannot run streams"))
            // Nothing changed: the client's low-level calls go on, and read what comes back.
            try await client.writeBodyPlain(Self.bytes("\r\n"))
            let ended = try await server.readHeadersDone(timeout: 1)
            XCTAssertTrue(ended)
            try server.writeStatusLine(status: 204, reason: "No Content")
            try await server.writeHeadersDone()
            let status = try await client.readStatusLine(timeout: 1)
            XCTAssertEqual(status?.status, 204)
        }
        try withPair { client, server, reactor in
            try client.start()
            let started = await thrownError { try client.writeRequestLine(method: "GET", target: "/") }
            guard case .invalidState? = started as? HTTPStreamError else {
                return XCTFail("\(String(describing: started))")
            }
            let read = await thrownError { try await client.readStatusLine() }
            guard case .invalidState? = read as? HTTPStreamError else { return XCTFail("\(String(describing: read))") }

            // A read waiting when the connection closes.
            let waiting = reactor.spawn { try await server.readRequestLine(timeout: 5) }
            try await reactor.sleep(seconds: 0.01)
            server.close()
            let closed = await thrownError { try await waiting.value }
            XCTAssertEqual(closed as? HTTPStreamError, .connectionClosed("during readRequestLine"))
            let afterClose = await thrownError { try await server.readRequestLine() }
            XCTAssertEqual(afterClose as? HTTPStreamError, .connectionClosed("before readRequestLine"))
            let writeAfterClose = await thrownError { try await server.writeBodyPlain([1]) }
            XCTAssertEqual(writeAfterClose as? HTTPStreamError, .connectionClosed("before writeBodyPlain"))
        }
    }

    /// A client connection runs streams or the low-level calls, never both, started or not: only
    /// `start()` was checked, so a connection whose streams wrote without it took low-level
    /// writes too, and the other way round, mixing both on the wire (a request line inside a
    /// request's body, responses read by the wrong side). Either is refused once the other wrote.
    func testStreamsAndTheLowLevelCallsDoNotMixWithoutStart() throws {
        let get: Headers = {
            var headers = Headers()
            headers.append(":method", "GET")
            headers.append(":path", "/")
            headers.append(":authority", "t")
            return headers
        }()
        try withPair { client, server, _ in
            let stream = try XCTUnwrap(client.newStream())
            try stream.writeHeaders(get, endStream: false)
            let write = await thrownError { try client.writeRequestLine(method: "GET", target: "/low") }
            guard case .invalidState? = write as? HTTPStreamError else {
                return XCTFail("\(String(describing: write))")
            }
            let read = await thrownError { try await client.readStatusLine(timeout: 0.2) }
            guard case .invalidState? = read as? HTTPStreamError else { return XCTFail("\(String(describing: read))") }
            try await client.flush(timeout: 1)
            let line = try await server.readRequestLine(timeout: 1)
            XCTAssertEqual(line?.target, "/")
        }
        try withPair { client, server, _ in
            try client.writeRequestLine(method: "GET", target: "/low")
            try client.writeHeader(name: "Host", value: "t")
            let stream = try XCTUnwrap(client.newStream())
            XCTAssertThrowsError(try stream.writeHeaders(get, endStream: true)) { error in
                guard case .invalidState? = error as? HTTPStreamError else { return XCTFail("\(error)") }
            }
            try await client.writeHeadersDone()
            let line = try await server.readRequestLine(timeout: 1)
            XCTAssertEqual(line?.target, "/low")
            let host = try await server.readHeader(timeout: 1)
            XCTAssertEqual(host?.name, "Host")
            let ended = try await server.readHeadersDone(timeout: 1)
            XCTAssertTrue(ended)
            // Nothing of the refused stream's head followed.
            let more = await thrownError { try await server.readRequestLine(timeout: 0.2) }
            XCTAssertEqual(more as? ReactorError, .timedOut("readRequestLine"))
        }
    }

    /// A server connection runs streams or the low-level calls, never both, as a client does:
    /// `start()` after a low-level read would have its parser take up the input inside the
    /// request (here after its request line, so its fields would read as a request line), and
    /// after a low-level write its streams' responses would follow what that framed. It throws,
    /// and changes nothing: no stream is handed out, and the low-level calls go on where they
    /// were.
    func testAServerThatUsedTheLowLevelCallsRefusesToStart() throws {
        try withPair { client, server, _ in
            try client.writeRequestLine(method: "GET", target: "/low")
            try client.writeHeader(name: "Host", value: "t")
            try await client.writeHeadersDone()
            let line = try await server.readRequestLine(timeout: 1)
            XCTAssertEqual(line?.target, "/low")
            let start = await thrownError { try server.start() }
            XCTAssertEqual(
                start as? HTTPStreamError,
                .invalidState("start(): the low-level calls were used on this connection; it cannot run streams"))
            let stream = await thrownError { try await server.nextIncomingStream(timeout: 0.05) }
            XCTAssertEqual(stream as? ReactorError, .timedOut("nextIncomingStream"))
            let host = try await server.readHeader(timeout: 1)
            XCTAssertEqual(host?.name, "Host")
            let ended = try await server.readHeadersDone(timeout: 1)
            XCTAssertTrue(ended)
        }
        // A write alone is enough.
        try withPair { _, server, _ in
            try server.writeStatusLine(status: 200, reason: "OK")
            XCTAssertThrowsError(try server.start()) { error in
                guard case .invalidState? = error as? HTTPStreamError else { return XCTFail("\(error)") }
            }
        }
    }

    func testChunksAndBodiesLargerThanTheSocketsInputBuffer() throws {
        let big = pattern(0, 1_500_000)
        try withPair { client, server, reactor in
            let writer = reactor.spawn {
                try await client.writeBodyChunk(big)
                try await client.writeBodyPlain(big)
            }
            let chunk = try await server.readBodyChunk(limit: 2_000_000)?.data
            XCTAssertEqual(chunk, big)
            let body = try await server.readBodyByLength(big.count)
            XCTAssertEqual(body, big)
            try await writer.value

            // Past the caller's limit: refused as soon as the size line arrives.
            try await client.writeBodyPlain(Self.bytes("16e360\r\n"))
            let error = await thrownError { try await server.readBodyChunk(limit: 1_000_000) }
            XCTAssertEqual(error as? HTTPStreamError, .bodyTooLarge(limit: 1_000_000))
            try await client.writeBodyPlain(Self.bytes("more"))
            client.close()
            let tillClose = await thrownError { try await server.readBodyTillClose(limit: 8) }
            XCTAssertEqual(tillClose as? HTTPStreamError, .bodyTooLarge(limit: 8))
        }
    }

    /// RFC 9112 §9.8: a body delimited by the close is complete "only if a valid closure alert has
    /// been received". The stream API refuses a TLS body cut short without one; the low-level
    /// reads returned it as the whole body.
    func testABodyUntilTheCloseOverTLSEndsOnlyWithCloseNotify() throws {
        let cut = "threw \(HTTPStreamError.protocolViolation(.closedWithoutCloseNotify))"
        for byLength in [false, true] {
            XCTAssertEqual(try readUntilCloseOverTLS(closeNotify: true, byLength: byLength), "returned 14 octets")
            XCTAssertEqual(try readUntilCloseOverTLS(closeNotify: false, byLength: byLength), cut)
        }
    }

    /// A TLS peer sends a body and closes, with or without close_notify; says what reading it until
    /// the close did (`readBodyTillClose`, or `readBodyByLength(-n)` until it returns nothing).
    private func readUntilCloseOverTLS(closeNotify: Bool, byLength: Bool) throws -> String {
        try withTLSClientConnection { client, peer in
            peer.write(Self.bytes("the whole body"))
            try await peer.flush(timeout: 1)
            endTLS(peer, withCloseNotify: closeNotify)
            do {
                guard byLength else { return "returned \(try await client.readBodyTillClose(timeout: 1).count) octets" }
                var body: [UInt8] = []
                while case let part = try await client.readBodyByLength(-4, timeout: 1), !part.isEmpty { body += part }
                return "returned \(body.count) octets"
            } catch {
                return "threw \(error)"
            }
        }
    }

    func testAResetConnectionIsASocketError() throws {
        try withPair { client, server, _ in
            try await server.writeBodyPlain(Self.bytes("something that flushes"))
            // Closing with unread input resets the connection (Linux, AF_UNIX and TCP alike).
            client.close()
            let error = await thrownError { try await server.readHeader() }
            XCTAssertEqual(error as? HTTPStreamError, .socket(.system(operation: "read", errno: ECONNRESET)))
        }
    }
}
