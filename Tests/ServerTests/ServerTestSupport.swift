import Dispatch
import Foundation
import Logging
import Stepwise
import Synchronization
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

// MARK: A server on its own thread

/// A `Server` created, driven and torn down on a thread of its own; the test thread talks to it
/// with blocking sockets and reaches into it only through `onServer` (the reactor's `execute`).
final class TestServer: @unchecked Sendable {
    enum Driver {
        /// `server.step(timeout:)` in a loop.
        case stepping
        /// `server.loop(timeout:)` in a loop.
        case loop
    }

    /// Every error the server reported to `onError`.
    let errors = Locked<[ServerError]>([])
    /// Where the server listens (set before `init` returns).
    private(set) var name = SocketName.unspecified
    private(set) var reactor: Reactor?
    private var server: Server?
    private let stopRequested = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(
        _ options: ServerOptions = ServerOptions(), handler: Server.Handler = TestRoutes().handler,
        driver: Driver = .stepping
    ) throws {
        let ready = DispatchSemaphore(value: 0)
        let failure = Locked<(any Error)?>(nil)
        let thread = Thread { [self] in
            do {
                try self.run(options, handler, driver, ready: ready)
            } catch {
                failure.withLock { $0 = error }
                ready.signal()
            }
            self.server = nil
            self.finished.signal()
        }
        thread.start()
        guard ready.wait(timeout: .now() + 10) == .success else { throw TestError("the server did not start") }
        if let error = failure.withLock({ $0 }) { throw error }
    }

    var port: UInt16 { name.port ?? 0 }

    private func run(_ options: ServerOptions, _ handler: Server.Handler, _ driver: Driver, ready: DispatchSemaphore)
        throws
    {
        let server = try Server.listen(options, handler: handler)
        server.onError = { [errors] error in errors.withLock { $0.append(error) } }
        self.server = server
        reactor = server.reactor
        name = server.localname()
        ready.signal()
        while !stopRequested.load(ordering: .relaxed) {
            if driver == .loop && !server.empty() {
                try server.loop(timeout: 0.02)
            } else {
                try server.step(timeout: 0.02)
            }
        }
        // Free every socket before the thread ends (the fd-leak test counts them).
        server.close(timeout: 0)
        let deadline = MonotonicClock.seconds() + 5
        while !server.empty() && MonotonicClock.seconds() < deadline { try server.step(timeout: 0.02) }
    }

    /// Runs `body` with the server on its thread and returns its result.
    func onServer<T: Sendable>(_ body: @escaping @Sendable (Server) -> T) throws -> T {
        let result = Locked<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        reactor?.execute { [self] in
            if let server = self.server { result.withLock { $0 = body(server) } }
            done.signal()
        }
        guard done.wait(timeout: .now() + 5) == .success, let value = result.withLock({ $0 }) else {
            throw TestError("the server thread did not answer")
        }
        return value
    }

    /// Polls `condition` on the server's thread until it holds or `seconds` pass.
    func waitOnServer(within seconds: Double = 5, _ condition: @escaping @Sendable (Server) -> Bool) throws -> Bool {
        try waitUntil(within: seconds) { try onServer(condition) }
    }

    /// Stops the server and waits for its thread to end (once; later calls return at once).
    func stop() {
        guard !stopRequested.exchange(true, ordering: .relaxed) else { return }
        reactor?.wake()
        if finished.wait(timeout: .now() + 10) != .success { XCTFail("the server thread did not stop") }
    }
}

// MARK: The handler most tests use

/// A small router: each path is one behaviour a test needs. Counts requests per client port, and
/// reports the peer port and that count in every response it writes itself.
final class TestRoutes: Sendable {
    private let requestsPerPort = Locked<[UInt16: Int]>([:])

    var handler: Server.Handler { .task { stream in try await self.serve(stream) } }

    /// How many requests arrived from the client at `port` (read on any thread).
    func requests(from port: UInt16) -> Int { requestsPerPort.withLock { $0[port] ?? 0 } }

