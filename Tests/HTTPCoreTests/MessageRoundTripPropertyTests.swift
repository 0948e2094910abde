import TestSupport
import XCTest

@testable import HTTPCore

/// Seeded property tests of the two halves of the HTTP/1 codec against each other: messages
/// written by `H1OutboundMessage` (random fields, bodies in random pieces, every framing it
/// chooses, interim responses, trailers, the gzip transfer coding), several on one connection,
/// read back by `HTTP1Parser` from random splits of the octets. The reader must see exactly what
/// the writer was given: the same start lines, fields, body octets and trailers, each message
/// ending where the writer ended it. A disagreement about where a message ends is the shape of
/// request smuggling and response splitting (RFC 9112 §11.2), so this is checked for every
/// framing, not just the ones a server uses most.
final class MessageRoundTripPropertyTests: XCTestCase {
    private static let reportedFailures = 5

    /// The fields the writer adds or removes to frame a message: compared separately.
    private static let framingNames: Set<String> = ["content-length", "transfer-encoding", "connection"]

    // MARK: - Requests

    func testRequestsWrittenAreReadBackWhateverTheSplits() throws {
        var rng = SplitMix64(seed: 0x2e_9a17)
        var failures = 0
        for round in 0..<2000 {
            let messages = (0..<(1 + Int(rng.next() % 4))).map { _ in RandomRequest(&rng) }
            var wire: [UInt8] = []
            for message in messages { try message.write(into: &wire) }
            var parser = HTTP1Parser(role: .server)
            let pieces = Self.randomSplit(wire, &rng)
            let events = drive(&parser, pieces: pieces)
            let label = "round \(round): \(messages.map(\.label)), \(pieces.count) pieces"
            if let problem = Self.compare(events, requests: messages) {
                failures += 1
                if failures <= Self.reportedFailures { XCTFail("\(label): \(problem)") }
            }
        }
        XCTAssertEqual(failures, 0, "failed cases")
    }

    private static func compare(_ events: [HTTP1TestEvent], requests: [RandomRequest]) -> String? {
        var events = events[...]
        for (index, request) in requests.enumerated() {
            guard case .head(let head)? = events.popFirst() else { return "request \(index): no head" }
            if head.method != request.method || head.path != request.path
                || head.authority != request.authority
            {
                return "request \(index): start line \(head.method ?? "-") \(head.path ?? "-") \(head.authority ?? "-")"
            }
            let regular = head.headers.fields.filter { !$0.name.hasPrefix(":") }
            if let problem = compareFields(regular, sent: request.fields, bodyCount: request.body.count) {
                return "request \(index): \(problem)"
            }
            if let problem = compareBody(&events, expected: request.body, trailers: request.trailers, codings: []) {
                return "request \(index): \(problem)"
            }
        }
        return events.isEmpty ? nil : "events after the last request: \(Array(events))"
    }

    // MARK: - Responses

    func testResponsesWrittenAreReadBackWhateverTheSplits() throws {
        var rng = SplitMix64(seed: 0x5e_5907)
        var failures = 0
        for round in 0..<2000 {
            let count = 1 + Int(rng.next() % 4)
            // Only the last exchange may end the connection (HTTP/1.0 without keep-alive, or a
            // body read until the close).
            let exchanges = (0..<count).map { RandomExchange(&rng, last: $0 == count - 1) }
            var wire: [UInt8] = []
            var parser = HTTP1Parser(role: .client)
            for exchange in exchanges {
                try exchange.write(into: &wire)
                parser.expectResponse(toMethod: exchange.method)
            }
            let pieces = Self.randomSplit(wire, &rng)
            let events = drive(&parser, pieces: pieces, endInput: true)
            let label = "round \(round): \(exchanges.map(\.label)), \(pieces.count) pieces"
            if let problem = Self.compare(events, exchanges: exchanges) {
                failures += 1
                if failures <= Self.reportedFailures { XCTFail("\(label): \(problem)") }
            }
        }
        XCTAssertEqual(failures, 0, "failed cases")
    }

