import Foundation
import Stepwise
import XCTest

/// curl against an in-process `Server`: HTTP/1.0 and 1.1, keep-alive, `Expect: 100-continue`,
/// HTTPS with the server's self-signed certificate, plain and TLS on one port, and the gzip
/// transfer coding (`--tr-encoding`).
final class CurlInteropTests: InteropTestCase {
    func testHTTP10() throws {
        let result = try curl(["-0", "-v", "-i", "\(server.plainURL)/hello"])
        XCTAssertTrue(result.err.contains("> GET /hello HTTP/1.0"), result.err)
        let (head, body) = splitResponse(result.stdout)
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 200 OK\r\n"), head)
        XCTAssertTrue(head.contains("\r\ncontent-length: 13\r\n"), head)
        // The server closes after a 1.0 request without keep-alive, and says so.
        XCTAssertTrue(head.contains("\r\nconnection: close\r\n"), head)
        XCTAssertTrue(head.contains("\r\ndate: "), head)
        XCTAssertEqual(body, InteropRoutes.hello)
    }

    /// A body of unknown length to an HTTP/1.0 client is delimited by the close, not chunked.
    func testHTTP10BodyOfUnknownLengthIsCloseDelimited() throws {
        let result = try curl(["-0", "-i", "\(server.plainURL)/chunked"])
        let (head, body) = splitResponse(result.stdout)
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 200 OK\r\n"), head)
        XCTAssertFalse(head.contains("transfer-encoding"), head)
        XCTAssertFalse(head.contains("content-length"), head)
        XCTAssertTrue(head.contains("\r\nconnection: close\r\n"), head)
        XCTAssertEqual(body, InteropRoutes.chunkedBody)
    }

    func testHTTP10KeepAlive() throws {
        let url = "\(server.plainURL)/hello"
        let result = try curl(["-0", "-v", "-H", "Connection: keep-alive", url, url])
        XCTAssertTrue(result.err.contains("Re-using existing connection"), result.err)
        XCTAssertTrue(result.err.contains("< connection: keep-alive"), result.err)
        XCTAssertEqual(Array(result.stdout), InteropRoutes.hello + InteropRoutes.hello)
        let ports = peerPorts(result.err)
        XCTAssertEqual(ports.count, 2, result.err)
        XCTAssertEqual(Set(ports).count, 1, "one connection for both requests: \(ports)")
    }

    func testHTTP11() throws {
        var result = try curl(["--http1.1", "-i", "\(server.plainURL)/hello"])
        var (head, body) = splitResponse(result.stdout)
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 200 OK\r\n"), head)
        XCTAssertTrue(head.contains("\r\ncontent-length: 13\r\n"), head)
        XCTAssertFalse(head.contains("connection:"), head)
        XCTAssertEqual(body, InteropRoutes.hello)

        result = try curl(["--http1.1", "-i", "\(server.plainURL)/chunked"])
        (head, body) = splitResponse(result.stdout)
        XCTAssertTrue(head.contains("\r\ntransfer-encoding: chunked\r\n"), head)
        XCTAssertEqual(body, InteropRoutes.chunkedBody)

        result = try curl(["--http1.1", "-I", "\(server.plainURL)/hello"])
        (head, body) = splitResponse(result.stdout)
        XCTAssertTrue(head.contains("\r\ncontent-length: 13\r\n"), "HEAD keeps the length: \(head)")
        XCTAssertEqual(body, [])

        result = try curl(["--http1.1", "-s", "-o", "/dev/null", "-w", "%{http_code}", "\(server.plainURL)/nothing"])
        XCTAssertEqual(result.out, "404")
    }

    func testKeepAliveReusesOneConnection() throws {
        let result = try curl(["--http1.1", "-v", "\(server.plainURL)/hello", "\(server.plainURL)/chunked"])
        XCTAssertTrue(result.err.contains("Re-using existing connection"), result.err)
        XCTAssertEqual(Array(result.stdout), InteropRoutes.hello + InteropRoutes.chunkedBody)
        let ports = peerPorts(result.err)
        XCTAssertEqual(ports.count, 2, result.err)
        XCTAssertEqual(Set(ports).count, 1, "one connection for both requests: \(ports)")
    }

    /// curl waits up to 1 s for `100 Continue` before sending a body it announced with
    /// `Expect: 100-continue`; the server sends it when the handler reads the body.
    func testExpect100ContinueUploadIsNotDelayed() throws {
        let data = randomBytes(2 << 20, seed: 1)
        let input = directory.appendingPathComponent("upload.bin")
        let output = directory.appendingPathComponent("echoed.bin")
        try Data(data).write(to: input)
        let result = try curl([
            "--http1.1", "-v", "--data-binary", "@\(input.path)", "-H", "Expect: 100-continue",
            "-H", "Content-Type: application/octet-stream", "-o", output.path, "-w", "%{time_total}",
            "\(server.plainURL)/echo",
        ])
        XCTAssertTrue(result.err.contains("< HTTP/1.1 100 Continue"), result.err)
        let seconds = try XCTUnwrap(Double(result.out.trimmingCharacters(in: .whitespaces)), result.out)
        XCTAssertLessThan(seconds, 0.9, "the upload waited for curl's expect timeout")
        XCTAssertEqual(Array(try Data(contentsOf: output)), data)
    }

