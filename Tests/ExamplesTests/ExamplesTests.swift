import Foundation
import XCTest

/// Runs each built example with `--self-test` and checks it passed: exit status 0 and its
/// summary line. The examples check the host integration themselves (timers never early, no
/// busy-waiting, tasks resumed in the right frame, GLib and reactor timers interleaved…) and
/// exit non-zero with the reason when something is off; these tests surface that reason.
///
/// The binaries come from the build directory this test bundle runs from (`.build/debug/`):
/// `make test` builds every target first; `swift build` does too.
final class ExamplesTests: XCTestCase {
    func testPollHostSelfTest() throws {
        let run = try runExample("example-poll-host", ["--self-test"])
        try assertPassed(run, summary: "poll-host self-test ok:")
        XCTAssertTrue(run.output.contains("(no busy-wait)"), run.output)
    }

    func testGameLoopSelfTest() throws {
        let run = try runExample("example-game-loop", ["--self-test"])
        try assertPassed(run, summary: "game-loop self-test ok:")
        // The per-frame table comes before the summary line.
        XCTAssertTrue(run.output.contains("frame    time  what happened"), run.output)
        XCTAssertTrue(run.output.contains("task read key 'k'"), run.output)
    }

    func testGLibHostSelfTest() throws {
        let run = try runExample("example-glib-host", ["--self-test"])
        try assertPassed(run, summary: "glib-host self-test ok:")
        XCTAssertTrue(run.output.contains("pollfd re-registered"), run.output)
    }

    /// libuv drives a reactor serving HTTP (a Stepwise client on the loop and curl, which `make
    /// test` installs), in both of the recipe's modes; the example checks timers, wake-ups and
    /// the uv_poll's re-creation after an epoll rebuild itself.
    func testLibuvHostSelfTest() throws {
        let run = try runExample("example-libuv-host", ["--self-test"])
        try assertPassed(run, summary: "libuv-host self-test ok:")
        for part in ["recipe (uv_poll, uv_timer, uv_prepare): 4 requests", "fd-only (uv_poll alone): 4 requests"] {
            XCTAssertTrue(run.output.contains(part), "expected \"\(part)\" (curl served too):\n\(run.output)")
        }
        XCTAssertTrue(run.output.contains("pollfd re-registered"), run.output)
    }

    /// The non-interactive `--seconds` mode ends by itself, on time.
    func testTimedRunsEndOnTime() throws {
        for example in ["example-poll-host", "example-game-loop", "example-glib-host", "example-libuv-host"] {
            let started = Date()
            let run = try runExample(example, ["--seconds", "0.3"])
            let elapsed = Date().timeIntervalSince(started)
            XCTAssertEqual(run.status, 0, "\(example) --seconds 0.3 failed:\n\(run.output)")
            XCTAssertGreaterThanOrEqual(elapsed, 0.3, "\(example) ended early:\n\(run.output)")
            XCTAssertLessThan(elapsed, 10, "\(example) ran far past its 0.3 s:\n\(run.output)")
        }
    }

    /// A bad option is refused with exit status 2 and the usage line, not silently ignored.
    func testBadOptionsAreRefused() throws {
        for example in ["example-poll-host", "example-game-loop", "example-glib-host", "example-libuv-host"] {
            let run = try runExample(example, ["--no-such-option"])
            XCTAssertEqual(run.status, 2, "\(example):\n\(run.output)")
            XCTAssertTrue(run.output.contains("usage: \(example)"), "\(example):\n\(run.output)")
        }
    }

