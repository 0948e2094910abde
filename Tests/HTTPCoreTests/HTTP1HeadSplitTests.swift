import XCTest

@testable import HTTPCore

/// The head scanner is resumable at every octet: a head split in two anywhere gives the events it
/// gives whole. Its usual path falls from one state's case into the next without going round its
/// loop, so every boundary between two states is a split point that must behave as the loop did.
final class HTTP1HeadSplitTests: XCTestCase {
    static let requests: [String] = [
        "GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
        "\r\n\r\nPOST /a?b HTTP/1.0\r\nContent-Length: 3\r\nX-A:  v  \r\nX-B:\r\n\r\nabc",
        "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nT: 1\r\n\r\n",
        // Invalid, failing in different states.
        "GET /x HTTP/1.1\r\n Host: x\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: x\ry\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: x\r\r\n",
        "GET /x HTTP/1.1\rX",
        "GET /x HTTP/2.0\r\n\r\n",
        "GET /x\r\n\r\n",
        "GET  /x HTTP/1.1\r\n\r\n",
        "G(T /x HTTP/1.1\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\n",
        "\r\rGET",
        "\nGET",
    ]

    static let responses: [String] = [
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Folded: a\r\n b\r\n\r\nok",
        "HTTP/1.1 204 \r\n\r\n",
        "HTTP/1.0 200 OK\r\n\r\nbody",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 200\r\n\r\n",
        "HTTP/1.1 200 O\u{7}K\r\n\r\n",
    ]

    private func checkEverySplit(_ text: String, role: HTTP1Role, file: StaticString = #filePath, line: UInt = #line) {
        let bytes = Array(text.utf8)
        var whole = HTTP1Parser(role: role)
        let expected = drive(&whole, bytes, endInput: true)
        for split in 0...bytes.count {
            var parser = HTTP1Parser(role: role)
            let events = drive(
                &parser, pieces: [Array(bytes[..<split]), Array(bytes[split...])], endInput: true, file: file,
                line: line)
            XCTAssertEqual(events, expected, "\(text.debugDescription) split at \(split)", file: file, line: line)
        }
    }

    func testARequestSplitAnywhereParsesAsWhole() {
        for text in Self.requests { checkEverySplit(text, role: .server) }
    }

    func testAResponseSplitAnywhereParsesAsWhole() {
        for text in Self.responses { checkEverySplit(text, role: .client) }
    }
}