    private static func compare(_ events: [HTTP1TestEvent], exchanges: [RandomExchange]) -> String? {
        var events = events[...]
        for (index, exchange) in exchanges.enumerated() {
            for interim in exchange.interim {
                guard case .head(let head)? = events.popFirst(), head.status == interim.status else {
                    return "response \(index): no \(interim.status)"
                }
                let regular = head.headers.fields.filter { !$0.name.hasPrefix(":") }
                if let problem = compareFields(regular, sent: interim.fields, bodyCount: 0) {
                    return "response \(index), \(interim.status): \(problem)"
                }
            }
            guard case .head(let head)? = events.popFirst(), head.status == exchange.status else {
                return "response \(index): no final \(exchange.status)"
            }
            let regular = head.headers.fields.filter { !$0.name.hasPrefix(":") }
            if let problem = compareFields(regular, sent: exchange.fields, bodyCount: exchange.declaredBodyCount) {
                return "response \(index): \(problem)"
            }
            if let problem = compareBody(
                &events, expected: exchange.bodyRead, trailers: exchange.trailersRead, codings: head.transferCodings)
            {
                return "response \(index): \(problem)"
            }
        }
        return events.isEmpty ? nil : "events after the last response: \(Array(events))"
    }

    // MARK: - Comparisons

    /// The fields read, without the framing fields, are the fields sent, in order; a
    /// `content-length` read is the body's; a `transfer-encoding` ends with `chunked`.
    private static func compareFields(_ read: [Headers.Field], sent: [(String, String)], bodyCount: Int?)
        -> String?
    {
        let kept = read.filter { !framingNames.contains($0.name) }.map { "\($0.name): \($0.value)" }
        let expected = sent.map { "\($0.0): \($0.1)" }
        if kept != expected { return "fields \(kept), sent \(expected)" }
        for field in read where field.name == "content-length" {
            if let bodyCount, field.value != String(bodyCount) {
                return "content-length \(field.value) for \(bodyCount) octets"
            }
        }
        for field in read where field.name == "transfer-encoding" {
            if !field.value.hasSuffix("chunked") { return "transfer-encoding \(field.value)" }
        }
        return nil
    }

    /// Takes the body, trailers and end of one message from `events`.
    private static func compareBody(
        _ events: inout ArraySlice<HTTP1TestEvent>, expected: [UInt8], trailers: [(String, String)], codings: [String]
    ) -> String? {
        var body: [UInt8] = []
        if case .body(let bytes)? = events.first {
            body = bytes
            events.removeFirst()
        }
        if !codings.isEmpty {
            guard codings == ["gzip"] else { return "transfer codings \(codings)" }
            do {
                var decoded: [UInt8] = []
                try body.withUnsafeBytes { try Inflater(format: .gzip).process($0, final: true, into: &decoded) }
                body = decoded
            } catch {
                return "gzip body does not decode: \(error)"
            }
        }
        if body != expected { return "body of \(body.count) octets, sent \(expected.count)" }
        if !trailers.isEmpty {
            guard case .trailers(let read)? = events.popFirst() else { return "no trailers" }
            let readPairs = read.fields.map { "\($0.name): \($0.value)" }
            if readPairs != trailers.map({ "\($0.0): \($0.1)" }) { return "trailers \(readPairs)" }
        }
        guard case .end? = events.popFirst() else {
            return "no end of message (next: \(events.first.map { "\($0)" } ?? "none"))"
        }
        return nil
    }

    // MARK: - Generators

