import HTTPCore
import XCTest

final class AuthorityTests: XCTestCase {
    private func split(_ authority: String, _ scheme: String) throws -> [String] {
        let (host, port) = try HTTPUtil.splitAuthority(authority, scheme: scheme)
        return [host, String(port)]
    }

    private func assertFails(
        _ authority: String, scheme: String = "http", _ expected: AuthorityError, line: UInt = #line
    ) {
        XCTAssertThrowsError(try HTTPUtil.splitAuthority(authority, scheme: scheme), line: line) {
            error in
            XCTAssertEqual(error as? AuthorityError, expected, line: line)
        }
    }

    func testDefaultPorts() {
        XCTAssertEqual(HTTPUtil.defaultPort(forScheme: "http"), 80)
        XCTAssertEqual(HTTPUtil.defaultPort(forScheme: "ws"), 80)
        XCTAssertEqual(HTTPUtil.defaultPort(forScheme: "https"), 443)
        XCTAssertEqual(HTTPUtil.defaultPort(forScheme: "wss"), 443)
        XCTAssertEqual(HTTPUtil.defaultPort(forScheme: "HTTPS"), 443)
        XCTAssertNil(HTTPUtil.defaultPort(forScheme: "ftp"))
        XCTAssertNil(HTTPUtil.defaultPort(forScheme: ""))
    }

    // lua-http: "split_authority works"
    func testSplitAuthority() throws {
        XCTAssertEqual(try split("example.com", "http"), ["example.com", "80"])
        XCTAssertEqual(try split("example.com:8000", "http"), ["example.com", "8000"])
        assertFails("example.com", scheme: "madeupscheme", .unknownScheme("madeupscheme"))
        XCTAssertEqual(try split("[::1]", "https"), ["::1", "443"])
        XCTAssertEqual(try split("[::1]:8000", "https"), ["::1", "8000"])
    }

    func testSplitAuthorityMore() throws {
        XCTAssertEqual(try split("example.com:8000", "madeupscheme"), ["example.com", "8000"])
        XCTAssertEqual(
            try split("example.com:", "wss"), ["example.com", "443"], "an empty port means the default")
        XCTAssertEqual(try split("127.0.0.1:65535", "http"), ["127.0.0.1", "65535"])
        XCTAssertEqual(try split("h:0", "http"), ["h", "0"])
        XCTAssertEqual(try split("[2001:db8::1]:8080", "http"), ["2001:db8::1", "8080"])
        XCTAssertEqual(try split("[fe80::1%25eth0]:1", "http"), ["fe80::1%25eth0", "1"])
        XCTAssertEqual(try split("[::ffff:192.0.2.1]", "ws"), ["::ffff:192.0.2.1", "80"])
        XCTAssertEqual(try split("xn--bcher-kva.example", "http"), ["xn--bcher-kva.example", "80"])
    }

    func testSplitAuthorityRejectsMalformedInput() {
        assertFails("", .invalidHost(""))
        assertFails(":80", .invalidHost(":80"))
        assertFails("::1", .invalidHost("::1"))  // IPv6 must be bracketed
        assertFails("[::1", .invalidHost("[::1"))
        assertFails("[]:80", .invalidHost("[]:80"))
        assertFails("[example.com]:80", .invalidHost("[example.com]:80"))
        assertFails("[::1]x", .invalidPort("[::1]x"))
        assertFails("[::1]80", .invalidPort("[::1]80"))
        assertFails("user@example.com", .invalidHost("user@example.com"))
        assertFails("exa mple.com", .invalidHost("exa mple.com"))
        // RFC 3986 §3.2.2: a `%` in a host starts a two-digit escape (as `URI(parsing:)` checks).
        assertFails("a%zz:80", .invalidHost("a%zz:80"))
        assertFails("ho%", .invalidHost("ho%"))
        XCTAssertEqual(try? split("a%2Db", "http"), ["a%2Db", "80"], "a valid escape is kept as written")
        // RFC 6874 §2: a zone follows `%25` and is not empty.
        assertFails("[fe80::1%25]", .invalidHost("[fe80::1%25]"))
        assertFails("[fe80::1%eth0]", .invalidHost("[fe80::1%eth0]"))
        assertFails("example.com/path", .invalidHost("example.com/path"))
        assertFails("bücher.example", .invalidHost("bücher.example"))
        assertFails("example.com:65536", .invalidPort("example.com:65536"))
        assertFails("example.com:-1", .invalidPort("example.com:-1"))
        assertFails("example.com:+80", .invalidPort("example.com:+80"))
        assertFails("example.com:000080", .invalidPort("example.com:000080"))
        assertFails("example.com:8o", .invalidPort("example.com:8o"))
        assertFails(
            "example.com:99999999999999999999999", .invalidPort("example.com:99999999999999999999999"))
        XCTAssertEqual(
            String(describing: AuthorityError.unknownScheme("gopher")),
            "unknown scheme 'gopher': no default port")
    }

    // lua-http: "to_authority works"
    func testAuthority() {
        XCTAssertEqual(HTTPUtil.authority(host: "example.com", port: 80, scheme: "http"), "example.com")
        XCTAssertEqual(
            HTTPUtil.authority(host: "example.com", port: 8000, scheme: "http"), "example.com:8000")
        XCTAssertEqual(HTTPUtil.authority(host: "::1", port: 443, scheme: "https"), "[::1]")
        XCTAssertEqual(HTTPUtil.authority(host: "::1", port: 8000, scheme: "https"), "[::1]:8000")
    }

    func testAuthorityMore() throws {
        XCTAssertEqual(
            HTTPUtil.authority(host: "example.com", port: 443, scheme: "http"), "example.com:443")
        XCTAssertEqual(HTTPUtil.authority(host: "example.com", port: 80, scheme: nil), "example.com:80")
        XCTAssertEqual(
            HTTPUtil.authority(host: "example.com", port: 80, scheme: "gopher"), "example.com:80")
        XCTAssertEqual(
            HTTPUtil.authority(host: "[::1]", port: 80, scheme: "ws"), "[::1]", "no double brackets")
        // Round trips.
        for (host, port, scheme) in [
            ("a.example", 80, "http"), ("::1", 1234, "https"), ("10.0.0.1", 443, "wss"),
        ] {
            let text = HTTPUtil.authority(host: host, port: port, scheme: scheme)
            let (h, p) = try HTTPUtil.splitAuthority(text, scheme: scheme)
            XCTAssertEqual(h, host)
            XCTAssertEqual(p, port)
        }
    }
}
