import XCTest

@testable import HTTPCore

/// Runs the llhttp corpus (strict mode) through `HTTP1Parser`, whole and octet by octet.
final class HTTP1ConformanceTests: XCTestCase {
    /// One message of a transcript, in a shape both llhttp's log and our events map to.
    struct Message: Equatable, CustomStringConvertible {
        var startLine: String
        var headers: [String]
        var body: [UInt8] = []
        var trailers: [String] = []
        var complete = false

        var description: String {
            var text = "\(startLine) \(headers)"
            if !body.isEmpty { text += " body=\(String(decoding: body, as: UTF8.self).debugDescription)" }
            if !trailers.isEmpty { text += " trailers=\(trailers)" }
            return text + (complete ? " complete" : " incomplete")
        }
    }

    enum Ending: Equatable, CustomStringConvertible {
        /// The input ran out (more may come).
        case open
        case error
        case switched
        var description: String {
            switch self {
            case .open: return "open"
            case .error: return "error"
            case .switched: return "switched"
            }
        }
    }

    struct Transcript: Equatable, CustomStringConvertible {
        var messages: [Message] = []
        var ending: Ending = .open
        var description: String { messages.map(\.description).joined(separator: "; ") + " → \(ending)" }
    }

    // MARK: - llhttp → transcript

    static func expectedTranscript(_ testCase: LLHTTPCase) -> Transcript {
        var transcript = Transcript()
        let isRequest = testCase.isRequest
        for message in testCase.expected.messages where message.headComplete {
            var headers: [String] = []
            var hosts: [String] = []
            for field in message.headers {
                if isRequest && field.name == "host" {
                    hosts.append(field.value)
                } else {
                    headers.append("\(field.name): \(field.value)")
                }
            }
            let startLine: String
            if isRequest {
                let isConnect = message.method == "CONNECT"
                // RFC 9112 §3.2.2: the authority of an absolute-form target, not Host, is the
                // request's (llhttp reports the URL as it is).
                let authority = isConnect ? message.url : absoluteFormAuthority(message.url) ?? hosts.first
                startLine =
                    "\(message.method) \(isConnect ? "" : message.url) HTTP/\(message.version) @\(authority ?? "-")"
            } else {
                startLine = "HTTP/\(message.version) \(message.status ?? 0) \(message.reason)"
            }
            transcript.messages.append(
                Message(
                    startLine: startLine, headers: headers, body: message.body,
                    trailers: message.trailers.map { "\($0.name): \($0.value)" }, complete: message.complete))
        }
        if let error = testCase.expected.error {
            if error.code == 22 {
                // "Pause on CONNECT/Upgrade". Requests: the driver stops after the message, as a server
                // deciding on the switch would. Responses: the parser reports the switch after the head.
                if !isRequest, !transcript.messages.isEmpty {
                    transcript.messages[transcript.messages.count - 1].complete = false
                    transcript.ending = .switched
                }
            } else {
                // llhttp runs its Transfer-Encoding checks (code 15) after its `headers complete`
                // callback; we reject the head itself, so that head is not part of the comparison.
                if error.code == 15, let last = transcript.messages.last, !last.complete, last.body.isEmpty {
                    transcript.messages.removeLast()
                }
                transcript.ending = .error
            }
        }
        switch testCase.expected.finish {
        case 1?:
            if !transcript.messages.isEmpty {
                transcript.messages[transcript.messages.count - 1].complete = true
            }
        case 2?:
            transcript.ending = .error
        default: break
        }
        return transcript
    }

    /// The authority of an `http` or `https` absolute-form target; nil for any other.
    static func absoluteFormAuthority(_ url: String) -> String? {
        let lowered = url.lowercased()
        guard let scheme = ["http://", "https://"].first(where: { lowered.hasPrefix($0) }) else { return nil }
        return String(url.dropFirst(scheme.count).prefix { $0 != "/" && $0 != "?" && $0 != "#" })
    }

