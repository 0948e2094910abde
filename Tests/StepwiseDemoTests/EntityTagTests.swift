import StepwiseDemo
import XCTest

final class EntityTagTests: XCTestCase {
    func testFileTagIsInodeSizeAndNanosecondMtimeInHex() {
        let tag = EntityTag.forFile(inode: 0x1f, size: 14, modificationNanoseconds: 1_700_000_000_123_456_789)
        XCTAssertEqual(tag.fieldValue, "\"1f-e-17979cfe3d85cd15\"")
        XCTAssertFalse(tag.isWeak)
        XCTAssertEqual(
            tag, EntityTag.forFile(inode: 0x1f, size: 14, modificationNanoseconds: 1_700_000_000_123_456_789))
        XCTAssertNotEqual(
            tag, EntityTag.forFile(inode: 0x1f, size: 14, modificationNanoseconds: 1_700_000_000_123_456_790))
        XCTAssertNotEqual(
            tag, EntityTag.forFile(inode: 0x1f, size: 15, modificationNanoseconds: 1_700_000_000_123_456_789))
        XCTAssertNotEqual(
            tag, EntityTag.forFile(inode: 0x20, size: 14, modificationNanoseconds: 1_700_000_000_123_456_789))
    }

    func testWeakFieldValue() {
        XCTAssertEqual(EntityTag(opaqueTag: "x", isWeak: true).fieldValue, "W/\"x\"")
    }

    func testParseOneTag() {
        XCTAssertEqual(EntityTag.parse("\"abc\""), EntityTag(opaqueTag: "abc"))
        XCTAssertEqual(EntityTag.parse("W/\"abc\""), EntityTag(opaqueTag: "abc", isWeak: true))
        XCTAssertEqual(EntityTag.parse("\"\""), EntityTag(opaqueTag: ""))
        for invalid in ["abc", "\"abc", "w/\"abc\"", "W\"abc\"", " \"abc\"", "\"a\"b", "\"a b\"", ""] {
            XCTAssertNil(EntityTag.parse(invalid), invalid)
        }
    }

    func testParseLists() {
        XCTAssertEqual(EntityTagList.parse("*"), .any)
        XCTAssertEqual(EntityTagList.parse(" * "), .any)
        XCTAssertEqual(
            EntityTagList.parse("\"a\", W/\"b\" ,\"c\""),
            .tags([EntityTag(opaqueTag: "a"), EntityTag(opaqueTag: "b", isWeak: true), EntityTag(opaqueTag: "c")]))
        XCTAssertEqual(
            EntityTagList.parse(", \"a\",,\t\"b\","), .tags([EntityTag(opaqueTag: "a"), EntityTag(opaqueTag: "b")]))
        for invalid in ["", " , ", "\"a\" \"b\"", "*, \"a\"", "\"a\", *", "a", "\"a\";"] {
            XCTAssertNil(EntityTagList.parse(invalid), invalid)
        }
    }

    // RFC 9110 §8.8.3.2, the table of examples.
    func testStrongAndWeakComparison() {
        let weak1 = EntityTag(opaqueTag: "1", isWeak: true)
        let weak2 = EntityTag(opaqueTag: "2", isWeak: true)
        let strong1 = EntityTag(opaqueTag: "1")
        XCTAssertFalse(weak1.matchesStrongly(weak1))
        XCTAssertTrue(weak1.matchesWeakly(weak1))
        XCTAssertFalse(weak1.matchesStrongly(weak2))
        XCTAssertFalse(weak1.matchesWeakly(weak2))
        XCTAssertFalse(weak1.matchesStrongly(strong1))
        XCTAssertTrue(weak1.matchesWeakly(strong1))
        XCTAssertTrue(strong1.matchesStrongly(strong1))
        XCTAssertTrue(strong1.matchesWeakly(strong1))
    }

    func testListContains() {
        let current = EntityTag(opaqueTag: "v1")
        XCTAssertTrue(EntityTagList.any.contains(current, strong: true))
        let list = EntityTagList.parse("\"v0\", W/\"v1\"")!
        XCTAssertTrue(list.contains(current, strong: false))
        XCTAssertFalse(list.contains(current, strong: true))
        XCTAssertTrue(EntityTagList.parse("\"v0\", \"v1\"")!.contains(current, strong: true))
    }
}
