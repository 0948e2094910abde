import Stepwise
import XCTest

final class RequestRedirectTests: XCTestCase {
    /// Response fields of a redirect.
    private func response(_ status: String, _ location: String?) -> Headers {
        var headers = Headers()
        headers.append(":status", status)
        if let location { headers.append("location", location) }
        return headers
    }

    private func redirect(_ request: Request, _ status: String = "302", to location: String) throws -> Request {
        try request.handleRedirect(response(status, location))
    }

    /// A POST with a body of `size` bytes and the fields that describe it.
    private func post(_ uri: String = "http://example.com/form", size: Int = 3) throws -> Request {
        let request = try Request(uri: uri)
        request.headers.setMethod("POST")
        request.headers.append("content-type", "application/x-www-form-urlencoded")
        request.headers.append("content-language", "en")
        request.setBody(bytes: [UInt8](repeating: 0x61, count: size))
        return request
    }

    // MARK: Method and body

    /// Every status × GET/POST × post301 × post302; the expected method is spelled out per row.
    func testMethodMatrix() throws {
        let rows: [(status: String, method: String, post301: Bool, post302: Bool, expected: String)] = [
            ("301", "GET", false, false, "GET"), ("301", "POST", false, false, "GET"),
            ("301", "POST", true, false, "POST"), ("301", "POST", false, true, "GET"),
            ("301", "POST", true, true, "POST"), ("301", "GET", true, true, "GET"),
            ("302", "GET", false, false, "GET"), ("302", "POST", false, false, "GET"),
            ("302", "POST", true, false, "GET"), ("302", "POST", false, true, "POST"),
            ("302", "POST", true, true, "POST"), ("302", "GET", true, true, "GET"),
            ("303", "GET", false, false, "GET"), ("303", "POST", false, false, "GET"),
            ("303", "POST", true, true, "GET"), ("303", "GET", true, true, "GET"),
            ("307", "GET", false, false, "GET"), ("307", "POST", false, false, "POST"),
            ("307", "POST", true, true, "POST"), ("308", "GET", false, false, "GET"),
            ("308", "POST", false, false, "POST"), ("308", "POST", true, true, "POST"),
        ]
        for row in rows {
            let label = "\(row.status) \(row.method) post301=\(row.post301) post302=\(row.post302)"
            let request = try post()
            request.headers.setMethod(row.method)
            request.post301 = row.post301
            request.post302 = row.post302
            let next = try redirect(request, row.status, to: "/next")
            XCTAssertEqual(next.headers.first(":method"), row.expected, label)
            let keepsBody = row.expected == row.method
            XCTAssertEqual(next.body != nil, keepsBody, label)
            XCTAssertEqual(next.headers.has("content-length"), keepsBody, label)
            XCTAssertEqual(next.headers.has("content-type"), keepsBody, label)
            XCTAssertEqual(next.post301, row.post301, label)
            XCTAssertEqual(next.post302, row.post302, label)
        }
    }

    func testPostChangedToGETLosesBodyAndItsFields() throws {
        let request = try post(size: 2 << 20)
        request.headers.append("transfer-encoding", "chunked")
        request.headers.append("content-encoding", "gzip")
        request.headers.append("content-location", "/form")
        request.headers.append("accept", "*/*")
        XCTAssertTrue(request.expectsContinue)
        let next = try redirect(request, "303", to: "/done")
        XCTAssertNil(next.body)
        XCTAssertFalse(next.expectsContinue)
        XCTAssertEqual(
            lines(next.headers),
            [
                ":method: GET", ":scheme: http", ":authority: example.com", ":path: /done",
                "user-agent: stepwise/0.1.0", "accept: */*", "referer: http://example.com/form",
            ])
    }

    func testSeeOtherTurnsEveryMethodButGETAndHEADIntoGET() throws {
        for (method, expected) in [("PUT", "GET"), ("DELETE", "GET"), ("PATCH", "GET"), ("HEAD", "HEAD")] {
            let request = try post()
            request.headers.setMethod(method)
            XCTAssertEqual(try redirect(request, "303", to: "/x").headers.first(":method"), expected, method)
        }
    }