    static func transcript(of events: [HTTP1TestEvent]) -> Transcript {
        var transcript = Transcript()
        for event in events {
            switch event {
            case .head(let head):
                var headers: [String] = []
                for field in head.headers.fields where !field.name.hasPrefix(":") {
                    headers.append("\(field.name): \(field.value)")
                }
                let startLine: String
                if let status = head.status {
                    startLine = "\(head.version) \(status) \(head.reasonPhrase)"
                } else {
                    let path = head.path ?? ""
                    startLine = "\(head.method ?? "?") \(path) \(head.version) @\(head.authority ?? "-")"
                }
                // llhttp reports an interim (1xx) response as a complete message of its own.
                let interim = (head.status ?? 200) < 200 && head.status != 101
                transcript.messages.append(
                    Message(startLine: startLine, headers: headers, complete: interim))
            case .body(let bytes):
                transcript.messages[transcript.messages.count - 1].body += bytes
            case .trailers(let trailers):
                transcript.messages[transcript.messages.count - 1].trailers = trailers.pairs
            case .end:
                transcript.messages[transcript.messages.count - 1].complete = true
            case .switched:
                transcript.ending = .switched
            case .error:
                transcript.ending = .error
            }
        }
        return transcript
    }

    // MARK: - Deliberate differences

    /// What we do instead of what llhttp does, for a strict case where we differ on purpose.
    enum Divergence {
        /// We parse the message (llhttp rejects it).
        case accepted(method: String)
        /// Our events end with this error.
        case rejected(HTTP1ParseError)
    }

    /// Strict llhttp cases where Stepwise differs on purpose, keyed by "file|case name".
    static let divergences: [String: (reason: String, outcome: Divergence)] = [
        "request/invalid.md|HTTP protocol and ANNOUNCE method": (
            "any token is a method (RFC 9110 §9.1); llhttp's method table knows ANNOUNCE only for RTSP. "
                + "Answering unknown methods (501) is the application's business",
            .accepted(method: "ANNOUNCE")
        ),
        "request/uri.md|`host:port` and basic auth": (
            "userinfo in an http URI: RFC 9110 §4.2.4, a recipient \"SHOULD parse for userinfo and treat its "
                + "presence as an error\"; and the target's authority is the request's (RFC 9112 §3.2.2)",
            .rejected(.invalidRequestTarget("http://a%12:b!&*$@hypnotoad.org:1234/toto"))
        ),
        "request/invalid.md|Invalid method": (
            "MKCOLA is a token, hence a syntactically valid method (RFC 9110 §9.1)",
            .accepted(method: "MKCOLA")
        ),
        "request/method.md|SOURCE request with ICE": (
            "only HTTP/1.x is spoken; llhttp also accepts the ICE/ and RTSP/ protocol names",
            .rejected(.invalidVersion("I"))
        ),
        "request/method.md|OPTIONS request with RTSP": (
            "only HTTP/1.x is spoken (RTSP/1.0 is not HTTP)", .rejected(.invalidVersion("R"))
        ),
        "request/method.md|ANNOUNCE request with RTSP": (
            "only HTTP/1.x is spoken (RTSP/1.0 is not HTTP)", .rejected(.invalidVersion("R"))
        ),
        "request/method.md|PRI request HTTP2": (
            "`PRI * HTTP/1.1` is an ordinary HTTP/1.1 request; only `PRI * HTTP/2.0` is the HTTP/2 preface (which the "
                + "connection layer sniffs first, and the parser answers with 505). The bytes after it (`SM`) are then "
                + "an invalid request line", .rejected(.invalidMethod("SM\\x0D"))
        ),
        "request/sample.md|No HTTP version": (
            "HTTP/0.9 simple requests (`GET /` without a version) are not HTTP/1.x (RFC 9112 §3); lua-http rejects them too",
            .rejected(.invalidVersion(""))
        ),
        "response/sample.md|RTSP response": (
            "only HTTP/1.x is spoken", .rejected(.invalidVersion("R"))
        ),
        "response/sample.md|ICE response": ("only HTTP/1.x is spoken", .rejected(.invalidVersion("I"))),
        "response/sample.md|No reason phrase": (
            "RFC 9112 §4: `status-line = HTTP-version SP status-code SP [ reason-phrase ]` requires the SP after the "
                + "code; lua-http's spec rejects `HTTP/1.1 200` too (study §4.1 item 2)",
            .rejected(.invalidStatusLine("no SP after the status code"))
        ),
        "response/sample.md|HTTP version 0.9": (
            "a major version other than 1 is not supported (RFC 9110 §2.5, 505 class)",
            .rejected(.unsupportedVersion(major: 0, minor: 9))
        ),
    ]

