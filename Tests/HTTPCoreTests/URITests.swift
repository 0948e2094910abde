import TestSupport
import XCTest

@testable import HTTPCore

final class URITests: XCTestCase {
    private let alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    private let digits = "0123456789"

    // MARK: encodeURIComponent / encodeURI

    func testEncodeURIComponentKeepsExactlyTheUnreservedMarks() {
        let kept = alpha + digits + "-_.!~*'()"
        XCTAssertEqual(HTTPUtil.encodeURIComponent(kept), kept)
        // Every other ASCII byte is escaped, with upper-case hex.
        for byte in UInt8(0)...UInt8(127) where !kept.utf8.contains(byte) {
            let s = String(decoding: [byte], as: UTF8.self)
            let expected = "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            XCTAssertEqual(HTTPUtil.encodeURIComponent(s), expected, "byte \(byte)")
        }
    }

    func testEncodeURIKeepsTheDelimiters() {
        let kept = alpha + digits + "-_.!~*'()" + ";,/?:@&=+$#"
        XCTAssertEqual(HTTPUtil.encodeURI(kept), kept)
        for byte in UInt8(0)...UInt8(127) where !kept.utf8.contains(byte) {
            let s = String(decoding: [byte], as: UTF8.self)
            XCTAssertEqual(HTTPUtil.encodeURI(s).count, 3, "byte \(byte) is escaped")
        }
        XCTAssertEqual(
            HTTPUtil.encodeURI("http://example.com/a b/ü?q=1&r=[x]#frag"),
            "http://example.com/a%20b/%C3%BC?q=1&r=%5Bx%5D#frag")
        XCTAssertEqual(HTTPUtil.encodeURIComponent("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9")
        XCTAssertEqual(HTTPUtil.encodeURIComponent("λ"), "%CE%BB")
        XCTAssertEqual(HTTPUtil.encodeURIComponent("😀"), "%F0%9F%98%80")
        XCTAssertEqual(HTTPUtil.encodeURIComponent(""), "")
    }

    // MARK: decode

    // lua-http: "decodeURI works"
    func testDecodeURI() {
        XCTAssertEqual(HTTPUtil.decodeURI("Encoded%20string"), "Encoded string")
        XCTAssertEqual(HTTPUtil.decodeURI("%C3%BC%41"), "üA")
    }

    // lua-http: "decodeURI doesn't decode blacklisted characters"
    func testDecodeURILeavesDelimitersEncoded() {
        XCTAssertEqual(HTTPUtil.decodeURI("%24"), "%24")
        let s = HTTPUtil.encodeURIComponent("#$&+,/:;=?@")
        XCTAssertEqual(s, "%23%24%26%2B%2C%2F%3A%3B%3D%3F%40")
        XCTAssertEqual(HTTPUtil.decodeURI(s), s)
        // Lower-case escapes of delimiters stay exactly as written.
        XCTAssertEqual(HTTPUtil.decodeURI("a%2fb%3a%20"), "a%2fb%3a ")
        // decodeURIComponent decodes them.
        XCTAssertEqual(HTTPUtil.decodeURIComponent(s), "#$&+,/:;=?@")
    }

    func testDecodingIsCaseInsensitiveInHex() {
        XCTAssertEqual(HTTPUtil.decodeURIComponent("%c3%bc%C3%BC"), "üü")
    }

    func testInvalidEscapesAreLeftAsTheyAre() {
        XCTAssertEqual(HTTPUtil.decodeURIComponent("100%"), "100%")
        XCTAssertEqual(HTTPUtil.decodeURIComponent("%zz%4"), "%zz%4")
        XCTAssertEqual(HTTPUtil.decodeURIComponent("%%41"), "%A")
        XCTAssertEqual(HTTPUtil.decodeURIComponent("%4%41"), "%4A")
        XCTAssertEqual(HTTPUtil.decodeURI("%G1%"), "%G1%")
        XCTAssertEqual(HTTPUtil.percentDecodedBytes("%"), [UInt8(ascii: "%")])
    }

    func testInvalidUTF8BecomesReplacementCharacterButBytesAreExact() {
        XCTAssertEqual(HTTPUtil.decodeURIComponent("a%FFb"), "a\u{FFFD}b")
        XCTAssertEqual(HTTPUtil.percentDecodedBytes("a%FFb"), [0x61, 0xFF, 0x62])
        XCTAssertEqual(HTTPUtil.decodeURIComponent("%C3"), "\u{FFFD}")
    }

    // lua-http: "decodeURIComponent round-trips with encodeURIComponent" (all 256 bytes)
    func testAllBytesRoundTrip() {
        let all = (0...255).map { UInt8($0) }
        let encoded = HTTPUtil.encodeURIComponent(bytes: all)
        XCTAssertTrue(encoded.utf8.allSatisfy { $0 < 128 })
        XCTAssertEqual(HTTPUtil.percentDecodedBytes(encoded), all)
    }

    func testStringsRoundTrip() {
        var rng = SplitMix64(seed: 42)
        let samples = [
            "", "plain", "a b", "%", "%41", "ü/ö?x=y#z", "𝄞 music", "\u{0}\u{1F}\u{7F}", "e\u{301}",
        ]
        var random: [String] = []
        for _ in 0..<200 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int(rng.next() % 12) {
                let candidates: [UInt32] = [0x20, 0x25, 0x2B, 0x41, 0xE9, 0x3B1, 0x4E2D, 0x1F600, 0x0A]
                scalars.append(Unicode.Scalar(candidates[Int(rng.next() % UInt64(candidates.count))])!)
            }
            random.append(String(scalars))
        }
        for s in samples + random {
            XCTAssertEqual(HTTPUtil.decodeURIComponent(HTTPUtil.encodeURIComponent(s)), s)
            XCTAssertEqual(HTTPUtil.decodeURI(HTTPUtil.encodeURI(s)), s)
            // encodeURI output decoded by component is also the original.
            XCTAssertEqual(HTTPUtil.decodeURIComponent(HTTPUtil.encodeURI(s)), s)
            XCTAssertEqual(
                Array(HTTPUtil.decodeURIComponent(HTTPUtil.encodeURIComponent(s)).utf8), Array(s.utf8))
        }
    }

