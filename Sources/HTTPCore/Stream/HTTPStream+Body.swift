import Glibc
import Reactor

/// lua-http's body helpers, on every stream. Each takes one `timeout` that is a deadline across
/// all the reads it makes. Each read gets the time left, 0 once the deadline passed
/// (`Deadline.remainingOrZero`), as lua-http passes `deadline - monotime()` to `get_next_chunk`:
/// what is already queued is handed over whatever the time, so a helper times out only when it
/// has to wait for the peer.
///
/// A helper that throws — a timeout, a failed read, `bodyTooLarge` — first puts back (`unget`)
/// every octet it had read, so the next read starts where the helper started: a caller may retry
/// after a timeout, or read a body over the limit another way (`saveBody`), and nothing is lost
/// in between. (lua-http drops them.) The octets are those the helper held anyway; put back,
/// they count as the stream's queued body, which pauses reading from the peer while it is over
/// the connection's `maxBufferedBody`.
///
/// A helper that buffers the rest of the body (`getBodyAsBytes`, `getBodyAsString`) refuses it
/// before reading any of it when its declared length left is over the limit (see
/// `refuseDeclaredBodyOver`): no octet is read, and a server sends no `100 Continue` for it.
extension HTTPStream {
    /// The limit of the buffering helpers when neither the call nor the stream sets one: 64 MiB.
    public static var defaultBodyLimit: Int { 64 << 20 }

    /// The rest of the body as bytes; throws `HTTPStreamError.bodyTooLarge` past `limit` octets
    /// (nil: the stream's `bodyLimit`), counted from where this call starts: at once, before
    /// reading, when the declared length left (`declaredBodyLengthLeft`) is over `limit`, else
    /// once more than `limit` octets came (a chunked body). A server handler that lets that error
    /// end it answers 413 (`shutdown(after:)`). Throwing, it puts back what it read.
    public func getBodyAsBytes(limit: Int? = nil, timeout: Double? = nil) async throws -> [UInt8] {
        let limit = limit ?? bodyLimit
        try refuseDeclaredBodyOver(limit)
        let deadline = Deadline(timeout)
        var body: [UInt8] = []
        do {
            while let chunk = try await getNextChunk(timeout: deadline.remainingOrZero) {
                guard chunk.count <= limit - body.count else {
                    unget(chunk)
                    throw HTTPStreamError.bodyTooLarge(limit: limit)
                }
                if body.isEmpty { body = chunk } else { body.append(contentsOf: chunk) }
            }
        } catch {
            putBack(body)
            throw error
        }
        return body
    }

    /// Throws `bodyTooLarge` when what is left of a body of declared length (its `content-length`,
    /// less the octets the reader took, plus those it put back: `declaredBodyLengthLeft`) is over
    /// `limit`: reading to the end would collect exactly that many octets, so the limit would be
    /// passed; refused now, none is read and none invited. RFC 9110 §10.1.1: a server "MAY omit
    /// sending a 100 (Continue) response if it has already received some or all of the content";
    /// the expectation lets it answer 413 (§15.5.14) before the content travels. A body of
    /// unknown length (chunked, close-delimited, decoded on the way) passes: its octets are
    /// counted as they come.
    private func refuseDeclaredBodyOver(_ limit: Int) throws(HTTPStreamError) {
        if let left = declaredBodyLengthLeft, left > UInt64(Swift.max(0, limit)) {
            throw .bodyTooLarge(limit: limit)
        }
    }

    /// `unget`s what a helper read before it throws (nothing when it read nothing).
    private func putBack(_ collected: [UInt8]) {
        if !collected.isEmpty { unget(collected) }
    }

    /// The rest of the body decoded as UTF-8 (invalid sequences become U+FFFD); its limit as
    /// `getBodyAsBytes`'s, in octets before decoding.
    public func getBodyAsString(limit: Int? = nil, timeout: Double? = nil) async throws -> String {
        String(decoding: try await getBodyAsBytes(limit: limit, timeout: timeout), as: UTF8.self)
    }

    /// Callback form of `getBodyAsString`: a declared length left over the limit fails it at once
    /// (`completion` runs before this returns).
    public func getBodyAsString(
        limit: Int? = nil, timeout: Double? = nil,
        _ completion: @escaping (Result<String, any Error>) -> Void
    ) {
        let limit = limit ?? bodyLimit
        do {
            try refuseDeclaredBodyOver(limit)
        } catch {
            completion(.failure(error))
            return
        }
        collectBody(BodyAccumulator(), limit: limit, deadline: Deadline(timeout)) { result in
            completion(result.map { String(decoding: $0, as: UTF8.self) })
        }
    }

