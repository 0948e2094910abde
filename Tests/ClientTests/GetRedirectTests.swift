import Foundation
import Stepwise
import XCTest

/// `stepwise get` and redirects: `-L` follows a chain, `--max-redirs` bounds it, and without `-L`
/// a 3xx is the response.
final class GetRedirectTests: XCTestCase {
    /// `/r/N` redirects to `/r/N-1` (302, body `moved to …`); `/r/0` answers `end of chain`. The
    /// paths requested are recorded.
    private func startChain() throws -> (TestServer, Locked<[String]>) {
        let paths = Locked<[String]>([])
        let server = try TestServer { stream, head in
            let path = head.path ?? ""
            paths.withLock { $0.append(path) }
            guard let step = Int(path.dropFirst("/r/".count)), step > 0 else {
                return try await reply(stream, "end of chain")
            }
            try await reply(stream, status: 302, "moved to /r/\(step - 1)", extra: [("location", "/r/\(step - 1)")])
        }
        return (server, paths)
    }

    func testLocationFollowsTheChain() throws {
        let (server, paths) = try startChain()
        defer { server.stop() }
        let run = try stepwise(["get", "-L", "http://127.0.0.1:\(server.port)/r/3"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "end of chain")
        XCTAssertEqual(run.stderr, "")
        XCTAssertEqual(paths.withLock { $0 }, ["/r/3", "/r/2", "/r/1", "/r/0"])
    }

    func testMaxRedirsFailsPastN() throws {
        let (server, paths) = try startChain()
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/r/3"
        let enough = try stepwise(["get", "-L", "--max-redirs", "3", url])
        XCTAssertEqual(enough.status, 0, enough.stderr)
        XCTAssertEqual(enough.stdout, "end of chain")

        paths.withLock { $0.removeAll() }
        let tooFew = try stepwise(["get", "-L", "--max-redirs", "2", url])
        XCTAssertEqual(tooFew.status, 1)
        XCTAssertEqual(tooFew.stdout, "")
        XCTAssertEqual(tooFew.stderr, "stepwise: maximum redirects (2) exceeded\n")
        XCTAssertEqual(paths.withLock { $0 }, ["/r/3", "/r/2", "/r/1"], "two redirects followed, the third refused")
    }

    func testWithoutLocationA3xxIsPrintedNotFollowed() throws {
        let (server, paths) = try startChain()
        defer { server.stop() }
        let run = try stepwise(["get", "-v", "http://127.0.0.1:\(server.port)/r/2"])
        XCTAssertEqual(run.status, 0, "a 3xx is a response")
        XCTAssertEqual(run.stdout, "moved to /r/1")
        XCTAssertTrue(run.stderr.contains("< HTTP/1.1 302\n"), run.stderr)
        XCTAssertTrue(run.stderr.contains("< location: /r/1\n"), run.stderr)
        XCTAssertEqual(paths.withLock { $0 }, ["/r/2"])
    }
}
