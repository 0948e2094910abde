import Dispatch
import Stepwise
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `DecodedStream` (the content-encoding decoding of a response) over a client `H1Connection` on
/// a socket pair, the raw peer writing the response at chosen moments.
final class DecodedStreamTests: XCTestCase {
    private struct Peer: @unchecked Sendable { let fd: Int32 }

    private func withResponse<T: Sendable>(
        options: H1ConnectionOptions = H1ConnectionOptions(),
        _ body: @escaping @Sendable (H1Stream, Peer, Reactor) async throws -> T
    ) throws -> T {
        try withClientConnection(options: options) { client, peer, reactor in
            try await body(try await sendGET(on: client), Peer(fd: peer), reactor)
        }
    }

    private static func send(_ peer: Peer, _ bytes: [UInt8]) {
        let written = bytes.withUnsafeBytes { Glibc.write(peer.fd, $0.baseAddress, $0.count) }
        XCTAssertEqual(written, bytes.count)
    }

    private static func gzipResponse(_ text: String) throws -> [UInt8] {
        let gzipped = try Deflater(format: .gzip).process(Array(text.utf8), final: true)
        return Array("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: \(gzipped.count)\r\n\r\n".utf8)
            + gzipped
    }

    /// The connection's `bodyLimit` is the default limit of the buffering helpers, on the decoded
    /// stream too (not the 64 MiB of a stream that sets none).
    func testTheBodyLimitIsTheWrappedStreams() throws {
        var options = H1ConnectionOptions()
        options.bodyLimit = 10
        let response = try Self.gzipResponse(String(repeating: "x", count: 100))
        let (limit, outcome) = try withResponse(options: options) { stream, peer, _ in
            Self.send(peer, response)
            _ = try await stream.getHeaders(timeout: 1)
            let decoded = DecodedStream(stream, coding: "gzip")
            do {
                let body = try await decoded.getBodyAsBytes(timeout: 1)
                return (decoded.bodyLimit, "returned \(body.count) octets")
            } catch {
                return (decoded.bodyLimit, "threw \(error)")
            }
        }
        XCTAssertEqual(limit, 10)
        XCTAssertEqual(outcome, "threw \(HTTPStreamError.bodyTooLarge(limit: 10))")
    }

    /// `shutdown(after:)` reaches the wrapped stream with its error (a server stream answers
    /// with the status the error calls for), not as a plain `shutdown()`.
    func testShutdownAfterAnErrorReachesTheWrappedStream() throws {
        let base = try RecordingStream()
        DecodedStream(base, coding: "gzip").shutdown(after: HTTPStreamError.bodyTooLarge(limit: 10))
        XCTAssertEqual(base.shutdowns, ["after body larger than 10 bytes"])
    }

