import Foundation
import Stepwise
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A client request whose body goes out from a file (by sendfile(2)), answered before the body
/// ended by a server that then goes away: the send fails, and the answer that came is still
/// there to read (RFC 9112 §9.5), as when the body is written from memory.
final class SendFileEarlyAnswerTests: XCTestCase {
    func testTheAnswerOutlivesTheFailedSend() throws {
        let path = NSTemporaryDirectory() + "/stepwise-early-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).bin"
        let size = 16 << 20
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(count: size)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let outcome = try withClientConnection { client, peer, reactor in
            let stream = try XCTUnwrap(client.newStream())
            var headers = Headers()
            headers.append(":method", "POST")
            headers.append(":path", "/up")
            headers.append(":authority", "t")
            headers.append("content-length", String(size))
            try stream.writeHeaders(headers, endStream: false)
            let file = try await reactor.runBlocking("opening") { try BodyFile(reading: path) }
            async let sending: String = {
                do {
                    try await stream.writeBody(from: file, timeout: 5)
                    return "sent"
                } catch {
                    return "failed: \(error)"
                }
            }()
            // The server reads some of the request, answers, and closes without reading the rest.
            var scratch = [UInt8](repeating: 0, count: 64 * 1024)
            _ = recv(peer, &scratch, scratch.count, 0)
            let answer = Array(
                "HTTP/1.1 413 Content Too Large\r\nconnection: close\r\ncontent-length: 7\r\n\r\ntoo big".utf8)
            XCTAssertEqual(answer.withUnsafeBytes { send(peer, $0.baseAddress, $0.count, 0) }, answer.count)
            shutdown(peer, Int32(SHUT_RDWR))
            let sent = await sending
            let head = try await stream.getHeaders(timeout: 1)
            let body = try await stream.getBodyAsString(limit: 100, timeout: 1)
            return "\(sent.hasPrefix("failed") ? "send failed" : sent); \(head?.first(":status") ?? "none") \(body)"
        }
        XCTAssertEqual(outcome, "send failed; 413 too big")
    }
}
