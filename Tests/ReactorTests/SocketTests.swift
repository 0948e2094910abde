import Glibc
import XCTest

@testable import Reactor

/// `RLIMIT_NOFILE` as `getrlimit`/`setrlimit` take it (Glibc imports it as an enum case).
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)

final class SocketTests: XCTestCase {
    /// Runs an echo server on `listener` and a client task that sends lines and reads them
    /// back, all on one reactor driven by a foreign poll() loop.
    private func echo(
        listener: Listener, connect: @escaping @Sendable () async throws -> StreamSocket,
        reactor: Reactor
    )
        throws -> [String]
    {
        var connections: [StreamSocket] = []  // a server keeps its connections alive
        listener.onAccept = { socket in
            connections.append(socket)
            socket.readInterest = true
            socket.onReadable = { [unowned socket] in
                let count = socket.input.readableBytes
                if count > 0 {
                    let bytes = socket.input.read(upTo: count)
                    socket.write(bytes)
                }
                if socket.isEOF { socket.shutdownWrite() }
            }
        }
        let replies = Log()
        reactor.spawn {
            let client = try await connect()
            for line in ["hello", "world", String(repeating: "x", count: 100_000)] {
                client.write(line + "\r\n")
                replies.append(try await client.readLine(maximumLength: 200_000, timeout: 5) ?? "<eof>")
            }
            client.shutdownWrite()
            let rest = try await client.readToEnd(timeout: 5)
            replies.append("eof after \(rest.count) bytes")
            client.close()
        }
        try foreignLoop(reactor, for: 10) { replies.entries.count == 4 }
        listener.close()
        connections.forEach { $0.close() }
        // Long lines are summarised so that a failure message stays readable.
        return replies.entries.map { $0.count > 100 ? "\($0.prefix(1)) × \($0.count)" : $0 }
    }

    private let expected = ["hello", "world", "x × 100000", "eof after 0 bytes"]

    func testEchoOverIPv4() throws {
        let reactor = try Reactor()
        let listener = try Listener.listen(ListenOptions(host: "127.0.0.1", port: 0), on: reactor)
        let name = listener.localname()
        XCTAssertEqual(name.family, AF_INET)
        XCTAssertEqual(name.address, "127.0.0.1")
        let port = try XCTUnwrap(name.port)
        XCTAssertNotEqual(port, 0)
        let replies = try echo(
            listener: listener,
            connect: {
                try await StreamSocket.connect(host: "127.0.0.1", port: port, on: reactor, timeout: 5)
            },
            reactor: reactor)
        XCTAssertEqual(replies, expected)
    }

    func testEchoOverIPv6() throws {
        let reactor = try Reactor()
        var options = ListenOptions(host: "::1", port: 0)
        options.v6only = true
        let listener = try Listener.listen(options, on: reactor)
        XCTAssertEqual(listener.localname().family, AF_INET6)
        let port = try XCTUnwrap(listener.localname().port)
        let replies = try echo(
            listener: listener,
            connect: { try await StreamSocket.connect(host: "::1", port: port, on: reactor, timeout: 5) },
            reactor: reactor)
        XCTAssertEqual(replies, expected)
    }

    func testEchoOverUnixSocketWithModeAndUnlink() throws {
        let reactor = try Reactor()
        let path = "/tmp/stepwise-test-\(getpid()).sock"
        // A stale socket file in the way: a listener closed without unlinking its path.
        try Listener.listen(ListenOptions(path: path), on: reactor).close()
        let listener = try Listener.listen(
            ListenOptions(path: path, mode: 0o600, unlink: true), on: reactor)
        defer { unlink(path) }
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        XCTAssertEqual(listener.localname(), SocketName(family: AF_UNIX, address: path, port: nil))
        let replies = try echo(
            listener: listener,
            connect: { try await StreamSocket.connect(unixPath: path, on: reactor, timeout: 5) },
            reactor: reactor)
        XCTAssertEqual(replies, expected)
    }

