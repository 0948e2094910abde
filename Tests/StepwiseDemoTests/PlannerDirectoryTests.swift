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

    func testListingHonoursPreconditionsWithoutValidators() {
        // RFC 9110 §13.1.1, §13.1.2: a listing has no entity tag, so a list of tags in If-Match
        // is false and `*` true; `If-None-Match: *` matches it. Dates are ignored without a
        // modification date (§13.1.3, §13.1.4).
        guard case .bytes(412, _, _) = plan("/sub/", [("if-match", "\"x\"")]) else {
            return XCTFail("If-Match with a tag: \(plan("/sub/", [("if-match", "\"x\"")]))")
        }
        guard case .bytes(200, _, _) = plan("/sub/", [("if-match", "*")]) else { return XCTFail("If-Match: *") }
        assertBytes(plan("/sub/", [("if-none-match", "*")]), 304, [":status: 304"], "")
        guard case .bytes(200, _, _) = plan("/sub/", [("if-none-match", "\"x\"")]) else {
            return XCTFail("If-None-Match with another tag")
        }
        let future = "Sun, 06 Nov 2094 08:49:37 GMT"
        guard case .bytes(200, _, _) = plan("/sub/", [("if-modified-since", future)]) else {
            return XCTFail("If-Modified-Since")
        }
        guard case .bytes(200, _, _) = plan("/sub/", [("if-unmodified-since", "Sun, 06 Nov 1994 08:49:37 GMT")]) else {
            return XCTFail("If-Unmodified-Since")
        }
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
