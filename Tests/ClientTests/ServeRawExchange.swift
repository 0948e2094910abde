import Foundation
import XCTest

/// A response read off a `RawConnection`: the status, the header fields (names lower case, in
/// order), and the body (`content-length` octets; none for HEAD, 204 and 304).
struct RawResponse {
    var status: Int
    var fields: [(name: String, value: String)]
    var body: String

    /// The value of the first field named `name` (lower case).
    func first(_ name: String) -> String? {
        fields.first { $0.name == name }?.value
    }
}

extension ServeCommandTests.Demo {
    /// Sends `method target` as written, on a connection of its own (a client library would
    /// normalise `..` or `%2e`), and reads the response.
    func exchange(_ method: String, _ target: String) throws -> RawResponse {
        let connection = try RawConnection(port: port)
        defer { connection.close() }
        try connection.send(Array("\(method) \(target) HTTP/1.1\r\nHost: test\r\n\r\n".utf8))
        var response: RawResponse?
        _ = try connection.receive(until: { received in
            response = Self.parse(received, toHEAD: method == "HEAD")
            return response != nil
        })
        return try XCTUnwrap(response)
    }

    /// The response in `received` once all of it is there; nil before.
    private static func parse(_ received: [UInt8], toHEAD: Bool) -> RawResponse? {
        let separator = Array("\r\n\r\n".utf8)
        guard received.count >= 4,
            let end = (0...(received.count - 4)).first(where: { received[$0..<($0 + 4)].elementsEqual(separator) })
        else { return nil }
        let lines = String(decoding: received[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines[0].split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        let fields = lines.dropFirst().map { line in
            let colon = line.firstIndex(of: ":") ?? line.endIndex
            return (
                name: line[..<colon].lowercased(),
                value: line[colon...].dropFirst().trimmingCharacters(in: .whitespaces)
            )
        }
        let declared = fields.first { $0.name == "content-length" }.flatMap { Int($0.value) } ?? 0
        let length = toHEAD || status == 204 || status == 304 ? 0 : declared
        let body = received[(end + 4)...]
        guard body.count >= length else { return nil }
        return RawResponse(status: status, fields: fields, body: String(decoding: body.prefix(length), as: UTF8.self))
    }
}