    /// `unlink` removes a stale socket, never a file that is not one (a mistyped path must not
    /// cost the user a file).
    func testUnlinkLeavesAFileThatIsNotASocket() throws {
        let reactor = try Reactor()
        let path = "/tmp/stepwise-test-\(getpid())-notes.txt"
        let text = Array("keep me".utf8)
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        XCTAssertEqual(write(fd, text, text.count), text.count)
        close(fd)
        defer { unlink(path) }
        XCTAssertThrowsError(try Listener.listen(ListenOptions(path: path, unlink: true), on: reactor)) { error in
            XCTAssertTrue("\(error)".contains("in use"), "\(error)")
        }
        var info = stat()
        XCTAssertEqual(lstat(path, &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFREG, "the file was replaced")
        XCTAssertEqual(info.st_size, off_t(text.count))
    }

    /// Out of descriptors, the listener retries every 30 ms: it says so once, not at every retry,
    /// and accepts the waiting connection once a descriptor is free.
    func testRunningOutOfDescriptorsIsReportedOnceAndAcceptingResumes() throws {
        let reactor = try Reactor()
        let listener = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { listener.close() }
        var errors: [String] = []
        var accepted: [StreamSocket] = []
        listener.onError = { errors.append("\($0)") }
        listener.onAccept = { accepted.append($0) }
        // Connected before the descriptors run out (the kernel completes it; accept(2) then fails).
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = listener.localname().port!.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        XCTAssertEqual(connected, 0)

        // A soft limit just above the lowest free descriptor, and the few below it taken.
        var saved = rlimit()
        XCTAssertEqual(getrlimit(RLIMIT_NOFILE_VALUE, &saved), 0)
        let lowestFree = dup(0)
        close(lowestFree)
        var lowered = saved
        lowered.rlim_cur = rlim_t(lowestFree + 4)
        XCTAssertEqual(setrlimit(RLIMIT_NOFILE_VALUE, &lowered), 0)
        var fillers: [Int32] = []
        while true {
            let fd = dup(0)
            if fd < 0 { break }
            fillers.append(fd)
        }
        var restored = false
        func restore() {
            guard !restored else { return }
            restored = true
            fillers.forEach { close($0) }
            var limit = saved
            setrlimit(RLIMIT_NOFILE_VALUE, &limit)
        }
        defer { restore() }

        let outOfDescriptors = MonotonicClock.seconds() + 0.2
        while MonotonicClock.seconds() < outOfDescriptors { try reactor.step(timeout: 0.01) }
        XCTAssertEqual(accepted.count, 0)
        XCTAssertEqual(errors.count, 1, "a report at every 30 ms retry: \(errors)")

        restore()
        let deadline = MonotonicClock.seconds() + 2
        while accepted.isEmpty && MonotonicClock.seconds() < deadline { try reactor.step(timeout: 0.01) }
        XCTAssertEqual(accepted.count, 1, "the waiting connection was not accepted once descriptors were free")
        accepted.forEach { $0.close() }
    }

    /// "Reading pauses while `input` holds `maximumBufferedInput` bytes nobody consumed": it
    /// never resumes when the bytes are consumed outside the reader (a consumer that hands them
    /// to `runBlocking` and consumes once the disk write is back, or one paced by a timer). The
    /// kernel holds the peer's next bytes, the socket has no read interest, and the reader is
    /// never told again.
    func testReadingResumesOnceBufferedInputIsConsumedOutsideTheReader() throws {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let socket = StreamSocket(adopting: fds[0], on: reactor)
        let peer = fds[1]
        defer { close(peer) }
        socket.maximumBufferedInput = 4
        socket.readInterest = true
        var received: [UInt8] = []
        socket.onReadable = { [unowned socket] in
            // Consume later (the slow consumer), not in the reader.
            reactor.schedule(after: 0.01) { _ in
                received += socket.input.read(upTo: socket.input.readableBytes)
            }
        }
        _ = write(peer, "12345678", 8)
        try foreignLoop(reactor, for: 2) { received.count >= 8 }
        XCTAssertEqual(received, Array("12345678".utf8))
        // The first batch was consumed; the peer sends more.
        _ = write(peer, "abcd", 4)
        try foreignLoop(reactor, for: 1) { received.count >= 12 }
        XCTAssertEqual(
            String(decoding: received, as: UTF8.self), "12345678abcd",
            "the socket never read again after its buffered input was consumed")
        socket.close()
    }

    func testNamesOfConnectedAndClosedSockets() throws {
        let reactor = try Reactor()
        let listener = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        let port = listener.localname().port!
        let names = try reactor.run { () async throws -> [String] in
            async let accepted = listener.accept(timeout: 5)
            let client = try await StreamSocket.connect(
                host: "localhost", port: port, family: AF_INET, on: reactor)
            let server = try await accepted
            let result = [
                client.peername().description, server.localname().description,
                String(client.localname().port == server.peername().port),
            ]
            client.close()
            return result + [client.peername().description]
        }
        XCTAssertEqual(names, ["127.0.0.1:\(port)", "127.0.0.1:\(port)", "true", "unspecified"])
    }

    /// Small writes go out at once both ways: accepted and connected TCP sockets get
    /// `TCP_NODELAY` (the listener and the connector know the socket's kind, so no
    /// `getsockname` per connection).
    func testAcceptedAndConnectedTCPSocketsHaveNoDelay() throws {
        let reactor = try Reactor()
        let listener = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { listener.close() }
        let port = try XCTUnwrap(listener.localname().port)
        let (client, server) = try reactor.run { () async throws -> (StreamSocket, StreamSocket) in
            async let accepted = listener.accept(timeout: 5)
            let client = try await StreamSocket.connect(host: "127.0.0.1", port: port, on: reactor, timeout: 5)
            return (client, try await accepted)
        }
        for socket in [client, server] {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            XCTAssertEqual(getsockopt(socket.fd, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length), 0)
            XCTAssertEqual(value, 1)
            XCTAssertNotEqual(fcntl(socket.fd, F_GETFL) & O_NONBLOCK, 0)
            socket.close()
        }
    }

    func testConnectionRefusedSaysSo() throws {
        let reactor = try Reactor()
        // A port that was just free: bind, read the port, close.
        let probe = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        let port = probe.localname().port!
        probe.close()
        XCTAssertThrowsError(
            try reactor.run {
                try await StreamSocket.connect(host: "127.0.0.1", port: port, on: reactor, timeout: 5)
            }
        ) { error in
            XCTAssertEqual(String(describing: error), "connect to 127.0.0.1:\(port) refused")
        }
    }

    func testConnectTimeoutNamesThePhase() throws {
        let reactor = try Reactor()
        // A listener that never accepts, with a full accept queue: the kernel drops further
        // SYNs, so a connect hangs (on loopback; no traffic leaves the machine).
        var options = ListenOptions(host: "127.0.0.1")
        options.backlog = 0
        let listener = try Listener.listen(options, on: reactor)
        let port = listener.localname().port!
        var fillers: [StreamSocket] = []
        var timedOut: SocketError?
        for _ in 0..<8 where timedOut == nil {
            do {
                fillers.append(
                    try reactor.run {
                        try await StreamSocket.connect(host: "127.0.0.1", port: port, on: reactor, timeout: 0.3)
                    })
            } catch let error as SocketError {
                timedOut = error
            }
        }
        XCTAssertEqual(timedOut, .timedOut(target: "127.0.0.1:\(port)", phase: "connect", seconds: 0.3))
        XCTAssertEqual(
            String(describing: timedOut!), "127.0.0.1:\(port): timed out after 0.3 s during connect")
        fillers.forEach { $0.close() }
        listener.close()
    }

    func testDNSOfLocalhostDoesNotStallTimers() throws {
        let reactor = try Reactor()
        var ticks: [Double] = []
        let timer = reactor.schedule(after: 0.010, repeating: 0.010) { _ in
            ticks.append(MonotonicClock.seconds())
        }
        let addresses = try reactor.run {
            try await Resolver.shared.resolve(host: "localhost", port: 80, on: reactor)
        }
        XCTAssertTrue(addresses.contains(.ipv4(address: "127.0.0.1", port: 80)), "\(addresses)")
        // A lookup that blocks its thread for 300 ms: the reactor's timer keeps its pace.
        let slow = Resolver(threads: 1) { host, port, _ in
            usleep(300_000)
            return .success([.ipv4(address: "192.0.2.1", port: port)])
        }
        ticks.removeAll()
        let started = MonotonicClock.seconds()
        let slowResult = try reactor.run {
            try await slow.resolve(host: "slow.test", port: 8080, on: reactor)
        }
        timer.cancel()
        XCTAssertEqual(slowResult, [.ipv4(address: "192.0.2.1", port: 8080)])
        XCTAssertGreaterThanOrEqual(MonotonicClock.seconds() - started, 0.3)
        XCTAssertGreaterThanOrEqual(
            ticks.count, 15, "the timer stalled during the lookup: \(ticks.count) ticks")
        let gaps = zip(ticks.dropFirst(), ticks).map { $0 - $1 }
        XCTAssertLessThan(gaps.max() ?? 0, 0.100, "a tick waited for the lookup")
    }

    /// Asked for one family, a resolver answers that family only, whatever its `lookUp` gives.
    func testAFamilyAskedForGetsOnlyItsAddresses() throws {
        let reactor = try Reactor()
        let v6 = SocketAddress.ipv6(address: "2001:db8::1", port: 80, scopeID: 0)
        let v4 = SocketAddress.ipv4(address: "192.0.2.1", port: 80)
        let both = Resolver { _, _, _ in .success([v6, v4]) }
        let only4 = Resolver { _, _, _ in .success([v4]) }
        XCTAssertEqual(
            try reactor.run { try await both.resolve(host: "x.test", port: 80, family: AF_INET6, on: reactor) }, [v6])
        XCTAssertEqual(
            try reactor.run { try await both.resolve(host: "x.test", port: 80, family: AF_INET, on: reactor) }, [v4])
        XCTAssertEqual(try reactor.run { try await both.resolve(host: "x.test", port: 80, on: reactor) }, [v6, v4])
        XCTAssertThrowsError(
            try reactor.run { try await only4.resolve(host: "x.test", port: 80, family: AF_INET6, on: reactor) }
        ) { error in
            XCTAssertEqual(error as? SocketError, .noAddresses(host: "x.test"))
        }
    }

    func testUnknownHostGivesAClearError() throws {
        let reactor = try Reactor()
        XCTAssertThrowsError(
            try reactor.run {
                try await Resolver.shared.resolve(host: "no-such-host.invalid", port: 80, on: reactor)
            }
        ) { error in
            XCTAssertTrue(
                String(describing: error).hasPrefix("DNS lookup of no-such-host.invalid failed: "),
                "\(error)")
        }
    }

    func testLargeWriteIsFlushedCompletelyUnderBackPressure() throws {
        let reactor = try Reactor()
        let listener = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        let port = listener.localname().port!
        let size = 8 << 20
        let received = try reactor.run { () async throws -> Int in
            async let accepted = listener.accept(timeout: 5)
            let client = try await StreamSocket.connect(
                host: "127.0.0.1", port: port, on: reactor, timeout: 5)
            let server = try await accepted
            var payload = [UInt8](repeating: 0, count: size)
            for i in stride(from: 0, to: size, by: 4096) {
                payload[i] = UInt8(truncatingIfNeeded: i >> 12)
            }
            let expected = payload
            async let sent: Void = {
                try await client.write(payload, timeout: 10)
                try await client.flush(timeout: 10)
                client.shutdownWrite()
            }()
            let body = try await server.readToEnd(limit: size, timeout: 10)
            try await sent
            return body == expected ? body.count : -1
        }
        XCTAssertEqual(received, size)
    }
}

final class AdoptedSocketTests: XCTestCase {
    func testAdoptedFdsReadLinesExactBytesAndUnget() throws {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        // Blocking fds handed over (as from inetd or SCM_RIGHTS): adoption makes them non-blocking.
        let left = StreamSocket(adopting: fds[0], on: reactor)
        let right = StreamSocket(adopting: fds[1], on: reactor)
        XCTAssertNotEqual(fcntl(fds[0], F_GETFL) & O_NONBLOCK, 0)
        XCTAssertEqual(left.localname().family, AF_UNIX)
        let got = try reactor.run(timeout: 5) { () async throws -> [String] in
            left.write("line one\r\nline two\nEXACT")
            left.shutdownWrite()
            let first = try await right.readLine() ?? "nil"
            let second = try await right.readLine() ?? "nil"
            let exact = String(decoding: try await right.readExactly(3), as: UTF8.self)
            right.unget(Array("ex".utf8))
            let rest = String(decoding: try await right.readToEnd(), as: UTF8.self)
            let end = try await right.readLine()
            return [first, second, exact, rest, end ?? "nil"]
        }
        XCTAssertEqual(got, ["line one", "line two", "EXA", "exCT", "nil"])
        let closed = try reactor.run(timeout: 5) { () async throws -> String in
            left.close()
            return "\(left.isClosed)"
        }
        XCTAssertEqual(closed, "true")
        right.close()
    }

