import XCTest

@testable import HTTPCore

final class URIParsingTests: XCTestCase {
    private func assertFails(_ text: String, _ expected: URIError, line: UInt = #line) {
        XCTAssertThrowsError(try URI(parsing: text), "\(text)", line: line) { error in
            XCTAssertEqual(error as? URIError, expected, "\(text)", line: line)
        }
    }

    // MARK: Components

    func testAllComponents() throws {
        let uri = try URI(parsing: "HTTPS://us%40er:p%3Ass@Example.com:8443/a/b;c?q=1&r=%20#frag/x?y")
        XCTAssertEqual(uri.scheme, "https")
        XCTAssertEqual(uri.userinfo, "us%40er:p%3Ass")
        XCTAssertEqual(uri.host, "Example.com")
        XCTAssertEqual(uri.port, 8443)
        XCTAssertEqual(uri.path, "/a/b;c")
        XCTAssertEqual(uri.query, "q=1&r=%20")
        XCTAssertEqual(uri.fragment, "frag/x?y")
        XCTAssertFalse(uri.hostIsIPv6)
        XCTAssertEqual(uri.authorityHost, "Example.com")
        XCTAssertEqual(uri.description, "https://us%40er:p%3Ass@Example.com:8443/a/b;c?q=1&r=%20#frag/x?y")
    }

    func testMinimalHTTPURIHasAnEmptyPathAndNoOptionalParts() throws {
        let uri = try URI(parsing: "http://example.com")
        XCTAssertEqual(uri.host, "example.com")
        XCTAssertNil(uri.userinfo)
        XCTAssertNil(uri.port)
        XCTAssertEqual(uri.path, "")
        XCTAssertNil(uri.query)
        XCTAssertNil(uri.fragment)
        XCTAssertEqual(uri.description, "http://example.com")
    }

    func testEmptyQueryAndFragmentAreNotAbsent() throws {
        let uri = try URI(parsing: "http://a?#")
        XCTAssertEqual(uri.path, "")
        XCTAssertEqual(uri.query, "")
        XCTAssertEqual(uri.fragment, "")
        XCTAssertEqual(uri.description, "http://a?#")
        let fragmentOnly = try URI(parsing: "http://a/#x?y")
        XCTAssertNil(fragmentOnly.query)
        XCTAssertEqual(fragmentOnly.fragment, "x?y")
    }

    func testIPv6LiteralsLoseTheirBracketsAndGetThemBack() throws {
        let uri = try URI(parsing: "http://[2001:db8::1]:8080/x")
        XCTAssertEqual(uri.host, "2001:db8::1")
        XCTAssertEqual(uri.port, 8080)
        XCTAssertTrue(uri.hostIsIPv6)
        XCTAssertEqual(uri.authorityHost, "[2001:db8::1]")
        XCTAssertEqual(uri.description, "http://[2001:db8::1]:8080/x")

        let noPort = try URI(parsing: "https://[::1]")
        XCTAssertEqual(noPort.host, "::1")
        XCTAssertNil(noPort.port)
        XCTAssertEqual(try URI(parsing: "http://[::ffff:192.0.2.1]/").host, "::ffff:192.0.2.1")
    }

    /// RFC 6874: a zone identifier follows `%25` and is kept encoded as written.
    func testIPv6ZoneIdentifiers() throws {
        XCTAssertEqual(try URI(parsing: "http://[fe80::1%25eth0]:80/").host, "fe80::1%25eth0")
        XCTAssertEqual(try URI(parsing: "http://[fe80::1%25en%31]/").host, "fe80::1%25en%31")
        assertFails("http://[fe80::1%eth0]/", .invalidHost("[fe80::1%eth0]"))
        assertFails("http://[fe80::1%25]/", .invalidHost("[fe80::1%25]"))
    }

    func testIPv4AndRegNameHosts() throws {
        XCTAssertEqual(try URI(parsing: "http://192.0.2.1:81/").host, "192.0.2.1")
        XCTAssertFalse(try URI(parsing: "http://192.0.2.1/").hostIsIPv6)
        // reg-name allows sub-delims and percent-encoding.
        XCTAssertEqual(try URI(parsing: "http://a-b.c_d~e!$&'()*+,;=%C3%A9/").host, "a-b.c_d~e!$&'()*+,;=%C3%A9")
    }

