import XCTest

@testable import HTTPCore

/// `HTTP1AddedFields` writes exactly what the same fields, spelled out, serialize to.
final class HTTP1AddedFieldsTests: XCTestCase {
    static let date = IMFFixdate("Sat, 21 Nov 2026 12:00:00 GMT")!

    static var everyCombination: [HTTP1AddedFields] {
        var all: [HTTP1AddedFields] = []
        let lengths: [HTTP1AddedFields.Framing] = [0, 7, 9, 10, 13, 99, 100, 4096, UInt64.max].map {
            .contentLength($0)
        }
        for framing in [HTTP1AddedFields.Framing.none, .chunked, .gzipChunked] + lengths {
            for connection in [HTTP1AddedFields.Connection.none, .close, .keepAlive] {
                for date in [nil, Self.date] {
                    all.append(HTTP1AddedFields(framing: framing, connection: connection, date: date))
                }
            }
        }
        return all
    }

    /// The fields `added` stands for, in the order they are written.
    static func fields(_ added: HTTP1AddedFields) -> [Headers.Field] {
        var pairs: [(String, String)] = []
        switch added.framing {
        case .none: break
        case .contentLength(let length): pairs.append(("content-length", String(length)))
        case .chunked: pairs.append(("transfer-encoding", "chunked"))
        case .gzipChunked: pairs.append(("transfer-encoding", "gzip, chunked"))
        }
        switch added.connection {
        case .none: break
        case .close: pairs.append(("connection", "close"))
        case .keepAlive: pairs.append(("connection", "keep-alive"))
        }
        if let date = added.date { pairs.append(("date", date.description)) }
        return pairs.map { Headers.Field(name: $0.0, value: $0.1, neverIndex: false) }
    }

    func testEachCombinationWritesWhatItsFieldsSerializeTo() throws {
        let headers = Headers([(":status", "404"), ("content-type", "text/plain")])
        for added in Self.everyCombination {
            var out: [UInt8] = []
            try HTTP1Serializer.writeResponseHead(headers, adding: added, into: &out)
            var expected: [UInt8] = []
            try HTTP1Serializer.writeResponseHead(headers, appending: Self.fields(added), into: &expected)
            XCTAssertEqual(String(decoding: out, as: UTF8.self), String(decoding: expected, as: UTF8.self))
            let size = Self.fields(added).reduce(0) { $0 + $1.name.utf8.count + 2 + $1.value.utf8.count + 2 }
            XCTAssertEqual(added.wireSize, size, "\(added)")
        }
    }

    func testTheFieldsFollowTheHandlersAndPrecedeTheEmptyLine() throws {
        var out: [UInt8] = []
        let added = HTTP1AddedFields(framing: .chunked, connection: .close, date: Self.date)
        try HTTP1Serializer.writeResponseHead(Headers([(":status", "200"), ("x-a", "1")]), adding: added, into: &out)
        XCTAssertEqual(
            String(decoding: out, as: UTF8.self),
            "HTTP/1.1 200 OK\r\nx-a: 1\r\ntransfer-encoding: chunked\r\nconnection: close\r\n"
                + "date: Sat, 21 Nov 2026 12:00:00 GMT\r\n\r\n")
    }

    /// A handler's bad field still refuses the head, and nothing is written.
    func testAHandlersBadFieldStillRefusesTheHead() {
        let added = HTTP1AddedFields(framing: .contentLength(0), connection: .close, date: Self.date)
        for (headers, expected) in [
            (Headers([(":status", "200"), ("x-bad", "a\nb")]), HTTP1SerializeError.invalidFieldValue(name: "x-bad")),
            (Headers([(":status", "200"), ("x bad", "a")]), .invalidFieldName("x bad")),
            (Headers([("x-a", "a")]), .missingPseudoHeader(":status")),
        ] {
            var out: [UInt8] = [7]
            XCTAssertThrowsError(try HTTP1Serializer.writeResponseHead(headers, adding: added, into: &out)) {
                XCTAssertEqual($0 as? HTTP1SerializeError, expected)
            }
            XCTAssertEqual(out, [7])
        }
    }
}
