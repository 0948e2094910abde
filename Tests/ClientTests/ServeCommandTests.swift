import Foundation
import Stepwise
import XCTest

/// The demo server as `make run` starts it: the built `stepwise serve` in a child process, asked
/// over loopback by the library's client. The planner's file logic has unit tests of its own
/// (StepwiseDemoTests); these check the routes and the request log end to end.
final class ServeCommandTests: XCTestCase {
    /// A running `stepwise serve --port 0`, its port read from the start-up line.
    final class Demo {
        let process = Process()
        let port: Int
        private let stderr = Pipe()

        init(_ arguments: [String]) throws {
            let stdout = Pipe()
            process.executableURL = try XCTUnwrap(XCTestCase.locate("stepwise"), "stepwise is not built")
            process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0"] + arguments
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

        /// Stops the server and returns what it wrote to stderr (the request log).
        func stop() -> String {
            process.terminate()
            process.waitUntilExit()
            return String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
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
        XCTAssertEqual(post.headers.first("allow"), "GET, HEAD")

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

    func testRoutePrefixesAreNotHello() throws {
        let demo = try Demo(["--quiet", "--root", NSTemporaryDirectory()])
        defer { _ = demo.stop() }
        let reactor = try Reactor()
        // Neither a longer path nor one that only starts like the route reaches it.
        XCTAssertEqual(try fetch(demo, "/hello/x", reactor: reactor).status, 404)
        XCTAssertEqual(try fetch(demo, "/hellox?a", reactor: reactor).status, 404)
    }

    /// A file below `--root` whole, as a range (sent from its offset), and for HEAD.
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
