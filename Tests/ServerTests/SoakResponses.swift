import Foundation
import HTTPCore

/// One response as `SoakResponses` parsed it.
struct SoakResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    /// The status line's version.
    var version = "HTTP/1.1"
    /// How many 1xx responses came before this one.
    var interimBefore = 0
    func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }
}

/// Parses the octets a server sent on one connection into responses (1xx skipped); throws on
/// anything that is not a well-formed HTTP/1.1 response. `complete` false: the octets may end
/// in the middle of a response (a reset or a close cut it).
enum SoakResponses {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// `heads`: the indexes of the responses that answer HEAD requests (no body).
    static func parse(_ bytes: [UInt8], closed: Bool, heads: Set<Int> = []) throws -> (
        responses: [SoakResponse], rest: Int
    ) {
        var responses: [SoakResponse] = []
        var index = 0
        var interim = 0
        while index < bytes.count {
            guard let headEnd = find([13, 10, 13, 10], in: bytes, from: index) else { break }
            let head = String(decoding: bytes[index..<headEnd], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst()
            let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0", parts[1].count == 3,
                let status = Int(parts[1])
            else { throw Malformed(description: "status line \(statusLine.debugDescription)") }
            var headers: [(String, String)] = []
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else {
                    throw Malformed(description: "field line \(line.debugDescription)")
                }
                headers.append(
                    (
                        line[..<colon].lowercased(),
                        line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    ))
            }
            var cursor = headEnd + 4
            var response = SoakResponse(status: status, headers: headers, body: [], version: String(parts[0]))
            if status < 200 {
                interim += 1
                index = cursor
                continue
            }
            response.interimBefore = interim
            interim = 0
            if status == 204 || status == 304 || heads.contains(responses.count) {
                // no body
            } else if let length = response.header("content-length") {
                guard let count = Int(length) else { throw Malformed(description: "content-length \(length)") }
                guard cursor + count <= bytes.count else { break }
                response.body = Array(bytes[cursor..<cursor + count])
                cursor += count
            } else if let coding = response.header("transfer-encoding") {
                guard coding == "chunked" || coding == "gzip, chunked" else {
                    throw Malformed(description: "transfer-encoding \(coding)")
                }
                var body: [UInt8] = []
                var done = false
                while true {
                    guard let lineEnd = find([13, 10], in: bytes, from: cursor) else { break }
                    let line = String(decoding: bytes[cursor..<lineEnd], as: UTF8.self)
                    let sizeText = line.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
                    guard let size = Int(sizeText, radix: 16) else {
                        throw Malformed(description: "chunk size \(line.debugDescription)")
                    }
                    cursor = lineEnd + 2
                    if size == 0 {
                        // Trailers until the empty line.
                        guard let end = find([13, 10, 13, 10], in: bytes, from: cursor - 2) else { break }
                        cursor = end + 4
                        done = true
                        break
                    }
                    guard cursor + size + 2 <= bytes.count else { break }
                    body += bytes[cursor..<cursor + size]
                    guard bytes[cursor + size] == 13, bytes[cursor + size + 1] == 10 else {
                        throw Malformed(description: "chunk without CRLF")
                    }
                    cursor += size + 2
                }
                guard done else { break }
                if coding == "gzip, chunked" {
                    do { body = try Inflater(format: .gzip, maxOutput: 1 << 24).process(body, final: true) } catch {
                        throw Malformed(description: "gzip transfer coding: \(error)")
                    }
                }
                response.body = body
            } else {
                // Until the close.
                guard closed else { break }
                response.body = Array(bytes[cursor...])
                cursor = bytes.count
            }
            responses.append(response)
            index = cursor
        }
        return (responses, index)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0] && Array(haystack[index..<index + needle.count]) == needle { return index }
            index += 1
        }
        return nil
    }
}
