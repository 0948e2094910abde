import Foundation
import Glibc
import XCTest

@testable import Reactor

/// `StreamSocket.connect` racing a host's addresses (RFC 8305), against loopback listeners: one
/// that never answers (a full accept queue makes the kernel drop SYNs), one that answers, and
/// ports nobody listens on (refused at once).
final class HappyEyeballsTests: XCTestCase {
    private let v6a = SocketAddress.ipv6(address: "2001:db8::1", port: 80, scopeID: 0)
    private let v6b = SocketAddress.ipv6(address: "2001:db8::2", port: 80, scopeID: 0)
    private let v4a = SocketAddress.ipv4(address: "192.0.2.1", port: 80)
    private let v4b = SocketAddress.ipv4(address: "192.0.2.2", port: 80)
    private let v4c = SocketAddress.ipv4(address: "192.0.2.3", port: 80)

    func testFamiliesAreInterleavedStartingWithThePreferredOne() {
        XCTAssertEqual(HappyEyeballs.attemptOrder([v6a, v6b, v4a, v4b, v4c]), [v6a, v4a, v6b, v4b, v4c])
        XCTAssertEqual(HappyEyeballs.attemptOrder([v4a, v4b, v6a]), [v4a, v6a, v4b])
        XCTAssertEqual(HappyEyeballs.attemptOrder([v4a, v4b, v4c]), [v4a, v4b, v4c])
        XCTAssertEqual(HappyEyeballs.attemptOrder([v6a]), [v6a])
        XCTAssertEqual(HappyEyeballs.attemptOrder([]), [])
    }

    func testAnAddressThatNeverAnswersLosesToTheNextAfterTheDelay() throws {
        let reactor = try Reactor()
        let silent = try SilentListener(on: reactor)
        defer { silent.close() }
        let live = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { live.close() }
        let livePort = try XCTUnwrap(live.localname().port)
        let resolver = fixedResolver([silent.address, .ipv4(address: "127.0.0.1", port: livePort)])
        let openBefore = openFileDescriptors()
        let start = MonotonicClock.seconds()
        let socket = try reactor.run {
            try await StreamSocket.connect(
                host: "two.test", port: 80, resolver: resolver, attemptDelay: 0.1, on: reactor, timeout: 5)
        }
        let elapsed = MonotonicClock.seconds() - start
        XCTAssertEqual(socket.peername().port, livePort)
        XCTAssertGreaterThanOrEqual(elapsed, 0.1, "the second attempt started before the delay")
        XCTAssertLessThan(elapsed, 2, "the second attempt waited for the first")
        socket.close()
        // The attempt at the silent address was closed when the other one won.
        XCTAssertEqual(openFileDescriptors().subtracting(openBefore), [])
    }

    func testARefusedAttemptStartsTheNextAtOnce() throws {
        let reactor = try Reactor()
        let live = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { live.close() }
        let livePort = try XCTUnwrap(live.localname().port)
        let resolver = fixedResolver([try closedAddress(on: reactor), .ipv4(address: "127.0.0.1", port: livePort)])
        let start = MonotonicClock.seconds()
        let socket = try reactor.run {
            try await StreamSocket.connect(
                host: "two.test", port: 80, resolver: resolver, attemptDelay: 2, on: reactor, timeout: 5)
        }
        XCTAssertLessThan(MonotonicClock.seconds() - start, 1, "waited for the attempt delay after a refusal")
        XCTAssertEqual(socket.peername().port, livePort)
        socket.close()
    }

    func testWhenEveryAttemptFailsTheLastErrorIsReported() throws {
        let reactor = try Reactor()
        let first = try closedAddress(on: reactor)
        let last = try closedAddress(on: reactor)
        let resolver = fixedResolver([first, last])
        XCTAssertThrowsError(
            try reactor.run {
                try await StreamSocket.connect(host: "two.test", port: 80, resolver: resolver, on: reactor, timeout: 5)
            }
        ) { error in
            XCTAssertEqual("\(error)", "connect to \(last) refused")
        }
    }

