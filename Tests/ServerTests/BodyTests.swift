import Stepwise
import TestSupport
import XCTest

/// Request and response bodies: chunked with trailers, close-delimited, 100-continue, large
/// bodies both ways, gzip transfer coding.
final class BodyTests: XCTestCase {
    func testChunkedRequestBodyWithTrailers() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        let response = try client.exchange(
            "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n7;name=value\r\n, world\r\n0\r\nX-Checksum: 42\r\nX-Other: a b\r\n\r\n")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "hello, world")
        XCTAssertEqual(response.header("x-trailers"), "x-checksum=42;x-other=a b")
        // Without trailers the second getHeaders is nil, and the connection goes on.
        let plain = try client.exchange(
            "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        XCTAssertEqual(plain.text, "abc")
        XCTAssertNil(plain.header("x-trailers"))
        XCTAssertEqual(plain.header("x-request-number"), "2")
    }

    func testResponseWithoutLengthIsChunkedOnHTTP11() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        let response = try client.exchange(get("/stream"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("transfer-encoding"), "chunked")
        XCTAssertNil(response.header("content-length"))
        XCTAssertEqual(response.text, "one two three ")
        XCTAssertEqual(try client.exchange(get("/hello")).header("x-request-number"), "2")
    }

    func testResponseWithoutLengthIsCloseDelimitedOnHTTP10() throws {
        let server = try startServer()
        for request in [
            get("/stream", version: "HTTP/1.0"), get("/stream", version: "HTTP/1.0", "Connection: keep-alive"),
        ] {
            let client = try TestClient(port: server.port)
            let response = try client.exchange(request)
            XCTAssertEqual(response.status, 200)
            XCTAssertNil(response.header("transfer-encoding"))
            XCTAssertNil(response.header("content-length"))
            XCTAssertEqual(response.header("connection"), "close")
            XCTAssertEqual(response.text, "one two three ")
            XCTAssertTrue(client.isClosed)
        }
    }

    func testContinueIsSentWhenTheHandlerReadsTheBody() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        try client.send("POST /echo HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        let interim = try client.readResponse()
        XCTAssertEqual(interim.status, 100)
        XCTAssertEqual(interim.headers.count, 0)
        try client.send("body")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "body")
        XCTAssertNil(response.header("connection"))
        XCTAssertEqual(try client.exchange(get("/hello")).header("x-request-number"), "2")

        // Not before the handler asks for the body: this one waits 0.3 s first.
        let size = 100_000
        try client.send(
            "POST /upload?stall=0.3 HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: \(size)\r\n\r\n")
        XCTAssertTrue(try client.staysSilent(for: 0.15))
        XCTAssertEqual(try client.readResponse().status, 100)
        try client.send(pattern(0, size))
        XCTAssertEqual(try client.readResponse().text, "\(size) ok")
    }

    func testNoContinueForHTTP10() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        let response = try client.exchange(
            "POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "body")
    }

    func testUnreadSmallBodyIsDrainedAndTheConnectionKept() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        let response = try client.exchange(
            "POST /reject HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n0123456789")
        XCTAssertEqual(response.status, 413)
        XCTAssertNil(response.header("connection"))
        XCTAssertEqual(try client.exchange(get("/hello")).header("x-request-number"), "2")
        // The same with the next request pipelined behind the body.
        try client.send("POST /reject HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nabcde" + get("/hello"))
        XCTAssertEqual(try client.readResponse().status, 413)
        XCTAssertEqual(try client.readResponse().header("x-request-number"), "4")
        // Those bodies arrived with their heads, buffered whole. One sent after the answer is
        // read and dropped as it comes (the drain), and the connection still serves.
        try client.send("POST /reject HTTP/1.1\r\nHost: test\r\nContent-Length: 10000\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 413)
        try client.send(String(repeating: "y", count: 10000) + get("/hello"))
        XCTAssertEqual(try client.readResponse().header("x-request-number"), "6")
    }

    func testABodyThatStopsComingAfterAnEarlyAnswerIsGivenTheIntraStreamTimeout() throws {
        let server = try startServer { $0.intraStreamTimeout = 0.3 }
        let client = try TestClient(port: server.port)
        try client.send("POST /reject HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\n0123456789")
        XCTAssertEqual(try client.readResponse().status, 413)
        // The other 90 octets never come: the drain does not hold the connection for ever.
        let started = MonotonicClock.seconds()
        XCTAssertEqual(try client.readUntilClosed(within: 5), [])
        XCTAssertGreaterThanOrEqual(MonotonicClock.seconds() - started, 0.2)
    }

    func testUnreadBodyBeyondTheDrainLimitClosesTheConnection() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        let size = 2 << 20
        try client.send("POST /reject HTTP/1.1\r\nHost: test\r\nContent-Length: \(size)\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 413)
        try client.send(pattern(0, size))
        XCTAssertEqual(try client.readUntilClosed(), [])
    }

    /// An answer that leaves more of a declared body unread than the drain would read says it
    /// closes, and closes, without waiting for any of it (RFC 9110 §10.1.1: it "SHOULD indicate
    /// whether it intends to close the connection ... or continue reading"). Up to the drain
    /// limit the rest is drained and the connection kept (H1ConnectionAPITests).
    func testAnEarlyAnswerLeavingMoreThanTheDrainLimitSaysCloseAndReadsNothing() throws {
        let server = try startServer { $0.http1.drainLimit = 100 }
        let client = try TestClient(port: server.port)
        client.timeout = 2
        try client.send("POST /reject HTTP/1.1\r\nHost: test\r\nContent-Length: 101\r\n\r\n")
        XCTAssertEqual(try readLastResponse(client, "101 octets are more than the drain reads").status, 413)
    }

    func testRejectionWithoutReadingSendsNoContinueAndCloses() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        try client.send("POST /reject HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        XCTAssertEqual(try readLastResponse(client).status, 413)
    }

    func testLargeUploadIsReadWithBackPressure() throws {
        let server = try startServer()
        try assertUploadWithBackPressure(try TestClient(port: server.port))
    }

    func testLargeChunkedUpload() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        let size = 10 << 20
        try client.send("POST /upload HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n")
        var offset = 0
        while offset < size {
            let count = min(100_000, size - offset)
            try client.send(Array(String(count, radix: 16).utf8) + [13, 10] + pattern(offset, count) + [13, 10])
            offset += count
        }
        try client.send("0\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "\(size) ok")
    }

    func testLargeDownload() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        let size = 10 << 20 + 12345
        let response = try client.exchange(get("/download?bytes=\(size)"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body.count, size)
        XCTAssertTrue(matchesPattern(response.body, at: 0), "the downloaded octets differ from the pattern")
        XCTAssertEqual(try client.exchange(get("/hello")).header("x-request-number"), "2")
    }

    func testGzipTransferCodedRequestIsDecoded() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        let text = String(repeating: "gzip transfer coding ", count: 500)
        let compressed = try Deflater(format: .gzip).process(Array(text.utf8), final: true)
        let half = compressed.count / 2
        var request = Array("POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".utf8)
        for piece in [compressed[..<half], compressed[half...]] {
            request += Array(String(piece.count, radix: 16).utf8) + [13, 10] + piece + [13, 10]
        }
        try client.send(request + Array("0\r\n\r\n".utf8))
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, text)

        // Not gzip at all: the handler's read fails, and the answer is 400.
        try client.send(
            "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        XCTAssertEqual(try readLastResponse(client).status, 400)
    }

    func testEveryTransferCodingOfARequestIsUndone() throws {
        // RFC 9112 §6.1: the codings are listed "in the order in which they were applied", so
        // `gzip, deflate, chunked` is gzip first, then deflate; undone the other way round.
        let server = try startServer()
        let client = try TestClient(port: server.port)
        let text = String(repeating: "two transfer codings ", count: 200)
        let chains: [(String, [Deflater.Format])] = [
            ("gzip, deflate", [.gzip, .deflate]), ("deflate, gzip", [.deflate, .gzip]), ("gzip, gzip", [.gzip, .gzip]),
        ]
        for (listed, formats) in chains {
            var coded = Array(text.utf8)
            for format in formats { coded = try Deflater(format: format).process(coded, final: true) }
            let head = "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: \(listed), chunked\r\n\r\n"
            let chunk = Array(String(coded.count, radix: 16).utf8) + [13, 10] + coded + [13, 10]
            try client.send(Array(head.utf8) + chunk + Array("0\r\n\r\n".utf8))
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200, listed)
            XCTAssertEqual(response.text, text, listed)
        }
    }

    /// With `transferCodings` off the server does not undo gzip or deflate, so a request coded
    /// with them gets 501 (RFC 9112 §6.1: "a transfer coding it does not understand"); it used to
    /// reach the handler with the coded octets as its body. `chunked` alone is still read.
    func testTransferCodedRequestsGet501WhenTheServerDoesNotDecode() throws {
        let server = try startServer { $0.http1.transferCodings = false }
        let coded = try Deflater(format: .gzip).process(Array("hello".utf8), final: true)
        let chunk = Array(String(coded.count, radix: 16).utf8) + [13, 10] + coded + [13, 10]
        for listed in ["gzip", "deflate", "x-gzip"] {
            let client = try TestClient(port: server.port)
            try client.send(
                Array("POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: \(listed), chunked\r\n\r\n".utf8)
                    + chunk + Array("0\r\n\r\n".utf8))
            XCTAssertEqual(try readLastResponse(client).status, 501, listed)
        }
        let client = try TestClient(port: server.port)
        let response = try client.exchange(
            "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "hello")
    }

    func testGzipTransferCodingForClientsSendingTE() throws {
        let server = try startServer()
        let client = try TestClient(port: server.port)
        let response = try client.exchange(get("/stream", "TE: gzip", "Connection: TE"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("transfer-encoding"), "gzip, chunked")
        XCTAssertNil(response.header("content-encoding"))
        var decoded: [UInt8] = []
        try response.body.withUnsafeBytes { try Inflater(format: .gzip).process($0, final: true, into: &decoded) }
        XCTAssertEqual(String(decoding: decoded, as: UTF8.self), "one two three ")
        // A response with a length is sent as is.
        let hello = try client.exchange(get("/hello", "TE: gzip", "Connection: TE"))
        XCTAssertNil(hello.header("transfer-encoding"))
        XCTAssertEqual(hello.text, "hello\n")
    }
}

extension XCTestCase {
    /// Uploads 16 MiB to a handler that does not read for its first 0.5 s: the server must stop
    /// reading too (the client cannot hand over the whole body meanwhile) without burning CPU.
    func assertUploadWithBackPressure(_ client: TestClient, file: StaticString = #filePath, line: UInt = #line)
        throws
    {
        let size = 16 << 20
        let body = pattern(0, size)
        try client.send("POST /upload?stall=0.5 HTTP/1.1\r\nHost: test\r\nContent-Length: \(size)\r\n\r\n")
        var early = 0
        let cpu = try cpuSeconds { early = try client.send(body, until: MonotonicClock.seconds() + 0.3) }
        XCTAssertLessThan(early, size, file: file, line: line)
        XCTAssertLessThan(cpu, 0.2, file: file, line: line)
        try client.send(Array(body[early...]))
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200, file: file, line: line)
        XCTAssertEqual(response.text, "\(size) ok", file: file, line: line)
    }
}
