import Dispatch
import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Bodies from a file that cannot seek (here a pipe(2)): `pread` refuses it (ESPIPE), so the body
/// helpers read it in order with `read(2)`, from where it is, on the blocking-work threads, with
/// a count as without one. Its only offset is 0; a pipe that ends before the count leaves the
/// message unfinished, as a regular file cut short does.
final class PipeBodyTests: XCTestCase {
    /// A body of a given length from a pipe a writer thread fills (more than the pipe holds, so
    /// the reads wait for it): the octets after those the test took first, exactly `count` of
    /// them, the rest left in the pipe.
    func testACountedBodyIsReadFromWhereThePipeIs() throws {
        let pipe = try TestPipe()
        let count = 1_500_000 + 17
        // 10 octets the test takes first, the body, and 5 octets that must stay in the pipe.
        let writer = pipe.startWriting(pattern(0, 10 + count + 5))
        XCTAssertEqual(try pipe.read(count: 10, within: 5), pattern(0, 10))
        let routes = PipeRoutes(pipe: pipe.readEnd, count: count)
        let server = try startServer(handler: routes.handler)
        let client = try TestClient(port: server.port)
        client.timeout = 20
        let whole = try client.exchange(get("/body"))
        XCTAssertEqual(whole.status, 200)
        XCTAssertEqual(whole.header("content-length"), String(count))
        XCTAssertEqual(whole.body.count, count)
        XCTAssertTrue(matchesPattern(whole.body, at: 10))
        // The rest of the pipe is where the body ended.
        XCTAssertEqual(writer.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(try pipe.read(count: 5, within: 5), pattern(10 + count, 5))

        // In two slices, each at offset 0 (where the pipe is).
        let second = pipe.startWriting(pattern(10, count))
        let sliced = try client.exchange(get("/slices"))
        XCTAssertEqual(sliced.header("content-length"), String(count))
        XCTAssertEqual(sliced.body.count, count)
        XCTAssertTrue(matchesPattern(sliced.body, at: 10))
        XCTAssertEqual(second.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(routes.failures(), [])
    }

    /// A pipe whose writer closes before the count: the response cannot be completed (its
    /// `content-length`, or its chunked framing, promised the count), so the handler's call
    /// fails and the connection is aborted; the client never sees a whole message.
    func testAPipeThatEndsBeforeTheCountLeavesTheMessageUnfinished() throws {
        for target in ["/body", "/chunked"] {
            let pipe = try TestPipe()
            let count = 300_000
            let writer = pipe.startWriting(pattern(0, count - 100), thenClose: true)
            let routes = PipeRoutes(pipe: pipe.readEnd, count: count)
            let server = try startServer(handler: routes.handler)
            let client = try TestClient(port: server.port)
            try client.send(get(target))
            XCTAssertThrowsError(try client.readResponse(within: 10), target)
            XCTAssertTrue(client.isClosed, target)
            XCTAssertEqual(writer.wait(timeout: .now() + 10), .success)
            XCTAssertTrue(waitUntil { routes.failures().count == 1 }, target)
            XCTAssertEqual(
                routes.failures(), ["file ended 100 octets before the count given"], target)
        }
    }

    /// An offset other than 0 in a pipe is refused before anything is read or written (the
    /// handler then writes the body itself, and the pipe still holds every octet), with or
    /// without a count.
    func testAnOffsetInAPipeIsRefusedBeforeAnythingIsRead() throws {
        let pipe = try TestPipe()
        pipe.startWriting(Array("in the pipe".utf8)).wait()
        let routes = PipeRoutes(pipe: pipe.readEnd, count: 5)
        let server = try startServer(handler: routes.handler)
        let client = try TestClient(port: server.port)
        XCTAssertEqual(try client.exchange(get("/offset")).text, "fine!")
        XCTAssertEqual(try client.exchange(get("/offset-to-end")).text, "fine!")
        let refusal = "\(BodyFile.unseekable(offset: 3))"
        XCTAssertTrue(refusal.hasPrefix("offset 3 in a file that cannot seek"), refusal)
        XCTAssertEqual(routes.failures(), [refusal, refusal])
        XCTAssertEqual(try pipe.read(count: 11, within: 5), Array("in the pipe".utf8))
    }
}

/// Routes that send from `pipe`'s read end (which they do not own), `count` octets:
/// `/body` with `writeBody(from:count:)` under a `content-length`; `/chunked` the same, chunked;
/// `/slices` with `writeChunk(fromFile:)` in two slices, each at offset 0; `/offset` and
/// `/offset-to-end` try offset 3 (with `count`, and without), then write "fine!".
private final class PipeRoutes: Sendable {
    let pipe: Int32
    let count: Int
    private let failed = Locked<[String]>([])

    init(pipe: Int32, count: Int) {
        self.pipe = pipe
        self.count = count
    }

    /// What the handlers' failed calls threw, in order.
    func failures() -> [String] { failed.withLock { $0 } }

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
        let file = try BodyFile(duplicating: pipe)
        let count = UInt64(self.count)
        var headers = Headers()
        headers.append(":status", "200")
        switch target {
        case "/body":
            headers.append("content-length", String(count))
            try await stream.writeHeaders(headers, endStream: false, timeout: 10)
            try await stream.writeBody(from: file, count: count, timeout: 10)
        case "/chunked":
            try await stream.writeHeaders(headers, endStream: false, timeout: 10)
            try await stream.writeBody(from: file, count: count, timeout: 10)
        case "/slices":
            headers.append("content-length", String(count))
            try await stream.writeHeaders(headers, endStream: false, timeout: 10)
            try await stream.writeChunk(fromFile: file, offset: 0, count: count / 3, endStream: false, timeout: 10)
            try await stream.writeChunk(
                fromFile: file, offset: 0, count: count - count / 3, endStream: true, timeout: 10)
        case "/offset", "/offset-to-end":
            headers.append("content-length", "5")
            try await stream.writeHeaders(headers, endStream: false, timeout: 10)
            do {
                if target == "/offset" {
                    try await stream.writeChunk(fromFile: file, offset: 3, count: 5, endStream: true, timeout: 10)
                } else {
                    try await stream.writeBody(from: file, offset: 3, timeout: 10)
                }
            } catch {
                failed.withLock { $0.append("\(error)") }
            }
            try await stream.writeChunk(Array("fine!".utf8), endStream: true, timeout: 10)
        default:
            try stream.writeMessage(headers, body: "no route")
        }
    }
}

/// A pipe(2) the test writes to from a thread of its own (both ends blocking).
private final class TestPipe: @unchecked Sendable {
    let readEnd: Int32
    private let writeEnd: Int32
    private let closed = Locked(false)

    init() throws {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw TestError("pipe: errno \(errno)") }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        close(readEnd)
        closeWriteEnd()
    }

    private func closeWriteEnd() {
        closed.withLock {
            if !$0 { close(writeEnd) }
            $0 = true
        }
    }

    /// Writes `bytes` on a thread of its own (blocking while the pipe is full), then closes the
    /// write end when told; the semaphore is signalled when it is done.
    @discardableResult
    func startWriting(_ bytes: [UInt8], thenClose: Bool = false) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        let fd = writeEnd
        Thread { [self] in
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { break }
                offset += written
            }
            if thenClose { closeWriteEnd() }
            done.signal()
        }.start()
        return done
    }

    /// Reads `count` octets (fewer if the pipe ends), waiting at most `seconds` in all.
    func read(count: Int, within seconds: Double) throws -> [UInt8] {
        try readPipe(readEnd, count: count, within: seconds, what: "pipe")
    }
}
