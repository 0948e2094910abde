import StepwiseDemo
import XCTest

/// Directories through `StaticFilePlanner`: index.html and listings.
final class PlannerDirectoryTests: PlannerTestCase {
    func testIndexHtmlIsServedInsteadOfAListing() throws {
        try assertServesWholeFile("/site/", "root/site/index.html", contentType: "text/html; charset=utf-8", length: 14)
        XCTAssertNotNil(plan("/site/").headers.first("etag"))
        XCTAssertEqual(plan("/site/"), plan("/site/?q=1"))
    }

    func testIndexHtmlHonoursPreconditions() throws {
        let etag = try XCTUnwrap(plan("/site/").headers.first("etag"))
        assertBytes(plan("/site/", [("if-none-match", etag)]), 304, [":status: 304", "etag: \(etag)"], "")
    }

    func testIndexHtmlLeadingOutsideTheRootIsNotFollowed() {
        let plan = plan("/trap/")
        guard case .bytes(200, _, let body) = plan else { return XCTFail("\(plan)") }
        let page = String(decoding: body, as: UTF8.self)
        XCTAssertTrue(page.contains("<h1>Index of /trap/</h1>"))
        XCTAssertFalse(page.contains("top secret"))
    }

    func testListing() throws {
        let page = """
            <!DOCTYPE html>
            <html>
            <head>
            <meta charset="utf-8">
            <title>Index of /sub/</title>
            </head>
            <body>
            <h1>Index of /sub/</h1>
            <ul>
            <li><a href="../">../</a></li>
            <li><a href="inner/">inner/</a></li>
            <li><a href="%3Cscript%3Ealert(&#39;x&#39;)%26.txt">&lt;script&gt;alert(&#39;x&#39;)&amp;.txt</a></li>
            <li><a href="a.txt">a.txt</a></li>
            </ul>
            </body>
            </html>

            """
        assertBytes(
            plan("/sub/"), 200,
            [":status: 200", "content-type: text/html; charset=utf-8", "content-length: \(page.utf8.count)"], page)
    }

    func testListingOfTheRootHasNoParentLinkAndMarksDirectories() throws {
        guard case .bytes(200, _, let body) = plan("/") else { return XCTFail("\(plan("/"))") }
        let page = String(decoding: body, as: UTF8.self)
        XCTAssertFalse(page.contains("href=\"../\""))
        XCTAssertTrue(page.contains("<li><a href=\"my%20dir/\">my dir/</a></li>"))
        XCTAssertTrue(page.contains("<li><a href=\"dir-out/\">dir-out/</a></li>"))  // a link to a directory
        XCTAssertTrue(page.contains("<li><a href=\"hello%20w%C3%B6rld.txt\">hello wörld.txt</a></li>"))
        XCTAssertTrue(page.contains("<li><a href=\"hello.txt\">hello.txt</a></li>"))
        XCTAssertFalse(page.contains("<script>"))
    }

    func testListingOfAnEncodedDirectoryName() throws {
        guard case .bytes(200, _, let body) = plan("/my%20dir/") else { return XCTFail("\(plan("/my%20dir/"))") }
        XCTAssertTrue(String(decoding: body, as: UTF8.self).contains("<h1>Index of /my dir/</h1>"))
    }
}
