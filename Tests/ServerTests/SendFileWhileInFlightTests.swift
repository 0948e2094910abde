import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// What else happens to an HTTP/1 connection while a file goes out by sendfile(2): writes the
/// handler tries meanwhile are refused with an error (the socket's output is lent to the send,
/// and a write to it would trap in a debug build or land inside the file's octets), and clients
/// that go away part-way leave no descriptor behind.
final class SendFileWhileInFlightTests: XCTestCase {
    private var path = ""
    private let size = 24 << 20

    override func setUpWithError() throws {
        path = NSTemporaryDirectory() + "/stepwise-inflight-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).bin"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(pattern(0, size))))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// A head (trailers, an interim response, a whole message) or another file's octets written
    /// while the file is sent are refused as a body write is, and the response goes out whole.
    func testAHeadWrittenWhileTheFileIsSentIsRefused() throws {
        let refusals = Locked<[String]>([])
        let server = try startServer(
            handler: .task { [path] stream in
                _ = try await stream.getHeaders(timeout: 10)
                let file = try await stream.reactor.runBlocking("opening") { try BodyFile(reading: path) }
                var headers = Headers()
                headers.append(":status", "200")
                try await stream.writeHeaders(headers, endStream: false, timeout: 20)
                let socket = (stream as! H1Stream).connection.socket
                async let sending: Void = stream.writeBody(from: file, timeout: 20)
                while socket.canSendFile { await Task.yield() }
                var trailers = Headers()
                trailers.append("x-checksum", "none")
                var interim = Headers()
                interim.append(":status", "103")
                for attempt in [
                    { try stream.writeHeaders(trailers, endStream: true) },
                    { try stream.writeHeaders(interim, endStream: false) },
                    { try stream.writeMessage(headers, body: Array("x".utf8)) },
                ] {
                    do {
                        try attempt()
                        refusals.withLock { $0.append("written") }
                    } catch {
                        refusals.withLock { $0.append("\(error)") }
                    }
                }
                // Another file's octets: refused before any of that file is read (here a
                // directory, whose read would fail with an error of its own).
                let directory = try await stream.reactor.runBlocking("opening a directory") {
                    BodyFile(adopting: open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC))
                }
                do {
                    try await stream.writeChunk(fromFile: directory, offset: 0, count: 10, endStream: false, timeout: 5)
                    refusals.withLock { $0.append("written") }
                } catch {
                    refusals.withLock { $0.append("\(error)") }
                }
                try await sending
            })
        let client = try TestClient(port: server.port)
        client.timeout = 20
        let response = try client.exchange(get("/file"))
        XCTAssertEqual(response.header("transfer-encoding"), "chunked")
        XCTAssertEqual(response.body.count, size)
        XCTAssertTrue(matchesPattern(response.body, at: 0))
        XCTAssertEqual(try client.exchange(get("/file")).body.count, size)
        let seen = refusals.withLock { $0 }
        XCTAssertEqual(seen.count, 8)
        for refusal in seen {
            XCTAssertTrue(refusal.contains("a file is being sent as the body"), refusal)
        }
    }

    /// Clients that reset the connection at each point of a download (before the first stretch,
    /// during one, while the send waits for room): every connection ends, with its socket, its
    /// stretch's duplicate and its file.
    func testDownloadsCutShortLeaveNoDescriptorBehind() throws {
        let ended = Locked<Int>(0)
        let server = try startServer(
            handler: .task { [path] stream in
                defer { ended.withLock { $0 += 1 } }
                _ = try await stream.getHeaders(timeout: 10)
                var headers = Headers()
                headers.append(":status", "200")
                try await stream.writeHeaders(headers, endStream: false, timeout: 20)
                try await stream.writeBody(fromPath: path, timeout: 20)
            })
        // One exchange first: the server's lazily made descriptors (timers, threads) exist.
        let warm = try TestClient(port: server.port)
        warm.timeout = 20
        XCTAssertEqual(try warm.exchange(get("/file")).body.count, size)
        warm.close()
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 })
        let before = openFileDescriptors()
        for round in 0..<24 {
            let client = try TestClient(port: server.port)
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            try client.send(get("/file"))
            switch round % 3 {
            case 0: break  // reset at once, likely before the first stretch
            case 1: usleep(20_000)  // during a stretch, the client's buffers filling
            default:
                // While the send waits for room: read a little, then stop.
                var scratch = [UInt8](repeating: 0, count: 4096)
                _ = recv(client.fd, &scratch, scratch.count, 0)
                usleep(200_000)
            }
            client.close()
        }
        XCTAssertTrue(waitUntil(within: 20) { ended.withLock { $0 } == 24 })
        XCTAssertTrue(try server.waitOnServer(within: 20) { $0.connections() == 0 })
        XCTAssertTrue(waitUntil(within: 5) { openFileDescriptors() <= before }, "\(openFileDescriptors()) > \(before)")
        // And the server still serves.
        let after = try TestClient(port: server.port)
        after.timeout = 20
        XCTAssertEqual(try after.exchange(get("/file")).body.count, size)
    }
}
