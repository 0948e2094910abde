import Foundation
import HTTPCore
import StepwiseDemo
import XCTest

/// Whole files, validators and preconditions through `StaticFilePlanner`.
final class PlannerFileTests: PlannerTestCase {
    private let helloModified = "Tue, 14 Nov 2023 22:13:20 GMT"

    private func helloHeaders(status: Int = 200, length: Int = 14, extra: [String] = []) throws -> [String] {
        [
            ":status: \(status)", "content-type: text/plain; charset=utf-8", "content-length: \(length)",
            "last-modified: \(helloModified)", "etag: \(try helloEntityTag())", "accept-ranges: bytes",
        ] + extra
    }

    func testGetServesTheWholeFile() throws {
        assertFile(
            plan("/hello.txt"), path: try tree.realPath("root/hello.txt"), status: 200, try helloHeaders(), offset: 0,
            length: 14)
    }

    func testHeadPlansTheSameAsGet() {
        XCTAssertEqual(plan("/hello.txt", method: "HEAD"), plan("/hello.txt"))
        XCTAssertEqual(plan("/sub/", method: "HEAD"), plan("/sub/"))
        XCTAssertEqual(plan("/missing", method: "HEAD"), plan("/missing"))
    }

    func testStatusIsTheFirstField() {
        for path in ["/hello.txt", "/sub/", "/sub", "/missing", "/../x"] {
            XCTAssertEqual(plan(path).headers.field(at: 0).name, ":status", path)
            XCTAssertEqual(plan(path).headers.field(at: 0).value, String(plan(path).status), path)
        }
    }

    func testQueryAndFragmentAreIgnored() throws {
        assertFile(
            plan("/hello.txt?v=2#top"), path: try tree.realPath("root/hello.txt"), status: 200, try helloHeaders(),
            offset: 0, length: 14)
    }

    func testContentTypeFollowsTheRequestedName() throws {
        XCTAssertEqual(plan("/style.css").headers.first("content-type"), "text/css; charset=utf-8")
        XCTAssertEqual(plan("/site/index.html").headers.first("content-type"), "text/html; charset=utf-8")
        // A link is typed by its own name, the one the client sees; it has no extension.
        XCTAssertEqual(plan("/link-in").headers.first("content-type"), "application/octet-stream")
    }

    func testNameWithSpacesAndUnicode() throws {
        try assertServesWholeFile(
            "/hello%20w%C3%B6rld.txt", "root/hello wörld.txt", contentType: "text/plain; charset=utf-8", length: 8)
    }

    func testEmptyFile() throws {
        XCTAssertEqual(plan("/empty.txt").status, 200)
        XCTAssertEqual(plan("/empty.txt").headers.first("content-length"), "0")
        assertText(
            plan("/empty.txt", [("range", "bytes=0-")]), 416, "Range Not Satisfiable", ["content-range: bytes */0"])
        assertText(
            plan("/empty.txt", [("range", "bytes=-0")]), 416, "Range Not Satisfiable", ["content-range: bytes */0"])
    }

    /// RFC 9110 §14.1.1: "When a selected representation has zero length, the only satisfiable
    /// form of range-spec is a suffix-range with a non-zero suffix-length." Not 416 then; as a
    /// 206 cannot express an empty range, `Range` is ignored: 200 with the empty file.
    func testSuffixRangeOnAnEmptyFileGivesTheWholeEmptyFile() throws {
        let plan = plan("/empty.txt", [("range", "bytes=-1")])
        guard case .file(_, 200, let headers, 0, 0) = plan else { return XCTFail("not 200 whole: \(plan)") }
        XCTAssertEqual(headers.first("content-length"), "0")
        XCTAssertNil(headers.first("content-range"))
    }

