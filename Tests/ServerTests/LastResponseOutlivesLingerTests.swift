import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The linger timeout (`H1ConnectionOptions.lingerTimeout`, 2 s) starts once the last response
/// is out, not when the graceful close begins: a client that comes back for a response after
/// longer than that still gets all of it. A Unix socket server makes it deterministic: its kernel
/// buffers are small and fixed (no TCP autotuning), so most of a 1 MB body waits in the queue.
final class LastResponseOutlivesLingerTests: XCTestCase {
    private let size = 1_000_000

    private func unixServer() throws -> (TestServer, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stepwise-linger-\(getpid())-\(UUID()).sock"
        )
        .path
        addTeardownBlock { unlink(path) }
        var options = ServerOptions(path: path)
        options.tls = false
        let server = try TestServer(options)
        addTeardownBlock { server.stop() }
        return (server, path)
    }

    func testConnectionCloseResponseReadAfterTheLingerTimeoutIsNotTruncated() throws {
        let (_, path) = try unixServer()
        let client = try TestClient(path: path)
        client.timeout = 10
        try client.send(get("/download?bytes=\(size)", "Connection: close"))
        // The handler queues the whole body (under the 1 MiB high-water mark, so it never waits)
        // and ends; the client takes 2.5 s to come back for it (a slow or busy reader).
        usleep(2_500_000)
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body.count, size, "the response was cut short")
    }

    func testGracefulServerCloseDoesNotCutAResponseStillQueuedLongBeforeItsDeadline() throws {
        let (server, path) = try unixServer()
        let client = try TestClient(path: path)
        client.timeout = 10
        try client.send(get("/download?bytes=\(size)"))
        usleep(200_000)
        // The exchange is over on the server's side; the close allows 30 s for what is in flight.
        try server.onServer { $0.close(timeout: 30) }
        usleep(2_500_000)
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body.count, size, "the response was cut short long before close's deadline")
    }
}