    func testByteSetMasksMatchTheirDefinitions() {
        func check(_ set: ByteSet, _ members: String, _ label: String) {
            for byte in UInt8(0)...UInt8(255) {
                XCTAssertEqual(set.contains(byte), members.utf8.contains(byte), "\(label): byte \(byte)")
            }
        }
        let lower = "abcdefghijklmnopqrstuvwxyz"
        check(.tchar, alpha + digits + "!#$%&'*+-.^_`|~", "tchar")
        check(.lowerTchar, lower + digits + "!#$%&'*+-.^_`|~", "lowerTchar")
        check(.componentUnescaped, alpha + digits + "-_.!~*'()", "componentUnescaped")
        check(.uriUnescaped, alpha + digits + "-_.!~*'();,/?:@&=+$#", "uriUnescaped")
        check(.uriReserved, "#$&+,/:;=?@", "uriReserved")
        check(.regName, alpha + digits + "-._~%!$&'()*+,;=", "regName")
        check(.zoneID, alpha + digits + "-._~", "zoneID")
    }

    // MARK: resolveRelativePath

    /// RFC 3986 §5.4.1 and §5.4.2, with base `http://a/b/c/d;p?q`: the path parts (references with
    /// a query or fragment are left out: this resolves paths only).
    func testRFC3986ReferenceResolutionExamples() {
        let base = "/b/c/d;p"
        let cases: [(String, String)] = [
            // §5.4.1 normal examples
            ("g", "/b/c/g"), ("./g", "/b/c/g"), ("g/", "/b/c/g/"), ("/g", "/g"), (";x", "/b/c/;x"),
            ("g;x", "/b/c/g;x"), ("", "/b/c/d;p"), (".", "/b/c/"), ("./", "/b/c/"), ("..", "/b/"),
            ("../", "/b/"), ("../g", "/b/g"), ("../..", "/"), ("../../", "/"), ("../../g", "/g"),
            // §5.4.2 abnormal examples
            ("../../../g", "/g"), ("../../../../g", "/g"), ("/./g", "/g"), ("/../g", "/g"),
            ("g.", "/b/c/g."),
            (".g", "/b/c/.g"), ("g..", "/b/c/g.."), ("..g", "/b/c/..g"), ("./../g", "/b/g"),
            ("./g/.", "/b/c/g/"),
            ("g/./h", "/b/c/g/h"), ("g/../h", "/b/c/h"), ("g;x=1/./y", "/b/c/g;x=1/y"),
            ("g;x=1/../y", "/b/c/y"),
        ]
        for (relative, expected) in cases {
            XCTAssertEqual(
                HTTPUtil.resolveRelativePath(base: base, relative: relative), expected, relative)
        }
    }

