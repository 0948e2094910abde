import XCTest

@testable import HTTPCore

/// The word-at-a-time scans (`skipTokenChars`, `skipFieldValueChars`, `skipTargetChars`) against
/// the octet predicates they must agree with, over many pseudo-random inputs: every length and
/// alignment, mostly valid octets with a few invalid ones anywhere.
final class HTTP1SyntaxScanTests: XCTestCase {

    private typealias Scan = (UnsafeRawBufferPointer, Int, Int) -> Int

    private func check(_ name: String, _ scan: Scan, _ accepts: (UInt8) -> Bool, file: StaticString = #filePath) {
        var random = XorShiftGenerator(seed: 0x9E37_79B9_7F4A_7C15)
        let valid = (0...255).map(UInt8.init).filter(accepts)
        let invalid = (0...255).map(UInt8.init).filter { !accepts($0) }
        var mismatches = 0
        for _ in 0..<30_000 {
            let count = random.below(40)
            var bytes = (0..<count).map { _ in valid[random.below(valid.count)] }
            for _ in 0..<random.below(3) where count > 0 {
                bytes[random.below(count)] = invalid[random.below(invalid.count)]
            }
            let from = count == 0 ? 0 : random.below(count + 1)
            let to = from + random.below(count - from + 1)
            let expected = bytes[from..<to].firstIndex { !accepts($0) } ?? to
            let got = bytes.withUnsafeBytes { scan($0, from, to) }
            if got != expected {
                mismatches += 1
                if mismatches <= 3 {
                    XCTFail("\(name) over \(bytes) from \(from) to \(to): \(got), expected \(expected)", file: file)
                }
            }
        }
        XCTAssertEqual(mismatches, 0, name, file: file)
    }

    func testTokenScanAgreesWithTheOctetRule() {
        check("skipTokenChars", HTTP1Syntax.skipTokenChars, HTTP1Syntax.isTokenChar)
    }

    func testFieldValueScanAgreesWithTheOctetRule() {
        check("skipFieldValueChars", HTTP1Syntax.skipFieldValueChars, HTTP1Syntax.isFieldValueChar)
    }

    func testTargetScanAgreesWithTheOctetRule() {
        check("skipTargetChars", HTTP1Syntax.skipTargetChars, HTTP1Syntax.isTargetChar)
    }
}
