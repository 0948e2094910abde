import Foundation
import Reactor
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

// MARK: In-memory engine pairs

/// A client and a server engine wired back to back in memory.
final class TLSEnginePair {
    let client: TLSEngine
    let server: TLSEngine

    init(client: TLSEngine, server: TLSEngine) {
        self.client = client
        self.server = server
    }

    convenience init(clientContext: TLSContext, serverName: String?, serverContext: TLSContext) throws {
        self.init(
            client: try TLSEngine(context: clientContext, role: .client(serverName: serverName)),
            server: try TLSEngine(context: serverContext, role: .server))
    }

    /// Moves ciphertext both ways until neither side has any left.
    func flush() {
        while client.hasCiphertextToSend || server.hasCiphertextToSend {
            var bytes: [UInt8] = []
            client.takeCiphertext(into: &bytes)
            server.receiveCiphertext(bytes)
            bytes.removeAll()
            server.takeCiphertext(into: &bytes)
            client.receiveCiphertext(bytes)
        }
    }

    /// Runs both handshakes to completion; rethrows the first failure (after handing the failing side's
    /// alert to its peer).
    func handshake(file: StaticString = #filePath, line: UInt = #line) throws {
        for _ in 0..<16 {
            let clientState = try client.handshake()
            flush()
            let serverState = try server.handshake()
            flush()
            if clientState == .complete && serverState == .complete { return }
        }
        XCTFail("handshake did not complete in 16 rounds", file: file, line: line)
    }
}

extension TLSEngine {
    /// Reads until the engine needs more input; returns the plaintext and whether close_notify arrived.
    func readAvailable(chunkSize: Int = 16 * 1024) throws -> (bytes: [UInt8], closed: Bool) {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let outcome = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            switch outcome {
            case .bytes(let n): result.append(contentsOf: chunk[0..<n])
            case .needsMoreInput: return (result, false)
            case .closed: return (result, true)
            }
        }
    }
}

/// Asserts that `body` throws a `TLSError` and returns it.
func assertTLSError(
    _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line
) -> TLSError? {
    do {
        try body()
        XCTFail("expected a TLSError, nothing was thrown", file: file, line: line)
    } catch let error as TLSError {
        return error
    } catch {
        XCTFail("expected a TLSError, got \(error)", file: file, line: line)
    }
    return nil
}

// MARK: Deadlines

struct TestDeadline {
    let end: Date

    init(seconds: TimeInterval) {
        end = Date(timeIntervalSinceNow: seconds)
    }

    var remainingMilliseconds: Int32 {
        Int32(max(0, min(Double(Int32.max), (end.timeIntervalSinceNow * 1000).rounded(.up))))
    }

    var hasExpired: Bool { end.timeIntervalSinceNow <= 0 }

    /// Re-checks `condition` every few milliseconds until it holds or the deadline passes.
    func wait(until condition: () -> Bool) -> Bool {
        while !condition() {
            if hasExpired { return false }
            usleep(5_000)
        }
        return true
    }
}

// MARK: Blocking loopback sockets (test scaffolding only)

struct TestSocketError: Error, CustomStringConvertible {
    let description: String

    init(_ what: String) {
        description = "\(what): \(String(cString: strerror(errno)))"
    }
}

enum TestSockets {
    /// A listening socket on 127.0.0.1 with a kernel-chosen port.
    static func listenOnLoopback() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSocketError("socket") }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 4) == 0 else {
            close(fd)
            throw TestSocketError("bind/listen")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            close(fd)
            throw TestSocketError("getsockname")
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    static func accept(_ listener: Int32, deadline: TestDeadline) throws -> Int32 {
        guard try waitFor(listener, events: Int16(POLLIN), deadline: deadline) else {
            throw TestSocketError("accept timed out")
        }
        let fd = Glibc.accept(listener, nil, nil)
        guard fd >= 0 else { throw TestSocketError("accept") }
        return fd
    }

    static func connectToLoopback(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSocketError("socket") }
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw TestSocketError("connect")
        }
        return fd
    }

    /// Waits for `events` on `fd`; false when the deadline passed first.
    static func waitFor(_ fd: Int32, events: Int16, deadline: TestDeadline) throws -> Bool {
        while true {
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&entry, 1, deadline.remainingMilliseconds)
            if ready > 0 { return true }
            if ready == 0 { return false }
            if errno != EINTR { throw TestSocketError("poll") }
        }
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}

/// Moves ciphertext between a blocking socket and an engine, every wait bounded by a deadline.
struct TestSocketPump {
    let fd: Int32
    let engine: TLSEngine

    /// Sends all pending ciphertext.
    func flush(deadline: TestDeadline) throws {
        while engine.hasCiphertextToSend {
            guard try TestSockets.waitFor(fd, events: Int16(POLLOUT), deadline: deadline) else {
                throw TestSocketError("send timed out")
            }
            var failed = false
            engine.withCiphertextToSend { bytes in
                let sent = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
                if sent < 0 {
                    failed = errno != EINTR && errno != EAGAIN
                    return 0
                }
                return sent
            }
            if failed { throw TestSocketError("send") }
        }
    }

    /// Waits for ciphertext (or EOF) and hands it to the engine. False when the peer closed.
    @discardableResult
    func receive(deadline: TestDeadline) throws -> Bool {
        guard try TestSockets.waitFor(fd, events: Int16(POLLIN), deadline: deadline) else {
            throw TestSocketError("receive timed out")
        }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count < 0 { throw TestSocketError("recv") }
        if count == 0 {
            engine.receivedEOF()
            return false
        }
        engine.receiveCiphertext(Array(buffer[0..<count]))
        return true
    }

