import Foundation
import Glibc
import Synchronization
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
}

/// RFC 8305 §3 over a resolver whose AAAA and A answers come apart, each after its own delay
/// (`TwoFamilyResolver`). No test needs IPv6 loopback: an "IPv6 address" is `127.0.0.1` mapped
/// (`::ffff:127.0.0.1`), which an `AF_INET6` socket reaches over IPv4 loopback when
/// `IPV6_V6ONLY` is off (`v6only: false`), so the connector treats it as the AAAA answer it is.
final class HappyEyeballsResolutionTests: XCTestCase {
    func testASlowAAAAAnswerHoldsTheConnectOnlyForTheResolutionDelay() throws {
        let reactor = try Reactor()
        let live = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { live.close() }
        let port = try XCTUnwrap(live.localname().port)
        let dns = TwoFamilyResolver(
            aaaa: (2, .success([try mapped(closedAddress(on: reactor))])),
            a: (0, .success([.ipv4(address: "127.0.0.1", port: port)])))
        let start = MonotonicClock.seconds()
        let socket = try reactor.run {
            try await StreamSocket.connect(
                host: "slow-aaaa.test", port: 80, v6only: false, resolver: dns.resolver, on: reactor, timeout: 5)
        }
        let elapsed = MonotonicClock.seconds() - start
        XCTAssertEqual(socket.peername(), SocketName(family: AF_INET, address: "127.0.0.1", port: port))
        XCTAssertGreaterThanOrEqual(elapsed, HappyEyeballs.resolutionDelay, "no Resolution Delay for the AAAA answer")
        XCTAssertLessThan(elapsed, 1, "the connect waited for the AAAA answer")
        XCTAssertEqual(dns.asked, [AF_INET, AF_INET6])
        socket.close()
    }

    func testAPositiveAAAAAnswerStartsConnectingWithoutWaitingForA() throws {
        let reactor = try Reactor()
        let live = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { live.close() }
        let port = try XCTUnwrap(live.localname().port)
        let dns = TwoFamilyResolver(
            aaaa: (0, .success([mapped(.ipv4(address: "127.0.0.1", port: port))])),
            a: (2, .success([try closedAddress(on: reactor)])))
        let start = MonotonicClock.seconds()
        let socket = try reactor.run {
            try await StreamSocket.connect(
                host: "slow-a.test", port: 80, v6only: false, resolver: dns.resolver, on: reactor, timeout: 5)
        }
        XCTAssertLessThan(MonotonicClock.seconds() - start, 1, "the connect waited for the A answer")
        XCTAssertEqual(socket.peername(), SocketName(family: AF_INET6, address: "::ffff:127.0.0.1", port: port))
        socket.close()
    }

    /// The A answer first, the AAAA answer 20 ms later (within the Resolution Delay): IPv6 is
    /// tried first and wins, though IPv4 was known first.
    func testAnAAAAAnswerWithinTheResolutionDelayIsTriedFirst() throws {
        let reactor = try Reactor()
        let v6 = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { v6.close() }
        let v4 = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { v4.close() }
        let v6Port = try XCTUnwrap(v6.localname().port)
        let dns = TwoFamilyResolver(
            aaaa: (0.02, .success([mapped(.ipv4(address: "127.0.0.1", port: v6Port))])),
            a: (0, .success([.ipv4(address: "127.0.0.1", port: try XCTUnwrap(v4.localname().port))])))
        let socket = try reactor.run {
            try await StreamSocket.connect(
                host: "both.test", port: 80, v6only: false, resolver: dns.resolver, on: reactor, timeout: 5)
        }
        XCTAssertEqual(socket.peername(), SocketName(family: AF_INET6, address: "::ffff:127.0.0.1", port: v6Port))
        XCTAssertEqual(dns.asked, [AF_INET, AF_INET6])
        socket.close()
    }