    func testLineLongerThanTheLimitIsAnError() throws {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let left = StreamSocket(adopting: fds[0], on: reactor)
        let right = StreamSocket(adopting: fds[1], on: reactor)
        XCTAssertThrowsError(
            try reactor.run(timeout: 5) { () async throws -> String? in
                left.write(String(repeating: "z", count: 100) + "\n")
                return try await right.readLine(maximumLength: 10)
            }
        ) { error in
            XCTAssertEqual(error as? SocketError, .lineTooLong(limit: 10))
        }
        left.close()
        right.close()
    }
}

extension SocketTests {
    func testReadToEndPastItsLimitSaysTooLarge() throws {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let left = StreamSocket(adopting: fds[0], on: reactor)
        let right = StreamSocket(adopting: fds[1], on: reactor)
        XCTAssertThrowsError(
            try reactor.run(timeout: 5) { () async throws -> [UInt8] in
                left.write([UInt8](repeating: 7, count: 100))
                left.shutdownWrite()
                return try await right.readToEnd(limit: 10)
            }
        ) { error in
            XCTAssertEqual(error as? SocketError, .tooLarge(limit: 10))
        }
        left.close()
        right.close()
    }
}

extension AdoptedSocketTests {
    func testReadExactlyMoreThanTheInputBufferLimit() throws {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let left = StreamSocket(adopting: fds[0], on: reactor)
        let right = StreamSocket(adopting: fds[1], on: reactor)
        right.maximumBufferedInput = 64 * 1024
        let size = 200 * 1024
        // Reading pauses while `input` holds `maximumBufferedInput` octets; readExactly must read on.
        let received = try reactor.run(timeout: 5) { () async throws -> Int in
            left.write([UInt8](repeating: 7, count: size))
            return try await right.readExactly(size).count
        }
        XCTAssertEqual(received, size)
        left.close()
        right.close()
    }

