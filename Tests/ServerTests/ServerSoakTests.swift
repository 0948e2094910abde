import Dispatch
import Foundation
import HTTPCore
import Stepwise
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A seeded, randomized soak of the server over real sockets, many connections at once (`Kind`):
/// valid requests alone or pipelined (any route of `handler`, bodies by length, chunked with
/// extensions and trailers, gzip or deflate coded; HTTP/1.0 and 1.1; HEAD; `TE: gzip`), sent
/// whole or split at random octets with pauses, some half-closed after; mutations of them (octets
/// flipped, cut, inserted; conflicting framing fields, huge fields and targets, other versions);
/// TLS ClientHellos, whole, cut or damaged, and whole TLS sessions on the sniffing port; resets
/// mid-request and mid-response; clients that never read; idle ones; `Expect: 100-continue`
/// clients that wait.
///
/// Invariants: every connection ends (answers, then a close) within the timeouts; every answer is
/// well-formed HTTP/1.1; valid requests get their status and body, pipelined ones in order, and a
/// close only when announced (or when a chunked body left unread exceeds the drain limit); the
/// connection's own rejections announce their close and come last; afterwards the server holds
/// no connection and no more descriptors than before, and a fresh request gets 200.
///
/// For longer runs: `STEPWISE_SOAK_SEED`, `STEPWISE_SOAK_CONNECTIONS`, `STEPWISE_SOAK_PARALLEL`;
/// `STEPWISE_SOAK_KINDS` (comma-separated `Kind` names) and `STEPWISE_SOAK_ROUTE` narrow the
/// traffic; `STEPWISE_SOAK_STATS` prints what was sent and answered, `STEPWISE_SOAK_VERBOSE` the
/// requests and answers of failing connections and the server's errors.
final class ServerSoakTests: XCTestCase {
    enum Kind: CaseIterable {
        case valid, pipelined, halfClose, mutated, mutatedPipeline, tls, tlsSession, reset, resetMidResponse,
            neverRead, idle, expectContinue
    }

    /// Sends `bytes` in random pieces with small pauses.
    static func sendSplit(_ socket: SoakSocket, _ bytes: [UInt8], _ random: inout SplitMix64, deadline: Double) -> Bool
    {
        var offset = 0
        let split = Int.random(in: 0..<3, using: &random) == 0
        while offset < bytes.count {
            let count = split ? Int.random(in: 1...max(1, min(bytes.count - offset, 200)), using: &random) : bytes.count
            let end = min(bytes.count, offset + count)
            guard socket.send(bytes[offset..<end], until: deadline) else { return false }
            offset = end
            if split && Int.random(in: 0..<8, using: &random) == 0 {
                usleep(UInt32.random(in: 100...3000, using: &random))
            }
        }
        return true
    }