    func handshake(deadline: TestDeadline) throws {
        while true {
            let state = try engine.handshake()
            try flush(deadline: deadline)
            if state == .complete { return }
            guard try receive(deadline: deadline) else {
                _ = try engine.handshake()  // reports the EOF
                throw TestSocketError("peer closed during the handshake")
            }
        }
    }

    /// Reads plaintext until `done` says the accumulated bytes suffice, or close_notify arrives.
    func read(deadline: TestDeadline, until done: ([UInt8]) -> Bool) throws -> (
        bytes: [UInt8], closed: Bool
    ) {
        var collected: [UInt8] = []
        while true {
            let (bytes, closed) = try engine.readAvailable()
            collected += bytes
            try flush(deadline: deadline)
            if closed || done(collected) { return (collected, closed) }
            if !(try receive(deadline: deadline)) {
                let (rest, closedNow) = try engine.readAvailable()  // throws unexpected EOF if no close_notify
                return (collected + rest, closedNow)
            }
        }
    }
}

// MARK: Child processes (openssl s_server / s_client)

/// Collects a pipe's output on a background thread.
final class TestOutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var finished = false

    init(reading handle: FileHandle) {
        let thread = Thread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.withLock { data.append(chunk) }
            }
            lock.withLock { finished = true }
        }
        thread.start()
    }

    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
    var isFinished: Bool { lock.withLock { finished } }
}

final class TestChildProcess {
    let process = Process()
    let output: TestOutputCollector
    let stdinPipe: Pipe?

    /// Starts `executable` with stdout and stderr merged into `output`.
    init(_ executable: String, _ arguments: [String], withStdin: Bool = false) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let outputPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = outputPipe
        if withStdin {
            let pipe = Pipe()
            process.standardInput = pipe
            stdinPipe = pipe
        } else {
            process.standardInput = FileHandle.nullDevice
            stdinPipe = nil
        }
        try process.run()
        outputPipe.fileHandleForWriting.closeFile()
        output = TestOutputCollector(reading: outputPipe.fileHandleForReading)
    }

    func write(_ text: String) {
        stdinPipe?.fileHandleForWriting.write(Data(text.utf8))
    }

    func closeStdin() {
        stdinPipe?.fileHandleForWriting.closeFile()
    }

    /// Waits (bounded) for exit; terminates, then kills, a process that does not exit in time.
    func stop(within seconds: TimeInterval = 5) {
        if TestDeadline(seconds: seconds).wait(until: { !process.isRunning }) { return }
        process.terminate()
        if TestDeadline(seconds: 2).wait(until: { !process.isRunning }) { return }
        kill(process.processIdentifier, SIGKILL)
        _ = TestDeadline(seconds: 2).wait(until: { !process.isRunning })
    }
}

/// Path of the `openssl` command-line tool, or nil.
func opensslExecutable() -> String? {
    ["/usr/bin/openssl", "/usr/local/bin/openssl"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
}

/// A fresh temporary directory, removed by the returned closure.
func makeTemporaryDirectory() throws -> (URL, () -> Void) {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
        "stepwise-tls-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return (url, { try? FileManager.default.removeItem(at: url) })
}

extension XCTestCase {
    /// The openssl command; a test that needs it fails (not skips) without it: `make test` installs it.
    func requireOpenSSL() throws -> String {
        guard let openssl = opensslExecutable() else {
            XCTFail("the openssl command is not installed (make test installs it)")
            throw TestSocketError("openssl missing")
        }
        return openssl
    }

    /// Starts `openssl s_server` on 127.0.0.1 with a kernel-chosen port (`-accept 127.0.0.1:0`) and returns
    /// the port it printed ("ACCEPT 127.0.0.1:PORT").
    func startOpenSSLServer(
        _ openssl: String, certificate: SelfSignedCertificate, directory: URL, extraArguments: [String]
    ) throws -> (TestChildProcess, UInt16) {
        let certificateFile = directory.appendingPathComponent("server-cert.pem").path
        let keyFile = directory.appendingPathComponent("server-key.pem").path
        try certificate.certificatePEM.write(toFile: certificateFile, atomically: true, encoding: .utf8)
        try certificate.privateKeyPEM.write(toFile: keyFile, atomically: true, encoding: .utf8)
        let server = try TestChildProcess(
            openssl,
            [
                "s_server", "-accept", "127.0.0.1:0", "-cert", certificateFile, "-key", keyFile, "-naccept",
                "1", "-rev",
            ]
                + extraArguments)
        var port: UInt16?
        let ready = TestDeadline(seconds: 10).wait {
            port = XCTestCase.acceptedPort(in: server.output.text)
            return port != nil || !server.process.isRunning
        }
        guard ready, let port else {
            server.stop()
            XCTFail("s_server did not start listening: \(server.output.text)")
            throw TestSocketError("s_server not listening")
        }
        return (server, port)
    }

    static func acceptedPort(in output: String) -> UInt16? {
        for line in output.split(separator: "\n") where line.hasPrefix("ACCEPT ") {
            if let colon = line.lastIndex(of: ":"), let port = UInt16(line[line.index(after: colon)...]) {
                return port
            }
        }
        return nil
    }

}