    /// Pieces of 0 to 40 octets, sometimes the whole rest.
    static func randomSplit(_ bytes: [UInt8], _ rng: inout SplitMix64) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        var start = 0
        while start < bytes.count {
            let size = rng.next() % 8 == 0 ? bytes.count - start : Int(rng.next() % 41)
            let end = min(bytes.count, start + size)
            pieces.append(Array(bytes[start..<end]))
            start = end
        }
        return pieces
    }

    static let tokenOctets = Array("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~".utf8)
    static let commonNames = ["accept", "user-agent", "content-type", "cookie", "x-request-id", "cache-control"]

    static func randomName(_ rng: inout SplitMix64, prefix: String = "x-") -> String {
        // Common names in heads only: several of them must not be trailers (RFC 9110 §6.5.1).
        if prefix == "x-", rng.next() % 3 == 0 { return commonNames[Int(rng.next() % UInt64(commonNames.count))] }
        let length = 1 + Int(rng.next() % 12)
        return prefix + String(decoding: (0..<length).map { _ in tokenOctets[Int(rng.next() % 51)] }, as: UTF8.self)
    }

    /// A field value: visible ASCII with spaces and tabs inside (never at either end, where the
    /// reader trims them), sometimes empty.
    static func randomValue(_ rng: inout SplitMix64) -> String {
        let length = Int(rng.next() % 30)
        var octets = (0..<length).map { _ -> UInt8 in
            switch rng.next() % 10 {
            case 0: return 0x20
            case 1: return 0x09
            default: return UInt8(0x21 + rng.next() % 94)
            }
        }
        while let first = octets.first, first == 0x20 || first == 0x09 { octets.removeFirst() }
        while let last = octets.last, last == 0x20 || last == 0x09 { octets.removeLast() }
        return String(decoding: octets, as: UTF8.self)
    }

    static func randomFields(_ rng: inout SplitMix64, prefix: String = "x-") -> [(String, String)] {
        (0..<Int(rng.next() % 6)).map { _ in (randomName(&rng, prefix: prefix), randomValue(&rng)) }
    }

    static func randomBody(_ rng: inout SplitMix64) -> [UInt8] {
        switch rng.next() % 4 {
        case 0: return []
        case 1: return Array(SampleData.text.prefix(1 + Int(rng.next() % 4000)))
        default: return (0..<(1 + Int(rng.next() % 600))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        }
    }

    /// `body` in 1 to 5 pieces, empty ones included.
    static func randomPieces(_ body: [UInt8], _ rng: inout SplitMix64) -> [[UInt8]] {
        var cuts = (0..<Int(rng.next() % 5)).map { _ in Int(rng.next() % UInt64(body.count + 1)) }
        cuts.sort()
        var pieces: [[UInt8]] = []
        var start = 0
        for cut in cuts + [body.count] {
            pieces.append(Array(body[start..<cut]))
            start = cut
        }
        return pieces
    }

    /// How a writer hands over a body.
    enum BodyMode: CaseIterable {
        /// The head ends the message.
        case none
        /// The writer's own `content-length`, then the body in pieces.
        case declared
        /// The length given with the head (`writeMessage`, a client's known length).
        case known
        /// No length: chunked (or, to an HTTP/1.0 client, until the close), with trailers when chunked.
        case unknown
    }
}

/// A request as a client writes it: `writeRequestHead`, then the body in pieces.
private struct RandomRequest {
    var method: String
    var path: String
    var authority = "example.test:8080"
    var fields: [(String, String)]
    var body: [UInt8]
    var pieces: [[UInt8]]
    var mode: MessageRoundTripPropertyTests.BodyMode
    var trailers: [(String, String)]

    init(_ rng: inout SplitMix64) {
        typealias T = MessageRoundTripPropertyTests
        let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "PROPFIND"]
        method = methods[Int(rng.next() % UInt64(methods.count))]
        let pathOctets = Array("abcXYZ019-._~!$&'()*+,;=:@/%20?".utf8)
        path =
            "/"
            + String(decoding: (0..<Int(rng.next() % 24)).map { _ in pathOctets[Int(rng.next() % 31)] }, as: UTF8.self)
        fields = T.randomFields(&rng)
        mode = T.BodyMode.allCases[Int(rng.next() % 4)]
        body = mode == .none ? [] : T.randomBody(&rng)
        pieces = T.randomPieces(body, &rng)
        trailers = mode == .unknown && rng.next() % 2 == 0 ? T.randomFields(&rng, prefix: "x-t-") : []
    }

    var label: String { "\(method) \(mode) \(body.count)" + (trailers.isEmpty ? "" : " +\(trailers.count)t") }

    func write(into wire: inout [UInt8]) throws {
        var message = H1OutboundMessage()
        var head = Headers()
        head.append(":method", method)
        head.append(":path", path)
        head.append(":authority", authority)
        for (name, value) in fields { head.append(name, value) }
        switch mode {
        case .none:
            try message.writeRequestHead(head, endStream: true, version: .http11, into: &wire)
            return
        case .declared:
            head.append("content-length", String(body.count))
            try message.writeRequestHead(head, endStream: false, version: .http11, into: &wire)
        case .known:
            try message.writeRequestHead(head, endStream: false, bodyLength: body.count, version: .http11, into: &wire)
        case .unknown:
            try message.writeRequestHead(head, endStream: false, version: .http11, into: &wire)
        }
        try writeBody(&message, pieces: pieces, trailers: trailers, into: &wire)
    }
}

/// A request's method and version, and the response a server writes to it: interim responses,
/// then the final one with its body in pieces.
private struct RandomExchange {
    struct Interim {
        var status: Int
        var fields: [(String, String)]
    }
    var method: String
    var version: HTTP1Version
    var keepAlive: Bool
    var acceptsGzip: Bool
    var interim: [Interim]
    var status: Int
    var fields: [(String, String)]
    var body: [UInt8]
    var pieces: [[UInt8]]
    var mode: MessageRoundTripPropertyTests.BodyMode
    var trailers: [(String, String)]