    /// The AAAA answer at once, to an address that never answers; the A answer 0.8 s later. The
    /// IPv6 attempt starts at once, so the IPv4 one starts at the attempt delay (1 s) after it,
    /// not 1 s after the A answer (1.8 s, as when both answers were awaited).
    func testALateAAnswerJoinsTheRaceAtTheAttemptDelay() throws {
        let reactor = try Reactor()
        let silent = try SilentListener(on: reactor)
        defer { silent.close() }
        let live = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { live.close() }
        let port = try XCTUnwrap(live.localname().port)
        let dns = TwoFamilyResolver(
            aaaa: (0, .success([mapped(silent.address)])), a: (0.8, .success([.ipv4(address: "127.0.0.1", port: port)]))
        )
        let openBefore = openFileDescriptors()
        let start = MonotonicClock.seconds()
        let socket = try reactor.run {
            try await StreamSocket.connect(
                host: "blackholed-v6.test", port: 80, v6only: false, resolver: dns.resolver, attemptDelay: 1,
                on: reactor, timeout: 5)
        }
        let elapsed = MonotonicClock.seconds() - start
        XCTAssertEqual(socket.peername().port, port)
        XCTAssertGreaterThanOrEqual(elapsed, 1, "the IPv4 attempt did not wait for the attempt delay")
        XCTAssertLessThan(elapsed, 1.5, "the IPv6 attempt waited for the A answer")
        socket.close()
        // The IPv6 attempt was closed when the IPv4 one won.
        XCTAssertEqual(openFileDescriptors().subtracting(openBefore), [])
    }

    /// As above with an attempt delay (0.5 s) over before the A answer comes (0.8 s): its
    /// address is tried the moment it comes.
    func testALateAAnswerAfterTheAttemptDelayIsTriedAtOnce() throws {
        let reactor = try Reactor()
        let silent = try SilentListener(on: reactor)
        defer { silent.close() }
        let live = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { live.close() }
        let port = try XCTUnwrap(live.localname().port)
        let dns = TwoFamilyResolver(
            aaaa: (0, .success([mapped(silent.address)])), a: (0.8, .success([.ipv4(address: "127.0.0.1", port: port)]))
        )
        let start = MonotonicClock.seconds()
        let socket = try reactor.run {
            try await StreamSocket.connect(
                host: "blackholed-v6.test", port: 80, v6only: false, resolver: dns.resolver, attemptDelay: 0.5,
                on: reactor, timeout: 5)
        }
        let elapsed = MonotonicClock.seconds() - start
        XCTAssertEqual(socket.peername().port, port)
        XCTAssertGreaterThanOrEqual(elapsed, 0.8)
        XCTAssertLessThan(elapsed, 1.15, "the A answer waited for another attempt delay")
        socket.close()
    }

    /// A refused IPv6 attempt leaves nothing in flight: the connect waits for the A answer
    /// ("during DNS" again) instead of failing.
    func testARefusedAAAAAttemptWaitsForTheAAnswer() throws {
        let reactor = try Reactor()
        let live = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { live.close() }
        let port = try XCTUnwrap(live.localname().port)
        let refused = mapped(try closedAddress(on: reactor))
        let dns = TwoFamilyResolver(
            aaaa: (0, .success([refused])), a: (0.3, .success([.ipv4(address: "127.0.0.1", port: port)])))
        let socket = try reactor.run {
            try await StreamSocket.connect(
                host: "refused-v6.test", port: 80, v6only: false, resolver: dns.resolver, on: reactor, timeout: 5)
        }
        XCTAssertEqual(socket.peername().port, port)
        XCTAssertEqual(dns.asked, [AF_INET, AF_INET6])
        socket.close()

        // With no A answer in time, the deadline names the phase it was in.
        let late = TwoFamilyResolver(aaaa: (0, .success([refused])), a: (2, .success([])))
        XCTAssertThrowsError(
            try reactor.run {
                try await StreamSocket.connect(
                    host: "refused-v6.test", port: 80, v6only: false, resolver: late.resolver, on: reactor,
                    timeout: 0.3)
            }
        ) { error in
            XCTAssertEqual(error as? SocketError, .timedOut(target: "refused-v6.test:80", phase: "DNS", seconds: 0.3))
        }
    }

    func testOneFamilyFailingIsNoFailure() throws {
        let reactor = try Reactor()
        let live = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { live.close() }
        let port = try XCTUnwrap(live.localname().port)
        let broken = SocketError.resolutionFailed(host: "half.test", reason: "Temporary failure in name resolution")

        let noAAAA = TwoFamilyResolver(
            aaaa: (0, .failure(broken)), a: (0.1, .success([.ipv4(address: "127.0.0.1", port: port)])))
        let overIPv4 = try reactor.run {
            try await StreamSocket.connect(
                host: "half.test", port: 80, resolver: noAAAA.resolver, on: reactor, timeout: 5)
        }
        XCTAssertEqual(overIPv4.peername(), SocketName(family: AF_INET, address: "127.0.0.1", port: port))
        XCTAssertEqual(noAAAA.asked, [AF_INET, AF_INET6])
        overIPv4.close()

        let noA = TwoFamilyResolver(
            aaaa: (0.1, .success([mapped(.ipv4(address: "127.0.0.1", port: port))])), a: (0, .failure(broken)))
        let overIPv6 = try reactor.run {
            try await StreamSocket.connect(
                host: "half.test", port: 80, v6only: false, resolver: noA.resolver, on: reactor, timeout: 5)
        }
        XCTAssertEqual(overIPv6.peername(), SocketName(family: AF_INET6, address: "::ffff:127.0.0.1", port: port))
        overIPv6.close()
    }

