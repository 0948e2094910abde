import Foundation
import XCTest

/// Runs the built `stepwise get` (from the build directory this test bundle runs from) against a
/// `TestServer`.
final class GetCommandTests: XCTestCase {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

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

    func testRefusedConnectFailsWithOneLine() throws {
        let run = try stepwise(["get", "http://127.0.0.1:9/"])
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(run.stdout, "")
        XCTAssertEqual(run.stderr, "stepwise: connect to 127.0.0.1:9 refused\n")
    }

    // MARK: Helpers

    private func stepwise(_ arguments: [String], timeout: Double = 30) throws -> Run {
        let binary = try XCTUnwrap(Self.locate("stepwise"), "stepwise is not built (swift build first)")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes to their ends before waiting, so a full pipe cannot stall the child.
        let group = DispatchGroup()
        let stdoutData = Locked(Data())
        let stderrData = Locked(Data())
        for (pipe, box) in [(out, stdoutData), (err, stderrData)] {
            group.enter()
            DispatchQueue.global().async {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                box.withLock { $0 = data }
                group.leave()
            }
        }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            XCTFail("stepwise \(arguments) did not finish in \(timeout) s")
        }
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            stdout: String(decoding: stdoutData.withLock { $0 }, as: UTF8.self),
            stderr: String(decoding: stderrData.withLock { $0 }, as: UTF8.self))
    }

    /// The directory of the running test binary (`.build/<triple>/debug`), then `.build/debug`
    /// of this package.
    static func locate(_ name: String) -> URL? {
        var directories: [URL] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append(URL(fileURLWithPath: executable).deletingLastPathComponent())
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        directories.append(packageRoot.appendingPathComponent(".build/debug"))
        return directories.map { $0.appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}
