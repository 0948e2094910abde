import Foundation
import Stepwise
import XCTest

/// `Request.go` / `fetch` against a real nginx (`NginxPeer`): GET and HEAD, request bodies of
/// each kind checked byte for byte on nginx's side, several MiB both ways, gzip decoding, and the
/// one deadline firing while nginx stalls before the head or in the body.
final class NginxRequestTests: XCTestCase {
    func testGetAndHeadOfAStaticFile() throws {
        let nginx = try startNginx()
        let page = testBytes(10_000, seed: 7)
        try nginx.writeFile("files/page.bin", page)
        let reactor = try Reactor()

        let get = try Request(uri: nginx.url("/files/page.bin"))
        let response = try get.fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, page)
        XCTAssertEqual(response.headers.first("content-length"), "10000")

        let head = try Request(uri: nginx.url("/files/page.bin"))
        try head.headers.upsert(":method", "HEAD")
        let headResponse = try head.fetch(on: reactor, timeout: 5)
        XCTAssertEqual(headResponse.status, 200)
        XCTAssertEqual(headResponse.headers.first("content-length"), "10000")
        XCTAssertEqual(headResponse.body, [])

        XCTAssertEqual(try Request(uri: nginx.url("/hello")).fetch(on: reactor, timeout: 5).text, "Hello, World!")
        XCTAssertEqual(try Request(uri: nginx.url("/missing")).fetch(on: reactor, timeout: 5).status, 404)

