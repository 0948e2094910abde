import XCTest

@testable import HTTPCore

/// `H1ResponseHeadCache`: a head is prepared on its second use, found by its fields' storage, and
/// never confused with other or changed fields.
final class H1ResponseHeadCacheTests: XCTestCase {
    private let hello = Headers([(":status", "200"), ("content-type", "text/plain"), ("content-length", "13")])

    /// What the serializer writes for `headers` plus `additional`, the usual way.
    private func serialized(_ headers: Headers, _ additional: [Headers.Field] = []) throws -> [UInt8] {
        var out: [UInt8] = []
        try HTTP1Serializer.writeResponseHead(headers, appending: additional, into: &out)
        return out
    }

    func testAHeadIsPreparedOnItsSecondUseAndFoundAfterwards() throws {
        var cache = H1ResponseHeadCache()
        XCTAssertNil(cache.prepared(for: hello))
        XCTAssertEqual(cache.count, 0)
        let second = try XCTUnwrap(cache.prepared(for: hello))
        XCTAssertEqual(cache.count, 1)
        let third = try XCTUnwrap(cache.prepared(for: hello))
        XCTAssertEqual(cache.count, 1)
        XCTAssertEqual(Array(second.bytes), Array(third.bytes))
        XCTAssertEqual(second.framing.validStatus, 200)
        XCTAssertEqual(second.framing.contentLength, .valid(13))
        // A copy of the value shares the storage: the same head.
        let copy = hello
        XCTAssertEqual(Array(try XCTUnwrap(cache.prepared(for: copy)).bytes), Array(second.bytes))
        XCTAssertEqual(cache.count, 1)
    }

    func testAPreparedHeadWritesWhatTheSerializerWrites() throws {
        var cache = H1ResponseHeadCache()
        _ = cache.prepared(for: hello)
        let prepared = try XCTUnwrap(cache.prepared(for: hello))
        for added in HTTP1AddedFieldsTests.everyCombination {
            var out: [UInt8] = []
            HTTP1Serializer.writeResponseHead(prepared: prepared.bytes, adding: added, into: &out)
            XCTAssertEqual(out, try serialized(hello, HTTP1AddedFieldsTests.fields(added)), "\(added)")
        }
    }

    /// Changing a value whose head was prepared copies its fields first: the changed head is new
    /// storage, and the prepared one still describes the old fields.
    func testAChangedHeadIsNotMistakenForThePreparedOne() throws {
        var cache = H1ResponseHeadCache()
        var headers = Headers([(":status", "200"), ("content-length", "2")])
        _ = cache.prepared(for: headers)
        let before = try XCTUnwrap(cache.prepared(for: headers))
        headers.append("x-extra", "1")
        XCTAssertNil(cache.prepared(for: headers), "the changed fields are new: seen once")
        let after = try XCTUnwrap(cache.prepared(for: headers))
        XCTAssertEqual(Array(after.bytes), Array(try serialized(headers).dropLast(2)))
        XCTAssertNotEqual(Array(after.bytes), Array(before.bytes))
        // A change in place, through `modify(at:)`, copies too.
        headers.modify(at: 1, value: "3")
        XCTAssertNil(cache.prepared(for: headers))
        XCTAssertEqual(try XCTUnwrap(cache.prepared(for: headers)).framing.contentLength, .valid(3))
    }

    func testDifferentStorageWithEqualFieldsIsPreparedSeparately() throws {
        var cache = H1ResponseHeadCache()
        let other = Headers(hello.fields.map { ($0.name, $0.value) })
        XCTAssertEqual(other, hello)
        XCTAssertNil(cache.prepared(for: hello))
        XCTAssertNil(cache.prepared(for: other), "not the candidate's storage")
        XCTAssertNil(cache.prepared(for: hello), "the candidate was replaced by `other`")
    }

    func testHeadsTheSerializerRefusesAreNeverPrepared() throws {
        let refused = [
            Headers([(":status", "200"), ("x-bad", "a\r\nb")]),
            Headers([(":status", "200"), ("bad name", "a")]),
            Headers([(":status", "2000")]),
            Headers([("content-length", "0")]),
            Headers([(":status", "200"), (":path", "/")]),
        ]
        for headers in refused {
            var cache = H1ResponseHeadCache()
            for _ in 0..<3 { XCTAssertNil(cache.prepared(for: headers), "\(headers.fields)") }
            XCTAssertEqual(cache.count, 0)
        }
    }

    /// The message removes a handler's `transfer-encoding` before writing, so such a head is not
    /// what goes out and is not prepared.
    func testAHeadWithTransferEncodingIsNotPrepared() {
        var cache = H1ResponseHeadCache()
        let chunked = Headers([(":status", "200"), ("transfer-encoding", "chunked")])
        for _ in 0..<3 { XCTAssertNil(cache.prepared(for: chunked)) }
        XCTAssertEqual(cache.count, 0)
    }

    func testTheOldestEntryMakesRoomWhenFull() throws {
        var cache = H1ResponseHeadCache()
        let heads = (0...H1ResponseHeadCache.capacity).map { Headers([(":status", String(200 + $0))]) }
        for head in heads {
            XCTAssertNil(cache.prepared(for: head))
            XCTAssertNotNil(cache.prepared(for: head))
        }
        XCTAssertEqual(cache.count, H1ResponseHeadCache.capacity)
        // The first was replaced: seen once more, it is the candidate again.
        XCTAssertNil(cache.prepared(for: heads[0]))
        for head in heads.dropFirst() {
            XCTAssertEqual(
                try XCTUnwrap(cache.prepared(for: head)).framing.validStatus, head.first(":status").flatMap { Int($0) })
        }
    }
}
