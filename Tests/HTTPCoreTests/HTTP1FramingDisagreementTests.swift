import XCTest

@testable import HTTPCore

/// Requests on which h11 (strict RFC 9112) and llhttp (through httptools) disagree with each other
/// or with us, found by the differential check of `Tests/tools/h1diff.py`. Each is followed by a
/// second request, so the test pins where the first message ends (the place a smuggled request
/// would start), not only whether it is accepted. Every input is also parsed octet by octet and cut
/// in two at every offset: the transcript must not depend on how the input arrives.
final class HTTP1FramingDisagreementTests: XCTestCase {
    static let next = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"

    /// "METHOD target [body] @end" per message, then how the input ended ("error" with the error).
    static func transcript(pieces: [[UInt8]]) -> (String, HTTP1ParseError?) {
        var parser = HTTP1Parser(role: .server)
        let messageEnds = OffsetRecorder()
        let events = drive(&parser, pieces: pieces, stopAtProtocolSwitch: true, messageEnds: messageEnds)
        var parts: [String] = []
        var current = ""
        var body: [UInt8] = []
        var switches = false
        for event in events {
            switch event {
            case .head(let head):
                current = "\(head.method ?? "?") \(head.path ?? head.authority ?? "?")"
                switches = head.requestsProtocolSwitch
                body = []
            case .body(let bytes):
                body += bytes
            case .trailers(let trailers):
                current += " trailers(\(trailers.fields.map { "\($0.name): \($0.value)" }.joined(separator: ", ")))"
            case .end:
                let text = body.isEmpty ? "" : " [\(String(decoding: body, as: UTF8.self))]"
                parts.append("\(current)\(text) @\(messageEnds.offsets[parts.count])")
                if switches { return ((parts + ["switch requested"]).joined(separator: " | "), nil) }
            case .switched:
                return ((parts + ["switched"]).joined(separator: " | "), nil)
            case .error(let error):
                return ((parts + ["error"]).joined(separator: " | "), error)
            }
        }
        return ((parts + [parser.isIdle ? "idle" : "incomplete"]).joined(separator: " | "), nil)
    }

    func check(
        _ request: String, _ expected: String, error: HTTP1ParseError? = nil, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        let input = Array((request + Self.next).utf8)
        let whole = Self.transcript(pieces: [input])
        XCTAssertEqual(whole.0, expected, file: file, line: line)
        XCTAssertEqual(whole.1, error, file: file, line: line)
        let octets = Self.transcript(pieces: input.map { [$0] })
        XCTAssertTrue(octets == whole, "octet by octet: \(octets)", file: file, line: line)
        for cut in 1..<input.count {
            let split = Self.transcript(pieces: [Array(input[..<cut]), Array(input[cut...])])
            if split != whole {
                XCTFail("cut at \(cut): \(split)", file: file, line: line)
                return
            }
        }
    }

    // MARK: - Accepted by us, rejected by h11 and llhttp (both framings agree where they accept)

    /// RFC 9110 §5.6.1: "a recipient MUST parse and ignore a reasonable number of empty list
    /// elements". h11 ("Only Transfer-Encoding: chunked is supported") and llhttp ("Invalid
    /// `Transfer-Encoding` header value") reject; we frame it as chunked.
    func testEmptyTransferCodingListElementsAreIgnored() {
        let chunked = "5\r\nhello\r\n0\r\n\r\n"
        check(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n" + chunked,
            "POST / [hello] @72 | GET /next @103 | idle")
        check(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , , chunked , \r\n\r\n" + chunked,
            "POST / [hello] @78 | GET /next @109 | idle")
    }

    /// RFC 9110 §8.6: the same decimal value repeated MAY be accepted as that value. h11 compares
    /// the raw values and llhttp rejects any second Content-Length; we compare numbers.
    func testRepeatedContentLengthsOfTheSameValueFrameAsThatValue() {
        check(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 05\r\n\r\nhello",
            "POST / [hello] @72 | GET /next @103 | idle")
        check(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
            "error", error: .conflictingContentLengths("5", "6"))
    }

