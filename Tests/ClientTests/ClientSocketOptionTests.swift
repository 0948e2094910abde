import Foundation
import Stepwise
import XCTest

/// `ClientOptions.v6only`: an IPv6 socket reaches an IPv4 server through an IPv4-mapped address
/// only when `IPV6_V6ONLY` is off.
final class ClientSocketOptionTests: XCTestCase {
    func testV6OnlyDecidesWhetherIPv4MappedAddressesAreReachable() throws {
        let server = try TestServer { stream, _ in try await reply(stream, "mapped") }
        defer { server.stop() }
        let reactor = try Reactor()

        var mapped = ClientOptions(host: "::ffff:127.0.0.1", port: server.port)
        mapped.v6only = false
        let allowed = mapped
        let reached = try reactor.run { () async throws -> String in
            let connection = try await Client.connect(allowed, on: reactor, timeout: 5)
            defer { connection.close() }
            let stream = try XCTUnwrap(connection.newStream())
            var headers = Headers()
            headers.append(":method", "GET")
            headers.append(":scheme", "http")
            headers.append(":authority", "x")
            headers.append(":path", "/")
            try await stream.writeHeaders(headers, endStream: true, timeout: 5)
            _ = try await stream.getHeaders(timeout: 5)
            return try await stream.getBodyAsString(timeout: 5)
        }
        XCTAssertEqual(reached, "mapped")

        mapped.v6only = true
        let refused = mapped
        XCTAssertThrowsError(try reactor.run { try await Client.connect(refused, on: reactor, timeout: 5) }) { error in
            XCTAssertTrue("\(error)".contains("::ffff:127.0.0.1"), "\(error)")
        }
    }
}
