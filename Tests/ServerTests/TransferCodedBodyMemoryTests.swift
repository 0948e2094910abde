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
        try assertUploadOver64MiBCanBeSaved(codings: [.gzip], listed: "gzip")
    }

    /// The same through a chain of codings: each stage but the last decoded 1 KiB of its input
    /// whole, with `Inflater`'s 64 MiB cap on its total.
    func testAChainOfTransferCodingsOver64MiBCanBeSaved() throws {
        try assertUploadOver64MiBCanBeSaved(codings: [.gzip, .deflate], listed: "gzip, deflate")
    }

    private func assertUploadOver64MiBCanBeSaved(codings: [Deflater.Format], listed: String) throws {
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
        let coded = try Self.code([UInt8](repeating: 0, count: size), codings)
        let client = try TestClient(port: server.port)
        try client.send(
            Array("POST /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: \(listed), chunked\r\n\r\n".utf8)
                + Array("\(String(coded.count, radix: 16))\r\n".utf8) + coded + Array("\r\n0\r\n\r\n".utf8))
        let response = try client.readResponse()
        XCTAssertEqual(seen.withLock { $0 }, "saved \(size)", listed)
        XCTAssertEqual(response.status, 200, listed)
    }

    /// `data` with `codings` applied in order.
    private static func code(_ data: [UInt8], _ codings: [Deflater.Format]) throws -> [UInt8] {
        var coded = data
        for format in codings { coded = try Deflater(format: format).process(coded, final: true) }
        return coded
    }

    /// `maxBufferedBody` (256 KiB): "reading from the socket pauses while a stream holds this many
    /// body octets its reader has not taken". A 10 KiB gzip transfer-coded body is decoded whole
    /// into the stream's queue on arrival: 10 MiB held (and `bodyLimit` of 1 MiB not consulted)
    /// before the handler reads anything — a decompression bomb's amplification per connection.
    func testATransferCodedBodyIsNotBufferedPastMaxBufferedBody() throws {
        try assertNotBufferedPastMaxBufferedBody(codings: [.gzip], listed: "gzip")
    }

    /// The same through a chain: 1 KiB of the coded body went through every stage whole.
    func testAChainOfTransferCodingsIsNotBufferedPastMaxBufferedBody() throws {
        try assertNotBufferedPastMaxBufferedBody(codings: [.deflate, .gzip], listed: "deflate, gzip")
    }

    private func assertNotBufferedPastMaxBufferedBody(codings: [Deflater.Format], listed: String) throws {
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
        let coded = try Self.code([UInt8](repeating: 0, count: size), codings)
        XCTAssertLessThan(coded.count, 64 * 1024)
        let client = try TestClient(port: server.port)
        try client.send(
            Array("POST /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: \(listed), chunked\r\n\r\n".utf8)
                + Array("\(String(coded.count, radix: 16))\r\n".utf8) + coded + Array("\r\n0\r\n\r\n".utf8))
        _ = try client.readResponse()
        let first = try XCTUnwrap(seen.withLock { $0 }, listed)
        XCTAssertLessThanOrEqual(
            first, H1ConnectionOptions().maxBufferedBody, "\(listed): octets queued at once for the handler")
    }
}
