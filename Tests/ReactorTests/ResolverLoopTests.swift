import Dispatch
import Glibc
import XCTest

@testable import Reactor

/// A name lookup in flight keeps `Reactor.empty()` false, as a blocking job does, so `loop()`
/// waits for its result; one given up on (`cancel()`) does not hold the loop.
final class ResolverLoopTests: XCTestCase {
    func testLoopWaitsForALookupsCallback() throws {
        let reactor = try Reactor()
        let release = DispatchSemaphore(value: 0)
        let resolver = Resolver(threads: 1) { _, port, _ in
            release.wait()
            return .success([.ipv4(address: "192.0.2.1", port: port)])
        }
        var result: Result<[SocketAddress], SocketError>?
        resolver.resolve(host: "app.test", port: 80, on: reactor) { result = $0 }
        XCTAssertFalse(reactor.empty(), "a lookup is in flight")
        release.signal()
        // Before, the reactor was empty at once and `loop()` returned with the answer undelivered.
        try reactor.loop(timeout: 5)
        XCTAssertEqual(try result?.get(), [.ipv4(address: "192.0.2.1", port: 80)])
        XCTAssertTrue(reactor.empty())
    }

    func testACancelledLookupDoesNotHoldTheLoop() throws {
        let reactor = try Reactor()
        let release = DispatchSemaphore(value: 0)
        let resolver = Resolver(threads: 1) { _, port, _ in
            release.wait()
            return .success([.ipv4(address: "192.0.2.1", port: port)])
        }
        defer { release.signal() }
        var answered = false
        let lookup = resolver.resolve(host: "app.test", port: 80, on: reactor) { _ in answered = true }
        lookup.cancel()
        XCTAssertTrue(reactor.empty())
        try reactor.loop(timeout: 5)
        XCTAssertFalse(answered)
    }
}