    /// Both lookups fail: the A lookup's error, unless it only says "no address" and the AAAA
    /// lookup's says why it failed.
    func testWhenBothLookupsFailTheMoreTellingErrorIsReported() throws {
        let reactor = try Reactor()
        let timedOut = SocketError.resolutionFailed(host: "gone.test", reason: "Temporary failure in name resolution")
        let unknown = SocketError.resolutionFailed(host: "gone.test", reason: "Name or service not known")
        let none = SocketError.noAddresses(host: "gone.test")
        for (aaaa, a, expected) in [(timedOut, none, timedOut), (timedOut, unknown, unknown), (none, none, none)] {
            let dns = TwoFamilyResolver(aaaa: (0, .failure(aaaa)), a: (0.05, .failure(a)))
            XCTAssertThrowsError(
                try reactor.run {
                    try await StreamSocket.connect(
                        host: "gone.test", port: 80, resolver: dns.resolver, on: reactor, timeout: 5)
                }
            ) { error in
                XCTAssertEqual(error as? SocketError, expected)
            }
            XCTAssertEqual(dns.asked, [AF_INET, AF_INET6])
        }
    }

    /// The connect won over IPv4 while the AAAA lookup was still out: its answer, when it comes,
    /// starts no attempt and calls nothing.
    func testAnAnswerAfterTheConnectWonStartsNothing() throws {
        let reactor = try Reactor()
        let v4 = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { v4.close() }
        let v6 = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { v6.close() }
        var lateAccepts = 0
        v6.onAccept = { socket in
            lateAccepts += 1
            socket.close()
        }
        let v4Port = try XCTUnwrap(v4.localname().port)
        let dns = TwoFamilyResolver(
            aaaa: (0.3, .success([mapped(.ipv4(address: "127.0.0.1", port: try XCTUnwrap(v6.localname().port)))])),
            a: (0, .success([.ipv4(address: "127.0.0.1", port: v4Port)])))
        var outcomes: [Result<StreamSocket, SocketError>] = []
        StreamSocket.connect(host: "won.test", port: 80, v6only: false, resolver: dns.resolver, on: reactor, timeout: 5)
        {
            outcomes.append($0)
        }
        try reactor.loop(timeout: 5) { !outcomes.isEmpty }
        let socket = try XCTUnwrap(try outcomes.first?.get())
        XCTAssertEqual(socket.peername().port, v4Port)
        // Past the AAAA answer.
        try reactor.loop(timeout: 0.6)
        XCTAssertEqual(dns.asked, [AF_INET, AF_INET6])
        XCTAssertEqual(outcomes.count, 1)
        XCTAssertEqual(lateAccepts, 0, "the late AAAA answer started an attempt")
        socket.close()
    }

    /// A connect given up during DNS (its deadline, or its task cancelled) with both lookups
    /// out: their answers start nothing, call nothing, and leave no descriptor open.
    func testAConnectGivenUpInDNSLeavesNothingBehind() throws {
        let reactor = try Reactor()
        let listener = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        defer { listener.close() }
        var accepts = 0
        listener.onAccept = { socket in
            accepts += 1
            socket.close()
        }
        let target = SocketAddress.ipv4(address: "127.0.0.1", port: try XCTUnwrap(listener.localname().port))
        let dns = TwoFamilyResolver(aaaa: (0.3, .success([mapped(target)])), a: (0.3, .success([target])))
        let openBefore = openFileDescriptors()

        var outcomes: [Result<StreamSocket, SocketError>] = []
        StreamSocket.connect(
            host: "late.test", port: 80, v6only: false, resolver: dns.resolver, on: reactor, timeout: 0.1
        ) {
            outcomes.append($0)
        }
        XCTAssertThrowsError(
            try reactor.run(timeout: 0.1) {
                try await StreamSocket.connect(
                    host: "late.test", port: 80, v6only: false, resolver: dns.resolver, on: reactor)
            })
        // Past both answers.
        try reactor.loop(timeout: 0.8)
        guard outcomes.count == 1, case .failure(.timedOut(_, "DNS", _)) = outcomes[0] else {
            return XCTFail("not one timeout during DNS: \(outcomes)")
        }
        // The first connect's two lookups ran; the second's, queued behind them and given up
        // on before a thread was free, were not made.
        XCTAssertEqual(dns.asked, [AF_INET, AF_INET6])
        XCTAssertEqual(accepts, 0, "an answer after the connect ended started an attempt")
        XCTAssertEqual(openFileDescriptors().subtracting(openBefore), [])
    }

