import Foundation
import Stepwise
import XCTest

/// `HTTPConnection` (the reference's persistent connection) and `HTTP.fetch` against nginx.
final class NginxHTTPConnectionTests: XCTestCase {
    static var settings: NginxPeer.Settings {
        var settings = NginxPeer.Settings()
        settings.http = """
            gzip on; gzip_types text/plain; gzip_min_length 256;
            limit_req_zone $server_port zone=held:1m rate=1r/m;
            """
        // sub_filter rewrites the file as it goes, so nginx cannot announce a length: chunked.
        settings.locations = """
            location /filtered/ { sub_filter 'nginx' 'NGINX'; sub_filter_once off; sub_filter_types text/plain; }
            location /small/ { dav_methods PUT; create_full_put_path on; client_max_body_size 1k; }
            location /held/ { limit_req zone=held burst=5; }
            """
        return settings
    }

    func testTheReferenceDemoRunsAsWritten() throws {
        let nginx = try startNginx(Self.settings)
        try nginx.writeFile("index.html", Array("<h1>hello from nginx</h1>\n".utf8))
        let conn = try HTTPConnection(host: "127.0.0.1", port: nginx.port, timeout: 5, scheme: "http")
        try conn.request("GET", "/")
        let resp = try conn.getResponse()
        XCTAssertEqual(resp.status, 200)
        XCTAssertEqual(resp.text, "<h1>hello from nginx</h1>\n")
        XCTAssertEqual(resp.headers.first("server")?.hasPrefix("nginx"), true)
        conn.close()
        conn.close()
        XCTAssertEqual(try nginx.accessLog(atLeast: 1).map { "\($0.method) \($0.uri) \($0.status)" }, ["GET / 200"])
    }

    func testContentLengthAndChunkedResponses() throws {
        let nginx = try startNginx(Self.settings)
        let text = (0..<300).map { "line \($0) from nginx\n" }.joined()
        try nginx.writeFile("plain/a.txt", Array(text.utf8))
        try nginx.writeFile("filtered/a.txt", Array(text.utf8))
        let conn = try HTTPConnection(host: "127.0.0.1", port: nginx.port, timeout: 5)
        defer { conn.close() }

        try conn.request("GET", "/plain/a.txt")
        let sized = try conn.getResponse()
        XCTAssertEqual(sized.headers.first("content-length"), String(text.utf8.count))
        XCTAssertFalse(sized.headers.has("transfer-encoding"))
        XCTAssertEqual(sized.text, text)

        try conn.request("GET", "/filtered/a.txt")
        let chunked = try conn.getResponse()
        XCTAssertEqual(chunked.headers.first("transfer-encoding"), "chunked")
        XCTAssertFalse(chunked.headers.has("content-length"))
        XCTAssertEqual(chunked.text, text.replacingOccurrences(of: "nginx", with: "NGINX"))

        // HTTPConnection does not decode: asked for gzip, it returns what nginx compressed.
        try conn.request("GET", "/plain/a.txt", headers: [("Accept-Encoding", "gzip")])
        let compressed = try conn.getResponse()
        XCTAssertEqual(compressed.headers.first("content-encoding"), "gzip")
        XCTAssertEqual(compressed.headers.first("transfer-encoding"), "chunked")
        var inflated: [UInt8] = []
        try Inflater(format: .gzip).process(compressed.body, final: true, into: &inflated)
        assertSameBytes(inflated, Array(text.utf8))

        let log = try nginx.accessLog(atLeast: 3)
        XCTAssertEqual(Set(log.map(\.connection)).count, 1)
        XCTAssertEqual(log.map(\.contentEncoding), ["", "", "gzip"])
    }

    func testOneConnectionServesAHundredRequests() throws {
        let nginx = try startNginx(Self.settings)
        for i in 0..<10 { try nginx.writeFile("n/\(i)", Array("file \(i)".utf8)) }
        let conn = try HTTPConnection(host: "127.0.0.1", port: nginx.port, timeout: 5)
        defer { conn.close() }
        for i in 0..<100 {
            try conn.request("GET", "/n/\(i % 10)")
            XCTAssertEqual(try conn.getResponse().text, "file \(i % 10)")
        }
        let log = try nginx.accessLog(atLeast: 100)
        XCTAssertEqual(Set(log.map(\.connection)).count, 1, "more than one TCP connection")
        XCTAssertEqual(log.map(\.requests), (1...100).map(String.init))
    }

    /// Bytes with a content-length, a stream with a known length, and a stream sent chunked,
    /// each stored by nginx's WebDAV exactly.
    func testBodiesOfEachKindArriveExactly() throws {
        let nginx = try startNginx(Self.settings)
        let conn = try HTTPConnection(host: "127.0.0.1", port: nginx.port, timeout: 5)
        defer { conn.close() }
        let bytes = testBytes(30_000, seed: 21)
        try conn.request("PUT", "/dav/bytes", body: bytes)
        XCTAssertEqual(try conn.getResponse().status, 201)

        let sized = testBytes(100_000, seed: 22)
        var sizedPieces = stride(from: 0, to: sized.count, by: 7000).map {
            Array(sized[$0..<min($0 + 7000, sized.count)])
        }
        try conn.request(
            "PUT", "/dav/sized", bodyStream: { sizedPieces.isEmpty ? nil : sizedPieces.removeFirst() },
            bodyLength: UInt64(sized.count))
        XCTAssertEqual(try conn.getResponse().status, 201)

        let chunked = testBytes(100_000, seed: 23)
        var chunks = stride(from: 0, to: chunked.count, by: 9000).map {
            Array(chunked[$0..<min($0 + 9000, chunked.count)])
        }
        try conn.request("PUT", "/dav/chunked", bodyStream: { chunks.isEmpty ? nil : chunks.removeFirst() })
        XCTAssertEqual(try conn.getResponse().status, 201)

        assertSameBytes(nginx.readFile("dav/bytes"), bytes, "bytes")
        assertSameBytes(nginx.readFile("dav/sized"), sized, "a stream with a length")
        assertSameBytes(nginx.readFile("dav/chunked"), chunked, "a chunked stream")
        let log = try nginx.accessLog(atLeast: 3)
        XCTAssertEqual(log.map(\.contentLength), ["30000", "100000", ""])
        XCTAssertEqual(log.map(\.transferEncoding), ["", "", "chunked"])
        XCTAssertEqual(Set(log.map(\.connection)).count, 1)
    }

