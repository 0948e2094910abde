import Foundation
import XCTest

/// Loads the llhttp test corpus (`conformance/llhttp-tests/{request,response}/*.md`, from
/// nodejs/llhttp v9.4.2; see its PROVENANCE.md) into cases the HTTP/1 conformance test can run.
///
/// File format: each case is a heading, an HTML comment `<!-- meta={"type": …} -->`, a fenced
/// `http` block (the input) and a fenced `log` block (what llhttp's callbacks printed). The input is
/// decoded as llhttp's `test/md-test.ts` does it: the block's text with its final newline removed,
/// backslash-newline continuations joined, every newline turned into CRLF, then the escapes `\r`
/// `\n` `\t` `\f`, `\xHH…` and octal `\NNN` replaced (in that order), and the result encoded as
/// UTF-8. In the log, `\t` and `\f` are replaced the same way; span values are printed raw between
/// the first `="` and the last `"` of the line, and their `len=` is checked against the decoding.
struct LLHTTPCase {
    var file: String
    var line: Int
    var name: String
    var type: String
    var meta: [String: Any]
    var input: [UInt8]
    var expected: LLHTTPExpectation

    var id: String { "\(file):\(line) \(name)" }
    var isRequest: Bool { type.hasPrefix("request") }
    /// The lenient llhttp flag the case needs, if any (`request-lenient-headers` → `headers`).
    var lenientFlag: String? {
        guard let range = type.range(of: "-lenient-") else { return nil }
        return String(type[range.upperBound...])
    }
    var isFinish: Bool { type.hasSuffix("-finish") }
}

/// What llhttp reported for a case.
struct LLHTTPExpectation {
    struct Message {
        var method = ""
        var url = ""
        var version = ""
        var reason = ""
        var status: Int?
        var headers: [(name: String, value: String)] = []
        var trailers: [(name: String, value: String)] = []
        var body: [UInt8] = []
        var headComplete = false
        /// Offset just past the header section, from `headers complete off=`.
        var headEnd = 0
        var complete = false
    }
    var messages: [Message] = []
    /// `error code=N reason="…"`.
    var error: (code: Int, reason: String)?
    /// `off=NULL finish=N` (0 safe, 1 safe with callback, 2 unsafe).
    var finish: Int?
}

enum LLHTTPCorpus {
    enum LoadError: Error, CustomStringConvertible {
        case notFound(String)
        case malformed(String)
        var description: String {
            switch self {
            case .notFound(let path):
                return "llhttp corpus not found at \(path) (set STEPWISE_CONFORMANCE_DIR)"
            case .malformed(let what): return "malformed llhttp corpus: \(what)"
            }
        }
    }

    /// `$STEPWISE_CONFORMANCE_DIR/llhttp-tests`, or `../shared/conformance/llhttp-tests` beside the
    /// package root.
    static var directory: URL {
        if let override = ProcessInfo.processInfo.environment["STEPWISE_CONFORMANCE_DIR"] {
            return URL(fileURLWithPath: override).appendingPathComponent("llhttp-tests")
        }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent()
            .deletingLastPathComponent()
        return packageRoot.deletingLastPathComponent().appendingPathComponent(
            "shared/conformance/llhttp-tests")
    }

    static func loadAll() throws -> [LLHTTPCase] {
        let root = directory
        guard FileManager.default.fileExists(atPath: root.path) else {
            throw LoadError.notFound(root.path)
        }
        var cases: [LLHTTPCase] = []
        for folder in ["request", "response"] {
            let names = try FileManager.default.contentsOfDirectory(
                atPath: root.appendingPathComponent(folder).path
            )
            .filter { $0.hasSuffix(".md") }.sorted()
            for name in names {
                let url = root.appendingPathComponent(folder).appendingPathComponent(name)
                cases += try parseFile(String(contentsOf: url, encoding: .utf8), file: "\(folder)/\(name)")
            }
        }
        return cases
    }

