import Foundation
import Stepwise
import XCTest

/// A request waiting for a pooled connection (the target is at `maxConnectionsPerHost`) gets the
/// next one that frees up, rather than a request that came after it: otherwise a caller that
/// sends back to back takes its connection again each time, and the waiting request runs out of
/// its deadline while connections were freed many times over.
final class PoolWaiterHandOffTests: XCTestCase {
    func testAWaitingRequestGetsTheNextFreedConnectionBeforeALaterOne() throws {
        let server = try TestServer { stream, head in
            try await stream.reactor.sleep(seconds: 0.03)
            try await reply(stream, head.path ?? "")
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        pool.maxConnectionsPerHost = 1
        let port = server.port
        let waiterDone = Locked(false)
        let outcome = try reactor.run { () async throws -> String in
            // One caller sends request after request on the one connection...
            let busy = Task(executorPreference: reactor) {
                for i in 0..<60 where !waiterDone.withLock({ $0 }) {
                    let request = try Request(uri: "http://127.0.0.1:\(port)/busy/\(i)")
                    request.pool = pool
                    _ = try await request.fetch(on: reactor, timeout: 5)
                }
            }
            // ... while another waits for it.
            try await reactor.sleep(seconds: 0.01)
            let waiting = try Request(uri: "http://127.0.0.1:\(port)/waiting")
            waiting.pool = pool
            let text: String
            do {
                text = try await waiting.fetch(on: reactor, timeout: 0.5).text
            } catch {
                text = "\(error)"
            }
            waiterDone.withLock { $0 = true }
            try await busy.value
            return text
        }
        XCTAssertEqual(outcome, "/waiting")
        XCTAssertEqual(pool.openConnections, 1)
        pool.closeIdle()
    }
}
