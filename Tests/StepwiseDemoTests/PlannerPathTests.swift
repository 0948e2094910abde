import Glibc
import XCTest

@testable import StepwiseDemo

/// Methods, path checks, symbolic links, redirects and file system errors through
/// `StaticFilePlanner`.
final class PlannerPathTests: PlannerTestCase {
    func testOtherMethodsGive405() {
        for method in ["POST", "PUT", "DELETE", "OPTIONS", "get"] {
            assertText(plan("/hello.txt", method: method), 405, "Method Not Allowed", ["allow: GET, HEAD"])
        }
    }

    func testTraversalAttemptsGive400() {
        let attempts = [
            "/../etc/passwd", "/%2e%2e/", "/%2E%2E/etc/passwd", "/a/%2e%2e/%2e%2e/x", "/sub/..", "/sub/../hello.txt",
            "/sub/..%2F..%2Fetc/passwd", "/sub%2F..%2Fhello.txt", "/..", "/.%2e/x",
        ]
        for path in attempts { assertText(plan(path), 400, "Bad Request") }
    }

    func testNulGives400() {
        assertText(plan("/hello.txt%00.png"), 400, "Bad Request")
        assertText(plan("/%00"), 400, "Bad Request")
    }

    func testPathsThatAreNotAbsoluteOrNotUTF8Give400() {
        for path in ["hello.txt", "*", "", "?x", "http://example.com/hello.txt", "/%FF.txt"] {
            assertText(plan(path), 400, "Bad Request")
        }
    }

    func testSingleDotSegmentsAndEmptySegmentsAreHarmless() throws {
        XCTAssertEqual(plan("/./sub/./a.txt"), plan("/sub/a.txt"))
        XCTAssertEqual(plan("//sub//a.txt"), plan("/sub/a.txt"))
        XCTAssertEqual(plan("/sub/a.txt").status, 200)
    }

    func testSymbolicLinkLeadingOutsideTheRootIs404() {
        assertText(plan("/link-out"), 404, "Not Found")
        assertText(plan("/dir-out/secret.txt"), 404, "Not Found")
        assertText(plan("/dir-out/"), 404, "Not Found")
        assertText(plan("/dir-out"), 404, "Not Found")
    }

    func testSymbolicLinkInsideTheRootIsFollowed() throws {
        // The plan names the link's target; the type comes from the requested name, which has no extension.
        try assertServesWholeFile("/link-in", "root/hello.txt", contentType: "application/octet-stream", length: 14)
    }

    func testDirectoryWithoutTrailingSlashIsRedirected() {
        assertText(plan("/sub"), 301, "Moved Permanently", ["location: /sub/"])
        assertText(plan("/sub?x=1&y"), 301, "Moved Permanently", ["location: /sub/?x=1&y"])
        assertText(plan("/sub/inner#frag"), 301, "Moved Permanently", ["location: /sub/inner/"])
        assertText(plan("/my%20dir"), 301, "Moved Permanently", ["location: /my%20dir/"])
        assertText(plan("/site"), 301, "Moved Permanently", ["location: /site/"])
        // Never a network-path reference ("//host/"), which would send the client elsewhere.
        assertText(plan("//sub"), 301, "Moved Permanently", ["location: /sub/"])
    }

    func testMissingNamesGive404() {
        assertText(plan("/missing.txt"), 404, "Not Found")
        assertText(plan("/sub/missing/"), 404, "Not Found")
        assertText(plan("/hello.txt/x"), 404, "Not Found")  // ENOTDIR
        assertText(plan("/hello.txt/"), 404, "Not Found")  // a file is not a directory
    }

    func testSymbolicLinkLoopGives500() {
        assertText(plan("/loop"), 500, "Internal Server Error")
    }

    func testMissingRootGives500() {
        planner = StaticFilePlanner(root: tree.path("no-such-root"))
        assertText(plan("/"), 500, "Internal Server Error")
        assertText(plan("/hello.txt"), 500, "Internal Server Error")
    }

    func testRootGivenWithDotsAndSlashesIsResolved() throws {
        planner = StaticFilePlanner(root: tree.path("outside/../root/"))
        XCTAssertEqual(plan("/hello.txt").status, 200)
        assertText(plan("/link-out"), 404, "Not Found")
    }

    // The tests run as root here, where EACCES cannot be provoked with permissions, so the mapping
    // from errno to status is checked directly.
    func testErrnoToStatus() {
        XCTAssertEqual(FileSystemError(errno: ENOENT).status, 404)
        XCTAssertEqual(FileSystemError(errno: ENOTDIR).status, 404)
        XCTAssertEqual(FileSystemError(errno: ENAMETOOLONG).status, 404)
        XCTAssertEqual(FileSystemError(errno: EACCES).status, 403)
        XCTAssertEqual(FileSystemError(errno: EIO).status, 500)
        XCTAssertEqual(FileSystemError(errno: ELOOP).status, 500)
    }

    func testInsideRootCheck() {
        XCTAssertTrue(StaticFilePlanner.isInside("/srv/www", root: "/srv/www"))
        XCTAssertTrue(StaticFilePlanner.isInside("/srv/www/a", root: "/srv/www"))
        XCTAssertFalse(StaticFilePlanner.isInside("/srv/www2/a", root: "/srv/www"))
        XCTAssertFalse(StaticFilePlanner.isInside("/srv", root: "/srv/www"))
        XCTAssertTrue(StaticFilePlanner.isInside("/etc/passwd", root: "/"))
    }
}
