import Foundation
import XCTest

/// `stepwise serve`'s answers by method (RFC 9110 §9.1): each route performs its own methods,
/// answers OPTIONS with 204 and `allow`, a method the demo knows but the route does not perform
/// with 405 and `allow` (§15.5.6: a 405 MUST carry it), and any other method with 501.
final class ServeMethodsTests: XCTestCase {
    private static let getAndHead = "GET, HEAD, OPTIONS"
    private static let uploads = "POST, PUT, OPTIONS"

    /// A demo serving a root with one file.
    private func startDemo() throws -> ServeCommandTests.Demo {
        let root = NSTemporaryDirectory() + "stepwise-methods-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        try "a\n".write(toFile: root + "/a.txt", atomically: false, encoding: .utf8)
        return try ServeCommandTests.Demo(["--quiet", "--root", root])
    }

    /// OPTIONS on every route, and `OPTIONS *`: 204 with the route's `allow`, no body and no
    /// `content-length` (RFC 9110 §8.6), whether the file is there or not.
    func testOptionsListsWhatEachRouteAllows() throws {
        let demo = try startDemo()
        defer { _ = demo.stop() }
        let expected = [
            "/a.txt": Self.getAndHead, "/no-such-file": Self.getAndHead, "/": Self.getAndHead, "*": Self.getAndHead,
            "/hello": Self.getAndHead, "/hello?x": Self.getAndHead, "/echo": Self.uploads, "/discard?y": Self.uploads,
        ]
        for (target, allow) in expected {
            let response = try demo.exchange("OPTIONS", target)
            XCTAssertEqual(response.status, 204, "OPTIONS \(target): \(response.body)")
            XCTAssertEqual(response.first("allow"), allow, "OPTIONS \(target)")
            XCTAssertNil(response.first("content-length"), "OPTIONS \(target)")
            XCTAssertEqual(response.body, "", "OPTIONS \(target)")
        }
    }

    /// The standard methods a route does not perform: 405 with its `allow`. Each allowed method
    /// still works.
    func testKnownMethodsARouteDoesNotPerformGet405WithAllow() throws {
        let demo = try startDemo()
        defer { _ = demo.stop() }
        for target in ["/a.txt", "/no-such-file", "/", "/hello"] {
            for method in ["POST", "PUT", "DELETE", "PATCH", "TRACE"] {
                let response = try demo.exchange(method, target)
                XCTAssertEqual(response.status, 405, "\(method) \(target): \(response.body)")
                XCTAssertEqual(response.first("allow"), Self.getAndHead, "\(method) \(target)")
            }
        }
        for target in ["/echo", "/discard"] {
            for method in ["GET", "HEAD", "DELETE", "PATCH", "TRACE"] {
                let response = try demo.exchange(method, target)
                XCTAssertEqual(response.status, 405, "\(method) \(target): \(response.body)")
                XCTAssertEqual(response.first("allow"), Self.uploads, "\(method) \(target)")
            }
        }
        // CONNECT (authority-form, so no path: the static files' answer), then the connection closes.
        let connect = try demo.exchange("CONNECT", "127.0.0.1:\(demo.port)")
        XCTAssertEqual(connect.status, 405, connect.body)
        XCTAssertEqual(connect.first("allow"), Self.getAndHead)

        XCTAssertEqual(try demo.exchange("GET", "/a.txt").body, "a\n")
        XCTAssertEqual(try demo.exchange("HEAD", "/a.txt").status, 200)
        XCTAssertEqual(try demo.exchange("GET", "/hello").body, "Hello, World!")
        XCTAssertEqual(try demo.exchange("HEAD", "/hello").status, 200)
        XCTAssertEqual(try demo.exchange("POST", "/echo").status, 200)
        XCTAssertEqual(try demo.exchange("PUT", "/discard").status, 204)
    }

    /// A method the demo does not know, on any route (methods are case-sensitive, so `get` is
    /// one): 501 Not Implemented.
    func testUnknownMethodsGet501() throws {
        let demo = try startDemo()
        defer { _ = demo.stop() }
        for target in ["/a.txt", "/no-such-file", "/hello", "/echo", "/discard", "*"] {
            for method in ["FOO", "get", "PROPFIND", "M-SEARCH"] {
                let response = try demo.exchange(method, target)
                XCTAssertEqual(response.status, 501, "\(method) \(target): \(response.body)")
                XCTAssertEqual(response.body, "Not Implemented\n", "\(method) \(target)")
            }
        }
    }
}
