import XCTest

@testable import HTTPCore

/// `H1OutboundMessage.writeBody(_:endStream:trailers:pieces:)` tells its sink where the caller's
/// data goes (`.data`, which a caller holding it in an array queues without a copy) apart from
/// the octets of the framing, in the order they go on the wire.
final class H1BodyPieceTests: XCTestCase {
    /// A response head with `fields` (answering a keep-alive HTTP/1.1 GET), then the pieces
    /// writing `data` hands the sink: "data", or the framing's octets as text.
    private func pieces(_ fields: [(String, String)], writing data: String, endStream: Bool) throws -> [String] {
        var message = H1OutboundMessage()
        var head: [UInt8] = []
        try message.writeResponseHead(
            Headers(fields), endStream: false,
            request: .init(method: "GET", version: .http11, keepAlive: true), persistent: true,
            date: nil, acceptsGzip: { false }, into: &head)
        var seen: [String] = []
        try Array(data.utf8).withUnsafeBytes { buffer in
            try message.writeBody(
                buffer, endStream: endStream,
                pieces: { piece in
                    switch piece {
                    case .data: seen.append("data")
                    case .framing(let octets): seen.append(String(decoding: octets, as: UTF8.self))
                    }
                })
        }
        return seen
    }

    func testALengthDelimitedBodyIsTheDataAlone() throws {
        XCTAssertEqual(
            try pieces([(":status", "200"), ("content-length", "5")], writing: "hello", endStream: true), ["data"])
    }

    func testAChunkedBodyPutsTheDataBetweenItsSizeLineAndCRLF() throws {
        XCTAssertEqual(try pieces([(":status", "200")], writing: "hello", endStream: false), ["5\r\n", "data", "\r\n"])
        XCTAssertEqual(
            try pieces([(":status", "200")], writing: "hello", endStream: true), ["5\r\n", "data", "\r\n0\r\n\r\n"])
    }

    func testNoDataNoDataPiece() throws {
        XCTAssertEqual(try pieces([(":status", "200")], writing: "", endStream: true), ["0\r\n\r\n"])
        XCTAssertEqual(try pieces([(":status", "200"), ("content-length", "0")], writing: "", endStream: true), [])
    }
}