    func testMovedAndFoundKeepMethodsOtherThanPOST() throws {
        for status in ["301", "302"] {
            let request = try post()
            request.headers.setMethod("PUT")
            let next = try redirect(request, status, to: "/x")
            XCTAssertEqual(next.headers.first(":method"), "PUT", status)
            XCTAssertEqual(next.headers.first("content-length"), "3", status)
            XCTAssertNotNil(next.body, status)
        }
    }

    func testTemporaryAndPermanentRedirectsKeepTheWholeBody() throws {
        for status in ["307", "308"] {
            let request = try post(size: 1 << 20)
            let next = try redirect(request, status, to: "https://other.example/upload")
            XCTAssertEqual(next.headers.first(":method"), "POST")
            guard case .bytes(let bytes) = next.body else { return XCTFail("body lost on \(status)") }
            XCTAssertEqual(bytes.count, 1 << 20)
            XCTAssertEqual(next.headers.first("content-length"), "1048576")
            XCTAssertEqual(next.headers.first("content-type"), "application/x-www-form-urlencoded")
            XCTAssertTrue(next.expectsContinue)
        }
    }

    // MARK: Locations

    func testRelativeLocations() throws {
        let request = try Request(uri: "http://example.com/a/b/c?x=1")
        let cases: [(String, String)] = [
            ("d", "/a/b/d"), ("./d", "/a/b/d"), ("../d", "/a/d"), ("../../d", "/d"), ("../../../../d", "/d"),
            ("..", "/a/"), ("d/", "/a/b/d/"), ("/abs?q", "/abs?q"), ("/x/./y/../z", "/x/z"), ("?q=2", "/a/b/c?q=2"),
            ("#frag", "/a/b/c?x=1"), ("d#frag", "/a/b/d"), ("", "/a/b/c?x=1"),
        ]
        for (location, path) in cases {
            let next = try redirect(request, to: location)
            XCTAssertEqual(next.headers.first(":path"), path, location)
            XCTAssertEqual(next.headers.first(":authority"), "example.com", location)
            XCTAssertEqual(next.headers.first(":scheme"), "http", location)
            XCTAssertEqual(next.host, "example.com", location)
            XCTAssertEqual(next.port, 80, location)
            XCTAssertFalse(next.tls, location)
        }
    }

    func testRelativeLocationFromTheRootPath() throws {
        let next = try redirect(try Request(uri: "http://example.com"), to: "login")
        XCTAssertEqual(next.headers.first(":path"), "/login")
    }

    func testSameAuthorityKeepsACustomConnectionTarget() throws {
        let request = try Request(uri: "https://example.com/a")
        request.host = "192.0.2.10"
        request.port = 8443
        request.sendName = .named("example.com")
        for location in ["/b", "b", "//example.com/b", "https://EXAMPLE.com:443/b"] {
            let next = try redirect(request, to: location)
            XCTAssertEqual(next.host, "192.0.2.10", location)
            XCTAssertEqual(next.port, 8443, location)
            XCTAssertEqual(next.sendName, .named("example.com"), location)
            XCTAssertEqual(next.headers.first(":path"), "/b", location)
        }
    }

    /// A `host` field is the authority `go()` sends, so the location is resolved against it: the
    /// next request has it as `:authority` (no `host` field beside it) while the connection
    /// target stays, until a location names another authority.
    func testAHostFieldIsTheAuthorityTheLocationIsResolvedAgainst() throws {
        let request = try Request(uri: "http://192.0.2.10:8080/a")
        request.headers.append("host", "example.com")
        let relative = try redirect(request, to: "/b")
        XCTAssertEqual(relative.headers.first(":authority"), "example.com")
        XCTAssertFalse(relative.headers.has("host"))
        XCTAssertEqual(relative.headers.first("referer"), "http://example.com/a")
        XCTAssertEqual(relative.host, "192.0.2.10")
        XCTAssertEqual(relative.port, 8080)
        let elsewhere = try redirect(request, to: "http://192.0.2.10:8080/c")
        XCTAssertEqual(elsewhere.headers.first(":authority"), "192.0.2.10:8080")
        XCTAssertFalse(elsewhere.headers.has("host"))
        XCTAssertEqual(request.headers.first("host"), "example.com", "the request redirected is not changed")
    }