    /// Serves one request:
    /// - `/hello`: 200 "hello\n" with content-length;
    /// - `/echo`: the request body back (content-length), its trailers in `x-trailers`;
    /// - `/stream`: "one two three " without content-length;
    /// - `/download?bytes=N`: N octets of `pattern`, written 64 KiB at a time;
    /// - `/upload?stall=S`: waits S seconds, then reads the body chunk by chunk checking `pattern`;
    /// - `/slow?seconds=S`: answers after S seconds;
    /// - `/reject`: 413 without reading the body;
    /// - `/silent`: returns without answering; `/throw`: throws.
    func serve(_ stream: any HTTPStream) async throws {
        guard let request = try await stream.getHeaders(timeout: 10) else { return }
        let target = request.first(":path") ?? "/"
        let parts = target.split(separator: "?", maxSplits: 1)
        let path = parts.first.map(String.init) ?? "/"
        let query = parts.count > 1 ? Self.parseQuery(parts[1]) : [:]
        let port = stream.peername().port ?? 0
        let number = requestsPerPort.withLock { counts in
            counts[port, default: 0] += 1
            return counts[port]!
        }
        var response = Headers()
        response.append("x-peer-port", String(port))
        response.append("x-request-number", String(number))
        switch path {
        case "/hello":
            try await respond(stream, &response, 200, Array("hello\n".utf8))
        case "/echo":
            var body: [UInt8] = []
            while let chunk = try await stream.getNextChunk(timeout: 10) { body += chunk }
            if let trailers = try await stream.getHeaders(timeout: 10) {
                response.append("x-trailers", trailers.fields.map { "\($0.name)=\($0.value)" }.joined(separator: ";"))
            }
            try await respond(stream, &response, 200, body)
        case "/stream":
            response.append(":status", "200")
            try await stream.writeHeaders(response, endStream: false, timeout: 10)
            for word in ["one ", "two ", "three "] {
                try await stream.writeChunk(Array(word.utf8), endStream: false, timeout: 10)
            }
            try await stream.writeChunk([], endStream: true, timeout: 10)
        case "/download":
            let total = Int(query["bytes"] ?? "0") ?? 0
            response.append(":status", "200")
            response.append("content-length", String(total))
            try await stream.writeHeaders(response, endStream: false, timeout: 10)
            var offset = 0
            while offset < total {
                let count = min(64 * 1024, total - offset)
                try await stream.writeChunk(pattern(offset, count), endStream: offset + count == total, timeout: 10)
                offset += count
            }
        case "/upload":
            if let stall = query["stall"].flatMap(Double.init) { try await stream.reactor.sleep(seconds: stall) }
            var received = 0
            var mismatch: Int?
            while let chunk = try await stream.getNextChunk(timeout: 10) {
                if mismatch == nil && !matchesPattern(chunk, at: received) { mismatch = received }
                received += chunk.count
            }
            let verdict = mismatch.map { "mismatch in the chunk at \($0)" } ?? "ok"
            try await respond(stream, &response, 200, Array("\(received) \(verdict)".utf8))
        case "/slow":
            try await stream.reactor.sleep(seconds: Double(query["seconds"] ?? "0.5") ?? 0.5)
            try await respond(stream, &response, 200, Array("slow\n".utf8))
        case "/reject":
            response.append(":status", "413")
            response.append("content-length", "0")
            try await stream.writeHeaders(response, endStream: true, timeout: 10)
        case "/silent":
            return
        case "/throw":
            throw TestError("the handler threw on purpose")
        default:
            try await respond(stream, &response, 404, Array("not found\n".utf8))
        }
    }

    private func respond(_ stream: any HTTPStream, _ headers: inout Headers, _ status: Int, _ body: [UInt8])
        async throws
    {
        headers.append(":status", String(status))
        headers.append("content-length", String(body.count))
        try await stream.writeHeaders(headers, endStream: body.isEmpty, timeout: 10)
        if !body.isEmpty { try await stream.writeChunk(body, endStream: true, timeout: 10) }
    }

    private static func parseQuery(_ query: Substring) -> [String: String] {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let sides = pair.split(separator: "=", maxSplits: 1)
            result[String(sides[0])] = sides.count > 1 ? String(sides[1]) : ""
        }
        return result
    }
}

// MARK: Helpers

/// A value behind a lock, shareable between the test thread and the server's.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Re-checks `condition` every few milliseconds until it holds or `seconds` pass.
func waitUntil(within seconds: Double = 5, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = MonotonicClock.seconds() + seconds
    while try !condition() {
        guard MonotonicClock.seconds() < deadline else { return false }
        usleep(2_000)
    }
    return true
}

