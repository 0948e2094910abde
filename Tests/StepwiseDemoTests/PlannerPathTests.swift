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

    /// The plan holds the file it checked, open: swapping its name, or a directory on its way,
    /// for a symbolic link leading out of the root afterwards changes nothing that is sent.
    func testThePlanSendsTheFileItCheckedWhateverHappensToItsNameAfter() throws {
        let direct = plan("/hello.txt")
        let throughDirectory = plan("/sub/a.txt")
        guard case .file(let hello, 200, _, 0, 14) = direct, case .file(let a, 200, _, 0, 2) = throughDirectory else {
            return XCTFail("expected two files, got \(direct) and \(throughDirectory)")
        }
        try tree.rename("root/hello.txt", to: "root/old-hello.txt")
        try tree.makeSymbolicLink("root/hello.txt", to: "../outside/secret.txt")
        try tree.rename("root/sub", to: "root/old-sub")
        try tree.makeSymbolicLink("root/sub", to: "../outside")
        try tree.write("outside/a.txt", "outside\n")
        XCTAssertEqual(try contents(of: hello.handle), "Hello, world!\n")
        XCTAssertEqual(try contents(of: a.handle), "a\n")
        // New requests see the links, and refuse them.
        assertText(plan("/hello.txt"), 404, "Not Found")
        assertText(plan("/sub/a.txt"), 404, "Not Found")
    }

    /// The root check is made on the file opened, whose path the kernel reports without links.
    func testThePlannedPathIsTheOpenedFilesCanonicalPath() throws {
        guard case .file(let file, 200, _, _, _) = plan("/link-in") else { return XCTFail("expected a file") }
        XCTAssertEqual(file.path, try tree.realPath("root/hello.txt"))
        XCTAssertEqual(try contents(of: file.handle), "Hello, world!\n")
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
