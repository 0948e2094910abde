import Glibc
import HTTPCore
import StepwiseDemo
import XCTest

/// A failed set-up call.
struct TreeError: Error, CustomStringConvertible {
    let description: String

    init(_ operation: String, _ path: String) {
        description = "\(operation) \(path): \(String(cString: strerror(errno)))"
    }
}

/// A directory under /tmp made for one test and removed after it, built with Glibc calls.
///
/// ```
/// base/
///   outside/secret.txt              "top secret\n"
///   root/                           what the planner serves
///     hello.txt                     "Hello, world!\n" (14 bytes), mtime 1700000000.123456789
///     style.css, empty.txt
///     hello wörld.txt               "unicode\n"
///     sub/                          no index.html
///       a.txt, inner/, <script>alert('x')&.txt
///     my dir/                       no index.html
///     site/index.html               "<h1>site</h1>\n"
///     trap/index.html -> ../../outside/secret.txt
///     link-out -> ../outside/secret.txt
///     dir-out -> ../outside
///     link-in -> hello.txt
///     loop -> loop
/// ```
final class TemporaryTree {
    /// The mtime of hello.txt, in nanoseconds since the epoch.
    static let helloModificationNanoseconds: Int64 = 1_700_000_000_123_456_789
    static let scriptName = "<script>alert('x')&.txt"

    let base: String
    var root: String { base + "/root" }

