import Foundation
import Stepwise
import XCTest

/// The demo server as `make run` starts it: the built `stepwise serve` in a child process, asked
/// over loopback by the library's client. The planner's file logic has unit tests of its own
/// (StepwiseDemoTests); these check the routes and the request log end to end.
final class ServeCommandTests: XCTestCase {
    /// A running `stepwise serve --port 0`, its port read from the start-up line (0 with
    /// `--unix`, whose start-up line names the path).
    final class Demo {
        let process = Process()
        let port: Int
        private let stderr = Pipe()

        /// `nonBlockingStderr` sets `O_NONBLOCK` on the stderr pipe, which the child shares (as
        /// it would a parent's that set it).
        init(_ arguments: [String], nonBlockingStderr: Bool = false) throws {
            let stdout = Pipe()
            if nonBlockingStderr {
                let fd = stderr.fileHandleForWriting.fileDescriptor
                XCTAssertEqual(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0)
            }
            let unix = arguments.contains("--unix")
            process.executableURL = try XCTUnwrap(XCTestCase.locate("stepwise"), "stepwise is not built")
            process.arguments = ["serve"] + (unix ? [] : ["--host", "127.0.0.1", "--port", "0"]) + arguments
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = stdout
            process.standardError = stderr
            try process.run()
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let chunk = stdout.fileHandleForReading.availableData
                guard !chunk.isEmpty else { break }
                line.append(chunk)
            }
            let text = String(decoding: line, as: UTF8.self)
            if unix {
                guard text.contains("serving on unix:") else {
                    process.terminate()
                    struct NoStartLine: Error { let line: String }
                    throw NoStartLine(line: text)
                }
                port = 0
                return
            }
            // "stepwise 0.1.0 serving http and https on 127.0.0.1:PORT — try http://127.0.0.1:PORT/hello"
            guard let url = text.split(separator: " ").last, let colon = url.lastIndex(of: ":"),
                let port = Int(url[url.index(after: colon)...].prefix { $0.isNumber })
            else {
                process.terminate()
                struct NoPort: Error { let line: String }
                throw NoPort(line: text)
            }
            self.port = port
        }

        /// What `waitForLog` read of stderr; `stop()` returns it with the rest.
        private var logRead = Data()

        /// Reads stderr as it comes until it holds `text` (true) or `seconds` pass (false).
        func waitForLog(containing text: String, within seconds: Double = 10) -> Bool {
            let fd = stderr.fileHandleForReading.fileDescriptor
            let deadline = MonotonicClock.seconds() + seconds
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !String(decoding: logRead, as: UTF8.self).contains(text) {
                let left = deadline - MonotonicClock.seconds()
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard left > 0, poll(&pfd, 1, Int32(left * 1000) + 1) == 1 else { return false }
                let got = read(fd, &buffer, buffer.count)
                guard got > 0 else { return false }
                logRead.append(contentsOf: buffer[..<got])
            }
            return true
        }

