import Glibc
import XCTest

@testable import Reactor

/// `FileSendStep` on its own, into a regular file (sendfile(2) writes to any file since Linux
/// 2.6.33): a step sends at most its share and says when more is left, and says when the file
/// ends first.
final class FileSendStepTests: XCTestCase {
    private func temporaryFile(size: Int) throws -> Int32 {
        var template = Array("/tmp/stepwise-step-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw SocketError.last("mkstemp") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        if size > 0 {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 / 4096) }
            XCTAssertEqual(bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }, size)
        }
        return fd
    }

    func testAStepSendsItsShareAndSaysMoreIsLeft() throws {
        let share = Int(FileSendStep.maximumOctets)
        let source = try temporaryFile(size: share + 1_000_000)
        let sink = try temporaryFile(size: 0)
        defer { close(source); close(sink) }
        var step = FileSendStep(prefix: [], fileOffset: 10, fileOctets: UInt64(share + 999_990))
        let first = step.run(socket: sink, file: source)
        XCTAssertEqual(first, FileSendStep.Progress(prefixSent: 0, fileSent: UInt64(share), outcome: .more))
        step.advance(by: first)
        let second = step.run(socket: sink, file: source)
        XCTAssertEqual(second, FileSendStep.Progress(prefixSent: 0, fileSent: 999_990, outcome: .done))
        // The sink got octets 10 onwards of the source, in order.
        var copied = [UInt8](repeating: 0, count: share + 999_990)
        XCTAssertEqual(pread(sink, &copied, copied.count, 0), copied.count)
        var original = [UInt8](repeating: 0, count: copied.count)
        XCTAssertEqual(pread(source, &original, original.count, 10), original.count)
        XCTAssertTrue(copied == original)
    }

    func testAFileThatEndsFirstSaysSo() throws {
        let source = try temporaryFile(size: 5000)
        let sink = try temporaryFile(size: 0)
        defer { close(source); close(sink) }
        let progress = FileSendStep(prefix: [], fileOffset: 1000, fileOctets: 6000).run(socket: sink, file: source)
        XCTAssertEqual(progress, FileSendStep.Progress(prefixSent: 0, fileSent: 4000, outcome: .fileEnded))
    }

    func testAPrefixOnSomethingThatIsNotASocketFailsAndNamesTheCall() throws {
        let source = try temporaryFile(size: 10)
        let sink = try temporaryFile(size: 0)
        defer { close(source); close(sink) }
        let progress = FileSendStep(prefix: [1, 2, 3], fileOffset: 0, fileOctets: 10).run(socket: sink, file: source)
        XCTAssertEqual(
            progress,
            FileSendStep.Progress(prefixSent: 0, fileSent: 0, outcome: .failed(operation: "send", errno: ENOTSOCK)))
    }
}
