import Foundation
import Stepwise
import XCTest

/// `Request.go`'s one deadline against a peer that stalls at each phase: connect, TLS handshake,
/// request body write, 100-continue wait and (read by the caller) the response body. Each fails
/// on time and names its phase (DNS: `DNSPhaseTests`; response head: `RequestGoTests`), and the
/// connection that timed out is closed.
final class RequestTimeoutTests: XCTestCase {
    func testConnect() throws {
        let listener = try StalledListener(fullAcceptQueue: true)
        defer { listener.close() }
        try assertGoTimesOut(port: listener.port, during: "connect")
    }

    func testTLSHandshake() throws {
        let listener = try StalledListener()
        defer { listener.close() }
        try assertGoTimesOut("https", port: listener.port, during: "TLS handshake")
    }

    func testRequestBodyWrite() throws {
        let listener = try StalledListener()
        defer { listener.close() }
        try assertGoTimesOut(port: listener.port, during: "request body write") { request in
            try request.headers.upsert(":method", "PUT")
            // Far more than the socket buffers and the write queue hold while nobody reads.
            request.setBody(bytes: [UInt8](repeating: 0x62, count: 32 << 20))
            request.headers.delete("expect")
        }
    }

    func testContinueWaitLongerThanTheDeadline() throws {
        let listener = try StalledListener()
        defer { listener.close() }
        try assertGoTimesOut(port: listener.port, during: "100-continue wait") { request in
            try request.headers.upsert(":method", "PUT")
            request.setBody(bytes: [UInt8](repeating: 0x63, count: 2 << 20))
            XCTAssertTrue(request.expectsContinue)
            request.expect100Timeout = 10
        }
    }

    func testContinueWaitPastInterimResponsesStillEndsAtTheDeadline() throws {
        // 103 Early Hints every 0.1 s and nothing else for 3 s: each must not restart the wait.
        let server = try TestServer { stream, _ in
            var hints = Headers()
            hints.append(":status", "103")
            for _ in 0..<30 {
                try await stream.writeHeaders(hints, endStream: false, timeout: 1)
                try await stream.reactor.sleep(seconds: 0.1)
            }
            try await reply(stream, "too late")
        }
        defer { server.stop() }
        try assertGoTimesOut(port: server.port, during: "100-continue wait") { request in
            try request.headers.upsert(":method", "PUT")
            request.setBody("hello")
            request.headers.append("expect", "100-continue")
            XCTAssertTrue(request.expectsContinue)
            request.expect100Timeout = 10
        }
    }

    func testResponseBodyRead() throws {
        let server = try TestServer { stream, _ in try await stallMidBody(stream, after: "abc") }
        defer { server.stop() }
        let reactor = try Reactor()
        let url = "http://127.0.0.1:\(server.port)/"
        // go() returns at the head; the caller's read has its own timeout.
        let (_, stream) = try Request(uri: url).go(on: reactor, timeout: 5)
        XCTAssertEqual(try reactor.run { try await stream.getNextChunk(timeout: 0.3) }, Array("abc".utf8))
        assertFailsOnTime("getNextChunk: timed out") {
            _ = try reactor.run { try await stream.getNextChunk(timeout: 0.3) }
        }
        try reactor.run { stream.shutdown() }
        // fetch() reads the body under the one deadline.
        assertFailsOnTime("127.0.0.1:\(server.port): timed out after 0.3 s during response body read") {
            _ = try Request(uri: url).fetch(on: reactor, timeout: 0.3)
        }
    }

    /// A raw server that reads one request, sends `answer` and then waits for the client to close;
    /// records the seconds from the answer to the client's EOF (-1: none within 3 s) and signals.
    private func startEOFWatcher(answer: String) throws -> (OneShotServer, Locked<[Double]>, DispatchSemaphore) {
        let eofAfter = Locked<[Double]>([])
        let recorded = DispatchSemaphore(value: 0)
        let server = try OneShotServer { client in
            guard OneShotServer.readRequest(client) else { return }
            _ = answer.withCString { send(client, $0, strlen($0), 0) }
            let answered = MonotonicClock.seconds()
            var timeout = timeval(tv_sec: 3, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var byte: UInt8 = 0
            let got = recv(client, &byte, 1, 0)
            eofAfter.withLock { $0.append(got == 0 ? MonotonicClock.seconds() - answered : -1) }
            recorded.signal()
        }
        return (server, eofAfter, recorded)
    }

    func testATimedOutExchangeClosesItsConnection() throws {
        let (server, eofAfter, recorded) = try startEOFWatcher(answer: "")
        defer { server.stop() }
        try assertGoTimesOut(port: server.port, during: "response head read")
        XCTAssertEqual(recorded.wait(timeout: .now() + 5), .success)
        XCTAssertTrue((0.2...1.5).contains(eofAfter.withLock { $0[0] }), "EOF after \(eofAfter.withLock { $0 }) s")
    }

    func testATimedOutBodyReadInFetchClosesTheConnection() throws {
        let (server, eofAfter, recorded) = try startEOFWatcher(
            answer: "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")
        defer { server.stop() }
        let reactor = try Reactor()
        assertFailsOnTime("127.0.0.1:\(server.port): timed out after 0.3 s during response body read") {
            _ = try Request(uri: "http://127.0.0.1:\(server.port)/").fetch(on: reactor, timeout: 0.3)
        }
        XCTAssertEqual(recorded.wait(timeout: .now() + 5), .success)
        XCTAssertTrue((0.2...1.5).contains(eofAfter.withLock { $0[0] }), "EOF after \(eofAfter.withLock { $0 }) s")
    }

    /// `go()` of a request for `scheme://127.0.0.1:port/`, set up by `configure`, fails 0.3 s
    /// into its deadline during `phase`.
    private func assertGoTimesOut(
        _ scheme: String = "http", port: UInt16, during phase: String, file: StaticString = #filePath,
        line: UInt = #line, _ configure: (Request) throws -> Void = { _ in }
    ) throws {
        let reactor = try Reactor()
        let request = try Request(uri: "\(scheme)://127.0.0.1:\(port)/")
        try configure(request)
        assertFailsOnTime("127.0.0.1:\(port): timed out after 0.3 s during \(phase)", file: file, line: line) {
            _ = try request.go(on: reactor, timeout: 0.3)
        }
    }
}