    func testHTTPSWithTheServersSelfSignedCertificate() throws {
        let ca = try writeCertificate()
        let resolve = ["--cacert", ca, "--resolve", "localhost:\(server.port):127.0.0.1"]
        var result = try curl(
            ["--http1.1", "-v"] + resolve + ["\(server.tlsURL)/hello", "\(server.tlsURL)/chunked"])
        XCTAssertTrue(result.err.contains("SSL certificate verify ok"), result.err)
        XCTAssertTrue(result.err.contains("ALPN: server accepted http/1.1"), result.err)
        XCTAssertTrue(result.err.contains("Re-using existing connection"), result.err)
        XCTAssertEqual(Array(result.stdout), InteropRoutes.hello + InteropRoutes.chunkedBody)

        // An upload through TLS, with 100-continue.
        let data = randomBytes(768 << 10, seed: 2)
        let input = directory.appendingPathComponent("upload.bin")
        try Data(data).write(to: input)
        result = try curl(
            ["--http1.1", "--data-binary", "@\(input.path)", "-H", "Expect: 100-continue"] + resolve
                + ["\(server.tlsURL)/echo"])
        XCTAssertEqual(Array(result.stdout), data)
    }

    /// `tls = nil`: plain and TLS clients on the same port, told apart by the first octet.
    func testPlainAndTLSOnOnePort() throws {
        let ca = try writeCertificate()
        let resolve = ["--cacert", ca, "--resolve", "localhost:\(server.port):127.0.0.1"]
        for url in [server.plainURL, server.tlsURL, server.plainURL, server.tlsURL] {
            let result = try curl(["--http1.1", "-i"] + resolve + ["\(url)/hello"])
            let (head, body) = splitResponse(result.stdout)
            XCTAssertTrue(head.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(url): \(head)")
            XCTAssertEqual(body, InteropRoutes.hello, url)
        }
    }

    /// `--tr-encoding` asks for `TE: gzip`; a body of unknown length then comes as
    /// `transfer-encoding: gzip, chunked`, which curl decodes.
    func testGzipTransferCoding() throws {
        var result = try curl(["--http1.1", "--tr-encoding", "-v", "-i", "\(server.plainURL)/chunked"])
        XCTAssertTrue(result.err.contains("> TE: gzip"), result.err)
        var (head, body) = splitResponse(result.stdout)
        XCTAssertTrue(head.contains("\r\ntransfer-encoding: gzip, chunked\r\n"), head)
        XCTAssertEqual(body, InteropRoutes.chunkedBody)

        // A body of known length is sent as it is.
        result = try curl(["--http1.1", "--tr-encoding", "-i", "\(server.plainURL)/hello"])
        (head, body) = splitResponse(result.stdout)
        XCTAssertTrue(head.contains("\r\ncontent-length: 13\r\n"), head)
        XCTAssertFalse(head.contains("transfer-encoding"), head)
        XCTAssertEqual(body, InteropRoutes.hello)
    }
}

/// `tls = true`: HTTPS works, a plain client is turned away.
final class CurlTLSOnlyInteropTests: InteropTestCase {
    override var serverTLS: Bool? { true }

    func testTLSOnlyPort() throws {
        expectedServerErrors = ["plain data on a TLS-only port"]
        let ca = try writeCertificate()
        let result = try curl(
            ["--http1.1", "--cacert", ca, "--resolve", "localhost:\(server.port):127.0.0.1", "\(server.tlsURL)/hello"])
        XCTAssertEqual(Array(result.stdout), InteropRoutes.hello)
        let plain = try curlResult(["--http1.1", "\(server.plainURL)/hello"])
        XCTAssertNotEqual(plain.status, 0, "a plain request on a TLS-only port succeeded: \(plain.out)")
    }
}

/// `tls = false`: plain works, a TLS handshake is not HTTP.
final class CurlPlainOnlyInteropTests: InteropTestCase {
    override var serverTLS: Bool? { false }

    func testPlainOnlyPort() throws {
        expectedServerErrors = ["bad request"]
        let result = try curl(["--http1.1", "\(server.plainURL)/hello"])
        XCTAssertEqual(Array(result.stdout), InteropRoutes.hello)
        let ca = try writeCertificate()
        let tls = try curlResult(
            ["--http1.1", "--cacert", ca, "--resolve", "localhost:\(server.port):127.0.0.1", "\(server.tlsURL)/hello"])
        XCTAssertNotEqual(tls.status, 0, "a TLS request on a plain-only port succeeded: \(tls.out)")
    }
}

extension InteropTestCase {
    /// Runs curl (no proxy from the environment, a 10 s limit) and requires exit status 0.
    func curl(_ arguments: [String]) throws -> ProcessResult {
        let result = try curlResult(arguments)
        guard result.status == 0 else {
            throw InteropError(
                "curl \(arguments.joined(separator: " ")) exited with status \(result.status):\n\(result.err)")
        }
        return result
    }

    func curlResult(_ arguments: [String]) throws -> ProcessResult {
        try Peers.run(Peers.curl(), ["-sS", "--noproxy", "*", "--max-time", "10"] + arguments, timeout: 20)
    }

    /// The head (as text) and the body of `curl -i` output for one response.
    func splitResponse(_ output: Data) -> (head: String, body: [UInt8]) {
        let bytes = Array(output)
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<($0 + 4)]) == separator }) else {
            return (String(decoding: bytes, as: UTF8.self), [])
        }
        return (String(decoding: bytes[..<(end + 2)], as: UTF8.self), Array(bytes[(end + 4)...]))
    }

    /// The `x-peer-port` values in `curl -v` output, in order.
    func peerPorts(_ verbose: String) -> [String] {
        verbose.split(whereSeparator: \.isNewline).compactMap { line in
            guard line.hasPrefix("< x-peer-port: ") else { return nil }
            return line.dropFirst("< x-peer-port: ".count).trimmingCharacters(in: .whitespaces)
        }
    }
}
