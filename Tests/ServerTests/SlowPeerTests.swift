import Foundation
import Stepwise
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Clients as slow as an attacker makes them, over real sockets: octets trickled where a deadline
/// must not be reset by each of them, answers never read, a half-close after many pipelined
/// requests. Each ends in a clear answer or a close, holds bounded memory, burns no CPU while
/// the client stalls, and leaves other connections served.
final class SlowPeerTests: XCTestCase {
    /// Sends `octet` every 50 ms until the server answers or closes (at most `limit` times);
    /// returns how many were sent and the CPU the process spent meanwhile.
    private func trickle(_ octet: String, to client: TestClient, limit: Int = 80) throws -> (sent: Int, cpu: Double) {
        var sent = 0
        let cpu = try cpuSeconds {
            while try client.staysSilent(for: 0.05), sent < limit {
                // The server may close at any moment: a failed send ends the trickle too.
                guard (try? client.send(Array(octet.utf8), until: MonotonicClock.seconds() + 0.1)) == octet.utf8.count
                else { return }
                sent += 1
            }
        }
        return (sent, cpu)
    }

    func testEmptyLinesTrickledBeforeARequestDoNotKeepTheConnectionIdle() throws {
        // RFC 9112 §2.2 lets a server ignore empty lines before a request line, so they are part
        // of the head: they start the header-read timeout (one deadline, not reset by each
        // line), not another idle timeout each.
        let server = try startServer {
            $0.intraStreamTimeout = 0.2
            $0.headerReadTimeout = 0.5
        }
        let client = try TestClient(port: server.port)
        let start = MonotonicClock.seconds()
        let (sent, cpu) = try trickle("\r\n", to: client)
        let elapsed = MonotonicClock.seconds() - start
        XCTAssertGreaterThanOrEqual(elapsed, 0.5)
        XCTAssertLessThan(elapsed, 3, "\(sent) empty lines held the connection")
        XCTAssertLessThan(cpu, 0.3)
        XCTAssertEqual(try readLastResponse(client).status, 408)
        XCTAssertEqual(try TestClient(port: server.port).exchange(get("/hello")).status, 200)
    }

    func testABodyTrickledAfterAnEarlyAnswerIsCutAtTheIntraStreamTimeout() throws {
        // The drain of a body answered early has one intra-stream timeout in all, not one per
        // octet: a client trickling the rest cannot hold the connection (and a `maxConcurrent`
        // slot) for ever.
        let server = try startServer { $0.intraStreamTimeout = 0.3 }
        let client = try TestClient(port: server.port)
        try client.send("POST /reject HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 413)
        let start = MonotonicClock.seconds()
        let (sent, cpu) = try trickle("a", to: client)
        let elapsed = MonotonicClock.seconds() - start
        XCTAssertGreaterThanOrEqual(elapsed, 0.25)
        XCTAssertLessThan(elapsed, 2, "\(sent) trickled octets held the connection")
        XCTAssertLessThan(cpu, 0.3)
        XCTAssertEqual(try client.readUntilClosed(), [])
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 })
    }

    func testManyPipelinedRequestsThenAHalfCloseAreAllAnswered() throws {
        // 60 requests for 256 KiB each (15 MiB, past the 1 MiB of answers that holds the next
        // request back) in one write, then SHUT_WR: the EOF waits behind the requests, each is
        // answered in order, and the connection closes after the last.
        let server = try startServer()
        let client = try TestClient(port: server.port)
        client.timeout = 20
        let count = 60
        try client.send(String(repeating: get("/download?bytes=262144"), count: count))
        client.shutdownWrite()
        for number in 1...count {
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.header("x-request-number"), String(number))
            XCTAssertTrue(matchesPattern(response.body, at: 0) && response.body.count == 262_144, "answer \(number)")
        }
        XCTAssertEqual(try client.readUntilClosed(), [])
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 })
    }

    func testDownloadsNobodyReadsHoldTheHighWaterMarkAndNoCPU() throws {
        // Four clients ask for 64 MiB each and read none of it: each handler's writes wait once
        // the socket's high-water mark (1 MiB) is queued, so what it got to write is that plus
        // what the kernel's buffers took; the server then sleeps and serves others.
        let written = Locked([Int](repeating: 0, count: 4))
        let server = try startServer(
            handler: .task { stream in
                guard let head = try await stream.getHeaders(timeout: 5), let path = head.first(":path"),
                    let index = Int(path.dropFirst())
                else { return }
                var headers = Headers()
                headers.append(":status", "200")
                guard index < 4 else { return try stream.writeMessage(headers, body: Array("hello\n".utf8)) }
                headers.append("content-length", String(64 << 20))
                try await stream.writeHeaders(headers, endStream: false, timeout: 5)
                let piece = [UInt8](repeating: 0x61, count: 64 * 1024)
                for _ in 0..<1024 {
                    try await stream.writeChunk(piece, endStream: false, timeout: 30)
                    written.withLock { $0[index] += piece.count }
                }
            })
        var clients: [TestClient] = []
        for index in 0..<4 {
            let client = try TestClient(port: server.port)
            var receiveBuffer: Int32 = 64 * 1024
            setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, socklen_t(MemoryLayout<Int32>.size))
            try client.send(get("/\(index)"))
            clients.append(client)
        }
        // Until every handler has stopped writing (no progress for 0.2 s).
        var last = written.withLock { $0 }
        var stalled = false
        let deadline = MonotonicClock.seconds() + 10
        while !stalled && MonotonicClock.seconds() < deadline {
            usleep(200_000)
            let now = written.withLock { $0 }
            stalled = now == last && !now.contains(0)
            last = now
        }
        XCTAssertTrue(stalled, "the handlers kept writing: \(last)")
        for (index, octets) in last.enumerated() {
            XCTAssertLessThan(octets, 16 << 20, "handler \(index) queued \(octets) octets for a client reading none")
        }
        XCTAssertLessThan(cpuSeconds { usleep(300_000) }, 0.1)
        XCTAssertEqual(try TestClient(port: server.port).exchange(get("/9")).text, "hello\n")
    }
}
