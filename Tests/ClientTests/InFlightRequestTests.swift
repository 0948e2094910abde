import Foundation
import HTTPCore
import Reactor
import Stepwise
import XCTest

/// `Request.start` and the callback `go`: a request in flight driven only through its own
/// Pollable face, from a test's `poll(2)` loop, as a foreign host would.
final class InFlightRequestTests: XCTestCase {
    func testRequestDrivenOnlyThroughItsPollableFace() throws {
        let server = try TestServer { stream, head in try await reply(stream, "polled \(head.path ?? "")") }
        defer { server.stop() }
        let reactor = try Reactor()
        let inFlight = try Request(uri: "http://127.0.0.1:\(server.port)/p").start(on: reactor, timeout: 5)
        XCTAssertFalse(inFlight.isFinished)
        try pollUntil(inFlight) { inFlight.isFinished }
        let (headers, stream) = try XCTUnwrap(inFlight.result).get()
        XCTAssertEqual(headers.first(":status"), "200")
        // The body too, through callbacks on the same face.
        var body: String?
        stream.getBodyAsString(limit: 1 << 20, timeout: 5) { body = try? $0.get() }
        try pollUntil(inFlight) { body != nil }
        XCTAssertEqual(body, "polled /p")
    }

    /// Once the head is in, the handle's face is its reactor's: a host reading the body through
    /// it (or keeping the handle registered after a failure) sleeps until the body comes. It was
    /// `timeout() == 0` for good once finished, and such a host spun.
    func testAFinishedRequestLetsTheHostSleepWhileItsBodyIsAwaited() throws {
        let server = try TestServer { stream, _ in
            var headers = Headers()
            headers.append(":status", "200")
            headers.append("content-length", "5")
            try await stream.writeHeaders(headers, endStream: false, timeout: 5)
            try await stream.reactor.sleep(seconds: 0.3)
            try await stream.writeChunk(Array("later".utf8), endStream: true, timeout: 5)
        }
        defer { server.stop() }
        let reactor = try Reactor()
        let inFlight = try Request(uri: "http://127.0.0.1:\(server.port)/").start(on: reactor, timeout: 5)
        try pollUntil(inFlight) { inFlight.isFinished }
        let (_, stream) = try XCTUnwrap(inFlight.result).get()
        var body: String?
        stream.getBodyAsString(limit: 1 << 20, timeout: 5) { body = try? $0.get() }
        let wakeups = try pollUntil(inFlight) { body != nil }
        XCTAssertEqual(body, "later")
        // A handful: the body's octets, and its end. A spinning host wakes thousands of times.
        XCTAssertLessThan(wakeups, 50, "the host spun while the body was awaited")
    }

    /// `loop(timeout: 0)` once a frame (a game's loop) moves the exchange on: it steps once
    /// without waiting. It returned without a step, and the request never left.
    func testLoopWithTimeoutZeroOnceAFrameFinishesTheRequest() throws {
        let server = try TestServer { stream, head in try await reply(stream, "frame \(head.path ?? "")") }
        defer { server.stop() }
        let reactor = try Reactor()
        let inFlight = try Request(uri: "http://127.0.0.1:\(server.port)/f").start(on: reactor, timeout: 5)
        var frames = 0
        while !inFlight.isFinished && frames < 5_000 {
            try inFlight.loop(timeout: 0)
            usleep(1000)
            frames += 1
        }
        let (headers, stream) = try XCTUnwrap(inFlight.result, "not finished after \(frames) frames").get()
        XCTAssertEqual(headers.first(":status"), "200")
        stream.shutdown()
    }

    func testCallbackFormReportsOnceWithTheResponse() throws {
        let server = try TestServer { stream, _ in try await reply(stream, status: 201, "made") }
        defer { server.stop() }
        let reactor = try Reactor()
        var outcomes: [String] = []
        try Request(uri: "http://127.0.0.1:\(server.port)/").go(on: reactor, timeout: 5) { result in
            switch result {
            case .success((let headers, let stream)):
                outcomes.append(headers.first(":status") ?? "?")
                stream.shutdown()
            case .failure(let error):
                outcomes.append("error: \(error)")
            }
        }
        try pollUntil(reactor) { !outcomes.isEmpty }
        XCTAssertEqual(outcomes, ["201"])
    }

    func testTheDeadlineFiresThroughTheFaceAndNamesThePhase() throws {
        // Accepts and never answers: the response-head phase stalls.
        let server = try TestServer { _, _ in try await Task.sleep(nanoseconds: 3_000_000_000) }
        defer { server.stop() }
        let reactor = try Reactor()
        let started = MonotonicClock.seconds()
        let inFlight = try Request(uri: "http://127.0.0.1:\(server.port)/").start(on: reactor, timeout: 0.3)
        try pollUntil(inFlight) { inFlight.isFinished }
        let elapsed = MonotonicClock.seconds() - started
        XCTAssertGreaterThan(elapsed, 0.25)
        XCTAssertLessThan(elapsed, 2)
        guard case .failure(let error) = inFlight.result else { return XCTFail("expected a timeout") }
        XCTAssertTrue("\(error)".contains("response"), "\(error)")
    }

    func testCancelEndsTheExchangeAndFreesTheReactor() throws {
        let server = try TestServer { _, _ in try await Task.sleep(nanoseconds: 3_000_000_000) }
        defer { server.stop() }
        let reactor = try Reactor()
        var heard: (any Error)?
        let inFlight = try Request(uri: "http://127.0.0.1:\(server.port)/").go(on: reactor, timeout: 5) {
            if case .failure(let error) = $0 { heard = error }
        }
        try reactor.step(timeout: 0.05)
        inFlight.cancel()
        XCTAssertTrue(heard is CancellationError)
        inFlight.cancel()
        // The task unwinds and its connection closes: the reactor empties.
        let started = MonotonicClock.seconds()
        while !reactor.empty() && MonotonicClock.seconds() - started < 2 { try reactor.step(timeout: 0.05) }
        XCTAssertTrue(reactor.empty())
    }

    func testLoopStepsUntilTheHeadArrives() throws {
        let server = try TestServer { stream, _ in try await reply(stream, "looped") }
        defer { server.stop() }
        let reactor = try Reactor()
        let inFlight = try Request(uri: "http://127.0.0.1:\(server.port)/").start(on: reactor, timeout: 5)
        let (headers, stream) = try XCTUnwrap(try inFlight.loop(timeout: 5)).get()
        XCTAssertEqual(headers.first(":status"), "200")
        stream.shutdown()
    }

    /// The host loop: wait on the handle's fd and deadline, then `step(0)`.
    /// Returns how many times the host woke up.
    @discardableResult
    private func pollUntil(_ object: any Pollable, _ done: () -> Bool) throws -> Int {
        let started = MonotonicClock.seconds()
        var wakeups = 0
        while !done() {
            wakeups += 1
            XCTAssertLessThan(MonotonicClock.seconds() - started, 5, "gave up waiting")
            if MonotonicClock.seconds() - started >= 5 { return wakeups }
            var fds = pollfd(fd: object.pollfd(), events: object.events().rawValue, revents: 0)
            _ = poll(&fds, 1, object.timeoutMilliseconds())
            try object.step(timeout: 0)
        }
        return wakeups
    }
}
