import Foundation
import Stepwise
import XCTest

/// `stepwise serve --send-timeout`: how long a file's response may wait for the client to take
/// more of it. It bounds each wait, not the whole body: a download that takes longer than the
/// timeout but never stalls completes (with a deadline on the whole body, as before, every
/// download longer than 300 s was cut short), and a client that stops reading is dropped.
final class ServeSendTimeoutTests: XCTestCase {
    private static let fileSize = 16 << 20

    /// The demo serving a 16 MiB file, with `arguments` (by default quiet, 1.5 s).
    private func serveLargeFile(
        _ arguments: [String] = ["--quiet", "--send-timeout", "1.5"]
    ) throws -> ServeCommandTests.Demo {
        let root = NSTemporaryDirectory() + "stepwise-send-timeout-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        let content = (0..<Self.fileSize).map { UInt8(truncatingIfNeeded: $0 % 251) }
        try Data(content).write(to: URL(fileURLWithPath: root + "/large.bin"))
        return try ServeCommandTests.Demo(["--root", root] + arguments)
    }

    /// A connection to the demo with a small receive buffer, so that what the server has sent
    /// is bounded by what the client read, and a GET of the file sent on it.
    private func requestLargeFile(_ demo: ServeCommandTests.Demo) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var receiveBuffer: Int32 = 32 * 1024
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(demo.port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        let request = Array("GET /large.bin HTTP/1.1\r\nHost: t\r\n\r\n".utf8)
        XCTAssertEqual(request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }, request.count)
        return fd
    }

    /// Reads until the server closes or `limit` octets came, `pause` seconds after each read of
    /// at most 64 KiB; returns the octets and whether the server closed.
    private func read(_ fd: Int32, limit: Int, pause: Double) -> (octets: Int, closed: Bool) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var total = 0
        while total < limit {
            let got = recv(fd, &buffer, buffer.count, 0)
            if got <= 0 { return (total, got == 0 || errno == ECONNRESET) }
            total += got
            if pause > 0 { usleep(UInt32(pause * 1_000_000)) }
        }
        return (total, false)
    }

    /// Reads until the server closes or `limit` octets came; returns the response head's length,
    /// the body octets that followed it, and whether the server closed.
    private func readBody(_ fd: Int32, limit: Int) -> (head: Int, body: Int, closed: Bool) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var start: [UInt8] = []
        var head: Int?
        var total = 0
        while total < limit {
            let got = recv(fd, &buffer, min(buffer.count, limit - total), 0)
            if got <= 0 { return (head ?? 0, total - (head ?? total), got == 0 || errno == ECONNRESET) }
            total += got
            if head == nil {
                start += buffer[..<got]
                head = (0..<max(0, start.count - 3)).first { start[$0..<($0 + 4)].elementsEqual([13, 10, 13, 10]) }
                    .map { $0 + 4 }
            }
        }
        return (head ?? 0, total - (head ?? total), false)
    }

    func testADownloadLongerThanTheTimeoutThatNeverStallsCompletes() throws {
        let demo = try serveLargeFile()
        defer { _ = demo.stop() }
        let fd = try requestLargeFile(demo)
        defer { close(fd) }
        let started = MonotonicClock.seconds()
        // Some MB/s: a wait of the server's (for up to 1.5 MiB to be read, its high-water mark and
        // a chunk) takes a fraction of the timeout, the 16 MiB take seconds.
        let (octets, closed) = read(fd, limit: Self.fileSize + 200, pause: 0.005)
        let elapsed = MonotonicClock.seconds() - started
        XCTAssertFalse(closed, "the server closed after \(octets) octets, \(elapsed) s")
        XCTAssertGreaterThan(octets, Self.fileSize, "head and body: \(octets) octets in \(elapsed) s")
        XCTAssertGreaterThan(elapsed, 1.5, "the download took less than the timeout")
    }

    func testAClientThatStopsReadingIsDropped() throws {
        let demo = try serveLargeFile()
        defer { _ = demo.stop() }
        let fd = try requestLargeFile(demo)
        defer { close(fd) }
        usleep(3_000_000)  // the server's writes wait; after 1.5 s it gives up and closes
        let (octets, closed) = read(fd, limit: Self.fileSize + 200, pause: 0)
        XCTAssertTrue(closed, "not closed after \(octets) octets")
        XCTAssertLessThan(octets, Self.fileSize, "the whole file came")
    }

    /// The client's own address as the server sees it, as the request log writes it.
    private func localName(_ fd: Int32) -> String {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return "127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
    }

    /// The request log's line for `GET /large.bin` (once the server wrote it), and its byte count.
    private func logLine(_ demo: ServeCommandTests.Demo) -> (line: String, bytes: Int?) {
        XCTAssertTrue(demo.waitForLog(containing: "\"GET /large.bin HTTP/1.1\""), "no log line")
        let log = demo.stop()
        let line = log.split(separator: "\n").first { $0.contains("\"GET /large.bin HTTP/1.1\"") } ?? ""
        // `peer "GET /large.bin HTTP/1.1" status bytes milliseconds ms …`
        let fields = line.split(separator: "\"").last?.split(separator: " ") ?? []
        return (String(line), fields.count > 1 ? Int(fields[1]) : nil)
    }

    /// A client that stops reading is dropped after the timeout, and the request log says so:
    /// the body octets that went out (not the file's length), a note that the response was cut
    /// short, and the client's address (read before the connection was closed; read after, it
    /// was "unspecified").
    func testTheLogOfADroppedClientSaysWhatWasSent() throws {
        let demo = try serveLargeFile(["--send-timeout", "1"])
        defer { if demo.process.isRunning { _ = demo.stop() } }
        let fd = try requestLargeFile(demo)
        defer { close(fd) }
        let peer = localName(fd)
        usleep(2_500_000)  // the server's writes wait; after 1 s it gives up and closes
        let (octets, closed) = read(fd, limit: Self.fileSize + 200, pause: 0)
        XCTAssertTrue(closed, "not closed after \(octets) octets")
        let (line, bytes) = logLine(demo)
        XCTAssertTrue(line.hasPrefix(peer + " \"GET /large.bin HTTP/1.1\" 200 "), line)
        XCTAssertTrue(line.contains(" ms (cut short: "), line)
        let sent = try XCTUnwrap(bytes, line)
        // What the log counts went out: the client got it (and the head), and not the whole file.
        XCTAssertLessThan(sent, Self.fileSize, line)
        XCTAssertLessThan(sent, octets, "\(line); the client got \(octets) octets")
    }

    /// A client that stops reading, then reads what the server had sent once it gave up: the
    /// log counts exactly the body octets the client got, the file octets the kernel took (by
    /// `sendfile(2)`), not only the 2 MiB slices sent whole (`FileBodySender`), which counted up
    /// to a slice less.
    func testTheLogOfADroppedClientCountsTheOctetsOfTheSliceCutShort() throws {
        let demo = try serveLargeFile(["--send-timeout", "1"])
        defer { if demo.process.isRunning { _ = demo.stop() } }
        let fd = try requestLargeFile(demo)
        defer { close(fd) }
        usleep(2_500_000)  // the server's writes wait; after 1 s it gives up and closes
        let (head, body, closed) = readBody(fd, limit: Self.fileSize + 200)
        XCTAssertTrue(closed, "not closed after \(body) octets of body")
        XCTAssertGreaterThan(head, 0)
        let (line, bytes) = logLine(demo)
        XCTAssertTrue(line.contains(" ms (cut short: "), line)
        XCTAssertEqual(bytes, body, "\(line); the client got \(body) octets of body")
    }

    /// A client that reads part of the download (over 3 MiB: more than one slice) and goes away,
    /// resetting the connection: the log counts at least the body octets it got (those the
    /// kernel took, with what it held in its buffers then), and fewer than the file's. (Exactly
    /// what went out is checked by the test above; a count of whole slices only, a multiple of
    /// 2 MiB, would land on the kernel's by chance, so that is not asserted here.)
    func testTheLogOfAClientThatWentAwayCountsWhatItGotAndLessThanTheFile() throws {
        let demo = try serveLargeFile(["--send-timeout", "10"])
        defer { if demo.process.isRunning { _ = demo.stop() } }
        let fd = try requestLargeFile(demo)
        let (_, body, closed) = readBody(fd, limit: (3 << 20) + 12_345)
        XCTAssertFalse(closed, "closed after \(body) octets of body")
        usleep(200_000)  // the server fills its socket's buffer again
        close(fd)
        let (line, bytes) = logLine(demo)
        XCTAssertTrue(line.contains(" ms (cut short: "), line)
        let sent = try XCTUnwrap(bytes, line)
        XCTAssertGreaterThanOrEqual(sent, body, line)
        XCTAssertLessThan(sent, Self.fileSize, line)
    }

    /// A client that goes away in the middle of the download (closes with unread octets, which
    /// resets the connection): the log line has its address and says the response was cut short.
    func testTheLogOfAClientThatWentAwayHasItsAddress() throws {
        let demo = try serveLargeFile(["--send-timeout", "10"])
        defer { if demo.process.isRunning { _ = demo.stop() } }
        let fd = try requestLargeFile(demo)
        let peer = localName(fd)
        let (octets, closed) = read(fd, limit: 64 * 1024, pause: 0)
        XCTAssertFalse(closed, "closed after \(octets) octets")
        close(fd)
        let (line, bytes) = logLine(demo)
        XCTAssertTrue(line.hasPrefix(peer + " \"GET /large.bin HTTP/1.1\" 200 "), line)
        XCTAssertTrue(line.contains(" ms (cut short: "), line)
        XCTAssertLessThan(try XCTUnwrap(bytes, line), Self.fileSize, line)
    }
}