    /// One buffer grown in place across the callbacks (not a new array per chunk).
    private func collectBody(
        _ collected: BodyAccumulator, limit: Int, deadline: Deadline,
        _ completion: @escaping (Result<[UInt8], any Error>) -> Void
    ) {
        getNextChunk(timeout: deadline.remainingOrZero) { result in
            switch result {
            case .failure(let error):
                self.putBack(collected.bytes)
                completion(.failure(error))
            case .success(nil): completion(.success(collected.bytes))
            case .success(let chunk?):
                guard chunk.count <= limit - collected.bytes.count else {
                    self.unget(chunk)
                    self.putBack(collected.bytes)
                    completion(.failure(HTTPStreamError.bodyTooLarge(limit: limit)))
                    return
                }
                collected.bytes.append(contentsOf: chunk)
                self.collectBody(collected, limit: limit, deadline: deadline, completion)
            }
        }
    }

    /// The next `count` octets of the body (fewer at its end; nil when it has ended). The surplus
    /// of the last chunk read is put back (`unget`), and so is everything read when it throws.
    public func getBodyChars(_ count: Int, timeout: Double? = nil) async throws -> [UInt8]? {
        precondition(count >= 0, "getBodyChars: count must not be negative")
        let deadline = Deadline(timeout)
        var collected: [UInt8] = []
        do {
            while collected.count < count {
                guard var chunk = try await getNextChunk(timeout: deadline.remainingOrZero) else {
                    return collected.isEmpty && count > 0 ? nil : collected
                }
                let wanted = count - collected.count
                if chunk.count > wanted {
                    unget(Array(chunk[wanted...]))
                    chunk.removeSubrange(wanted...)
                }
                collected.append(contentsOf: chunk)
            }
        } catch {
            putBack(collected)
            throw error
        }
        return collected
    }

    /// The body up to the first `delimiter` (with it when `includeDelimiter`); what follows is
    /// put back. At the end of the body: the rest, or nil when nothing is left. Throws
    /// `bodyTooLarge` when `limit` octets (nil: the stream's `bodyLimit`) pass without the
    /// delimiter: when more than `limit` octets come before it, or before the end of a body
    /// without it, however the body is cut into pieces (and as soon as that is certain). A declared
    /// length over `limit` is not refused up front: the delimiter may come within it. Throwing,
    /// it puts back what it read.
    public func getBodyUntil(
        _ delimiter: [UInt8], includeDelimiter: Bool = false, limit: Int? = nil,
        timeout: Double? = nil
    ) async throws -> [UInt8]? {
        precondition(!delimiter.isEmpty, "getBodyUntil: the delimiter must not be empty")
        let limit = limit ?? bodyLimit
        let deadline = Deadline(timeout)
        var collected: [UInt8] = []
        var searchFrom = 0
        do {
            while true {
                if let found = Self.firstRange(of: delimiter, in: collected, from: searchFrom) {
                    guard found.lowerBound <= limit else { throw HTTPStreamError.bodyTooLarge(limit: limit) }
                    let rest = Array(collected[found.upperBound...])
                    if !rest.isEmpty { unget(rest) }
                    return Array(collected[..<(includeDelimiter ? found.upperBound : found.lowerBound)])
                }
                // A delimiter still to come starts at `searchFrom` or later (its first octets may
                // end `collected`): past `limit`, the limit is certain to be exceeded.
                searchFrom = Swift.max(0, collected.count - delimiter.count + 1)
                guard searchFrom <= limit else { throw HTTPStreamError.bodyTooLarge(limit: limit) }
                guard let chunk = try await getNextChunk(timeout: deadline.remainingOrZero) else {
                    guard collected.count <= limit else { throw HTTPStreamError.bodyTooLarge(limit: limit) }
                    return collected.isEmpty ? nil : collected
                }
                collected.append(contentsOf: chunk)
            }
        } catch {
            putBack(collected)
            throw error
        }
    }

    static func firstRange(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Range<Int>? {
        guard haystack.count >= needle.count else { return nil }
        var index = start
        while index + needle.count <= haystack.count {
            if haystack[index] == needle[0] && haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return index..<(index + needle.count)
            }
            index += 1
        }
        return nil
    }

