import Glibc
import TestSupport
import XCTest

@testable import Reactor

/// `StreamSocket.sendFile`: what was queued goes first, then the file's octets, and a half-close
/// asked for meanwhile after them; a socket whose buffer fills waits for room; a short file, a
/// close, a peer gone and a timeout each end it clearly.
final class SendFileTests: XCTestCase {
    /// The process's open sockets (a timer's descriptor may be made meanwhile).
    private var openSockets: Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.filter {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0))?.hasPrefix("socket:")
                == true
        }.count
    }

    func testQueuedOutputThenTheFileThenAHalfCloseAskedForMeanwhile() throws {
        let reactor = try Reactor()
        let file = try TestFile(size: 12 << 20)
        let (sender, receiver) = try connectedPair(on: reactor)
        defer { sender.close(); receiver.close() }
        let offset = 1000
        let count = 10 << 20
        let received = try reactor.run(timeout: 30) { () async throws -> [UInt8] in
            sender.write(Array("HEAD".utf8))
            async let sending: Void = sender.sendFile(file, offset: UInt64(offset), count: UInt64(count))
            while !sender.sendingFile { await Task.yield() }
            XCTAssertFalse(sender.canSendFile)
            // A half-close asked for meanwhile: the FIN follows the file.
            sender.shutdownWrite()
            let body = try await receiver.readToEnd(limit: 16 << 20, timeout: 20)
            try await sending
            return body
        }
        XCTAssertEqual(received.count, 4 + count)
        XCTAssertEqual(Array(received.prefix(4)), Array("HEAD".utf8))
        XCTAssertTrue(received[4...].elementsEqual(file.contents[offset..<(offset + count)]))
        XCTAssertEqual(sender.fileOctetsSent, UInt64(count))
        XCTAssertTrue(sender.canSendFile)
    }

    func testTheSocketWritesAgainOnceTheFileIsOut() throws {
        let reactor = try Reactor()
        let file = try TestFile(size: 3 << 20)
        let (sender, receiver) = try connectedPair(on: reactor)
        defer { sender.close(); receiver.close() }
        let received = try reactor.run(timeout: 30) { () async throws -> [UInt8] in
            async let body = receiver.readToEnd(limit: 4 << 20, timeout: 20)
            try await sender.sendFile(file, offset: 0, count: 3 << 20)
            sender.write(Array("TAIL".utf8))
            sender.shutdownWrite()
            return try await body
        }
        XCTAssertEqual(received.count, (3 << 20) + 4)
        XCTAssertTrue(received.prefix(3 << 20).elementsEqual(file.contents))
        XCTAssertEqual(Array(received.suffix(4)), Array("TAIL".utf8))
    }

    func testAFileShorterThanTheCountSaysHowMuchIsMissing() throws {
        let reactor = try Reactor()
        let file = try TestFile(size: 1000)
        let (sender, receiver) = try connectedPair(on: reactor)
        defer { sender.close(); receiver.close() }
        let outcome = try reactor.run(timeout: 10) { () async throws -> (String, Int) in
            var error = "none"
            do {
                try await sender.sendFile(file, offset: 200, count: 1500)
            } catch let failure as SocketError {
                error = "\(failure)"
                XCTAssertEqual(failure, .fileEnded(missing: 700))
            }
            sender.shutdownWrite()
            let body = try await receiver.readToEnd(timeout: 5)
            return (error, body.count)
        }
        XCTAssertEqual(outcome.0, "the file ended 700 octets before the count to send")
        XCTAssertEqual(outcome.1, 800)
    }

    func testACloseWhileWaitingForRoomEndsItAndThePeerSeesTheEnd() throws {
        let reactor = try Reactor()
        let file = try TestFile(size: 8 << 20)
        let (sender, receiver) = try connectedPair(on: reactor)
        defer { receiver.close() }
        let before = openSockets
        let outcome = try reactor.run(timeout: 20) { () async throws -> (SocketError?, Int) in
            // Nobody reads: the buffers fill and the send waits for room.
            async let sending = { () async -> SocketError? in
                do {
                    try await sender.sendFile(file, offset: 0, count: 8 << 20)
                    return nil
                } catch {
                    return error as? SocketError
                }
            }()
            while !sender.awaitsWritable { try await Task.sleep(nanoseconds: 1_000_000) }
            sender.close()
            let error = await sending
            let body = try await receiver.readToEnd(limit: 16 << 20, timeout: 10)
            return (error, body.count)
        }
        XCTAssertEqual(outcome.0, .closed)
        XCTAssertGreaterThan(outcome.1, 0)
        XCTAssertLessThan(outcome.1, 8 << 20)
        // The stretch's duplicate of the socket was closed with it.
        XCTAssertEqual(openSockets, before - 1)
    }

    func testATimeoutWhileWaitingForRoomGivesTheOutputBack() throws {
        let reactor = try Reactor()
        let file = try TestFile(size: 8 << 20)
        let (sender, receiver) = try connectedPair(on: reactor)
        defer { sender.close(); receiver.close() }
        let error = try reactor.run(timeout: 20) { () async throws -> String in
            do {
                try await sender.sendFile(file, offset: 0, count: 8 << 20, timeout: 0.3)
                return "sent"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(error.contains("timed out"), error)
        XCTAssertTrue(sender.canSendFile)
        XCTAssertFalse(sender.awaitsWritable)
        XCTAssertGreaterThan(sender.fileOctetsSent, 0)
        XCTAssertLessThan(sender.fileOctetsSent, 8 << 20)
    }

    /// sendfile(2) cannot be told MSG_NOSIGNAL: on a socket that can no longer send it raises
    /// SIGPIPE, which would end this test process. It must fail with EPIPE instead.
    func testAWriteSideGoneFailsWithEPIPEAndNoSignal() throws {
        // Other tests (the TLS ones, for their child processes' pipes) ignore SIGPIPE for the
        // whole process; this one needs its default action back, or it proves nothing when it
        // runs after them.
        let saved = signal(SIGPIPE, SIG_DFL)
        defer { signal(SIGPIPE, saved) }
        let reactor = try Reactor()
        let file = try TestFile(size: 100_000)
        let (sender, receiver) = try connectedPair(on: reactor)
        defer { sender.close(); receiver.close() }
        XCTAssertEqual(Glibc.shutdown(sender.fd, Int32(SHUT_WR)), 0)
        let error = try reactor.run(timeout: 10) { () async throws -> SocketError? in
            do {
                try await sender.sendFile(file, offset: 0, count: 100_000)
                return nil
            } catch {
                return error as? SocketError
            }
        }
        XCTAssertEqual(error, .system(operation: "sendfile", errno: EPIPE))
        XCTAssertEqual(sender.failure, .system(operation: "sendfile", errno: EPIPE))
        XCTAssertTrue(sender.hasFailed)
    }

    /// A file that `sendfile(2)` cannot read (here a directory: EINVAL, "an mmap(2)-like
    /// operation is not available for in_fd") fails the send with an error that names the file,
    /// not the connection; the socket fails with it, its stream cut short.
    func testAFileThatCannotBeReadIsNamedInTheError() throws {
        final class Directory: FileDescriptorOwner, @unchecked Sendable {
            let fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            deinit { close(fd) }
        }
        let directory = Directory()
        XCTAssertGreaterThanOrEqual(directory.fd, 0)
        let reactor = try Reactor()
        let (sender, receiver) = try connectedPair(on: reactor)
        defer { sender.close(); receiver.close() }
        let error = try reactor.run(timeout: 10) { () async throws -> SocketError? in
            do {
                try await sender.sendFile(directory, offset: 0, count: 100)
                return nil
            } catch {
                return error as? SocketError
            }
        }
        XCTAssertEqual(error, .system(operation: "sendfile, reading the file", errno: EINVAL))
        XCTAssertTrue(sender.hasFailed)
    }

    /// Out of descriptors, the send's own duplicate of the socket cannot be made: it is refused
    /// up front, with the queue as it was, so that the caller can write the octets itself.
    func testOutOfDescriptorsItIsRefusedBeforeAnythingIsTaken() throws {
        let reactor = try Reactor()
        let file = try TestFile(size: 1000)
        let (sender, receiver) = try connectedPair(on: reactor)
        defer { sender.close(); receiver.close() }
        let (error, pending) = try reactor.run(timeout: 5) { () async throws -> (String, Int) in
            sender.write(Array("queued".utf8))
            let fillers = DescriptorFillers()
            defer { fillers.release() }
            do {
                try await sender.sendFile(file, offset: 0, count: 1000)
                return ("sent", 0)
            } catch {
                return ("\(error)", sender.pendingOutputBytes)
            }
        }
        XCTAssertTrue(error.hasPrefix("not supported: sendfile without a descriptor to spare"), error)
        XCTAssertEqual(pending, 6)
        XCTAssertTrue(sender.canSendFile)
    }

    /// A peer that answers and goes away while the file goes out: the send fails, and what the
    /// peer sent first is in `input` even on a socket nobody asked to read (once failed, a
    /// socket reads no more).
    func testWhatThePeerSentBeforeItWentAwayIsRead() throws {
        let reactor = try Reactor()
        let file = try TestFile(size: 4 << 20)
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let sender = StreamSocket(adopting: fds[0], on: reactor)
        let peer = fds[1]
        defer { sender.close(); close(peer) }
        let error = try reactor.run(timeout: 10) { () async throws -> SocketError? in
            async let sending = { () async -> SocketError? in
                do {
                    try await sender.sendFile(file, offset: 0, count: 4 << 20)
                    return nil
                } catch {
                    return error as? SocketError
                }
            }()
            while !sender.awaitsWritable { try await Task.sleep(nanoseconds: 1_000_000) }
            let answer = Array("an early answer".utf8)
            XCTAssertEqual(answer.withUnsafeBytes { send(peer, $0.baseAddress, $0.count, 0) }, answer.count)
            shutdown(peer, Int32(SHUT_RDWR))
            return await sending
        }
        XCTAssertEqual(error, .system(operation: "sendfile", errno: EPIPE))
        XCTAssertEqual(sender.withUnsafeReadableInput { Array($0) }, Array("an early answer".utf8))
    }

    func testARangePastTheLargestOffsetIsRefusedBeforeAnythingIsSent() throws {
        let reactor = try Reactor()
        let file = try TestFile(size: 10)
        let (sender, receiver) = try connectedPair(on: reactor)
        defer { sender.close(); receiver.close() }
        let (error, pending) = try reactor.run(timeout: 5) { () async throws -> (String, Int) in
            sender.write(Array("queued".utf8))
            do {
                try await sender.sendFile(file, offset: UInt64(Int64.max), count: 2)
                return ("sent", 0)
            } catch {
                return ("\(error)", sender.pendingOutputBytes)
            }
        }
        XCTAssertTrue(error.hasPrefix("not supported: sendfile of 2 octets"), error)
        XCTAssertEqual(pending, 6)
        XCTAssertTrue(sender.canSendFile)
    }
}
