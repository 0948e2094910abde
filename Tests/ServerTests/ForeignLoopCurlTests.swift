import Foundation
import Stepwise
import XCTest

/// A real `curl` process against a server that only the test's own poll(2) loop drives (the
/// Pollable face: `pollfd()`, `events()`, `timeoutMilliseconds()`, `step(timeout: 0)`; see
/// `foreignLoop`): a keep-alive GET of a small and a large body, and a 2 MiB upload with
/// `Expect: 100-continue`.
final class ForeignLoopCurlTests: XCTestCase {
    private var directory: URL!
    private var server: Server!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-poll-curl-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        server = try Server.listen(ServerOptions(), handler: TestRoutes().handler)
    }

    override func tearDownWithError() throws {
        if let server {
            server.close(timeout: 0)
            try foreignLoop(server, for: 5) { server.empty() }
            XCTAssertTrue(server.empty())
        }
        try? FileManager.default.removeItem(at: directory)
    }

    private var baseURL: String { "http://127.0.0.1:\(server.localname().port ?? 0)" }

    /// Runs curl with `arguments` while this thread steps the server through its own poll loop
    /// until curl exits (at most `seconds`). Returns curl's exit status, stdout and stderr.
    private func curl(_ arguments: [String], within seconds: Double = 20) throws -> (
        status: Int32, out: String, err: String
    ) {
        let out = directory.appendingPathComponent("curl-stdout")
        let err = directory.appendingPathComponent("curl-stderr")
        for file in [out, err] { XCTAssertTrue(FileManager.default.createFile(atPath: file.path, contents: nil)) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl"] + arguments
        process.standardInput = FileHandle.nullDevice
        // Files, not pipes: nobody reads while the loop runs.
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        try foreignLoop(server, for: seconds, pollingEvery: 0.05) { !process.isRunning }
        if process.isRunning {
            process.terminate()
            XCTFail("curl \(arguments) did not finish within \(seconds) s")
        }
        process.waitUntilExit()
        return (
            process.terminationStatus, try String(contentsOf: out, encoding: .utf8),
            try String(contentsOf: err, encoding: .utf8)
        )
    }

    func testCurlGetsSmallAndLargeBodiesOnOneConnection() throws {
        let size = 3_000_000
        let hello = directory.appendingPathComponent("hello")
        let download = directory.appendingPathComponent("download")
        let result = try curl([
            "-sS", "--http1.1", "-w", "%{http_code} %{size_download} %{num_connects}\n",
            "-o", hello.path, "\(baseURL)/hello", "-o", download.path, "\(baseURL)/download?bytes=\(size)",
        ])
        XCTAssertEqual(result.status, 0, result.err)
        // The second transfer reuses the first one's connection (no new connect).
        XCTAssertEqual(result.out, "200 6 1\n200 \(size) 0\n")
        XCTAssertEqual(try Data(contentsOf: hello), Data("hello\n".utf8))
        let body = Array(try Data(contentsOf: download))
        XCTAssertEqual(body.count, size)
        XCTAssertTrue(matchesPattern(body, at: 0))
    }

    func testCurlUploadsWithExpect100Continue() throws {
        let size = 2 << 20
        let input = directory.appendingPathComponent("upload.bin")
        try Data(pattern(0, size)).write(to: input)
        // curl would wait 30 s for the 100 (longer than the loop runs) before sending the body
        // without it: the upload finishes only if the server sends it.
        let result = try curl([
            "-sS", "-v", "--http1.1", "--expect100-timeout", "30", "-H", "Expect: 100-continue",
            "--data-binary", "@\(input.path)", "-w", "\n%{http_code}", "\(baseURL)/upload",
        ])
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertEqual(result.out, "\(size) ok\n200")
        XCTAssertEqual(result.err.components(separatedBy: "< HTTP/1.1 100 Continue").count - 1, 1, result.err)
    }
}
