import Foundation
import Stepwise
import XCTest

/// `stepwise serve --send-timeout`: how long a file's response may wait for the client to take
/// more of it. It bounds each wait, not the whole body: a download that takes longer than the
/// timeout but never stalls completes (with a deadline on the whole body, as before, every
/// download longer than 300 s was cut short), and a client that stops reading is dropped.
final class ServeSendTimeoutTests: XCTestCase {
    private static let fileSize = 16 << 20

    private func serveLargeFile() throws -> ServeCommandTests.Demo {
        let root = NSTemporaryDirectory() + "stepwise-send-timeout-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        let content = (0..<Self.fileSize).map { UInt8(truncatingIfNeeded: $0 % 251) }
        try Data(content).write(to: URL(fileURLWithPath: root + "/large.bin"))
        return try ServeCommandTests.Demo(["--quiet", "--root", root, "--send-timeout", "1.5"])
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
}
