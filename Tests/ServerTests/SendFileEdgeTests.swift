import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Edges of HTTP/1 file bodies by sendfile(2): empty files and empty regions in both framings
/// and to HTTP/1.0, trailers after a file region, a file cut short under a promised length, a
/// handler that gives up while a stretch runs, and a server closed while a file is out.
final class SendFileEdgeTests: XCTestCase {
    private var path = ""
    private var empty = ""
    private let size = 20 << 20

    override func setUpWithError() throws {
        let base = NSTemporaryDirectory() + "/stepwise-edge-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        path = base + ".bin"
        empty = base + ".empty"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(pattern(0, size))))
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: empty)
    }

    /// `/empty?length`, `/empty`, `/regions` (chunked: an empty region, the file, an empty
    /// region, trailers), `/truncate` (promises the file's length, then cuts it to half),
    /// `/cancel` (gives up on the send while it runs and throws).
    private func handler(_ failures: Locked<[String]>) -> Server.Handler {
        .task { [path, empty, size] stream in
            do {
                guard let request = try await stream.getHeaders(timeout: 10) else { return }
                let target = request.first(":path") ?? "/"
                var headers = Headers()
                headers.append(":status", "200")
                if target.hasPrefix("/empty") {
                    if target.hasSuffix("length") { headers.append("content-length", "0") }
                    try await stream.writeHeaders(headers, endStream: false, timeout: 10)
                    try await stream.writeBody(fromPath: empty, timeout: 10)
                } else if target == "/regions" {
                    try await stream.writeHeaders(headers, endStream: false, timeout: 10)
                    let file = try await stream.reactor.runBlocking("open") { try BodyFile(reading: path) }
                    try await stream.writeChunk(fromFile: file, offset: 5, count: 0, endStream: false, timeout: 10)
                    try await stream.writeChunk(
                        fromFile: file, offset: 0, count: UInt64(size), endStream: false, timeout: 10)
                    try await stream.writeChunk(fromFile: file, offset: 0, count: 0, endStream: false, timeout: 10)
                    if request.first("x-old") == nil {
                        var trailers = Headers()
                        trailers.append("x-sent", "all")
                        try await stream.writeHeaders(trailers, endStream: true, timeout: 10)
                    } else {
                        try await stream.writeChunk(fromFile: file, offset: 0, count: 0, endStream: true, timeout: 10)
                    }
                } else if target == "/truncate" {
                    let copy = path + ".cut"
                    try await stream.reactor.runBlocking("copy") {
                        _ = try? FileManager.default.removeItem(atPath: copy)
                        try FileManager.default.copyItem(atPath: path, toPath: copy)
                    }
                    let file = try await stream.reactor.runBlocking("open") { try BodyFile(reading: copy) }
                    headers.append("content-length", String(size))
                    try await stream.writeHeaders(headers, endStream: false, timeout: 10)
                    _ = try await stream.reactor.runBlocking("cut") {
                        truncate(copy, off_t(size / 2)); unlink(copy)
                    }
                    try await stream.writeBody(from: file, count: UInt64(size), timeout: 10)
                } else if target == "/cancel" {
                    headers.append("content-length", String(size))
                    try await stream.writeHeaders(headers, endStream: false, timeout: 10)
                    let socket = (stream as! H1Stream).connection.socket
                    let sending = stream.reactor.spawn { try await stream.writeBody(fromPath: path, timeout: 10) }
                    while socket.canSendFile { await Task.yield() }
                    sending.cancel()
                    // A send that ended before the cancellation landed completed the response.
                    if case .failure(let error) = await sending.result { throw error }
                } else {
                    try stream.writeMessage(headers, body: Array("hello".utf8))
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
                throw error
            }
        }
    }

    func testEmptyFilesAndEmptyRegionsInEveryFraming() throws {
        let failures = Locked<[String]>([])
        let server = try startServer(handler: handler(failures))
        let client = try TestClient(port: server.port)
        client.timeout = 20
        let sized = try client.exchange(get("/empty?length"))
        XCTAssertEqual(sized.header("content-length"), "0")
        XCTAssertEqual(sized.body, [])
        let chunked = try client.exchange(get("/empty"))
        XCTAssertEqual(chunked.header("transfer-encoding"), "chunked")
        XCTAssertEqual(chunked.body, [])
        let regions = try client.exchange(get("/regions"))
        XCTAssertEqual(regions.body.count, size)
        XCTAssertTrue(matchesPattern(regions.body, at: 0))
        XCTAssertEqual(regions.trailers.first?.value, "all")
        XCTAssertEqual(try client.exchange(get("/hello")).text, "hello")
        // HTTP/1.0: the body runs until the close.
        let old = try TestClient(port: server.port)
        old.timeout = 20
        try old.send("GET /regions HTTP/1.0\r\nx-old: 1\r\n\r\n")
        let untilClose = try old.readResponse()
        XCTAssertEqual(untilClose.body.count, size)
        XCTAssertTrue(matchesPattern(untilClose.body, at: 0))
        XCTAssertEqual(failures.withLock { $0 }, [])
    }

    func testAFileCutShortUnderAPromisedLengthEndsTheConnection() throws {
        let failures = Locked<[String]>([])
        let server = try startServer(handler: handler(failures))
        let client = try TestClient(port: server.port)
        client.timeout = 20
        try client.send(get("/truncate") + get("/hello"))
        let received = try client.readUntilClosed(within: 20)
        XCTAssertLessThan(received.count, size)
        XCTAssertTrue(waitUntil(within: 5) { failures.withLock { $0.count } == 1 })
        XCTAssertTrue(failures.withLock { $0.first ?? "" }.contains("ended"), failures.withLock { $0.first ?? "" })
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 })
        XCTAssertEqual(try TestClient(port: server.port).exchange(get("/hello")).text, "hello")
    }

    func testAHandlerThatGivesUpWhileAStretchRunsEndsTheConnectionCleanly() throws {
        let failures = Locked<[String]>([])
        let server = try startServer(handler: handler(failures))
        for round in 0..<6 {
            let client = try TestClient(port: server.port)
            client.timeout = 20
            try client.send(get("/cancel") + get("/hello"))
            let received = try client.readUntilClosed(within: 20)
            let cut = failures.withLock { $0.count } > 0
            let text = String(decoding: received.suffix(200), as: UTF8.self)
            if cut {
                // Cut short: the connection ends, and nothing follows the part of the file sent.
                XCTAssertLessThan(received.count, size, "round \(round)")
                XCTAssertFalse(text.contains("hello"), "round \(round)")
                XCTAssertTrue(
                    failures.withLock { $0 }.allSatisfy { $0.contains("Cancellation") }, "\(failures.withLock { $0 })")
            } else {
                // The file went out before the cancellation landed: the next answer follows it.
                XCTAssertTrue(text.hasSuffix("hello"), "round \(round)")
            }
            failures.withLock { $0.removeAll() }
        }
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 })
        XCTAssertEqual(try TestClient(port: server.port).exchange(get("/hello")).text, "hello")
    }

    func testAServerClosedWhileAFileIsOutEndsItAtTheDeadline() throws {
        let failures = Locked<[String]>([])
        let server = try startServer(handler: handler(failures))
        let client = try TestClient(port: server.port)
        try client.send(get("/regions"))
        // Nobody reads: the send waits for room when the close comes.
        usleep(200_000)
        XCTAssertTrue(
            try server.onServer {
                $0.close(timeout: 0.3); return true
            })
        XCTAssertTrue(try server.waitOnServer(within: 10) { $0.empty() })
        let received = try client.readUntilClosed(within: 10)
        XCTAssertLessThan(received.count, size)
        XCTAssertTrue(waitUntil(within: 5) { failures.withLock { $0.count } == 1 })
    }
}