    /// The callback form of `getNextChunk(timeout:)` keeps one deadline over the encoded pieces
    /// it reads, like the async form: a peer trickling a long gzip header, pieces that decode to
    /// nothing, does not hold the reader past its timeout.
    func testCallbackGetNextChunkKeepsOneDeadline() throws {
        // A gzip header with a long FNAME: 10 + 40 + 1 octets that decode to nothing.
        var header: [UInt8] = [0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3]
        header += Array(String(repeating: "n", count: 40).utf8) + [0]
        let trickled = header
        let (elapsed, outcome) = try withResponse { stream, peer, reactor in
            Self.send(
                peer, Array("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
            _ = try await stream.getHeaders(timeout: 1)
            // One octet (one chunk) every 50 ms: 2.5 s in all.
            let done = DispatchSemaphore(value: 0)
            let writer = Thread {
                for octet in trickled {
                    usleep(50_000)
                    let chunk = Array("1\r\n".utf8) + [octet] + Array("\r\n".utf8)
                    _ = chunk.withUnsafeBytes { Glibc.send(peer.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
                done.signal()
            }
            writer.start()
            let decoded = DecodedStream(stream, coding: "gzip")
            let started = MonotonicClock.seconds()
            let result: Result<[UInt8]?, any Error> = try await reactor.suspend("callback") { suspension in
                decoded.getNextChunk(timeout: 0.5) { result in suspension.resume(returning: result) }
                return nil
            }
            let elapsed = MonotonicClock.seconds() - started
            done.wait()
            switch result {
            case .success(let chunk): return (elapsed, "returned \(chunk?.count ?? -1) octets")
            case .failure(let error): return (elapsed, "threw \(error)")
            }
        }
        XCTAssertLessThan(elapsed, 1.5, "getNextChunk(timeout: 0.5) ended after \(elapsed) s: \(outcome)")
        XCTAssertEqual(outcome, "threw getNextChunk: timed out")
    }

    /// Both forms of `getNextChunk` hand over what is queued whatever their timeout, like the
    /// wrapped stream's: `timeout: 0` with the whole encoded body received is not a timeout.
    func testGetNextChunkHandsOverQueuedOctetsWhateverItsTimeout() throws {
        let response = try Self.gzipResponse("hello")
        let (async, callback) = try withResponse { stream, peer, reactor in
            Self.send(peer, response)
            _ = try await stream.getHeaders(timeout: 1)
            // Wait until the encoded body is queued and has ended, then put it back.
            let encoded = try await stream.getNextChunk(timeout: 1) ?? []
            let end = try await stream.getNextChunk(timeout: 0)
            XCTAssertNil(end)
            stream.unget(encoded)
            let async = try await DecodedStream(stream, coding: "gzip").getBodyAsString(timeout: 0)
            stream.unget(encoded)
            let decoded = DecodedStream(stream, coding: "gzip")
            let callback: Result<[UInt8]?, any Error> = try await reactor.suspend("callback") { suspension in
                decoded.getNextChunk(timeout: 0) { result in suspension.resume(returning: result) }
                return nil
            }
            return (async, try callback.get().map { String(decoding: $0, as: UTF8.self) })
        }
        XCTAssertEqual(async, "hello")
        XCTAssertEqual(callback, "hello")
    }

    /// A body is decoded as it is read, a bounded piece at a time, and without a total cap: one
    /// encoded piece that expands a thousandfold is not decoded whole into memory (each read
    /// returns at most 256 KiB, plus less than one 32 KiB pass of zlib's output), and a body that
    /// decodes to more than `Inflater.defaultMaxOutput` (64 MiB) is read to its end, as a
    /// transfer-coded one is (the buffering helpers apply `bodyLimit`), in both forms of
    /// `getNextChunk`.
    func testALargeBodyIsDecodedInBoundedPiecesWithoutATotalCap() throws {
        let decodedSize = Inflater.defaultMaxOutput + (1 << 20)
        let deflater = Deflater(format: .gzip, level: 1)
        var encoded: [UInt8] = []
        let mebibyte = [UInt8](repeating: 0x61, count: 1 << 20)
        let pieces = decodedSize >> 20
        for i in 0..<pieces {
            try deflater.process(mebibyte, final: i == pieces - 1, flush: false, into: &encoded)
        }
        XCTAssertLessThan(encoded.count, 1 << 20)

        for form in ["async", "callback"] {
            let base = try ScriptedStream(chunks: [encoded])
            let decoded = DecodedStream(base, coding: "gzip")
            let outcome = try base.reactor.run(timeout: 60) {
                var total = 0
                var largest = 0
                do {
                    while true {
                        let chunk: [UInt8]?
                        if form == "async" {
                            chunk = try await decoded.getNextChunk(timeout: 1)
                        } else {
                            let result: Result<[UInt8]?, any Error> = try await base.reactor.suspend("callback") {
                                suspension in
                                decoded.getNextChunk(timeout: 1) { suspension.resume(returning: $0) }
                                return nil
                            }
                            chunk = try result.get()
                        }
                        guard let chunk else { break }
                        total += chunk.count
                        largest = max(largest, chunk.count)
                    }
                    return "\(total) octets, the largest read \(largest)"
                } catch {
                    return "threw \(error) after \(total) octets, the largest read \(largest)"
                }
            }
            XCTAssertTrue(outcome.hasPrefix("\(decodedSize) octets"), "\(form): \(outcome)")
            let largest = Int(outcome.split(separator: " ").last ?? "") ?? .max
            XCTAssertLessThan(largest, 256 * 1024 + 32 * 1024, "\(form): \(outcome)")
        }
    }

    /// A body that is not what its `content-encoding` says fails the read with `.coding`, whose
    /// message does not call a content coding a transfer coding.
    func testAnUndecodableBodyFailsWithACodingError() throws {
        let base = try ScriptedStream(chunks: [Array("not gzip at all".utf8)])
        let decoded = DecodedStream(base, coding: "gzip")
        let failure = try base.reactor.run(timeout: 5) { () -> HTTPStreamError? in
            do {
                while try await decoded.getNextChunk(timeout: 1) != nil {}
                return nil
            } catch {
                return error as? HTTPStreamError
            }
        }
        guard case .coding(let error)? = failure else { return XCTFail("read: \(String(describing: failure))") }
        XCTAssertEqual(failure?.description, "body coding: \(error)")
    }
}

/// A stream whose body is the given encoded pieces, then its end.
private final class ScriptedStream: ReadOnlyTestStream, @unchecked Sendable {
    let reactor: Reactor
    private var chunks: [[UInt8]]

    init(chunks: [[UInt8]]) throws {
        reactor = try Reactor()
        self.chunks = chunks
    }

    func getNextChunk(timeout: Double?) async throws -> [UInt8]? { chunks.isEmpty ? nil : chunks.removeFirst() }
    func getNextChunk(timeout: Double?, _ completion: @escaping (Result<[UInt8]?, any Error>) -> Void) {
        completion(.success(chunks.isEmpty ? nil : chunks.removeFirst()))
    }
    func unget(_ bytes: [UInt8]) { chunks.insert(bytes, at: 0) }

    func shutdown() {}
    func shutdown(after error: any Error) {}
    func getHeaders(timeout: Double?) async throws -> Headers? { nil }
    func getHeaders(timeout: Double?, _ completion: @escaping (Result<Headers?, any Error>) -> Void) {
        completion(.success(nil))
    }
}

/// A stream that records how it is shut down; nothing else is used.
private final class RecordingStream: ReadOnlyTestStream, @unchecked Sendable {
    let reactor: Reactor
    var shutdowns: [String] = []

    init() throws { reactor = try Reactor() }

    func shutdown() { shutdowns.append("plain") }
    func shutdown(after error: any Error) { shutdowns.append("after \(error)") }

    func getHeaders(timeout: Double?) async throws -> Headers? { nil }
    func getNextChunk(timeout: Double?) async throws -> [UInt8]? { nil }
    func getHeaders(timeout: Double?, _ completion: @escaping (Result<Headers?, any Error>) -> Void) {
        completion(.success(nil))
    }
    func getNextChunk(timeout: Double?, _ completion: @escaping (Result<[UInt8]?, any Error>) -> Void) {
        completion(.success(nil))
    }
    func unget(_ bytes: [UInt8]) {}
}

/// The parts of `HTTPStream` the test streams above never use: writes do nothing, and there is
/// no socket to describe.
private protocol ReadOnlyTestStream: HTTPStream {}

extension ReadOnlyTestStream {
    func writeHeaders(_ headers: Headers, endStream: Bool) throws {}
    func writeHeaders(_ headers: Headers, endStream: Bool, timeout: Double?) async throws {}
    func writeChunk(_ bytes: UnsafeRawBufferPointer, endStream: Bool) throws {}
    func writeChunk(_ bytes: [UInt8], endStream: Bool, timeout: Double?) async throws {}
    func checkTLS() -> TLSInfo? { nil }
    func localname() -> SocketName { fatalError("not used") }
    func peername() -> SocketName { fatalError("not used") }
}
