import Foundation
import Stepwise
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `writeBody(from:)` on HTTP/1 sends a regular file with `sendfile(2)` where nothing has to see
/// its octets (a plain connection, no gzip transfer coding, `H1ConnectionOptions.sendfile`),
/// framed like any body: by its `content-length`, as one chunk, or not at all for HEAD; and
/// reads it otherwise. Each route records how many file octets the connection's socket sent by
/// `sendfile`, so a silent fall-back to reading would fail the tests that expect it.
final class SendFileBodyTests: XCTestCase {
    private var path = ""
    private let size = 5 * 1024 * 1024 + 123

    override func setUpWithError() throws {
        path = NSTemporaryDirectory() + "/stepwise-sendfile-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).bin"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(pattern(0, size))))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: path)
    }

    func testAContentLengthBodyIsSentFromTheFileAndAPipelinedRequestWaitsForIt() throws {
        let routes = SendFileRoutes(path: path)
        let server = try startServer(handler: routes.handler)
        let client = try TestClient(port: server.port)
        client.timeout = 20
        try client.send(get("/file?length") + get("/hello"))
        let response = try client.readResponse()
        XCTAssertEqual(response.header("content-length"), String(size))
        XCTAssertEqual(response.body.count, size)
        XCTAssertTrue(matchesPattern(response.body, at: 0))
        XCTAssertEqual(try client.readResponse().text, "hello")
        XCTAssertEqual(routes.sentByFile(), [UInt64(size)])
    }

    func testAChunkedBodyCarriesTheFileRangeAsOneChunk() throws {
        let routes = SendFileRoutes(path: path)
        let server = try startServer(handler: routes.handler)
        let client = try TestClient(port: server.port)
        client.timeout = 20
        let offset = 1_000_003
        let count = 2_000_000
        let response = try client.exchange(get("/file?offset=\(offset)&count=\(count)"))
        XCTAssertEqual(response.header("transfer-encoding"), "chunked")
        XCTAssertEqual(response.body.count, count)
        XCTAssertTrue(matchesPattern(response.body, at: offset))
        // Then the rest of the file (no count: to its end), on the same connection.
        let rest = try client.exchange(get("/file?offset=\(offset + count)"))
        XCTAssertEqual(rest.body.count, size - offset - count)
        XCTAssertTrue(matchesPattern(rest.body, at: offset + count))
        XCTAssertEqual(routes.sentByFile(), [UInt64(count), UInt64(count + rest.body.count)])
    }

    func testAFileSentInSlicesAfterOtherOctetsKeepsItsFraming() throws {
        let routes = SendFileRoutes(path: path)
        let server = try startServer(handler: routes.handler)
        let client = try TestClient(port: server.port)
        client.timeout = 20
        for query in ["slices&length", "slices"] {
            let response = try client.exchange(get("/file?\(query)"))
            XCTAssertEqual(response.text.prefix(6), "start:")
            XCTAssertEqual(response.body.count, 6 + size)
            XCTAssertTrue(matchesPattern(Array(response.body.dropFirst(6)), at: 0))
        }
        XCTAssertEqual(routes.sentByFile(), [UInt64(size), UInt64(2 * size)])
    }

    func testOtherWritesAreRefusedWhileTheFileIsSent() throws {
        let routes = SendFileRoutes(path: path)
        let server = try startServer(handler: routes.handler)
        let client = try TestClient(port: server.port)
        client.timeout = 20
        let response = try client.exchange(get("/file?concurrent&length"))
        XCTAssertEqual(response.body.count, size)
        XCTAssertTrue(matchesPattern(response.body, at: 0))
        XCTAssertEqual(routes.lastFailure(), "")
        XCTAssertEqual(
            routes.refusals(),
            ["a file is being sent as the body (or its sending failed): nothing else may be written until it is out"])
    }

    func testAResponseToHEADSendsNoneOfTheFile() throws {
        let routes = SendFileRoutes(path: path)
        let server = try startServer(handler: routes.handler)
        let client = try TestClient(port: server.port)
        let response = try client.exchange("HEAD /file?length HTTP/1.1\r\nHost: test\r\n\r\n", head: true)
        XCTAssertEqual(response.header("content-length"), String(size))
        XCTAssertEqual(try client.exchange(get("/hello")).text, "hello")
        XCTAssertEqual(routes.sentByFile(), [0])
    }

    /// A response to HEAD frames the file's octets and reads none of them, over TLS too (where the
    /// file would otherwise be read): here the "file" is a directory, which `read` refuses, and
    /// the connection stays usable.
    func testAResponseToHEADReadsNoneOfTheFileOverTLSEither() throws {
        let routes = SendFileRoutes(path: path, directory: NSTemporaryDirectory())
        let server = try startServer(handler: routes.handler)
        for client in [try TestClient(port: server.port), try TestClient(tlsPort: server.port)] {
            let head = try client.exchange("HEAD /directory HTTP/1.1\r\nHost: test\r\n\r\n", head: true)
            XCTAssertEqual(head.status, 200)
            XCTAssertEqual(head.header("content-length"), "10")
            XCTAssertEqual(try client.exchange(get("/hello")).text, "hello")
        }
        XCTAssertEqual(routes.failures(), 0, routes.lastFailure())
    }

    /// Out of descriptors, the socket cannot make the send's own duplicate of itself: the file
    /// is read and written instead, and the response is whole.
    func testOutOfDescriptorsTheFileIsReadInstead() throws {
        let file = try BodyFile(reading: path)
        let routes = SendFileRoutes(path: path, file: file)
        let server = try startServer(handler: routes.handler)
        let client = try TestClient(port: server.port)
        client.timeout = 20
        XCTAssertEqual(try client.exchange(get("/hello")).text, "hello")
        let fillers = DescriptorFillers()
        defer { fillers.release() }
        let response = try client.exchange(get("/file?length"))
        fillers.release()
        XCTAssertEqual(response.body.count, size)
        XCTAssertTrue(matchesPattern(response.body, at: 0))
        XCTAssertEqual(routes.sentByFile(), [0])
        XCTAssertEqual(routes.failures(), 0, routes.lastFailure())
    }

    func testOverTLSAndWithTheOptionOffTheFileIsReadInstead() throws {
        let routes = SendFileRoutes(path: path)
        let server = try startServer(handler: routes.handler)
        let secure = try TestClient(tlsPort: server.port)
        secure.timeout = 20
        let overTLS = try secure.exchange(get("/file?length"))
        XCTAssertEqual(overTLS.body.count, size)
        XCTAssertTrue(matchesPattern(overTLS.body, at: 0))

        let offRoutes = SendFileRoutes(path: path)
        let off = try startServer({ $0.http1.sendfile = false }, handler: offRoutes.handler)
        let plain = try TestClient(port: off.port)
        plain.timeout = 20
        let read = try plain.exchange(get("/file?length"))
        XCTAssertEqual(read.body.count, size)
        XCTAssertTrue(matchesPattern(read.body, at: 0))
        XCTAssertEqual(routes.sentByFile() + offRoutes.sentByFile(), [0, 0])
    }

    /// A client that reads nothing: the send waits for room until the handler's timeout, which
    /// ends the response, and with it the connection (the body cannot be completed).
    func testAClientThatStopsReadingIsClosedAtTheWriteTimeout() throws {
        let routes = SendFileRoutes(path: path, timeout: 0.5)
        let server = try startServer(handler: routes.handler)
        let client = try TestClient(port: server.port)
        try client.send(get("/file?length"))
        XCTAssertTrue(waitUntil(within: 10) { routes.failures() == 1 })
        XCTAssertTrue(routes.lastFailure().contains("timed out"), routes.lastFailure())
        let received = try client.readUntilClosed(within: 10)
        XCTAssertLessThan(received.count, size)
        XCTAssertTrue(client.isClosed)
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 })
    }
}

