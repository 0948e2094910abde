import Glibc
import HTTPCore
import Reactor

// Sending a request again on a fresh connection when a reused one turns out stale.

extension Request {
    /// Methods that may be retried automatically (RFC 9110 §9.2.2: the safe methods, PUT and
    /// DELETE).
    static let idempotentMethods: Set<String> = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]

    /// One exchange, retried once on a fresh connection when a reused one turns out stale; also
    /// says whether the body (if any) went out.
    func sendWithRetry(on reactor: Reactor, deadline: Deadline) async throws
        -> (Headers, any HTTPStream, bodySent: Bool)
    {
        let idempotent = Request.idempotentMethods.contains(headers.first(":method") ?? "GET")
        var fresh = false
        while true {
            let (connection, reused) = try await connect(on: reactor, fresh: fresh, deadline: deadline)
            var responseStarted = false
            var bodyStarted = false
            do {
                let (headers, stream) = try await exchange(
                    on: connection, deadline: deadline, responseStarted: &responseStarted, bodyStarted: &bodyStarted)
                return (headers, stream, bodyStarted)
            } catch {
                // A failed exchange leaves the connection mid-message: close it, or it stays open
                // (and counted by the pool, never idle again) for good.
                connection.close()
                let retries = reused && !fresh && idempotent && !responseStarted && Request.isStale(error)
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
        }
    }

    /// A connection: from the pool, or a fresh one that closes once its response was read.
    private func connect(on reactor: Reactor, fresh: Bool, deadline: Deadline) async throws
        -> (H1Connection, reused: Bool)
    {
        if let pool {
            precondition(pool.reactor === reactor, "Request.pool belongs to another reactor")
            return try await pool.checkout(for: self, fresh: fresh, deadline: deadline)
        }
        let connection = try await Client.connect(clientOptions, on: reactor, timeout: deadline.remaining("connect"))
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

    /// Whether `error` is what a connection the server closed gives: EOF or a reset (for a
    /// connection idle until the request, a stale one).
    static func isStale(_ error: any Error) -> Bool {
        switch error {
        case HTTPStreamError.connectionClosed, HTTPStreamError.socket,
            HTTPStreamError.protocolViolation(.unexpectedEOF):
            return true
        case is SocketError:
            return true
        default:
            return false
        }
    }
}
