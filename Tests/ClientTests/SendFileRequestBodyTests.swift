import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A request body from a file goes out by sendfile(2) on a plain connection; the connection is
/// then reused for the next request, also after a server answered before the body ended and
/// kept the connection (it drains the rest).
final class SendFileRequestBodyTests: XCTestCase {
    private var paths: [String] = []

    override func tearDown() {
        for path in paths { unlink(path) }
    }

    private func file(size: Int) -> String {
        let path = NSTemporaryDirectory() + "/stepwise-upload-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).bin"
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 % 251) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        paths.append(path)
        return path
    }

    func testFileBodiesGoOutAndTheConnectionIsReused() throws {
        let server = try TestServer { stream, head in
            var received = 0
            var intact = true
            while let chunk = try await stream.getNextChunk(timeout: 10) {
                for (index, octet) in chunk.enumerated()
                where octet != UInt8(truncatingIfNeeded: (received + index) % 251) {
                    intact = false
                    break
                }
                received += chunk.count
            }
            try await reply(stream, "\(received) \(intact ? "intact" : "corrupt")")
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        let sizes = [3 << 20, 0, 1, 200_000, 9 << 20]
        for size in sizes {
            let request = try Request(uri: "http://127.0.0.1:\(server.port)/up")
            request.pool = pool
            try request.headers.upsert(":method", "POST")
            try request.setBody(filePath: file(size: size))
            XCTAssertEqual(try request.fetch(on: reactor, timeout: 20).text, "\(size) intact")
        }
        XCTAssertEqual(server.connectionsSeen, 1)
        XCTAssertEqual(pool.openConnections, 1)
    }

    func testAnEarlyAnswerOnAKeptConnectionThenTheNextRequestOnIt() throws {
        let server = try TestServer { stream, head in
            if head.path == "/early" {
                try await reply(stream, status: 202, "early")
                return
            }
            try await reply(stream, "late")
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        let upload = file(size: 400_000)
        for path in ["/early", "/late", "/early", "/late"] {
            let request = try Request(uri: "http://127.0.0.1:\(server.port)\(path)")
            request.pool = pool
            try request.headers.upsert(":method", "POST")
            try request.setBody(filePath: upload)
            _ = request.headers.delete("expect")
            XCTAssertEqual(try request.fetch(on: reactor, timeout: 20).text, path == "/early" ? "early" : "late")
        }
        XCTAssertEqual(server.connectionsSeen, 1)
    }
}
