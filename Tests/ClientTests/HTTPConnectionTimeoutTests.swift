import Foundation
import Stepwise
import XCTest

/// `HTTPConnection`'s per-phase limits set one by one and through `setTimeout`, and a streamed
/// body held to its declared length. (Read and TLS-under-connect limits, and reuse over 100
/// requests: `HTTPConnectionTests`.)
final class HTTPConnectionTimeoutTests: XCTestCase {
    func testConnectLimitAlone() throws {
        let listener = try StalledListener(fullAcceptQueue: true)
        defer { listener.close() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: listener.port)
        conn.setTimeouts(.init(connect: 0.3))
        XCTAssertEqual(conn.timeouts, .init(connect: 0.3, read: nil, write: nil))
        assertFailsOnTime("127.0.0.1:\(listener.port): timed out after 0.3 s during connect") {
            try conn.request("GET", "/")
        }
    }

    func testWriteLimitAlone() throws {
        let listener = try StalledListener()
        defer { listener.close() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: listener.port)
        conn.setTimeouts(.init(write: 0.3))
        assertFailsOnTime("127.0.0.1:\(listener.port): timed out after 0.3 s during request body write") {
            try conn.request("PUT", "/", body: [UInt8](repeating: 0x77, count: 32 << 20))
        }
        conn.close()
    }

    func testSetTimeoutLimitsEveryPhase() throws {
        let listener = try StalledListener()
        defer { listener.close() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: listener.port, timeout: 5)
        conn.setTimeout(0.3)
        XCTAssertEqual(conn.timeouts, .all(0.3))
        assertFailsOnTime("127.0.0.1:\(listener.port): timed out after 0.3 s during request body write") {
            try conn.request("PUT", "/", body: [UInt8](repeating: 0x77, count: 32 << 20))
        }
        conn.close()
        try conn.request("GET", "/")
        assertFailsOnTime("127.0.0.1:\(listener.port): timed out after 0.3 s during response head read") {
            _ = try conn.getResponse()
        }
        conn.close()
        conn.setTimeout(nil)
        XCTAssertEqual(conn.timeouts, .all(nil))
    }

    func testStreamedBodyMustHaveTheDeclaredLength() throws {
        let server = try TestServer { stream, _ in
            let body = try await stream.getBodyAsString(timeout: 5)
            try await reply(stream, "got \(body)")
        }
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        var exact = [Array("12".utf8), Array("345".utf8)]
        try conn.request("PUT", "/", bodyStream: { exact.isEmpty ? nil : exact.removeFirst() }, bodyLength: 5)
        XCTAssertEqual(try conn.getResponse().text, "got 12345")

        var short = [Array("12".utf8)]
        XCTAssertThrowsError(
            try conn.request("PUT", "/", bodyStream: { short.isEmpty ? nil : short.removeFirst() }, bodyLength: 5)
        ) { error in
            XCTAssertEqual(error as? HTTPStreamError, .contentLengthMismatch(declared: 5, written: 2))
        }
        conn.close()

        var long = [Array("1234".utf8), Array("56".utf8)]
        XCTAssertThrowsError(
            try conn.request("PUT", "/", bodyStream: { long.isEmpty ? nil : long.removeFirst() }, bodyLength: 5)
        ) { error in
            XCTAssertEqual(error as? HTTPStreamError, .contentLengthMismatch(declared: 5, written: 6))
        }
        conn.close()
    }
}
