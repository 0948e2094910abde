import Glibc
import HTTPCore
import Reactor

// Sending a request again on a fresh connection when a reused one turns out stale.

extension Request {
    /// One exchange, retried once on a fresh connection when a reused one turns out stale; also
    /// says whether the body (if any) went out.
    ///
    /// Stale means: the server closed or reset the connection before any response head arrived
    /// (an interim `1xx` one, `100 Continue` included, shows it was not stale), or
    /// answered `408 Request Timeout` and ended the connection. `StaleConnection` has the rule
    /// (shared with `HTTPConnection`): only a reused connection, only an idempotent method, only
    /// once; and here only a body not sent yet or one that can be sent again (`canSendAgain`).
    ///
    /// Also repeats the request once without its `100-continue` expectation when a `417
    /// Expectation Failed` answered it before the body went (`ContinueWait.isExpectationFailed`),
    /// on another connection (the pool's, with one), with the body.
    func sendWithRetry(on reactor: Reactor, deadline: Deadline) async throws
        -> (Headers, any HTTPStream, bodySent: Bool)
    {
        let method = headers.first(":method") ?? "GET"
        var fresh = false
        // This request, or once a 417 refused its expectation, the same without it.
        var attempt = self
        while true {
            let (connection, reused) = try await connect(on: reactor, fresh: fresh, deadline: deadline)
            let mayRetry = StaleConnection.mayRetry(method: method, reused: reused, retried: fresh)
            var responseStarted = false
            var bodyStarted = false
            let headers: Headers
            let stream: any HTTPStream
            do {
                (headers, stream) = try await attempt.exchange(
                    on: connection, deadline: deadline, responseStarted: &responseStarted, bodyStarted: &bodyStarted)
            } catch {
                // A failed exchange leaves the connection mid-message: close it, or it stays open
                // (and counted by the pool, never idle again) for good.
                connection.close()
                let retries =
                    mayRetry && StaleConnection.wasStale(failingWith: error, responseHeadArrived: responseStarted)
                // A body read once cannot always be read again: a retry would send less of it.
                if retries, bodyStarted, let body, await !Request.canSendAgain(body, on: reactor) {
                    throw error
                }
                if retries {
                    logger.debug("a reused connection to \(host):\(port) was stale (\(error)): retrying on a fresh one")
                    fresh = true
                    continue
                }
                throw error
            }
            // A body that did not start in an exchange that returned was answered first
            // (`exchange`): the body is still whole, whatever its kind (a producer not called, a
            // file or pipe not opened), so it can go with the repeat. The repeat has no
            // expectation, so it does not come here again.
            if attempt === self, body != nil, !bodyStarted, ContinueWait.isExpectationFailed(headers) {
                // The 417's body is not read: the connection, shut down by the wait, ends here.
                connection.close()
                logger.debug("417 to the 100-continue expectation from \(host):\(port): repeating without it")
                attempt = withoutContinueExpectation()
                continue
            }
            if mayRetry, StaleConnection.isTimeoutOfAnIdleConnection(headers, stream: stream, on: connection) {
                // As above, a body that went and cannot go again makes the 408 the answer.
                var sendsAgain = true
                if bodyStarted, let body { sendsAgain = await Request.canSendAgain(body, on: reactor) }
                if sendsAgain {
                    // The 408's body is not read: the connection ends here either way.
                    connection.close()
                    logger.debug(
                        "a reused connection to \(host):\(port) had timed out (408 and closing): retrying on a fresh one"
                    )
                    fresh = true
                    continue
                }
            }
            return (headers, stream, bodyStarted)
        }
    }

    /// A copy of this request whose head goes without the `100-continue` expectation
    /// (`ContinueWait.droppingExpectation`): the repeat after a 417.
    private func withoutContinueExpectation() -> Request {
        let copy = clone()
        copy.headers = ContinueWait.droppingExpectation(from: headers)
        return copy
    }

    /// A connection: from the pool (with the pool's HTTP/1 settings), or a fresh one with
    /// `http1` that closes once its response was read.
    private func connect(on reactor: Reactor, fresh: Bool, deadline: Deadline) async throws
        -> (H1Connection, reused: Bool)
    {
        if let pool {
            precondition(pool.reactor === reactor, "Request.pool belongs to another reactor")
            return try await pool.checkout(for: self, fresh: fresh, deadline: deadline)
        }
        var options = clientOptions
        options.http1 = http1
        let connection = try await Client.connect(options, on: reactor, timeout: deadline.remaining("connect"))
        connection.onIdle = { $0.close() }
        return (connection, false)
    }

    /// Whether `body` can be sent again from its start: bytes, or a regular file (re-opened); not
    /// a producer's chunks, nor a pipe's or a device's octets. (The file is looked at on a
    /// blocking-work thread.)
    static func canSendAgain(_ body: RequestBody, on reactor: Reactor) async -> Bool {
        switch body {
        case .bytes: return true
        case .stream: return false
        case .file(let path):
            let isRegularFile = try? await reactor.runBlocking("looking at \(path)") {
                var status = stat()
                return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFREG
            }
            return isRegularFile ?? false
        }
    }
}