    /// Strict cases that cannot be expressed, with the reason.
    static let inexpressible: [String: String] = [
        "request/content-length.md|Content-Length reset when no body is received":
            "`skipBody`: llhttp's on_headers_complete returns 1 to skip a body. HTTP has no such notion for requests "
            + "(only a response to HEAD skips its body; the response variant of this case runs as one)"
    ]

    /// Why each lenient llhttp flag is not supported.
    static let lenientReasons: [String: String] = [
        "headers":
            "invalid field-value octets, whitespace before the colon and obs-fold in requests are rejected (RFC 9110 §5.5, RFC 9112 §5.1, §5.2)",
        "header-value-relaxed":
            "CTLs in field values are rejected (RFC 9110 §5.5: the codec cannot know the context is safe)",
        "chunked-length":
            "Content-Length with Transfer-Encoding is a smuggling vector, rejected (RFC 9112 §6.3 item 3)",
        "keep-alive":
            "no request is processed after `Connection: close` / HTTP/1.0 close (RFC 9112 §9.6)",
        "data-after-close": "data after a closing message is an error (RFC 9112 §9.6)",
        "transfer-encoding":
            "a request whose final coding is not chunked is rejected (RFC 9112 §6.3 item 4)",
        "version": "a major version other than 1 is rejected with 505 (RFC 9110 §15.6.6)",
        "optional-lf-after-cr": "a bare CR is invalid (RFC 9112 §2.2)",
        "optional-cr-before-lf":
            "a bare LF is not a line terminator (our RFC 9112 §2.2 choice: anti-smuggling)",
        "optional-crlf-after-chunk": "chunk data must be followed by CRLF (RFC 9112 §7.1)",
        "spaces-after-chunk-size":
            "whitespace after a chunk size is only allowed before a chunk extension (RFC 9112 §7.1.1)",
        "all": "all of the lenient flags above",
    ]

    // MARK: - The test