    init(_ rng: inout SplitMix64, last: Bool) {
        typealias T = MessageRoundTripPropertyTests
        let methods = ["GET", "HEAD", "POST", "GET", "PUT"]
        method = methods[Int(rng.next() % UInt64(methods.count))]
        version = last && rng.next() % 4 == 0 ? .http10 : .http11
        keepAlive = !last || rng.next() % 3 != 0
        acceptsGzip = version == .http11 && rng.next() % 3 == 0
        interim =
            version == .http11
            ? (0..<Int(rng.next() % 3)).map { _ in
                Interim(status: rng.next() % 2 == 0 ? 100 : 103, fields: T.randomFields(&rng))
            }
            : []
        let statuses = [200, 200, 201, 203, 204, 206, 299, 304, 404, 500, 599]
        status = statuses[Int(rng.next() % UInt64(statuses.count))]
        fields = T.randomFields(&rng)
        if status == 204 || status == 304 {
            mode = .none
        } else {
            mode = T.BodyMode.allCases[Int(rng.next() % 4)]
            // A body of unknown length to HTTP/1.0 is read until the close: only the last.
            if mode == .unknown && (version == .http10 || !keepAlive) && !last { mode = .known }
        }
        body = mode == .none ? [] : T.randomBody(&rng)
        pieces = T.randomPieces(body, &rng)
        trailers =
            mode == .unknown && version == .http11 && rng.next() % 2 == 0 ? T.randomFields(&rng, prefix: "x-t-") : []
    }

    var label: String {
        "\(method)/\(version == .http10 ? "1.0" : "1.1")\(keepAlive ? "" : " close") \(interim.map(\.status)) \(status) \(mode) \(body.count)"
            + (acceptsGzip ? " gzip" : "") + (trailers.isEmpty ? "" : " +\(trailers.count)t")
    }

    /// What the reader gets: no body for HEAD (RFC 9110 §9.3.2).
    var bodyRead: [UInt8] { method == "HEAD" ? [] : body }
    var trailersRead: [(String, String)] { method == "HEAD" ? [] : trailers }
    /// The length a `content-length` read must say, when the writer knew it.
    var declaredBodyCount: Int? { mode == .unknown ? nil : body.count }

    func write(into wire: inout [UInt8]) throws {
        var message = H1OutboundMessage()
        let request = H1OutboundMessage.RequestContext(method: method, version: version, keepAlive: keepAlive)
        for interim in interim {
            var head = Headers()
            head.append(":status", String(interim.status))
            for (name, value) in interim.fields { head.append(name, value) }
            try message.writeResponseHead(
                head, endStream: false, request: request, persistent: true, date: nil, into: &wire)
        }
        var head = Headers()
        head.append(":status", String(status))
        for (name, value) in fields { head.append(name, value) }
        let gzip = { acceptsGzip }
        switch mode {
        case .none:
            try message.writeResponseHead(
                head, endStream: true, request: request, persistent: true, date: nil, acceptsGzip: gzip, into: &wire)
            return
        case .declared:
            head.append("content-length", String(body.count))
            try message.writeResponseHead(
                head, endStream: false, request: request, persistent: true, date: nil, acceptsGzip: gzip, into: &wire)
        case .known:
            try body.withUnsafeBytes { bytes in
                try message.writeResponseHead(
                    head, fields: H1FramingFields(head), prepared: nil, endStream: true, body: bytes, request: request,
                    persistent: true, date: nil, acceptsGzip: gzip, into: &wire)
            }
            return
        case .unknown:
            try message.writeResponseHead(
                head, endStream: false, request: request, persistent: true, date: nil, acceptsGzip: gzip, into: &wire)
        }
        try writeBody(&message, pieces: pieces, trailers: trailers, into: &wire)
    }
}

/// Writes `pieces`, the last one ending the message with `trailers`.
private func writeBody(
    _ message: inout H1OutboundMessage, pieces: [[UInt8]], trailers: [(String, String)], into wire: inout [UInt8]
) throws {
    for (index, piece) in pieces.enumerated() {
        let last = index == pieces.count - 1
        var fields: Headers? = nil
        if last && !trailers.isEmpty {
            var headers = Headers()
            for (name, value) in trailers { headers.append(name, value) }
            fields = headers
        }
        try piece.withUnsafeBytes { bytes in
            try message.writeBody(bytes, endStream: last, trailers: fields) { wire.append(contentsOf: $0) }
        }
    }
}
