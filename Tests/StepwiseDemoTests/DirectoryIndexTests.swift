import StepwiseDemo
import XCTest

final class DirectoryIndexTests: XCTestCase {
    func testPageListsDirectoriesFirstThenFilesByName() {
        let entries = [
            DirectoryEntry(name: "b.txt", isDirectory: false),
            DirectoryEntry(name: "z", isDirectory: true),
            DirectoryEntry(name: "a.txt", isDirectory: false),
            DirectoryEntry(name: "c", isDirectory: true),
        ]
        XCTAssertEqual(
            DirectoryIndex.html(urlPath: "/docs/", entries: entries),
            """
            <!DOCTYPE html>
            <html>
            <head>
            <meta charset="utf-8">
            <title>Index of /docs/</title>
            </head>
            <body>
            <h1>Index of /docs/</h1>
            <ul>
            <li><a href="../">../</a></li>
            <li><a href="c/">c/</a></li>
            <li><a href="z/">z/</a></li>
            <li><a href="a.txt">a.txt</a></li>
            <li><a href="b.txt">b.txt</a></li>
            </ul>
            </body>
            </html>

            """)
    }

    func testRootHasNoParentLink() {
        let page = DirectoryIndex.html(urlPath: "/", entries: [DirectoryEntry(name: "a", isDirectory: false)])
        XCTAssertFalse(page.contains("../"))
        XCTAssertTrue(page.contains("<li><a href=\"a\">a</a></li>\n"))
    }

    func testNamesAreEscapedAndHrefsEncoded() {
        let entries = [
            DirectoryEntry(name: "<script>alert('x')&.txt", isDirectory: false),
            DirectoryEntry(name: "my dir", isDirectory: true),
            DirectoryEntry(name: "wörld?#.txt", isDirectory: false),
            DirectoryEntry(name: "a:b", isDirectory: false),
        ]
        let page = DirectoryIndex.html(urlPath: "/<b>/", entries: entries)
        XCTAssertTrue(page.contains("<title>Index of /&lt;b&gt;/</title>"))
        XCTAssertTrue(page.contains("<li><a href=\"my%20dir/\">my dir/</a></li>\n"))
        XCTAssertTrue(
            page.contains(
                "<li><a href=\"%3Cscript%3Ealert(&#39;x&#39;)%26.txt\">&lt;script&gt;alert(&#39;x&#39;)&amp;.txt</a></li>\n"
            ))
        XCTAssertTrue(page.contains("<li><a href=\"w%C3%B6rld%3F%23.txt\">wörld?#.txt</a></li>\n"))
        XCTAssertTrue(page.contains("<li><a href=\"a%3Ab\">a:b</a></li>\n"))
        XCTAssertFalse(page.contains("<script>"))
    }

    func testEscapeHTML() {
        XCTAssertEqual(DirectoryIndex.escapeHTML("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;")
        XCTAssertEqual(DirectoryIndex.escapeHTML("plain wörld"), "plain wörld")
    }
}