    func testReadLineLongerThanTheInputBufferLimitButWithinTheLineLimit() throws {
        let reactor = try Reactor()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let left = StreamSocket(adopting: fds[0], on: reactor)
        let right = StreamSocket(adopting: fds[1], on: reactor)
        right.maximumBufferedInput = 1024
        // Reading pauses while `input` holds `maximumBufferedInput` octets; readLine must read on
        // up to its own limit.
        let line = try reactor.run(timeout: 5) { () async throws -> String? in
            left.write([UInt8](repeating: UInt8(ascii: "x"), count: 1500))
            reactor.schedule(after: 0.05) { _ in left.write("yz\n") }
            return try await right.readLine(maximumLength: 8192, timeout: 2)
        }
        XCTAssertEqual(line, String(repeating: "x", count: 1500) + "yz")
        left.close()
        right.close()
    }
}

/// A socket with no input buffer of its own reads into the reactor's receive scratch and its
/// input borrows it while the reader runs: what the reader leaves, or keeps a copy of, must
/// survive the next socket's read into the scratch.
final class ReceiveScratchTests: XCTestCase {
    func testInputLeftOrCopiedByAReaderSurvivesOtherSocketsReads() throws {
        let reactor = try Reactor()
        var first: [Int32] = [0, 0]
        var second: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &first), 0)
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &second), 0)
        let a = StreamSocket(adopting: first[0], on: reactor)
        let b = StreamSocket(adopting: second[0], on: reactor)
        defer {
            a.close()
            b.close()
            Glibc.close(first[1])
            Glibc.close(second[1])
        }
        var kept: ByteBuffer?
        a.onReadable = { [unowned a] in
            // Consumes one octet, keeps a copy of the input, leaves the rest.
            a.input.consume(1)
            kept = a.input
        }
        var bSaw: [UInt8] = []
        b.onReadable = { [unowned b] in
            bSaw += b.input.read(upTo: 1 << 20)
        }
        a.readInterest = true
        b.readInterest = true
        XCTAssertEqual(write(first[1], "abcdef", 6), 6)
        let deadline = MonotonicClock.seconds() + 5
        while kept == nil && MonotonicClock.seconds() < deadline { try reactor.step(timeout: 0.1) }
        // The other socket's bytes land in the scratch (or a new one) now.
        XCTAssertEqual(write(second[1], "XYZXYZXYZ", 9), 9)
        while bSaw.count < 9 && MonotonicClock.seconds() < deadline { try reactor.step(timeout: 0.1) }
        XCTAssertEqual(String(decoding: bSaw, as: UTF8.self), "XYZXYZXYZ")
        XCTAssertEqual(kept.map { $0.withUnsafeReadableBytes { String(decoding: $0, as: UTF8.self) } }, "bcdef")
        XCTAssertEqual(a.input.withUnsafeReadableBytes { String(decoding: $0, as: UTF8.self) }, "bcdef")
    }
}
