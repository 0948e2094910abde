import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Redirects from a hostile or broken server, end to end: a loop ends at `maxRedirects` on one
/// keep-alive connection, a location that is not http(s) or that would inject a line is refused,
/// dot segments cannot climb above the root, and credentials do not follow to another origin
/// (the unit rules are `RequestRedirectTests`).
final class RedirectAttackTests: XCTestCase {
    func testARedirectLoopEndsAtMaxRedirects() throws {
        let requests = Locked(0)
        let server = try OneShotServer { client in
            while OneShotServer.readRequest(client) {
                requests.withLock { $0 += 1 }
                RawPeer.send("HTTP/1.1 302 Found\r\nlocation: /loop\r\ncontent-length: 4\r\n\r\nloop", to: client)
            }
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        XCTAssertThrowsError(try server.request(pool: pool).fetch(on: reactor, timeout: 5)) { error in
            XCTAssertEqual(error as? RequestError, .tooManyRedirects)
        }
        // The first request and five redirects, on one connection, which is not left busy.
        XCTAssertEqual(requests.withLock { $0 }, 6)
        XCTAssertEqual(server.connections, 1)
        XCTAssertEqual(pool.openConnections, pool.idleConnections)
        pool.closeIdle()
    }

    func testALocationOutsideHTTPIsRefused() throws {
        let locations = [
            "file:///etc/passwd": "file", "ftp://127.0.0.1/x": "ftp", "javascript:alert(1)": "javascript",
            "data:text/plain,hi": "data",
        ]
        for (location, scheme) in locations {
            let server = try Self.redirecting(to: location)
            defer { server.stop() }
            let reactor = try Reactor()
            XCTAssertThrowsError(try server.request().fetch(on: reactor, timeout: 5), location) { error in
                XCTAssertEqual(error as? RequestError, .unsupportedScheme(scheme), location)
            }
        }
    }

    /// A CR, LF or NUL in a field value fails the whole response (RFC 9110 §5.5), so a location
    /// cannot add a line to the next request; escaped (`%0D%0A`), it stays escaped in the path.
    func testALocationCannotInjectIntoTheNextRequest() throws {
        let refused = [
            "/a\rset-cookie: x=1": "bare CR", "/a\nset-cookie: x=1": "bare LF",
            "/a\0b": "invalid character (CTL) in the value of field \"location\"",
        ]
        for (location, reason) in refused {
            let server = try Self.redirecting(to: location)
            defer { server.stop() }
            let reactor = try Reactor()
            assertFails(reason) {
                _ = try server.request().fetch(on: reactor, timeout: 5)
            }
        }
        let heads = Locked<[String]>([])
        let server = try Self.redirecting(to: "/a%0D%0Aset-cookie:%20x=1", recording: heads)
        defer { server.stop() }
        let reactor = try Reactor()
        _ = try server.request().fetch(on: reactor, timeout: 5)
        let followed = try XCTUnwrap(heads.withLock { $0.last })
        XCTAssertTrue(followed.hasPrefix("GET /a%0D%0Aset-cookie:%20x=1 HTTP/1.1\r\n"), followed)
        XCTAssertFalse(followed.lowercased().contains("\r\nset-cookie"), followed)
    }

    /// RFC 3986 §5.2.4: dot segments are removed, and `..` at the root stays at the root.
    func testDotSegmentsCannotClimbAboveTheRoot() throws {
        let heads = Locked<[String]>([])
        let server = try Self.redirecting(to: "../../../../../etc/./passwd", recording: heads)
        defer { server.stop() }
        let reactor = try Reactor()
        _ = try server.request("/a/b/c").fetch(on: reactor, timeout: 5)
        XCTAssertTrue(heads.withLock { $0.last ?? "" }.hasPrefix("GET /etc/passwd HTTP/1.1\r\n"))
    }

    /// A 3xx without a location cannot be followed: it is the response.
    func testA3xxWithoutALocationIsTheResponse() throws {
        let server = try OneShotServer { client in
            while OneShotServer.readRequest(client) {
                RawPeer.send("HTTP/1.1 301 Moved Permanently\r\ncontent-length: 5\r\n\r\nwhere", to: client)
            }
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let response = try server.request().fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.status, 301)
        XCTAssertEqual(response.text, "where")
    }

    /// To another origin (another port here), `authorization` and `cookie` stay behind, as curl
    /// does since CVE-2022-27776; the same origin keeps them.
    func testCredentialsDoNotFollowToAnotherOrigin() throws {
        let heads = Locked<[String]>([])
        let other = try Self.redirecting(to: nil, recording: heads)
        defer { other.stop() }
        for (location, kept) in [("http://127.0.0.1:\(other.port)/elsewhere", false), ("/here", true)] {
            let server = try Self.redirecting(to: location, recording: heads)
            defer { server.stop() }
            let reactor = try Reactor()
            let request = try Request(uri: "http://user:secret@127.0.0.1:\(server.port)/")
            request.headers.append("cookie", "session=1")
            XCTAssertEqual(try request.fetch(on: reactor, timeout: 5).text, "done", location)
            let followed = heads.withLock { $0.last ?? "" }.lowercased()
            XCTAssertEqual(followed.contains("\r\nauthorization:"), kept, followed)
            XCTAssertEqual(followed.contains("\r\ncookie:"), kept, followed)
        }
    }

    /// A server answering the first request with a 302 to `location` and every other (or every
    /// one, when `location` is nil) with 200 `done`, adding each request head to `recording`.
    private static func redirecting(to location: String?, recording: Locked<[String]>? = nil) throws
        -> OneShotServer
    {
        let answered = Locked(0)
        return try OneShotServer { client in
            while let head = readHead(client) {
                recording?.withLock { $0.append(head) }
                let first = answered.withLock {
                    $0 += 1
                    return $0 == 1
                }
                if first, let location {
                    RawPeer.send("HTTP/1.1 302 Found\r\nlocation: \(location)\r\ncontent-length: 0\r\n\r\n", to: client)
                } else {
                    RawPeer.send("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\ndone", to: client)
                }
            }
        }
    }

    /// One request head (the client's GETs have no body), or nil at the end.
    private static func readHead(_ client: Int32) -> String? {
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while !head.suffix(4).elementsEqual("\r\n\r\n".utf8) {
            guard recv(client, &byte, 1, 0) == 1 else { return nil }
            head.append(byte)
        }
        return String(decoding: head, as: UTF8.self)
    }
}