    func testSchemeRelativeLocationMovesToTheNewHost() throws {
        let request = try Request(uri: "https://example.com/a")
        request.sendName = .named("custom.example")
        let next = try redirect(request, to: "//other.example:8080/x?y")
        XCTAssertTrue(next.tls)
        XCTAssertEqual(next.host, "other.example")
        XCTAssertEqual(next.port, 8080)
        XCTAssertEqual(next.sendName, .automatic)
        XCTAssertEqual(next.sniHostName, "other.example")
        XCTAssertEqual(next.headers.first(":scheme"), "https")
        XCTAssertEqual(next.headers.first(":authority"), "other.example:8080")
        XCTAssertEqual(next.headers.first(":path"), "/x?y")
    }

    func testAbsoluteLocations() throws {
        let request = try Request(uri: "http://example.com/a")
        let secure = try redirect(request, to: "https://other.example/b#frag")
        XCTAssertTrue(secure.tls)
        XCTAssertEqual(secure.host, "other.example")
        XCTAssertEqual(secure.port, 443)
        XCTAssertEqual(secure.headers.first(":scheme"), "https")
        XCTAssertEqual(secure.headers.first(":authority"), "other.example")
        XCTAssertEqual(secure.headers.first(":path"), "/b")

        // Same host, other scheme: the port changes with it.
        let upgraded = try redirect(request, "301", to: "https://example.com/a")
        XCTAssertTrue(upgraded.tls)
        XCTAssertEqual(upgraded.port, 443)
        XCTAssertEqual(upgraded.headers.first(":authority"), "example.com")

        let ipv6 = try redirect(request, to: "http://[::1]:8080")
        XCTAssertEqual(ipv6.host, "::1")
        XCTAssertEqual(ipv6.port, 8080)
        XCTAssertEqual(ipv6.headers.first(":authority"), "[::1]:8080")
        XCTAssertEqual(ipv6.headers.first(":path"), "/")

        let webSocket = try redirect(request, to: "wss://ws.example/chat")
        XCTAssertTrue(webSocket.tls)
        XCTAssertEqual(webSocket.headers.first(":scheme"), "https")
    }

    // MARK: Referer

    func testRefererIsTheOriginalURIWithoutUserinfo() throws {
        let request = try Request(uri: "http://user:secret@example.com/a/b?q=1#frag")
        let next = try redirect(request, to: "/c")
        XCTAssertEqual(next.headers.values(for: "referer"), ["http://example.com/a/b?q=1"])
        // Followed again, the referer is replaced, not repeated.
        let third = try redirect(next, to: "https://example.com/d")
        XCTAssertEqual(third.headers.values(for: "referer"), ["http://example.com/c"])
    }

    func testRefererIsDroppedFromHTTPSToHTTP() throws {
        let request = try Request(uri: "https://example.com/secret")
        request.headers.append("referer", "https://example.com/earlier")
        XCTAssertFalse(try redirect(request, to: "http://example.com/plain").headers.has("referer"))
        XCTAssertFalse(try redirect(request, to: "ws://example.com/plain").headers.has("referer"))
        XCTAssertEqual(
            try redirect(request, to: "https://other.example/").headers.first("referer"), "https://example.com/secret")
        XCTAssertEqual(
            try redirect(try Request(uri: "http://example.com/"), to: "https://example.com/").headers.first("referer"),
            "http://example.com/")
    }

    // MARK: Credentials