    func testLLHTTPCorpus() throws {
        let cases = try LLHTTPCorpus.loadAll()
        XCTAssertGreaterThan(cases.count, 240, "the corpus looks incomplete")
        var compared = 0
        var comparedWithHost = 0
        var divergent: [String] = []
        var excluded: [String] = []
        var lenient: [String: [String]] = [:]
        var usedKeys = Set<String>()

        for testCase in cases {
            let key = "\(testCase.file)|\(testCase.name)"
            if let flag = testCase.lenientFlag {
                XCTAssertNotNil(
                    Self.lenientReasons[flag], "\(testCase.id): lenient flag \(flag) has no recorded reason")
                lenient[flag, default: []].append(testCase.id)
                // Not compared with llhttp, but still parsed both ways: strict parsing must reject what
                // needs leniency, identically whole and octet by octet.
                let role: HTTP1Role = testCase.isRequest ? .server : .client
                var whole = HTTP1Parser(role: role, requireHost: false)
                var trickled = HTTP1Parser(role: role, requireHost: false)
                let events = drive(&whole, testCase.input, endInput: true, stopAtProtocolSwitch: true)
                XCTAssertEqual(
                    events,
                    drive(&trickled, testCase.input, pieceSize: 1, endInput: true, stopAtProtocolSwitch: true)
                )
                XCTAssertNotNil(
                    finalError(events), "\(testCase.id) needs lenient-\(flag) and must be rejected: \(events)"
                )
                continue
            }
            if let reason = Self.inexpressible[key] {
                usedKeys.insert(key)
                excluded.append("\(testCase.id): \(reason)")
                continue
            }
            let role: HTTP1Role = testCase.isRequest ? .server : .client
            let configure = { (parser: inout HTTP1Parser) in
                if testCase.meta["skipBody"] as? Bool == true {
                    // llhttp skips every body; responses to HEAD are the HTTP equivalent.
                    for _ in testCase.expected.messages { parser.expectResponse(toMethod: "HEAD") }
                }
            }

            // Pass A: Host not required (llhttp does not require it), whole and octet by octet.
            var whole = HTTP1Parser(role: role, requireHost: false)
            var trickled = HTTP1Parser(role: role, requireHost: false)
            configure(&whole)
            configure(&trickled)
            let headEnds = OffsetRecorder()
            let events = drive(
                &whole, testCase.input, endInput: testCase.isFinish, stopAtProtocolSwitch: true,
                headEnds: headEnds)
            let trickledEvents = drive(
                &trickled, testCase.input, pieceSize: 1, endInput: testCase.isFinish,
                stopAtProtocolSwitch: true)
            XCTAssertEqual(events, trickledEvents, "\(testCase.id): whole vs. octet by octet")
            let actual = Self.transcript(of: events)

            if let divergence = Self.divergences[key] {
                usedKeys.insert(key)
                divergent.append("\(testCase.id): \(divergence.reason)")
                switch divergence.outcome {
                case .accepted(let method):
                    XCTAssertEqual(actual.ending, .open, "\(testCase.id): \(events)")
                    XCTAssertEqual(actual.messages.last?.complete, true, "\(testCase.id): \(events)")
                    XCTAssert(
                        events.contains {
                            if case .head(let head) = $0 { return head.method == method } else { return false }
                        })
                case .rejected(let error):
                    XCTAssertEqual(finalError(events), error, "\(testCase.id): \(events)")
                }
                continue
            }

            let expected = Self.expectedTranscript(testCase)
            XCTAssertEqual(actual, expected, "\(testCase.id) [\(testCase.type)]\n  events: \(events)")
            if actual == expected {
                // The decoding of the corpus matches llhttp's: every head ends where llhttp said.
                let expectedEnds = testCase.expected.messages.filter(\.headComplete).map(\.headEnd)
                XCTAssertEqual(
                    headEnds.offsets, Array(expectedEnds.prefix(headEnds.offsets.count)),
                    "\(testCase.id): head ends")
            }
            compared += 1

            // Pass B: with the default `requireHost`, the first HTTP/1.1 request without Host is a 400.
            if testCase.isRequest {
                var strict = HTTP1Parser(role: .server)
                let strictEvents = drive(
                    &strict, testCase.input, endInput: testCase.isFinish, stopAtProtocolSwitch: true)
                var expectedStrict = expected
                let heads = testCase.expected.messages.filter(\.headComplete)
                if let missing = heads.firstIndex(where: {
                    $0.version == "1.1" && !$0.headers.contains { $0.name == "host" }
                }) {
                    expectedStrict.messages = Array(expected.messages.prefix(missing))
                    expectedStrict.ending = .error
                    XCTAssertEqual(finalError(strictEvents), .missingHost, "\(testCase.id): \(strictEvents)")
                }
                XCTAssertEqual(
                    Self.transcript(of: strictEvents), expectedStrict, "\(testCase.id) with Host required")
                comparedWithHost += 1
            }
        }

        for key in Self.divergences.keys.sorted() where !usedKeys.contains(key) {
            XCTFail("divergence \(key) matches no case")
        }
        for key in Self.inexpressible.keys.sorted() where !usedKeys.contains(key) {
            XCTFail("exclusion \(key) matches no case")
        }

        let lenientCount = lenient.values.reduce(0) { $0 + $1.count }
        print(
            """
            llhttp corpus (strict mode): \(cases.count) cases
              \(compared) compared with llhttp's events, whole and octet by octet (\(comparedWithHost) requests again with Host required)
              \(divergent.count) deliberate differences, each asserting our own outcome:
            """)
        for line in divergent { print("    - \(line)") }
        print("  \(excluded.count) not expressible:")
        for line in excluded { print("    - \(line)") }
        print(
            "  \(lenientCount) need a lenient llhttp flag we do not support (not compared; each is rejected by us):"
        )
        for (flag, ids) in lenient.sorted(by: { $0.key < $1.key }) {
            print("    - lenient-\(flag) (\(ids.count)): \(Self.lenientReasons[flag] ?? "?")")
        }
        XCTAssertEqual(
            compared + divergent.count + excluded.count + lenientCount, cases.count,
            "every case is accounted for")
    }
}