/// `count` octets of a test pattern starting at `offset` of an endless stream: a dropped,
/// duplicated or reordered piece shows.
func pattern(_ offset: Int, _ count: Int) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        for index in 0..<count {
            let position = offset + index
            buffer[index] = UInt8(truncatingIfNeeded: position % 251 &+ position >> 16)
        }
        initialized = count
    }
}

/// Whether `bytes` are the pattern's octets from `offset` on (compared with memcmp: fast in a
/// debug build).
func matchesPattern(_ bytes: [UInt8], at offset: Int) -> Bool {
    guard !bytes.isEmpty else { return true }
    let expected = pattern(offset, bytes.count)
    return bytes.withUnsafeBytes { actual in
        expected.withUnsafeBytes { memcmp(actual.baseAddress!, $0.baseAddress!, actual.count) == 0 }
    }
}

/// The number of open file descriptors of this process.
func openFileDescriptors() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}

extension XCTestCase {
    /// Starts a server with the test routes (or `handler`), stopped when the test ends.
    func startServer(
        _ configure: (inout ServerOptions) -> Void = { _ in }, handler: Server.Handler? = nil,
        driver: TestServer.Driver = .stepping
    ) throws -> TestServer {
        var options = ServerOptions()
        configure(&options)
        let server = try TestServer(options, handler: handler ?? TestRoutes().handler, driver: driver)
        addTeardownBlock { server.stop() }
        return server
    }

    /// Reads a response that says `connection: close`, after which the server closes `client`
    /// without sending more.
    func readLastResponse(
        _ client: TestClient, _ message: String = "", file: StaticString = #filePath, line: UInt = #line
    ) throws -> TestResponse {
        let response = try client.readResponse()
        XCTAssertEqual(response.header("connection"), "close", message, file: file, line: line)
        XCTAssertEqual(try client.readUntilClosed(), [], message, file: file, line: line)
        return response
    }
}

/// The error `body` throws, or nil.
func thrownError<T>(_ body: () async throws -> T) async -> (any Error)? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error
    }
}

/// Keeps what is logged (at info and above, the default level).
struct RecordingLogHandler: LogHandler {
    let records: Locked<[(level: Logger.Level, message: String)]>
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        records.withLock { $0.append((event.level, "\(event.message)")) }
    }
}

/// Runs `body` on a new reactor with a client `H1Connection` (not started) over a socket pair
/// whose other end, `peer`, is a TLS server with a self-signed certificate, the handshake done;
/// both are closed afterwards. `endTLS(_:withCloseNotify:)` ends the peer one way or the other.
func withTLSClientConnection<T: Sendable>(
    _ body: @escaping @Sendable (H1Connection, StreamSocket) async throws -> T
) throws -> T {
    let reactor = try Reactor()
    return try reactor.run(timeout: 10) { @Sendable in
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw TestError("socketpair") }
        let clientSocket = StreamSocket(adopting: fds[0], on: reactor)
        let peer = StreamSocket(adopting: fds[1], on: reactor)
        let client = H1Connection(socket: clientSocket, type: .client)
        defer {
            client.close()
            peer.close()
        }
        try peer.startTLS(context: TLSContext.selfSigned(hostname: "localhost"), role: .server) { _ in }
        try await clientSocket.startTLS(
            context: TLSContext.client(verify: false), role: .client(serverName: "localhost"), timeout: 5)
        return try await body(client, peer)
    }
}

/// Ends a TLS peer's side: with a closure alert, or by cutting the TCP connection without one,
/// as an attacker truncating a body would.
func endTLS(_ peer: StreamSocket, withCloseNotify: Bool) {
    if withCloseNotify {
        peer.close()
    } else {
        Glibc.shutdown(peer.fd, Int32(SHUT_RDWR))
    }
}

/// Reads `count` octets from the pipe or FIFO `fd` (fewer if it ends), waiting at most `seconds`
/// in all; `what` names it in the error when nothing comes in time.
func readPipe(_ fd: Int32, count: Int, within seconds: Double, what: String) throws -> [UInt8] {
    let deadline = MonotonicClock.seconds() + seconds
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while result.count < count {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let left = deadline - MonotonicClock.seconds()
        guard left > 0, poll(&pfd, 1, Int32(left * 1000)) == 1 else { throw TestError("the \(what) stayed empty") }
        let got = Glibc.read(fd, &buffer, min(buffer.count, count - result.count))
        guard got > 0 else { break }
        result += buffer[..<got]
    }
    return result
}
