import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A seeded random mix of valid, broken and hostile answers (`SoakCase`) from a raw server
/// (`SoakServer`), all through one pooled client, each followed by a plain request that must
/// succeed. Invariants: every request ends within its timeout, with exactly the octets sent or
/// an error; no connection is reused after an answer that must end it (the server records any
/// request that comes on one); the pool and the process's descriptors return to where they
/// started. `STEPWISE_SOAK_SEED` and `STEPWISE_SOAK_CASES` run other seeds, longer.
final class HostileServerSoakTests: XCTestCase {
    func testASeededMixOfHostileAnswersThroughOnePool() throws {
        try soak(tls: false, defaultCases: 240)
    }

    /// The same over TLS (`SoakTLSCase`): the server's certificate is self-signed, and trusted
    /// by the client. `STEPWISE_SOAK_TLS_CASES` runs more.
    func testASeededMixOfHostileAnswersOverTLS() throws {
        try soak(tls: true, defaultCases: 120)
    }

    private func soak(tls: Bool, defaultCases: Int) throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["STEPWISE_SOAK_SEED"].flatMap { UInt64($0) } ?? 20_261_122
        let cases =
            environment[tls ? "STEPWISE_SOAK_TLS_CASES" : "STEPWISE_SOAK_CASES"].flatMap { Int($0) } ?? defaultCases
        let workers = environment["STEPWISE_SOAK_WORKERS"].flatMap { Int($0) } ?? 3
        let connectionWorkers = environment["STEPWISE_SOAK_CONNECTION_WORKERS"].flatMap { Int($0) } ?? 1
        let all = (0..<cases).map {
            tls ? SoakCase.makeOverTLS(seed: seed, number: $0) : SoakCase.make(seed: seed, number: $0)
        }
        let serverTLS = tls ? try TLSContext.selfSigned(hostname: "127.0.0.1", alpn: ["http/1.1"]) : nil
        let trusted = serverTLS?.certificatePEM.map { [$0] } ?? []
        let clientTLS = tls ? try TLSContext.client(trustedCertificatesPEM: trusted, alpn: ["http/1.1"]) : nil
        let server = try SoakServer(cases: all, tls: serverTLS)
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        pool.maxConnectionsPerHost = 2
        let origin = "\(tls ? "https" : "http")://127.0.0.1:\(server.port)"
        // What the process opens once, on its first use (libdispatch's epoll), is opened before
        // the count is taken.
        let warmUp = try Request(uri: "\(origin)/v/0")
        warmUp.tlsContext = clientTLS
        XCTAssertEqual(try warmUp.fetch(on: reactor, timeout: 5).text, "ok-0")
        usleep(50_000)
        let baseline = Self.openDescriptors()
        if environment["STEPWISE_SOAK_VERBOSE"] != nil { print("before: \(Self.describeDescriptors())") }
        let soak = Soak(
            cases: all, workers: workers, connectionWorkers: connectionWorkers, origin: origin, port: server.port,
            tls: clientTLS, trusted: trusted, pool: pool, reactor: reactor)
        try reactor.run { try await soak.run() }
        let problems = soak.problems, errors = soak.errors
        if environment["STEPWISE_SOAK_VERBOSE"] != nil {
            for (text, count) in errors.sorted(by: { $0.key < $1.key }) { print("\(count)× \(text)") }
        }
        XCTAssertEqual(pool.openConnections, pool.idleConnections, "busy connections left")
        pool.closeIdle()
        XCTAssertEqual(pool.openConnections, 0)
        // The server's ends close once the client's have.
        let started = MonotonicClock.seconds()
        while Self.openDescriptors() != baseline && MonotonicClock.seconds() - started < 3 { usleep(10_000) }
        XCTAssertEqual(Self.openDescriptors(), baseline, "descriptors: \(Self.describeDescriptors())")
        for problem in problems { XCTFail(problem) }
        for violation in server.violations { XCTFail(violation) }
    }

    private static func describeDescriptors() -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.sorted { Int($0) ?? 0 < Int($1) ?? 0 }.map {
            "\($0)=\((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) ?? "?")"
        }.joined(separator: " ")
    }

    private static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }
}

