import HTTPCore
import StepwiseDemo
import XCTest

/// RFC 9110 §13.2.2 on validators `"v1"`, last modified at 1700000000 (Tue, 14 Nov 2023 22:13:20 GMT).
final class ConditionalRequestTests: XCTestCase {
    private let validators = Validators(entityTag: EntityTag(opaqueTag: "v1"), lastModified: 1_700_000_000)
    private let modified = "Tue, 14 Nov 2023 22:13:20 GMT"
    private let secondBefore = "Tue, 14 Nov 2023 22:13:19 GMT"
    private let secondAfter = "Tue, 14 Nov 2023 22:13:21 GMT"

    private func evaluate(_ fields: [(String, String)], method: String = "GET") -> PreconditionOutcome {
        var headers = Headers()
        for (name, value) in fields { headers.append(name, value) }
        return ConditionalRequest.evaluate(method: method, headers: headers, validators: validators)
    }

    func testNoPreconditionsProceed() {
        XCTAssertEqual(evaluate([]), .proceed)
    }

    func testIfMatchUsesStrongComparison() {
        XCTAssertEqual(evaluate([("if-match", "\"v1\"")]), .proceed)
        XCTAssertEqual(evaluate([("if-match", "\"v0\", \"v1\"")]), .proceed)
        XCTAssertEqual(evaluate([("if-match", "\"v0\""), ("if-match", "\"v1\"")]), .proceed)
        XCTAssertEqual(evaluate([("if-match", "*")]), .proceed)
        XCTAssertEqual(evaluate([("if-match", "\"v0\"")]), .preconditionFailed)
        XCTAssertEqual(evaluate([("if-match", "W/\"v1\"")]), .preconditionFailed)
        XCTAssertEqual(evaluate([("if-match", "v1")]), .preconditionFailed)
    }

    func testIfUnmodifiedSince() {
        XCTAssertEqual(evaluate([("if-unmodified-since", secondBefore)]), .preconditionFailed)
        XCTAssertEqual(evaluate([("if-unmodified-since", modified)]), .proceed)
        XCTAssertEqual(evaluate([("if-unmodified-since", secondAfter)]), .proceed)
        XCTAssertEqual(evaluate([("if-unmodified-since", "yesterday")]), .proceed)
        XCTAssertEqual(
            evaluate([("if-unmodified-since", secondBefore), ("if-unmodified-since", secondBefore)]), .proceed)
    }

    func testIfMatchTakesPrecedenceOverIfUnmodifiedSince() {
        XCTAssertEqual(evaluate([("if-match", "\"v1\""), ("if-unmodified-since", secondBefore)]), .proceed)
    }

    func testIfNoneMatchUsesWeakComparison() {
        XCTAssertEqual(evaluate([("if-none-match", "\"v1\"")]), .notModified)
        XCTAssertEqual(evaluate([("if-none-match", "W/\"v1\"")]), .notModified)
        XCTAssertEqual(evaluate([("if-none-match", "\"v0\", W/\"v1\"")]), .notModified)
        XCTAssertEqual(evaluate([("if-none-match", "*")]), .notModified)
        XCTAssertEqual(evaluate([("if-none-match", "\"v1\"")], method: "HEAD"), .notModified)
        XCTAssertEqual(evaluate([("if-none-match", "\"v0\"")]), .proceed)
        XCTAssertEqual(evaluate([("if-none-match", "garbage")]), .proceed)
    }

    func testIfNoneMatchOnOtherMethodsIs412() {
        XCTAssertEqual(evaluate([("if-none-match", "\"v1\"")], method: "PUT"), .preconditionFailed)
    }

    func testIfModifiedSince() {
        XCTAssertEqual(evaluate([("if-modified-since", modified)]), .notModified)
        XCTAssertEqual(evaluate([("if-modified-since", secondAfter)]), .notModified)
        XCTAssertEqual(evaluate([("if-modified-since", modified)], method: "HEAD"), .notModified)
        XCTAssertEqual(evaluate([("if-modified-since", secondBefore)]), .proceed)
        XCTAssertEqual(evaluate([("if-modified-since", "Tue, 14 Nov 2023")]), .proceed)
        XCTAssertEqual(evaluate([("if-modified-since", modified), ("if-modified-since", modified)]), .proceed)
        XCTAssertEqual(evaluate([("if-modified-since", modified)], method: "POST"), .proceed)
    }

    func testIfModifiedSinceIsIgnoredWithIfNoneMatch() {
        XCTAssertEqual(evaluate([("if-none-match", "\"v0\""), ("if-modified-since", secondAfter)]), .proceed)
    }

    func testIfMatchFailureComesBeforeIfNoneMatch() {
        XCTAssertEqual(evaluate([("if-match", "\"v0\""), ("if-none-match", "\"v1\"")]), .preconditionFailed)
    }
}
