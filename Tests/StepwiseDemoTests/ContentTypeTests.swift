import StepwiseDemo
import XCTest

final class ContentTypeTests: XCTestCase {
    func testEveryExtensionInTheTable() {
        let expected: [String: String] = [
            "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8",
            "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8",
            "mjs": "text/javascript; charset=utf-8", "json": "application/json",
            "txt": "text/plain; charset=utf-8", "md": "text/markdown; charset=utf-8",
            "xml": "application/xml; charset=utf-8", "svg": "image/svg+xml; charset=utf-8",
            "csv": "text/csv; charset=utf-8", "yaml": "application/yaml",
            "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
            "webp": "image/webp", "ico": "image/vnd.microsoft.icon", "wasm": "application/wasm",
            "pdf": "application/pdf", "zip": "application/zip", "gz": "application/gzip",
            "tar": "application/x-tar", "mp4": "video/mp4", "webm": "video/webm", "mp3": "audio/mpeg",
            "wav": "audio/wav", "ogg": "audio/ogg", "woff": "font/woff", "woff2": "font/woff2",
            "ttf": "font/ttf", "otf": "font/otf",
        ]
        XCTAssertEqual(expected.count, 32)
        for (fileExtension, mediaType) in expected {
            XCTAssertEqual(ContentType.forExtension(fileExtension), mediaType, fileExtension)
        }
    }

    func testExtensionIsCaseInsensitive() {
        XCTAssertEqual(ContentType.forExtension("PNG"), "image/png")
        XCTAssertEqual(ContentType.forPath("/Index.HtMl"), "text/html; charset=utf-8")
    }

    func testUnknownExtensionIsOctetStream() {
        XCTAssertEqual(ContentType.fallback, "application/octet-stream")
        XCTAssertEqual(ContentType.forExtension("exe"), "application/octet-stream")
        XCTAssertEqual(ContentType.forExtension(""), "application/octet-stream")
    }

    func testExtensionIsTakenFromTheLastSegmentAfterTheLastDot() {
        XCTAssertEqual(ContentType.forPath("archive.tar.gz"), "application/gzip")
        XCTAssertEqual(ContentType.forPath("/a/b/c.css"), "text/css; charset=utf-8")
        XCTAssertEqual(ContentType.forPath("/dir.html/README"), "application/octet-stream")
        XCTAssertEqual(ContentType.forPath("/home/.css"), "application/octet-stream")  // a dot file
        XCTAssertEqual(ContentType.forPath("name."), "application/octet-stream")
        XCTAssertEqual(ContentType.forPath("hello wörld.txt"), "text/plain; charset=utf-8")
    }
}
