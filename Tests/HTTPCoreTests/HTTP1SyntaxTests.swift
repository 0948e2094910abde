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

final class HTTP1FieldNamesTests: XCTestCase {
    /// Every interned name maps to itself, whatever the received case; other names are lower-cased.
    func testInternedNamesAreExact() {
        let interned = [
            "te", "age", "via", "host", "date", "etag", "link", "vary", "range", "allow", "accept",
            "cookie", "origin",
            "server", "expect", "pragma", "referer", "upgrade", "expires", "trailer", "if-match",
            "if-range", "location",
            "connection", "keep-alive", "set-cookie", "user-agent", "content-type", "x-request-id",
            "authorization",
            "accept-ranges", "cache-control", "content-range", "if-none-match", "last-modified",
            "content-length",
            "sec-fetch-dest", "sec-fetch-mode", "sec-fetch-site", "accept-encoding", "accept-language",
            "x-forwarded-for",
            "content-encoding", "content-language", "content-location", "x-forwarded-host",
            "if-modified-since",
            "transfer-encoding", "sec-websocket-key", "x-forwarded-proto", "proxy-authenticate",
            "content-disposition",
            "if-unmodified-since", "proxy-authorization", "sec-websocket-accept", "sec-websocket-version",
            "sec-websocket-protocol", "sec-websocket-extensions", "strict-transport-security",
            "upgrade-insecure-requests",
            "access-control-allow-origin",
        ]
        for name in interned {
            for variant in [name, name.uppercased(), name.prefix(1).uppercased() + name.dropFirst()] {
                Array(variant.utf8).withUnsafeBytes { bytes in
                    XCTAssertEqual(HTTP1FieldNames.common(bytes), name, variant)
                    XCTAssertEqual(HTTP1FieldNames.name(bytes), name, variant)
                }
            }
        }
        for other in ["X-Custom", "hostx", "Hos", "Content-Lengthy", "TE2", "A"] {
            Array(other.utf8).withUnsafeBytes { bytes in
                XCTAssertNil(HTTP1FieldNames.common(bytes), other)
                XCTAssertEqual(HTTP1FieldNames.name(bytes), other.lowercased(), other)
            }
        }
    }
}

final class HTTP1WordScanTests: XCTestCase {
    func naiveSkip(_ bytes: [UInt8], from: Int, to: Int, _ accept: (UInt8) -> Bool) -> Int {
        var index = from
        while index < to, accept(bytes[index]) { index += 1 }
        return index
    }

    func check(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        bytes.withUnsafeBytes { raw in
            for from in 0..<min(bytes.count, 9) {
                for to in [bytes.count, bytes.count - 1, from + 7, from + 8, from + 9]
                where to >= from && to <= bytes.count {
                    XCTAssertEqual(
                        HTTP1Syntax.skipFieldValueChars(raw, from: from, to: to),
                        naiveSkip(bytes, from: from, to: to, HTTP1Syntax.isFieldValueChar),
                        "\(bytes) \(from)..<\(to)", file: file,
                        line: line)
                    XCTAssertEqual(
                        HTTP1Syntax.skipTargetChars(raw, from: from, to: to),
                        naiveSkip(bytes, from: from, to: to, HTTP1Syntax.isTargetChar),
                        "\(bytes) \(from)..<\(to)", file: file, line: line)
                    for needle in [HTTP1Syntax.cr, HTTP1Syntax.colon] {
                        XCTAssertEqual(
                            HTTP1Syntax.firstIndex(of: needle, in: raw, from: from, to: to),
                            naiveSkip(bytes, from: from, to: to) { $0 != needle }, "\(bytes) \(from)..<\(to)",
                            file: file, line: line)
                    }
                }
            }
        }
    }

    /// Every octet value at every position of a 24-octet run of ordinary characters.
    func testEveryOctetAtEveryPosition() {
        for filler in [UInt8(ascii: "a"), 0x80, 0xFE] {
            for position in 0..<24 {
                for byte in UInt8.min...UInt8.max {
                    var bytes = [UInt8](repeating: filler, count: 24)
                    bytes[position] = byte
                    check(bytes)
                }
            }
        }
    }

    func testRandomBuffers() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] =
            Array("az AZ09:/\t\r\n".utf8) + [0x00, 0x1F, 0x20, 0x21, 0x7E, 0x7F, 0x80, 0xC3, 0xFF]
        for _ in 0..<2000 {
            let count = Int.random(in: 0...40, using: &generator)
            check((0..<count).map { _ in alphabet.randomElement(using: &generator)! })
        }
    }
}