    /// `chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )` (RFC 9112
    /// §7.1.1): whitespace is allowed before ";", not after the size alone. h11 and llhttp reject
    /// the first.
    func testWhitespaceBeforeAChunkExtensionOnly() {
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        check(head + "5 ;ext\r\nhello\r\n0\r\n\r\n", "POST / [hello] @76 | GET /next @107 | idle")
        check(head + "5 \r\nhello\r\n0\r\n\r\n", "error", error: .invalidChunkSize)
    }

    // MARK: - The peers frame differently

    /// RFC 9110 §9.3.6: "A CONNECT request message does not have content." llhttp agrees; h11 reads
    /// 5 octets of body before the tunnel. Either way nothing after the head is a request: a refused
    /// CONNECT closes the connection (`H1OutboundMessage`).
    func testConnectContentLengthIsNotABody() {
        check(
            "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 5\r\n\r\nhello",
            "CONNECT a:443 @58 | switch requested")
    }

    /// The body of an Upgrade request is read before the switch (h11 and llhttp itself agree;
    /// httptools alone tells llhttp to skip it).
    func testUpgradeRequestBodyComesBeforeTheSwitch() {
        check(
            "POST / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: ws\r\nContent-Length: 5\r\n\r\nhello",
            "POST / [hello] @86 | switch requested")
    }

    /// A quoted chunk-ext-val holds no CR or LF (`qdtext`, RFC 9110 §5.6.4). h11 ends the chunk
    /// line at the first CRLF, inside the quotes, and frames the chunk differently from llhttp:
    /// rejecting is the only safe answer.
    func testLineBreaksInQuotedChunkExtensionsAreRejected() {
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        check(head + "5;ext=\"a\r\nb\"\r\nhello\r\n0\r\n\r\n", "error", error: .invalidChunkExtension)
        check(head + "5;ext=\"a\\\r\nb\"\r\nhello\r\n0\r\n\r\n", "error", error: .invalidChunkExtension)
        check(head + "5;ext=\"a;b\\\"c\"\r\nhello\r\n0\r\n\r\n", "POST / [hello] @84 | GET /next @115 | idle")
    }

    /// h11 unfolds a whitespace-led line into the previous field, so for it this request has no
    /// Transfer-Encoding and the chunked body is the next "request"; llhttp rejects. So do we
    /// (RFC 9112 §5.2).
    func testAFoldedTransferEncodingLineIsRejected() {
        check(
            "POST / HTTP/1.1\r\nHost: a\r\nFoo: bar\r\n Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "error", error: .obsoleteLineFolding)
    }

    /// h11 takes a bare LF as a line end (RFC 9112 §2.2 MAY), so it sees a Content-Length that
    /// llhttp does not: the second request would be a body for one and a request for the other.
    func testABareLFThatHidesAContentLengthIsRejected() {
        check(
            "GET / HTTP/1.1\r\nHost: a\r\nDummy: x\nContent-Length: 31\r\n\r\n", "error", error: .bareLF)
    }

    /// h11 lets Transfer-Encoding override Content-Length (RFC 9112 §6.3 item 3); llhttp rejects,
    /// and so do we ("ought to be handled as an error").
    func testContentLengthWithTransferEncodingIsRejected() {
        check(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "error", error: .contentLengthWithTransferEncoding)
    }

    /// RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing. Both peers
    /// read it as chunked.
    func testTransferEncodingInHTTP10IsRejected() {
        check(
            "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "error", error: .transferEncodingInHTTP10)
    }

    /// Framing fields in a trailer section change nothing (RFC 9110 §6.5.1: they "cannot be processed
    /// outside the header section"); they are delivered as trailers. llhttp rejects them.
    func testFramingFieldsInTrailersDoNotReframe() {
        check(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / trailers(content-length: 9, transfer-encoding: chunked) [hello] @118 | GET /next @149 | idle")
    }
}
