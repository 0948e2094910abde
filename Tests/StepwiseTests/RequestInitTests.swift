import Glibc
import Stepwise
import XCTest

final class RequestInitTests: XCTestCase {
    private let userAgent = "user-agent: stepwise/" + StepwiseVersion.version

    func testHTTPURIGivesPseudoHeadersAndDefaults() throws {
        let request = try Request(uri: "http://example.com/a/b?x=1&y#frag")
        XCTAssertEqual(request.host, "example.com")
        XCTAssertEqual(request.port, 80)
        XCTAssertFalse(request.tls)
        XCTAssertEqual(
            lines(request.headers),
            [":method: GET", ":scheme: http", ":authority: example.com", ":path: /a/b?x=1&y", userAgent])
        XCTAssertNil(request.tlsContext)
        XCTAssertEqual(request.sendName, .automatic)
        XCTAssertEqual(request.sniHostName, "example.com")
        XCTAssertNil(request.version)
        XCTAssertTrue(request.followRedirects)
        XCTAssertEqual(request.maxRedirects, 5)
        XCTAssertFalse(request.post301)
        XCTAssertFalse(request.post302)
        XCTAssertEqual(request.expect100Timeout, 1)
        XCTAssertNil(request.body)
        XCTAssertFalse(request.expectsContinue)
    }

    func testEachScheme() throws {
        let cases: [(uri: String, tls: Bool, port: Int, scheme: String)] = [
            ("http://h/", false, 80, "http"), ("https://h/", true, 443, "https"),
            ("ws://h/", false, 80, "http"), ("wss://h/", true, 443, "https"),
            ("HTTPS://h/", true, 443, "https"), ("Ws://h/", false, 80, "http"),
        ]
        for c in cases {
            let request = try Request(uri: c.uri)
            XCTAssertEqual(request.tls, c.tls, c.uri)
            XCTAssertEqual(request.port, c.port, c.uri)
            XCTAssertEqual(request.headers.first(":scheme"), c.scheme, c.uri)
            XCTAssertEqual(request.headers.first(":authority"), "h", c.uri)
        }
    }

    func testAuthorityOmitsOnlyTheSchemesDefaultPort() throws {
        let cases: [(String, String, Int)] = [
            ("http://h:80/", "h", 80), ("https://h:443/", "h", 443), ("ws://h:80/", "h", 80),
            ("wss://h:443/", "h", 443), ("http://h:443/", "h:443", 443), ("https://h:80/", "h:80", 80),
            ("wss://h:80/", "h:80", 80), ("http://h:8080/", "h:8080", 8080), ("http://h:/", "h", 80),
            ("http://h:0/", "h:0", 0),
        ]
        for (uri, authority, port) in cases {
            let request = try Request(uri: uri)
            XCTAssertEqual(request.headers.first(":authority"), authority, uri)
            XCTAssertEqual(request.port, port, uri)
        }
    }

    func testIPv6HostsAreBracketedInTheAuthorityOnly() throws {
        let request = try Request(uri: "http://[::1]:8080/x")
        XCTAssertEqual(request.host, "::1")
        XCTAssertEqual(request.headers.first(":authority"), "[::1]:8080")
        let https = try Request(uri: "https://[2001:db8::1]/")
        XCTAssertEqual(https.headers.first(":authority"), "[2001:db8::1]")
        XCTAssertEqual(https.port, 443)
    }

    func testPathDefaultsToSlashKeepsTheQueryAndDropsTheFragment() throws {
        let cases: [(String, String)] = [
            ("http://h", "/"), ("http://h?q=1", "/?q=1"), ("http://h/?", "/?"), ("http://h/p#f", "/p"),
            ("http://h#f", "/"), ("http://h/a%20b/", "/a%20b/"), ("http://h//x", "//x"),
        ]
        for (uri, path) in cases {
            XCTAssertEqual(try Request(uri: uri).headers.first(":path"), path, uri)
        }
    }