    func testEntityTagIsStableAndChangesWithTheFile() throws {
        let first = plan("/hello.txt").headers.first("etag")
        XCTAssertEqual(first, try helloEntityTag())
        XCTAssertEqual(plan("/hello.txt").headers.first("etag"), first)

        // Same size, new content and mtime.
        try tree.write("root/hello.txt", "Hello, World!\n")
        try tree.setModificationTime("root/hello.txt", nanoseconds: 1_700_000_001_000_000_005)
        let second = plan("/hello.txt").headers.first("etag")
        XCTAssertEqual(second, try helloEntityTag(nanoseconds: 1_700_000_001_000_000_005))
        XCTAssertNotEqual(second, first)
        XCTAssertEqual(plan("/hello.txt").headers.first("last-modified"), "Tue, 14 Nov 2023 22:13:21 GMT")

        // Same mtime, new size.
        try tree.write("root/hello.txt", "Hello!\n")
        try tree.setModificationTime("root/hello.txt", nanoseconds: 1_700_000_001_000_000_005)
        XCTAssertNotEqual(plan("/hello.txt").headers.first("etag"), second)
    }

    /// A file changed in the current second may change again within the same tick of the file
    /// clock, with size and time unchanged: its tag is weak, so `If-Range` cannot join a range of
    /// the new content to one of the old, while `If-None-Match` still revalidates.
    func testAFileChangedThisSecondHasAWeakTag() throws {
        try tree.write("root/fresh.txt", "fresh content\n")
        // A second ahead of the planner's clock (`time(2)`), so that it cannot move past it while
        // the test runs: "changed this second" for the next second or two.
        let now = Int64(time(nil))
        try tree.setModificationTime("root/fresh.txt", nanoseconds: (now + 1) * 1_000_000_000 + 500)
        let tag = try XCTUnwrap(plan("/fresh.txt").headers.first("etag"))
        XCTAssertTrue(tag.hasPrefix("W/\""), tag)
        guard case .file(_, 200, _, 0, 14) = plan("/fresh.txt", [("range", "bytes=0-4"), ("if-range", tag)]) else {
            return XCTFail("If-Range with a weak tag must give the whole file")
        }
        XCTAssertEqual(plan("/fresh.txt", [("if-none-match", tag)]).status, 304)
        // Settled (changed in an earlier second): strong, and If-Range gives the range.
        try tree.setModificationTime("root/fresh.txt", nanoseconds: (now - 2) * 1_000_000_000)
        let settled = try XCTUnwrap(plan("/fresh.txt").headers.first("etag"))
        XCTAssertFalse(settled.hasPrefix("W/"), settled)
        guard case .file(_, 206, _, 0, 5) = plan("/fresh.txt", [("range", "bytes=0-4"), ("if-range", settled)]) else {
            return XCTFail("If-Range with the strong tag must give the range")
        }
    }

    func testIfNoneMatchGives304WithETagOnly() throws {
        let etag = try helloEntityTag()
        assertBytes(plan("/hello.txt", [("if-none-match", etag)]), 304, [":status: 304", "etag: \(etag)"], "")
        assertBytes(plan("/hello.txt", [("if-none-match", "W/\(etag)")]), 304, [":status: 304", "etag: \(etag)"], "")
        assertBytes(plan("/hello.txt", [("if-none-match", "*")]), 304, [":status: 304", "etag: \(etag)"], "")
        assertBytes(
            plan("/hello.txt", method: "HEAD", [("if-none-match", etag)]), 304, [":status: 304", "etag: \(etag)"], "")
        XCTAssertEqual(plan("/hello.txt", [("if-none-match", "\"other\"")]).status, 200)
    }

    func testIfModifiedSinceGives304() throws {
        let etag = try helloEntityTag()
        assertBytes(
            plan("/hello.txt", [("if-modified-since", helloModified)]), 304, [":status: 304", "etag: \(etag)"], "")
        XCTAssertEqual(plan("/hello.txt", [("if-modified-since", "Tue, 14 Nov 2023 22:13:19 GMT")]).status, 200)
        XCTAssertEqual(
            plan("/hello.txt", [("if-none-match", "\"other\""), ("if-modified-since", helloModified)]).status, 200)
    }

    func testFailedPreconditionsGive412() throws {
        assertText(plan("/hello.txt", [("if-match", "\"other\"")]), 412, "Precondition Failed")
        assertText(
            plan("/hello.txt", [("if-unmodified-since", "Tue, 14 Nov 2023 22:13:19 GMT")]), 412, "Precondition Failed")
        XCTAssertEqual(plan("/hello.txt", [("if-match", try helloEntityTag())]).status, 200)
        XCTAssertEqual(plan("/hello.txt", [("if-unmodified-since", helloModified)]).status, 200)
    }