    /// With a local port to bind, two attempts cannot run at once (the second could not bind):
    /// the next address waits for the first attempt to fail instead of being used up.
    func testWithABoundPortAttemptsGoOneAtATime() throws {
        let reactor = try Reactor()
        let silent = try SilentListener(on: reactor)
        let live = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { live.close() }
        let livePort = try XCTUnwrap(live.localname().port)
        let local = try closedAddress(on: reactor)
        let resolver = fixedResolver([silent.address, .ipv4(address: "127.0.0.1", port: livePort)])
        // Closing the silent listener makes the kernel refuse the first attempt's next SYN (about
        // a second in); only then is the live address tried.
        reactor.schedule(after: 0.3) { _ in silent.close() }
        let socket = try reactor.run {
            try await StreamSocket.connect(
                host: "two.test", port: 80, bind: local, resolver: resolver, attemptDelay: 0.1, on: reactor,
                timeout: 5)
        }
        XCTAssertEqual(socket.peername().port, livePort)
        XCTAssertEqual(socket.localname().port, local.port)
        socket.close()
    }

    func testTheDeadlineClosesEveryAttemptInFlight() throws {
        let reactor = try Reactor()
        let silent = try SilentListener(on: reactor)
        defer { silent.close() }
        let resolver = fixedResolver([silent.address, silent.address, silent.address])
        let openBefore = openFileDescriptors()
        XCTAssertThrowsError(
            try reactor.run {
                try await StreamSocket.connect(
                    host: "silent.test", port: 80, resolver: resolver, attemptDelay: 0.1, on: reactor, timeout: 0.5)
            }
        ) { error in
            XCTAssertEqual(error as? SocketError, .timedOut(target: "silent.test:80", phase: "connect", seconds: 0.5))
        }
        XCTAssertEqual(openFileDescriptors().subtracting(openBefore), [])
    }

    // MARK: Helpers

    /// A resolver that answers every name with `addresses` (ports included).
    private func fixedResolver(_ addresses: [SocketAddress]) -> Resolver {
        Resolver { _, _, _ in .success(addresses) }
    }

    /// A loopback address with nobody listening: a port that was just free.
    private func closedAddress(on reactor: Reactor) throws -> SocketAddress {
        let probe = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { probe.close() }
        return .ipv4(address: "127.0.0.1", port: try XCTUnwrap(probe.localname().port))
    }

    /// This process's open descriptors, each as "fd -> what it is open on" (a socket's inode
    /// tells it from an earlier socket with the same number). Compared as sets, only new entries
    /// count: one closed meanwhile elsewhere in the process is not this test's business. The
    /// listing's own descriptor, closed by the time its link is read, is left out.
    private func openFileDescriptors() -> Set<String> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return Set(
            names.compactMap { name in
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name)
                else { return nil }
                return name + " -> " + target
            })
    }
}

/// A loopback listener that never accepts and whose accept queue is full, so the kernel drops
/// further SYNs and a connect to it hangs (no traffic leaves the machine).
private final class SilentListener {
    let address: SocketAddress
    private let listener: Listener
    private var fillers: [StreamSocket] = []

    init(on reactor: Reactor) throws {
        var options = ListenOptions(host: "127.0.0.1")
        options.backlog = 0
        listener = try Listener.listen(options, on: reactor)
        let port = listener.localname().port!
        address = .ipv4(address: "127.0.0.1", port: port)
        for _ in 0..<8 {
            do {
                fillers.append(
                    try reactor.run {
                        try await StreamSocket.connect(host: "127.0.0.1", port: port, on: reactor, timeout: 0.3)
                    })
            } catch SocketError.timedOut {
                return
            }
        }
        throw SocketError.connectFailed(target: address.description, errno: EAGAIN)
    }

    func close() {
        fillers.forEach { $0.close() }
        listener.close()
    }
}
