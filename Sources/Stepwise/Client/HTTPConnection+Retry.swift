import HTTPCore
import Logging

// Sending the last request again on a fresh connection when the reused one turns out stale: the
// rule `Request.go` follows with a pooled connection (`StaleConnection`; docs/client.md). With
// `request` and `response` separate calls, the request is kept until its response was read,
// since the staleness often shows only there (the server's reset or end comes after the request
// went).

extension HTTPConnection {
    /// A request as `request(...)` was given it, kept until its response was read.
    struct SentRequest {
        var method: String
        var path: String
        var headers: [(String, String)]
        var body: [UInt8]?
        var expectContinue: Bool
        var bodyStream: (() throws -> [UInt8]?)?
        var bodyLength: UInt64?
        /// It went on a connection that had served an exchange before.
        var reused = false
        /// This is its attempt on a fresh connection, after a stale one.
        var retried = false
        /// `bodyStream` was called: what it produced is gone, and a retry would send less.
        var bodyStreamStarted = false
        /// A response head (interim or final) arrived: the server was there to answer, so the
        /// connection was not stale (`StaleConnection.wasStale`).
        var responseStarted = false
        /// This is the repeat after a `417 Expectation Failed`: it goes without the
        /// `100-continue` expectation (`withoutExpectation`).
        var expectationFailed = false

        /// Whether it may be sent again should its connection turn out stale:
        /// `StaleConnection.mayRetry` (reused, idempotent, once), and a body that can go again
        /// (none, bytes, or a producer not called yet).
        var mayBeSentAgain: Bool {
            StaleConnection.mayRetry(method: method, reused: reused, retried: retried) && !bodyStreamStarted
        }

        /// The same request, for its attempt on a fresh connection.
        var again: SentRequest {
            var copy = self
            copy.retried = true
            copy.reused = false
            copy.responseStarted = false
            return copy
        }

        /// The same request without the `100-continue` expectation, and so without the wait:
        /// its repeat after a 417 to it.
        var withoutExpectation: SentRequest {
            var copy = self
            copy.expectContinue = false
            copy.expectationFailed = true
            copy.responseStarted = false
            return copy
        }
    }

    /// Sends `request` on the open connection (opening one if needed), and once more on a fresh
    /// connection when the reused one turns out stale while the request goes (a write into a
    /// closed socket, the end or a reset while waiting for `100 Continue`) and it may go again;
    /// or when a `417 Expectation Failed` answered its `100-continue` expectation before the body
    /// went, without the expectation (`ContinueWait.isExpectationFailed`).
    func start(_ request: SentRequest) async throws {
        var request = request
        while true {
            sent = nil
            do {
                let (connection, stream) = try await newStream()
                request.reused = connectionServed
                sent = request
                switch try await send(request, on: connection, stream: stream) {
                case .sent:
                    return
                case .expectationFailed:
                    // The 417's body is not read: the connection, shut down by the wait, ends
                    // here, and the repeat opens a new one. It has no expectation, so no wait
                    // and no second 417 before its body.
                    logger.debug(
                        "417 to the 100-continue expectation of \(request.method) \(request.path) from \(host):\(port): repeating without it"
                    )
                    close()
                    request = request.withoutExpectation
                }
            } catch {
                // The request is cut short: the connection cannot carry another (the server could
                // not find where it ends), nor its response be read. The next request opens a new
                // one.
                let failed = sent
                close()
                request = try again(failed, after: error)
            }
        }
    }

    /// `failed`, to be sent once more on a fresh connection, when `error` says its reused
    /// connection was stale (the end or a reset before any response head, interim or final:
    /// `StaleConnection.wasStale`) and it may go again; else throws `error`.
    func again(_ failed: SentRequest?, after error: any Error) throws -> SentRequest {
        guard let failed, failed.mayBeSentAgain,
            StaleConnection.wasStale(failingWith: error, responseHeadArrived: failed.responseStarted)
        else {
            throw error
        }
        logger.debug(
            "a reused connection to \(host):\(port) was stale (\(error)): sending \(failed.method) \(failed.path) again on a fresh one"
        )
        return failed.again
    }

    /// `timedOut`, answered with a 408 that ends its reused connection
    /// (`StaleConnection.isTimeoutOfAnIdleConnection`), to be sent once more on a fresh one.
    func again(afterTimeoutOf timedOut: SentRequest) -> SentRequest {
        logger.debug(
            "a reused connection to \(host):\(port) had timed out (408 and closing): sending \(timedOut.method) \(timedOut.path) again on a fresh one"
        )
        return timedOut.again
    }
}