/// `/file?offset=O&count=C` (to the end without C) sends the file from `writeBody(from:)`, with
/// a `content-length` when the query has `length`, else chunked; `/hello` answers "hello".
private final class SendFileRoutes: Sendable {
    let path: String
    /// The file every `/file` route sends, opened beforehand; nil: opened per request.
    let file: BodyFile?
    let directory: String
    let timeout: Double
    private let sent = Locked<[UInt64]>([])
    private let failed = Locked<[String]>([])
    private let refused = Locked<[String]>([])

    init(path: String, file: BodyFile? = nil, directory: String = "/", timeout: Double = 20) {
        self.path = path
        self.file = file
        self.directory = directory
        self.timeout = timeout
    }

    /// For each file response, the file octets its connection had sent by sendfile after it.
    func sentByFile() -> [UInt64] { sent.withLock { $0 } }
    func failures() -> Int { failed.withLock { $0.count } }
    func lastFailure() -> String { failed.withLock { $0.last ?? "" } }
    func refusals() -> [String] { refused.withLock { $0 } }

    var handler: Server.Handler {
        .task { stream in
            do {
                try await self.serve(stream)
            } catch {
                self.failed.withLock { $0.append("\(error)") }
                throw error
            }
        }
    }

    private func serve(_ stream: any HTTPStream) async throws {
        guard let request = try await stream.getHeaders(timeout: 10) else { return }
        let target = request.first(":path") ?? "/"
        let query = URLComponents(string: target)?.queryItems ?? []
        func number(_ name: String) -> UInt64? { query.first { $0.name == name }?.value.flatMap { UInt64($0) } }
        var headers = Headers()
        headers.append(":status", "200")
        if target == "/directory" {
            // Ten octets of a directory: `read` fails with EISDIR.
            let file = try await stream.reactor.runBlocking("opening the directory") { [directory] in
                BodyFile(adopting: open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC))
            }
            headers.append("content-length", "10")
            try await stream.writeHeaders(headers, endStream: false, timeout: timeout)
            try await stream.writeBody(from: file, offset: 0, count: 10, timeout: timeout)
            return
        }
        guard target.hasPrefix("/file") else {
            try stream.writeMessage(headers, body: "hello")
            return
        }
        let file: BodyFile
        if let preopened = self.file {
            file = preopened
        } else {
            file = try await stream.reactor.runBlocking("opening the test file") { [path] in try BodyFile(reading: path)
            }
        }
        let offset = number("offset") ?? 0
        if query.contains(where: { $0.name == "length" }) {
            let size = try await stream.reactor.runBlocking("measuring") { try file.regularFileSize() ?? 0 }
            headers.append("content-length", String(number("count") ?? size - offset))
        }
        let socket = (stream as? H1Stream)?.connection.socket
        if query.contains(where: { $0.name == "slices" }) {
            // Octets, then the file in three slices, the last ending the body.
            let size = try await stream.reactor.runBlocking("measuring") { try file.regularFileSize() ?? 0 }
            _ = headers.delete("content-length")
            if query.contains(where: { $0.name == "length" }) { headers.append("content-length", String(6 + size)) }
            try await stream.writeHeaders(headers, endStream: false, timeout: timeout)
            try await stream.writeChunk(Array("start:".utf8), endStream: false, timeout: timeout)
            let cuts = [0, size / 3, 2 * size / 3, size]
            for index in 0..<3 {
                try await stream.writeChunk(
                    fromFile: file, offset: cuts[index], count: cuts[index + 1] - cuts[index], endStream: index == 2,
                    timeout: timeout)
            }
        } else if query.contains(where: { $0.name == "concurrent" }) {
            try await stream.writeHeaders(headers, endStream: false, timeout: timeout)
            async let sending: Void = stream.writeBody(from: file, offset: 0, count: nil, timeout: timeout)
            while socket?.canSendFile != false { await Task.yield() }
            do {
                try stream.writeChunk(Array("x".utf8), endStream: false)
            } catch {
                refused.withLock { $0.append("\(error)") }
            }
            try await sending
        } else {
            try await stream.writeHeaders(headers, endStream: false, timeout: timeout)
            try await stream.writeBody(from: file, offset: offset, count: number("count"), timeout: timeout)
        }
        sent.withLock { $0.append(socket?.fileOctetsSent ?? UInt64.max) }
    }
}
