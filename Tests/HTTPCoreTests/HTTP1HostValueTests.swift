import XCTest

@testable import HTTPCore

/// The parser's bit-set test of Host values and CONNECT targets agrees with the character class.
final class HTTP1HostValueTests: XCTestCase {
    func testTheBitSetIsTheHostCharacterClass() {
        for byte in UInt8.min...UInt8.max {
            let alone = [byte].withUnsafeBytes { HTTP1Parser.isHostValue($0) }
            XCTAssertEqual(alone, HTTP1Syntax.isHostChar(byte), "octet \(byte)")
            // Among valid octets, before and after them.
            let inside = Array("a1[A".utf8) + [byte] + Array("]:8080".utf8)
            XCTAssertEqual(inside.withUnsafeBytes { HTTP1Parser.isHostValue($0) }, HTTP1Syntax.isHostChar(byte))
        }
        XCTAssertTrue([UInt8]().withUnsafeBytes { HTTP1Parser.isHostValue($0) })
    }

    func testRequestsWithInvalidHostsAreRejected() {
        for host in ["exa mple.com", "a/b", "a@b", "caf\u{E9}"] {
            var parser = HTTP1Parser(role: .server)
            let events = drive(&parser, Array("GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n".utf8))
            guard case .invalidHost? = finalError(events) else {
                XCTFail("\(host): \(events)")
                continue
            }
        }
        var parser = HTTP1Parser(role: .server)
        let events = drive(&parser, Array("CONNECT a/b:443 HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        XCTAssertEqual(finalError(events), .invalidRequestTarget("a/b:443"))
    }
}
