import StepwiseDemo
import XCTest

/// `Range` and `If-Range` through `StaticFilePlanner`, on hello.txt ("Hello, world!\n", 14 bytes).
final class PlannerRangeTests: PlannerTestCase {
    private func assertPartial(
        _ fields: [(String, String)], offset: UInt64, length: UInt64, contentRange: String, line: UInt = #line
    ) throws {
        assertFile(
            plan("/hello.txt", fields), path: try tree.realPath("root/hello.txt"), status: 206,
            [
                ":status: 206", "content-type: text/plain; charset=utf-8", "content-length: \(length)",
                "last-modified: Tue, 14 Nov 2023 22:13:20 GMT", "etag: \(try helloEntityTag())",
                "accept-ranges: bytes", "content-range: \(contentRange)",
            ], offset: offset, length: length, line: line)
    }

    private func assertWhole(_ fields: [(String, String)], method: String = "GET", line: UInt = #line) throws {
        let plan = plan("/hello.txt", method: method, fields)
        guard case .file(_, 200, let headers, 0, 14) = plan else {
            return XCTFail("not 200 whole: \(plan)", line: line)
        }
        XCTAssertEqual(headers.first("content-length"), "14", line: line)
        XCTAssertNil(headers.first("content-range"), line: line)
    }

    func testFirstLast() throws {
        try assertPartial([("range", "bytes=0-4")], offset: 0, length: 5, contentRange: "bytes 0-4/14")
        try assertPartial([("range", "bytes=7-100")], offset: 7, length: 7, contentRange: "bytes 7-13/14")
    }

    func testOpenEnded() throws {
        try assertPartial([("range", "bytes=7-")], offset: 7, length: 7, contentRange: "bytes 7-13/14")
    }

    func testSuffix() throws {
        try assertPartial([("range", "bytes=-6")], offset: 8, length: 6, contentRange: "bytes 8-13/14")
        try assertPartial([("range", "bytes=-60")], offset: 0, length: 14, contentRange: "bytes 0-13/14")
    }

    func testOutOfRangeIs416() {
        assertText(
            plan("/hello.txt", [("range", "bytes=14-")]), 416, "Range Not Satisfiable", ["content-range: bytes */14"])
        assertText(
            plan("/hello.txt", [("range", "bytes=-0")]), 416, "Range Not Satisfiable", ["content-range: bytes */14"])
    }

    func testMultipleRangesGiveTheWholeFile() throws {
        try assertWhole([("range", "bytes=0-1,4-5")])
        try assertWhole([("range", "bytes=0-1,40-50")])
    }

    func testInvalidRangeIsIgnored() throws {
        try assertWhole([("range", "bytes=5-2")])
        try assertWhole([("range", "pages=1-2")])
    }

    func testHeadIgnoresRange() throws {
        try assertWhole([("range", "bytes=0-4")], method: "HEAD")
    }

    func testIfRangeWithMatchingETagOrDate() throws {
        try assertPartial(
            [("range", "bytes=0-4"), ("if-range", try helloEntityTag())], offset: 0, length: 5,
            contentRange: "bytes 0-4/14")
        try assertPartial(
            [("range", "bytes=0-4"), ("if-range", "Tue, 14 Nov 2023 22:13:20 GMT")], offset: 0, length: 5,
            contentRange: "bytes 0-4/14")
    }

    func testIfRangeMismatchGivesTheWholeFile() throws {
        try assertWhole([("range", "bytes=0-4"), ("if-range", "\"stale\"")])
        try assertWhole([("range", "bytes=0-4"), ("if-range", "W/\(try helloEntityTag())")])
        try assertWhole([("range", "bytes=0-4"), ("if-range", "Tue, 14 Nov 2023 22:13:19 GMT")])
        try assertWhole([("range", "bytes=99-"), ("if-range", "\"stale\"")])
    }

    func testPreconditionsComeBeforeRange() throws {
        XCTAssertEqual(plan("/hello.txt", [("range", "bytes=0-4"), ("if-none-match", "*")]).status, 304)
        XCTAssertEqual(plan("/hello.txt", [("range", "bytes=99-"), ("if-match", "\"x\"")]).status, 412)
    }
}
