import HTTPCore
import XCTest

final class ValidationTests: XCTestCase {
    private func string(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    func testTokens() {
        for token in ["GET", "content-type", "x", "!#$%&'*+-.^_`|~09azAZ", "gzip"] {
            XCTAssertTrue(HTTPUtil.isToken(token), token)
            XCTAssertTrue(HTTPUtil.isToken(Array(token.utf8)), token)
        }
        for bad in [
            "", " ", "a b", "a:b", "a/b", "(x)", "a,b", "a;b", "a=b", "\"q\"", "a\u{0}", "ü", "a\r\n",
            "{}", "[]",
        ] {
            XCTAssertFalse(HTTPUtil.isToken(bad), bad)
        }
        // Every byte: exactly the tchar set.
        let tchars = Set(
            "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for byte in UInt8(0)...UInt8(255) {
            XCTAssertEqual(HTTPUtil.isToken([byte]), tchars.contains(byte), "byte \(byte)")
        }
    }

    func testFieldNames() {
        XCTAssertTrue(HTTPUtil.isValidFieldName("content-type"))
        XCTAssertTrue(HTTPUtil.isValidFieldName("x-custom_header.1"))
        XCTAssertFalse(HTTPUtil.isValidFieldName("Content-Type"), "upper case")
        XCTAssertFalse(HTTPUtil.isValidFieldName(""))
        XCTAssertFalse(HTTPUtil.isValidFieldName(":path"), "pseudo-headers are not field names")
        XCTAssertFalse(HTTPUtil.isValidFieldName("name "))
        XCTAssertFalse(HTTPUtil.isValidFieldName("na\nme"))
        XCTAssertTrue(HTTPUtil.isValidFieldName(Array("host".utf8)))
        XCTAssertFalse(HTTPUtil.isValidFieldName(Array("Host".utf8)))
    }

    func testFieldValues() {
        for good in [
            "", "text/html; charset=utf-8", "a\tb", " leading", "trailing ", "\u{1}ctl", "ü obs-text",
            "\u{7F}",
        ] {
            XCTAssertTrue(HTTPUtil.isValidFieldValue(good), good.debugDescription)
        }
        for bad in ["a\rb", "a\nb", "a\u{0}b", "\r\n", "end\n", "\u{0}"] {
            XCTAssertFalse(HTTPUtil.isValidFieldValue(bad), bad.debugDescription)
            XCTAssertFalse(HTTPUtil.isValidFieldValue(Array(bad.utf8)), bad.debugDescription)
        }
        // obs-fold is not a valid value to send (it contains CR LF).
        XCTAssertFalse(HTTPUtil.isValidFieldValue("a\r\n b"))
    }

    func testStrictFieldValues() {
        for good in ["", "x", "a b", "a\tb", "text/html; q=0.5", "ü", "!~"] {
            XCTAssertTrue(HTTPUtil.isStrictFieldValue(good), good.debugDescription)
        }
        for bad in [
            " ", "\t", " a", "a ", "a\t", "\ta", "a\rb", "a\nb", "a\u{0}b", "a\u{1}b", "a\u{7F}b",
            "a\u{1F}",
        ] {
            XCTAssertFalse(HTTPUtil.isStrictFieldValue(bad), bad.debugDescription)
        }
    }

    // lua-http: maybe_quote "makes acceptable tokens or quoted-string"
    func testMaybeQuote() {
        XCTAssertEqual(HTTPUtil.maybeQuote("foo"), "foo")
        XCTAssertEqual(HTTPUtil.maybeQuote(#"with " quote"#), #""with \" quote""#)
        XCTAssertEqual(HTTPUtil.maybeQuote(#"back\slash"#), #""back\\slash""#)
        XCTAssertEqual(HTTPUtil.maybeQuote(""), #""""#)
        XCTAssertEqual(HTTPUtil.maybeQuote("a b"), #""a b""#)
        XCTAssertEqual(HTTPUtil.maybeQuote("ü"), "\"ü\"")
    }

    /// Parses an RFC 9110 §5.6.4 quoted-string covering the whole input, or nil.
    private func parseQuotedString(_ s: String) -> [UInt8]? {
        let bytes = Array(s.utf8)
        guard bytes.count >= 2, bytes.first == 0x22, bytes.last == 0x22 else { return nil }
        var out: [UInt8] = []
        var i = 1
        while i < bytes.count - 1 {
            let b = bytes[i]
            if b == 0x5C {
                i += 1
                guard i < bytes.count - 1 else { return nil }
                let e = bytes[i]
                guard e == 0x09 || e == 0x20 || (0x21...0x7E).contains(e) || e >= 0x80 else { return nil }
                out.append(e)
            } else {
                // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
                guard
                    b == 0x09 || b == 0x20 || b == 0x21 || (0x23...0x5B).contains(b)
                        || (0x5D...0x7E).contains(b) || b >= 0x80
                else { return nil }
                out.append(b)
            }
            i += 1
        }
        return out
    }

    // lua-http: maybe_quote "escapes all bytes correctly"
    func testMaybeQuoteEscapesEveryQuotableByte() {
        var scalars = String.UnicodeScalarView()
        scalars.append("\t")
        for v in UInt32(32)...126 { scalars.append(Unicode.Scalar(v)!) }
        for v in UInt32(128)...255 { scalars.append(Unicode.Scalar(v)!) }  // as UTF-8: obs-text bytes
        let s = String(scalars)
        let quoted = HTTPUtil.maybeQuote(s)
        XCTAssertNotNil(quoted)
        XCTAssertEqual(parseQuotedString(quoted ?? ""), Array(s.utf8))
    }

    // lua-http: maybe_quote "returns nil on invalid input"
    func testMaybeQuoteRejectsControlCharacters() {
        for byte in UInt8(0)...UInt8(31) where byte != 9 {
            XCTAssertNil(HTTPUtil.maybeQuote(string([byte])), "byte \(byte)")
            XCTAssertNil(HTTPUtil.maybeQuote("a b" + string([byte])), "byte \(byte)")
        }
        XCTAssertNil(HTTPUtil.maybeQuote("\u{7F}"))
        XCTAssertEqual(HTTPUtil.maybeQuote("\t"), "\"\t\"")
    }

    func testSafeMethods() {
        for m in ["GET", "HEAD", "OPTIONS", "TRACE"] { XCTAssertTrue(HTTPUtil.isSafeMethod(m), m) }
        for m in ["POST", "PUT", "DELETE", "PATCH", "CONNECT", "get", "Head", "", "GET "] {
            XCTAssertFalse(HTTPUtil.isSafeMethod(m), m)
        }
    }

    func testIsIP() {
        for v4 in ["0.0.0.0", "127.0.0.1", "192.0.2.255", "255.255.255.255"] {
            XCTAssertTrue(HTTPUtil.isIP(v4), v4)
            XCTAssertTrue(HTTPUtil.isIPv4(v4), v4)
            XCTAssertFalse(HTTPUtil.isIPv6(v4), v4)
        }
        for v6 in [
            "::", "::1", "2001:db8::1", "fe80::1", "2001:0db8:0000:0000:0000:ff00:0042:8329",
            "::ffff:192.0.2.1",
            "1:2:3:4:5:6:7:8", "fe80::1%eth0", "fe80::1%25", "fe80::a:b%en0.100", "ff02::1%1",
            "0000:0000:0000:0000:0000:ffff:255.255.255.255",
        ] {
            XCTAssertTrue(HTTPUtil.isIP(v6), v6)
            XCTAssertTrue(HTTPUtil.isIPv6(v6), v6)
            XCTAssertFalse(HTTPUtil.isIPv4(v6), v6)
        }
        for bad in [
            "", "localhost", "example.com", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "127.1",
            "1.2.3.4 ", " 1.2.3.4",
            "1.2.3.4/24", "1.2.3.4%eth0", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "[::1]", "::1%",
            "fe80::1%eth 0",
            "fe80::1%eth0%1", "fe80::1%ü", "::g", "12345::", "1.2.3.4\u{0}", "::1\u{0}x",
            "1.2.3.4\u{0}junk",
            String(repeating: "1", count: 200),
        ] {
            XCTAssertFalse(HTTPUtil.isIP(bad), bad.debugDescription)
        }
    }
}
