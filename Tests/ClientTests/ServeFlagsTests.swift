import Foundation
import Stepwise
import XCTest

/// `stepwise serve`'s flags end to end, with curl as the client: `--unix`, `--tls` (self-signed),
/// `--cert`/`--key` (a certificate curl verifies), `--max-body` and `--idle-timeout`.
final class ServeFlagsTests: XCTestCase {
    private func curl(_ arguments: [String]) throws -> ProgramRun {
        try runProgram("/usr/bin/curl", ["-sS", "--max-time", "10"] + arguments, timeout: 20)
    }

    private func scratchDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "stepwise-serve-flags-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testUnixSocket() throws {
        let path = try scratchDirectory() + "/serve.sock"
        let demo = try ServeCommandTests.Demo(["--unix", path, "--quiet"])
        defer { _ = demo.stop() }
        let run = try curl(["--unix-socket", path, "http://localhost/hello"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "Hello, World!")
    }

    func testTLSOnlyWithTheSelfSignedCertificate() throws {
        let demo = try ServeCommandTests.Demo(["--tls", "--quiet"])
        defer { _ = demo.stop() }
        let tls = try curl(["-k", "https://127.0.0.1:\(demo.port)/hello"])
        XCTAssertEqual(tls.status, 0, tls.stderr)
        XCTAssertEqual(tls.stdout, "Hello, World!")
        // Plain HTTP on a TLS-only port gets no answer.
        let plain = try curl(["http://127.0.0.1:\(demo.port)/hello"])
        XCTAssertNotEqual(plain.status, 0)
        XCTAssertEqual(plain.stdout, "")
    }

    func testACertificateAndKeyThatCurlVerifies() throws {
        let directory = try scratchDirectory()
        let generated = try runProgram(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem",
            ], timeout: 30)
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let demo = try ServeCommandTests.Demo([
            "--cert", directory + "/cert.pem", "--key", directory + "/key.pem", "--quiet",
        ])
        defer { _ = demo.stop() }
        let verified = try curl(["--cacert", directory + "/cert.pem", "https://127.0.0.1:\(demo.port)/hello"])
        XCTAssertEqual(verified.status, 0, verified.stderr)
        XCTAssertEqual(verified.stdout, "Hello, World!")
    }

    /// `--plain` ("Plain HTTP only") with `--cert/--key` is as contradictory as `--tls --plain`:
    /// both are refused before anything starts (it used to serve TLS only, silently).
    func testPlainWithACertificateOrTLSIsRefused() throws {
        for flags in [["--plain", "--cert", "cert.pem", "--key", "key.pem"], ["--tls", "--plain"]] {
            let run = try stepwise(["serve", "--port", "0"] + flags, timeout: 10)
            XCTAssertEqual(run.status, 64, "\(flags): \(run.stderr)")  // EX_USAGE, a validation error
            XCTAssertTrue(run.stderr.contains("--plain"), run.stderr)
        }
    }

    func testMaxBody() throws {
        let demo = try ServeCommandTests.Demo(["--max-body", "10", "--quiet"])
        defer { _ = demo.stop() }
        let url = "http://127.0.0.1:\(demo.port)/echo"
        let small = try curl(["--data-binary", "0123456789", url])
        XCTAssertEqual(small.stdout, "0123456789")
        let large = try curl(["-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "0123456789a", url])
        XCTAssertEqual(large.stdout, "413")
    }

    /// curl announces a large upload with `Expect: 100-continue` and waits (up to 1 s) for an
    /// invitation; a `content-length` over `--max-body` is answered 413 from the head instead, at
    /// once, and none of the body travels.
    func testMaxBodyRefusesAnAnnouncedUploadBeforeInvitingIt() throws {
        let upload = try scratchDirectory() + "/upload.bin"
        XCTAssertTrue(FileManager.default.createFile(atPath: upload, contents: Data(count: 8 << 20)))
        let demo = try ServeCommandTests.Demo(["--max-body", "\(1 << 20)", "--quiet"])
        defer { _ = demo.stop() }
        let run = try curl([
            "-v", "-o", "/dev/null", "-w", "%{http_code} %{size_upload} %{time_total}",
            "-H", "Expect: 100-continue", "--data-binary", "@" + upload, "http://127.0.0.1:\(demo.port)/echo",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        let written = run.stdout.split(separator: " ")
        XCTAssertEqual(written.count, 3, run.stdout)
        guard written.count == 3 else { return }
        XCTAssertEqual(written[0], "413", run.stderr)
        XCTAssertEqual(written[1], "0", "octets of the body were sent: \(run.stderr)")
        XCTAssertLessThan(Double(written[2]) ?? 99, 0.9, "curl waited for its expect timeout")
        XCTAssertFalse(run.stderr.contains("100 Continue"), run.stderr)
    }

    func testIdleTimeoutClosesAnIdleConnection() throws {
        let demo = try ServeCommandTests.Demo(["--idle-timeout", "0.3", "--quiet"])
        defer { _ = demo.stop() }
        let connection = try RawConnection(port: demo.port)
        try connection.send(Array("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
        let answer = try connection.receive(until: {
            $0.count >= 13 && $0.suffix(13).elementsEqual("Hello, World!".utf8)
        })
        XCTAssertTrue(String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        // Idle past the timeout: the server closes, which `receive` reports as ECONNRESET (its own
        // 5 s wait running out would be ETIMEDOUT).
        XCTAssertThrowsError(try connection.receive(until: { _ in false })) { error in
            XCTAssertEqual((error as? POSIXError)?.code, .ECONNRESET, "\(error)")
        }
    }
}
