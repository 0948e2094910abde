import XCTest

@testable import HTTPCore

/// `H1OutboundMessage.simpleResponseFields`: the few comparisons that decide the common response
/// must agree with `writeResponseHead`, the general path, on every input they accept: the same
/// octets, the same state after. Checked over every combination of the inputs that matter.
final class H1OutboundSimpleResponseTests: XCTestCase {
    private static let date = IMFFixdate("Sun, 06 Nov 1994 08:49:37 GMT")!

    func testTheSimplePathAgreesWithTheGeneralOneWheneverItIsTaken() throws {
        let statuses = ["200", "201", "204", "206", "301", "304", "404", "408", "500", "101", "103"]
        let extras: [[(String, String)]] = [
            [], [("content-length", "5")], [("content-length", "4")], [("content-length", "0")],
            [("content-length", "x")], [("content-length", "5"), ("content-length", "5")],
            [("transfer-encoding", "chunked")], [("connection", "close")], [("connection", "keep-alive")],
            [("date", "Mon, 07 Nov 1994 08:49:37 GMT")], [("content-type", "text/plain"), ("x-a", "1")],
        ]
        let bodies = ["", "Hello", "Hell"]
        let methods = ["GET", "POST", "HEAD", "CONNECT"]
        var taken = 0
        for status in statuses {
            for extra in extras {
                let headers = Headers([(":status", status)] + extra)
                let fields = H1FramingFields(headers)
                for body in bodies {
                    for method in methods {
                        for version in [HTTP1Version.http11, .http10] {
                            for keepAlive in [true, false] {
                                for persistent in [true, false] {
                                    for started in [false, true] {
                                        let request = H1OutboundMessage.RequestContext(
                                            method: method, version: version, keepAlive: keepAlive)
                                        var message = H1OutboundMessage()
                                        if started {
                                            var interim: [UInt8] = []
                                            if version == .http11 {
                                                try message.writeResponseHead(
                                                    Headers([(":status", "100")]), endStream: false,
                                                    request: request, persistent: true, date: nil, into: &interim)
                                            }
                                        }
                                        guard
                                            let added = message.simpleResponseFields(
                                                fields, bodyCount: body.utf8.count, request: request,
                                                persistent: persistent, date: Self.date)
                                        else { continue }
                                        taken += 1
                                        let context =
                                            "\(status) \(extra) \(body) \(method) \(version) \(keepAlive) \(persistent)"
                                        try compare(headers, fields, added, body, request, persistent, message, context)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // It is taken for the common shapes (and only those: the rest fall through to the
        // general path, checked by its own tests).
        XCTAssertGreaterThan(taken, 100)
    }

    private func compare(
        _ headers: Headers, _ fields: H1FramingFields, _ added: HTTP1AddedFields, _ body: String,
        _ request: H1OutboundMessage.RequestContext, _ persistent: Bool, _ before: H1OutboundMessage, _ context: String
    ) throws {
        let prepared = try XCTUnwrap(H1PreparedResponseHead(headers), context)
        var simple = before
        var simpleOut: [UInt8] = []
        Array(body.utf8).withUnsafeBytes { body in
            HTTP1Serializer.writeResponseHead(prepared: prepared.bytes, adding: added, then: body, into: &simpleOut)
        }
        simple.simpleResponseWritten(status: fields.validStatus!)

        var general = before
        var generalOut: [UInt8] = []
        try Array(body.utf8).withUnsafeBytes { body in
            try general.writeResponseHead(
                headers, fields: fields, prepared: nil, endStream: true, body: body, request: request,
                persistent: persistent, date: Self.date, acceptsGzip: { false }, into: &generalOut)
        }
        XCTAssertEqual(String(decoding: simpleOut, as: UTF8.self), String(decoding: generalOut, as: UTF8.self), context)
        XCTAssertEqual(simple.isComplete, general.isComplete, context)
        XCTAssertEqual(simple.hasStarted, general.hasStarted, context)
        XCTAssertEqual(simple.status, general.status, context)
        XCTAssertEqual(simple.closeAfter, general.closeAfter, context)
        XCTAssertEqual(simple.switchedProtocols, general.switchedProtocols, context)
        XCTAssertEqual(simple.state, general.state, context)
    }

    func testTheCommonShapesTakeIt() throws {
        let request = H1OutboundMessage.RequestContext(method: "GET", version: .http11, keepAlive: true)
        let message = H1OutboundMessage()
        for pairs in [[(":status", "200")], [(":status", "200"), ("content-length", "5")], [(":status", "404")]] {
            XCTAssertNotNil(
                message.simpleResponseFields(
                    H1FramingFields(Headers(pairs)), bodyCount: 5, request: request, persistent: true, date: Self.date),
                "\(pairs)")
        }
        // Not for HEAD, HTTP/1.0, a closing connection, a length that is not the body's, 204.
        let head = H1OutboundMessage.RequestContext(method: "HEAD", version: .http11, keepAlive: true)
        let old = H1OutboundMessage.RequestContext(method: "GET", version: .http10, keepAlive: true)
        let ok = H1FramingFields(Headers([(":status", "200")]))
        XCTAssertNil(message.simpleResponseFields(ok, bodyCount: 5, request: head, persistent: true, date: nil))
        XCTAssertNil(message.simpleResponseFields(ok, bodyCount: 5, request: old, persistent: true, date: nil))
        XCTAssertNil(message.simpleResponseFields(ok, bodyCount: 5, request: request, persistent: false, date: nil))
        let wrong = H1FramingFields(Headers([(":status", "200"), ("content-length", "4")]))
        XCTAssertNil(message.simpleResponseFields(wrong, bodyCount: 5, request: request, persistent: true, date: nil))
        let noContent = H1FramingFields(Headers([(":status", "204")]))
        XCTAssertNil(
            message.simpleResponseFields(noContent, bodyCount: 0, request: request, persistent: true, date: nil))
    }
}
