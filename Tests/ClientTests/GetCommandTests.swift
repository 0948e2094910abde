import Foundation
import Stepwise
import XCTest

/// Runs the built `stepwise get` (from the build directory this test bundle runs from) against a
/// `TestServer`.
final class GetCommandTests: XCTestCase {
    func testBodyGoesToStdout() throws {
        let server = try TestServer(RequestGoTests.echo)
        defer { server.stop() }
        let run = try stepwise(["get", "http://127.0.0.1:\(server.port)/out"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "GET /out ")
        XCTAssertEqual(run.stderr, "")
    }

    func testOutputFileMethodHeadersAndData() throws {
        let server = try TestServer { stream, head in
            let body = try await stream.getBodyAsString(timeout: 5)
            try await reply(stream, "\(head.method ?? "") \(head.headers.first("x-a") ?? "-") \(body)")
        }
        defer { server.stop() }
        let path = NSTemporaryDirectory() + "get-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try stepwise([
            "get", "-X", "PUT", "-H", "X-A: 1", "-d", "payload", "-o", path, "http://127.0.0.1:\(server.port)/",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "PUT 1 payload")
    }

    func testVerboseShowsBothHeads() throws {
        let server = try TestServer { stream, _ in try await reply(stream, status: 404, "missing") }
        defer { server.stop() }
        let run = try stepwise(["get", "-v", "http://127.0.0.1:\(server.port)/v"])
        XCTAssertEqual(run.status, 0, "any HTTP status exits 0")
        XCTAssertEqual(run.stdout, "missing")
        XCTAssertTrue(run.stderr.contains("> GET /v HTTP/1.1\n"), run.stderr)
        XCTAssertTrue(run.stderr.contains("> host: 127.0.0.1:\(server.port)\n"), run.stderr)
        XCTAssertTrue(run.stderr.contains("< HTTP/1.1 404\n"), run.stderr)
        XCTAssertTrue(run.stderr.contains("< transfer-encoding: chunked\n"), run.stderr)
    }

    /// curl's `-H 'Host: name'` names the virtual host, the URL where to connect. It used to add
    /// a `host` field next to `:authority` and fail before sending anything ("both :authority and
    /// a host field").
    func testHostHeaderOptionSetsTheHost() throws {
        let server = try TestServer { stream, head in
            try await reply(stream, head.authority ?? head.headers.first("host") ?? "-")
        }
        defer { server.stop() }
        let run = try stepwise(["get", "-v", "-H", "Host: example.test", "http://127.0.0.1:\(server.port)/"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "example.test", run.stderr)
        XCTAssertTrue(run.stderr.contains("> host: example.test\n"), run.stderr)
        XCTAssertEqual(run.stderr.components(separatedBy: "> host:").count, 2, "one host line: \(run.stderr)")
    }

    /// `-H 'Range: …'` (a resumed download) asks for `identity` rather than `gzip, deflate`: a
    /// 206 is written as it comes, so a compressed range would be appended to plain octets.
    func testARangeAsksForTheOctetsAsTheyAre() throws {
        let server = try TestServer(RequestGoTests.echo)
        defer { server.stop() }
        let run = try stepwise(["get", "-v", "-H", "Range: bytes=5-", "http://127.0.0.1:\(server.port)/r"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("> accept-encoding: identity\n"), run.stderr)
        XCTAssertTrue(run.stderr.contains("< x-accept-encoding: identity\n"), run.stderr)
    }

    /// stdout may be a pipe whose open file description has `O_NONBLOCK`, set by the parent that
    /// shares it (Node's `child_process`, some shells and terminals). Once the reader fell 64 KiB
    /// behind, `write` failed with EAGAIN and the transfer with it ("write: Resource temporarily
    /// unavailable", the body cut short); like curl, `stepwise get` waits for the pipe instead.
    func testNonBlockingStdoutThatFillsUpGetsTheWholeBody() throws {
        let size = 2 << 20
        let server = try TestServer { stream, _ in
            var headers = Headers()
            headers.append(":status", "200")
            headers.append("content-length", String(size))
            try await stream.writeHeaders(headers, endStream: false, timeout: 5)
            var sent = 0
            while sent < size {
                let count = min(64 << 10, size - sent)
                sent += count
                try await stream.writeChunk([UInt8](repeating: 0x2A, count: count), endStream: sent == size, timeout: 5)
            }
        }
        defer { server.stop() }
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        XCTAssertEqual(fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK), 0)
        let process = Process()
        process.executableURL = try XCTUnwrap(XCTestCase.locate("stepwise"))
        process.arguments = ["get", "http://127.0.0.1:\(server.port)/"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(fileDescriptor: fds[1], closeOnDealloc: false)
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        close(fds[1])  // the child's copy is the only writer left: read sees the end when it exits
        usleep(1_000_000)  // a reader slow to start
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = read(fds[0], &buffer, buffer.count)
            if got <= 0 { break }
            total += got
        }
        close(fds[0])
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, stderr)
        XCTAssertEqual(total, size, stderr)
    }

    func testRefusedConnectFailsWithOneLine() throws {
        let run = try stepwise(["get", "http://127.0.0.1:9/"])
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(run.stdout, "")
        XCTAssertEqual(run.stderr, "stepwise: connect to 127.0.0.1:9 refused\n")
    }
}