        let log = try nginx.accessLog(atLeast: 4)
        XCTAssertEqual(
            log.map { "\($0.method) \($0.uri) \($0.status)" },
            [
                "GET /files/page.bin 200", "HEAD /files/page.bin 200", "GET /hello 200", "GET /missing 404",
            ])
        XCTAssertEqual(log.prefix(3).map(\.bodyBytesSent), ["10000", "0", "13"])
    }

    /// Each body kind is PUT with WebDAV and read back from nginx's document root: what nginx
    /// stored is exactly what was sent, framed as `setBody` promised.
    func testBodiesOfEachKindArriveExactly() throws {
        let nginx = try startNginx()
        let reactor = try Reactor()
        let fileBody = testBytes(50_000, seed: 2)
        let filePath = nginx.prefix.appendingPathComponent("upload.bin").path
        try Data(fileBody).write(to: URL(fileURLWithPath: filePath))
        let pieces = Locked([testBytes(3000, seed: 3), [], testBytes(1, seed: 4), testBytes(70_000, seed: 5)])
        let chunked = pieces.withLock { $0.flatMap { $0 } }

        let cases: [(name: String, expected: [UInt8], set: (Request) throws -> Void)] = [
            ("string", Array("name=value & more ✓".utf8), { $0.setBody("name=value & more ✓") }),
            ("bytes", testBytes(20_000, seed: 6), { $0.setBody(bytes: testBytes(20_000, seed: 6)) }),
            ("file", fileBody, { try $0.setBody(filePath: filePath) }),
            (
                "producer", chunked,
                {
                    $0.setBody(producer: { pieces.withLock { $0.isEmpty ? nil : $0.removeFirst() } })
                }
            ),
        ]
        for (name, expected, set) in cases {
            let put = try Request(uri: nginx.url("/dav/\(name)"))
            try put.headers.upsert(":method", "PUT")
            try set(put)
            XCTAssertEqual(try put.fetch(on: reactor, timeout: 5).status, 201, name)
            XCTAssertEqual(nginx.readFile("dav/\(name)"), expected, name)
            XCTAssertEqual(try Request(uri: nginx.url("/dav/\(name)")).fetch(on: reactor, timeout: 5).body, expected)
        }
        let puts = try nginx.accessLog(atLeast: 8).filter { $0.method == "PUT" }
        XCTAssertEqual(puts.map(\.contentLength), ["21", "20000", "50000", ""])
        XCTAssertEqual(puts.map(\.transferEncoding), ["", "", "", "chunked"])
        // Unknown length: the producer's body waits for nginx's 100 Continue (25 bytes, all nginx
        // sends for a 201 besides the head).
        XCTAssertEqual(puts.map(\.expect), ["", "", "", "100-continue"])
        XCTAssertEqual(puts.map(\.bodyBytesSent), ["0", "0", "0", "25"])

        let post = try Request(uri: nginx.url("/sink"))
        try post.headers.upsert(":method", "POST")
        post.setBody("posted body")
        XCTAssertEqual(try post.fetch(on: reactor, timeout: 5).text, "POST 11")
        XCTAssertEqual(try nginx.accessLog(uri: "/sink", atLeast: 1).map(\.requestBody), ["posted body"])
    }

    /// 8 MiB up from a file (content-length, announced with 100-continue) and 6 MiB up chunked,
    /// each read back whole.
    func testSeveralMebibytesBothWays() throws {
        let nginx = try startNginx()
        let reactor = try Reactor()
        let big = testBytes(8 << 20, seed: 8)
        let filePath = nginx.prefix.appendingPathComponent("big.bin").path
        try Data(big).write(to: URL(fileURLWithPath: filePath))
        let fromFile = try Request(uri: nginx.url("/dav/big.bin"))
        try fromFile.headers.upsert(":method", "PUT")
        try fromFile.setBody(filePath: filePath)
        XCTAssertEqual(try fromFile.fetch(on: reactor, timeout: 20).status, 201)
        assertSameBytes(nginx.readFile("dav/big.bin"), big, "what nginx stored")
        assertSameBytes(try Request(uri: nginx.url("/dav/big.bin")).fetch(on: reactor, timeout: 20).body, big)

        let streamedBody = testBytes(6 << 20, seed: 9)
        let offset = Locked(0)
        let streamed = try Request(uri: nginx.url("/dav/streamed.bin"))
        try streamed.headers.upsert(":method", "PUT")
        streamed.setBody(producer: {
            offset.withLock { start in
                guard start < streamedBody.count else { return nil }
                defer { start += 64 << 10 }
                return Array(streamedBody[start..<min(start + (64 << 10), streamedBody.count)])
            }
        })
        XCTAssertEqual(try streamed.fetch(on: reactor, timeout: 20).status, 201)
        assertSameBytes(nginx.readFile("dav/streamed.bin"), streamedBody, "what nginx stored")
        assertSameBytes(
            try Request(uri: nginx.url("/dav/streamed.bin")).fetch(on: reactor, timeout: 20).body, streamedBody)

        let log = try nginx.accessLog(atLeast: 4)
        XCTAssertEqual(log.map(\.expect), ["100-continue", "", "100-continue", ""])
        // nginx counts its `HTTP/1.1 100 Continue\r\n\r\n` (25 bytes) as sent for a 201 without a body.
        XCTAssertEqual(log.map(\.bodyBytesSent), ["25", String(8 << 20), "25", String(6 << 20)])
    }

    func testGzipIsDecoded() throws {
        var settings = NginxPeer.Settings()
        settings.http = "gzip on; gzip_types text/plain; gzip_min_length 256;"
        let nginx = try startNginx(settings)
        let text = (0..<4000).map { "line \($0): stepwise reads what nginx compressed\n" }.joined()
        try nginx.writeFile("text/big.txt", Array(text.utf8))
        let reactor = try Reactor()

        let response = try Request(uri: nginx.url("/text/big.txt")).fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.status, 200)
        assertSameBytes(response.body, Array(text.utf8), "the decoded body")
        XCTAssertFalse(response.headers.has("content-encoding"))
        let decoded = try XCTUnwrap(nginx.accessLog(atLeast: 1).last)
        XCTAssertEqual(decoded.acceptEncoding, "gzip, deflate")
        XCTAssertEqual(decoded.contentEncoding, "gzip")
        let sent = try XCTUnwrap(Int(decoded.bodyBytesSent))
        XCTAssertLessThan(sent, text.utf8.count / 4, "nginx did not really compress")

        let raw = try Request(uri: nginx.url("/text/big.txt"))
        raw.decodeContent = false
        raw.headers.append("accept-encoding", "gzip")
        let encoded = try raw.fetch(on: reactor, timeout: 5)
        XCTAssertEqual(encoded.headers.first("content-encoding"), "gzip")
        XCTAssertLessThan(encoded.body.count, text.utf8.count / 4)
        var inflated: [UInt8] = []
        try Inflater(format: .gzip).process(encoded.body, final: true, into: &inflated)
        assertSameBytes(inflated, Array(text.utf8))

        // Without accept-encoding nginx sends it as it is.
        let plain = try Request(uri: nginx.url("/text/big.txt"))
        plain.decodeContent = false
        assertSameBytes(try plain.fetch(on: reactor, timeout: 5).body, Array(text.utf8))
        XCTAssertEqual(try nginx.accessLog(atLeast: 3).last?.contentEncoding, "")
    }

    /// A download resumed with a `range` from nginx compressing text: the request asks for
    /// `identity`, and nginx answers 206 with the plain octets of that range, to append to the
    /// ones already there. With `gzip, deflate` (as it was) nginx compressed the response and
    /// ignored the range: a 200 with the whole text.
    func testAResumedDownloadGetsThePlainOctetsOfItsRange() throws {
        var settings = NginxPeer.Settings()
        settings.http = "gzip on; gzip_types text/plain; gzip_min_length 256;"
        let nginx = try startNginx(settings)
        let text = Array((0..<4000).map { "line \($0): the rest of a download\n" }.joined().utf8)
        try nginx.writeFile("text/big.txt", text)
        let reactor = try Reactor()

        let resumed = try Request(uri: nginx.url("/text/big.txt"))
        resumed.headers.append("range", "bytes=1000-")
        let response = try resumed.fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.status, 206)
        XCTAssertFalse(response.headers.has("content-encoding"))
        XCTAssertEqual(response.headers.first("content-range"), "bytes 1000-\(text.count - 1)/\(text.count)")
        assertSameBytes(Array(text[..<1000]) + response.body, text, "the file put together")
        let logged = try XCTUnwrap(nginx.accessLog(atLeast: 1).last)
        XCTAssertEqual(logged.acceptEncoding, "identity")
        XCTAssertEqual(logged.contentEncoding, "")
    }

    /// `limit_req` holds a request before nginx answers; `limit_rate` stalls its body: the one
    /// deadline of `fetch` fires in either phase, on time.
    func testTheDeadlineFiresWhileNginxStalls() throws {
        var settings = NginxPeer.Settings()
        settings.http = "limit_req_zone $server_port zone=held:1m rate=1r/m;"
        settings.locations = """
            location /held/ { limit_req zone=held burst=5; }
            location /slow/ { limit_rate 2k; limit_rate_after 8k; }
            """
        let nginx = try startNginx(settings)
        try nginx.writeFile("held/a.txt", Array("held".utf8))
        try nginx.writeFile("slow/big.bin", testBytes(200_000))
        let reactor = try Reactor()
        // The first request takes the zone's one slot a minute; the next waits for a minute.
        XCTAssertEqual(try Request(uri: nginx.url("/held/a.txt")).fetch(on: reactor, timeout: 5).text, "held")

        for (path, phase) in [("/held/a.txt", "response head read"), ("/slow/big.bin", "response body read")] {
            let started = MonotonicClock.seconds()
            XCTAssertThrowsError(try Request(uri: nginx.url(path)).fetch(on: reactor, timeout: 0.4), path) { error in
                guard case SocketError.timedOut(_, let named, _) = error else { return XCTFail("\(path): \(error)") }
                XCTAssertEqual(named, phase, path)
            }
            let elapsed = MonotonicClock.seconds() - started
            XCTAssertGreaterThanOrEqual(elapsed, 0.39, path)
            XCTAssertLessThan(elapsed, 1.4, path)
        }
    }
}
