import Foundation
import Stepwise
import XCTest

/// `HTTPStream.declaredBodyLength`, on both sides of a connection: the framing's length of the
/// peer's body once its head arrived, 0 for a message without a body, nil when no field says it.
final class DeclaredBodyLengthTests: XCTestCase {
    func testAServerStreamGivesTheRequestsDeclaredLength() throws {
        let server = try TestServer { stream, _ in
            let declared = stream.declaredBodyLength.map { String($0) } ?? "nil"
            _ = try await stream.getBodyAsBytes(timeout: 5)
            try await reply(stream, declared)
        }
        defer { server.stop() }
        let conn = try HTTPConnection(host: "127.0.0.1", port: server.port, timeout: 5)
        defer { conn.close() }
        try conn.request("POST", "/", body: Array("hello".utf8))
        XCTAssertEqual(try conn.getResponse().text, "5")
        var pieces = [Array("hel".utf8), Array("lo".utf8)]
        try conn.request("POST", "/", bodyStream: { pieces.isEmpty ? nil : pieces.removeFirst() })
        XCTAssertEqual(try conn.getResponse().text, "nil")
        try conn.request("GET", "/")
        XCTAssertEqual(try conn.getResponse().text, "0")
    }

    func testAClientStreamGivesTheResponsesDeclaredLength() throws {
        let server = try SizedBodyServer()
        defer { server.stop() }
        let reactor = try Reactor()
        func declared(_ path: String, method: String = "GET", decode: Bool = true) throws -> UInt64? {
            var headers = Headers()
            headers.append(":method", method)
            let request = try Request(uri: server.url(path), headers: headers)
            request.decodeContent = decode
            let (_, stream) = try request.go(on: reactor, timeout: 5)
            defer { stream.shutdown() }
            return stream.declaredBodyLength
        }
        XCTAssertEqual(try declared("/length/7"), 7)
        XCTAssertEqual(try declared("/length/7", method: "HEAD"), 0)
        XCTAssertNil(try declared("/chunked/7"))
        // The coded length is no measure of the decoded body.
        XCTAssertNil(try declared("/gzip/100"))
        let coded = try Deflater(format: .gzip).process([UInt8](repeating: 0, count: 100), final: true)
        XCTAssertEqual(try declared("/gzip/100", decode: false), UInt64(coded.count))
    }
}
