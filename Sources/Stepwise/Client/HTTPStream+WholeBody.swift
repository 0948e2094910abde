import HTTPCore

extension HTTPStream {
    /// The whole body of a response whose head was just read, as `fetch` and
    /// `HTTPConnection.response` buffer it: `getBodyAsBytes(limit:timeout:)` (`bodyTooLarge` past
    /// `limit` octets, counted as the caller gets them, so decoded; nil: the stream's `bodyLimit`),
    /// except that a body whose declared length (`declaredBodyLength`) is over `limit` fails at
    /// once, before any of it is read, rather than after `limit` octets came to be dropped.
    func getWholeBody(limit: Int?, timeout: Double?) async throws -> [UInt8] {
        let limit = limit ?? bodyLimit
        if let declared = declaredBodyLength, declared > UInt64(max(0, limit)) {
            throw HTTPStreamError.bodyTooLarge(limit: limit)
        }
        return try await getBodyAsBytes(limit: limit, timeout: timeout)
    }
}
