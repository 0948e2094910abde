import XCTest

@testable import Reactor

final class ReactorStackTests: XCTestCase {
    func testPushPopGrowAndSwap() {
        var stack = ReactorStack<Int>(capacity: 2)
        XCTAssertTrue(stack.isEmpty)
        XCTAssertNil(stack.pop())
        for value in 0..<100 { stack.push(value) }
        XCTAssertEqual(stack.count, 100)
        XCTAssertEqual((0..<100).map { stack[$0] }, Array(0..<100), "growing keeps the order")
        var other = ReactorStack<Int>(capacity: 1)
        other.push(-1)
        stack.swapContents(with: &other)
        XCTAssertEqual(stack.count, 1)
        XCTAssertEqual(stack[0], -1)
        XCTAssertEqual(other.count, 100)
        XCTAssertEqual(other.pop(), 99)
        other.removeAll()
        XCTAssertTrue(other.isEmpty)
        other.push(7)
        XCTAssertEqual(other.pop(), 7)
    }

    func testElementsAreReleasedByPopRemoveAllAndDeinit() {
        weak var popped: Element?
        weak var removed: Element?
        weak var kept: Element?
        do {
            var stack = ReactorStack<Element>(capacity: 1)
            do {
                let first = Element()
                popped = first
                stack.push(first)
                let second = Element()
                removed = second
                stack.push(second)
            }
            XCTAssertNotNil(popped)
            XCTAssertTrue(stack.pop() === removed)
            XCTAssertNotNil(popped, "still held by the stack")
            XCTAssertNil(removed, "popped, and the caller dropped it")
            stack.removeAll()
            XCTAssertNil(popped)
            do {
                let third = Element()
                kept = third
                stack.push(third)
            }
            XCTAssertNotNil(kept)
        }
        XCTAssertNil(kept, "the stack's deinit released what it held")
    }
}

private final class Element {}
