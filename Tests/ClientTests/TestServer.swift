import Foundation
import Stepwise
import XCTest

/// A `Server` on its own thread (its reactor belongs to that thread), for client tests that
/// block the test thread. `connectionsSeen` counts the connections handlers saw, and
/// `openConnections` the ones the server holds (as of its last step).
final class TestServer: @unchecked Sendable {
    private let lock = NSLock()
    private var _port: UInt16 = 0
    private var _stop = false
    private var _connections = Set<String>()
    private var _open = 0
    private let thread: Thread
    private let started = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    var port: UInt16 { lock.withLock { _port } }
    /// Distinct client ports seen by handlers.
    var connectionsSeen: Int { lock.withLock { _connections.count } }
    /// The connections the server has open (`Server.connections()` after its last step).
    var openConnections: Int { lock.withLock { _open } }

    /// Serves plain HTTP and TLS on one port, TLS with `tlsContext` (default: a self-signed
    /// certificate for 127.0.0.1); `configure` changes the other options.
    init(
        tlsContext: TLSContext? = nil, configure: (inout ServerOptions) -> Void = { _ in },
        _ handler: @escaping @Sendable (any HTTPStream, HTTP1MessageHead) async throws -> Void
    ) throws {
        var startError: (any Error)?
        let box = ErrorBox()
        var options = ServerOptions(host: "127.0.0.1", port: 0)
        options.tlsContext = tlsContext
        configure(&options)
        let serverOptions = options
        thread = Thread {}
        let runner = Thread { [unowned self] in
            do {
                let server = try Server.listen(
                    serverOptions,
                    handler: .task { [unowned self] stream in
                        guard let head = (stream as? H1Stream)?.requestHead else { return }
                        self.lock.withLock { _ = self._connections.insert("\(stream.peername())") }
                        try await handler(stream, head)
                    })
                server.onError = { _ in }
                self.lock.withLock { self._port = server.localname().port ?? 0 }
                self.started.signal()
                while !self.lock.withLock({ self._stop }) {
                    try server.step(timeout: 0.05)
                    let open = server.connections()
                    self.lock.withLock { self._open = open }
                }
                server.close(timeout: 0)
            } catch {
                box.error = error
                self.started.signal()
            }
            self.finished.signal()
        }
        runner.start()
        started.wait()
        startError = box.error
        if let startError { throw startError }
    }

    /// Waits (up to 5 s) until the server holds no connection, e.g. once it closed an idle one
    /// at its `intraStreamTimeout`; false if one is still open then.
    func waitUntilNoConnectionIsOpen() -> Bool {
        let deadline = MonotonicClock.seconds() + 5
        while openConnections > 0 {
            guard MonotonicClock.seconds() < deadline else { return false }
            Thread.sleep(forTimeInterval: 0.002)
        }
        return true
    }

    func stop() {
        lock.withLock { _stop = true }
        finished.wait()
    }
}

private final class ErrorBox: @unchecked Sendable { var error: (any Error)? }

/// A response with a body for handlers.
func reply(_ stream: any HTTPStream, status: Int = 200, _ body: String, extra: [(String, String)] = []) async throws {
    var headers = Headers()
    headers.append(":status", String(status))
    for (name, value) in extra { headers.append(name, value) }
    try await stream.writeHeaders(headers, endStream: false, timeout: 5)
    try await stream.writeBody(body, timeout: 5)
}