    func testPorts() throws {
        XCTAssertEqual(try URI(parsing: "http://a:0/").port, 0)
        XCTAssertEqual(try URI(parsing: "http://a:65535/").port, 65535)
        XCTAssertEqual(try URI(parsing: "http://a:00080/").port, 80)
        // An empty port is allowed (RFC 3986 §3.2.3) and means none; it is dropped when written.
        let empty = try URI(parsing: "http://a:/x")
        XCTAssertNil(empty.port)
        XCTAssertEqual(empty.description, "http://a/x")
        XCTAssertNil(try URI(parsing: "http://[::1]:/").port)
    }

    func testUserinfo() throws {
        XCTAssertEqual(try URI(parsing: "http://user@h/").userinfo, "user")
        XCTAssertEqual(try URI(parsing: "http://:@h/").userinfo, ":")
        XCTAssertEqual(try URI(parsing: "http://@h/").userinfo, "")
        XCTAssertEqual(try URI(parsing: "http://a:b:c@h:1/").userinfo, "a:b:c")
        // The last "@" separates, so a stray "@" in the userinfo is reported there.
        assertFails("http://a@b@h/", .invalidCharacter(UInt8(ascii: "@"), in: .userinfo))
        // "@" is fine in a path.
        let uri = try URI(parsing: "http://h/@x")
        XCTAssertNil(uri.userinfo)
        XCTAssertEqual(uri.path, "/@x")
    }

    func testURIsWithoutAnAuthority() throws {
        let mail = try URI(parsing: "mailto:someone@example.com")
        XCTAssertNil(mail.host)
        XCTAssertNil(mail.authorityHost)
        XCTAssertEqual(mail.path, "someone@example.com")
        XCTAssertEqual(mail.description, "mailto:someone@example.com")
        let file = try URI(parsing: "file:///etc/hosts")
        XCTAssertEqual(file.host, "")
        XCTAssertEqual(file.path, "/etc/hosts")
        XCTAssertEqual(file.description, "file:///etc/hosts")
        XCTAssertEqual(try URI(parsing: "urn:isbn:0451450523").path, "isbn:0451450523")
        XCTAssertEqual(try URI(parsing: "X-Custom+1.0:").scheme, "x-custom+1.0")
    }

    func testOriginForm() throws {
        let cases: [(String, String)] = [
            ("http://a", "/"), ("http://a/", "/"), ("http://a?q", "/?q"), ("http://a/?", "/?"),
            ("http://a/b/c?d=e#f", "/b/c?d=e"), ("http://a#f", "/"), ("http://a//b", "//b"),
        ]
        for (uri, target) in cases {
            XCTAssertEqual(try URI(parsing: uri).originForm, target, uri)
        }
    }

    func testDescriptionRoundTrips() throws {
        for text in [
            "http://example.com/", "https://u:p@[::1]:1/a?b#c", "ws://h:8080/chat?x", "http://h/%2F%20?%3D#%23",
            "mailto:a@b", "http://h?", "http://h#",
        ] {
            XCTAssertEqual(try URI(parsing: text).description, text)
        }
    }

    // MARK: Errors

    func testMissingOrInvalidScheme() {
        assertFails("", .empty)
        assertFails("example.com/path", .missingScheme)
        assertFails("//example.com/path", .missingScheme)
        assertFails("/a:b", .missingScheme)
        assertFails("?a:b", .missingScheme)
        assertFails(":foo", .missingScheme)
        assertFails("1http://a/", .invalidScheme("1http"))
        assertFails("ht_tp://a/", .invalidScheme("ht_tp"))
        assertFails("ht tp://a/", .invalidScheme("ht tp"))
    }

