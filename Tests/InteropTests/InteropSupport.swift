import Dispatch
import Foundation
import Stepwise
import XCTest

/// A failure of the test scaffolding (a missing peer, a child that hung), with a message that
/// says what to do about it.
struct InteropError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: - The server under test

/// The routes the peers talk to. Every response carries `x-peer-port` (the client's port as the
/// server saw it, so a peer can tell whether its requests shared one connection) and
/// `x-request-framing` (how the request body was delimited: none, length or chunked).
enum InteropRoutes {
    static let hello = Array("Hello, World!".utf8)

    /// What `/chunked` sends, in `chunkedParts.count` writes.
    static let chunkedParts: [[UInt8]] = (0..<8).map { part in
        Array(String(repeating: "part \(part): stepwise streams this body in pieces. ", count: 40).utf8)
    }
    static var chunkedBody: [UInt8] { chunkedParts.flatMap { $0 } }

    static let handler = Server.Handler.task { stream in
        guard let request = try await stream.getHeaders(timeout: 10) else { return }
        let path = request.first(":path") ?? "/"
        var extra: [(String, String)] = [("x-peer-port", String(stream.peername().port ?? 0))]
        if let head = (stream as? H1Stream)?.requestHead {
            let framing: String
            switch head.framing {
            case .none: framing = "none"
            case .contentLength: framing = "length"
            case .chunked: framing = "chunked"
            case .untilClose: framing = "close"
            }
            extra.append(("x-request-framing", framing))
        }
        switch path {
        case "/hello":
            try await respond(stream, status: 200, body: hello, extra: extra)
        case "/echo":
            let body = try await stream.getBodyAsBytes(limit: 16 << 20, timeout: 10)
            extra.append(("content-type", request.first("content-type") ?? "application/octet-stream"))
            try await respond(stream, status: 200, body: body, extra: extra)
        case "/chunked":
            // No content-length: chunked on HTTP/1.1 (gzip first for TE: gzip), close-delimited on 1.0.
            var headers = Headers()
            headers.append(":status", "200")
            headers.append("content-type", "text/plain")
            for (name, value) in extra { headers.append(name, value) }
            try await stream.writeHeaders(headers, endStream: false, timeout: 10)
            for part in chunkedParts {
                try await stream.writeChunk(part, endStream: false, timeout: 10)
                try await stream.reactor.sleep(seconds: 0.002)
            }
            try await stream.writeChunk([], endStream: true, timeout: 10)
        default:
            try await respond(stream, status: 404, body: Array("not found\n".utf8), extra: extra)
        }
    }

    static func respond(
        _ stream: any HTTPStream, status: Int, body: [UInt8], extra: [(String, String)]
    ) async throws {
        var headers = Headers()
        headers.append(":status", String(status))
        for (name, value) in extra { headers.append(name, value) }
        headers.append("content-length", String(body.count))
        try await stream.writeHeaders(headers, endStream: body.isEmpty, timeout: 10)
        if !body.isEmpty { try await stream.writeChunk(body, endStream: true, timeout: 10) }
    }
}

/// A `Server` on its own thread: the reactor and the server are made on that thread and stepped
/// there until `stop()`; nothing else touches them. Errors the server reports are collected.
final class InteropServer: Sendable {
    let port: UInt16
    let certificatePEM: String
    private let control: Control

    private final class Control: @unchecked Sendable {
        private let lock = NSLock()
        private var stopping = false
        private var errors: [String] = []
        private var startup: Result<UInt16, any Error>?
        let started = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)

        var shouldStop: Bool { lock.withLock { stopping } }
        func requestStop() { lock.withLock { stopping = true } }
        func record(_ error: String) { lock.withLock { errors.append(error) } }
        var recorded: [String] { lock.withLock { errors } }
        func start(_ result: Result<UInt16, any Error>) {
            lock.withLock { startup = result }
            started.signal()
        }
        var startResult: Result<UInt16, any Error>? { lock.withLock { startup } }
    }

    /// Starts serving on 127.0.0.1 (a free port) with a self-signed certificate for `localhost`.
    /// - Parameter tls: as `ServerOptions.tls` (nil: plain and TLS on one port).
    init(tls: Bool? = nil) throws {
        let context = try TLSContext.selfSigned(hostname: "localhost", alpn: ["http/1.1"])
        var options = ServerOptions(host: "127.0.0.1", port: 0)
        options.tls = tls
        options.tlsContext = context
        let control = Control()
        let serverOptions = options
        let thread = Thread { InteropServer.serve(serverOptions, control) }
        thread.name = "interop-server"
        thread.start()
        guard control.started.wait(timeout: .now() + 10) == .success, let result = control.startResult else {
            control.requestStop()
            throw InteropError("the server thread did not start within 10 s")
        }
        port = try result.get()
        certificatePEM = context.certificatePEM ?? ""
        self.control = control
    }

    private static func serve(_ options: ServerOptions, _ control: Control) {
        defer { control.finished.signal() }
        do {
            let server = try Server(options: options, handler: InteropRoutes.handler)
            server.onError = { control.record("\($0)") }
            try server.listen()
            control.start(.success(server.localname().port ?? 0))
            while !control.shouldStop { try server.step(timeout: 0.01) }
            server.close(timeout: 1)
            let deadline = Date() + 3
            while !server.empty() && Date() < deadline { try server.step(timeout: 0.01) }
        } catch {
            if control.startResult == nil {
                control.start(.failure(error))
            } else {
                control.record("server loop: \(error)")
            }
        }
    }

    /// Stops the server thread and returns the errors the server reported while it ran.
    @discardableResult
    func stop() -> [String] {
        control.requestStop()
        if control.finished.wait(timeout: .now() + 10) == .timedOut {
            control.record("the server thread did not stop within 10 s")
        }
        return control.recorded
    }

    var plainURL: String { "http://127.0.0.1:\(port)" }
    /// `https://localhost:PORT`; curl needs `--resolve localhost:PORT:127.0.0.1` (the server
    /// listens on IPv4 only).
    var tlsURL: String { "https://localhost:\(port)" }
}