    /// RFC 9110 §13.1.5 with §8.8.2.2: `If-Range` with the file's date selects the range only
    /// when that date is a strong validator. A date naming a second that is not over yet is not
    /// (the file may change again within it): here a modification time in the future, sent as the
    /// message date (§8.8.2.1), and asked for back in `If-Range`.
    func testIfRangeByDateNeedsADateThatIsOver() throws {
        XCTAssertEqual(plan("/hello.txt", [("range", "bytes=0-4"), ("if-range", helloModified)]).status, 206)
        let now = Int64(Date().timeIntervalSince1970)
        try tree.setModificationTime("root/hello.txt", nanoseconds: (now + 5) * 1_000_000_000)
        let fresh = plan("/hello.txt")
        let date = try XCTUnwrap(fresh.headers.first("last-modified"), "\(fresh)")
        let ranged = plan("/hello.txt", [("range", "bytes=0-4"), ("if-range", date)])
        XCTAssertEqual(ranged.status, 200, "if-range with a date that is not over: \(ranged)")
    }

    /// RFC 9110 §8.8.2.1: an origin server "MUST NOT generate a Last-Modified date that is later
    /// than the server's time of message origination (Date)", and replaces a modification time in
    /// the future with the message date. That date is then the validator the preconditions and
    /// `If-Range` compare with: the file's own (2100 here) would answer 304, 412 and 206 for dates
    /// the client never saw.
    func testLastModifiedInTheFutureIsReplacedByTheMessageDate() throws {
        try tree.setModificationTime("root/hello.txt", nanoseconds: 4_102_444_800 * 1_000_000_000)  // 2100-01-01
        // The planner's clock: `time(2)`, which reads the kernel's coarse clock, up to a tick
        // behind the one `Date()` reads, so that across a second boundary `Date()` said a second
        // the planner had not reached yet (seen once in a filtered run).
        let before = time(nil)
        let plan = plan("/hello.txt")
        let after = time(nil)
        let field = try XCTUnwrap(plan.headers.first("last-modified"), "\(plan)")
        let date = try XCTUnwrap(HTTPUtil.parseHTTPDate(field), field)
        XCTAssertTrue((before...after).contains(date), "last-modified: \(field)")

        let fileDate = "Fri, 01 Jan 2100 00:00:00 GMT"
        let lateDate = "Thu, 01 Jan 2099 00:00:00 GMT"
        XCTAssertEqual(self.plan("/hello.txt", [("if-modified-since", lateDate)]).status, 304)
        XCTAssertEqual(self.plan("/hello.txt", [("if-unmodified-since", lateDate)]).status, 200)
        let ranged = self.plan("/hello.txt", [("range", "bytes=0-4"), ("if-range", fileDate)])
        XCTAssertEqual(ranged.status, 200, "if-range with the file's own date: \(ranged)")
    }

    /// A modification time more than 2^63 ns (292 years) from the epoch, which `utimensat` and
    /// file systems with 64-bit times accept (`touch -d 2300-01-01`): the tag's nanosecond count
    /// overflowed `Int64`, which trapped and took the whole server down, for the file and for a
    /// directory listed (the planner looks at the directory's status too). The file is served, and
    /// its tag still changes with the time.
    func testModificationTimesBeyond2262AreServed() throws {
        let year2300 = 10_413_792_000
        try tree.setModificationTime("root/hello.txt", seconds: year2300)
        try tree.setModificationTime("root/sub", seconds: year2300)
        try tree.setModificationTime("root", seconds: -year2300)
        let first = plan("/hello.txt")
        XCTAssertEqual(first.status, 200, "\(first)")
        XCTAssertEqual(plan("/sub/").status, 200)
        XCTAssertEqual(plan("/").status, 200)
        try tree.setModificationTime("root/hello.txt", seconds: year2300 + 1)
        let second = plan("/hello.txt")
        XCTAssertEqual(second.status, 200, "\(second)")
        XCTAssertNotNil(first.headers.first("etag"))
        XCTAssertNotEqual(second.headers.first("etag"), first.headers.first("etag"))
    }
}