    /// Writes the rest of the body to `fd` (from its current offset); returns the octets written.
    /// The writes run on the reactor's blocking-work threads (`Reactor.startBlocking`), each
    /// chunk's while the next one is received, through a descriptor of their own: `fd` may be
    /// closed as soon as this returns or throws.
    ///
    /// Nothing is written to the file once this returned or threw: when it fails (a timeout, the
    /// peer gone, a cancellation) while a chunk's write is under way, it waits for that write to
    /// end before it throws, past `timeout` if need be (one chunk, as long as the file takes).
    /// A write that ended later would land wherever the file's offset, which `fd` shares, was
    /// by then, among what the caller wrote next.
    @discardableResult
    public func saveBody(to fd: Int32, timeout: Double? = nil) async throws -> UInt64 {
        let deadline = Deadline(timeout)
        let sink = try BodyFile(duplicating: fd)
        var total: UInt64 = 0
        var writing: BlockingJob<Void>? = nil
        do {
            while let chunk = try await getNextChunk(timeout: deadline.remainingOrZero) {
                try await writing?.value(timeout: deadline.remainingOrZero)
                writing = reactor.startBlocking("writing the body to fd \(fd)") {
                    try BodyFile.writeAll(chunk, to: sink.fd)
                }
                total += UInt64(chunk.count)
            }
            try await writing?.value(timeout: deadline.remainingOrZero)
        } catch {
            await writing?.waitUntilFinished()
            throw error
        }
        return total
    }

    /// Writes the rest of the body to the file at `path` (created or truncated, mode 0644).
    @discardableResult
    public func saveBody(toPath path: String, timeout: Double? = nil) async throws -> UInt64 {
        let deadline = Deadline(timeout)
        let file = try await reactor.runBlocking("opening \(path)", timeout: deadline.remaining("saveBody")) {
            try BodyFile(creating: path)
        }
        return try await saveBody(to: file.fd, timeout: deadline.remainingOrZero)
    }

    /// The rest of the body in an anonymous temporary file, rewound to its start.
    public func getBodyAsFile(timeout: Double? = nil) async throws -> BodyFile {
        let deadline = Deadline(timeout)
        let file = try await reactor.runBlocking(
            "creating a temporary file", timeout: deadline.remaining("getBodyAsFile"), BodyFile.temporary)
        try await saveBody(to: file.fd, timeout: deadline.remainingOrZero)
        guard lseek(file.fd, 0, SEEK_SET) == 0 else { throw SystemError("lseek") }
        return file
    }

    /// The body as an `AsyncSequence` of chunks; `timeout` applies to each read.
    public func chunks(timeout: Double? = nil) -> HTTPBodyChunks {
        HTTPBodyChunks(stream: self, timeout: timeout)
    }

    /// Writes `string` as the whole (rest of the) body and ends the stream.
    public func writeBody(_ string: String, timeout: Double? = nil) async throws {
        try await writeChunk(Array(string.utf8), endStream: true, timeout: timeout)
    }

    /// Writes `count` octets (or everything to EOF when nil) read from `fd`'s current offset, and
    /// ends the stream. Throws if the file ends before `count` octets. The reads run on the
    /// reactor's blocking-work threads (`Reactor.startBlocking`), each chunk's while the one
    /// before is sent, through a descriptor of their own: `fd` may be closed as soon as this
    /// returns or throws.
    public func writeBody(fromFile fd: Int32, count: UInt64? = nil, timeout: Double? = nil) async throws {
        let deadline = Deadline(timeout)
        let source = try BodyFile(duplicating: fd)
        var left = count ?? UInt64.max
        func startReading() -> BlockingJob<[UInt8]> {
            let want = Int(Swift.min(UInt64(BodyFile.readChunkSize), left))
            return reactor.startBlocking("reading the body from fd \(fd)") { try source.read(upTo: want) }
        }
        var reading = left > 0 ? startReading() : nil
        while let job = reading {
            let chunk = try await job.value(timeout: deadline.remaining("writeBody"))
            if chunk.isEmpty {
                guard count == nil else {
                    throw HTTPStreamError.invalidState("file ended \(left) octets before the count given")
                }
                break
            }
            left -= UInt64(chunk.count)
            reading = left > 0 ? startReading() : nil
            try await writeChunk(chunk, endStream: reading == nil, timeout: deadline.remaining("writeBody"))
            if reading == nil { return }
        }
        try await writeChunk([], endStream: true, timeout: deadline.remaining("writeBody"))
    }
}

/// The body collected so far by the callback form of `getBodyAsString`.
private final class BodyAccumulator {
    var bytes: [UInt8] = []
}

/// The chunks of a body, for `for try await chunk in stream.chunks()`.
public struct HTTPBodyChunks: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    let stream: any HTTPStream
    let timeout: Double?

    public struct AsyncIterator: AsyncIteratorProtocol {
        let stream: any HTTPStream
        let timeout: Double?
        public mutating func next() async throws -> [UInt8]? {
            try await stream.getNextChunk(timeout: timeout)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(stream: stream, timeout: timeout)
    }
}