    /// One connection's scenario; returns what went wrong, if anything.
    static func runConnection(port: UInt16, seed: UInt64, limit: Double) -> String? {
        var random = SplitMix64(seed: seed)
        var kind = Kind.allCases.randomElement(using: &random)!
        if let kinds = ProcessInfo.processInfo.environment["STEPWISE_SOAK_KINDS"] {
            let allowed = kinds.split(separator: ",").map(String.init)
            while !allowed.contains("\(kind)") { kind = Kind.allCases.randomElement(using: &random)! }
        }
        if kind == .tlsSession { return tlsSession(port: port, seed: seed, &random) }
        let socket: SoakSocket
        do { socket = try SoakSocket(port: port) } catch { return "connect: \(error)" }
        let deadline = MonotonicClock.seconds() + limit
        var output: [UInt8] = []
        func check(_ requests: [Request], cut: Bool) -> String? {
            let waitStart = MonotonicClock.seconds()
            let end = socket.readAll(until: deadline, into: &output)
            let waited = Int((MonotonicClock.seconds() - waitStart) * 10)
            statistics.withLock { counts in
                counts["max wait \(kind) (ds)"] = max(counts["max wait \(kind) (ds)"] ?? 0, waited)
                if waited >= 25 { counts["slow \(kind) seed \(seed)"] = waited }
            }
            if end == .timedOut {
                return "\(kind) seed \(seed): no close within \(limit) s (\(output.count) octets read; at "
                    + "\(MonotonicClock.seconds()))"
            }
            let parsed: (responses: [SoakResponse], rest: Int)
            let heads = Set(requests.indices.filter { requests[$0].isHead })
            do { parsed = try SoakResponses.parse(output, closed: true, heads: heads) } catch {
                return "\(kind) seed \(seed): malformed response: \(error)"
            }
            if http10Server.withLock({ $0 }) {
                // RFC 9110 §15.2: "A server MUST NOT send a 1xx response to an HTTP/1.0 client";
                // a 1.0 server sends no transfer-coded body and says HTTP/1.0.
                for response in parsed.responses
                where response.version != "HTTP/1.0" || response.interimBefore > 0
                    || response.header("transfer-encoding") != nil
                {
                    return "\(kind) seed \(seed): a 1.0 server sent \(response.version) \(response.status) "
                        + "after \(response.interimBefore) 1xx, transfer-encoding "
                        + "\(response.header("transfer-encoding") ?? "none")"
                }
            }
            if (!cut || requests.isEmpty) && parsed.rest != output.count {
                return "\(kind) seed \(seed): \(output.count - parsed.rest) octets after the last response"
            }
            statistics.withLock { counts in
                counts["\(kind)", default: 0] += 1
                for response in parsed.responses { counts["status \(response.status)", default: 0] += 1 }
            }
            for (index, response) in parsed.responses.enumerated() {
                if requests.isEmpty {
                    // A mutated request: a response that announces the close is the last.
                    if response.header("connection") == "close" && index != parsed.responses.count - 1 {
                        return "\(kind) seed \(seed): a response after \(response.status) with close"
                    }
                    if ![200, 400, 404, 408, 413, 414, 431, 501, 503, 505].contains(response.status) {
                        return "\(kind) seed \(seed): status \(response.status)"
                    }
                    // The connection's own answers (no handler wrote them) close it.
                    if response.header("x-id") == nil && response.status != 503 && response.status != 413
                        && response.header("connection") != "close"
                    {
                        return "\(kind) seed \(seed): \(response.status) without close"
                    }
                    continue
                }
                guard index < requests.count else { return "\(kind) seed \(seed): more responses than requests" }
                let request = requests[index]
                let status = expectedStatus(request)
                if response.status != status {
                    return "\(kind) seed \(seed): \(request.route) #\(index) got \(response.status), not \(status)"
                }
                if status == 200 && response.header("x-id") != request.id {
                    return "\(kind) seed \(seed): response \(index) has x-id \(response.header("x-id") ?? "none")"
                }
                if request.closes && response.header("connection") != "close" {
                    return "\(kind) seed \(seed): \(request.route) #\(index) closes without saying so"
                }
                if request.closes && index != parsed.responses.count - 1 {
                    return "\(kind) seed \(seed): \(request.route) #\(index) answered after a close"
                }
                if status == 200, !request.isHead, let expected = expectedBody(request), response.body != expected {
                    return "\(kind) seed \(seed): \(request.route) #\(index): body of \(response.body.count) octets "
                        + "is not the \(expected.count) expected"
                }
            }
            if ProcessInfo.processInfo.environment["STEPWISE_SOAK_VERBOSE"] != nil {
                for request in requests {
                    print("request:", String(decoding: request.bytes.prefix(300), as: UTF8.self).debugDescription)
                }
                for response in parsed.responses {
                    print("response:", response.status, response.headers, response.body.count)
                }
                print("end:", end, "octets:", output.count, "parsed up to", parsed.rest)
            }
            if !cut && !requests.isEmpty && parsed.responses.count < requests.count {
                // Only a response that closes may end the pipeline early, or one whose handler
                // left a chunked body longer than the drain reads (its length was unknown).
                let last = parsed.responses.last
                let lastRequest = parsed.responses.isEmpty ? nil : requests[parsed.responses.count - 1]
                let drainedTooMuch = lastRequest.map { !readsBody($0.route) && $0.wireBodyCount > 32 * 1024 } ?? false
                if last?.header("connection") != "close" && !drainedTooMuch {
                    return "\(kind) seed \(seed): \(parsed.responses.count) of \(requests.count) answered"
                }
            }
            return nil
        }
        switch kind {
        case .valid, .pipelined, .halfClose:
            let count = kind == .pipelined ? Int.random(in: 2...6, using: &random) : 1
            let requests = (0..<count).map {
                validRequest(
                    &random, id: "\(seed)-\($0)", close: $0 == count - 1 && Bool.random(using: &random), head: true)
            }
            let bytes = requests.flatMap(\.bytes)
            guard sendSplit(socket, bytes, &random, deadline: deadline) else {
                return check(requests, cut: true)
            }
            if kind == .halfClose { socket.shutdownWrite() }
            return check(requests, cut: false)
        case .mutated, .mutatedPipeline:
            let count = kind == .mutatedPipeline ? Int.random(in: 2...4, using: &random) : 1
            var bytes: [UInt8] = []
            for index in 0..<count {
                let request = validRequest(&random, id: "\(seed)-\(index)", corruptCoding: Bool.random(using: &random))
                bytes += Bool.random(using: &random) ? mutate(request.bytes, &random) : request.bytes
            }
            _ = sendSplit(socket, bytes, &random, deadline: deadline)
            if Bool.random(using: &random) { socket.shutdownWrite() }
            let failure = check([], cut: true)
            if failure != nil, ProcessInfo.processInfo.environment["STEPWISE_SOAK_VERBOSE"] != nil {
                print("sent:", String(decoding: bytes.prefix(600), as: UTF8.self).debugDescription)
                print("received:", String(decoding: output.prefix(600), as: UTF8.self).debugDescription)
            }
            return failure
        case .tls:
            _ = sendSplit(socket, clientHello(&random), &random, deadline: deadline)
            if Bool.random(using: &random) { socket.shutdownWrite() }
            let end = socket.readAll(until: deadline, into: &output)
            return end == .timedOut ? "tls seed \(seed): no close within \(limit) s" : nil
        case .reset:
            let request = validRequest(&random, id: "\(seed)")
            let cut = Int.random(in: 0...request.bytes.count, using: &random)
            _ = sendSplit(socket, Array(request.bytes[..<cut]), &random, deadline: deadline)
            usleep(UInt32.random(in: 0...20000, using: &random))
            socket.reset()
            return nil
        case .resetMidResponse:
            var head =
                "GET \(Bool.random(using: &random) ? "/large" : "/file") HTTP/1.1\r\nHost: soak\r\nX-Id: \(seed)\r\n\r\n"
            if Bool.random(using: &random) { head += head }
            _ = socket.send(ArraySlice(head.utf8), until: deadline)
            let wanted = Int.random(in: 0..<300_000, using: &random)
            _ = socket.readAll(until: deadline, into: &output) { $0.count > wanted }
            socket.reset()
            return nil
        case .neverRead:
            let head =
                "GET \(Bool.random(using: &random) ? "/large" : "/file") HTTP/1.1\r\nHost: soak\r\nX-Id: \(seed)\r\n\r\n"
            let bytes = Array(String(repeating: head, count: Int.random(in: 1...20, using: &random)).utf8)
            _ = socket.send(ArraySlice(bytes), until: MonotonicClock.seconds() + 0.5)
            usleep(UInt32.random(in: 0...1_500_000, using: &random))
            if Bool.random(using: &random) { socket.reset() } else { socket.close() }
            return nil
        case .tlsSession:
            return nil  // `tlsSession`
        case .expectContinue:
            // A client that waits for `100 Continue` (or a final answer) before it sends the body.
            var route = routes.randomElement(using: &random)!
            if let only = ProcessInfo.processInfo.environment["STEPWISE_SOAK_ROUTE"] { route = only }
            let body = pattern(0, Int.random(in: 1..<50_000, using: &random))
            let head =
                "POST \(route) HTTP/1.1\r\nHost: soak\r\nX-Id: \(seed)\r\nExpect: 100-continue\r\n"
                + "Content-Length: \(body.count)\r\n\r\n"
            guard socket.send(ArraySlice(head.utf8), until: deadline) else {
                return "\(kind) seed \(seed): send failed"
            }
            var interim: [UInt8] = []
            _ = socket.readAll(until: MonotonicClock.seconds() + 3, into: &interim) {
                SoakResponses.find([13, 10, 13, 10], in: $0, from: 0) != nil
            }
            guard interim.starts(with: Array("HTTP/1.1 ".utf8)) else {
                return "\(kind) seed \(seed): \(route): neither 100 nor an answer in 3 s"
            }
            let request = Request(
                bytes: [], id: "\(seed)", route: route, bodyCount: body.count, body: body, wireBodyCount: body.count,
                isHead: false, closes: false)
            output = interim
            if interim.starts(with: Array("HTTP/1.1 100 ".utf8)) {
                _ = socket.send(ArraySlice(body), until: deadline)
                return check([request], cut: false)
            }
            // A final answer first: the body is not sent, so the server must close.
            let response = try? SoakResponses.parse(output, closed: false).responses.first
            if let response, response.header("connection") != "close", response.status >= 200 {
                return "\(kind) seed \(seed): \(route) answered \(response.status) before the body without a close"
            }
            return check([request], cut: true)
        case .idle:
            // Connects and sends nothing, or only empty lines.
            if Bool.random(using: &random) { _ = socket.send(ArraySlice("\r\n".utf8), until: deadline) }
            let end = socket.readAll(until: deadline, into: &output)
            return end == .timedOut ? "idle seed \(seed): no close within \(limit) s" : nil
        }
    }

