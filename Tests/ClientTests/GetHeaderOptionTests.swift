import Foundation
import Stepwise
import XCTest

@testable import StepwiseCLI

/// `stepwise get -H` as curl reads it (`HeaderOption`): every `-H` is sent, in order, the first of
/// a name replacing the field `get` sends on its own; `name:` removes a field, `name;` sends it
/// empty. Two `-H`s of one name used to leave only the last (an `upsert`), where curl sends both.
final class GetHeaderOptionTests: XCTestCase {
    func testParsing() throws {
        XCTAssertEqual(try HeaderOption(parsing: "X-A: 1"), HeaderOption(name: "x-a", value: "1"))
        XCTAssertEqual(try HeaderOption(parsing: "X-A:\t two words "), HeaderOption(name: "x-a", value: "two words "))
        XCTAssertEqual(try HeaderOption(parsing: "Accept:"), HeaderOption(name: "accept", value: nil))
        XCTAssertEqual(try HeaderOption(parsing: "Accept:  "), HeaderOption(name: "accept", value: nil))
        XCTAssertEqual(try HeaderOption(parsing: "X-Empty;"), HeaderOption(name: "x-empty", value: ""))
        XCTAssertEqual(try HeaderOption(parsing: "X-V: a;b"), HeaderOption(name: "x-v", value: "a;b"))
        for bad in ["X-A", "X-A; b", ": v", ";", "Host:"] {
            XCTAssertThrowsError(try HeaderOption(parsing: bad), bad)
        }
    }

    func testRepeatedNamesAreAllSentInOrderAndReplaceGetsOwnField() throws {
        var headers = Headers()
        headers.append(":method", "GET")
        headers.append(":authority", "127.0.0.1:1")
        headers.append("user-agent", "stepwise/1")
        headers.append("accept", "*/*")
        let options = try ["Accept: text/html", "X-A: 1", "Accept: application/json", "X-A: 2", "Host: v.test"].map(
            HeaderOption.init(parsing:))
        try HeaderOption.apply(options, to: &headers)
        XCTAssertEqual(headers.values(for: "accept"), ["text/html", "application/json"])
        XCTAssertEqual(headers.values(for: "x-a"), ["1", "2"])
        XCTAssertEqual(headers.values(for: "user-agent"), ["stepwise/1"])
        XCTAssertEqual(headers.first(":authority"), "v.test")
        XCTAssertEqual(headers.map(\.name).prefix(2), [":method", ":authority"], "pseudo-headers stay first")
    }

    func testEmptyRemovesAndSemicolonSendsEmpty() throws {
        var headers = Headers()
        headers.append(":method", "GET")
        headers.append("user-agent", "stepwise/1")
        headers.append("expect", "100-continue")
        let options = try ["User-Agent:", "X-A: 1", "X-A:", "X-E;", "Expect:"].map(HeaderOption.init(parsing:))
        try HeaderOption.apply(options, to: &headers)
        XCTAssertFalse(headers.has("user-agent"))
        XCTAssertFalse(headers.has("x-a"))
        XCTAssertFalse(headers.has("expect"))
        XCTAssertEqual(headers.values(for: "x-e"), [""])
    }

    func testASecondHostIsRefused() throws {
        var headers = Headers()
        headers.append(":authority", "127.0.0.1:1")
        let options = try ["Host: a.test", "Host: b.test"].map(HeaderOption.init(parsing:))
        XCTAssertThrowsError(try HeaderOption.apply(options, to: &headers))
        let run = try stepwise(["get", "-H", "Host: a.test", "-H", "Host: b.test", "http://127.0.0.1:9/"])
        XCTAssertEqual(run.status, 64, "a usage error: \(run.stderr)")
        XCTAssertTrue(run.stderr.contains("given twice"), run.stderr)
    }

    /// Against a server: both `x-a` lines and both `accept` lines arrive, in order.
    func testRepeatedFieldsAgainstAServer() throws {
        let server = try TestServer(Self.showFields)
        defer { server.stop() }
        let run = try stepwise([
            "get", "-H", "Accept: text/html", "-H", "X-A: 1", "-H", "Accept: application/json", "-H", "X-A: 2",
            "http://127.0.0.1:\(server.port)/",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(
            run.stdout,
            "user-agent=\(userAgent)|accept=text/html|x-a=1|accept=application/json|x-a=2|accept-encoding=gzip, deflate"
        )
    }

    /// Against a server: `User-Agent:` and `Accept-Encoding:` send none, `X-E;` an empty one.
    func testRemovedAndEmptyFieldsAgainstAServer() throws {
        let server = try TestServer(Self.showFields)
        defer { server.stop() }
        let run = try stepwise([
            "get", "-H", "User-Agent:", "-H", "Accept-Encoding:", "-H", "X-E;", "http://127.0.0.1:\(server.port)/",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "x-e=")
    }

    /// curl's way to send a large body without waiting for `100 Continue`: `-H 'Expect:'` removes
    /// the expectation `get` adds to a body of 1 MiB or more.
    func testEmptyExpectSendsALargeBodyWithoutTheExpectation() throws {
        let server = try TestServer { stream, head in
            let body = try await stream.getBodyAsBytes(limit: 4 << 20, timeout: 5)
            try await reply(stream, "expect=\(head.headers.values(for: "expect")) \(body.count)")
        }
        defer { server.stop() }
        let path = NSTemporaryDirectory() + "get-expect-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(repeating: UInt8(ascii: "b"), count: Request.expectContinueThreshold).write(
            to: URL(fileURLWithPath: path))
        let url = "http://127.0.0.1:\(server.port)/"
        let asked = try stepwise(["get", "--data-binary", "@" + path, url])
        XCTAssertEqual(asked.stdout, "expect=[\"100-continue\"] \(Request.expectContinueThreshold)", asked.stderr)
        let unasked = try stepwise(["get", "-H", "Expect:", "--data-binary", "@" + path, url])
        XCTAssertEqual(unasked.stdout, "expect=[] \(Request.expectContinueThreshold)", unasked.stderr)
    }

    private var userAgent: String { StepwiseVersion.userAgent }

    /// Answers with the request's `x-a`, `accept`, `user-agent`, `x-e` and `accept-encoding`
    /// fields, in order.
    static let showFields: @Sendable (any HTTPStream, HTTP1MessageHead) async throws -> Void = { stream, head in
        let names = ["x-a", "accept", "user-agent", "x-e", "accept-encoding"]
        let fields = head.headers.filter { names.contains($0.name) }
        try await reply(stream, fields.map { "\($0.name)=\($0.value)" }.joined(separator: "|"))
    }
}
