import Foundation
import Stepwise
import XCTest

/// Name lookup through a chosen `Resolver`: a static hosts map as the name service, and a stalled
/// lookup that the one deadline over DNS, connect and TLS cuts short while the reactor goes on.
final class DNSPhaseTests: XCTestCase {
    /// A lookup that blocks its worker thread until the test ends.
    private func stalledResolver() -> Resolver {
        let release = DispatchSemaphore(value: 0)
        addTeardownBlock { release.signal() }
        return Resolver(threads: 1) { host, _, _ in
            release.wait()
            release.signal()  // the next lookup queued behind this one ends too
            return .failure(.noAddresses(host: host))
        }
    }

    /// Runs `body` on `reactor` with a 10 ms repeating timer; returns how many times it fired.
    /// A reactor that waited for the lookup (on its thread, or blocked until the timeout) gets one
    /// tick at most, libev's catch-up once it runs again; one that went on ticks all along. A
    /// thread descheduled for a while on a loaded machine (the suite shares two cores) ticks less
    /// than 30 times in 0.3 s, so the test asks for 2, not a rate: 10 failed now and then.
    private func ticks(on reactor: Reactor, during body: () throws -> Void) rethrows -> Int {
        let count = Locked(0)
        let timer = reactor.schedule(after: 0.01, repeating: 0.01) { _ in count.withLock { $0 += 1 } }
        defer { timer.cancel() }
        try body()
        return count.withLock { $0 }
    }

    func testAHostsMapResolverServesRequests() throws {
        let server = try TestServer { stream, head in try await reply(stream, "\(head.authority ?? "-")") }
        defer { server.stop() }
        let lookups = Locked<[String]>([])
        let hosts = Resolver { host, port, family in
            lookups.withLock { $0.append("\(host) \(family == AF_INET6 ? "AAAA" : family == AF_INET ? "A" : "any")") }
            guard host == "app.test" else { return .failure(.noAddresses(host: host)) }
            return .success([.ipv4(address: "127.0.0.1", port: port)])
        }
        let reactor = try Reactor()
        let request = try Request(uri: "http://app.test:\(server.port)/")
        request.resolver = hosts
        XCTAssertEqual(try request.fetch(on: reactor, timeout: 5).text, "app.test:\(server.port)")

        var other = ClientOptions(host: "other.test", port: server.port)
        other.resolver = hosts
        let options = other
        XCTAssertThrowsError(try reactor.run { try await Client.connect(options, on: reactor, timeout: 5) }) { error in
            XCTAssertEqual("\(error)", "DNS lookup of other.test found no usable address")
        }
        // One lookup per family for each connect (RFC 8305 §3), side by side on two threads.
        XCTAssertEqual(
            lookups.withLock { $0 }.sorted(), ["app.test A", "app.test AAAA", "other.test A", "other.test AAAA"])
    }

    func testHTTPConnectionLooksUpThroughItsResolver() throws {
        let server = try TestServer { stream, head in try await reply(stream, "\(head.authority ?? "-")") }
        defer { server.stop() }
        let lookups = Locked(0)
        let conn = try HTTPConnection(host: "app.test", port: server.port, timeout: 5)
        conn.resolver = Resolver { host, port, family in
            if family == AF_INET { lookups.withLock { $0 += 1 } }
            return .success([.ipv4(address: "127.0.0.1", port: port)])
        }
        try conn.request("GET", "/")
        XCTAssertEqual(try conn.getResponse().text, "app.test:\(server.port)")
        XCTAssertEqual(lookups.withLock { $0 }, 1)
        conn.close()
    }

    func testClientConnectTimesOutInAStalledLookup() throws {
        let reactor = try Reactor()
        var stalled = ClientOptions(host: "stalled.test", port: 8080, tls: true)
        stalled.resolver = stalledResolver()
        let options = stalled
        let fired = ticks(on: reactor) {
            assertFailsOnTime("stalled.test:8080: timed out after 0.3 s during DNS") {
                _ = try reactor.run { try await Client.connect(options, on: reactor, timeout: 0.3) }
            }
        }
        XCTAssertGreaterThanOrEqual(fired, 2, "the reactor stalled during the lookup")
    }

    func testRequestGoTimesOutInAStalledLookup() throws {
        let reactor = try Reactor()
        let resolver = stalledResolver()
        let pool = ConnectionPool(reactor: reactor)
        for pooled in [false, true] {
            let request = try Request(uri: "https://stalled.test/")
            request.resolver = resolver
            if pooled { request.pool = pool }
            let fired = ticks(on: reactor) {
                assertFailsOnTime("stalled.test:443: timed out after 0.3 s during DNS") {
                    _ = try request.go(on: reactor, timeout: 0.3)
                }
            }
            XCTAssertGreaterThanOrEqual(fired, 2, "the reactor stalled during the lookup (pooled: \(pooled))")
        }
        XCTAssertEqual(pool.openConnections, 0)
    }
}