    func testAuthorizationStaysWithinTheOrigin() throws {
        let request = try Request(uri: "https://user:pw@example.com/a")
        request.headers.append("cookie", "session=1")
        request.headers.append("proxy-authorization", "Basic cHJveHk6cHc=")
        let credentials = request.headers.first("authorization")
        XCTAssertNotNil(credentials)

        for location in ["/b", "b", "https://example.com/b", "//EXAMPLE.COM:443/b"] {
            let next = try redirect(request, to: location)
            XCTAssertEqual(next.headers.first("authorization"), credentials, location)
            XCTAssertEqual(next.headers.first("cookie"), "session=1", location)
        }
        // Another host, another port, or another scheme is another origin.
        let otherOrigins = [
            "https://other.example/b", "https://example.com:8443/b", "http://example.com/b", "//evil/b",
            // Same host and port, but no TLS.
            "http://example.com:443/b",
        ]
        for location in otherOrigins {
            let next = try redirect(request, to: location)
            XCTAssertFalse(next.headers.has("authorization"), location)
            XCTAssertFalse(next.headers.has("cookie"), location)
            // Credentials for the proxy are not the origin's.
            XCTAssertEqual(next.headers.first("proxy-authorization"), "Basic cHJveHk6cHc=", location)
        }
        // The original keeps its credentials.
        XCTAssertEqual(request.headers.first("authorization"), credentials)
    }

    func testUserinfoInTheLocationSetsCredentials() throws {
        let request = try Request(uri: "http://example.com/")
        let next = try redirect(request, to: "http://us%40er:pw@other.example/")
        // base64("us@er:pw")
        XCTAssertEqual(next.headers.first("authorization"), basic("dXNAZXI6cHc="))
        XCTAssertEqual(next.headers.fields.first { $0.name == "authorization" }?.neverIndex, true)
        XCTAssertEqual(next.headers.first(":authority"), "other.example")
        XCTAssertEqual(try next.toURI(withUserinfo: true), "http://us%40er:pw@other.example/")
    }

    // MARK: Limits and errors

    func testEachRedirectUsesOneOfMaxRedirects() throws {
        var request = try Request(uri: "http://example.com/0")
        XCTAssertEqual(request.maxRedirects, 5)
        for step in 1...5 {
            request = try redirect(request, to: "/\(step)")
            XCTAssertEqual(request.maxRedirects, 5 - step)
        }
        assertThrows(try redirect(request, to: "/6"), .tooManyRedirects)
        request.maxRedirects = -1
        assertThrows(try redirect(request, to: "/6"), .tooManyRedirects)
        request.maxRedirects = 1
        XCTAssertEqual(try redirect(request, to: "/x").maxRedirects, 0)
    }

    func testRedirectErrors() throws {
        let request = try Request(uri: "http://example.com/a")
        assertThrows(try request.handleRedirect(response("302", nil)), .missingLocation)
        assertThrows(try redirect(request, to: "/a\u{1}b"), .invalidLocation(.invalidCharacter(0x01, in: .path)))
        assertThrows(try redirect(request, to: "/a\r\nx: y"), .invalidLocation(.invalidCharacter(0x0D, in: .path)))
        assertThrows(try redirect(request, to: "http://[::1/"), .invalidLocation(.invalidHost("[::1")))
        assertThrows(try redirect(request, to: "ftp://example.com/file"), .unsupportedScheme("ftp"))
        assertThrows(try redirect(request, to: "mailto:someone@example.com"), .unsupportedScheme("mailto"))
        assertThrows(try redirect(request, to: "http:///nohost"), .missingHost)
        request.headers.setPath("/bad path")
        assertThrows(try redirect(request, to: "/x"), .invalidTarget(.invalidCharacter(0x20, in: .path)))
    }

