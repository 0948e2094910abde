import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A chunked request body of one-octet chunks (`1\r\na\r\n`, six octets on the wire for each
/// body octet) sent to a handler that does not read it yet: the server stops reading once what
/// it holds for the handler costs `maxBufferedBody` (256 KiB) in memory, not once it holds 256 Ki
/// body octets, which as one array each cost sixty times that (15 MiB for one connection).
///
/// A Unix socket server keeps it deterministic: its kernel buffers are small and fixed, so what
/// the client manages to send is what the server took, give or take a few hundred KiB.
final class TinyChunkBufferTests: XCTestCase {
    func testABodyOfOneOctetChunksIsHeldToTheBufferLimitInMemoryNotInOctets() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stepwise-tiny-chunks-\(getpid())-\(UUID()).sock"
        )
        .path
        addTeardownBlock { unlink(path) }
        let reading = Locked(false)
        _ = try startServer(
            {
                $0.listen = ListenOptions(path: path)
                $0.tls = false
            },
            handler: .task { stream in
                _ = try await stream.getHeaders(timeout: 5)
                // Reads nothing until the test has seen the server stop reading.
                while !reading.withLock({ $0 }) { try await stream.reactor.sleep(seconds: 0.01) }
                var received = 0
                while let chunk = try await stream.getNextChunk(timeout: 5) { received += chunk.count }
                var headers = Headers()
                headers.append(":status", "200")
                try stream.writeMessage(headers, body: Array("\(received)".utf8))
            })
        let client = try TestClient(path: path)
        var sendBuffer: Int32 = 16 * 1024
        setsockopt(client.fd, SOL_SOCKET, SO_SNDBUF, &sendBuffer, socklen_t(MemoryLayout<Int32>.size))
        try client.send("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        // 2000 one-octet chunks.
        let piece = Array(String(repeating: "1\r\na\r\n", count: 2000).utf8)
        // Sends until the server stops taking octets (none go for 0.3 s), or well past what a
        // server holding 256 KiB of memory for the handler can take.
        var pieces = 0
        var taken = 0
        while taken < 3 << 20 {
            let count = try client.send(piece, until: MonotonicClock.seconds() + 0.3)
            taken += count
            pieces += 1
            if count < piece.count {
                // The handler reads from now on; the rest of the piece keeps the body well-formed.
                reading.withLock { $0 = true }
                try client.send(Array(piece[count...]))
                break
            }
        }
        XCTAssertLessThan(
            taken, 1 << 20, "the server took \(taken) octets of one-octet chunks for a handler reading none")
        reading.withLock { $0 = true }
        try client.send("0\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, String(pieces * 2000), "the handler did not get every octet")
    }
}
