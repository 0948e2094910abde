import XCTest

@testable import HTTPCore

/// A request head that arrives whole is scanned by a straight pass (`scanWholeRequestHead`) that
/// must end exactly as the octet machine (`scanOctets`) would: the same outcome and the same
/// recorded offsets, counts and Content-Length, for every input, valid or not. Checked over
/// hand-picked heads, the llhttp corpus, and many pseudo-random edits of usual heads, each under
/// the default limits and under limits that the head just meets or just exceeds.
final class HTTP1HeadScannerWholeTests: XCTestCase {
    static let heads: [String] = [
        "GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "POST /a?b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nX-A:  v  \r\nX-B:\r\n\r\nabc",
        "GET / HTTP/1.1\r\nHOST: a\r\nhost: b\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5, 5\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: \r\n\r\n",
        "PATCH /p HTTP/1.1\r\nx_y.z!~: \t a\u{80}b\t \r\n\r\n",
        "M-SEARCH * HTTP/1.1\r\nMan: \"ssdp:discover\"\r\n\r\n",
        "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
        "GET /x HTTP/1.2\r\nHost: a\r\n\r\n",
        "GET /x HTTP/2.0\r\n\r\n",
        "GET /x HTTP/1.1\r\n Host: x\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET /x HTTP/1.1\r\n: x\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: x\ry\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: x\n\r\n",
        "GET /x HTTP/1.1\r\nHost: x\u{7F}\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: x\r\r\n",
        "GET /x HTTP/1.1\r\n\r\r",
        "GET /x HTTP/1.1\n\r\n",
        "GET /x HTTP/1.1\rX",
        "GET /x\r\n\r\n",
        "GET  /x HTTP/1.1\r\n\r\n",
        "GET /x  HTTP/1.1\r\n\r\n",
        "G(T /x HTTP/1.1\r\n\r\n",
        " GET /x HTTP/1.1\r\n\r\n",
        "\r\nGET /x HTTP/1.1\r\n\r\n",
        "\nGET",
        "GET /\u{7F} HTTP/1.1\r\n\r\n",
        "GET /\u{E9} HTTP/1.1\r\n\r\n",
        "GET /x http/1.1\r\n\r\n",
        "GET /x HTTP/1.1 \r\n\r\n",
        "GET /x HTTP/1.1\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0)\r\nAccept: */*\r\n\r\n",
    ]

    /// Octets that matter to the grammar, for the edits.
    private static let interesting: [UInt8] = Array(" \t\r\n:,;\"\\/0123456789Hh-_AZaz".utf8) + [0, 0x7F, 0x80, 0xFF]

    private var mismatches = 0
    /// How many inputs the straight pass took whole (the rest it left to the octet machine).
    private var takenWhole = 0

    /// Scans `input` (after `offset` octets of something else) both ways under `limits`: when the
    /// straight pass takes it, it must have found what the octet machine finds.
    private func compare(
        _ input: [UInt8], _ limits: HTTP1Limits, offset: Int = 0, file: StaticString = #filePath, line: UInt = #line
    ) {
        var whole = HTTP1HeadScanner(kind: .request, allowsFolding: false)
        var octets = whole
        let (end, expected) = (Array(repeating: UInt8(ascii: "x"), count: offset) + input).withUnsafeBytes {
            (
                whole.scanWholeRequestHead($0, from: offset, limits: limits),
                octets.scanOctets($0, from: offset, limits: limits)
            )
        }
        guard let end else { return }
        takenWhole += 1
        // The line ends only the straight pass records: where pass 2's own search finds them.
        let block = Array(input[..<min(end, input.count)])
        var recorded: [[Int]] = []
        var found: [[Int]] = []
        block.withUnsafeBytes { bytes in
            var lines = HTTP1FieldLines(bytes, from: whole.fieldsStart)
            while let line = lines.next() {
                let colon = line.name.baseAddress! + line.name.count - bytes.baseAddress!
                found.append([colon, colon + 1 + line.rawValue.count])
            }
        }
        for index in 0..<whole.lineEnds.count {
            recorded.append([whole.lineEnds[index].colon, whole.lineEnds[index].cr])
        }
        if recorded != Array(found.prefix(HTTP1FieldLineEnds.capacity)) {
            mismatches += 1
            XCTFail("line ends \(recorded), expected \(found)", file: file, line: line)
        }
        whole.lineEnds = HTTP1FieldLineEnds()
        guard HTTP1HeadScanner.Outcome.complete(end: end) != expected || whole != octets else { return }
        mismatches += 1
        if mismatches <= 5 {
            XCTFail(
                "\(String(decoding: input, as: UTF8.self).debugDescription) under \(limits): \(end) \(whole), "
                    + "expected \(expected) \(octets)", file: file, line: line)
        }
    }