    func testUserinfoBecomesNeverIndexedBasicAuthorization() throws {
        let request = try Request(uri: "http://user:pass@h/")
        // base64("user:pass")
        XCTAssertEqual(request.headers.first("authorization"), basic("dXNlcjpwYXNz"))
        XCTAssertEqual(request.headers.fields.first { $0.name == "authorization" }?.neverIndex, true)
        XCTAssertFalse(request.headers.has("proxy-authorization"))
        // The userinfo is percent-decoded first: base64("us@er:p:ss ").
        XCTAssertEqual(
            try Request(uri: "http://us%40er:p%3Ass%20@h/").headers.first("authorization"),
            basic("dXNAZXI6cDpzcyA="))
        // No colon means an empty password, and the colon is still sent: base64("user:").
        XCTAssertEqual(try Request(uri: "http://user@h/").headers.first("authorization"), basic("dXNlcjo="))
        // Bytes that are not UTF-8 survive: base64([0xFF, ':', 0xFE]).
        XCTAssertEqual(try Request(uri: "http://%FF:%FE@h/").headers.first("authorization"), basic("/zr+"))
        // The userinfo is not part of the authority.
        XCTAssertEqual(request.headers.first(":authority"), "h")
    }

    func testUserinfoReplacesAnAuthorizationFromTheHeaders() throws {
        var headers = Headers()
        headers.append("authorization", "Bearer token")
        headers.append("authorization", "Bearer other")
        let request = try Request(uri: "http://a:b@h/", headers: headers)
        XCTAssertEqual(request.headers.values(for: "authorization"), [basic("YTpi")])
    }

    func testUserAgentIsAddedOnlyWhenAbsent() throws {
        XCTAssertEqual(try Request(uri: "http://h/").headers.values(for: "user-agent"), ["stepwise/0.1.0"])
        var headers = Headers()
        headers.append("user-agent", "mine/1")
        XCTAssertEqual(try Request(uri: "http://h/", headers: headers).headers.values(for: "user-agent"), ["mine/1"])
    }

    func testGivenHeadersFollowThePseudoHeaders() throws {
        var headers = Headers()
        headers.append("accept", "text/html")
        headers.append(":path", "/ignored")
        headers.append(":method", "POST")
        headers.append(":protocol", "websocket")
        headers.append(":authority", "ignored")
        headers.append("x-two", "2")
        let request = try Request(uri: "https://h:8443/real?q", headers: headers)
        XCTAssertEqual(
            lines(request.headers),
            [
                ":method: POST", ":scheme: https", ":authority: h:8443", ":path: /real?q", ":protocol: websocket",
                "accept: text/html", "x-two: 2", userAgent,
            ])
    }

    func testInvalidURIs() {
        assertThrows(try Request(uri: "example.com/x"), .invalidURI(.missingScheme))
        assertThrows(try Request(uri: ""), .invalidURI(.empty))
        assertThrows(try Request(uri: "http://h/a b"), .invalidURI(.invalidCharacter(0x20, in: .path)))
        assertThrows(try Request(uri: "http://h:70000/"), .invalidURI(.invalidPort("h:70000")))
        assertThrows(try Request(uri: "ftp://h/"), .unsupportedScheme("ftp"))
        assertThrows(try Request(uri: "mailto:a@b"), .unsupportedScheme("mailto"))
        assertThrows(try Request(uri: "http:///x"), .missingHost)
        assertThrows(try Request(uri: "http:x"), .missingHost)
        assertThrows(try Request(uri: "https://user@:443/"), .missingHost)
    }

    func testConnect() throws {
        let request = try Request.connect(uri: "http://proxy.example:3128", authority: "example.com:443")
        XCTAssertEqual(request.host, "proxy.example")
        XCTAssertEqual(request.port, 3128)
        XCTAssertFalse(request.tls)
        XCTAssertEqual(lines(request.headers), [":method: CONNECT", ":authority: example.com:443", userAgent])

        let withCredentials = try Request.connect(uri: "https://u:p@proxy/", authority: "[::1]:8443")
        XCTAssertTrue(withCredentials.tls)
        XCTAssertEqual(withCredentials.port, 443)
        XCTAssertEqual(withCredentials.headers.first("proxy-authorization"), basic("dTpw"))
        XCTAssertEqual(withCredentials.headers.fields.first { $0.name == "proxy-authorization" }?.neverIndex, true)
        XCTAssertFalse(withCredentials.headers.has("authorization"))
        XCTAssertEqual(withCredentials.headers.first(":authority"), "[::1]:8443")
    }

