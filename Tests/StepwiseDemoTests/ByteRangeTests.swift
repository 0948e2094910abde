import HTTPCore
import StepwiseDemo
import XCTest

final class ByteRangeTests: XCTestCase {
    private let validators = Validators(entityTag: EntityTag(opaqueTag: "v1"), lastModified: 1_700_000_000)

    func testParseTheThreeForms() {
        XCTAssertEqual(ByteRangeSpec.parseRangeField("bytes=0-4"), [.closed(first: 0, last: 4)])
        XCTAssertEqual(ByteRangeSpec.parseRangeField("bytes=5-"), [.open(first: 5)])
        XCTAssertEqual(ByteRangeSpec.parseRangeField("bytes=-3"), [.suffix(length: 3)])
        XCTAssertEqual(ByteRangeSpec.parseRangeField("BYTES=0-0"), [.closed(first: 0, last: 0)])
        XCTAssertEqual(
            ByteRangeSpec.parseRangeField("bytes=0-1,, 5-\t,-2 "),
            [.closed(first: 0, last: 1), .open(first: 5), .suffix(length: 2)])
    }

    func testParseSaturatesHugeNumbers() {
        XCTAssertEqual(ByteRangeSpec.parseRangeField("bytes=99999999999999999999999-"), [.open(first: .max)])
        XCTAssertEqual(
            ByteRangeSpec.parseRangeField("bytes=0-99999999999999999999999"), [.closed(first: 0, last: .max)])
    }

    func testParseRejectsInvalidValues() {
        let invalid = [
            "bytes=4-2", "bytes=a-b", "bytes=", "bytes=,", "items=0-1", "bytes 0-1", "bytes =0-1", "bytes=--1",
            "bytes=1-2-3", "bytes=0-1;", "bytes=-", "bytes=0-1, x", "bytes=+1-2", "",
        ]
        for value in invalid { XCTAssertNil(ByteRangeSpec.parseRangeField(value), value) }
    }

    func testResolveAgainstALength() {
        XCTAssertEqual(
            ByteRangeSpec.closed(first: 2, last: 5).resolve(completeLength: 10), ByteRange(first: 2, last: 5))
        XCTAssertEqual(
            ByteRangeSpec.closed(first: 2, last: 50).resolve(completeLength: 10), ByteRange(first: 2, last: 9))
        XCTAssertNil(ByteRangeSpec.closed(first: 10, last: 12).resolve(completeLength: 10))
        XCTAssertEqual(ByteRangeSpec.open(first: 9).resolve(completeLength: 10), ByteRange(first: 9, last: 9))
        XCTAssertNil(ByteRangeSpec.open(first: 10).resolve(completeLength: 10))
        XCTAssertEqual(ByteRangeSpec.suffix(length: 3).resolve(completeLength: 10), ByteRange(first: 7, last: 9))
        XCTAssertEqual(ByteRangeSpec.suffix(length: 30).resolve(completeLength: 10), ByteRange(first: 0, last: 9))
        XCTAssertNil(ByteRangeSpec.suffix(length: 0).resolve(completeLength: 10))
        XCTAssertNil(ByteRangeSpec.suffix(length: 3).resolve(completeLength: 0))
        XCTAssertNil(ByteRangeSpec.open(first: 0).resolve(completeLength: 0))
    }

    func testRangeCountAndContentRange() {
        let range = ByteRange(first: 7, last: 13)
        XCTAssertEqual(range.count, 7)
        XCTAssertEqual(range.contentRange(completeLength: 14), "bytes 7-13/14")
    }

    private func select(
        _ fields: [(String, String)], method: String = "GET", length: UInt64 = 100
    ) -> RangeSelection {
        var headers = Headers()
        for (name, value) in fields { headers.append(name, value) }
        return ByteRangeRequest.select(method: method, headers: headers, completeLength: length, validators: validators)
    }

    func testSelect() {
        XCTAssertEqual(select([]), .whole)
        XCTAssertEqual(select([("range", "bytes=10-19")]), .partial(ByteRange(first: 10, last: 19)))
        XCTAssertEqual(select([("range", "bytes=100-")]), .unsatisfiable)
        XCTAssertEqual(select([("range", "bytes=0-1,5-6")]), .whole)
        XCTAssertEqual(select([("range", "bytes=200-300,400-500")]), .whole)
        XCTAssertEqual(select([("range", "bytes=9-1")]), .whole)
        XCTAssertEqual(select([("range", "lines=1-2")]), .whole)
        XCTAssertEqual(select([("range", "bytes=0-1"), ("range", "bytes=0-1")]), .whole)
    }

    /// On an empty representation a suffix-range with a non-zero length is the only satisfiable
    /// range (RFC 9110 §14.1.1), and selects nothing: the whole (empty) representation, not 416.
    func testSelectOnAnEmptyRepresentation() {
        XCTAssertEqual(select([("range", "bytes=-1")], length: 0), .whole)
        XCTAssertEqual(select([("range", "bytes=-99999999999999999999")], length: 0), .whole)
        XCTAssertEqual(select([("range", "bytes=-0")], length: 0), .unsatisfiable)
        XCTAssertEqual(select([("range", "bytes=0-")], length: 0), .unsatisfiable)
        XCTAssertEqual(select([("range", "bytes=0-0")], length: 0), .unsatisfiable)
    }

    func testRangeAppliesToGetOnly() {
        XCTAssertEqual(select([("range", "bytes=0-1")], method: "HEAD"), .whole)
        XCTAssertEqual(select([("range", "bytes=500-")], method: "HEAD"), .whole)
    }

    func testIfRange() {
        XCTAssertEqual(
            select([("range", "bytes=0-1"), ("if-range", "\"v1\"")]), .partial(ByteRange(first: 0, last: 1)))
        XCTAssertEqual(select([("range", "bytes=0-1"), ("if-range", "\"v2\"")]), .whole)
        XCTAssertEqual(select([("range", "bytes=0-1"), ("if-range", "W/\"v1\"")]), .whole)
        XCTAssertEqual(
            select([("range", "bytes=0-1"), ("if-range", "Tue, 14 Nov 2023 22:13:20 GMT")]),
            .partial(ByteRange(first: 0, last: 1)))
        XCTAssertEqual(select([("range", "bytes=0-1"), ("if-range", "Tue, 14 Nov 2023 22:13:21 GMT")]), .whole)
        XCTAssertEqual(select([("range", "bytes=0-1"), ("if-range", "soon")]), .whole)
        XCTAssertEqual(select([("range", "bytes=500-"), ("if-range", "\"v2\"")]), .whole)
        XCTAssertEqual(select([("range", "bytes=500-"), ("if-range", "\"v1\"")]), .unsatisfiable)
    }

    /// RFC 9110 §13.1.5: "If the HTTP-date validator provided is not a strong validator in the
    /// sense defined by Section 8.8.2.2, the condition is false", even when the date matches.
    func testIfRangeWithAWeakDateSendsTheWholeRepresentation() {
        var headers = Headers()
        headers.append("range", "bytes=0-1")
        headers.append("if-range", "Tue, 14 Nov 2023 22:13:20 GMT")
        var weak = validators
        weak.lastModifiedIsStrong = false
        XCTAssertEqual(
            ByteRangeRequest.select(method: "GET", headers: headers, completeLength: 100, validators: weak), .whole)
        // An entity-tag is unaffected.
        headers.delete("if-range")
        headers.append("if-range", "\"v1\"")
        XCTAssertEqual(
            ByteRangeRequest.select(method: "GET", headers: headers, completeLength: 100, validators: weak),
            .partial(ByteRange(first: 0, last: 1)))
    }
}
