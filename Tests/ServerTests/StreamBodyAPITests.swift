import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The stream's body API as a server handler uses it over a loopback connection: `chunks()`,
/// `getBodyChars`, `getBodyUntil`, `unget` and `writeBody(from:)`. Each route
/// reports what the calls returned, so the test compares exact values.
final class StreamBodyAPITests: XCTestCase {
    func testChunksYieldsEveryOctetInOrderThenEnds() throws {
        let server = try startServer(handler: BodyAPIRoutes().handler)
        let client = try TestClient(port: server.port)
        let size = 1 << 20
        try client.send("POST /chunks HTTP/1.1\r\nHost: t\r\nContent-Length: \(size)\r\n\r\n")
        try client.send(pattern(0, size))
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        // More than one chunk (the body is over the 256 KiB read buffer), none lost or reordered.
        let parts = response.text.split(separator: " ")
        XCTAssertEqual(parts.count, 3, response.text)
        XCTAssertEqual(parts.first, "\(size)")
        XCTAssertGreaterThan(Int(parts.dropFirst().first ?? "") ?? 0, 1, response.text)
        XCTAssertEqual(parts.last, "ok")
        // A chunked body: the same sequence, and the connection goes on.
        try client.send(
            Array("POST /chunks HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n".utf8) + pattern(0, 3)
                + Array("\r\n2\r\n".utf8) + pattern(3, 2) + Array("\r\n0\r\n\r\n".utf8))
        XCTAssertEqual(try client.readResponse().text, "5 2 ok")
    }

    func testChunksTimeoutAppliesToEachRead() throws {
        let server = try startServer(handler: BodyAPIRoutes().handler)
        let client = try TestClient(port: server.port)
        // Half the announced body: the second read of `chunks(timeout: 0.2)` times out.
        try client.send("POST /chunks-timeout HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n01234")
        let started = MonotonicClock.seconds()
        let response = try client.readResponse()
        XCTAssertEqual(response.text, "01234 then getNextChunk: timed out")
        XCTAssertLessThan(MonotonicClock.seconds() - started, 2)
    }

    func testGetBodyCharsPutsTheSurplusBack() throws {
        let server = try startServer(handler: BodyAPIRoutes().handler)
        let client = try TestClient(port: server.port)
        // One chunk holding more than each call asks for, then pieces that span chunks.
        let whole = try client.exchange("POST /chars HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhelloworld!")
        XCTAssertEqual(whole.text, "hello||world|!|nil")
        let spanning = try client.exchange(
            "POST /chars HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nhel\r\n4\r\nlowo\r\n4\r\nrld!\r\n0\r\n\r\n")
        XCTAssertEqual(spanning.text, "hello||world|!|nil")
        XCTAssertEqual(spanning.status, 200)
    }

    func testGetBodyUntilSplitsAtTheDelimiterAcrossChunks() throws {
        let server = try startServer(handler: BodyAPIRoutes().handler)
        let client = try TestClient(port: server.port)
        // The CRLF delimiter is split between the second and the third chunk.
        let response = try client.exchange(
            "POST /until HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "a\r\nkey=val&se\r\n7\r\ncond=2\r\r\n5\r\n\nrest\r\n0\r\n\r\n")
        XCTAssertEqual(response.text, "key=val|second=2\r\n|rest|nil")
        // In one piece, the delimiter left out.
        let single = try client.exchange(
            "POST /until HTTP/1.1\r\nHost: t\r\nContent-Length: 20\r\n\r\nkey=val&second=2\r\nab")
        XCTAssertEqual(single.text, "key=val|second=2\r\n|ab|nil")
    }

    func testGetBodyUntilThrowsPastItsLimit() throws {
        let server = try startServer(handler: BodyAPIRoutes().handler)
        let client = try TestClient(port: server.port)
        let response = try client.exchange(
            "POST /until-limit HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\n3\r\ndef\r\n3\r\nghi\r\n0\r\n\r\n")
        XCTAssertEqual(response.text, "body larger than 4 bytes")
        // The unread rest was drained: the connection serves the next request.
        XCTAssertEqual(try client.exchange(get("/hello")).text, "hello")
    }

    func testUngetPutsOctetsBackInFrontEvenAfterTheEnd() throws {
        let server = try startServer(handler: BodyAPIRoutes().handler)
        let client = try TestClient(port: server.port)
        let response = try client.exchange("POST /unget HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nworld")
        XCTAssertEqual(response.text, "hello world|late|nil")
    }

    func testWriteBodyFromAFileSendsTheRangeFromItsOffset() throws {
        let size = 700_000
        let file = try BodyFile.temporary()
        let bytes = pattern(0, size)
        XCTAssertEqual(bytes.withUnsafeBytes { Glibc.write(file.fd, $0.baseAddress, $0.count) }, size)
        // The file's own offset is at its end now: `writeBody(from:)` seeks to the offset it is given.
        let server = try startServer(handler: BodyAPIRoutes(file: file).handler)
        let client = try TestClient(port: server.port)

        let offset = 1_234
        let count = 600_000
        let part = try client.exchange(get("/file?offset=\(offset)&count=\(count)"))
        XCTAssertEqual(part.status, 200)
        XCTAssertEqual(part.header("content-length"), String(count))
        XCTAssertEqual(part.body.count, count)
        XCTAssertTrue(matchesPattern(part.body, at: offset))

        // No count: from offset 0 to the end, chunked (no length was announced).
        let whole = try client.exchange(get("/file"))
        XCTAssertEqual(whole.header("transfer-encoding"), "chunked")
        XCTAssertEqual(whole.body.count, size)
        XCTAssertTrue(matchesPattern(whole.body, at: 0))
        XCTAssertEqual(lseek(file.fd, 0, SEEK_CUR), off_t(size), "the file's offset moved to the end")
    }
}

/// The routes of `StreamBodyAPITests`: each exercises one body call and answers with what it saw.
private final class BodyAPIRoutes: Sendable {
    let file: BodyFile?