    func testConnectRejectsPathsQueriesAndAuthoritiesWithoutPort() {
        assertThrows(try Request.connect(uri: "http://proxy/x", authority: "h:443"), .connectWithPath)
        assertThrows(try Request.connect(uri: "http://proxy?x", authority: "h:443"), .connectWithQuery)
        assertThrows(try Request.connect(uri: "http://proxy/?", authority: "h:443"), .connectWithQuery)
        assertThrows(try Request.connect(uri: "http://proxy", authority: "h"), .invalidConnectAuthority("h"))
        assertThrows(
            try Request.connect(uri: "http://proxy", authority: "h:99999"), .invalidConnectAuthority("h:99999"))
        assertThrows(try Request.connect(uri: "http://proxy", authority: "/x"), .invalidConnectAuthority("/x"))
        assertThrows(try Request.connect(uri: "ftp://proxy", authority: "h:1"), .unsupportedScheme("ftp"))
        var headers = Headers()
        headers.append(":method", "CONNECT")
        assertThrows(try Request(uri: "http://proxy", headers: headers), .missingConnectAuthority)
    }

    func testSendName() throws {
        let request = try Request(uri: "https://example.com/")
        XCTAssertEqual(request.sniHostName, "example.com")
        request.sendName = .named("other.example")
        XCTAssertEqual(request.sniHostName, "other.example")
        request.sendName = .disabled
        XCTAssertNil(request.sniHostName)
        // RFC 6066 §3: no IP addresses in SNI.
        XCTAssertNil(try Request(uri: "https://192.0.2.1/").sniHostName)
        XCTAssertNil(try Request(uri: "https://[::1]/").sniHostName)
        XCTAssertEqual(SendName.automatic.serverName(forHost: "h"), "h")
    }

    func testCloneCopiesEverythingAndIsIndependent() throws {
        let original = try Request(uri: "https://example.com/a")
        let context = try TLSContext.client(verify: false)
        original.tlsContext = context
        original.sendName = .named("sni.example")
        original.version = .http2
        original.followRedirects = false
        original.maxRedirects = 9
        original.post301 = true
        original.post302 = true
        original.expect100Timeout = 2.5
        original.host = "192.0.2.7"
        original.port = 8443
        original.tls = false
        original.setBody("hello")

        let copy = original.clone()
        XCTAssertFalse(copy === original)
        XCTAssertTrue(copy.tlsContext === context)
        XCTAssertEqual(copy.sendName, .named("sni.example"))
        XCTAssertEqual(copy.version, .http2)
        XCTAssertFalse(copy.followRedirects)
        XCTAssertEqual(copy.maxRedirects, 9)
        XCTAssertTrue(copy.post301)
        XCTAssertTrue(copy.post302)
        XCTAssertEqual(copy.expect100Timeout, 2.5)
        XCTAssertEqual(copy.host, "192.0.2.7")
        XCTAssertEqual(copy.port, 8443)
        XCTAssertFalse(copy.tls)
        XCTAssertEqual(copy.headers, original.headers)
        guard case .bytes(let bytes) = copy.body else { return XCTFail("body not copied") }
        XCTAssertEqual(bytes, Array("hello".utf8))

        copy.headers.append("x-copy", "1")
        copy.setBody("other body")
        copy.host = "elsewhere"
        copy.maxRedirects = 1
        XCTAssertFalse(original.headers.has("x-copy"))
        XCTAssertEqual(original.headers.first("content-length"), "5")
        XCTAssertEqual(original.host, "192.0.2.7")
        XCTAssertEqual(original.maxRedirects, 9)
        guard case .bytes(let originalBytes) = original.body else { return XCTFail("body lost") }
        XCTAssertEqual(originalBytes, Array("hello".utf8))
    }

    func testErrorMessages() {
        XCTAssertEqual(RequestError.tooManyRedirects.description, "maximum redirects exceeded")
        XCTAssertEqual(RequestError.missingLocation.description, "missing location header for redirect")
        XCTAssertEqual(
            RequestError.invalidURI(.missingScheme).description, "invalid URI: " + URIError.missingScheme.description)
        XCTAssertEqual(
            RequestError.unsupportedScheme("ftp").description,
            "unsupported scheme 'ftp': requests need http, https, ws or wss")
        XCTAssertEqual(
            RequestError.bodyFileUnreadable(path: "/x", errno: ENOENT).description,
            "cannot read request body file '/x': No such file or directory")
        XCTAssertTrue(RequestError.invalidLocation(.empty).description.hasPrefix("invalid URI in location header"))
        XCTAssertTrue(RequestError.authorizationNotConvertible.description.contains("Basic"))
    }
}
