import Dispatch
import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The body helpers that read and write files (`writeBody(fromFile:)`, `writeBody(fromPath:)`,
/// `saveBody`, `getBodyAsFile`): the octets are exact, and the file I/O runs off the reactor's
/// thread, so a read or write that blocks (here on a FIFO) stalls no other connection.
final class FileBodyTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        var template = Array("\(NSTemporaryDirectory())/stepwise-file-body-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestError("mkdtemp failed")
        }
        directory = String(cString: made)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testWriteBodyFromPathSendsTheRangeAsked() throws {
        let path = directory + "/source.bin"
        let size = 3 * 1024 * 1024 + 17
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(pattern(0, size))))
        let server = try startServer(handler: FileRoutes(path: path).handler)
        let client = try TestClient(port: server.port)

        let whole = try client.exchange(get("/from-path"))
        XCTAssertEqual(whole.status, 200)
        XCTAssertEqual(whole.body.count, size)
        XCTAssertTrue(matchesPattern(whole.body, at: 0))

        let offset = 1_000_003
        let count = 1_500_000
        let part = try client.exchange(get("/from-path?offset=\(offset)&count=\(count)"))
        XCTAssertEqual(part.header("content-length"), String(count))
        XCTAssertEqual(part.body.count, count)
        XCTAssertTrue(matchesPattern(part.body, at: offset))

        // A count past the end: the response cannot be completed, so the connection is aborted
        // (the client sees fewer octets than announced, then the close).
        let short = try TestClient(port: server.port)
        try short.send(get("/from-path?offset=\(size - 10)&count=20"))
        XCTAssertThrowsError(try short.readResponse(within: 5))
        XCTAssertTrue(short.isClosed)
    }

    func testAPipeAsABodyFileIsReadUntilItEnds() throws {
        let server = try startServer(handler: FileRoutes(path: directory + "/unused").handler)
        let client = try TestClient(port: server.port)
        let response = try client.exchange(get("/from-pipe"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "piped octets")
    }

    func testSaveBodyToPathAndGetBodyAsFileKeepEveryOctet() throws {
        let path = directory + "/saved.bin"
        let server = try startServer(handler: FileRoutes(path: path).handler)
        let client = try TestClient(port: server.port)
        let size = 2 * 1024 * 1024 + 5

        try client.send("POST /save HTTP/1.1\r\nHost: test\r\nContent-Length: \(size)\r\n\r\n")
        try client.send(pattern(0, size))
        XCTAssertEqual(try client.readResponse().text, "\(size)")
        let saved = try XCTUnwrap(FileManager.default.contents(atPath: path))
        XCTAssertEqual(saved.count, size)
        XCTAssertTrue(matchesPattern(Array(saved), at: 0))

        try client.send("POST /as-file HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n")
        for start in stride(from: 0, to: size, by: 300_000) {
            let count = min(300_000, size - start)
            try client.send(Array(String(count, radix: 16).utf8) + [13, 10] + pattern(start, count) + [13, 10])
        }
        try client.send("0\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "\(size) ok")
    }

    /// The handler streams a FIFO that has nothing in it yet: the read blocks on a worker
    /// thread while another connection is answered; then the FIFO's octets arrive as the body.
    func testABlockedFileReadStallsNoOtherConnection() throws {
        let fifo = try FIFO(at: directory + "/read.fifo")
        let server = try startServer(handler: FileRoutes(path: "", fifo: fifo.readEnd).handler)
        let streaming = try TestClient(port: server.port)
        try streaming.send(get("/from-fifo"))
        usleep(200_000)  // time for the handler to reach the read

        let other = try TestClient(port: server.port)
        let hello = try other.exchange(get("/hello"))
        XCTAssertEqual(hello.status, 200, "a connection waited for another one's file read")

        try fifo.write("part one, ")
        try fifo.write("part two")
        fifo.closeWriteEnd()
        let response = try streaming.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "part one, part two")
    }

    /// The handler saves an upload into a FIFO nobody reads yet: once the FIFO is full the write
    /// blocks on a worker thread while another connection is answered; then the test drains the
    /// FIFO and the upload completes, every octet in order.
    func testABlockedFileWriteStallsNoOtherConnection() throws {
        let fifo = try FIFO(at: directory + "/write.fifo")
        let server = try startServer(handler: FileRoutes(path: "", fifo: fifo.writeEnd).handler)
        let size = 1024 * 1024
        let uploading = try TestClient(port: server.port)
        try uploading.send("POST /to-fifo HTTP/1.1\r\nHost: test\r\nContent-Length: \(size)\r\n\r\n")
        // The body goes from another thread: it stops when the server stops reading.
        let sent = DispatchSemaphore(value: 0)
        let fd = uploading.fd
        let sendError = Locked<String?>(nil)
        DispatchQueue.global().async {
            sendError.withLock { $0 = sendAll(pattern(0, size), to: fd, within: 20) }
            sent.signal()
        }
        // Until the FIFO (64 KiB) is full, the writes go through.
        XCTAssertTrue(waitUntil(within: 5) { fifo.bytesWaiting() >= 64 * 1024 })

        let other = try TestClient(port: server.port)
        XCTAssertEqual(
            try other.exchange(get("/hello")).status, 200, "a connection waited for another one's file write")

        let drained = try fifo.read(count: size, within: 10)
        XCTAssertEqual(drained.count, size)
        XCTAssertTrue(matchesPattern(drained, at: 0))
        XCTAssertEqual(sent.wait(timeout: .now() + 10), .success)
        XCTAssertNil(sendError.withLock { $0 })
        XCTAssertEqual(try uploading.readResponse().text, "\(size)")
    }
}

