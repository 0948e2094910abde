import Foundation
import Stepwise
import XCTest

/// `ClientOptions.v6only`: an IPv6 socket reaches an IPv4 server through an IPv4-mapped address
/// only when `IPV6_V6ONLY` is off.
final class ClientSocketOptionTests: XCTestCase {
    func testV6OnlyDecidesWhetherIPv4MappedAddressesAreReachable() throws {
        let server = try TestServer { stream, _ in try await reply(stream, "mapped") }
        defer { server.stop() }
        var mapped = ClientOptions(host: "::ffff:127.0.0.1", port: server.port)
        mapped.v6only = false
        let reached = try getBodyOverClientConnect(mapped)
        XCTAssertEqual(reached, "mapped")

        mapped.v6only = true
        XCTAssertThrowsError(try getBodyOverClientConnect(mapped)) { error in
            XCTAssertTrue("\(error)".contains("::ffff:127.0.0.1"), "\(error)")
        }
    }
}
