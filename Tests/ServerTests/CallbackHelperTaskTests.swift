import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A `.callback` handler's follow-up work: the callback forms of the body helpers
/// (`writeBody(fromPath:_:)`, `saveBody(toPath:_:)`, …) run their async forms as tasks on the
/// reactor, and `Server.empty()` counts them as it counts `.task` handlers, so that a host that
/// stops stepping once the server is empty does not leave one suspended half-way.
final class CallbackHelperTaskTests: XCTestCase {
    func testLoopAfterTheCloseDeadlineWaitsForACallbackHandlersHelperTask() throws {
        let reactor = try Reactor()
        let fifo = NSTemporaryDirectory() + "stepwise-helper-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        defer { unlink(fifo) }
        let started = Locked(false)
        let finished = Locked(false)
        var options = ServerOptions()
        options.tls = false
        let server = try Server(
            options: options, on: reactor,
            handler: .callback { stream in
                started.withLock { $0 = true }
                // Opening a FIFO waits, on a blocking-work thread, until a writer opens it.
                stream.writeBody(fromPath: fifo) { _ in finished.withLock { $0 = true } }
            })
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let client = fds[0]
        defer { close(client) }
        // Whatever happens, the worker thread is not left blocked in `open` for the rest of the
        // run: a writer lets it go.
        var released = false
        func releaseTheOpen() {
            guard !released else { return }
            let deadline = MonotonicClock.seconds() + 5
            while MonotonicClock.seconds() < deadline {
                // ENXIO until the helper's open waits for a writer.
                let writer = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
                if writer >= 0 {
                    close(writer)
                    released = true
                    return
                }
                usleep(1000)
            }
        }
        defer { releaseTheOpen() }
        server.addSocket(StreamSocket(adopting: fds[1], on: reactor))
        let request = Array(get("/").utf8)
        XCTAssertEqual(request.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }, request.count)
        try foreignLoop(server, for: 5) { started.withLock { $0 } }

        // The deadline closes the connection at once; the helper is still in its job.
        server.close(timeout: 0)
        try foreignLoop(server, for: 5) { server.connections() == 0 }
        XCTAssertEqual(server.connections(), 0)
        XCTAssertFalse(finished.withLock { $0 })
        XCTAssertFalse(server.empty(), "the callback handler's helper still runs")

        releaseTheOpen()
        XCTAssertTrue(released)
        try server.loop(timeout: 5)
        XCTAssertTrue(finished.withLock { $0 }, "loop() returned with the helper still running")
        XCTAssertTrue(server.empty())
        XCTAssertTrue(reactor.empty(), "the close timer outlived the server's last work")
    }
}