    /// Locations real servers send that RFC 3986 does not allow are percent-encoded, as browsers
    /// and curl do, instead of failing the redirect.
    func testSloppyLocationsArePercentEncoded() throws {
        let request = try Request(uri: "http://example.com/a")
        XCTAssertEqual(
            try redirect(request, to: "/list?a[]=1&a[]=2").headers.first(":path"), "/list?a%5B%5D=1&a%5B%5D=2")
        XCTAssertEqual(try redirect(request, to: "/search?q=a b|c").headers.first(":path"), "/search?q=a%20b%7Cc")
        XCTAssertEqual(try redirect(request, to: "/caf\u{E9}?100%").headers.first(":path"), "/caf%C3%A9?100%25")
        let literal = try redirect(request, to: "http://[::1]:8080/x?y[0]=1")
        XCTAssertEqual(literal.headers.first(":authority"), "[::1]:8080")
        XCTAssertEqual(literal.headers.first(":path"), "/x?y%5B0%5D=1")
        // Valid escapes are kept as they are.
        XCTAssertEqual(try redirect(request, to: "/%7E x").headers.first(":path"), "/%7E%20x")
    }

    func testTheOriginalRequestIsNotChanged() throws {
        let request = try post()
        let before = request.headers
        let next = try redirect(request, "303", to: "https://other.example/")
        XCTAssertFalse(next === request)
        XCTAssertEqual(request.headers, before)
        XCTAssertEqual(request.host, "example.com")
        XCTAssertFalse(request.tls)
        XCTAssertEqual(request.maxRedirects, 5)
        XCTAssertNotNil(request.body)
    }

    func testSettingsCarryOver() throws {
        let request = try Request(uri: "https://example.com/")
        let context = try TLSContext.client(verify: false)
        request.tlsContext = context
        request.version = .http11
        request.expect100Timeout = 3
        request.followRedirects = false
        let next = try redirect(request, to: "https://other.example/")
        XCTAssertTrue(next.tlsContext === context)
        XCTAssertEqual(next.version, .http11)
        XCTAssertEqual(next.expect100Timeout, 3)
        XCTAssertFalse(next.followRedirects)
    }

    // MARK: CONNECT and proxies

    func testConnectRedirectMovesToAnotherProxy() throws {
        let request = try Request.connect(uri: "http://u:p@proxy.example:3128", authority: "example.com:443")
        let same = try redirect(request, "307", to: "/")
        XCTAssertEqual(same.headers.first("proxy-authorization"), request.headers.first("proxy-authorization"))
        let next = try redirect(request, "307", to: "https://proxy2.example:8443")
        XCTAssertEqual(next.host, "proxy2.example")
        XCTAssertEqual(next.port, 8443)
        XCTAssertTrue(next.tls)
        XCTAssertEqual(next.headers.first(":method"), "CONNECT")
        XCTAssertEqual(next.headers.first(":authority"), "example.com:443")
        XCTAssertFalse(next.headers.has(":path"))
        XCTAssertFalse(next.headers.has(":scheme"))
        XCTAssertFalse(next.headers.has("proxy-authorization"))
        assertThrows(try redirect(request, to: "http://proxy2/x"), .connectWithPath)
        assertThrows(try redirect(request, to: "http://proxy2?x"), .connectWithQuery)
        // 303 does not turn CONNECT into GET.
        XCTAssertEqual(try redirect(request, "303", to: "http://p3:1").headers.first(":method"), "CONNECT")
    }

    func testAbsoluteFormTargetStaysAbsoluteAndKeepsTheProxy() throws {
        let request = try Request(uri: "http://proxy.example:3128/")
        request.headers.setPath("http://example.com/a/b")
        request.headers.setAuthority("example.com")
        let relative = try redirect(request, to: "c")
        XCTAssertEqual(relative.headers.first(":path"), "http://example.com/a/c")
        XCTAssertEqual(relative.host, "proxy.example")
        XCTAssertEqual(relative.port, 3128)
        let moved = try redirect(request, to: "http://other.example:81/d?e")
        XCTAssertEqual(moved.headers.first(":path"), "http://other.example:81/d?e")
        XCTAssertEqual(moved.headers.first(":authority"), "other.example:81")
        XCTAssertEqual(moved.host, "proxy.example")
        XCTAssertEqual(moved.port, 3128)
        XCTAssertEqual(moved.headers.first("referer"), "http://example.com/a/b")
    }
}
