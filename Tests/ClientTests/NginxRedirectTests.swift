import Foundation
import Stepwise
import XCTest

/// Redirects from nginx's `return 301/302/303/307/308`, followed by `Request.go`: every status
/// with every method and every form of `Location`, checked by what nginx's `/sink` received
/// (method, content-length and, in the access log, the body itself).
final class NginxRedirectTests: XCTestCase {
    static let statuses = [301, 302, 303, 307, 308]

    /// `/r/STATUS/FORM` redirects to `/sink` with a `Location` that is absolute
    /// (`http://127.0.0.1:PORT/sink`), an absolute path (`/sink`), a relative path
    /// (`../../sink`) or scheme-relative (`//127.0.0.1:PORT/sink`); `/loop` redirects to
    /// itself.
    static var settings: NginxPeer.Settings {
        var settings = NginxPeer.Settings()
        settings.locations =
            statuses.map { status in
                """
                location = /r/\(status)/absolute { return \(status) http://127.0.0.1:{port}/sink; }
                location = /r/\(status)/path { absolute_redirect off; return \(status) /sink; }
                location = /r/\(status)/relative { return \(status) ../../sink; }
                location = /r/\(status)/scheme-relative {
                    absolute_redirect off;
                    return \(status) //127.0.0.1:{port}/sink;
                }
                """
            }.joined(separator: "\n") + "\nlocation = /loop { absolute_redirect off; return 302 /loop; }"
        return settings
    }

    /// RFC 9110 §15.4: after 301 and 302 a POST becomes a body-less GET (other methods stay);
    /// after 303 everything but GET and HEAD does; 307 and 308 keep the method and the body.
    func testEveryStatusMethodAndLocationForm() throws {
        let nginx = try startNginx(Self.settings)
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        var expectedBodies: [String] = []
        for status in Self.statuses {
            for form in ["absolute", "path", "relative", "scheme-relative"] {
                for method in ["GET", "POST", "PUT"] {
                    let label = "\(method) /r/\(status)/\(form)"
                    let body = method == "GET" ? nil : "\(method) body for \(status) \(form)"
                    let request = try Request(uri: nginx.url("/r/\(status)/\(form)"))
                    request.pool = pool
                    try request.headers.upsert(":method", method)
                    if let body { request.setBody(body) }
                    let response = try request.fetch(on: reactor, timeout: 5)
                    XCTAssertEqual(response.status, 200, label)

                    let becomesGET = (method == "POST" && [301, 302].contains(status)) || status == 303
                    let expected = becomesGET || body == nil ? "GET " : "\(method) \(body!.utf8.count)"
                    XCTAssertEqual(response.text, expected, label)
                    if !becomesGET, let body { expectedBodies.append(body) }
                }
            }
        }
        // nginx logs the body of every request `/sink` read: those that kept it, in order.
        let sinkBodies = try nginx.accessLog(uri: "/sink", atLeast: 60).map(\.requestBody).filter { !$0.isEmpty }
        XCTAssertEqual(sinkBodies, expectedBodies)
        let redirects = try nginx.accessLog().filter { $0.uri.hasPrefix("/r/") }
        XCTAssertEqual(redirects.count, 60)
        XCTAssertEqual(Set(redirects.map(\.status)), Set(Self.statuses.map(String.init)))
        // Redirects to the same origin stay on the pooled connection.
        XCTAssertEqual(
            Set(
                try nginx.accessLog().filter { $0.protocol == "HTTP/1.1" && $0.uri != "/answer" }
                    .map(\.connection)
            ).count, 1)
    }

    /// `post301` and `post302` keep a POST a POST, with its body (RFC 9110 §15.4.2, §15.4.3).
    func testPostKeptAfter301And302WhenAsked() throws {
        let nginx = try startNginx(Self.settings)
        let reactor = try Reactor()
        for status in [301, 302] {
            let request = try Request(uri: nginx.url("/r/\(status)/path"))
            try request.headers.upsert(":method", "POST")
            request.setBody("kept \(status)")
            request.post301 = true
            request.post302 = true
            XCTAssertEqual(try request.fetch(on: reactor, timeout: 5).text, "POST 8")
        }
        XCTAssertEqual(try nginx.accessLog(uri: "/sink", atLeast: 2).map(\.requestBody), ["kept 301", "kept 302"])
    }

    func testTooManyRedirectsAndRedirectsNotFollowed() throws {
        let nginx = try startNginx(Self.settings)
        let reactor = try Reactor()
        let loop = try Request(uri: nginx.url("/loop"))
        loop.maxRedirects = 3
        XCTAssertThrowsError(try loop.fetch(on: reactor, timeout: 5)) { error in
            XCTAssertEqual(error as? RequestError, .tooManyRedirects)
        }
        // The first request and three redirects reached nginx; the fourth redirect was refused.
        XCTAssertEqual(try nginx.accessLog(uri: "/loop", atLeast: 4).count, 4)

        // Not followed: the redirect itself, which also shows the matrix above has each form.
        let forms = [
            "absolute": nginx.url("/sink"), "path": "/sink", "relative": "../../sink",
            "scheme-relative": "//127.0.0.1:\(nginx.port)/sink",
        ]
        for (form, location) in forms {
            let notFollowed = try Request(uri: nginx.url("/r/308/\(form)"))
            notFollowed.followRedirects = false
            let response = try notFollowed.fetch(on: reactor, timeout: 5)
            XCTAssertEqual(response.status, 308, form)
            XCTAssertEqual(response.headers.first("location"), location, form)
        }
        XCTAssertEqual(try nginx.accessLog(uri: "/sink").count, 0)
    }
}
