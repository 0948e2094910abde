import Stepwise
import XCTest

final class RequestURITests: XCTestCase {
    func testRoundTrips() throws {
        let cases: [(String, String)] = [
            ("http://example.com/", "http://example.com/"), ("http://example.com", "http://example.com/"),
            ("https://h:8443/a%20b?c=d", "https://h:8443/a%20b?c=d"), ("http://h:80/x", "http://h/x"),
            ("http://[::1]:8080/x", "http://[::1]:8080/x"), ("ws://h/chat", "http://h/chat"),
            ("wss://h:443/", "https://h/"), ("http://h/p#fragment", "http://h/p"),
        ]
        for (uri, expected) in cases {
            XCTAssertEqual(try Request(uri: uri).toURI(withUserinfo: false), expected, uri)
            XCTAssertEqual(try Request(uri: uri).toURI(withUserinfo: true), expected, uri)
        }
    }

    func testUserinfoComesBackFromBasicCredentials() throws {
        let request = try Request(uri: "http://user:pass@h/x")
        XCTAssertEqual(try request.toURI(withUserinfo: false), "http://h/x")
        XCTAssertEqual(try request.toURI(withUserinfo: true), "http://user:pass@h/x")
        // An empty password leaves the colon out.
        XCTAssertEqual(try Request(uri: "http://user@h/").toURI(withUserinfo: true), "http://user@h/")
        XCTAssertEqual(try Request(uri: "http://user:@h/").toURI(withUserinfo: true), "http://user@h/")
        // User and password are encoded separately, so delimiters in them cannot break the URI.
        let tricky = try Request(uri: "http://h/")
        tricky.headers.append("authorization", basic("YTpiQGMvZA=="))  // "a:b@c/d"
        XCTAssertEqual(try tricky.toURI(withUserinfo: true), "http://a:b%40c%2Fd@h/")
        let noColon = try Request(uri: "http://h/")
        noColon.headers.append("authorization", "basic  bm9jb2xvbg== ")  // "nocolon", spaces around
        XCTAssertEqual(try noColon.toURI(withUserinfo: true), "http://nocolon@h/")
    }

    func testOtherCredentialsCannotBecomeUserinfo() throws {
        for value in ["Bearer abc", "Digest username=\"a\"", "Basic", "Basic not*base64", "Basic Zg", "Basic YTpi x"] {
            let request = try Request(uri: "http://h/")
            request.headers.append("authorization", value)
            assertThrows(try request.toURI(withUserinfo: true), .authorizationNotConvertible)
            XCTAssertEqual(try request.toURI(withUserinfo: false), "http://h/", value)
        }
    }

    func testConnectGivesTheProxyURI() throws {
        let request = try Request.connect(uri: "https://u:p@proxy.example:8443", authority: "example.com:443")
        XCTAssertEqual(try request.toURI(withUserinfo: false), "https://proxy.example:8443")
        XCTAssertEqual(try request.toURI(withUserinfo: true), "https://u:p@proxy.example:8443")
    }

    func testUsesTheFieldsRatherThanTheConnectionTarget() throws {
        let request = try Request(uri: "http://example.com/a")
        request.host = "192.0.2.1"
        request.port = 8080
        request.tls = true
        XCTAssertEqual(try request.toURI(withUserinfo: false), "http://example.com/a")
        request.headers.setAuthority("example.org:81")
        request.headers.setPath("/b?c")
        XCTAssertEqual(try request.toURI(withUserinfo: false), "http://example.org:81/b?c")
        // Without :scheme and :authority, tls, host and port stand in.
        request.headers.delete(":scheme")
        request.headers.delete(":authority")
        XCTAssertEqual(try request.toURI(withUserinfo: false), "https://192.0.2.1:8080/b?c")
    }

    func testOptionsAsteriskAndAbsoluteForm() throws {
        let options = try Request(uri: "http://example.com:8080/")
        options.headers.setMethod("OPTIONS")
        options.headers.setPath("*")
        XCTAssertEqual(try options.toURI(withUserinfo: false), "http://example.com:8080")

        let proxied = try Request(uri: "http://proxy:3128/")
        proxied.headers.setPath("https://example.com:443/x?y")
        XCTAssertEqual(try proxied.toURI(withUserinfo: false), "https://example.com:443/x?y")
    }

    func testInvalidTargets() throws {
        let request = try Request(uri: "http://h/")
        request.headers.setPath("/a b")
        assertThrows(try request.toURI(withUserinfo: false), .invalidTarget(.invalidCharacter(0x20, in: .path)))
        request.headers.setPath("/a#b")
        assertThrows(
            try request.toURI(withUserinfo: false), .invalidTarget(.invalidCharacter(UInt8(ascii: "#"), in: .path)))
        request.headers.setPath("*")
        assertThrows(try request.toURI(withUserinfo: false), .invalidTarget(.missingScheme))
        request.headers.setPath("mailto:x")
        assertThrows(try request.toURI(withUserinfo: false), .missingHost)
        request.headers.delete(":path")
        assertThrows(try request.toURI(withUserinfo: false), .invalidTarget(.empty))
    }
}