    init() throws {
        var template = Array("/tmp/stepwise-demo-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TreeError("mkdtemp", "/tmp") }
        base = String(cString: made)
        try makeDirectory("outside")
        try write("outside/secret.txt", "top secret\n")
        for directory in ["root", "root/sub", "root/sub/inner", "root/my dir", "root/site", "root/trap"] {
            try makeDirectory(directory)
        }
        try write("root/hello.txt", "Hello, world!\n")
        try setModificationTime("root/hello.txt", nanoseconds: Self.helloModificationNanoseconds)
        try write("root/style.css", "p {}\n")
        try write("root/empty.txt", "")
        try write("root/hello wörld.txt", "unicode\n")
        try write("root/sub/a.txt", "a\n")
        try write("root/sub/" + Self.scriptName, "x\n")
        try write("root/site/index.html", "<h1>site</h1>\n")
        try makeSymbolicLink("root/trap/index.html", to: "../../outside/secret.txt")
        try makeSymbolicLink("root/link-out", to: "../outside/secret.txt")
        try makeSymbolicLink("root/dir-out", to: "../outside")
        try makeSymbolicLink("root/link-in", to: "hello.txt")
        try makeSymbolicLink("root/loop", to: "loop")
    }

    /// The absolute path of `relative` (below `base`).
    func path(_ relative: String) -> String { base + "/" + relative }

    func makeDirectory(_ relative: String) throws {
        guard mkdir(path(relative), 0o755) == 0 else { throw TreeError("mkdir", relative) }
    }

    /// Creates or replaces the file `relative` with `contents`.
    func write(_ relative: String, _ contents: String) throws {
        let descriptor = open(path(relative), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw TreeError("open", relative) }
        defer { close(descriptor) }
        let bytes = Array(contents.utf8)
        guard bytes.withUnsafeBytes({ Glibc.write(descriptor, $0.baseAddress, $0.count) }) == bytes.count else {
            throw TreeError("write", relative)
        }
    }

    func rename(_ relative: String, to newRelative: String) throws {
        guard Glibc.rename(path(relative), path(newRelative)) == 0 else { throw TreeError("rename", relative) }
    }

    func makeSymbolicLink(_ relative: String, to target: String) throws {
        guard symlink(target, path(relative)) == 0 else { throw TreeError("symlink", relative) }
    }

    /// Sets the access and modification times of `relative` to `nanoseconds` since the epoch.
    func setModificationTime(_ relative: String, nanoseconds: Int64) throws {
        let time = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        let times = [time, time]
        guard utimensat(AT_FDCWD, path(relative), times, 0) == 0 else { throw TreeError("utimensat", relative) }
    }

    /// Sets the access and modification times of `relative` to `seconds` since the epoch, for
    /// times too far from it for `setModificationTime(_:nanoseconds:)` (beyond 2262).
    func setModificationTime(_ relative: String, seconds: Int) throws {
        let time = timespec(tv_sec: seconds, tv_nsec: 0)
        let times = [time, time]
        guard utimensat(AT_FDCWD, path(relative), times, 0) == 0 else { throw TreeError("utimensat", relative) }
    }

    /// The inode of `relative` (following links).
    func inode(_ relative: String) throws -> UInt64 {
        var info = stat()
        guard stat(path(relative), &info) == 0 else { throw TreeError("stat", relative) }
        return UInt64(info.st_ino)
    }

    /// The canonical path of `relative`.
    func realPath(_ relative: String) throws -> String {
        guard let resolved = realpath(path(relative), nil) else { throw TreeError("realpath", relative) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Removes the tree.
    func remove() {
        Self.removeRecursively(base)
    }

    private static func removeRecursively(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR, let directory = opendir(path) {
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                    String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(directory)
            for name in names { removeRecursively(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

/// Base class of the tests that plan against a `TemporaryTree`.
class PlannerTestCase: XCTestCase {
    var tree: TemporaryTree!
    var planner: StaticFilePlanner!

    override func setUpWithError() throws {
        tree = try TemporaryTree()
        planner = StaticFilePlanner(root: tree.root)
    }

    override func tearDown() {
        tree.remove()
    }

    /// The plan for `path` with header fields `fields`.
    func plan(_ path: String, method: String = "GET", _ fields: [(String, String)] = []) -> StaticFilePlan {
        var headers = Headers()
        headers.append(":method", method)
        headers.append(":path", path)
        for (name, value) in fields { headers.append(name, value) }
        return planner.plan(method: method, path: path, headers: headers)
    }

    /// Asserts that `urlPath` plans the whole file `relative` (below the tree's base) with 200,
    /// `contentType` and a `content-length` of `length`.
    func assertServesWholeFile(
        _ urlPath: String, _ relative: String, contentType: String, length: UInt64, line: UInt = #line
    ) throws {
        let plan = plan(urlPath)
        guard case .file(let file, 200, let headers, 0, length) = plan else {
            return XCTFail("expected the whole file, got \(plan)", line: line)
        }
        XCTAssertEqual(file.path, try tree.realPath(relative), line: line)
        XCTAssertEqual(headers.first("content-type"), contentType, line: line)
        XCTAssertEqual(headers.first("content-length"), String(length), line: line)
    }

    /// Everything in `file`, read from its start, as UTF-8.
    func contents(of file: BodyFile) throws -> String {
        XCTAssertEqual(lseek(file.fd, 0, SEEK_SET), 0)
        return String(decoding: try file.readAll(), as: UTF8.self)
    }

    /// The strong ETag hello.txt has now, as a field value, computed from `stat` here.
    func helloEntityTag(nanoseconds: Int64 = TemporaryTree.helloModificationNanoseconds) throws -> String {
        let inode = String(try tree.inode("root/hello.txt"), radix: 16)
        return "\"\(inode)-e-\(String(nanoseconds, radix: 16))\""
    }
}

/// The fields of `headers` as `name: value` lines, in order.
func lines(_ headers: Headers) -> [String] {
    headers.fields.map { "\($0.name): \($0.value)" }
}

/// Asserts that `plan` is `.bytes` with exactly `status`, header lines `headerLines` and `body`.
func assertBytes(
    _ plan: StaticFilePlan, _ status: Int, _ headerLines: [String], _ body: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    guard case .bytes(let actualStatus, let headers, let actualBody) = plan else {
        return XCTFail("expected .bytes, got \(plan)", file: file, line: line)
    }
    XCTAssertEqual(actualStatus, status, file: file, line: line)
    XCTAssertEqual(lines(headers), headerLines, file: file, line: line)
    XCTAssertEqual(String(decoding: actualBody, as: UTF8.self), body, file: file, line: line)
}

/// Asserts that `plan` is a short plain-text response: `status`, `fields`, then content-type and
/// content-length, with `reason` and a newline as the body.
func assertText(
    _ plan: StaticFilePlan, _ status: Int, _ reason: String, _ fields: [String] = [],
    file: StaticString = #filePath, line: UInt = #line
) {
    let body = reason + "\n"
    let expected =
        [":status: \(status)"] + fields + [
            "content-type: text/plain; charset=utf-8", "content-length: \(body.utf8.count)",
        ]
    assertBytes(plan, status, expected, body, file: file, line: line)
}

/// Asserts that `plan` is `.file` with exactly these values.
func assertFile(
    _ plan: StaticFilePlan, path: String, status: Int, _ headerLines: [String], offset: UInt64, length: UInt64,
    file: StaticString = #filePath, line: UInt = #line
) {
    guard case .file(let opened, let actualStatus, let headers, let actualOffset, let actualLength) = plan else {
        return XCTFail("expected .file, got \(plan)", file: file, line: line)
    }
    XCTAssertEqual(opened.path, path, file: file, line: line)
    XCTAssertEqual(actualStatus, status, file: file, line: line)
    XCTAssertEqual(lines(headers), headerLines, file: file, line: line)
    XCTAssertEqual(actualOffset, offset, file: file, line: line)
    XCTAssertEqual(actualLength, length, file: file, line: line)
}