/// Sends `bytes` on the socket `fd` (blocking or not); nil, or what went wrong.
private func sendAll(_ bytes: [UInt8], to fd: Int32, within seconds: Double) -> String? {
    let deadline = MonotonicClock.seconds() + seconds
    var offset = 0
    while offset < bytes.count {
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let left = deadline - MonotonicClock.seconds()
        guard left > 0, poll(&pfd, 1, Int32(left * 1000)) == 1 else { return "the send stalled at \(offset)" }
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
        if sent < 0 && errno != EAGAIN && errno != EINTR { return "send: errno \(errno)" }
        if sent > 0 { offset += sent }
    }
    return nil
}

/// The routes of these tests, and `/hello`.
private final class FileRoutes: Sendable {
    let path: String
    let fifo: Int32

    init(path: String, fifo: Int32 = -1) {
        self.path = path
        self.fifo = fifo
    }

    var handler: Server.Handler { .task { stream in try await self.serve(stream) } }

    func serve(_ stream: any HTTPStream) async throws {
        guard let request = try await stream.getHeaders(timeout: 10) else { return }
        let target = request.first(":path") ?? "/"
        let components = URLComponents(string: target)
        let query = Dictionary(
            (components?.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        switch components?.path ?? target {
        case "/from-path":
            let offset = UInt64(query["offset"] ?? "0") ?? 0
            let count = query["count"].flatMap { UInt64($0) }
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64 ?? 0
            var headers = Headers()
            headers.append(":status", "200")
            headers.append("content-length", String(count ?? size - offset))
            try await stream.writeHeaders(headers, endStream: false, timeout: 10)
            try await stream.writeBody(fromPath: path, offset: offset, count: count, timeout: 10)
        case "/from-pipe":
            // An open pipe as a BodyFile: not a regular file, so read until it ends.
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { throw TestError("pipe failed") }
            let text = Array("piped octets".utf8)
            _ = text.withUnsafeBytes { Glibc.write(ends[1], $0.baseAddress, $0.count) }
            Glibc.close(ends[1])
            var headers = Headers()
            headers.append(":status", "200")
            try await stream.writeHeaders(headers, endStream: false, timeout: 10)
            try await stream.writeBody(from: BodyFile(adopting: ends[0]), timeout: 10)
        case "/from-fifo":
            var headers = Headers()
            headers.append(":status", "200")
            try await stream.writeHeaders(headers, endStream: false, timeout: 10)
            try await stream.writeBody(fromFile: fifo, timeout: 10)
        case "/save":
            try await respond(stream, "\(try await stream.saveBody(toPath: path, timeout: 10))")
        case "/to-fifo":
            try await respond(stream, "\(try await stream.saveBody(to: fifo, timeout: 20))")
        case "/as-file":
            let file = try await stream.getBodyAsFile(timeout: 10)
            let bytes = try file.readAll()
            try await respond(stream, "\(bytes.count) \(matchesPattern(bytes, at: 0) ? "ok" : "mismatch")")
        case "/hello":
            try await respond(stream, "hello")
        default:
            try await respond(stream, "no route \(target)", status: 404)
        }
    }

    private func respond(_ stream: any HTTPStream, _ text: String, status: Int = 200) async throws {
        var headers = Headers()
        headers.append(":status", String(status))
        headers.append("content-length", String(text.utf8.count))
        try await stream.writeHeaders(headers, endStream: false, timeout: 10)
        try await stream.writeChunk(Array(text.utf8), endStream: true, timeout: 10)
    }
}

/// A named pipe with both ends open in this process, both blocking.
private final class FIFO {
    let readEnd: Int32
    private(set) var writeEnd: Int32

    init(at path: String) throws {
        guard mkfifo(path, 0o600) == 0 else { throw TestError("mkfifo \(path): errno \(errno)") }
        // Opening the read end without O_NONBLOCK would wait for a writer.
        readEnd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard readEnd >= 0 else { throw TestError("open \(path) for reading: errno \(errno)") }
        writeEnd = open(path, O_WRONLY | O_CLOEXEC)
        guard writeEnd >= 0 else { throw TestError("open \(path) for writing: errno \(errno)") }
        _ = fcntl(readEnd, F_SETFL, 0)
    }

    deinit {
        close(readEnd)
        closeWriteEnd()
    }

    func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard Glibc.write(writeEnd, bytes, bytes.count) == bytes.count else { throw TestError("write: errno \(errno)") }
    }

    func closeWriteEnd() {
        if writeEnd >= 0 { close(writeEnd) }
        writeEnd = -1
    }

    /// The octets written and not yet read.
    func bytesWaiting() -> Int {
        var count: Int32 = 0
        return ioctl(readEnd, UInt(FIONREAD), &count) == 0 ? Int(count) : -1
    }

    /// Reads `count` octets (fewer if the FIFO ends), waiting at most `seconds` in all.
    func read(count: Int, within seconds: Double) throws -> [UInt8] {
        try readPipe(readEnd, count: count, within: seconds, what: "FIFO")
    }
}
