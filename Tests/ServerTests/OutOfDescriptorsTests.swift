import Foundation
import Stepwise
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A server out of file descriptors (a client opening connections until `accept` fails with
/// EMFILE): the listener stays readable, and the server must neither spin on it nor stop
/// serving the connections it has; once descriptors are free again it accepts the waiting ones.
/// The limit is the process's own soft `RLIMIT_NOFILE`, lowered for the test and restored.
final class OutOfDescriptorsTests: XCTestCase {
    func testOutOfDescriptorsTheServerWaitsWithoutSpinningAndAcceptsOnceSomeAreFree() throws {
        let server = try startServer()
        let served = try TestClient(port: server.port)
        XCTAssertEqual(try served.exchange(get("/hello")).status, 200)
        // A connection the kernel completes and queues while the server does not accept.
        try server.onServer { $0.pause() }
        let waiting = try TestClient(port: server.port)
        try waiting.send(get("/hello"))

        // The descriptors run out: a soft limit just above the lowest free one, the few below it
        // taken.
        let fillers = DescriptorFillers()
        func restore() { fillers.release() }
        defer { restore() }

        try server.onServer { $0.resume() }
        let acceptErrors = {
            server.errors.withLock { $0.filter { if case .accept = $0 { true } else { false } }.count }
        }
        XCTAssertTrue(waitUntil { acceptErrors() > 0 }, "accept did not fail: the test's limit did not bite")
        // The listener stays readable; the server retries now and then instead of spinning.
        XCTAssertLessThan(cpuSeconds { usleep(300_000) }, 0.1)
        XCTAssertEqual(acceptErrors(), 1, "reported at every retry")
        // The connection it has goes on being served.
        XCTAssertEqual(try served.exchange(get("/hello")).header("x-request-number"), "2")
        XCTAssertTrue(try waiting.staysSilent(for: 0.05))

        restore()
        let response = try waiting.readResponse()
        XCTAssertEqual(response.status, 200, "the waiting connection was not served once descriptors were free")
        XCTAssertEqual(acceptErrors(), 1)
    }
}
