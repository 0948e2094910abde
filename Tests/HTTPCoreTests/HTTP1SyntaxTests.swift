import XCTest

@testable import HTTPCore

/// The octet classes of `HTTP1Syntax` against the grammar they encode, for all 256 octets.
final class HTTP1SyntaxTests: XCTestCase {
  func testTokenCharsMatchRFC9110() {
    // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
    //       / DIGIT / ALPHA
    let tchar = Set(
      Array("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8))
    for byte in UInt8.min...UInt8.max {
      XCTAssertEqual(HTTP1Syntax.isTokenChar(byte), tchar.contains(byte), "octet \(byte)")
    }
  }

  func testFieldValueTargetAndHostChars() {
    for byte in UInt8.min...UInt8.max {
      let vchar = byte >= 0x21 && byte <= 0x7E
      let obsText = byte >= 0x80
      XCTAssertEqual(
        HTTP1Syntax.isFieldValueChar(byte), vchar || obsText || byte == 0x20 || byte == 0x09,
        "octet \(byte)")
      XCTAssertEqual(HTTP1Syntax.isTargetChar(byte), vchar, "octet \(byte)")
      let hostChars = Set(
        Array(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%:[]!$&'()*+,;=".utf8))
      XCTAssertEqual(HTTP1Syntax.isHostChar(byte), hostChars.contains(byte), "octet \(byte)")
      XCTAssertEqual(HTTP1Syntax.isDigit(byte), byte >= 0x30 && byte <= 0x39, "octet \(byte)")
      let hex = Int(String(UnicodeScalar(byte)), radix: 16).map(UInt8.init)
      XCTAssertEqual(HTTP1Syntax.hexValue(byte), byte < 0x80 ? hex : nil, "octet \(byte)")
      let lower = byte >= 0x41 && byte <= 0x5A ? byte + 32 : byte
      XCTAssertEqual(HTTP1Syntax.lower(byte), lower, "octet \(byte)")
    }
  }

  func testLowercasedStringAndExcerpt() {
    Array("Content-TYPE".utf8).withUnsafeBytes {
      XCTAssertEqual(HTTP1Syntax.lowercasedString($0), "content-type")
    }
    Array("a\r\n\"\\é".utf8).withUnsafeBytes {
      XCTAssertEqual(HTTP1Syntax.excerpt($0), "a\\x0D\\x0A\\x22\\x5C\\xC3\\xA9")
    }
    Array(repeating: UInt8(ascii: "x"), count: 70).withUnsafeBytes {
      XCTAssertEqual(HTTP1Syntax.excerpt($0), String(repeating: "x", count: 64) + "…")
    }
  }
}