/// The client side of the soak: `workers` tasks on one reactor, sharing one pool.
private final class Soak: @unchecked Sendable {
    let cases: [SoakCase], workers: Int, connectionWorkers: Int, origin: String, port: UInt16
    /// Over TLS: the context of every request (one, so that the pool shares connections), and
    /// what `HTTPConnection` trusts.
    let tls: TLSContext?, trusted: [String]
    let cancels = ProcessInfo.processInfo.environment["STEPWISE_SOAK_CANCEL"] != nil
    let pool: ConnectionPool
    let reactor: Reactor
    let timeout = 1.0
    private let problemList = Locked<[String]>([])
    private let errorCounts = Locked<[String: Int]>([:])
    var problems: [String] { problemList.withLock { $0 } }
    var errors: [String: Int] { errorCounts.withLock { $0 } }

    init(
        cases: [SoakCase], workers: Int, connectionWorkers: Int, origin: String, port: UInt16, tls: TLSContext?,
        trusted: [String], pool: ConnectionPool, reactor: Reactor
    ) {
        (self.cases, self.workers, self.connectionWorkers) = (cases, workers, connectionWorkers)
        (self.origin, self.port, self.tls, self.trusted) = (origin, port, tls, trusted)
        (self.pool, self.reactor) = (pool, reactor)
    }