    /// Addresses coming in while attempts run are sorted into those not yet tried, going on
    /// from the family tried last (RFC 8305 §6).
    func testAddressesComingLaterAreInterleavedFromTheFamilyTriedLast() {
        let v6a = SocketAddress.ipv6(address: "2001:db8::1", port: 80, scopeID: 0)
        let v6b = SocketAddress.ipv6(address: "2001:db8::2", port: 80, scopeID: 0)
        let v4a = SocketAddress.ipv4(address: "192.0.2.1", port: 80)
        let v4b = SocketAddress.ipv4(address: "192.0.2.2", port: 80)
        XCTAssertEqual(HappyEyeballs.attemptOrder([v4a, v4b, v6a, v6b], startingWith: AF_INET6), [v6a, v4a, v6b, v4b])
        XCTAssertEqual(HappyEyeballs.attemptOrder([v4b, v6a, v6b], startingWith: AF_INET6), [v6a, v4b, v6b])
        XCTAssertEqual(HappyEyeballs.attemptOrder([v4a, v4b], startingWith: AF_INET6), [v4a, v4b])
        XCTAssertEqual(HappyEyeballs.attemptOrder([v4a, v6a], startingWith: nil), [v4a, v6a])
    }

    // MARK: Helpers

    /// `address` (IPv4) as an IPv4-mapped IPv6 address.
    private func mapped(_ address: SocketAddress) -> SocketAddress {
        .ipv6(address: "::ffff:" + address.host, port: address.port ?? 0, scopeID: 0)
    }
}

/// A resolver answering AAAA (`AF_INET6`) and A (`AF_INET`) lookups apart, each after its own
/// delay, as a name server answering the two queries would. Asked for both at once
/// (`AF_UNSPEC`, the one `getaddrinfo` of a connect before RFC 8305 §3), it answers when the
/// slower is in: the addresses of both (IPv6 first), or the A lookup's error.
private final class TwoFamilyResolver: Sendable {
    typealias Answer = (delay: Double, result: Result<[SocketAddress], SocketError>)
    /// The families asked for, in a class of its own for the lookups to hold.
    private final class Log: Sendable {
        let families = Mutex<[Int32]>([])
    }

    let resolver: Resolver
    private let log = Log()

    /// The families asked for so far, sorted.
    var asked: [Int32] { log.families.withLock { $0.sorted() } }

    init(aaaa: Answer, a: Answer) {
        let aaaaDelay = aaaa.delay
        let aaaaResult = aaaa.result
        let aDelay = a.delay
        let aResult = a.result
        let log = self.log
        resolver = Resolver { _, _, family in
            log.families.withLock { $0.append(family) }
            switch family {
            case AF_INET6:
                usleep(UInt32(aaaaDelay * 1e6))
                return aaaaResult
            case AF_INET:
                usleep(UInt32(aDelay * 1e6))
                return aResult
            default:
                usleep(UInt32(Swift.max(aaaaDelay, aDelay) * 1e6))
                let found = ((try? aaaaResult.get()) ?? []) + ((try? aResult.get()) ?? [])
                return found.isEmpty ? aResult : .success(found)
            }
        }
    }
}

/// A loopback address with nobody listening: a port that was just free.
private func closedAddress(on reactor: Reactor) throws -> SocketAddress {
    let probe = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
    defer { probe.close() }
    return .ipv4(address: "127.0.0.1", port: try XCTUnwrap(probe.localname().port))
}

/// This process's open descriptors, each as "fd -> what it is open on" (a socket's inode tells
/// it from an earlier socket with the same number). Compared as sets, only new entries count:
/// one closed meanwhile elsewhere in the process is not this test's business. The listing's own
/// descriptor, closed by the time its link is read, is left out.
private func openFileDescriptors() -> Set<String> {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return Set(
        names.compactMap { name in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name)
            else { return nil }
            return name + " -> " + target
        })
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
