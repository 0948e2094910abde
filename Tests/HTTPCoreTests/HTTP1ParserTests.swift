import XCTest

@testable import HTTPCore

final class HTTP1ParserTests: XCTestCase {
  func testSimpleGet() {
    let events = parseBothWays(
      "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent:  curl/8 \r\nAccept: */*\r\n\r\n"
    )
    guard let head = firstHead(events) else { return }
    XCTAssertEqual(
      head.headers.pairs,
      [
        ":method: GET", ":path: /index.html?q=1", ":authority: example.com", "user-agent: curl/8",
        "accept: */*",
      ])
    XCTAssertEqual(head.version, .http11)
    XCTAssertEqual(head.framing, .none)
    XCTAssertTrue(head.keepAlive)
    XCTAssertEqual(events.count, 2)
    XCTAssertEqual(events.last, .end)
  }
}
