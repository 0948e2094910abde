import Glibc
import Stepwise
import XCTest

final class RequestBodyTests: XCTestCase {
    private let mebibyte = 1_048_576
    private var temporaryPaths: [String] = []

    override func tearDown() {
        for path in temporaryPaths { unlink(path) }
        temporaryPaths = []
        super.tearDown()
    }

    /// A new file of `size` bytes (sparse: written by `ftruncate`).
    private func temporaryFile(size: Int) throws -> String {
        var template = Array("/tmp/stepwise-body-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw RequestError.bodyFileUnreadable(path: "/tmp", errno: errno) }
        defer { close(fd) }
        XCTAssertEqual(ftruncate(fd, off_t(size)), 0)
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        temporaryPaths.append(path)
        return path
    }

    func testExpectRuleIsOneMebibyteOrUnknown() {
        XCTAssertEqual(Request.expectContinueThreshold, mebibyte)
        XCTAssertTrue(Request.shouldExpectContinue(bodyLength: nil))
        XCTAssertFalse(Request.shouldExpectContinue(bodyLength: 0))
        // lua-http would ask above 1024 bytes; curl's rule does not.
        XCTAssertFalse(Request.shouldExpectContinue(bodyLength: 1025))
        XCTAssertFalse(Request.shouldExpectContinue(bodyLength: mebibyte - 1))
        XCTAssertTrue(Request.shouldExpectContinue(bodyLength: mebibyte))
        XCTAssertTrue(Request.shouldExpectContinue(bodyLength: mebibyte + 1))
    }

    func testStringBodySetsContentLength() throws {
        let request = try Request(uri: "http://h/")
        request.setBody("héllo")
        guard case .bytes(let bytes) = request.body else { return XCTFail("expected bytes") }
        XCTAssertEqual(bytes, Array("héllo".utf8))
        XCTAssertEqual(request.headers.values(for: "content-length"), ["6"])
        XCTAssertFalse(request.headers.has("expect"))
        XCTAssertFalse(request.expectsContinue)
        request.setBody("")
        XCTAssertEqual(request.headers.values(for: "content-length"), ["0"])
    }

    func testByteBodiesAtTheExpectBoundary() throws {
        let request = try Request(uri: "http://h/")
        request.setBody(bytes: [UInt8](repeating: 7, count: mebibyte - 1))
        XCTAssertEqual(request.headers.values(for: "content-length"), ["1048575"])
        XCTAssertFalse(request.headers.has("expect"))
        XCTAssertFalse(request.expectsContinue)

        request.setBody(bytes: [UInt8](repeating: 7, count: mebibyte))
        XCTAssertEqual(request.headers.values(for: "content-length"), ["1048576"])
        XCTAssertEqual(request.headers.values(for: "expect"), ["100-continue"])
        XCTAssertTrue(request.expectsContinue)

        // Setting a large body again does not repeat the field; a small one removes it.
        request.setBody(bytes: [UInt8](repeating: 7, count: mebibyte + 5))
        XCTAssertEqual(request.headers.values(for: "expect"), ["100-continue"])
        request.setBody(bytes: [1, 2, 3])
        XCTAssertFalse(request.headers.has("expect"))
        XCTAssertEqual(request.headers.values(for: "content-length"), ["3"])
    }

    func testProducerBodyHasUnknownLength() throws {
        let request = try Request(uri: "http://h/")
        request.setBody("12345")
        request.setBody(producer: { nil })
        XCTAssertFalse(request.headers.has("content-length"))
        XCTAssertEqual(request.headers.values(for: "expect"), ["100-continue"])
        XCTAssertTrue(request.expectsContinue)
        guard case .stream(let producer) = request.body else { return XCTFail("expected a stream") }
        XCTAssertNil(try producer())
    }

    func testFileBodyUsesTheFileSize() throws {
        let request = try Request(uri: "http://h/")
        let small = try temporaryFile(size: 1234)
        try request.setBody(filePath: small)
        guard case .file(let path) = request.body else { return XCTFail("expected a file") }
        XCTAssertEqual(path, small)
        XCTAssertEqual(request.headers.values(for: "content-length"), ["1234"])
        XCTAssertFalse(request.expectsContinue)

        try request.setBody(filePath: try temporaryFile(size: mebibyte - 1))
        XCTAssertFalse(request.expectsContinue)
        try request.setBody(filePath: try temporaryFile(size: mebibyte))
        XCTAssertEqual(request.headers.values(for: "content-length"), ["1048576"])
        XCTAssertTrue(request.expectsContinue)
    }

    func testFilesWithoutASizeHaveUnknownLength() throws {
        let fifo = "/tmp/stepwise-body-fifo-\(getpid())"
        unlink(fifo)
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        temporaryPaths.append(fifo)
        let request = try Request(uri: "http://h/")
        request.setBody("x")
        // A FIFO without a writer must not block here.
        try request.setBody(filePath: fifo)
        XCTAssertFalse(request.headers.has("content-length"))
        XCTAssertTrue(request.expectsContinue)
        try request.setBody(filePath: "/dev/null")
        XCTAssertFalse(request.headers.has("content-length"))
    }

    func testUnreadableFilesThrow() throws {
        let request = try Request(uri: "http://h/")
        request.setBody("kept")
        assertThrows(
            try request.setBody(filePath: "/nonexistent/stepwise"),
            .bodyFileUnreadable(path: "/nonexistent/stepwise", errno: ENOENT))
        assertThrows(try request.setBody(filePath: "/tmp"), .bodyFileUnreadable(path: "/tmp", errno: EISDIR))
        // A failed setBody leaves the previous body alone.
        guard case .bytes(let bytes) = request.body else { return XCTFail("body replaced") }
        XCTAssertEqual(bytes, Array("kept".utf8))
        XCTAssertEqual(request.headers.first("content-length"), "4")
    }

    func testExpectsContinueNeedsABody() throws {
        let request = try Request(uri: "http://h/")
        request.headers.append("expect", "100-Continue")
        XCTAssertFalse(request.expectsContinue)
        request.setBody(producer: { nil })
        request.headers.delete("expect")
        XCTAssertFalse(request.expectsContinue)
        request.headers.append("expect", "100-CONTINUE")
        XCTAssertTrue(request.expectsContinue)
    }

    /// The `100-continue` element among others in the `expect` list is the expectation, as the
    /// codec and servers read it (RFC 9110 §10.1.1: `Expect = #expectation`); only the exact
    /// value was, so such a request went without the wait its head announced.
    func testExpectsContinueFindsTheElementInAList() throws {
        let request = try Request(uri: "http://h/")
        request.setBody(producer: { nil })
        for value in ["100-continue, x-other", "x-other,100-Continue", " 100-continue "] {
            request.headers.delete("expect")
            request.headers.append("expect", value)
            XCTAssertTrue(request.expectsContinue, value)
        }
        request.headers.delete("expect")
        request.headers.append("expect", "x-other")
        request.headers.append("expect", "100-continue")
        XCTAssertTrue(request.expectsContinue, "in a second field")
        request.headers.delete("expect")
        request.headers.append("expect", "x-100-continue, 100-continuex")
        XCTAssertFalse(request.expectsContinue)
    }

    /// `setBody` adds or drops the `100-continue` element by the body's size, and leaves the
    /// caller's other expectations (it deleted every `expect` field).
    func testSetBodyKeepsOtherExpectations() throws {
        let request = try Request(uri: "http://h/")
        request.headers.append("expect", "x-checked")
        request.setBody(bytes: [UInt8](repeating: 0, count: mebibyte))
        XCTAssertEqual(request.headers.values(for: "expect"), ["x-checked", "100-continue"])
        request.setBody("small")
        XCTAssertEqual(request.headers.values(for: "expect"), ["x-checked"])
        request.headers.delete("expect")
        request.headers.append("expect", "100-Continue;a=b, x-checked")
        request.setBody("small")
        XCTAssertEqual(request.headers.values(for: "expect"), ["x-checked"])
    }

    func testRemoveBodyRemovesTheFieldsThatDescribeIt() throws {
        let request = try Request(uri: "http://h/")
        request.headers.append("content-type", "text/plain")
        request.headers.append("content-encoding", "gzip")
        request.headers.append("content-language", "en")
        request.headers.append("content-location", "/x")
        request.headers.append("transfer-encoding", "chunked")
        request.headers.append("accept", "*/*")
        request.setBody(bytes: [UInt8](repeating: 0, count: mebibyte))
        request.removeBody()
        XCTAssertNil(request.body)
        XCTAssertEqual(
            lines(request.headers),
            [":method: GET", ":scheme: http", ":authority: h", ":path: /", "user-agent: stepwise/0.1.0", "accept: */*"])
    }
}
