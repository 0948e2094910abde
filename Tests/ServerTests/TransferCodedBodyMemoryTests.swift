import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A request body with a gzip transfer coding is decoded as the handler reads it, no faster: a
/// few KiB can decode to megabytes, and all of it queued on arrival let a small body fill memory
/// (and stopped at 64 MiB, even for a handler streaming it to a file).
final class TransferCodedBodyMemoryTests: XCTestCase {
    /// A request body with a gzip transfer coding (decoded by the stream, `transferCodings` on by
    /// default) streamed to a file by `saveBody` (no size limit) fails past 64 MiB decoded and
    /// the client gets a 400, whatever `bodyLimit` is set to.
    func testAGzipTransferCodedUploadOver64MiBCanBeSaved() throws {
        let seen = Locked<String?>(nil)
        let server = try startServer(
            { $0.http1.bodyLimit = 1 << 30 },
            handler: .task { stream in
                _ = try await stream.getHeaders(timeout: 5)
                let sink = open("/dev/null", O_WRONLY)
                defer { Glibc.close(sink) }
                do {
                    let saved = try await stream.saveBody(to: sink, timeout: 10)
                    seen.withLock { $0 = "saved \(saved)" }
                } catch {
                    seen.withLock { $0 = "threw \(error)" }
                    throw error
                }
                var headers = Headers()
                headers.append(":status", "200")
                try stream.writeMessage(headers, body: "ok")
            })
        let size = 65 << 20
        let gzipped = try Deflater(format: .gzip).process([UInt8](repeating: 0, count: size), final: true)
        let client = try TestClient(port: server.port)
        try client.send(
            Array("POST /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".utf8)
                + Array("\(String(gzipped.count, radix: 16))\r\n".utf8) + gzipped + Array("\r\n0\r\n\r\n".utf8))
        let response = try client.readResponse()
        XCTAssertEqual(seen.withLock { $0 }, "saved \(size)")
        XCTAssertEqual(response.status, 200)
    }

    /// `maxBufferedBody` (256 KiB): "reading from the socket pauses while a stream holds this many
    /// body octets its reader has not taken". A 10 KiB gzip transfer-coded body is decoded whole
    /// into the stream's queue on arrival: 10 MiB held (and `bodyLimit` of 1 MiB not consulted)
    /// before the handler reads anything — a decompression bomb's amplification per connection.
    func testATransferCodedBodyIsNotBufferedPastMaxBufferedBody() throws {
        let seen = Locked<Int?>(nil)
        let server = try startServer(
            { $0.http1.bodyLimit = 1 << 20 },
            handler: .task { stream in
                _ = try await stream.getHeaders(timeout: 5)
                let first = try await stream.getNextChunk(timeout: 5)
                seen.withLock { $0 = first?.count ?? -1 }
                var headers = Headers()
                headers.append(":status", "200")
                try stream.writeMessage(headers, body: "ok")
            })
        let size = 10 << 20
        let gzipped = try Deflater(format: .gzip).process([UInt8](repeating: 0, count: size), final: true)
        XCTAssertLessThan(gzipped.count, 64 * 1024)
        let client = try TestClient(port: server.port)
        try client.send(
            Array("POST /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".utf8)
                + Array("\(String(gzipped.count, radix: 16))\r\n".utf8) + gzipped + Array("\r\n0\r\n\r\n".utf8))
        _ = try client.readResponse()
        let first = try XCTUnwrap(seen.withLock { $0 })
        XCTAssertLessThanOrEqual(first, H1ConnectionOptions().maxBufferedBody, "octets queued at once for the handler")
    }
}
