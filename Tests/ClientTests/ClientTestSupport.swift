import Foundation
import Stepwise
import XCTest

// Helpers shared by the client tests: running the built `stepwise` binary (on pipes or on a
// terminal), listeners that stall a client at a chosen phase, and the check that a timeout fired
// on time.

// MARK: - The stepwise binary

/// What a run of a program gave.
struct ProgramRun {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Seconds from start to exit.
    var seconds: Double
}

extension XCTestCase {
    /// Runs the built `stepwise` with `arguments`, stdin from /dev/null, stdout and stderr on pipes.
    /// `readingStdout: false` leaves the stdout pipe unread (it fills up; `stdout` is empty).
    func stepwise(_ arguments: [String], readingStdout: Bool = true, timeout: Double = 30) throws -> ProgramRun {
        try runProgram(Self.stepwiseBinary().path, arguments, readingStdout: readingStdout, timeout: timeout)
    }

    /// Runs the built `stepwise` with `arguments` on a pseudo-terminal (util-linux `script`, part
    /// of Debian's essential bsdutils): stdout and stderr are the terminal, whose output (with
    /// `\n` shown as `\r\n`) is `stdout` of the result.
    func stepwiseOnTerminal(_ arguments: [String], timeout: Double = 30) throws -> ProgramRun {
        let command = ([try Self.stepwiseBinary().path] + arguments).map(Self.shellQuoted).joined(separator: " ")
        return try runProgram("/usr/bin/script", ["-qfec", command, "/dev/null"], timeout: timeout)
    }

    /// Runs the program at `path` (stdin /dev/null, stdout and stderr read to their ends).
    func runProgram(_ path: String, _ arguments: [String], readingStdout: Bool = true, timeout: Double)
        throws -> ProgramRun
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let started = MonotonicClock.seconds()
        try process.run()
        // Read both pipes to their ends before waiting, so a full pipe cannot stall the child.
        let group = DispatchGroup()
        let stdoutData = Locked(Data())
        let stderrData = Locked(Data())
        for (pipe, box) in readingStdout ? [(out, stdoutData), (err, stderrData)] : [(err, stderrData)] {
            group.enter()
            DispatchQueue.global().async {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                box.withLock { $0 = data }
                group.leave()
            }
        }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            XCTFail("\(path) \(arguments) did not finish in \(timeout) s")
        }
        process.waitUntilExit()
        return ProgramRun(
            status: process.terminationStatus,
            stdout: String(decoding: stdoutData.withLock { $0 }, as: UTF8.self),
            stderr: String(decoding: stderrData.withLock { $0 }, as: UTF8.self),
            seconds: MonotonicClock.seconds() - started)
    }

    private static func stepwiseBinary() throws -> URL {
        try XCTUnwrap(locate("stepwise"), "stepwise is not built (swift build first)")
    }

    /// The directory of the running test binary (`.build/<triple>/debug`), then `.build/debug`
    /// of this package.
    static func locate(_ name: String) -> URL? {
        var directories: [URL] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append(URL(fileURLWithPath: executable).deletingLastPathComponent())
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        directories.append(packageRoot.appendingPathComponent(".build/debug"))
        return directories.map { $0.appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    private static func shellQuoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// `text` is one line (a reason, as `stepwise get` prints on failure) starting with `prefix`.
func assertOneLine(_ text: String, startsWith prefix: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertTrue(text.hasPrefix(prefix), text, file: file, line: line)
    XCTAssertTrue(
        text.hasSuffix("\n") && text.filter { $0 == "\n" }.count == 1, "not one line: \(text)", file: file, line: line)
}

// MARK: - Stalling peers

/// A TCP listener on 127.0.0.1 that never accepts. The kernel still completes handshakes into
/// its accept queue, so a client connects and then waits forever for the first byte (TLS
/// handshake, response head) or for room to write (nobody reads). With `fullAcceptQueue`, the
/// queue is filled first (backlog 0 and one connection in it): the kernel drops further SYNs,
/// so a connect hangs. Everything stays on loopback.
final class StalledListener {
    let port: UInt16
    private let fd: Int32
    private var fillers: [Int32] = []

    init(fullAcceptQueue: Bool = false) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = self.fd
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, fullAcceptQueue ? 0 : 8) == 0
                    && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.init(rawValue: errno) ?? .EINVAL) }
        port = UInt16(bigEndian: address.sin_port)
        if fullAcceptQueue { try fill() }
    }

    /// Connects until a connect does not complete within 200 ms: the accept queue is full.
    private func fill() throws {
        for _ in 0..<8 {
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            fillers.append(filler)
            var address = Self.loopback(port: port)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            var waiting = pollfd(fd: filler, events: Int16(POLLOUT), revents: 0)
            if poll(&waiting, 1, 200) == 0 { return }
        }
        throw POSIXError(.EAGAIN)
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    func close() {
        for filler in fillers { Glibc.close(filler) }
        Glibc.close(fd)
    }
}

/// A handler's answer that stalls mid-body: 200 with `content-length` 100, `first`, then
/// nothing for 3 s.
func stallMidBody(_ stream: any HTTPStream, after first: String) async throws {
    var headers = Headers()
    headers.append(":status", "200")
    headers.append("content-length", "100")
    try await stream.writeHeaders(headers, endStream: false, timeout: 5)
    try await stream.writeChunk(Array(first.utf8), endStream: false, timeout: 5)
    try await stream.reactor.sleep(seconds: 3)
}

// MARK: - Timeouts

/// Runs `body`, which must fail between `bounds` seconds after it started, with an error that
/// reads `expected`.
func assertFailsOnTime(
    _ expected: String, within bounds: ClosedRange<Double> = 0.25...2, file: StaticString = #filePath,
    line: UInt = #line, _ body: () throws -> Void
) {
    let started = MonotonicClock.seconds()
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertEqual("\(error)", expected, file: file, line: line)
    }
    let elapsed = MonotonicClock.seconds() - started
    XCTAssertTrue(bounds.contains(elapsed), "failed after \(elapsed) s, not within \(bounds)", file: file, line: line)
}

// MARK: - One exchange over Client.connect

/// Connects with `options`, sends `GET /` and returns the response body as text.
func getBodyOverClientConnect(_ options: ClientOptions, authority: String = "localhost") throws -> String {
    let reactor = try Reactor()
    return try reactor.run { () async throws -> String in
        let connection = try await Client.connect(options, on: reactor, timeout: 5)
        defer { connection.close() }
        guard let stream = connection.newStream() else { throw HTTPStreamError.connectionClosed("before a stream") }
        var headers = Headers()
        headers.append(":method", "GET")
        headers.append(":scheme", options.tls ? "https" : "http")
        headers.append(":authority", authority)
        headers.append(":path", "/")
        try await stream.writeHeaders(headers, endStream: true, timeout: 5)
        _ = try await stream.getHeaders(timeout: 5)
        return try await stream.getBodyAsString(timeout: 5)
    }
}
