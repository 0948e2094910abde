import XCTest

@testable import StepwiseDemo

/// `StaticFilePlanner.dotfiles`: paths with a segment starting with `.`, as requested and as
/// resolved below the root.
final class PlannerDotfileTests: PlannerTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        for directory in ["root/.git", "root/sub/.hidden", "root/.well-known", "root/hidden"] {
            try tree.makeDirectory(directory)
        }
        try tree.write("root/.env", "SECRET=1\n")
        try tree.write("root/.git/config", "[core]\n")
        try tree.write("root/sub/.hidden/y", "y\n")
        try tree.write("root/.well-known/security.txt", "Contact: x\n")
        try tree.makeSymbolicLink("root/env-link", to: ".env")
        try tree.makeSymbolicLink("root/git-link", to: ".git")
        try tree.makeSymbolicLink("root/hidden/index.html", to: "../.env")
    }

    func testDotSegmentsAreNotFoundBeforeTheFileSystemIsAsked() {
        let paths = [
            "/.env", "/%2eenv", "/./.env", "/.git", "/.git/", "/.git/config", "/%2Egit%2Fconfig", "/sub/.hidden/y",
            "/sub/.hidden", "/.missing", "/.well-known/.x", "/sub/.well-known/x",
        ]
        for path in paths {
            assertText(plan(path), 404, "Not Found")
            assertText(plan(path, method: "HEAD"), 404, "Not Found")
        }
    }

    func testLinksLeadingToDotfilesAreNotFound() {
        assertText(plan("/env-link"), 404, "Not Found")
        assertText(plan("/git-link/config"), 404, "Not Found")
        assertText(plan("/git-link/"), 404, "Not Found")
        // An index.html leading to a dotfile is not served: the directory is listed instead.
        let hidden = plan("/hidden/")
        guard case .bytes(200, _, let body) = hidden else { return XCTFail("\(hidden)") }
        XCTAssertFalse(String(decoding: body, as: UTF8.self).contains("SECRET"))
    }

    func testWellKnownIsServed() throws {
        try assertServesWholeFile(
            "/.well-known/security.txt", "root/.well-known/security.txt", contentType: "text/plain; charset=utf-8",
            length: 11)
    }

    func testListingsLeaveDotNamesOut() {
        for (path, hidden) in [("/", [".env", ".git", ".well-known"]), ("/sub/", [".hidden"])] {
            guard case .bytes(200, _, let body) = plan(path) else { return XCTFail(path) }
            let page = String(decoding: body, as: UTF8.self)
            for name in hidden { XCTAssertFalse(page.contains(name), page) }
        }
    }

    func testAllowServesAndListsThem() throws {
        planner = StaticFilePlanner(root: tree.root, dotfiles: .allow)
        try assertServesWholeFile("/.env", "root/.env", contentType: "application/octet-stream", length: 9)
        try assertServesWholeFile(
            "/%2egit/config", "root/.git/config", contentType: "application/octet-stream", length: 7)
        try assertServesWholeFile("/env-link", "root/.env", contentType: "application/octet-stream", length: 9)
        guard case .bytes(200, _, let body) = plan("/") else { return XCTFail("no listing") }
        XCTAssertTrue(String(decoding: body, as: UTF8.self).contains(".git/"))
    }

    /// Only the part of the canonical path below the root counts: a root may itself be in a
    /// dot directory.
    func testTheRootsOwnPathIsNotChecked() {
        XCTAssertFalse(StaticFilePlanner.hasDotSegment("/home/u/.www/a.txt", below: "/home/u/.www"))
        XCTAssertFalse(StaticFilePlanner.hasDotSegment("/home/u/.www", below: "/home/u/.www"))
        XCTAssertTrue(StaticFilePlanner.hasDotSegment("/home/u/.www/.a", below: "/home/u/.www"))
        XCTAssertTrue(StaticFilePlanner.hasDotSegment("/.a/b", below: "/"))
        XCTAssertFalse(StaticFilePlanner.hasDotSegment("/.well-known/b", below: "/"))
        XCTAssertFalse(StaticFilePlanner.hasDotSegment("/", below: "/"))
    }
}
