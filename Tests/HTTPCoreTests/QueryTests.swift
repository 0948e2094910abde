import HTTPCore
import XCTest

final class QueryTests: XCTestCase {
    private func args(_ query: String) -> [[String?]] {
        HTTPUtil.queryArguments(query).map { [$0.name, $0.value] }
    }

    // lua-http: "query_args works"
    func testQueryArguments() {
        XCTAssertEqual(args("foo=bar"), [["foo", "bar"]])
        XCTAssertEqual(
            args("foo=bar&baz=qux&foo=somethingelse"),
            [["foo", "bar"], ["baz", "qux"], ["foo", "somethingelse"]])
        XCTAssertEqual(args("%3D=%26"), [["=", "&"]])
        XCTAssertEqual(args("foo=bar&noequals"), [["foo", "bar"], ["noequals", nil]])
    }

    func testEmptyValuesPlusSignsAndEmptyPairs() {
        XCTAssertEqual(args("a=&b"), [["a", ""], ["b", nil]])
        XCTAssertEqual(args("a+b=c+d"), [["a+b", "c+d"]], "+ is not a space in URI syntax")
        XCTAssertEqual(args("a=1&&b=2&"), [["a", "1"], ["b", "2"]])
        XCTAssertEqual(args("&&"), [])
        XCTAssertEqual(args(""), [])
        XCTAssertEqual(args("=v"), [["", "v"]])
        XCTAssertEqual(args("a=b=c"), [["a", "b=c"]], "the name ends at the first =")
        XCTAssertEqual(args("x=%E2%82%AC&y=%zz"), [["x", "€"], ["y", "%zz"]])
        XCTAssertEqual(args("ü=ö"), [["ü", "ö"]])
    }

    func testIteratingTwiceGivesTheSamePairs() {
        let q = HTTPUtil.queryArguments("a=1&b=2")
        XCTAssertEqual(q.map(\.name), ["a", "b"])
        XCTAssertEqual(q.map(\.name), ["a", "b"])
    }

    // lua-http: "dict_to_query works"
    func testQueryFromDictionary() {
        XCTAssertEqual(HTTPUtil.query(from: ["foo": "bar"]), "foo=bar")
        XCTAssertEqual(HTTPUtil.query(from: ["foo": "λ"]), "foo=%CE%BB")
        let dict = ["foo": "bar", "baz": "qux", "with space": "a&b=c", "": "empty name"]
        var back: [String: String] = [:]
        for (name, value) in HTTPUtil.queryArguments(HTTPUtil.query(from: dict)) { back[name] = value }
        XCTAssertEqual(back, dict)
        // Sorted by name bytes, so the output is deterministic.
        XCTAssertEqual(HTTPUtil.query(from: ["b": "2", "a": "1", "C": "3"]), "C=3&a=1&b=2")
        XCTAssertEqual(HTTPUtil.query(from: [String: String]()), "")
    }

    func testQueryFromPairsKeepsOrderAndDuplicates() {
        let pairs = [("z", "1"), ("a", "x y"), ("z", "2+3"), ("é", "?&=#")]
        let q = HTTPUtil.query(from: pairs)
        XCTAssertEqual(q, "z=1&a=x%20y&z=2%2B3&%C3%A9=%3F%26%3D%23")
        XCTAssertEqual(args(q), pairs.map { [$0.0, $0.1] })
    }
}
