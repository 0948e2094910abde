import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `HTTPStream.fileBodyOctetsSent` on HTTP/1: the file octets that went to the kernel, by
/// `sendfile(2)` or by reading the file, the whole region when the call returns, and of a call
/// that fails part-way (here the client reads part of the file and goes away) those the kernel
/// took: at least what the client received, never more than the file.
final class FileBodyCountTests: XCTestCase {
    private var path = ""
    private let size = 16 << 20

    override func setUpWithError() throws {
        path = NSTemporaryDirectory() + "/stepwise-count-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).bin"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(pattern(0, size))))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: path)
    }

    func testAWholeFileCountsEveryOctetByEitherPath() throws {
        for sendfile in [true, false] {
            let routes = CountingRoutes(path: path)
            let server = try startServer({ $0.http1.sendfile = sendfile }, handler: routes.handler)
            let client = try TestClient(port: server.port)
            client.timeout = 20
            let response = try client.exchange(get("/file"))
            XCTAssertEqual(response.body.count, size, "sendfile \(sendfile)")
            XCTAssertTrue(waitUntil { routes.outcomes().count == 1 })
            XCTAssertEqual(routes.outcomes().first?.counted, UInt64(size), "sendfile \(sendfile)")
            XCTAssertEqual(routes.outcomes().first?.failure, nil, "sendfile \(sendfile)")
        }
    }

    /// The client reads 3 MiB and some of a 16 MiB file, then closes with octets unread (a reset):
    /// the failed call's count is at least what the client received, and not the whole file.
    func testADownloadCutShortCountsWhatTheKernelTook() throws {
        for sendfile in [true, false] {
            let routes = CountingRoutes(path: path)
            let server = try startServer({ $0.http1.sendfile = sendfile }, handler: routes.handler)
            let client = try TestClient(port: server.port)
            var receiveBuffer: Int32 = 32 * 1024
            setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, socklen_t(MemoryLayout<Int32>.size))
            try client.send(get("/file"))
            let received = try readSome(client.fd, count: (3 << 20) + 12_345)
            let head = try XCTUnwrap(firstRange(of: Array("\r\n\r\n".utf8), in: received)).upperBound
            let bodyReceived = UInt64(received.count - head)
            client.close()
            XCTAssertTrue(waitUntil(within: 10) { routes.outcomes().count == 1 }, "sendfile \(sendfile)")
            let outcome = try XCTUnwrap(routes.outcomes().first)
            XCTAssertNotNil(outcome.failure, "sendfile \(sendfile)")
            XCTAssertGreaterThanOrEqual(outcome.counted, bodyReceived, "sendfile \(sendfile): \(outcome)")
            XCTAssertLessThan(outcome.counted, UInt64(size), "sendfile \(sendfile): \(outcome)")
        }
    }

    /// Reads exactly `count` octets from the blocking socket `fd`.
    private func readSome(_ fd: Int32, count: Int) throws -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let deadline = MonotonicClock.seconds() + 20
        while result.count < count {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = deadline - MonotonicClock.seconds()
            guard left > 0, poll(&pfd, 1, Int32(left * 1000)) == 1 else { throw TestError("the response stalled") }
            let got = recv(fd, &buffer, min(buffer.count, count - result.count), 0)
            guard got > 0 else { throw TestError("closed after \(result.count) octets") }
            result += buffer[..<got]
        }
        return result
    }

    private func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start..<(start + needle.count)
        }
        return nil
    }
}

/// `/file`: the whole file under its `content-length`, in one `writeChunk(fromFile:)`; records
/// the stream's `fileBodyOctetsSent` after it, and the call's failure.
private final class CountingRoutes: Sendable {
    struct Outcome: Sendable {
        var counted: UInt64
        var failure: String?
    }
    let path: String
    private let recorded = Locked<[Outcome]>([])

    init(path: String) { self.path = path }

    func outcomes() -> [Outcome] { recorded.withLock { $0 } }

    var handler: Server.Handler {
        .task { [path, recorded] stream in
            guard try await stream.getHeaders(timeout: 10) != nil else { return }
            let file = try await stream.reactor.runBlocking("opening the file") { try BodyFile(reading: path) }
            let size = try await stream.reactor.runBlocking("measuring") { try file.regularFileSize() ?? 0 }
            var headers = Headers()
            headers.append(":status", "200")
            headers.append("content-length", String(size))
            try await stream.writeHeaders(headers, endStream: false, timeout: 10)
            var failure: String?
            do {
                try await stream.writeChunk(fromFile: file, offset: 0, count: size, endStream: true, timeout: 20)
            } catch {
                failure = "\(error)"
            }
            let counted = stream.fileBodyOctetsSent ?? UInt64.max
            recorded.withLock { $0.append(Outcome(counted: counted, failure: failure)) }
        }
    }
}