    /// docs/foreign-loop-hosts.md shows tested code: each of its Swift blocks is a copy of lines
    /// of an example or of the recipe tests (`Tests/ReactorTests/HostRecipeTests.swift`), at
    /// most indented as a whole. A change to the tested code that the document misses fails here.
    func testHostRecipesInTheDocsAreCopiesOfTestedCode() throws {
        let root = Self.packageRoot
        let doc = try String(
            contentsOf: root.appendingPathComponent("docs/foreign-loop-hosts.md"), encoding: .utf8)
        let examples = root.appendingPathComponent("Examples")
        let exampleFiles = try XCTUnwrap(FileManager.default.enumerator(atPath: examples.path))
            .compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
            .map { examples.appendingPathComponent($0) }
        let sources = try (exampleFiles + [root.appendingPathComponent("Tests/ReactorTests/HostRecipeTests.swift")])
            .map { try String(contentsOf: $0, encoding: .utf8).components(separatedBy: "\n") }
        let blocks = Self.swiftBlocks(in: doc)
        // epoll (setup and loop), libuv, libev.
        XCTAssertGreaterThanOrEqual(blocks.count, 4, "the document's Swift blocks went missing")
        for block in blocks where !sources.contains(where: { Self.source($0, contains: block) }) {
            XCTFail(
                "docs/foreign-loop-hosts.md shows code that no example or recipe test runs as written:\n"
                    + block.joined(separator: "\n"))
        }
    }

    // MARK: Helpers

    /// The lines of each ```swift block of a Markdown text.
    static func swiftBlocks(in markdown: String) -> [[String]] {
        var blocks: [[String]] = []
        var current: [String]?
        for line in markdown.components(separatedBy: "\n") {
            if current == nil {
                if line == "```swift" { current = [] }
            } else if line == "```" {
                blocks.append(current!)
                current = nil
            } else {
                current!.append(line)
            }
        }
        return blocks
    }

    /// Whether `block` appears in `source` as consecutive lines, all indented by the same spaces.
    static func source(_ source: [String], contains block: [String]) -> Bool {
        guard let first = block.first, !first.isEmpty else { return false }
        for (index, line) in source.enumerated() where line.hasSuffix(first) && index + block.count <= source.count {
            let indent = line.dropLast(first.count)
            guard indent.allSatisfy({ $0 == " " }) else { continue }
            if zip(block, source[index...]).allSatisfy({ $0.isEmpty ? $1.isEmpty : $1 == indent + $0 }) {
                return true
            }
        }
        return false
    }

    struct Run {
        var status: Int32
        var output: String
    }

    private func assertPassed(
        _ run: Run, summary prefix: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        XCTAssertEqual(
            run.status, 0, "self-test failed (exit \(run.status)):\n\(run.output)", file: file,
            line: line)
        let lastLine = run.output.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(
            lastLine.hasPrefix(prefix), "summary line should start with \"\(prefix)\":\n\(run.output)",
            file: file, line: line)
    }

    /// Runs a built example (stdin: /dev/null) and returns its exit status and combined output;
    /// fails the test if it is missing or does not finish within `timeout` seconds.
    private func runExample(_ name: String, _ arguments: [String], timeout: Double = 60) throws
        -> Run
    {
        let binary = try XCTUnwrap(
            Self.locate(name),
            "\(name) is not built: looked in \(Self.searchDirectories.map(\.path)). "
                + "Run `make test` (or `swift build` before `swift test`).")
        let outputFile = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(name)-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: outputFile.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: outputFile.path])
        }
        defer { try? FileManager.default.removeItem(at: outputFile) }
        let output = try FileHandle(forWritingTo: outputFile)
        defer { try? output.close() }

        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            _ = finished.wait(timeout: .now() + 5)
            let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
            XCTFail(
                "\(name) \(arguments.joined(separator: " ")) did not finish in \(timeout) s:\n\(text)")
            return Run(status: -1, output: text)
        }
        let text = try String(contentsOf: outputFile, encoding: .utf8)
        return Run(status: process.terminationStatus, output: text)
    }

    /// The directory of the running test binary (`.build/<triple>/debug`, which `.build/debug`
    /// points to), then `.build/debug` of the package this file belongs to.
    static var searchDirectories: [URL] {
        var directories: [URL] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append(URL(fileURLWithPath: executable).deletingLastPathComponent())
        }
        directories.append(packageRoot.appendingPathComponent(".build/debug"))
        return directories
    }

    /// The package this file belongs to.
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func locate(_ name: String) -> URL? {
        searchDirectories.map { $0.appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}
