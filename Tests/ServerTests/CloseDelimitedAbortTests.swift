import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A response whose body ends with the connection (to an HTTP/1.0 client, which cannot read
/// chunked) and that the handler cannot finish. RFC 9112 §8: such a response "is terminated by
/// closure of the connection and, thus, is considered complete regardless of the number of message
/// body octets received": an orderly close (a FIN, or TLS's close_notify) would pass the cut body
/// off as the whole one. The server resets the connection instead, which the client sees as an
/// error.
final class CloseDelimitedAbortTests: XCTestCase {
    /// A handler that sends the head and part of a body without a length, then fails.
    private func startFailingServer() throws -> TestServer {
        try startServer(
            handler: .task { stream in
                _ = try await stream.getHeaders(timeout: 5)
                var headers = Headers()
                headers.append(":status", "200")
                try await stream.writeHeaders(headers, endStream: false, timeout: 5)
                try await stream.writeChunk(
                    Array(repeating: UInt8(ascii: "a"), count: 1000), endStream: false, timeout: 5)
                try await (stream as? H1Stream)?.connection.flush(timeout: 5)
                throw TestError("the body's source failed")
            })
    }

    func testACutCloseDelimitedBodyEndsWithAResetNotAnOrderlyClose() throws {
        let server = try startFailingServer()
        let socket = try SoakSocket(port: server.port)
        XCTAssertTrue(socket.send(ArraySlice("GET /file HTTP/1.0\r\n\r\n".utf8), until: MonotonicClock.seconds() + 2))
        var output: [UInt8] = []
        let end = socket.readAll(until: MonotonicClock.seconds() + 2, into: &output)
        XCTAssertTrue(String(decoding: output, as: UTF8.self).hasPrefix("HTTP/1.1 200 OK\r\n"))
        XCTAssertFalse(String(decoding: output, as: UTF8.self).lowercased().contains("content-length"))
        XCTAssertEqual(end, .reset, "a close-delimited body cut short must not end like a whole one")
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 })
    }

    func testOverTLSACutCloseDelimitedBodyGetsNoCloseNotify() throws {
        let server = try startFailingServer()
        let socket = try SoakSocket(port: server.port)
        let engine = try TLSEngine(context: TLSContext.client(verify: false), role: .client(serverName: nil))
        let deadline = MonotonicClock.seconds() + 3
        var ended = false
        func exchangeCiphertext() {
            var out: [UInt8] = []
            engine.takeCiphertext(into: &out)
            if !out.isEmpty { socket.send(out[...], until: deadline) }
            var got: [UInt8] = []
            let end = socket.readAll(until: MonotonicClock.seconds() + 0.05, into: &got)
            if !got.isEmpty { engine.receiveCiphertext(got) }
            if end != .timedOut && !ended {
                ended = true
                engine.receivedEOF()
            }
        }
        while try engine.handshake() != .complete && MonotonicClock.seconds() < deadline { exchangeCiphertext() }
        _ = try engine.write(Array("GET /file HTTP/1.0\r\n\r\n".utf8))
        var plaintext: [UInt8] = []
        var outcome: String?
        var buffer = [UInt8](repeating: 0, count: 16384)
        while outcome == nil && MonotonicClock.seconds() < deadline {
            exchangeCiphertext()
            do {
                reading: while true {
                    switch try buffer.withUnsafeMutableBytes({ try engine.read(into: $0) }) {
                    case .bytes(let count): plaintext += buffer[..<count]
                    case .needsMoreInput:
                        if ended { outcome = "EOF without close_notify" }
                        break reading
                    case .closed:
                        outcome = "close_notify"
                        break reading
                    }
                }
            } catch {
                outcome = "EOF without close_notify"
            }
        }
        XCTAssertTrue(String(decoding: plaintext, as: UTF8.self).hasPrefix("HTTP/1.1 200 OK\r\n"))
        XCTAssertEqual(outcome, "EOF without close_notify", "a close_notify would say the cut body is whole")
    }

    func testABodyDroppedUnreadAtTheIntraStreamTimeoutEndsWithAReset() throws {
        // The whole body is queued at once (more than the kernel's buffers take); the client
        // reads none of it for the intra-stream timeout, so the server drops the rest and closes.
        let server = try startServer(
            { $0.intraStreamTimeout = 0.3 },
            handler: Self.queuesALargeBody)
        // A small receive buffer of a fixed size: one the kernel grows may take all 32 MiB.
        let socket = try SoakSocket(port: server.port, receiveBuffer: 64 << 10)
        XCTAssertTrue(socket.send(ArraySlice("GET /file HTTP/1.0\r\n\r\n".utf8), until: MonotonicClock.seconds() + 2))
        // Accepted first (it cannot close before the 0.3 s timeout): before the accept, no
        // connection is open either, and reading then would take the whole body as it streams.
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 1 })
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 })
        assertEndsWithAReset(socket)
    }

    func testABodyCutByTheServersCloseDeadlineEndsWithAReset() throws {
        let server = try startServer(
            handler: Self.queuesALargeBody)
        let socket = try SoakSocket(port: server.port)
        XCTAssertTrue(socket.send(ArraySlice("GET /file HTTP/1.0\r\n\r\n".utf8), until: MonotonicClock.seconds() + 2))
        // Accepted, and the body queued, before the close: one still in the listener's backlog
        // would be reset by the listener's close, and the deadline never tested.
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 1 })
        usleep(100_000)
        _ = try server.onServer { server in
            server.close(timeout: 0.1)
            return true
        }
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 })
        assertEndsWithAReset(socket)
    }

    func testACompleteCloseDelimitedBodyStillEndsWithAnOrderlyClose() throws {
        let server = try startServer(
            handler: .task { stream in
                _ = try await stream.getHeaders(timeout: 5)
                var headers = Headers()
                headers.append(":status", "200")
                try await stream.writeHeaders(headers, endStream: false, timeout: 5)
                try await stream.writeChunk(
                    Array(repeating: UInt8(ascii: "a"), count: 1000), endStream: true, timeout: 5)
            })
        let socket = try SoakSocket(port: server.port)
        XCTAssertTrue(socket.send(ArraySlice("GET /file HTTP/1.0\r\n\r\n".utf8), until: MonotonicClock.seconds() + 2))
        var output: [UInt8] = []
        XCTAssertEqual(socket.readAll(until: MonotonicClock.seconds() + 2, into: &output), .eof)
        XCTAssertTrue(String(decoding: output, as: UTF8.self).hasSuffix(String(repeating: "a", count: 1000)))
    }

    /// Answers an HTTP/1.0 request with a 32 MiB body delimited by the close, queued at once
    /// (more than the kernel's buffers take).
    private static let queuesALargeBody = Server.Handler.task { stream in
        _ = try await stream.getHeaders(timeout: 5)
        var headers = Headers()
        headers.append(":status", "200")
        try stream.writeHeaders(headers, endStream: false)
        try stream.writeChunk(Array(repeating: UInt8(ascii: "a"), count: 32 << 20), endStream: true)
    }

    /// The client reads what came: less than the whole body, ended by a reset, not an EOF.
    private func assertEndsWithAReset(_ socket: SoakSocket, line: UInt = #line) {
        var output: [UInt8] = []
        let end = socket.readAll(until: MonotonicClock.seconds() + 5, into: &output)
        XCTAssertLessThan(output.count, 32 << 20, line: line)
        XCTAssertEqual(end, .reset, "a close-delimited body cut short must not end like a whole one", line: line)
    }
}