        /// Stops the server and returns what it wrote to stderr (the request log), read while it
        /// exits (it writes out its queued log lines first).
        func stop() -> String {
            let log = Locked(Data())
            let read = DispatchSemaphore(value: 0)
            let handle = stderr.fileHandleForReading
            DispatchQueue.global().async {
                let data = handle.readDataToEndOfFile()
                log.withLock { $0 = data }
                read.signal()
            }
            process.terminate()
            process.waitUntilExit()
            _ = read.wait(timeout: .now() + 10)
            return String(decoding: logRead + log.withLock { $0 }, as: UTF8.self)
        }
    }

    private func fetch(
        _ demo: Demo, _ target: String, method: String = "GET", body: String? = nil,
        fields: [(String, String)] = [], reactor: Reactor
    ) throws -> HTTPResponse {
        let request = try Request(uri: "http://127.0.0.1:\(demo.port)\(target)")
        try request.headers.upsert(":method", method)
        for (name, value) in fields { request.headers.append(name, value) }
        if let body { request.setBody(body) }
        request.decodeContent = false
        return try request.fetch(on: reactor, timeout: 10)
    }

    func testHelloEchoAndMethods() throws {
        let demo = try Demo([])
        addTeardownBlock { if demo.process.isRunning { _ = demo.stop() } }
        let reactor = try Reactor()

        let hello = try fetch(demo, "/hello", reactor: reactor)
        XCTAssertEqual(hello.status, 200)
        XCTAssertEqual(hello.text, "Hello, World!")
        XCTAssertEqual(hello.headers.first("content-length"), "13")
        XCTAssertEqual(hello.headers.first("content-type"), "text/plain; charset=utf-8")
        XCTAssertNotNil(hello.headers.first("date"))

        // The query is not part of the route.
        XCTAssertEqual(try fetch(demo, "/hello?name=x&y=%3F", reactor: reactor).text, "Hello, World!")

        let head = try fetch(demo, "/hello", method: "HEAD", reactor: reactor)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.body, [])
        XCTAssertEqual(head.headers.first("content-length"), "13")

        let post = try fetch(demo, "/hello", method: "POST", body: "x", reactor: reactor)
        XCTAssertEqual(post.status, 405)
        XCTAssertEqual(post.headers.first("allow"), "GET, HEAD, OPTIONS")

        let echoed = try fetch(demo, "/echo?q", method: "PUT", body: "some body", reactor: reactor)
        XCTAssertEqual(echoed.status, 200)
        XCTAssertEqual(echoed.text, "some body")

        let log = demo.stop()
        // One log line per request, with the method and the target (and the server's own line
        // about the SIGTERM that stopped it).
        let lines = log.split(separator: "\n").filter { !$0.hasPrefix("stepwise:") }
        XCTAssertEqual(lines.count, 5, log)
        XCTAssertTrue(lines.first?.contains("GET /hello") ?? false, log)
        XCTAssertTrue(lines.last?.contains("PUT /echo?q") ?? false, log)
    }

    func testDiscardReadsTheWholeBodyAndKeepsNone() throws {
        let demo = try Demo(["--quiet", "--max-body", "1000"])
        addTeardownBlock { if demo.process.isRunning { _ = demo.stop() } }
        let reactor = try Reactor()

        let small = try fetch(demo, "/discard", method: "POST", body: "some body", reactor: reactor)
        XCTAssertEqual(small.status, 204)
        XCTAssertEqual(small.body, [])
        XCTAssertEqual(small.headers.first("x-discarded"), "9")
        XCTAssertNil(small.headers.first("content-length"))

        // Far over --max-body, which bounds only what /echo holds.
        let large = try fetch(
            demo, "/discard?x", method: "PUT", body: String(repeating: "0123456789abcdef", count: 1 << 16),
            reactor: reactor)
        XCTAssertEqual(large.status, 204)
        XCTAssertEqual(large.headers.first("x-discarded"), String(16 << 16))
    }

    func testRoutePrefixesAreNotHello() throws {
        let demo = try Demo(["--quiet", "--root", NSTemporaryDirectory()])
        defer { _ = demo.stop() }
        let reactor = try Reactor()
        // Neither a longer path nor one that only starts like the route reaches it.
        XCTAssertEqual(try fetch(demo, "/hello/x", reactor: reactor).status, 404)
        XCTAssertEqual(try fetch(demo, "/hellox?a", reactor: reactor).status, 404)
    }

    /// A fragment should not be sent (no request-target form has one), but the parser lets it
    /// through as llhttp and nginx do: every route is found by what comes before it, as files are.
    func testAFragmentDoesNotChangeTheRoute() throws {
        let root = NSTemporaryDirectory() + "stepwise-fragment-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "a\n".write(toFile: root + "/a.txt", atomically: false, encoding: .utf8)
        let demo = try Demo(["--quiet", "--root", root])
        defer { _ = demo.stop() }
        for target in ["/hello#x", "/hello?a#x", "/hello#?", "/hello#"] {
            let response = try demo.exchange("GET", target)
            XCTAssertEqual(response.status, 200, target)
            XCTAssertEqual(response.body, "Hello, World!", target)
        }
        XCTAssertEqual(try demo.exchange("GET", "/a.txt#x").body, "a\n")
        XCTAssertEqual(try demo.exchange("POST", "/discard#x").status, 204)
        XCTAssertEqual(try demo.exchange("OPTIONS", "/echo#x").first("allow"), "POST, PUT, OPTIONS")
    }

    /// stderr is a pipe nobody reads while 3,000 requests are logged (about 200 KB, three times
    /// what the pipe holds): the server goes on answering, and every line is there once stderr
    /// is read. (Written on the reactor's thread, the log would stall it at the 64 KiB mark.)
    func testAnUnreadStderrDoesNotStallTheServer() throws {
        try assertEveryRequestIsLoggedWhileStderrIsUnread(nonBlockingStderr: false)
    }

    /// A non-blocking stderr (shared with a parent that set `O_NONBLOCK`) that fills up makes
    /// `write` fail with EAGAIN: the log's writer thread waits for it (poll) instead of dropping
    /// what it was writing.
    func testANonBlockingStderrThatFillsUpLosesNoLogLine() throws {
        try assertEveryRequestIsLoggedWhileStderrIsUnread(nonBlockingStderr: true)
    }

    /// 3000 requests on one connection while nothing reads the server's stderr (its log, some
    /// 170 KB, more than a pipe holds), then every line is there once it is read.
    private func assertEveryRequestIsLoggedWhileStderrIsUnread(nonBlockingStderr: Bool) throws {
        let demo = try Demo([], nonBlockingStderr: nonBlockingStderr)
        addTeardownBlock { if demo.process.isRunning { _ = demo.stop() } }
        let connection = try RawConnection(port: demo.port)
        let request = Array("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n".utf8)
        try connection.send(request)
        let first = try connection.receive(until: {
            $0.count >= 13 && $0.suffix(13).elementsEqual("Hello, World!".utf8)
        })
        let responseLength = first.count
        let count = 3_000
        var answered = 1
        while answered < count {
            let batch = min(100, count - answered)
            try connection.send(Array([[UInt8]](repeating: request, count: batch).joined()))
            let expected = batch * responseLength
            let received = try connection.receive(until: { $0.count >= expected })
            XCTAssertEqual(received.count, expected)
            answered += batch
        }
        connection.close()
        let log = demo.stop()
        let lines = log.split(separator: "\n").filter { $0.contains("\"GET /hello HTTP/1.1\" 200 13 ") }
        XCTAssertEqual(lines.count, count, String(log.suffix(300)))
    }

    /// The log line's byte count is the body octets sent: none for HEAD, for a file as for a
    /// response built in memory (`/hello`, a 404), which used to log the length of the body it
    /// did not send.
    func testHeadIsLoggedWithNoBodyBytes() throws {
        let root = NSTemporaryDirectory() + "stepwise-head-log-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        try "some text\n".write(toFile: root + "/a.txt", atomically: true, encoding: .utf8)
        let demo = try Demo(["--root", root])
        addTeardownBlock { if demo.process.isRunning { _ = demo.stop() } }
        let reactor = try Reactor()
        for target in ["/hello", "/no-such-file", "/a.txt", "/"] {
            let response = try fetch(demo, target, method: "HEAD", reactor: reactor)
            XCTAssertEqual(response.body, [], target)
        }
        let log = demo.stop()
        let lines = log.split(separator: "\n").filter { $0.contains("\"HEAD ") }
        XCTAssertEqual(lines.count, 4, log)
        for (line, status) in zip(lines, [200, 404, 200, 200]) {
            XCTAssertTrue(line.contains(" HTTP/1.1\" \(status) 0 "), String(line))
        }
    }

    /// A request the server rejects before the site sees it gets a request-log line with its
    /// status (and the reason), like every request the site answers.
    func testRejectedRequestsAreLogged() throws {
        let demo = try Demo([])
        addTeardownBlock { if demo.process.isRunning { _ = demo.stop() } }
        let connection = try RawConnection(port: demo.port)
        try connection.send(Array("GARBAGE\r\n\r\n".utf8))
        let answer = try connection.receive(until: { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") })
        XCTAssertTrue(String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/1.1 400 "))
        connection.close()
        let log = demo.stop()
        let lines = log.split(separator: "\n").filter { $0.contains("\"-\" 400 - - (") }
        XCTAssertEqual(lines.count, 1, log)
    }

    /// A file below `--root` whole, as a range (sent from its offset), and for HEAD.
    /// RFC 9112 §3.2.2: "A server MUST accept the absolute-form in requests".
    func testAbsoluteFormRequestTargetsAreServed() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-absolute-\(getpid())")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try Data("hi\n".utf8).write(to: root.appendingPathComponent("a.txt"))
        let demo = try Demo(["--quiet", "--root", root.path])
        defer { _ = demo.stop() }
        let authority = "127.0.0.1:\(demo.port)"
        for (target, body) in [("/hello", "Hello, World!"), ("/a.txt", "hi\n"), ("", "a.txt")] {
            let connection = try RawConnection(port: demo.port)
            defer { connection.close() }
            try connection.send(
                Array(
                    "GET http://\(authority)\(target) HTTP/1.1\r\nHost: \(authority)\r\nConnection: close\r\n\r\n".utf8)
            )
            let answer = String(
                decoding: try connection.receive(until: {
                    let text = String(decoding: $0, as: UTF8.self)
                    return text.contains(body) || (text.contains("\r\n\r\n") && !text.hasPrefix("HTTP/1.1 200 "))
                }), as: UTF8.self)
            XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200 "), "absolute-form \(target): \(answer)")
            XCTAssertTrue(answer.contains(body), "absolute-form \(target): \(answer)")
        }
    }

    func testStaticFilesWholeRangedAndHead() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-serve-\(getpid())")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        // Two megabytes, longer than one read of the file (1 MiB), with a pattern that shows offsets.
        let content = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 % 251) }
        try Data(content).write(to: root.appendingPathComponent("data.bin"))
        let demo = try Demo(["--quiet", "--root", root.path])
        defer { _ = demo.stop() }
        let reactor = try Reactor()

        let whole = try fetch(demo, "/data.bin", reactor: reactor)
        XCTAssertEqual(whole.status, 200)
        XCTAssertEqual(whole.body, content)

        let first = 1_048_570
        let ranged = try fetch(demo, "/data.bin", fields: [("range", "bytes=\(first)-\(first + 99)")], reactor: reactor)
        XCTAssertEqual(ranged.status, 206)
        XCTAssertEqual(ranged.headers.first("content-range"), "bytes \(first)-\(first + 99)/\(content.count)")
        XCTAssertEqual(ranged.body, Array(content[first..<(first + 100)]))

        let head = try fetch(demo, "/data.bin", method: "HEAD", reactor: reactor)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers.first("content-length"), String(content.count))
        XCTAssertEqual(head.body, [])
        let suffix = try fetch(demo, "/data.bin", fields: [("range", "bytes=-3")], reactor: reactor)
        XCTAssertEqual(suffix.body, Array(content.suffix(3)))
    }
}

/// A blocking loopback TCP connection whose every wait has a 5 s deadline.
final class RawConnection {
    private(set) var fd: Int32

    init(port: Int) throws {
        fd = try connectToLoopback(port: port)
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            try wait(for: Int16(POLLOUT))
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, 0) }
            guard sent > 0 else { throw POSIXError(.EPIPE) }
            offset += sent
        }
    }

    /// Reads until `done` holds for what arrived; throws when 5 s pass without input.
    func receive(until done: ([UInt8]) -> Bool) throws -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !done(received) {
            try wait(for: Int16(POLLIN))
            let got = recv(fd, &buffer, buffer.count, 0)
            guard got > 0 else { throw POSIXError(.ECONNRESET) }
            received += buffer[..<got]
        }
        return received
    }

    private func wait(for events: Int16) throws {
        var pfd = pollfd(fd: fd, events: events, revents: 0)
        guard poll(&pfd, 1, 5_000) == 1 else { throw POSIXError(.ETIMEDOUT) }
    }
}

/// A blocking TCP socket connected to 127.0.0.1:`port`.
func connectToLoopback(port: Int) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard result == 0 else {
        close(fd)
        throw POSIXError(.ECONNREFUSED)
    }
    return fd
}
