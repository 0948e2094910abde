import Foundation
import Stepwise
import XCTest

/// `expect: 100-continue` with nginx (RFC 9110 §10.1.1): nginx sends `100 Continue` when it
/// starts reading a body (and counts those 25 bytes in `$body_bytes_sent` of a body-less
/// response), refuses a body over `client_max_body_size` with 413 before it is sent, ignores
/// the expectation of an HTTP/1.0 request, and answers late when `limit_req` holds the request.
final class NginxExpectContinueTests: XCTestCase {
    static var settings: NginxPeer.Settings {
        var settings = NginxPeer.Settings()
        settings.http = "limit_req_zone $server_port zone=held:1m rate=4r/s;"
        settings.locations = """
            location /small/ { dav_methods PUT; create_full_put_path on; client_max_body_size 1k; }
            location /held/ { dav_methods PUT; create_full_put_path on; limit_req zone=held burst=5; }
            """
        return settings
    }

    /// A 2 MiB body is announced (`setBody`'s 1 MiB rule) and waits for nginx's go-ahead: with
    /// `expect100Timeout` beyond the deadline, a missing `100 Continue` would fail the request.
    func testAcceptedNginxSendsContinueAndGetsTheBody() throws {
        let nginx = try startNginx(Self.settings)
        let reactor = try Reactor()
        let body = testBytes(2 << 20, seed: 11)
        let request = try Request(uri: nginx.url("/dav/accepted.bin"))
        try request.headers.upsert(":method", "PUT")
        request.setBody(bytes: body)
        XCTAssertTrue(request.expectsContinue)
        request.expect100Timeout = 60
        XCTAssertEqual(try request.fetch(on: reactor, timeout: 5).status, 201)
        assertSameBytes(nginx.readFile("dav/accepted.bin"), body)
        let entry = try XCTUnwrap(nginx.accessLog(atLeast: 1).first)
        XCTAssertEqual(entry.expect, "100-continue")
        XCTAssertEqual(entry.bodyBytesSent, "25", "nginx sent no 100 Continue")
    }

    /// Over `client_max_body_size` nginx answers 413 at once: the client skips the body, nginx
    /// received only the head, and the pool does not reuse the half-sent request's connection.
    func testRefusedWithAFinalStatusTheBodyIsNotSent() throws {
        let nginx = try startNginx(Self.settings)
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        let request = try Request(uri: nginx.url("/small/refused.bin"))
        request.pool = pool
        try request.headers.upsert(":method", "PUT")
        request.setBody(bytes: testBytes(2 << 20, seed: 12))
        request.expect100Timeout = 60
        let response = try request.fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.status, 413)
        XCTAssertTrue(response.text.contains("413 Request Entity Too Large"), response.text)
        XCTAssertNil(nginx.readFile("small/refused.bin"))

        let after = try Request(uri: nginx.url("/hello"))
        after.pool = pool
        XCTAssertEqual(try after.fetch(on: reactor, timeout: 5).text, "Hello, World!")
        let log = try nginx.accessLog(atLeast: 2)
        XCTAssertEqual(log.map(\.status), ["413", "200"])
        let received = try XCTUnwrap(Int(log[0].requestLength))
        XCTAssertLessThan(received, 4096, "nginx received body bytes")
        XCTAssertEqual(log[0].contentLength, String(2 << 20))
        XCTAssertNotEqual(log[0].connection, log[1].connection)
    }

    /// nginx never sends `100 Continue` to HTTP/1.0 (RFC 9110 §10.1.1: a server "MUST ignore"
    /// the expectation there): the body goes out unasked after `expect100Timeout`.
    func testTimedOutTheBodyGoesOutUnasked() throws {
        let nginx = try startNginx(Self.settings)
        let reactor = try Reactor()
        let (seconds, entry) = try put(
            testBytes(3000, seed: 13), to: "dav/unasked.bin", on: nginx, reactor: reactor, waiting: 0.3,
            version: .http10)
        XCTAssertGreaterThanOrEqual(seconds, 0.29, "did not wait for 100 Continue")
        XCTAssertEqual(entry.protocol, "HTTP/1.0")
        XCTAssertEqual(entry.bodyBytesSent, "0")
    }

    /// `limit_req` holds the request for 250 ms, longer than the client waits (50 ms): the body
    /// goes out unasked, and nginx's late `100 Continue` before its 201 is skipped.
    func testTimedOutALateContinueIsSkipped() throws {
        let nginx = try startNginx(Self.settings)
        let reactor = try Reactor()
        // The first request takes the zone's slot; the next one waits for the following slot.
        let first = try Request(uri: nginx.url("/held/first.bin"))
        try first.headers.upsert(":method", "PUT")
        first.setBody("first")
        XCTAssertEqual(try first.fetch(on: reactor, timeout: 5).status, 201)

        let (seconds, entry) = try put(
            testBytes(5000, seed: 14), to: "held/late.bin", on: nginx, reactor: reactor, waiting: 0.05)
        XCTAssertGreaterThanOrEqual(seconds, 0.2, "nginx did not hold the request")
        XCTAssertEqual(entry.protocol, "HTTP/1.1")
        XCTAssertEqual(entry.bodyBytesSent, "25", "nginx sent no late 100 Continue")
    }

    /// PUTs `body` (shorter than `setBody`'s threshold, so `expect: 100-continue` is added by
    /// hand), waiting `waiting` seconds for the go-ahead; checks the 201 and the stored bytes.
    /// Returns how long it took and nginx's log line for it.
    private func put(
        _ body: [UInt8], to path: String, on nginx: NginxPeer, reactor: Reactor, waiting: Double,
        version: HTTPVersionPreference? = nil, file: StaticString = #filePath, line: UInt = #line
    ) throws -> (seconds: Double, entry: NginxLogEntry) {
        let request = try Request(uri: nginx.url("/" + path))
        request.version = version
        try request.headers.upsert(":method", "PUT")
        request.setBody(bytes: body)
        request.headers.append("expect", "100-continue")
        request.expect100Timeout = waiting
        let started = MonotonicClock.seconds()
        XCTAssertEqual(try request.fetch(on: reactor, timeout: 5).status, 201, file: file, line: line)
        let seconds = MonotonicClock.seconds() - started
        assertSameBytes(nginx.readFile(path), body, file: file, line: line)
        let entry = try XCTUnwrap(nginx.accessLog(uri: "/" + path, atLeast: 1).first, file: file, line: line)
        XCTAssertEqual(entry.expect, "100-continue", file: file, line: line)
        return (seconds, entry)
    }
}