    /// `input` under the default limits, and under limits that its start line, its head or its
    /// field count just meets or just misses.
    private func compareUnderLimits(_ input: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        compare(input, HTTP1Limits(), file: file, line: line)
        compare(input, HTTP1Limits(), offset: 3, file: file, line: line)
        let lineLength = (input.firstIndex(of: HTTP1Syntax.cr) ?? input.count)
        var headLength = input.count
        if let end = input.indices.first(where: { input[$0...].starts(with: [13, 10, 13, 10]) }) {
            headLength = end + 4
        }
        let fields = input[..<headLength].filter { $0 == HTTP1Syntax.lf }.count - 2
        for delta in [-1, 0] {
            compare(input, HTTP1Limits(maxStartLineLength: lineLength + delta), file: file, line: line)
            compare(input, HTTP1Limits(maxHeaderBlockSize: headLength + delta), file: file, line: line)
            compare(input, HTTP1Limits(maxFieldCount: max(fields, 0) + delta), file: file, line: line)
        }
        // Every prefix: the head not yet whole.
        for end in stride(from: 0, to: input.count, by: max(1, input.count / 7)) {
            compare(Array(input[..<end]), HTTP1Limits(), file: file, line: line)
        }
    }

    func testTheUsualHeadIsTakenWhole() {
        var scanner = HTTP1HeadScanner(kind: .request, allowsFolding: false)
        let end = Array(Self.heads[0].utf8).withUnsafeBytes {
            scanner.scanWholeRequestHead($0, from: 0, limits: HTTP1Limits())
        }
        XCTAssertEqual(end, Self.heads[0].utf8.count)
    }

    func testHandPickedHeads() {
        for head in Self.heads { compareUnderLimits(Array(head.utf8)) }
        XCTAssertEqual(mismatches, 0)
        XCTAssertGreaterThan(takenWhole, 30)
    }

    func testLLHTTPCorpusRequests() throws {
        let cases = try LLHTTPCorpus.loadAll().filter(\.isRequest)
        XCTAssertGreaterThan(cases.count, 100)
        for test in cases { compareUnderLimits(test.input) }
        XCTAssertEqual(mismatches, 0)
        XCTAssertGreaterThan(takenWhole, 100)
    }

    func testTokenScanToADelimiterAgreesWithTheTokenScan() {
        var random = XorShiftGenerator(seed: 0x2545_F491_4F6C_DD1D)
        for _ in 0..<20_000 {
            let count = random.below(30)
            let bytes = (0..<count).map { _ in
                random.below(4) == 0
                    ? Self.interesting[random.below(Self.interesting.count)]
                    : UInt8(ascii: "a") + UInt8(random.below(26))
            }
            let from = random.below(count + 1)
            let to = from + random.below(count - from + 1)
            for delimiter in [HTTP1Syntax.sp, HTTP1Syntax.colon] {
                let (got, expected) = bytes.withUnsafeBytes {
                    (
                        HTTP1Syntax.skipTokenChars($0, from: from, to: to, endingAt: delimiter),
                        HTTP1Syntax.skipTokenChars($0, from: from, to: to)
                    )
                }
                if got != expected { mismatches += 1 }
            }
        }
        XCTAssertEqual(mismatches, 0)
    }

    func testRandomEditsOfUsualHeads() {
        var random = XorShiftGenerator(seed: 0x2545_F491_4F6C_DD1D)
        let bases =
            Self.heads.prefix(3).map { Array($0.utf8) } + [
                Array(
                    ("GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0 (X11)\r\n"
                        + "Accept-Encoding: gzip, deflate, br\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\n")
                        .utf8)
            ]
        for _ in 0..<20_000 {
            var bytes = bases[random.below(bases.count)]
            for _ in 0...random.below(3) {
                let at = random.below(bytes.count + 1)
                let byte = Self.interesting[random.below(Self.interesting.count)]
                switch random.below(3) {
                case 0 where at < bytes.count: bytes[at] = byte
                case 1 where at < bytes.count: bytes.remove(at: at)
                default: bytes.insert(byte, at: at)
                }
            }
            compare(bytes, HTTP1Limits())
            compare(bytes, HTTP1Limits(maxStartLineLength: 20, maxHeaderBlockSize: 60, maxFieldCount: 2))
        }
        XCTAssertEqual(mismatches, 0)
        XCTAssertGreaterThan(takenWhole, 5_000)
    }
}
