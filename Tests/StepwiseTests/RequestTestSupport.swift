import Stepwise
import XCTest

/// The fields as `name: value` lines, in order.
func lines(_ headers: Headers) -> [String] {
    headers.map { "\($0.name): \($0.value)" }
}

/// An `authorization` value with Basic credentials given as a base64 literal (the tests write
/// the expected base64 out rather than using the library's encoder).
func basic(_ base64: String) -> String { "Basic " + base64 }

/// Asserts that `expression` throws exactly `expected`.
func assertThrows<T>(
    _ expression: @autoclosure () throws -> T, _ expected: RequestError, file: StaticString = #filePath,
    line: UInt = #line
) {
    XCTAssertThrowsError(try expression(), file: file, line: line) { error in
        XCTAssertEqual(error as? RequestError, expected, file: file, line: line)
    }
}

extension Headers {
    /// Replaces a pseudo-header that `Request` set (exactly one exists).
    private mutating func replace(_ name: String, _ value: String) {
        guard let position = fields.firstIndex(where: { $0.name == name }) else {
            return XCTFail("no \(name)")
        }
        modify(at: position, value: value)
    }

    mutating func setMethod(_ method: String) { replace(":method", method) }
    mutating func setPath(_ path: String) { replace(":path", path) }
    mutating func setAuthority(_ authority: String) { replace(":authority", authority) }
}