    init(file: BodyFile? = nil) { self.file = file }

    var handler: Server.Handler { .task { stream in try await self.serve(stream) } }

    func serve(_ stream: any HTTPStream) async throws {
        guard let request = try await stream.getHeaders(timeout: 5) else { return }
        let target = request.first(":path") ?? "/"
        let components = URLComponents(string: target)
        let query = Dictionary(
            (components?.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        func text(_ bytes: [UInt8]?) -> String { bytes.map { String(decoding: $0, as: UTF8.self) } ?? "nil" }
        switch components?.path ?? target {
        case "/chunks":
            var received = 0
            var count = 0
            var mismatch = false
            for try await chunk in stream.chunks(timeout: 5) {
                if !matchesPattern(chunk, at: received) { mismatch = true }
                received += chunk.count
                count += 1
            }
            try reply(stream, "\(received) \(count) \(mismatch ? "mismatch" : "ok")")
        case "/chunks-timeout":
            var body: [UInt8] = []
            do {
                for try await chunk in stream.chunks(timeout: 0.2) { body += chunk }
                try reply(stream, "\(text(body)) then the end")
            } catch {
                try reply(stream, "\(text(body)) then \(error)")
            }
        case "/chars":
            var pieces: [String] = []
            for count in [5, 0, 5, 5, 5] { pieces.append(text(try await stream.getBodyChars(count, timeout: 5))) }
            try reply(stream, pieces.joined(separator: "|"))
        case "/until":
            let ampersand = Array("&".utf8)
            let pieces = [
                try await stream.getBodyUntil(ampersand, timeout: 5),
                try await stream.getBodyUntil(Array("\r\n".utf8), includeDelimiter: true, timeout: 5),
                try await stream.getBodyUntil(ampersand, timeout: 5),
                try await stream.getBodyUntil(ampersand, timeout: 5),
            ]
            try reply(stream, pieces.map(text).joined(separator: "|"))
        case "/until-limit":
            do {
                let found = try await stream.getBodyUntil(Array("&".utf8), limit: 4, timeout: 5)
                try reply(stream, "found \(text(found))")
            } catch {
                try reply(stream, "\(error)")
            }
        case "/unget":
            let first = try await stream.getNextChunk(timeout: 5) ?? []
            stream.unget(first)
            stream.unget(Array("hello ".utf8))
            let body = try await stream.getBodyAsBytes(timeout: 5)
            // After the end of the body.
            stream.unget(Array("late".utf8))
            let late = try await stream.getNextChunk(timeout: 5)
            let end = try await stream.getNextChunk(timeout: 5)
            try reply(stream, [text(body), text(late), text(end)].joined(separator: "|"))
        case "/file":
            guard let file else { return try reply(stream, "no file", status: 500) }
            let offset = UInt64(query["offset"] ?? "0") ?? 0
            let count = query["count"].flatMap { UInt64($0) }
            var headers = Headers()
            headers.append(":status", "200")
            if let count { headers.append("content-length", String(count)) }
            try await stream.writeHeaders(headers, endStream: false, timeout: 5)
            try await stream.writeBody(from: file, offset: offset, count: count, timeout: 5)
        case "/hello":
            try reply(stream, "hello")
        default:
            try reply(stream, "no route \(target)", status: 404)
        }
    }

    private func reply(_ stream: any HTTPStream, _ text: String, status: Int = 200) throws {
        var headers = Headers()
        headers.append(":status", String(status))
        try stream.writeMessage(headers, body: text)
    }
}