    static func descriptorTargets() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.sorted().map { name in
            "\(name)=\((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)")) ?? "?")"
        }
    }

    /// A TLS session on the sniffing port: a few requests answered in order, or a cut.
    static func tlsSession(port: UInt16, seed: UInt64, _ random: inout SplitMix64) -> String? {
        do {
            let client = try TestClient(tlsPort: port)
            client.timeout = 8
            let count = Int.random(in: 0...3, using: &random)
            var requests: [Request] = []
            while requests.count < count {
                let request = validRequest(&random, id: "\(seed)-\(requests.count)")
                if request.wireBodyCount < 16384 { requests.append(request) }
            }
            try client.send(requests.flatMap(\.bytes))
            if Bool.random(using: &random) {
                client.close()
                return nil
            }
            for (index, request) in requests.enumerated() {
                var response = try client.readResponse()
                while response.status < 200 { response = try client.readResponse() }
                if response.header("transfer-encoding") == "gzip, chunked" {
                    response.body = try Inflater(format: .gzip, maxOutput: 1 << 24).process(response.body, final: true)
                }
                if response.status != expectedStatus(request) {
                    return "tlsSession seed \(seed): \(request.route) #\(index) got \(response.status)"
                }
                if response.status == 200, let expected = expectedBody(request), response.body != expected {
                    return "tlsSession seed \(seed): \(request.route) #\(index) body of \(response.body.count) octets"
                }
                if response.header("connection") == "close" || request.closes { break }
            }
            _ = try client.readUntilClosed(within: 8)
            return nil
        } catch {
            return "tlsSession seed \(seed): \(error)"
        }
    }

    static let http10Server = Locked(false)

    override class func tearDown() {
        try? FileManager.default.removeItem(atPath: filePath)
        super.tearDown()
    }

    func testSeededSoak() throws {
        try soak(handler: Self.handler, driver: .stepping, maxConcurrent: nil)
    }

    func testSeededSoakWithCallbacksALoopAndAConnectionLimit() throws {
        try soak(handler: Self.callbackHandler, driver: .loop, maxConcurrent: 24)
    }

    func testSeededSoakWithAGracefulCloseMidway() throws {
        try soak(handler: Self.handler, driver: .stepping, maxConcurrent: nil, closeAfter: 0.5)
    }

    /// `closeAfter`: seconds into the traffic, the server closes gracefully (1 s); the checks are
    /// then only that no connection hangs and every response is well-formed.
    func testSeededSoakOnAnHTTP10Server() throws {
        try soak(handler: Self.handler, driver: .stepping, maxConcurrent: nil, version: .http10)
    }

    func soak(
        handler: Server.Handler, driver: TestServer.Driver, maxConcurrent: Int?, closeAfter: Double? = nil,
        version: HTTPVersionPreference? = nil
    ) throws {
        // Only hangs and malformed answers count when the server closes midway or speaks 1.0
        // (whose answers the model does not predict).
        let lenient = closeAfter != nil || version != nil
        Self.http10Server.withLock { $0 = version == .http10 }
        defer { Self.http10Server.withLock { $0 = false } }
        let environment = ProcessInfo.processInfo.environment
        let seed = UInt64(environment["STEPWISE_SOAK_SEED"] ?? "") ?? 20_261_122
        let connectionCount = Int(environment["STEPWISE_SOAK_CONNECTIONS"] ?? "") ?? 120
        let parallel = Int(environment["STEPWISE_SOAK_PARALLEL"] ?? "") ?? 24
        let server = try startServer(
            { options in
                options.connectionSetupTimeout = 1
                options.intraStreamTimeout = 1
                options.headerReadTimeout = 1
                options.http1.lingerTimeout = 0.3
                options.http1.maxBufferedBody = 32 * 1024
                options.http1.drainLimit = 64 * 1024
                options.maxConcurrent = maxConcurrent
                options.version = version
            }, handler: handler, driver: driver)
        let port = server.port
        let before = Self.descriptorTargets()
        let baseline = openFileDescriptors()
        let failures = Locked<[String]>([])
        let next = Locked(0)
        let done = DispatchGroup()
        if let closeAfter {
            done.enter()
            Thread {
                defer { done.leave() }
                usleep(UInt32(closeAfter * 1_000_000))
                _ = try? server.onServer { server in
                    server.close(timeout: 1)
                    return true
                }
            }.start()
        }
        for _ in 0..<parallel {
            done.enter()
            Thread {
                defer { done.leave() }
                while true {
                    let index = next.withLock { value -> Int in
                        value += 1
                        return value - 1
                    }
                    guard index < connectionCount else { return }
                    if let failure = Self.runConnection(port: port, seed: seed &+ UInt64(index), limit: 8) {
                        let hang = ["no close within", "malformed", "in time"].contains { failure.contains($0) }
                        if !lenient || hang || failure.contains("a 1.0 server") {
                            failures.withLock { $0.append(failure) }
                        }
                    }
                }
            }.start()
        }
        done.wait()
        for failure in failures.withLock({ $0 }) { XCTFail(failure) }
        if environment["STEPWISE_SOAK_STATS"] != nil {
            print(Self.statistics.withLock { $0 }.sorted { $0.key < $1.key })
        }
        if environment["STEPWISE_SOAK_VERBOSE"] != nil {
            for error in server.errors.withLock({ $0 }) { print("server error: \(error)") }
        }
        if closeAfter != nil {
            XCTAssertTrue(try server.waitOnServer(within: 5) { $0.empty() }, "the closed server is not empty")
            XCTAssertTrue(
                waitUntil(within: 2) { openFileDescriptors() < baseline },
                "fds \(openFileDescriptors()) >= \(baseline): \(Self.descriptorTargets().filter { !before.contains($0) })"
            )
            return
        }
        let drainStart = MonotonicClock.seconds()
        XCTAssertTrue(try server.waitOnServer(within: 5) { $0.connections() == 0 }, "connections left")
        if environment["STEPWISE_SOAK_STATS"] != nil {
            print("SOAK drained in \(MonotonicClock.seconds() - drainStart) s")
        }
        let client = try TestClient(port: server.port)
        let response = try client.exchange("GET /small HTTP/1.1\r\nHost: t\r\nX-Id: last\r\n\r\n")
        XCTAssertEqual(response.status, 200)
        client.close()
        XCTAssertTrue(try server.waitOnServer(within: 5) { $0.connections() == 0 }, "connections left")
        XCTAssertTrue(
            waitUntil(within: 2) { openFileDescriptors() <= baseline },
            "fds \(openFileDescriptors()) > \(baseline): \(Self.descriptorTargets().filter { !before.contains($0) })")
    }
}
