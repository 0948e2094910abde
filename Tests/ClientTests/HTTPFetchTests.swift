import Stepwise
import XCTest

/// `HTTP.fetch`, the blocking one-call form for scripts.
final class HTTPFetchTests: XCTestCase {
    func testFetchBlocksUntilTheWholeResponseArrived() throws {
        let server = try TestServer(RequestGoTests.echo)
        defer { server.stop() }
        let (status, headers, body) = try HTTP.fetch(
            "http://127.0.0.1:\(server.port)/f", method: "POST", headers: [("X-Test", "1")],
            body: Array("hi".utf8), timeout: 5)
        XCTAssertEqual(status, 200)
        XCTAssertEqual(headers.first("x-accept-encoding"), "gzip, deflate")
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "POST /f hi")
    }

    /// A `Host` among the extra fields replaces the one made from the URL, as in
    /// `HTTPConnection`: it went out beside the generated `:authority`, which the serializer
    /// refuses (`conflictingHost`), so the request failed before it was sent.
    func testAHostFieldReplacesTheURLsAuthority() throws {
        let server = try TestServer { stream, head in try await reply(stream, head.authority ?? "-") }
        defer { server.stop() }
        let (status, _, body) = try HTTP.fetch(
            "http://127.0.0.1:\(server.port)/", headers: [("Host", "example.test")], timeout: 5)
        XCTAssertEqual(status, 200)
        XCTAssertEqual(String(decoding: body, as: UTF8.self), "example.test")
    }

    func testFetchFailsWithTheReason() {
        XCTAssertThrowsError(try HTTP.fetch("http://127.0.0.1:9/", timeout: 2)) { error in
            XCTAssertEqual("\(error)", "connect to 127.0.0.1:9 refused")
        }
        XCTAssertThrowsError(try HTTP.fetch("ftp://example.com/")) { error in
            XCTAssertEqual(error as? RequestError, .unsupportedScheme("ftp"))
        }
    }

    func testFetchFromATaskIsRefused() throws {
        let reactor = try Reactor()
        XCTAssertThrowsError(try reactor.run { try HTTP.fetch("http://127.0.0.1:9/") }) { error in
            guard case ReactorError.reentrantStep = error else { return XCTFail("\(error)") }
        }
    }
}
