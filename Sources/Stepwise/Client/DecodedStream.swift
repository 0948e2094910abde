public import HTTPCore
public import Reactor

/// A response stream whose body arrives with a gzip or deflate `content-encoding` (RFC 9110
/// §8.4.1): reads return the decoded octets; everything else goes to the wrapped stream.
/// `Request.go()` returns one when it decodes.
///
/// The body is decoded as it is read, at most `maxDecodedChunk` octets a read (plus less than one
/// 32 KiB pass of zlib's output): a few KiB of deflate can stand for gigabytes, so an encoded
/// piece is not decoded whole; what it has left waits, encoded, for the next read. There is no
/// cap on the decoded total (a download may be large), as for a transfer-coded body: the
/// buffering helpers apply `bodyLimit` to the decoded octets.
public final class DecodedStream: HTTPStream, @unchecked Sendable {
    /// The stream the encoded body is read from.
    public let base: any HTTPStream
    /// The most decoded octets one read produces (256 KiB, plus less than 32 KiB).
    public static let maxDecodedChunk = 256 * 1024
    private let inflater: Inflater
    private var pending: [UInt8] = []
    /// Encoded octets read from `base` and not decoded yet, from `backlogStart`.
    private var backlog: [UInt8] = []
    private var backlogStart = 0
    /// `base` returned the end of the body.
    private var inputEnded = false
    private var finished = false

    /// - Parameter coding: `gzip` (or `x-gzip`) or `deflate`.
    public init(_ base: any HTTPStream, coding: String) {
        self.base = base
        inflater = Inflater(format: coding == "deflate" ? .deflate : .gzip, maxOutput: .max)
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
            if hasWork {
                try decode()
            } else {
                receive(try await base.getNextChunk(timeout: deadline.remainingOrZero))
            }
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
        if hasWork {
            do {
                try decode()
            } catch {
                return completion(.failure(error))
            }
            return nextChunk(deadline, completion)
        }
        base.getNextChunk(timeout: deadline.remainingOrZero) { result in
            do {
                self.receive(try result.get())
                self.nextChunk(deadline, completion)
            } catch {
                completion(.failure(error))
            }
        }
    }

    public func unget(_ bytes: [UInt8]) { pending = bytes + pending }

    /// Queues what `base` returned: encoded octets, or (nil) the end of the body.
    private func receive(_ encoded: [UInt8]?) {
        guard let encoded else {
            inputEnded = true
            // An empty body (a 204 or a HEAD-like answer) has nothing to decode.
            if inflater.totalInput == 0 && backlogStart == backlog.count { finished = true }
            return
        }
        if backlogStart == backlog.count {
            backlog = encoded
            backlogStart = 0
        } else {
            backlog.append(contentsOf: encoded)
        }
    }

    /// Whether queued octets or the end of the body wait to be decoded.
    private var hasWork: Bool { !finished && (backlogStart < backlog.count || inputEnded) }

    /// Inflates queued octets into `pending`, up to `maxDecodedChunk` of output; the end of the
    /// body once everything before it was decoded.
    private func decode() throws {
        let consumed: Int
        do {
            consumed = try backlog.withUnsafeBytes { bytes in
                try inflater.process(
                    UnsafeRawBufferPointer(rebasing: bytes[backlogStart...]), final: inputEnded, into: &pending,
                    outputLimit: Self.maxDecodedChunk)
            }
        } catch let error as ContentCodingError {
            throw HTTPStreamError.coding(error)
        }
        backlogStart += consumed
        if backlogStart == backlog.count {
            backlog = []
            backlogStart = 0
            if inputEnded { finished = true }
        }
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
    /// nil, not the wrapped stream's: its `content-length` counts the encoded octets, and no
    /// field says how many the decoding gives.
    public var declaredBodyLength: UInt64? { nil }
    public var declaredBodyLengthLeft: UInt64? { nil }
    public func checkTLS() -> TLSInfo? { base.checkTLS() }
    public func localname() -> SocketName { base.localname() }
    public func peername() -> SocketName { base.peername() }
}