    func testSpacesControlsAndNonASCIIAreRejectedWithTheirComponent() {
        assertFails("http://a/b c", .invalidCharacter(0x20, in: .path))
        assertFails("http://a/b\r\nX: y", .invalidCharacter(0x0D, in: .path))
        assertFails("http://a/\u{0}", .invalidCharacter(0x00, in: .path))
        assertFails("http://a/\u{7F}", .invalidCharacter(0x7F, in: .path))
        assertFails("http://a/é", .invalidCharacter(0xC3, in: .path))
        assertFails("http://a/?q=a b", .invalidCharacter(0x20, in: .query))
        assertFails("http://a/#a b", .invalidCharacter(0x20, in: .fragment))
        assertFails("http://a b/", .invalidCharacter(0x20, in: .host))
        assertFails("http://u ser@a/", .invalidCharacter(0x20, in: .userinfo))
        assertFails("http://a\t/", .invalidCharacter(0x09, in: .host))
        assertFails(" http://a/", .invalidScheme(" http"))
        assertFails("http://a/ ", .invalidCharacter(0x20, in: .path))
    }

    func testCharactersOutsideTheGrammarAreRejected() {
        for byte in "<>\"{}|\\^`[]".utf8 {
            let s = String(decoding: [byte], as: UTF8.self)
            assertFails("http://a/" + s, .invalidCharacter(byte, in: .path))
            assertFails("http://a/?" + s, .invalidCharacter(byte, in: .query))
        }
        assertFails("http://a/##", .invalidCharacter(UInt8(ascii: "#"), in: .fragment))
        assertFails("http://a/?a#b#c", .invalidCharacter(UInt8(ascii: "#"), in: .fragment))
    }

    func testInvalidPercentEncoding() {
        assertFails("http://a/%", .invalidPercentEncoding(in: .path))
        assertFails("http://a/%4", .invalidPercentEncoding(in: .path))
        assertFails("http://a/%zz", .invalidPercentEncoding(in: .path))
        assertFails("http://a/?%G0", .invalidPercentEncoding(in: .query))
        assertFails("http://a/#%", .invalidPercentEncoding(in: .fragment))
        assertFails("http://u%2@a/", .invalidPercentEncoding(in: .userinfo))
        assertFails("http://a%/", .invalidPercentEncoding(in: .host))
        XCTAssertEqual(try URI(parsing: "http://a/%4a%4A").path, "/%4a%4A")
    }

    func testInvalidHosts() {
        assertFails("http://[::1/", .invalidHost("[::1"))
        assertFails("http://[::1:80/", .invalidHost("[::1:80"))
        assertFails("http://[]/", .invalidHost("[]"))
        assertFails("http://[192.0.2.1]/", .invalidHost("[192.0.2.1]"))
        assertFails("http://[example.com]/", .invalidHost("[example.com]"))
        assertFails("http://[v1.fe]/", .invalidHost("[v1.fe]"))
        assertFails("http://[::g]/", .invalidHost("[::g]"))
        // An unbracketed IPv6 address.
        assertFails("http://::1/", .invalidHost("::1"))
        assertFails("http://2001:db8::1:80/", .invalidHost("2001:db8::1:80"))
        assertFails("http://a[b]/", .invalidCharacter(UInt8(ascii: "["), in: .host))
    }

    func testInvalidPorts() {
        assertFails("http://a:65536/", .invalidPort("a:65536"))
        assertFails("http://a:99999999999999999999999/", .invalidPort("a:99999999999999999999999"))
        assertFails("http://a:-1/", .invalidPort("a:-1"))
        assertFails("http://a:8o/", .invalidPort("a:8o"))
        assertFails("http://a:+80/", .invalidPort("a:+80"))
        assertFails("http://[::1]x/", .invalidPort("[::1]x"))
        assertFails("http://[::1]:x/", .invalidPort("[::1]:x"))
        // The userinfo is not repeated in errors about the host or port.
        assertFails("http://user:secret@a:x/", .invalidPort("a:x"))
    }

