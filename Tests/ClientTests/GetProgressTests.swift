import Foundation
import Stepwise
import XCTest

/// The progress bar of `stepwise get`: drawn on a terminal for a body over 1 MiB, never when
/// stderr is not a terminal.
final class GetProgressTests: XCTestCase {
    static let twoMiB = 2 << 20

    /// `/known`: 2 MiB with content-length; `/unknown`: 2 MiB chunked; `/small`: 1 KiB.
    private func startServer() throws -> TestServer {
        try TestServer { stream, head in
            let size = head.path == "/small" ? 1024 : Self.twoMiB
            var headers = Headers()
            headers.append(":status", "200")
            if head.path != "/unknown" { headers.append("content-length", String(size)) }
            try await stream.writeHeaders(headers, endStream: false, timeout: 5)
            var sent = 0
            while sent < size {
                let count = min(64 << 10, size - sent)
                sent += count
                try await stream.writeChunk([UInt8](repeating: 0x2A, count: count), endStream: sent == size, timeout: 5)
            }
        }
    }

    /// A file path removed when the test ends.
    private func temporaryPath() -> String {
        let path = NSTemporaryDirectory() + "progress-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    private func fileSize(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? -1
    }

    func testBarOnATerminalShowsBytesRateAndETA() throws {
        let server = try startServer()
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        let path = temporaryPath()

        let known = try stepwiseOnTerminal(["get", "-o", path, base + "/known"])
        XCTAssertEqual(known.status, 0, known.stdout)
        XCTAssertEqual(try fileSize(path), Self.twoMiB)
        // The last redraw: bytes of total, the bar, percentage, rate and ETA, then a newline.
        let full = "\r2.0 MiB / 2.0 MiB [" + String(repeating: "#", count: 30) + "] 100%  "
        XCTAssertTrue(known.stdout.contains(full), known.stdout.debugDescription)
        XCTAssertNotNil(
            known.stdout.firstMatch(of: try Regex(#"100%  [0-9.]+ (B|KiB|MiB|GiB)/s  ETA 0s\u{1B}\[K\r\n$"#)),
            known.stdout.debugDescription)

        let unknown = try stepwiseOnTerminal(["get", "-o", path, base + "/unknown"])
        XCTAssertEqual(unknown.status, 0, unknown.stdout)
        XCTAssertEqual(try fileSize(path), Self.twoMiB)
        XCTAssertNotNil(
            unknown.stdout.firstMatch(of: try Regex(#"\r2\.0 MiB  [0-9.]+ (B|KiB|MiB|GiB)/s\u{1B}\[K\r\n$"#)),
            unknown.stdout.debugDescription)
        XCTAssertFalse(unknown.stdout.contains("ETA"), "no ETA without a length")

        let small = try stepwiseOnTerminal(["get", "-o", path, base + "/small"])
        XCTAssertEqual(small.status, 0, small.stdout)
        XCTAssertEqual(small.stdout, "", "no bar for 1 KiB")
    }

    func testNoBarWhenStderrIsNotATerminal() throws {
        let server = try startServer()
        defer { server.stop() }
        let path = temporaryPath()
        let run = try stepwise(["get", "-o", path, "http://127.0.0.1:\(server.port)/known"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr, "")
        XCTAssertEqual(try fileSize(path), Self.twoMiB)
    }
}