// MARK: - Child processes

struct ProcessResult {
    var status: Int32
    var stdout: Data
    var stderr: Data
    var out: String { String(decoding: stdout, as: UTF8.self) }
    var err: String { String(decoding: stderr, as: UTF8.self) }
}

enum Peers {
    /// The package root, from this file's path (Tests/InteropTests/InteropSupport.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Peers")

    /// `curl` from PATH. Missing is a failure, not a skip: `make test` installs it.
    static func curl() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/curl"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw InteropError("curl is not installed (not on PATH): run `make test` or `apt-get install curl`")
    }

    /// The Python interpreter of the test-peer venv: `$STEPWISE_PYTHON`, else
    /// `.build-test-peers/bin/python` under the package root. Missing is a failure.
    static func python() throws -> String {
        if let path = ProcessInfo.processInfo.environment["STEPWISE_PYTHON"], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw InteropError("STEPWISE_PYTHON=\(path) is not an executable Python interpreter")
            }
            return path
        }
        let path = packageRoot.appendingPathComponent(".build-test-peers/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw InteropError(
                "no Python test peers: STEPWISE_PYTHON is unset and \(path) is missing; "
                    + "run `make py-test-peers` (or `make test`), which creates the venv with h11 and httpx")
        }
        return path
    }

    static func script(_ name: String) throws -> String {
        let path = scripts.appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: path) else { throw InteropError("missing peer script \(path)") }
        return path
    }

    /// Runs `executable` with `arguments` and waits up to `timeout` seconds; a child still running
    /// then is killed and the call throws. Output goes through files (no pipe can fill up).
    static func run(_ executable: String, _ arguments: [String], timeout: Double = 20) throws -> ProcessResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stepwise-interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("stdout")
        let errURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            _ = exited.wait(timeout: .now() + 5)
            let output = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            throw InteropError(
                "\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout) s; stderr:\n\(output)"
            )
        }
        return ProcessResult(
            status: process.terminationStatus, stdout: try Data(contentsOf: outURL),
            stderr: try Data(contentsOf: errURL))
    }
}

// MARK: - Test case base

/// Starts a fresh server for each test, gives it a scratch directory, and fails the test if the
/// server reported errors (a rejected request or a failed handler means the peer and the server
/// disagreed).
class InteropTestCase: XCTestCase {
    var server: InteropServer!
    var directory: URL!
    /// Server errors a test expects (substrings); any other fails it.
    var expectedServerErrors: [String] = []
    /// What `InteropServer(tls:)` gets; set before `super.setUpWithError()` to change it.
    var serverTLS: Bool? { nil }

    override func setUpWithError() throws {
        try super.setUpWithError()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stepwise-interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        server = try InteropServer(tls: serverTLS)
    }

    override func tearDownWithError() throws {
        if let server {
            let errors = server.stop()
            let unexpected = errors.filter { error in !expectedServerErrors.contains { error.contains($0) } }
            XCTAssertEqual(unexpected, [], "the server reported errors")
        }
        server = nil
        if let directory { try? FileManager.default.removeItem(at: directory) }
        try super.tearDownWithError()
    }

    /// Writes the server's certificate to a file a client can trust (`--cacert`, `cafile=`).
    func writeCertificate() throws -> String {
        let path = directory.appendingPathComponent("ca.pem").path
        try server.certificatePEM.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Deterministic pseudo-random octets.
    func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        var bytes = [UInt8](repeating: 0, count: count)
        for index in 0..<count {
            // SplitMix64.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            bytes[index] = UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
        return bytes
    }
}