    /// RFC 3986 §5.2.4's own walk-throughs of remove_dot_segments.
    func testRemoveDotSegmentsExamples() {
        XCTAssertEqual(HTTPUtil.resolveRelativePath(base: "/", relative: "/a/b/c/./../../g"), "/a/g")
        XCTAssertEqual(
            HTTPUtil.resolveRelativePath(base: "/", relative: "mid/content=5/../6"), "/mid/6")
    }

    // lua-http path_spec cases, where they agree with RFC 3986.
    func testLuaHTTPPathCases() {
        let cases: [(String, String, String)] = [
            // "should resolve .. correctly"
            ("/", "foo", "/foo"), ("/", "./foo", "/foo"), ("/", "../foo", "/foo"),
            ("/", "../foo/../foo", "/foo"),
            ("/", "foo/bar/../", "/foo/"), ("/", "../..", "/"), ("/", "../../", "/"),
            ("/foo/", "../bar", "/bar"),
            ("foo/", "../bar", "bar"), ("foo/", "../bar/", "bar/"),
            // "should ignore ."
            ("/", ".", "/"), ("/", "./././.", "/"), ("/", "././././", "/"),
            ("/foo/", "bar/././././", "/foo/bar/"),
            // "should keep leading and trailing /"
            ("/foo/", "./", "/foo/"), ("foo/", "./", "foo/"),
            // "an absolute path as 2nd arg should be resolved"
            ("ignored", "/foo", "/foo"), ("ignored", "/foo/././", "/foo/"),
            // "cannot go above root level"
            ("/", "../bar", "/bar"), ("/foo", "../../../../bar", "/bar"),
            ("/foo", "./../../../../bar", "/bar"),
            ("/foo", "./../../../../", "/"), ("/", "..", "/"), ("", "..", ""), ("", "./..", ""),
            ("", "../bar", "bar"),
        ]
        for (base, relative, expected) in cases {
            XCTAssertEqual(
                HTTPUtil.resolveRelativePath(base: base, relative: relative), expected,
                "\(base) + \(relative)")
        }
    }

    /// Where lua-http drops the trailing slash after a final dot segment, RFC 3986 keeps it.
    func testFinalDotSegmentsKeepATrailingSlashAsTheRFCSays() {
        // (base, relative, RFC 3986 result, lua-http's result)
        let cases: [(String, String, String, String)] = [
            ("/foo/", ".", "/foo/", "/foo"), ("foo/", ".", "foo/", "foo"),
            ("/", "foo/bar/..", "/foo/", "/foo"), ("x", "/foo/./.", "/foo/", "/foo"),
        ]
        for (base, relative, rfc, lua) in cases {
            let resolved = HTTPUtil.resolveRelativePath(base: base, relative: relative)
            XCTAssertEqual(resolved, rfc, "\(base) + \(relative)")
            XCTAssertNotEqual(resolved, lua)
        }
    }

    func testEmptySegmentsAndOddInput() {
        XCTAssertEqual(HTTPUtil.resolveRelativePath(base: "/", relative: "/a//b"), "/a//b")
        XCTAssertEqual(HTTPUtil.resolveRelativePath(base: "/", relative: "/a//../b"), "/a/b")
        XCTAssertEqual(HTTPUtil.resolveRelativePath(base: "/", relative: "/ü/./ö/../x"), "/ü/x")
        XCTAssertEqual(HTTPUtil.resolveRelativePath(base: "/d/", relative: "..."), "/d/...")
        // A combining mark after "/" must not hide the separator from the dot-segment logic.
        XCTAssertEqual(HTTPUtil.resolveRelativePath(base: "/", relative: "/a/\u{301}/../b"), "/a/b")
        XCTAssertEqual(HTTPUtil.resolveRelativePath(base: "", relative: ""), "")
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: Swift.max(0, width - count)) + self
    }
}
