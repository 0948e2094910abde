import XCTest

@testable import Reactor

final class TimerHeapTests: XCTestCase {
    /// `firstDeadline` is kept as a number: it must follow every insert and removal.
    func testFirstDeadlineFollowsInsertsAndRemovals() throws {
        let reactor = try Reactor()
        var heap = TimerHeap()
        XCTAssertNil(heap.firstDeadline)
        var generator = SystemRandomNumberGenerator()
        var scheduled: [ReactorTimer] = []
        for round in 0..<2000 {
            if scheduled.isEmpty || Int.random(in: 0..<3, using: &generator) > 0 {
                let timer = ReactorTimer(
                    reactor: reactor, deadline: UInt64.random(in: 1...1000, using: &generator), interval: 0,
                    action: .closure({ _ in }))
                heap.insert(timer)
                scheduled.append(timer)
            } else {
                let timer = scheduled.remove(at: Int.random(in: 0..<scheduled.count, using: &generator))
                heap.remove(timer)
            }
            XCTAssertEqual(heap.firstDeadline, scheduled.map(\.deadline).min(), "round \(round)")
            XCTAssertEqual(heap.first?.deadline, heap.firstDeadline)
        }
        while let timer = scheduled.popLast() {
            heap.remove(timer)
            XCTAssertEqual(heap.firstDeadline, scheduled.map(\.deadline).min())
        }
        XCTAssertNil(heap.firstDeadline)
        heap.insert(ReactorTimer(reactor: reactor, deadline: 5, interval: 0, action: .closure({ _ in })))
        heap.removeAll()
        XCTAssertNil(heap.firstDeadline)
        XCTAssertTrue(heap.isEmpty)
    }

    /// A repeating timer goes back into the heap with a later deadline; `timeout()` follows.
    func testReactorTimeoutFollowsRepeatingAndCancelledTimers() throws {
        let reactor = try Reactor()
        XCTAssertNil(reactor.timeout())
        var fired = 0
        let repeating = reactor.schedule(after: 0, repeating: 30) { _ in fired += 1 }
        let soon = reactor.schedule(after: 10) { _ in }
        try reactor.step(timeout: 0)
        XCTAssertEqual(fired, 1)
        let afterFiring = try XCTUnwrap(reactor.timeout())
        XCTAssertGreaterThan(afterFiring, 9)
        XCTAssertLessThanOrEqual(afterFiring, 10)
        soon.cancel()
        let afterCancel = try XCTUnwrap(reactor.timeout())
        XCTAssertGreaterThan(afterCancel, 29)
        repeating.cancel()
        XCTAssertNil(reactor.timeout())
        XCTAssertTrue(reactor.empty())
    }
}
