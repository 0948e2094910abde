import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A reused connection that ends after an interim (1xx) head but before the final response was
/// not stale: the server had the request and was at work on it (`StaleConnection.wasStale`).
/// Neither `Request.go` (pooled) nor `HTTPConnection` sends the request again; both fail with the
/// connection's end. `Request.go` used to send it again when the interim head was the `100
/// Continue` it waited for, where `HTTPConnection` did not.
final class InterimResponseRetryTests: XCTestCase {
    /// A PUT with `expect: 100-continue`: the server says `100 Continue`, reads the body and
    /// closes.
    func testAfterA100ContinueNeitherAPIRetries() throws {
        let server = try OneShotServer(serve: Self.answerThenInviteTheBodyAndClose)
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        XCTAssertEqual(try server.request(pool: pool).fetch(on: reactor, timeout: 5).text, "ok")
        let put = try server.request(pool: pool)
        try put.headers.upsert(":method", "PUT")
        put.setBody("abc")
        put.headers.append("expect", "100-continue")
        XCTAssertThrowsError(try put.fetch(on: reactor, timeout: 5)) { Self.assertEndedAfterAnInterimHead($0) }
        XCTAssertEqual(server.connections, 1, "Request.go sent the request again")

        let other = try OneShotServer(serve: Self.answerThenInviteTheBodyAndClose)
        defer { other.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: other.port, timeout: 5)
        defer { conn.close() }
        try conn.request("GET", "/")
        XCTAssertEqual(try conn.getResponse().text, "ok")
        try conn.request("PUT", "/", body: Array("abc".utf8), expectContinue: true)
        XCTAssertThrowsError(try conn.getResponse()) { Self.assertEndedAfterAnInterimHead($0) }
        XCTAssertEqual(other.connections, 1, "HTTPConnection sent the request again")
    }

    /// A GET answered `103 Early Hints`, then the end: the same for both.
    func testAfterEarlyHintsNeitherAPIRetries() throws {
        let server = try OneShotServer(serve: Self.answerThenHintAndClose)
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        XCTAssertEqual(try server.request(pool: pool).fetch(on: reactor, timeout: 5).text, "ok")
        XCTAssertThrowsError(try server.request(pool: pool).fetch(on: reactor, timeout: 5)) {
            Self.assertEndedAfterAnInterimHead($0)
        }
        XCTAssertEqual(server.connections, 1, "Request.go sent the request again")

        let other = try OneShotServer(serve: Self.answerThenHintAndClose)
        defer { other.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: other.port, timeout: 5)
        defer { conn.close() }
        try conn.request("GET", "/")
        XCTAssertEqual(try conn.getResponse().text, "ok")
        try conn.request("GET", "/")
        XCTAssertThrowsError(try conn.getResponse()) { Self.assertEndedAfterAnInterimHead($0) }
        XCTAssertEqual(other.connections, 1, "HTTPConnection sent the request again")
    }

    private static func assertEndedAfterAnInterimHead(
        _ error: any Error, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(
            error as? HTTPStreamError,
            .connectionClosed("after an interim (1xx) response but before the final response"), "\(error)",
            file: file, line: line)
    }

    /// Answers the first request `ok` (keep-alive; a fresh connection's first request, a retry's
    /// too, gets it), then invites the next request's body with `100 Continue`, reads it, and
    /// closes without a final response.
    @Sendable private static func answerThenInviteTheBodyAndClose(_ client: Int32) {
        guard OneShotServer.readRequest(client) else { return }
        RawPeer.send("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", to: client)
        guard let length = readHead(client) else { return }
        RawPeer.send("HTTP/1.1 100 Continue\r\n\r\n", to: client)
        var body = [UInt8](repeating: 0, count: length)
        var got = 0
        while got < length {
            let read = recv(client, &body[got], length - got, 0)
            if read <= 0 { return }
            got += read
        }
    }

    /// Answers the first request `ok` (keep-alive), then the next with `103 Early Hints` only,
    /// and closes.
    @Sendable private static func answerThenHintAndClose(_ client: Int32) {
        guard OneShotServer.readRequest(client) else { return }
        RawPeer.send("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", to: client)
        guard OneShotServer.readRequest(client) else { return }
        RawPeer.send("HTTP/1.1 103 Early Hints\r\nlink: </style.css>\r\n\r\n", to: client)
    }

    /// Reads a request head, one octet at a time (nothing of a body is taken), and returns its
    /// `content-length` (0 without); nil when the client went.
    private static func readHead(_ client: Int32) -> Int? {
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while !head.ends(with: Array("\r\n\r\n".utf8)) {
            guard recv(client, &byte, 1, 0) == 1 else { return nil }
            head.append(byte)
        }
        let lines = String(decoding: head, as: UTF8.self).lowercased().split(separator: "\r\n")
        let length = lines.first { $0.hasPrefix("content-length:") }?.dropFirst("content-length:".count)
        return length.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 0
    }
}

extension Array where Element: Equatable {
    fileprivate func ends(with suffix: [Element]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}