    func testErrorMessagesNameTheProblem() {
        XCTAssertEqual(
            URIError.invalidCharacter(0x20, in: .path).description, "invalid character 0x20 (space) in URI path")
        XCTAssertEqual(URIError.invalidCharacter(0x0A, in: .query).description, "invalid character 0x0A in URI query")
        XCTAssertEqual(
            URIError.invalidCharacter(UInt8(ascii: "<"), in: .path).description, "invalid character '<' in URI path")
        XCTAssertEqual(
            URIError.invalidCharacter(0xC3, in: .host).description,
            "invalid character 0xC3 (non-ASCII: percent-encode it) in URI host")
        XCTAssertEqual(
            URIError.invalidPort("a:x").description, "invalid port in URI authority 'a:x': must be 0-65535")
        XCTAssertTrue(URIError.missingScheme.description.contains("no scheme"))
        XCTAssertTrue(URIError.invalidScheme("1a").description.contains("'1a'"))
        XCTAssertTrue(URIError.invalidPercentEncoding(in: .path).description.contains("path"))
        XCTAssertTrue(URIError.invalidHost("[::1").description.contains("'[::1'"))
    }

    func testCharacterSetMasksMatchTheirDefinitions() {
        let alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        let digits = "0123456789"
        let unreserved = alpha + digits + "-._~"
        let subDelims = "!$&'()*+,;="
        func check(_ set: ByteSet, _ members: String, _ label: String) {
            for byte in UInt8(0)...UInt8(255) {
                XCTAssertEqual(set.contains(byte), members.utf8.contains(byte), "\(label): byte \(byte)")
            }
        }
        check(.uriSchemeChar, alpha + digits + "+-.", "uriSchemeChar")
        check(.uriUserinfoChar, unreserved + subDelims + ":", "uriUserinfoChar")
        check(.uriPathChar, unreserved + subDelims + ":@/", "uriPathChar")
        check(.uriQueryChar, unreserved + subDelims + ":@/?", "uriQueryChar")
        check(.uriSchemeEnd, ":/?#", "uriSchemeEnd")
        check(.uriAuthorityEnd, "/?#", "uriAuthorityEnd")
        check(.uriPathEnd, "?#", "uriPathEnd")
    }

    // MARK: Resolution (RFC 3986 §5.4)

    private func resolve(_ reference: String, _ base: String = "http://a/b/c/d;p?q") throws -> String {
        try URI.resolve(reference: reference, against: URI(parsing: base)).description
    }

    /// Every example of RFC 3986 §5.4.1 and §5.4.2 (reference, result against
    /// `http://a/b/c/d;p?q`), whole URIs this time.
    static let rfc3986ResolutionExamples: [(String, String)] = [
        // §5.4.1 normal examples
        ("g:h", "g:h"), ("g", "http://a/b/c/g"), ("./g", "http://a/b/c/g"), ("g/", "http://a/b/c/g/"),
        ("/g", "http://a/g"), ("//g", "http://g"), ("?y", "http://a/b/c/d;p?y"),
        ("g?y", "http://a/b/c/g?y"), ("#s", "http://a/b/c/d;p?q#s"), ("g#s", "http://a/b/c/g#s"),
        ("g?y#s", "http://a/b/c/g?y#s"), (";x", "http://a/b/c/;x"), ("g;x", "http://a/b/c/g;x"),
        ("g;x?y#s", "http://a/b/c/g;x?y#s"), ("", "http://a/b/c/d;p?q"), (".", "http://a/b/c/"),
        ("./", "http://a/b/c/"), ("..", "http://a/b/"), ("../", "http://a/b/"), ("../g", "http://a/b/g"),
        ("../..", "http://a/"), ("../../", "http://a/"), ("../../g", "http://a/g"),
        // §5.4.2 abnormal examples
        ("../../../g", "http://a/g"), ("../../../../g", "http://a/g"), ("/./g", "http://a/g"),
        ("/../g", "http://a/g"), ("g.", "http://a/b/c/g."), (".g", "http://a/b/c/.g"),
        ("g..", "http://a/b/c/g.."), ("..g", "http://a/b/c/..g"), ("./../g", "http://a/b/g"),
        ("./g/.", "http://a/b/c/g/"), ("g/./h", "http://a/b/c/g/h"), ("g/../h", "http://a/b/c/h"),
        ("g;x=1/./y", "http://a/b/c/g;x=1/y"), ("g;x=1/../y", "http://a/b/c/y"),
        ("g?y/./x", "http://a/b/c/g?y/./x"), ("g?y/../x", "http://a/b/c/g?y/../x"),
        ("g#s/./x", "http://a/b/c/g#s/./x"), ("g#s/../x", "http://a/b/c/g#s/../x"),
        ("http:g", "http:g"),
    ]

