import Reactor

/// The callback tier of the body helpers that have no callback form of their own (see
/// `getBodyAsString(limit:timeout:_:)` for one that has): each runs its async form as a task on
/// the stream's reactor and calls `completion` there, on the reactor's thread, with the result.
/// Call them on the reactor's thread (a callback handler, a timer), like every callback-tier call.
extension HTTPStream {
    /// Callback form of `getBodyAsBytes(limit:timeout:)`.
    public func getBodyAsBytes(
        limit: Int? = nil, timeout: Double? = nil, _ completion: @escaping (Result<[UInt8], any Error>) -> Void
    ) {
        callingBack(completion) { try await self.getBodyAsBytes(limit: limit, timeout: timeout) }
    }

    /// Callback form of `getBodyChars(_:timeout:)`.
    public func getBodyChars(
        _ count: Int, timeout: Double? = nil, _ completion: @escaping (Result<[UInt8]?, any Error>) -> Void
    ) {
        callingBack(completion) { try await self.getBodyChars(count, timeout: timeout) }
    }

    /// Callback form of `getBodyUntil(_:includeDelimiter:limit:timeout:)`.
    public func getBodyUntil(
        _ delimiter: [UInt8], includeDelimiter: Bool = false, limit: Int? = nil, timeout: Double? = nil,
        _ completion: @escaping (Result<[UInt8]?, any Error>) -> Void
    ) {
        callingBack(completion) {
            try await self.getBodyUntil(delimiter, includeDelimiter: includeDelimiter, limit: limit, timeout: timeout)
        }
    }

    /// Callback form of `saveBody(to:timeout:)`.
    public func saveBody(
        to fd: Int32, timeout: Double? = nil, _ completion: @escaping (Result<UInt64, any Error>) -> Void
    ) {
        callingBack(completion) { try await self.saveBody(to: fd, timeout: timeout) }
    }

    /// Callback form of `saveBody(toPath:timeout:)`.
    public func saveBody(
        toPath path: String, timeout: Double? = nil, _ completion: @escaping (Result<UInt64, any Error>) -> Void
    ) {
        callingBack(completion) { try await self.saveBody(toPath: path, timeout: timeout) }
    }

    /// Callback form of `getBodyAsFile(timeout:)`.
    public func getBodyAsFile(timeout: Double? = nil, _ completion: @escaping (Result<BodyFile, any Error>) -> Void) {
        callingBack(completion) { try await self.getBodyAsFile(timeout: timeout) }
    }

    /// Callback form of `writeBody(_:timeout:)`: `completion` runs once the body is queued within
    /// the connection's high-water mark.
    public func writeBody(
        _ string: String, timeout: Double? = nil, _ completion: @escaping (Result<Void, any Error>) -> Void
    ) {
        callingBack(completion) { try await self.writeBody(string, timeout: timeout) }
    }

    /// Callback form of `writeBody(fromFile:count:timeout:)`.
    public func writeBody(
        fromFile fd: Int32, count: UInt64? = nil, timeout: Double? = nil,
        _ completion: @escaping (Result<Void, any Error>) -> Void
    ) {
        callingBack(completion) { try await self.writeBody(fromFile: fd, count: count, timeout: timeout) }
    }

    /// Callback form of `writeBody(fromPath:offset:count:timeout:)`.
    public func writeBody(
        fromPath path: String, offset: UInt64 = 0, count: UInt64? = nil, timeout: Double? = nil,
        _ completion: @escaping (Result<Void, any Error>) -> Void
    ) {
        callingBack(completion) {
            try await self.writeBody(fromPath: path, offset: offset, count: count, timeout: timeout)
        }
    }

    /// Callback form of `writeBody(from:offset:count:timeout:)`.
    public func writeBody(
        from file: BodyFile, offset: UInt64 = 0, count: UInt64? = nil, timeout: Double? = nil,
        _ completion: @escaping (Result<Void, any Error>) -> Void
    ) {
        callingBack(completion) { try await self.writeBody(from: file, offset: offset, count: count, timeout: timeout) }
    }

    /// Callback form of `writeChunk(fromFile:offset:count:endStream:timeout:)`.
    public func writeChunk(
        fromFile file: BodyFile, offset: UInt64, count: UInt64, endStream: Bool, timeout: Double? = nil,
        _ completion: @escaping (Result<Void, any Error>) -> Void
    ) {
        callingBack(completion) {
            try await self.writeChunk(
                fromFile: file, offset: offset, count: count, endStream: endStream, timeout: timeout)
        }
    }

    /// Runs `body` as a task on the reactor and hands its outcome to `completion` there.
    private func callingBack<T>(
        _ completion: @escaping (Result<T, any Error>) -> Void, _ body: @escaping () async throws -> T
    ) {
        // Both closures stay on the reactor's thread: the task runs there.
        nonisolated(unsafe) let completion = completion
        nonisolated(unsafe) let body = body
        spawnHelperTask {
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            completion(result)
        }
    }
}