    /// A request for `path` on the soak's server, through `pool` (nil: a connection of its own).
    private func makeRequest(_ path: String, pool: ConnectionPool?) throws -> Request {
        let request = try Request(uri: origin + path)
        request.tlsContext = tls
        request.pool = pool
        return request
    }

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask(executorPreference: reactor) { try await self.work(worker) }
            }
            for worker in 0..<connectionWorkers {
                group.addTask(executorPreference: reactor) { try await self.workOnOneConnection(worker) }
            }
            try await group.waitForAll()
        }
    }

    private func work(_ worker: Int) async throws {
        for number in stride(from: worker, to: cases.count, by: workers) {
            let soak = cases[number]
            // Now and then without the pool: a connection of its own, closed after the response.
            let request = try makeRequest("/s/\(number)", pool: number % 7 == 6 ? nil : pool)
            try request.headers.upsert(":method", soak.method)
            if let body = soak.requestBody { request.setBody(bytes: body) }
            if soak.continueStyle != nil {
                request.headers.append("expect", "100-continue")
                request.expect100Timeout = 0.2
            }
            if cancels && number % 3 == 0 {
                try await cancelAtRandom(request, number)
                continue
            }
            let started = MonotonicClock.seconds()
            var outcome: String
            do {
                let response = try await request.fetch(on: reactor, timeout: timeout)
                outcome = Self.check(soak.expect, status: response.status, body: response.body)
            } catch {
                let text = "\(error)"
                errorCounts.withLock { $0[soak.label + ": " + text, default: 0] += 1 }
                // A POST is not sent again when a reused connection turns out closed (RFC 9110
                // §9.2.2): one that an earlier case's close or reset ended just after its
                // response may be taken from the pool before that close is seen.
                let stale = soak.method == "POST" && text.contains("before a response arrived")
                switch soak.expect {
                case .response where !stale: outcome = "failed: \(text)"
                default: outcome = ""
                }
                // With more workers than connections, a request may spend its time waiting for
                // one, behind another that waits for its timeout.
                let waited = workers > 1 && (text.contains("pooled connection") || text.contains("during connect"))
                if text.contains("timed out") && !soak.mayTimeOut && !waited {
                    outcome = "timed out, which it should not: \(text)"
                }
            }
            // Its one deadline ends it; the second of slack is for a loaded machine, not a bound.
            let took = MonotonicClock.seconds() - started
            if took > timeout + 1 { outcome += " took \(took) s" }
            if workers == 1 && pool.openConnections != pool.idleConnections {
                outcome += " left \(pool.openConnections - pool.idleConnections) busy connections"
            }
            if !outcome.isEmpty {
                problemList.withLock { $0.append("/s/\(number) (\(soak.label), \(soak.method)): \(outcome)") }
            }
            let plain = try makeRequest("/v/\(number)", pool: pool)
            do {
                let text = try await plain.fetch(on: reactor, timeout: 2).text
                if text != "ok-\(number)" {
                    problemList.withLock { $0.append("/v/\(number) after \(soak.label): \(text)") }
                }
            } catch {
                problemList.withLock { $0.append("/v/\(number) after \(soak.label) failed: \(error)") }
            }
        }
    }

    /// Starts `request` and cancels it after up to 5 ms (or shuts its stream down when it got
    /// its head first); then a plain request must succeed.
    private func cancelAtRandom(_ request: Request, _ number: Int) async throws {
        let inFlight = request.start(on: reactor, timeout: timeout)
        try await reactor.sleep(seconds: Double(number % 11) * 0.0005)
        inFlight.cancel()
        if case .success((_, let stream))? = inFlight.result { stream.shutdown() }
        let plain = try makeRequest("/v/\(number)", pool: pool)
        do {
            let text = try await plain.fetch(on: reactor, timeout: 2).text
            if text != "ok-\(number)" { problemList.withLock { $0.append("/v/\(number) after a cancel: \(text)") } }
        } catch {
            problemList.withLock { $0.append("/v/\(number) after a cancel failed: \(error)") }
        }
    }

    /// The same cases through one `HTTPConnection`, which reopens after each that ends it.
    private func workOnOneConnection(_ worker: Int) async throws {
        let connection = try HTTPConnection(
            host: "127.0.0.1", port: port, timeout: timeout, scheme: tls == nil ? "http" : "https", on: reactor)
        connection.trustedCertificatesPEM = trusted
        connection.expect100Timeout = 0.2
        defer { connection.close() }
        for number in stride(from: worker, to: cases.count, by: connectionWorkers) {
            let soak = cases[number]
            let expect = soak.undecoded ?? soak.expect
            let started = MonotonicClock.seconds()
            var outcome: String
            do {
                try await connection.request(
                    soak.method, "/s/\(number)", body: soak.requestBody, expectContinue: soak.continueStyle != nil)
                let response = try await connection.response()
                outcome = Self.check(expect, status: response.status, body: response.body)
            } catch {
                let text = "\(error)"
                errorCounts.withLock { $0["HTTPConnection " + soak.label + ": " + text, default: 0] += 1 }
                if case .response = expect { outcome = "failed: \(text)" } else { outcome = "" }
                if text.contains("timed out") && !soak.mayTimeOut {
                    outcome = "timed out, which it should not: \(text)"
                }
            }
            let took = MonotonicClock.seconds() - started
            // A read and a write limit at most (the head and the body), and the same slack.
            if took > 2 * timeout + 1 { outcome += " took \(took) s" }
            if !outcome.isEmpty {
                problemList.withLock {
                    $0.append("HTTPConnection /s/\(number) (\(soak.label), \(soak.method)): \(outcome)")
                }
            }
            do {
                try await connection.request("GET", "/v/\(number)")
                let text = try await connection.response().text
                if text != "ok-\(number)" {
                    problemList.withLock { $0.append("HTTPConnection /v/\(number) after \(soak.label): \(text)") }
                }
            } catch {
                problemList.withLock { $0.append("HTTPConnection /v/\(number) after \(soak.label) failed: \(error)") }
            }
        }
    }

    private static func check(_ expect: SoakCase.Expect, status: Int, body: [UInt8]) -> String {
        switch expect {
        case .response(let wanted, let bytes), .responseOrFailure(let wanted, let bytes):
            if status == wanted && body == bytes { return "" }
            return "got \(status) with \(body.count) octets, wanted \(wanted) with \(bytes.count)"
        case .failure:
            return "succeeded with \(status) and \(body.count) octets, wanted a failure"
        case .anything:
            return ""
        }
    }
}
