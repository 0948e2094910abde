import Foundation
import Stepwise
import XCTest

/// Python peers from the test venv (`make py-test-peers`): httpx as an everyday client, h11 as a
/// strict one (it raises on any protocol violation). The scripts in `Peers/` check each exchange
/// and exit non-zero with the reason; they print a JSON summary the tests check further.
final class PythonInteropTests: InteropTestCase {
    private struct HTTPXSummary: Decodable {
        var ports: [String]
        var tlsPorts: [String]
        var chunked: String
    }

    private struct H11Summary: Decodable {
        var pipelined: Int
        var chunked: String
    }

    /// GET, POST with a body, a streamed (chunked) upload, chunked and HEAD responses, all on one
    /// keep-alive connection; then the same over TLS with the server's certificate trusted.
    func testHTTPX() throws {
        let ca = try writeCertificate()
        let summary: HTTPXSummary = try runPeer(
            "httpx_peer.py", ["--base", server.plainURL, "--tls-base", server.tlsURL, "--cafile", ca])
        XCTAssertEqual(summary.ports.count, 7)
        XCTAssertEqual(Set(summary.ports).count, 1, "httpx saw several connections: \(summary.ports)")
        XCTAssertEqual(summary.tlsPorts.count, 7)
        XCTAssertEqual(Set(summary.tlsPorts).count, 1, "httpx saw several TLS connections: \(summary.tlsPorts)")
        XCTAssertNotEqual(summary.ports, summary.tlsPorts)
        XCTAssertEqual(Array(summary.chunked.utf8), InteropRoutes.chunkedBody)
    }

    /// Pipelined requests answered in order, `Expect: 100-continue` and an early final response,
    /// each validated by h11.
    func testH11Strict() throws {
        let summary: H11Summary = try runPeer("h11_peer.py", ["--port", String(server.port)])
        XCTAssertEqual(summary.pipelined, 7)
        XCTAssertEqual(Array(summary.chunked.utf8), InteropRoutes.chunkedBody)
    }

    private func runPeer<Summary: Decodable>(_ script: String, _ arguments: [String]) throws -> Summary {
        let result = try Peers.run(Peers.python(), [Peers.script(script)] + arguments, timeout: 30)
        guard result.status == 0 else {
            throw InteropError(
                "\(script) exited with status \(result.status)\nstdout:\n\(result.out)\nstderr:\n\(result.err)")
        }
        guard let line = result.out.split(whereSeparator: \.isNewline).last else {
            throw InteropError("\(script) printed no summary; stderr:\n\(result.err)")
        }
        return try JSONDecoder().decode(Summary.self, from: Data(line.utf8))
    }
}