    func testRFC3986ResolutionExamples() throws {
        for (reference, expected) in Self.rfc3986ResolutionExamples {
            XCTAssertEqual(try resolve(reference), expected, "reference \(reference)")
        }
    }

    func testResolutionKeepsOrReplacesTheAuthority() throws {
        XCTAssertEqual(try resolve("//other:81/x?y", "https://u@a:8443/b"), "https://other:81/x?y")
        XCTAssertEqual(try resolve("//[::1]/x", "https://a/b"), "https://[::1]/x")
        // A relative reference keeps the base's userinfo, host and port.
        XCTAssertEqual(try resolve("x", "https://u@a:8443/b/c"), "https://u@a:8443/b/x")
        XCTAssertEqual(try resolve("HTTP://B/./c/../d", "https://a/"), "http://B/d")
    }

    /// RFC 3986 §5.2.3: merging with a base that has an authority and an empty path puts `/` first.
    func testResolutionAgainstAnEmptyBasePath() throws {
        XCTAssertEqual(try resolve("g", "http://a"), "http://a/g")
        XCTAssertEqual(try resolve("../g", "http://a"), "http://a/g")
        XCTAssertEqual(try resolve("?q", "http://a"), "http://a?q")
        XCTAssertEqual(try resolve("g", "mailto:x"), "mailto:g")
    }

    /// RFC 3986 §5.2.4's steps on rootless paths (non-hierarchical schemes): a `..` that removes
    /// the first segment leaves the `/` that followed it, so the path becomes absolute.
    func testResolutionOfRootlessPathsFollowsTheRFCSteps() throws {
        XCTAssertEqual(try resolve("../c", "foo:a/b"), "foo:/c")
        XCTAssertEqual(try resolve("..", "foo:a/b"), "foo:/")
        XCTAssertEqual(try resolve("./c", "foo:a/b"), "foo:a/c")
        XCTAssertEqual(try resolve("c", "foo:a/b"), "foo:a/c")
        XCTAssertEqual(try resolve("foo:a/../b", "http://x/"), "foo:/b")
        XCTAssertEqual(try resolve("foo:../b", "http://x/"), "foo:b")
        XCTAssertEqual(try resolve("foo:./b/.", "http://x/"), "foo:b/")
        // Absolute paths resolve as before.
        XCTAssertEqual(try resolve("../../x", "foo:/a/b/c"), "foo:/x")
        // A path that starts "//" after resolution is written so that it reads back as a path.
        let doubled = try URI.resolve(reference: "..//b", against: URI(parsing: "foo:a/b"))
        XCTAssertEqual(doubled.path, "//b")
        XCTAssertNil(doubled.host)
        XCTAssertEqual(doubled.description, "foo:/.//b")
        let reread = try URI(parsing: doubled.description)
        XCTAssertNil(reread.host)
    }

    func testResolutionRejectsInvalidReferences() throws {
        let base = try URI(parsing: "http://a/b")
        func assertResolveFails(_ reference: String, _ expected: URIError, line: UInt = #line) {
            XCTAssertThrowsError(try URI.resolve(reference: reference, against: base), line: line) { error in
                XCTAssertEqual(error as? URIError, expected, line: line)
            }
        }
        assertResolveFails("a b", .invalidCharacter(0x20, in: .path))
        assertResolveFails("1x:y", .invalidScheme("1x"))
        assertResolveFails(":x", .missingScheme)
        assertResolveFails("//[::1", .invalidHost("[::1"))
        assertResolveFails("/x?%", .invalidPercentEncoding(in: .query))
        // An empty reference is the base itself (RFC 3986 §5.4.1), not an error.
        XCTAssertEqual(try URI.resolve(reference: "", against: base), base)
    }
}