    static func parseFile(_ text: String, file: String) throws -> [LLHTTPCase] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var cases: [LLHTTPCase] = []
        var headings: [(level: Int, text: String)] = []
        var meta: [String: Any]?
        var caseLine = 0
        var input: [String]?
        var index = 0
        while index < lines.count {
            let line = lines[index]
            if line.hasPrefix("#") {
                let level = line.prefix { $0 == "#" }.count
                let title = line.dropFirst(level).trimmingCharacters(in: .whitespaces)
                headings.removeAll { $0.level >= level }
                headings.append((level, title))
            } else if line.hasPrefix("<!-- meta=") {
                guard let start = line.firstIndex(of: "{"), let end = line.lastIndex(of: "}"),
                    let object = try JSONSerialization.jsonObject(with: Data(line[start...end].utf8))
                        as? [String: Any]
                else { throw LoadError.malformed("\(file):\(index + 1): meta") }
                meta = object
                caseLine = index + 1
            } else if line.hasPrefix("```http") || line.hasPrefix("```log") {
                var block: [String] = []
                index += 1
                while index < lines.count && !lines[index].hasPrefix("```") {
                    block.append(lines[index])
                    index += 1
                }
                if line.hasPrefix("```http") {
                    input = block
                } else {
                    guard let meta, let input, let type = meta["type"] as? String else {
                        throw LoadError.malformed("\(file):\(index + 1): log block without meta or input")
                    }
                    let name = headings.filter { $0.level >= 2 }.map(\.text).joined(separator: " / ")
                    let expected = try parseLog(block, file: file, line: caseLine)
                    cases.append(
                        LLHTTPCase(
                            file: file, line: caseLine, name: name, type: type, meta: meta,
                            input: decodeInput(input),
                            expected: expected))
                }
                if line.hasPrefix("```log") {
                    meta = nil
                    input = nil
                }
            }
            index += 1
        }
        return cases
    }

    // MARK: Input decoding (md-test.ts)

    static func decodeInput(_ blockLines: [String]) -> [UInt8] {
        // The block's value is every line followed by "\n"; md-test removes the final newline.
        var bytes = Array(blockLines.map { $0 + "\n" }.joined().utf8)
        if bytes.last == 0x0A { bytes.removeLast() }
        bytes = replacingAll(bytes, Array("\\\n".utf8), [])  // escaped newlines
        bytes = replacingAll(bytes, [0x0A], [0x0D, 0x0A])  // normalise newlines to CRLF
        bytes = replacingAll(bytes, Array("\\r".utf8), [0x0D])
        bytes = replacingAll(bytes, Array("\\n".utf8), [0x0A])
        bytes = replacingAll(bytes, Array("\\t".utf8), [0x09])
        bytes = replacingAll(bytes, Array("\\f".utf8), [0x0C])
        bytes = replacingEscapes(bytes, introducer: UInt8(ascii: "x"), radix: 16, maxDigits: .max)
        bytes = replacingEscapes(bytes, introducer: nil, radix: 8, maxDigits: 3)
        return bytes
    }

    /// Leftmost, non-overlapping replacement, like a global JavaScript `replace`.
    static func replacingAll(_ bytes: [UInt8], _ pattern: [UInt8], _ replacement: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if index + pattern.count <= bytes.count
                && bytes[index..<index + pattern.count].elementsEqual(pattern)
            {
                out += replacement
                index += pattern.count
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    /// `\x<hex digits>` (maximal run) or `\<1-3 octal digits>` → the UTF-8 of that code point
    /// (`String.fromCharCode` semantics: the code is taken modulo 0x10000).
    static func replacingEscapes(_ bytes: [UInt8], introducer: UInt8?, radix: Int, maxDigits: Int)
        -> [UInt8]
    {
        func digit(_ byte: UInt8) -> Int? {
            guard let value = Int(String(UnicodeScalar(byte)), radix: radix) else { return nil }
            return value
        }
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let prefix = introducer == nil ? 1 : 2
            if bytes[index] == UInt8(ascii: "\\"), index + prefix < bytes.count,
                introducer == nil || bytes[index + 1] == introducer
            {
                var end = index + prefix
                var code = 0
                while end < bytes.count, end - index - prefix < maxDigits, let value = digit(bytes[end]) {
                    code = code * radix + value
                    end += 1
                }
                if end > index + prefix {
                    let scalar = Unicode.Scalar(UInt32(code % 0x10000)) ?? "\u{FFFD}"
                    out += Array(String(Character(scalar)).utf8)
                    index = end
                    continue
                }
            }
            out.append(bytes[index])
            index += 1
        }
        return out
    }

    // MARK: Log parsing

    static func parseLog(_ rawLines: [String], file: String, line: Int) throws -> LLHTTPExpectation {
        var expectation = LLHTTPExpectation()
        var message: LLHTTPExpectation.Message?
        var fieldName: [UInt8] = []
        var fieldValue: [UInt8] = []
        var inTrailers = false
        func flushMessage() {
            if let message { expectation.messages.append(message) }
            message = nil
        }
        for raw in rawLines where !raw.isEmpty {
            // md-test replaces \t and \f in the expected log too.
            let text = raw.replacingOccurrences(of: "\\t", with: "\t").replacingOccurrences(
                of: "\\f", with: "\u{0C}")
            guard text.hasPrefix("off=") else {
                throw LoadError.malformed("\(file):\(line): log line \(raw)")
            }
            let body = text.drop { $0 != " " }.dropFirst()
            if body.hasPrefix("message begin") {
                flushMessage()
                message = LLHTTPExpectation.Message()
                inTrailers = false
            } else if body.hasPrefix("len=") {
                // `len=N span[kind]="raw value"`, or `span[kind]=cr` / `=lf` for a lone CR or LF.
                guard let spanStart = body.range(of: " span["), let kindEnd = body.range(of: "]=") else {
                    throw LoadError.malformed("\(file):\(line): span \(raw)")
                }
                let kind = String(body[spanStart.upperBound..<kindEnd.lowerBound])
                let rest = body[kindEnd.upperBound...]
                let value: [UInt8]
                if rest == "cr" {
                    value = [0x0D]
                } else if rest == "lf" {
                    value = [0x0A]
                } else if rest.first == "\"", rest.count >= 2, rest.last == "\"" {
                    value = Array(rest.dropFirst().dropLast().utf8)
                } else {
                    throw LoadError.malformed("\(file):\(line): span value \(raw)")
                }
                let declared = Int(body.dropFirst(4).prefix { $0 != " " }) ?? -1
                guard declared == value.count else {
                    throw LoadError.malformed(
                        "\(file):\(line): span length \(declared) != \(value.count) in \(raw)")
                }
                if message == nil { message = LLHTTPExpectation.Message() }
                switch kind {
                case "method": message!.method += String(decoding: value, as: UTF8.self)
                case "url": message!.url += String(decoding: value, as: UTF8.self)
                case "version": message!.version += String(decoding: value, as: UTF8.self)
                case "status": message!.reason += String(decoding: value, as: UTF8.self)
                case "header_field": fieldName += value
                case "header_value": fieldValue += value
                case "body": message!.body += value
                case "protocol", "chunk_extension_name", "chunk_extension_value": break
                default: throw LoadError.malformed("\(file):\(line): unknown span kind \(kind)")
                }
            } else if body.hasPrefix("header_value complete") {
                let field = (
                    name: String(decoding: fieldName, as: UTF8.self).lowercased(),
                    value: String(decoding: trimmed(fieldValue), as: UTF8.self)
                )
                if inTrailers { message?.trailers.append(field) } else { message?.headers.append(field) }
                fieldName = []
                fieldValue = []
            } else if body.hasPrefix("headers complete") {
                if message == nil { message = LLHTTPExpectation.Message() }
                message!.headComplete = true
                message!.headEnd = Int(text.dropFirst(4).prefix { $0 != " " }) ?? -1
                if let status = body.range(of: "status=") {
                    message!.status = Int(body[status.upperBound...].prefix { $0 != " " })
                }
                fieldName = []
                fieldValue = []
            } else if body.hasPrefix("chunk header len=0") {
                inTrailers = true
            } else if body.hasPrefix("message complete") {
                message?.complete = true
            } else if body.hasPrefix("error code=") {
                let code = Int(body.dropFirst(11).prefix { $0 != " " }) ?? -1
                let reason =
                    body.range(of: "reason=\"").map { String(body[$0.upperBound...].dropLast()) } ?? ""
                expectation.error = (code, reason)
            } else if body.hasPrefix("finish=") {
                expectation.finish = Int(body.dropFirst(7))
            } else if !Self.ignoredLogEntries.contains(where: { body.hasPrefix($0) }) {
                throw LoadError.malformed("\(file):\(line): unknown log entry \(raw)")
            }
        }
        flushMessage()
        return expectation
    }

    /// Log entries that carry nothing the comparison needs.
    static let ignoredLogEntries = [
        "pause", "reset", "skip body", "chunk header", "chunk complete", "method complete",
        "url complete",
        "protocol complete", "version complete", "status complete", "header_field complete",
        "chunk_extension_name complete", "chunk_extension_value complete",
    ]

    static func trimmed(_ bytes: [UInt8]) -> [UInt8] {
        var slice = bytes[...]
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return Array(slice)
    }
}