    /// `expectContinue`: nginx's 100 Continue lets the body go (well before the 5 s read
    /// timeout that would send it anyway); its 413 over `client_max_body_size` keeps it back,
    /// and the next request goes out on a new connection.
    func testExpectContinueAcceptedAndRefused() throws {
        let nginx = try startNginx(Self.settings)
        let conn = try HTTPConnection(host: "127.0.0.1", port: nginx.port, timeout: 5)
        defer { conn.close() }
        let body = testBytes(200_000, seed: 24)
        let started = MonotonicClock.seconds()
        try conn.request("PUT", "/dav/continued", body: body, expectContinue: true)
        XCTAssertEqual(try conn.getResponse().status, 201)
        XCTAssertLessThan(MonotonicClock.seconds() - started, 4, "waited out the read timeout")
        assertSameBytes(nginx.readFile("dav/continued"), body)

        try conn.request("PUT", "/small/refused", body: body, expectContinue: true)
        let refused = try conn.getResponse()
        XCTAssertEqual(refused.status, 413)
        XCTAssertNil(nginx.readFile("small/refused"))

        try conn.request("GET", "/hello")
        XCTAssertEqual(try conn.getResponse().text, "Hello, World!")

        let log = try nginx.accessLog(atLeast: 3)
        XCTAssertEqual(log.map(\.status), ["201", "413", "200"])
        XCTAssertEqual(log.map(\.expect), ["100-continue", "100-continue", ""])
        XCTAssertEqual(log[0].bodyBytesSent, "25", "nginx sent no 100 Continue")
        XCTAssertLessThan(try XCTUnwrap(Int(log[1].requestLength)), 4096, "nginx received body bytes")
        XCTAssertEqual(log[0].connection, log[1].connection)
        XCTAssertNotEqual(log[1].connection, log[2].connection)
    }

    /// nginx closes the idle connection after `keepalive_timeout`; the next request reopens.
    func testReopensAfterNginxClosedTheConnection() throws {
        var settings = Self.settings
        settings.keepaliveTimeout = "100ms"
        let nginx = try startNginx(settings)
        let conn = try HTTPConnection(host: "127.0.0.1", port: nginx.port, timeout: 5)
        defer { conn.close() }
        try conn.request("GET", "/hello")
        XCTAssertEqual(try conn.getResponse().text, "Hello, World!")
        XCTAssertTrue(nginx.waitUntilNoConnectionIsOpen(), "nginx kept the idle connection past its keepalive_timeout")
        try conn.request("GET", "/hello")
        XCTAssertEqual(try conn.getResponse().text, "Hello, World!")
        let log = try nginx.accessLog(atLeast: 2)
        XCTAssertNotEqual(log[0].connection, log[1].connection)
        XCTAssertEqual(log.map(\.requests), ["1", "1"])
    }

    /// `limit_req` holds the request: the read timeout fires on time.
    func testReadTimeoutFiresWhileNginxHoldsTheRequest() throws {
        let nginx = try startNginx(Self.settings)
        try nginx.writeFile("held/a.txt", Array("held".utf8))
        let conn = try HTTPConnection(host: "127.0.0.1", port: nginx.port, timeout: 5)
        defer { conn.close() }
        try conn.request("GET", "/held/a.txt")
        XCTAssertEqual(try conn.getResponse().text, "held")
        conn.setTimeouts(HTTPConnection.Timeouts(connect: 5, read: 0.3, write: 5))
        try conn.request("GET", "/held/a.txt")
        let started = MonotonicClock.seconds()
        XCTAssertThrowsError(try conn.getResponse()) { error in
            guard case SocketError.timedOut(_, "response head read", 0.3) = error else { return XCTFail("\(error)") }
        }
        let elapsed = MonotonicClock.seconds() - started
        XCTAssertGreaterThanOrEqual(elapsed, 0.29)
        XCTAssertLessThan(elapsed, 1.3)
    }

    func testHTTPFetch() throws {
        let nginx = try startNginx(Self.settings)
        let text = (0..<300).map { "line \($0)\n" }.joined()
        try nginx.writeFile("a.txt", Array(text.utf8))
        let (status, headers, body) = try HTTP.fetch(nginx.url("/a.txt"), timeout: 5)
        XCTAssertEqual(status, 200)
        XCTAssertFalse(headers.has("content-encoding"))
        assertSameBytes(body, Array(text.utf8), "the decoded body")

        let posted = try HTTP.fetch(
            nginx.url("/sink"), method: "POST", headers: [("X-Test", "1")], body: Array("fetched".utf8), timeout: 5)
        XCTAssertEqual(String(decoding: posted.body, as: UTF8.self), "POST 7")
        let log = try nginx.accessLog(atLeast: 3).filter { $0.uri != "/answer" }
        XCTAssertEqual(log.map(\.contentEncoding), ["gzip", ""])
        XCTAssertEqual(log.map(\.requestBody), ["", "fetched"])
    }
}
