import Dispatch
import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// What a request's error says when the server ends or resets the connection instead of
/// answering, or in the middle of its answer. An end before any response octet is not bad HTTP:
/// it failed as "invalid HTTP from the peer: unexpected end of input in the middle of a message",
/// though no message had started.
final class ConnectionEndErrorTests: XCTestCase {
    func testAnEndBeforeAnyResponseOctetSaysSo() throws {
        let server = try OneShotServer { client in _ = OneShotServer.readRequest(client) }
        defer { server.stop() }
        XCTAssertThrowsError(try server.request().fetch(on: try Reactor(), timeout: 5)) { error in
            // Still what the stale-connection retry calls stale (`StaleConnection.isStale`).
            XCTAssertEqual(error as? HTTPStreamError, .connectionClosed("before a response arrived"), "\(error)")
            XCTAssertEqual("\(error)", "connection closed before a response arrived")
        }
    }

    func testAResetBeforeAnyResponseOctetSaysSo() throws {
        let server = try OneShotServer { client in
            guard OneShotServer.readRequest(client) else { return }
            Self.resetWhenClosed(client)
        }
        defer { server.stop() }
        XCTAssertThrowsError(try server.request().fetch(on: try Reactor(), timeout: 5)) { error in
            guard case .socket(.system(_, ECONNRESET))? = error as? HTTPStreamError else {
                return XCTFail("not the reset: \(error)")
            }
            XCTAssertTrue("\(error)".contains("before a response arrived"), "\(error)")
        }
    }

    /// Interim heads are not the response, but they did arrive: an end or a reset after them says
    /// so, rather than that nothing came (the caller may have read them).
    func testAnEndAfterAnInterimResponseSaysSo() throws {
        for reset in [false, true] {
            let server = try OneShotServer { client in
                guard OneShotServer.readRequest(client) else { return }
                RawPeer.send("HTTP/1.1 103 Early Hints\r\nlink: </style.css>\r\n\r\n", to: client)
                if reset { Self.resetWhenClosed(client) }
            }
            defer { server.stop() }
            XCTAssertThrowsError(try server.request().fetch(on: try Reactor(), timeout: 5)) { error in
                if reset {
                    guard case .socket(.system(_, ECONNRESET))? = error as? HTTPStreamError else {
                        return XCTFail("not the reset: \(error)")
                    }
                } else {
                    XCTAssertEqual(
                        error as? HTTPStreamError,
                        .connectionClosed("after an interim (1xx) response but before the final response"))
                }
                XCTAssertTrue(
                    "\(error)".contains("after an interim (1xx) response but before the final response"), "\(error)")
            }
        }
    }

    func testAResetInTheMiddleOfAResponseSaysSo() throws {
        let headRead = DispatchSemaphore(value: 0)
        let server = try OneShotServer { client in
            guard OneShotServer.readRequest(client) else { return }
            RawPeer.send("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc", to: client)
            _ = headRead.wait(timeout: .now() + 5)
            Self.resetWhenClosed(client)
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let (head, stream) = try server.request().go(on: reactor, timeout: 5)
        XCTAssertEqual(head.first(":status"), "200")
        headRead.signal()
        XCTAssertThrowsError(try reactor.run { try await stream.getBodyAsString(timeout: 5) }) { error in
            guard case .socket(.system(_, ECONNRESET))? = error as? HTTPStreamError else {
                return XCTFail("not the reset: \(error)")
            }
            XCTAssertTrue("\(error)".contains("in the middle of a response"), "\(error)")
        }
    }

    /// Makes the close that follows (`OneShotServer` closes the socket) a reset, not a FIN.
    private static func resetWhenClosed(_ client: Int32) {
        var abort = linger(l_onoff: 1, l_linger: 0)
        setsockopt(client, SOL_SOCKET, SO_LINGER, &abort, socklen_t(MemoryLayout<linger>.size))
    }
}
