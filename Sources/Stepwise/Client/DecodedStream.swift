public import HTTPCore
public import Reactor

/// A response stream whose body arrives with a gzip or deflate `content-encoding` (RFC 9110
/// §8.4.1): reads return the decoded octets; everything else goes to the wrapped stream.
/// `Request.go()` returns one when it decodes.
public final class DecodedStream: HTTPStream, @unchecked Sendable {
    /// The stream the encoded body is read from.
    public let base: any HTTPStream
    private let inflater: Inflater
    private var pending: [UInt8] = []
    private var finished = false

    /// - Parameter coding: `gzip` (or `x-gzip`) or `deflate`.
    public init(_ base: any HTTPStream, coding: String) {
        self.base = base
        inflater = Inflater(format: coding == "deflate" ? .deflate : .gzip)
    }

    public var reactor: Reactor { base.reactor }

    public func getHeaders(timeout: Double?) async throws -> Headers? { try await base.getHeaders(timeout: timeout) }

    public func getHeaders(timeout: Double?, _ completion: @escaping (Result<Headers?, any Error>) -> Void) {
        base.getHeaders(timeout: timeout, completion)
    }

    public func getNextChunk(timeout: Double?) async throws -> [UInt8]? {
        let deadline = Deadline(timeout)
        while true {
            if let ready = takePending() { return ready }
            if finished { return nil }
            try decode(try await base.getNextChunk(timeout: deadline.remainingOrZero))
        }
    }

    /// Like the async form, one deadline over the encoded pieces it reads (pieces that decode to
    /// nothing, a gzip header trickled in, do not restart the timeout).
    public func getNextChunk(timeout: Double?, _ completion: @escaping (Result<[UInt8]?, any Error>) -> Void) {
        nextChunk(Deadline(timeout), completion)
    }

    private func nextChunk(_ deadline: Deadline, _ completion: @escaping (Result<[UInt8]?, any Error>) -> Void) {
        if let ready = takePending() { return completion(.success(ready)) }
        if finished { return completion(.success(nil)) }
        base.getNextChunk(timeout: deadline.remainingOrZero) { result in
            do {
                try self.decode(try result.get())
                self.nextChunk(deadline, completion)
            } catch {
                completion(.failure(error))
            }
        }
    }

    public func unget(_ bytes: [UInt8]) { pending = bytes + pending }

    /// Inflates `encoded` (nil: the end of the body) into `pending`.
    private func decode(_ encoded: [UInt8]?) throws {
        if encoded == nil && inflater.totalInput == 0 {
            // An empty body (a 204 or a HEAD-like answer) has nothing to decode.
            finished = true
            return
        }
        do {
            try inflater.process(encoded ?? [], final: encoded == nil, into: &pending)
        } catch let error as ContentCodingError {
            throw HTTPStreamError.coding(error)
        }
        if encoded == nil { finished = true }
    }

    private func takePending() -> [UInt8]? {
        guard !pending.isEmpty else { return nil }
        defer { pending = [] }
        return pending
    }

    public func writeHeaders(_ headers: Headers, endStream: Bool) throws {
        try base.writeHeaders(headers, endStream: endStream)
    }

    public func writeHeaders(_ headers: Headers, endStream: Bool, timeout: Double?) async throws {
        try await base.writeHeaders(headers, endStream: endStream, timeout: timeout)
    }

    public func writeChunk(_ bytes: UnsafeRawBufferPointer, endStream: Bool) throws {
        try base.writeChunk(bytes, endStream: endStream)
    }

    public func writeChunk(_ bytes: [UInt8], endStream: Bool, timeout: Double?) async throws {
        try await base.writeChunk(bytes, endStream: endStream, timeout: timeout)
    }

    public func shutdown() { base.shutdown() }
    /// The wrapped stream's: a server stream answers with the status `error` calls for.
    public func shutdown(after error: any Error) { base.shutdown(after: error) }
    /// The wrapped stream's (an HTTP/1 stream: its connection's `bodyLimit`), a limit on the
    /// decoded octets the buffering helpers collect.
    public var bodyLimit: Int { base.bodyLimit }
    public func checkTLS() -> TLSInfo? { base.checkTLS() }
    public func localname() -> SocketName { base.localname() }
    public func peername() -> SocketName { base.peername() }
}
