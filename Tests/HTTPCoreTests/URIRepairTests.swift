import HTTPCore
import XCTest

final class URIRepairTests: XCTestCase {
    func testOnlyOctetsOutsideTheGrammarAreEncodedAndOnlyAfterTheAuthority() {
        XCTAssertNil(URI.repairingReference("/already/fine?a=b#c"), "nothing to repair")
        XCTAssertEqual(URI.repairingReference("?a[]=1"), "?a%5B%5D=1")
        XCTAssertEqual(URI.repairingReference("https://[::1]/p q"), "https://[::1]/p%20q")
        XCTAssertEqual(URI.repairingReference("//[2001:db8::1]:80/{x}"), "//[2001:db8::1]:80/%7Bx%7D")
        XCTAssertEqual(URI.repairingReference("a b"), "a%20b", "a relative path with no scheme")
        XCTAssertEqual(URI.repairingReference("/\"<>\\^`|"), "/%22%3C%3E%5C%5E%60%7C")
        XCTAssertEqual(URI.repairingReference("/%41%zz%4"), "/%41%25zz%254", "only valid escapes are kept")
        XCTAssertEqual(URI.repairingReference("/\u{FC}"), "/%C3%BC", "non-ASCII as UTF-8 octets")
        // RFC 3986 §3.5: the fragment starts at the first `#` and holds no other.
        XCTAssertEqual(URI.repairingReference("/page#sec#2"), "/page#sec%232")
    }

    func testControlOctetsAreNeverRepaired() {
        for bad in ["/a\r\nb", "/\u{0}", "/\t", "/a\u{7F}"] {
            XCTAssertNil(URI.repairingReference(bad), bad.debugDescription)
        }
    }

    func testRepairedReferencesParse() throws {
        let base = try URI(parsing: "http://example.com/dir/page")
        for sloppy in ["?a[]=1", "/a b", "x{y}", "//example.org/[x]", "/page#sec#2"] {
            let repaired = try XCTUnwrap(URI.repairingReference(sloppy))
            XCTAssertNoThrow(try URI.resolve(reference: repaired, against: base), repaired)
        }
    }
}
