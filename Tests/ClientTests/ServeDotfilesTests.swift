import Foundation
import XCTest

/// `stepwise serve --dotfiles`: by default a path with a segment starting with `.` is answered
/// 404 however it is spelled (`make run` serves the checkout, `.git/` and all), a first
/// `.well-known` excepted, and listings leave such names out; `--dotfiles allow` serves them.
final class ServeDotfilesTests: XCTestCase {
    /// A root with dotfiles, a dot directory, a hidden directory further down, `.well-known`, and
    /// symbolic links inside the root whose names have no dot but lead to dotfiles.
    private func makeRoot() throws -> String {
        let root = NSTemporaryDirectory() + "stepwise-dotfiles-\(getpid())-\(UUID().uuidString.prefix(8))"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        let files = [
            ".env": "SECRET=env\n", ".git/config": "secret config\n", "x/.hidden/y": "hidden y\n",
            "x/visible.txt": "visible x\n", "a/b.txt": "b\n", "visible.txt": "visible\n",
            ".well-known/security.txt": "Contact: mailto:security@example.com\n",
            ".well-known/.private": "private\n", "x/.well-known/z": "not a first segment\n",
        ]
        for (path, contents) in files {
            let full = root + "/" + path
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try contents.write(toFile: full, atomically: false, encoding: .utf8)
        }
        try FileManager.default.createSymbolicLink(atPath: root + "/env-link", withDestinationPath: ".env")
        try FileManager.default.createSymbolicLink(atPath: root + "/git-link", withDestinationPath: ".git")
        return root
    }

    /// Every spelling of a dot segment gets the 404 a missing file gets, body and all, whether
    /// the file exists or not (a directory is not redirected, nothing is listed).
    func testDotSegmentsAreNotFoundHoweverSpelled() throws {
        let demo = try ServeCommandTests.Demo(["--quiet", "--root", try makeRoot()])
        defer { _ = demo.stop() }
        let missing = try demo.exchange("GET", "/no-such-file")
        XCTAssertEqual(missing.status, 404)
        let targets = [
            "/.env", "/./.env", "//.env", "/%2eenv", "/%2Eenv", "/.git/config", "/%2egit/config", "/%2Egit%2Fconfig",
            "/.git", "/.git/", "/.git/?x", "/x/.hidden/y", "/x/%2ehidden/y", "/x%2F.hidden%2Fy", "/x/.hidden/",
            "/.well-known/.private", "/x/.well-known/z", "/.no-such-file", "/.git/no-such-file",
            // Names without a dot that lead to dotfiles (symbolic links inside the root).
            "/env-link", "/git-link/config", "/git-link/",
        ]
        for target in targets {
            for method in ["GET", "HEAD"] {
                let response = try demo.exchange(method, target)
                XCTAssertEqual(response.status, 404, "\(method) \(target): \(response.body)")
                XCTAssertEqual(response.body, method == "HEAD" ? "" : missing.body, "\(method) \(target)")
                XCTAssertEqual(response.first("content-length"), missing.first("content-length"), "\(method) \(target)")
                XCTAssertNil(response.first("location"), "\(method) \(target)")
            }
        }
        // A `..` segment is refused before anything else (400), so it reaches no dotfile either.
        for target in ["/a/../.git/config", "/a/%2e%2e/.env"] {
            let response = try demo.exchange("GET", target)
            XCTAssertEqual(response.status, 400, "\(target): \(response.body)")
            XCTAssertFalse(response.body.contains("secret"), target)
        }
        // The files next to them are served.
        XCTAssertEqual(try demo.exchange("GET", "/visible.txt").body, "visible\n")
        XCTAssertEqual(try demo.exchange("GET", "/x/visible.txt").body, "visible x\n")
    }

    /// RFC 8615's `/.well-known/` is the one dot segment served, as the first segment.
    func testWellKnownIsServed() throws {
        let demo = try ServeCommandTests.Demo(["--quiet", "--root", try makeRoot()])
        defer { _ = demo.stop() }
        for target in ["/.well-known/security.txt", "/%2ewell-known/security.txt", "/./.well-known/security.txt"] {
            let response = try demo.exchange("GET", target)
            XCTAssertEqual(response.status, 200, target)
            XCTAssertEqual(response.body, "Contact: mailto:security@example.com\n", target)
        }
        let listing = try demo.exchange("GET", "/.well-known/")
        XCTAssertEqual(listing.status, 200)
        XCTAssertTrue(listing.body.contains("security.txt"), listing.body)
        XCTAssertFalse(listing.body.contains(".private"), listing.body)
    }

    /// A directory listing leaves out every name that starts with `.` (`.well-known` too: a
    /// listing shows what a browser would wander into), and lists the rest.
    func testListingsLeaveDotNamesOut() throws {
        let demo = try ServeCommandTests.Demo(["--quiet", "--root", try makeRoot()])
        defer { _ = demo.stop() }
        let root = try demo.exchange("GET", "/")
        XCTAssertEqual(root.status, 200)
        for name in ["visible.txt", "x/", "a/", "env-link"] { XCTAssertTrue(root.body.contains(name), root.body) }
        for name in [".env", ".git", ".well-known", "%2E", "%2e"] {
            XCTAssertFalse(root.body.contains(name), root.body)
        }
        let x = try demo.exchange("GET", "/x/")
        XCTAssertEqual(x.status, 200)
        XCTAssertTrue(x.body.contains("visible.txt"), x.body)
        XCTAssertFalse(x.body.contains(".hidden"), x.body)
        XCTAssertFalse(x.body.contains(".well-known"), x.body)
    }

    /// `--dotfiles allow` serves and lists them as the demo did before the rule.
    func testDotfilesAllowServesAndListsThem() throws {
        let demo = try ServeCommandTests.Demo(["--quiet", "--dotfiles", "allow", "--root", try makeRoot()])
        defer { _ = demo.stop() }
        for (target, body) in [
            ("/.env", "SECRET=env\n"), ("/%2egit/config", "secret config\n"), ("/x/.hidden/y", "hidden y\n"),
            ("/env-link", "SECRET=env\n"), ("/git-link/config", "secret config\n"),
        ] {
            let response = try demo.exchange("GET", target)
            XCTAssertEqual(response.status, 200, target)
            XCTAssertEqual(response.body, body, target)
        }
        XCTAssertEqual(try demo.exchange("GET", "/.git").status, 301)
        let root = try demo.exchange("GET", "/")
        for name in [".env", ".git/", ".well-known/", "visible.txt"] {
            XCTAssertTrue(root.body.contains(name), root.body)
        }
    }

    /// Anything but `deny` or `allow` is refused before the server starts, naming the two.
    func testAnUnknownDotfilesValueIsRefused() throws {
        let run = try stepwise(["serve", "--port", "0", "--dotfiles", "ignore"], timeout: 10)
        XCTAssertEqual(run.status, 64, run.stderr)  // EX_USAGE
        XCTAssertTrue(run.stderr.contains("'deny' and 'allow'"), run.stderr)
    }
}
