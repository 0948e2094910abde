import Foundation
import Glibc
import Synchronization
import XCTest

@testable import StepwiseDemo

/// Methods, path checks, symbolic links, redirects and file system errors through
/// `StaticFilePlanner`.
final class PlannerPathTests: PlannerTestCase {
    /// RFC 9110 §9.1: a method the demo knows but does not perform on files gets 405 with
    /// `allow`, whatever the path; any other method (they are case-sensitive) 501.
    func testOtherMethodsGive405Or501() {
        for method in ["POST", "PUT", "DELETE", "PATCH", "CONNECT", "TRACE"] {
            for path in ["/hello.txt", "/missing", "/.env", "/../x", "*"] {
                assertText(plan(path, method: method), 405, "Method Not Allowed", ["allow: GET, HEAD, OPTIONS"])
            }
        }
        for method in ["get", "PROPFIND", "BREW", "X"] {
            assertText(plan("/hello.txt", method: method), 501, "Not Implemented")
        }
    }

    /// OPTIONS on a path, or `*`, gets 204 with `allow` and nothing else, the file system
    /// unasked; a path refused for GET is refused for OPTIONS too.
    func testOptions() {
        for path in ["/hello.txt", "/sub/", "/missing", "*", "/?q"] {
            assertBytes(plan(path, method: "OPTIONS"), 204, [":status: 204", "allow: GET, HEAD, OPTIONS"], "")
        }
        assertText(plan("/../x", method: "OPTIONS"), 400, "Bad Request")
        assertText(plan("/.env", method: "OPTIONS"), 404, "Not Found")
        // The asterisk-form is for OPTIONS only (RFC 9112 §3.2.4).
        assertText(plan("*"), 400, "Bad Request")
        assertText(plan("*", method: "HEAD"), 400, "Bad Request")
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

    /// A thread keeps swapping the directory `sub` for a symbolic link to `outside` (which has an
    /// `a.txt` too) while `/sub/a.txt` is planned over and over: each plan is the file inside or
    /// 404, never the file outside. Checking a name and then opening it again served the outside
    /// file in this race.
    func testADirectorySwappedForALinkDuringPlanningNeverLeaksTheFileOutside() throws {
        try tree.write("outside/a.txt", "outside\n")
        let insideRoot = try tree.realPath("root") + "/"
        let swapper = DirectorySwapper(tree: tree)
        let thread = Thread { swapper.run() }
        thread.start()
        defer { swapper.stopAndWait() }
        // Plans race the swaps from the first swap on, until both outcomes were seen often.
        let giveUp = ProcessInfo.processInfo.systemUptime + 20
        while swapper.swaps.load(ordering: .relaxed) == 0 && ProcessInfo.processInfo.systemUptime < giveUp {
            usleep(100)
        }
        var served = 0
        var refused = 0
        var planned = 0
        while planned < 3000 || served < 100 || refused < 100, ProcessInfo.processInfo.systemUptime < giveUp {
            planned += 1
            let plan = plan("/sub/a.txt")
            switch plan {
            case .file(let file, 200, _, _, _):
                served += 1
                XCTAssertTrue(file.path.hasPrefix(insideRoot), file.path)
                XCTAssertEqual(try contents(of: file.handle), "a\n")
            case .bytes(404, _, _):
                refused += 1
            default:
                XCTFail("unexpected plan \(plan)")
            }
        }
        swapper.stopAndWait()
        XCTAssertGreaterThanOrEqual(served, 100, "the directory was hardly ever in place")
        XCTAssertGreaterThanOrEqual(refused, 100, "the link was hardly ever in place")
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

    /// A listing's links are relative, so the browser resolves them against the URL it asked for,
    /// up to its last literal `/` (RFC 3986 §5.2.3). Listed at `/sub%2F`, `a.txt` led to `/a.txt`
    /// and `../` to `/`; at `/sub/.`, the browser would have to drop the dot segment first. Each is
    /// redirected to the path with a literal `/`. Files keep answering 404 to a decoded trailing
    /// slash.
    func testDirectoryWithAnEncodedOrDotTrailingSlashIsRedirected() {
        assertText(plan("/sub%2F"), 301, "Moved Permanently", ["location: /sub/"])
        assertText(plan("/sub%2f?x=1"), 301, "Moved Permanently", ["location: /sub/?x=1"])
        assertText(plan("/sub/inner%2F"), 301, "Moved Permanently", ["location: /sub/inner/"])
        assertText(plan("/sub/."), 301, "Moved Permanently", ["location: /sub/"])
        assertText(plan("/sub/%2e"), 301, "Moved Permanently", ["location: /sub/"])
        assertText(plan("/%2F"), 301, "Moved Permanently", ["location: /"])
        assertText(plan("/hello.txt%2F"), 404, "Not Found")
        assertText(plan("/hello.txt/."), 404, "Not Found")
        XCTAssertEqual(plan("/sub/").status, 200)
        XCTAssertEqual(plan("/sub//").status, 200)
        XCTAssertEqual(plan("/").status, 200)
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

/// Swaps `root/sub` for a symbolic link to `../outside` and back, on its own thread, until
/// stopped.
private final class DirectorySwapper: @unchecked Sendable {
    private let tree: TemporaryTree
    private let stopRequested = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    /// How many times the link was put in place.
    let swaps = Atomic<Int>(0)

    init(tree: TemporaryTree) { self.tree = tree }

    func run() {
        let sub = tree.path("root/sub")
        let parked = tree.path("root/parked")
        while !stopRequested.load(ordering: .relaxed) {
            guard rename(sub, parked) == 0 else { break }
            if symlink("../outside", sub) == 0 {
                swaps.add(1, ordering: .relaxed)
                unlink(sub)
            }
            guard rename(parked, sub) == 0 else { break }
        }
        stopped.store(true, ordering: .releasing)
    }

    /// Stops the thread and waits until `root/sub` is the directory again.
    func stopAndWait() {
        stopRequested.store(true, ordering: .relaxed)
        while !stopped.load(ordering: .acquiring) { usleep(1000) }
    }
}
