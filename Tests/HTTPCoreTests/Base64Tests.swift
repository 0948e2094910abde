import HTTPCore
import XCTest

final class Base64Tests: XCTestCase {
    /// RFC 4648 §10 test vectors.
    private let vectors: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ]

    func testRFC4648Vectors() {
        for (plain, encoded) in vectors {
            XCTAssertEqual(HTTPUtil.base64Encode(Array(plain.utf8)), encoded)
            XCTAssertEqual(HTTPUtil.base64Decode(encoded), Array(plain.utf8))
        }
    }

    /// RFC 7617 §2's example credentials.
    func testBasicAuthenticationExample() {
        XCTAssertEqual(HTTPUtil.base64Encode(Array("Aladdin:open sesame".utf8)), "QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
    }

    func testEveryByteValueAndTheWholeAlphabetRoundTrip() {
        let bytes = (0...255).map { UInt8($0) }
        let encoded = HTTPUtil.base64Encode(bytes)
        XCTAssertEqual(HTTPUtil.base64Decode(encoded), bytes)
        // 0xFB 0xFF 0xBF uses both non-alphanumeric characters.
        XCTAssertEqual(HTTPUtil.base64Encode([0xFB, 0xFF, 0xBF]), "+/+/")
        XCTAssertEqual(HTTPUtil.base64Decode("+/+/"), [0xFB, 0xFF, 0xBF])
        for length in 0..<8 {
            let slice = Array(bytes[100..<(100 + length)])
            XCTAssertEqual(HTTPUtil.base64Decode(HTTPUtil.base64Encode(slice)), slice, "length \(length)")
        }
    }

    func testDecodingRejectsNonCanonicalInput() {
        for bad in [
            "Zg", "Zg=", "Zm9", "Z===", "====", "Zg==Zg==", "Zm9v\n", " Zm9v", "Zm9-", "Zm_v", "Zh==", "Zm9=",
            "Zg=A", "=Zg=",
        ] {
            XCTAssertNil(HTTPUtil.base64Decode(bad), bad)
        }
    }
}
