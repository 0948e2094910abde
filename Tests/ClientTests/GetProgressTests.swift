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

    /// A server announcing a huge `content-length` and sending slowly makes the ETA larger than
    /// `Int.max` seconds: converting it trapped (SIGILL on peer input). The bar shows `ETA ?` and
    /// the transfer fails cleanly when the server closes with the body cut short.
    func testAHugeContentLengthFromASlowServerShowsAnUnknownETA() throws {
        let server = try SlowOneResponseServer(
            head: "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n", delay: 1.5, body: "x")
        defer { server.close() }
        let run = try stepwiseOnTerminal(["get", "-o", temporaryPath(), "http://127.0.0.1:\(server.port)/"])
        XCTAssertFalse(run.stdout.contains("Fatal error"), run.stdout)
        XCTAssertEqual(run.status, 1, "expected a clean failure (body cut short): \(run.stdout)")
        XCTAssertTrue(run.stdout.contains("ETA ?\u{1B}[K"), run.stdout.debugDescription)
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

/// A loopback TCP server on a thread of its own that answers one connection: reads the request
/// head, sends `head`, waits `delay` seconds, sends `body`, waits a second more and closes.
private final class SlowOneResponseServer: @unchecked Sendable {
    let port: UInt16
    private let fd: Int32
    private let done = DispatchSemaphore(value: 0)

    init(head: String, delay: Double, body: String) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = self.fd
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            Glibc.close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        port = UInt16(bigEndian: address.sin_port)
        let done = self.done
        Thread {
            defer { done.signal() }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            defer { Glibc.close(client) }
            var buffer = [UInt8](repeating: 0, count: 65536)
            _ = recv(client, &buffer, buffer.count, 0)
            let headBytes = Array(head.utf8)
            _ = send(client, headBytes, headBytes.count, Int32(MSG_NOSIGNAL))
            usleep(UInt32(delay * 1e6))
            let bodyBytes = Array(body.utf8)
            _ = send(client, bodyBytes, bodyBytes.count, Int32(MSG_NOSIGNAL))
            usleep(1_000_000)
        }.start()
    }

    /// Stops accepting, waits for the connection's thread and closes the listener.
    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        _ = done.wait(timeout: .now() + 10)
        Glibc.close(fd)
    }
}
