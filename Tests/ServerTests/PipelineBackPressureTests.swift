import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A client that pipelines requests and does not read the answers: the server stops taking
/// requests once more than the socket's high-water mark (1 MiB) of answers is queued, rather
/// than queueing without bound; it takes them again, losing none, once the client reads; and it
/// closes a client that reads nothing for the intra-stream timeout.
final class PipelineBackPressureTests: XCTestCase {
    /// A server answering every request with `bodySize` octets, numbered in `x-number`; `calls`
    /// counts them.
    private func startNumberingServer(_ calls: Locked<Int>, bodySize: Int, intraStreamTimeout: Double = 10) throws
        -> TestServer
    {
        let body = [UInt8](repeating: 0x61, count: bodySize)
        return try startServer(
            { $0.intraStreamTimeout = intraStreamTimeout },
            handler: .callback { stream in
                let number = calls.withLock {
                    $0 += 1
                    return $0
                }
                var headers = Headers()
                headers.append(":status", "200")
                headers.append("x-number", String(number))
                try stream.writeMessage(headers, body: body)
            })
    }

    /// A client whose receive buffer is 64 KiB, so that the kernel holds little of the answers.
    private func smallWindowClient(_ server: TestServer) throws -> TestClient {
        let client = try TestClient(port: server.port)
        var receiveBuffer: Int32 = 64 * 1024
        setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, socklen_t(MemoryLayout<Int32>.size))
        return client
    }

    private static func requests(_ count: Int) -> String {
        String(repeating: "GET / HTTP/1.1\r\nHost: t\r\n\r\n", count: count)
    }

    func testPipelinedRequestsWaitWhileTheAnswersAreNotRead() throws {
        let calls = Locked(0)
        let server = try startNumberingServer(calls, bodySize: 256 * 1024)
        let client = try smallWindowClient(server)
        // 200 requests of 27 octets ask for 50 MiB of answers.
        let count = 200
        try client.send(Self.requests(count))
        Thread.sleep(forTimeInterval: 0.5)
        // The high-water mark, plus what the kernel's socket buffers took (a few MiB on loopback).
        let answeredUnread = calls.withLock { $0 }
        XCTAssertLessThan(
            answeredUnread, 60, "\(answeredUnread) answers of 256 KiB queued for a client that reads none")

        // Reading resumes the requests: every one is answered, in order.
        for number in 1...count {
            let response = try client.readResponse()
            XCTAssertEqual(response.header("x-number"), String(number))
            XCTAssertEqual(response.body.count, 256 * 1024)
            if response.header("x-number") != String(number) { break }
        }
    }

    func testAClientThatReadsNoneOfTheAnswersIsClosedAtTheIntraStreamTimeout() throws {
        let calls = Locked(0)
        let server = try startNumberingServer(calls, bodySize: 16 * 1024, intraStreamTimeout: 0.3)
        let client = try smallWindowClient(server)
        // It goes on sending requests for up to 2 s (108 KB of them, for 62 MiB of answers) and
        // reads nothing: no request of it ever finds the server idle, so only the wait for the
        // answers to be read can time out.
        let started = MonotonicClock.seconds()
        _ = try? client.send(Array(Self.requests(4000).utf8), until: started + 2)
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 }, "a client that reads nothing is still served")
        let answered = calls.withLock { $0 }
        XCTAssertLessThan(answered, 1000, "\(answered) answers of 16 KiB queued for a client that reads none")
    }
}
