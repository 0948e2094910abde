import Dispatch
import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `saveBody` writes each chunk on a blocking-work thread while it reads the next. When it fails
/// with a chunk's write under way, that write must be over before it throws: a write that ended
/// later would land in the file after the caller had been told the save was done with.
final class SaveBodyPendingWriteTests: XCTestCase {
    func testATimeoutWaitsForTheWriteUnderWayBeforeItThrows() throws {
        // A pipe nobody reads yet: the first chunk's write fills it (64 KiB) and blocks.
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        defer {
            close(ends[0])
            close(ends[1])
        }
        let writeEnd = ends[1]
        let draining = Locked(false)
        let outcome = Locked<(error: String, drainingWhenThrown: Bool)?>(nil)
        let server = try startServer(
            handler: .task { stream in
                do {
                    _ = try await stream.saveBody(to: writeEnd, timeout: 0.3)
                    outcome.withLock { $0 = ("none", draining.withLock { $0 }) }
                } catch {
                    outcome.withLock { $0 = ("\(error)", draining.withLock { $0 }) }
                }
            })
        let client = try TestClient(port: server.port)
        let size = 1 << 20
        try client.send("POST /save HTTP/1.1\r\nHost: test\r\nContent-Length: \(size)\r\n\r\n")
        // More than the pipe holds, sent at once, and then no more: the save times out reading.
        _ = [UInt8](repeating: 0x61, count: 256 * 1024).withUnsafeBytes {
            send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
        }
        // Well after the save's deadline, the pipe is drained: only then can the write end.
        usleep(900_000)
        draining.withLock { $0 = true }
        let drained = Locked(0)
        let reader = DispatchQueue(label: "pipe reader")
        let readEnd = ends[0]
        reader.async {
            var buffer = [UInt8](repeating: 0, count: 65536)
            _ = fcntl(readEnd, F_SETFL, O_NONBLOCK)
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline {
                let got = read(readEnd, &buffer, buffer.count)
                if got > 0 {
                    drained.withLock { $0 += got }
                } else {
                    usleep(1000)
                }
            }
        }
        XCTAssertTrue(waitUntil(within: 10) { outcome.withLock { $0 } != nil })
        let result = try XCTUnwrap(outcome.withLock { $0 })
        XCTAssertTrue(result.error.contains("timed out"), result.error)
        XCTAssertTrue(result.drainingWhenThrown, "saveBody threw while its write was still blocked in the pipe")
        // Once it threw, nothing more goes into the pipe.
        usleep(300_000)
        let afterThrow = drained.withLock { $0 }
        usleep(300_000)
        XCTAssertEqual(drained.withLock { $0 }, afterThrow)
        XCTAssertGreaterThan(afterThrow, 0)
    }
}
