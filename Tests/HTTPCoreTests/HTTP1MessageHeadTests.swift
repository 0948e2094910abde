import XCTest

@testable import HTTPCore

/// `HTTP1MessageHead` is a copy-on-write value whose `method`, `path` and `authority` are kept
/// beside its headers: copies are independent, and those three always agree with `headers`.
final class HTTP1MessageHeadTests: XCTestCase {
    private func parsedHead(_ text: String, scheme: String? = nil) -> HTTP1MessageHead? {
        var parser = HTTP1Parser(role: .server)
        parser.scheme = scheme
        return firstHead(drive(&parser, Array(text.utf8)))
    }

    func testParsedPseudoHeadersAgreeWithTheHeaders() throws {
        let requests = [
            "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
            "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET / HTTP/1.0\r\n\r\n",
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            "POST /up HTTP/1.1\r\nhost: x\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nok",
        ]
        for text in requests {
            for scheme in [nil, "https"] {
                let head = try XCTUnwrap(parsedHead(text, scheme: scheme), text)
                XCTAssertEqual(head.method, head.headers.first(":method"), text)
                XCTAssertEqual(head.path, head.headers.first(":path"), text)
                XCTAssertEqual(head.authority, head.headers.first(":authority"), text)
                // The same as a head made from the same fields by the public initializer.
                let made = HTTP1MessageHead(
                    version: head.version, headers: head.headers, framing: head.framing, keepAlive: head.keepAlive,
                    requestsProtocolSwitch: head.requestsProtocolSwitch)
                XCTAssertEqual(made, head, text)
                XCTAssertEqual(made.method, head.method, text)
                XCTAssertEqual(made.path, head.path, text)
                XCTAssertEqual(made.authority, head.authority, text)
            }
        }
        let connect = try XCTUnwrap(parsedHead(requests[3]))
        XCTAssertEqual(connect.method, "CONNECT")
        XCTAssertNil(connect.path)
        XCTAssertEqual(connect.authority, "example.com:443")
        let old = try XCTUnwrap(parsedHead(requests[2]))
        XCTAssertEqual(old.path, "/")
        XCTAssertNil(old.authority)
    }

    func testChangingHeadersUpdatesMethodPathAndAuthority() throws {
        var head = try XCTUnwrap(parsedHead("GET /old HTTP/1.1\r\nHost: a\r\n\r\n"))
        head.headers.append("x-extra", "1")
        XCTAssertEqual(head.path, "/old")
        var headers = Headers()
        headers.append(":method", "PUT")
        headers.append(":path", "/new")
        head.headers = headers
        XCTAssertEqual(head.method, "PUT")
        XCTAssertEqual(head.path, "/new")
        XCTAssertNil(head.authority)
        // In place (`_modify`): the fields are looked up again afterwards.
        head.headers.append(":authority", "b")
        XCTAssertEqual(head.authority, "b")
    }

    func testCopiesAreIndependent() throws {
        let original = try XCTUnwrap(parsedHead("GET /x HTTP/1.1\r\nHost: a\r\n\r\n"))
        var copy = original
        XCTAssertEqual(copy, original)
        copy.version = .http10
        copy.keepAlive = false
        copy.status = 200
        copy.reasonPhrase = "OK"
        copy.framing = .contentLength(3)
        copy.transferCodings = ["gzip"]
        copy.requestsProtocolSwitch = true
        var headers = Headers()
        headers.append(":method", "HEAD")
        copy.headers = headers
        XCTAssertNotEqual(copy, original)
        XCTAssertEqual(original.version, .http11)
        XCTAssertTrue(original.keepAlive)
        XCTAssertNil(original.status)
        XCTAssertEqual(original.reasonPhrase, "")
        XCTAssertEqual(original.framing, .none)
        XCTAssertEqual(original.transferCodings, [])
        XCTAssertFalse(original.requestsProtocolSwitch)
        XCTAssertEqual(original.method, "GET")
        XCTAssertEqual(original.path, "/x")
        XCTAssertEqual(copy.method, "HEAD")
        XCTAssertNil(copy.path)
    }

    func testEqualityComparesEveryField() {
        var headers = Headers()
        headers.append(":status", "200")
        let head = HTTP1MessageHead(version: .http11, headers: headers, status: 200, reasonPhrase: "OK")
        XCTAssertEqual(head, HTTP1MessageHead(version: .http11, headers: headers, status: 200, reasonPhrase: "OK"))
        XCTAssertNotEqual(head, HTTP1MessageHead(version: .http11, headers: headers, status: 200, reasonPhrase: "Ok"))
        XCTAssertNotEqual(head, HTTP1MessageHead(version: .http10, headers: headers, status: 200, reasonPhrase: "OK"))
        XCTAssertNotEqual(
            head,
            HTTP1MessageHead(version: .http11, headers: headers, status: 200, reasonPhrase: "OK", keepAlive: false))
        XCTAssertNotEqual(head, HTTP1MessageHead(version: .http11, headers: Headers(), status: 200, reasonPhrase: "OK"))
    }
}
