import Foundation
import Stepwise
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The client side of `TinyChunkBufferTests`: a hostile server answers with one-octet chunks
/// (`1\r\na\r\n`) and the caller reads none yet. The connection stops reading once the queued
/// body costs `maxBufferedBody` in memory (each piece counted 64 octets more than its length),
/// not once 256 Ki octets are queued as 256 Ki arrays (15 MiB). Over a socket pair with a small
/// send buffer, what the server manages to send is what the client took, give or take 100 KiB.
final class TinyChunkResponseBufferTests: XCTestCase {
    func testAResponseOfOneOctetChunksIsHeldToTheBufferLimitInMemoryNotInOctets() throws {
        let (taken, sent, received) = try withClientConnection { client, peer, reactor in
            var sendBuffer: Int32 = 16 * 1024
            setsockopt(peer, SOL_SOCKET, SO_SNDBUF, &sendBuffer, socklen_t(MemoryLayout<Int32>.size))
            /// Sends what the kernel takes now of `bytes[offset...]`; returns how much.
            func sendNow(_ bytes: [UInt8], from offset: Int = 0) throws -> Int {
                let count = bytes.withUnsafeBytes {
                    send(peer, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                }
                if count >= 0 { return count }
                guard errno == EAGAIN else { throw TestError("send: errno \(errno)") }
                return 0
            }
            let stream = try await sendGET(on: client)
            _ = try sendNow(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
            // 2000 one-octet chunks a piece, sent until none go for 0.3 s.
            let piece = Array(String(repeating: "1\r\na\r\n", count: 2000).utf8)
            var taken = 0
            var offset = 0
            var lastProgress = MonotonicClock.seconds()
            while taken < 3 << 20 && MonotonicClock.seconds() - lastProgress < 0.3 {
                let count = try sendNow(piece, from: offset)
                if count == 0 {
                    try await reactor.sleep(seconds: 0.01)
                    continue
                }
                taken += count
                offset = (offset + count) % piece.count
                lastProgress = MonotonicClock.seconds()
            }
            // The caller reads now; the rest of the piece and the last chunk follow as it does.
            var rest = Array(piece[offset...]) + Array("0\r\n\r\n".utf8)
            let sent = taken + rest.count - 5
            _ = try await stream.getHeaders(timeout: 5)
            var received = 0
            while true {
                if !rest.isEmpty { rest.removeFirst(try sendNow(rest)) }
                guard let chunk = try await stream.getNextChunk(timeout: 5) else { break }
                received += chunk.count
            }
            return (taken, sent, received)
        }
        XCTAssertLessThan(
            taken, 1 << 20, "the client took \(taken) octets of one-octet chunks for a caller reading none")
        XCTAssertEqual(received, sent / 6, "the caller did not get every octet")
    }
}

private struct TestError: Error {
    let description: String
    init(_ description: String) { self.description = description }
}
