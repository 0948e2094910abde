import Foundation
import TestSupport
import XCTest

@testable import HTTPCore

/// Seeded property tests for code whose correctness depends on how its input is split or
/// spelled, each checked against a plain reference written here: the transfer-coding decoder
/// (`TransferDecoding`) against the original data, RFC 3986 §5.2.4 and §5.2.2 against naive
/// transcriptions of the RFC's steps, and RFC 9110 §12.4.2's `qvalue` against a regular expression.
final class SplitPropertyTests: XCTestCase {
    /// At most this many failures are reported per test (one broken property fails thousands of
    /// cases).
    private static let reportedFailures = 5

    // MARK: - TransferDecoding

    /// A chain of 1–3 codings over random data (empty, one octet, compressible or not, up to a
    /// few hundred KiB), appended in random pieces (empty ones too, `final` on the last piece or on
    /// an empty append after it) and decoded with random budgets between the appends: the output
    /// is the data, no call goes more than one zlib pass (32 KiB) past its budget, the end is
    /// reported once, after all of the data and never before the input ended, every call once the
    /// input ended makes progress, and what the decoder holds beyond the coded input stays within
    /// one refill (plus a zlib pass) per inner stage.
    func testTransferDecodingRoundTripsWhateverTheSplitsAndBudgets() throws {
        var rng = SplitMix64(seed: 0x7d_ec0d)
        var failures = 0
        for round in 0..<1500 {
            let data = Self.randomData(&rng)
            let chain = try Self.randomChain(over: data, &rng)
            let pieces = Self.randomSplit(chain.body, &rng)
            let finalOnEmpty = rng.next() % 3 == 0
            let label = "round \(round): \(data.count) octets, \(chain.label), \(pieces.count) pieces"
            let outcome = Self.driveTransferDecoding(
                codings: chain.codings, pieces: pieces, finalOnEmpty: finalOnEmpty, data: data, corrupt: false, &rng)
            if let problem = outcome.problem {
                failures += 1
                if failures <= Self.reportedFailures { XCTFail("\(label): \(problem)") }
            }
        }
        XCTAssertEqual(failures, 0, "failed cases")
    }

    /// A chain whose body was cut short or got octets after its end, at any stage: decoding
    /// throws at some call, whatever the splits and budgets, and never reports the end or stops
    /// making progress first. An octet changed past the headers is caught the same way, unless
    /// the change was to bits the format ignores (the padding of the last octet of deflate data,
    /// Huffman codes no symbol uses): then the body must decode to the data.
    func testTransferDecodingRejectsCorruptBodies() throws {
        var rng = SplitMix64(seed: 0xbad_c0de)
        var failures = 0
        var harmlessChanges = 0
        var changes = 0
        for round in 0..<600 {
            let data = Self.randomData(&rng)
            let chain = try Self.randomChain(over: data, corrupt: true, &rng)
            let pieces = Self.randomSplit(chain.body, &rng)
            let finalOnEmpty = rng.next() % 3 == 0
            let label = "round \(round): \(data.count) octets, \(chain.label), \(pieces.count) pieces"
            let outcome = Self.driveTransferDecoding(
                codings: chain.codings, pieces: pieces, finalOnEmpty: finalOnEmpty, data: data, corrupt: true, &rng)
            if chain.changed {
                changes += 1
                if outcome.problem == nil && !outcome.threw { harmlessChanges += 1 }
            }
            if let problem = outcome.problem ?? (outcome.threw || chain.changed ? nil : "decoded to its end") {
                failures += 1
                if failures <= Self.reportedFailures { XCTFail("\(label): \(problem)") }
            }
        }
        XCTAssertEqual(failures, 0, "failed cases")
        // Most changes are caught: the property has teeth.
        XCTAssertLessThan(harmlessChanges * 10, changes, "\(harmlessChanges) of \(changes) changes decoded")
    }

    /// Appends `pieces` to a `TransferDecoding` for `codings`, decoding with random budgets
    /// between appends and then to the end. A body that is not `corrupt` must decode to `data`; a
    /// corrupt one may throw, and if it decodes to its end, it must be to `data`. `problem` says
    /// what went wrong, if anything; `threw`, whether a call threw.
    private static func driveTransferDecoding(
        codings: [String], pieces: [[UInt8]], finalOnEmpty: Bool, data: [UInt8], corrupt: Bool,
        _ rng: inout SplitMix64
    ) -> (problem: String?, threw: Bool) {
        let decoder: TransferDecoding
        do {
            decoder = try TransferDecoding(codings: codings)
        } catch {
            return ("init threw \(error)", false)
        }
        let innerStages = codings.count - 1
        var output: [UInt8] = []
        var appended = 0
        var inputEnded = false
        var calls = 0

        /// One `decode` call: nil to go on, or the outcome (`"end"`, `"threw"` or a problem).
        func decodeOnce() -> String? {
            calls += 1
            let budget = randomBudget(&rng)
            let before = output.count
            let ended: Bool
            do {
                ended = try decoder.decode(into: &output, budget: budget)
            } catch {
                return corrupt ? "threw" : "call \(calls) threw \(error) after \(before) octets"
            }
            let grown = output.count - before
            if grown >= budget + 32 * 1024 {
                return "call \(calls) with budget \(budget) decoded \(grown) octets"
            }
            let bound = appended + innerStages * (TransferDecoding.refillSize + 32 * 1024)
            if decoder.pendingInputCount > bound {
                return "call \(calls): \(decoder.pendingInputCount) octets pending, more than \(bound)"
            }
            if !corrupt && output.count > data.count {
                return "call \(calls): \(output.count) octets decoded, more than the data's \(data.count)"
            }
            if ended {
                guard inputEnded else { return "call \(calls) reported the end before the input ended" }
                guard same(output, data) else { return "decoded \(output.count) octets that differ from the data" }
                guard !decoder.hasWork else { return "hasWork after the end" }
                return "end"
            }
            if inputEnded && grown == 0 {
                return "call \(calls) (budget \(budget)) made no progress after the input ended"
            }
            return nil
        }

        func finish(_ outcome: String) -> (problem: String?, threw: Bool) {
            (outcome == "end" || outcome == "threw" ? nil : outcome, outcome == "threw")
        }
        for (i, piece) in pieces.enumerated() {
            let final = i == pieces.count - 1 && !finalOnEmpty
            decoder.append(piece, final: final)
            appended += piece.count
            inputEnded = final
            for _ in 0..<Int(rng.next() % 3) {
                if let outcome = decodeOnce() { return finish(outcome) }
            }
        }
        if finalOnEmpty {
            decoder.append([], final: true)
            inputEnded = true
        }
        // Each call now decodes at least one octet, so the decoded size bounds the calls; a corrupt
        // body may decode to more than its data, up to what its octets could stand for.
        let limit = calls + (corrupt ? 64 << 20 : data.count) + 2
        while calls < limit {
            if let outcome = decodeOnce() { return finish(outcome) }
        }
        return ("no end after \(calls) calls", false)
    }

    /// `a == b` by `memcmp` (debug builds compare arrays element by element).
    static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count
            && a.withUnsafeBytes { a in
                b.withUnsafeBytes { b in a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
            }
    }

    /// A budget from 1 octet to 1 MiB, about as often in each power of two.
    private static func randomBudget(_ rng: inout SplitMix64) -> Int {
        let top = 1 << Int(rng.next() % 21)
        return 1 + Int(rng.next() % UInt64(top))
    }

    // MARK: - RFC 3986 §5.2.4 and §5.2.2

    /// `removeDotSegmentsAsSpecified` equals a naive transcription of RFC 3986 §5.2.4's steps on
    /// random paths made of `a`, `b`, `.`, `..`, `/`, `%2E` and empty pieces; `removeDotSegments`
    /// equals it on absolute paths, as it documents.
    func testRemoveDotSegmentsMatchesTheRFCSteps() {
        var rng = SplitMix64(seed: 0x5_2_4)
        var failures = 0
        for _ in 0..<4000 {
            let path = Self.randomPath(&rng)
            let expected = Self.referenceRemoveDotSegments(path)
            let specified = HTTPUtil.removeDotSegmentsAsSpecified(Substring(path))
            if specified != expected {
                failures += 1
                if failures <= Self.reportedFailures {
                    XCTFail("removeDotSegmentsAsSpecified(\"\(path)\") = \"\(specified)\", RFC: \"\(expected)\"")
                }
            }
            if path.hasPrefix("/") {
                let bySegments = HTTPUtil.removeDotSegments(Substring(path))
                if bySegments != expected {
                    failures += 1
                    if failures <= Self.reportedFailures {
                        XCTFail("removeDotSegments(\"\(path)\") = \"\(bySegments)\", RFC: \"\(expected)\"")
                    }
                }
            }
        }
        XCTAssertEqual(failures, 0, "failed cases")
    }

    /// `URI.resolve` equals a transcription of RFC 3986 §5.2.2 (with §5.2.3's merge and the naive
    /// §5.2.4), component by component, for random references against random bases; the
    /// references include those of §5.4. The reference itself reproduces §5.4's examples.
    func testResolveMatchesTheRFCSteps() throws {
        let rfcBase = "http://a/b/c/d;p?q"
        for (reference, expected) in URIParsingTests.rfc3986ResolutionExamples {
            XCTAssertEqual(
                Self.referenceResolve(reference, against: rfcBase).recomposed, expected, "reference \(reference)")
        }
        let rfcReferences = URIParsingTests.rfc3986ResolutionExamples.map(\.0)
        var rng = SplitMix64(seed: 0x5_2_2)
        var failures = 0
        for _ in 0..<3000 {
            let base = Self.randomBase(&rng)
            let reference =
                rng.next() % 4 == 0
                ? rfcReferences[Int(rng.next() % UInt64(rfcReferences.count))] : Self.randomReference(&rng)
            let expected = Self.referenceResolve(reference, against: base)
            let actual: URIComponents
            do {
                let resolved = try URI.resolve(reference: reference, against: URI(parsing: base))
                var authority: String?
                if let host = resolved.authorityHost {
                    authority =
                        (resolved.userinfo.map { $0 + "@" } ?? "") + host
                        + (resolved.port.map { ":\($0)" } ?? "")
                }
                actual = URIComponents(
                    scheme: resolved.scheme, authority: authority, path: resolved.path, query: resolved.query,
                    fragment: resolved.fragment)
            } catch {
                failures += 1
                if failures <= Self.reportedFailures { XCTFail("\"\(reference)\" against \"\(base)\" threw \(error)") }
                continue
            }
            if actual != expected {
                failures += 1
                if failures <= Self.reportedFailures {
                    XCTFail("\"\(reference)\" against \"\(base)\": \(actual), RFC: \(expected)")
                }
            }
        }
        XCTAssertEqual(failures, 0, "failed cases")
    }

    /// RFC 3986 §5.2.4, step by step, on `String`.
    static func referenceRemoveDotSegments(_ path: String) -> String {
        var input = path
        var output = ""
        func removeLastSegmentOfOutput() {
            if let slash = output.lastIndex(of: "/") {
                output = String(output[..<slash])
            } else {
                output = ""
            }
        }
        while !input.isEmpty {
            if input.hasPrefix("../") {
                // A. "If the input buffer begins with a prefix of "../" or "./", then remove that
                // prefix from the input buffer"
                input.removeFirst(3)
            } else if input.hasPrefix("./") {
                input.removeFirst(2)
            } else if input.hasPrefix("/./") {
                // B. "if the input buffer begins with a prefix of "/./" or "/.", where "." is a
                // complete path segment, then replace that prefix with "/""
                input = "/" + input.dropFirst(3)
            } else if input == "/." {
                input = "/"
            } else if input.hasPrefix("/../") {
                // C. "... "/../" or "/..", where ".." is a complete path segment, then replace that
                // prefix with "/" and remove the last segment and its preceding "/" (if any) from
                // the output buffer"
                input = "/" + input.dropFirst(4)
                removeLastSegmentOfOutput()
            } else if input == "/.." {
                input = "/"
                removeLastSegmentOfOutput()
            } else if input == "." || input == ".." {
                // D. "if the input buffer consists only of "." or "..", then remove that from the
                // input buffer"
                input = ""
            } else {
                // E. "move the first path segment in the input buffer to the end of the output
                // buffer, including the initial "/" character (if any) and any subsequent
                // characters up to, but not including, the next "/""
                var segment = ""
                if input.first == "/" { segment.append(input.removeFirst()) }
                while let first = input.first, first != "/" { segment.append(input.removeFirst()) }
                output += segment
            }
        }
        return output
    }

    struct URIComponents: Equatable, CustomStringConvertible {
        var scheme: String?
        var authority: String?
        var path: String
        var query: String?
        var fragment: String?

        /// RFC 3986 §5.3.
        var recomposed: String {
            var result = ""
            if let scheme { result += scheme + ":" }
            if let authority { result += "//" + authority }
            result += path
            if let query { result += "?" + query }
            if let fragment { result += "#" + fragment }
            return result
        }

        var description: String {
            "(\(scheme ?? "nil"), \(authority ?? "nil"), \(path), \(query ?? "nil"), \(fragment ?? "nil"))"
        }
    }

    nonisolated(unsafe) private static let appendixB = try! Regex(
        "^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\\?([^#]*))?(#(.*))?")

    /// RFC 3986 Appendix B's regular expression.
    static func referenceSplit(_ text: String) -> URIComponents {
        let match = try! appendixB.wholeMatch(in: text)!
        func group(_ index: Int) -> String? { match.output[index].substring.map(String.init) }
        return URIComponents(
            scheme: group(2), authority: group(4), path: group(5) ?? "", query: group(7), fragment: group(9))
    }

    /// RFC 3986 §5.2.2's pseudo-code (strict), with §5.2.3's merge.
    static func referenceResolve(_ reference: String, against base: String) -> URIComponents {
        let r = referenceSplit(reference)
        let b = referenceSplit(base)
        var t = URIComponents(path: "")
        if r.scheme != nil {
            t.scheme = r.scheme
            t.authority = r.authority
            t.path = referenceRemoveDotSegments(r.path)
            t.query = r.query
        } else {
            if r.authority != nil {
                t.authority = r.authority
                t.path = referenceRemoveDotSegments(r.path)
                t.query = r.query
            } else {
                if r.path == "" {
                    t.path = b.path
                    t.query = r.query ?? b.query
                } else {
                    if r.path.hasPrefix("/") {
                        t.path = referenceRemoveDotSegments(r.path)
                    } else {
                        let merged: String
                        if b.authority != nil && b.path == "" {
                            merged = "/" + r.path
                        } else if let slash = b.path.lastIndex(of: "/") {
                            merged = b.path[...slash] + r.path
                        } else {
                            merged = r.path
                        }
                        t.path = referenceRemoveDotSegments(merged)
                    }
                    t.query = r.query
                }
                t.authority = b.authority
            }
            t.scheme = b.scheme
        }
        t.fragment = r.fragment
        return t
    }

    private static func pick(_ choices: [String], _ rng: inout SplitMix64) -> String {
        choices[Int(rng.next() % UInt64(choices.count))]
    }

    /// 0–9 pieces from RFC 3986 dot-segment material.
    private static func randomPath(_ rng: inout SplitMix64) -> String {
        let pieces = ["a", "b", ".", "..", "/", "", "%2E"]
        var path = ""
        for _ in 0..<Int(rng.next() % 10) { path += pick(pieces, &rng) }
        return path
    }

    private static func randomBase(_ rng: inout SplitMix64) -> String {
        var base = pick(["http", "foo"], &rng) + ":"
        var path = randomPath(&rng)
        if rng.next() % 3 != 0 {
            base += "//" + pick(["a", "", "u@h:81", "a.b"], &rng)
            if !path.isEmpty && !path.hasPrefix("/") { path = "/" + path }
        } else {
            // Without an authority, a path cannot start with "//".
            while path.hasPrefix("//") { path.removeFirst() }
        }
        base += path
        if rng.next() % 3 == 0 { base += "?" + pick(["", "q", "x/../y"], &rng) }
        if rng.next() % 5 == 0 { base += "#f" }
        return base
    }

    private static func randomReference(_ rng: inout SplitMix64) -> String {
        var reference = ""
        if rng.next() % 5 == 0 { reference += pick(["g:", "http:", "foo:"], &rng) }
        let hasAuthority = rng.next() % 6 == 0
        if hasAuthority { reference += "//" + pick(["g", "", "v@w:82"], &rng) }
        var path = randomPath(&rng)
        if hasAuthority {
            // After an authority the path is empty or starts with "/".
            if !path.isEmpty && !path.hasPrefix("/") { path = "/" + path }
        } else {
            while path.hasPrefix("//") { path.removeFirst() }
        }
        reference += path
        if rng.next() % 3 == 0 { reference += "?" + pick(["", "y", "y/./x", "/../"], &rng) }
        if rng.next() % 4 == 0 { reference += "#" + pick(["", "s", "s/../x"], &rng) }
        return reference
    }

    // MARK: - RFC 9110 §12.4.2 qvalue

    /// `Headers.qvalue` equals a regular expression of the `qvalue` grammar (and the value its
    /// digits spell) on random strings of digits, dots, signs, exponents, `q=`, `;` and spaces;
    /// `acceptsCoding` accepts a weighted coding exactly when the weight is a qvalue above 0, and
    /// never accepts one whose first weight is not.
    func testQvalueMatchesTheGrammar() {
        var rng = SplitMix64(seed: 0x12_4_2)
        let pieces = ["0", "1", ".", "0", "1", ".", "5", "9", "2", "q=", "Q=", ";", " ", "e", "-", "+"]
        var failures = 0
        func fail(_ message: String) {
            failures += 1
            if failures <= Self.reportedFailures { XCTFail(message) }
        }
        var valid = 0
        for _ in 0..<4000 {
            var text = ""
            if rng.next() % 2 == 0 {
                // Close to a qvalue: "0" or "1", maybe ".", digits.
                text = Self.pick(["0", "1"], &rng) + (rng.next() % 4 == 0 ? "" : ".")
                for _ in 0..<Int(rng.next() % 5) { text += Self.pick(["0", "0", "1", "5", "9"], &rng) }
            }
            for _ in 0..<Int(rng.next() % (text.isEmpty ? 8 : 2)) { text += Self.pick(pieces, &rng) }
            let expected = Self.referenceQvalue(text)
            if expected != nil { valid += 1 }
            let actual = Headers.qvalue(Substring(text))
            if actual != expected {
                fail(
                    "qvalue(\"\(text)\") = \(actual.map(String.init) ?? "nil"), grammar: \(expected.map(String.init) ?? "nil")"
                )
            }

            let name = Self.pick(["q=", "Q="], &rng)
            let ows = Self.pick(["", " ", "\t", "  "], &rng)
            let value =
                Self.pick(["gzip", "GZip", " gzip"], &rng) + ows + ";" + Self.pick(["", " "], &rng) + name + text
            var headers = Headers()
            headers.append("te", value)
            let accepts = headers.acceptsCoding("gzip", in: "te")
            // What follows the weight up to the end of the element (there is no "," here).
            let weight = text.prefix { $0 != ";" }
            let trimmed = String(weight.reversed().drop { $0 == " " }.reversed())
            let weightAccepts = (Self.referenceQvalue(trimmed) ?? 0) > 0
            if text.contains(";") {
                if accepts && !weightAccepts { fail("accepts \"\(value)\", whose weight is not a qvalue above 0") }
            } else if accepts != weightAccepts {
                fail("acceptsCoding(\"\(value)\") = \(accepts), grammar: \(weightAccepts)")
            }
        }
        // The strings reach valid qvalues often enough to test both sides.
        XCTAssertGreaterThan(valid, 400)
        XCTAssertEqual(failures, 0, "failed cases")
    }

    nonisolated(unsafe) private static let qvalueGrammar = try! Regex("0(\\.[0-9]{0,3})?|1(\\.0{0,3})?")

    /// RFC 9110 §12.4.2: `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in
    /// thousandths.
    static func referenceQvalue(_ text: String) -> Int? {
        guard (try? qvalueGrammar.wholeMatch(in: text)) != nil else { return nil }
        if text.hasPrefix("1") { return 1000 }
        let digits = text.dropFirst(2) + String(repeating: "0", count: 3 - max(text.count - 2, 0))
        return Int(digits)!
    }

    // MARK: - Random bodies

    /// Random data: empty, one octet, text-like (compressible), runs, or random octets (not),
    /// mostly small, sometimes past 64 KiB, now and then one octet repeated to just past a
    /// multiple of zlib's 32 KiB pass (where a pass can end inside the last match).
    static func randomData(_ rng: inout SplitMix64) -> [UInt8] {
        let size: Int
        let kind = rng.next() % 3
        switch rng.next() % 20 {
        case 0: return []
        case 1: return [UInt8(truncatingIfNeeded: rng.next())]
        case 2...10: size = 2 + Int(rng.next() % 4096)
        case 11...15: size = 4096 + Int(rng.next() % (70 * 1024))
        case 16, 17: size = 64 * 1024 + Int(rng.next() % (400 * 1024))
        default:
            // One run: with few symbols, the code that ends the data is short enough to share an
            // octet with the last match's codes, which zlib then takes before writing the match.
            let size = 32 * 1024 * (1 + Int(rng.next() % 12)) + 1 + Int(rng.next() % 300)
            return [UInt8](repeating: UInt8(truncatingIfNeeded: rng.next()), count: size)
        }
        if kind == 0 {
            // Random octets: does not compress.
            let start = Int(rng.next() % UInt64(noise.count - size))
            return Array(noise[start..<(start + size)])
        }
        // Written through pointers: element by element, debug builds take seconds.
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var filled = 0
            while filled < size {
                let piece: Int
                switch kind {
                case 1:
                    // Slices of a text: compresses a few times over.
                    let start = Int(rng.next() % UInt64(text.count))
                    piece = min(text.count - start, 1 + Int(rng.next() % 2000), size - filled)
                    text.withUnsafeBytes {
                        UnsafeMutableRawBufferPointer(rebasing: raw[filled..<(filled + piece)])
                            .copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<(start + piece)]))
                    }
                default:
                    // Long runs: compresses a thousandfold.
                    piece = min(size - filled, Int(rng.next() % 20_000))
                    UnsafeMutableRawBufferPointer(rebasing: raw[filled..<(filled + piece)])
                        .initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: rng.next()))
                }
                filled += piece
            }
            count = size
        }
    }

    private static var noise: [UInt8] { SampleData.noise }
    private static var text: [UInt8] { SampleData.text }

    struct CodedBody {
        var codings: [String]
        var body: [UInt8]
        var label: String
        /// An octet was changed (which may be harmless).
        var changed = false
    }

    /// `data` under 1–3 random codings (gzip, x-gzip, deflate as zlib or raw deflate, levels 0–9, a
    /// gzip body sometimes in two members). With `corrupt`, one stage's output is cut short, has
    /// an octet changed where a checksum covers it, or gets octets after its end.
    static func randomChain(over data: [UInt8], corrupt: Bool = false, _ rng: inout SplitMix64) throws -> CodedBody {
        let count = 1 + Int(rng.next() % 3)
        let corruptStage = corrupt ? Int(rng.next() % UInt64(count)) : -1
        var body = data
        var codings: [String] = []
        var labels: [String] = []
        var changed = false
        for stage in 0..<count {
            let coding = pick(["gzip", "x-gzip", "deflate"], &rng)
            let coded = try RandomCoding(body[...], name: coding, corrupt: stage == corruptStage, &rng)
            body = coded.body
            changed = changed || coded.changed
            codings.append(coding)
            labels.append(coded.label)
        }
        return CodedBody(codings: codings, body: body, label: labels.joined(separator: ", "), changed: changed)
    }

    /// `body` in random pieces: some empty, mostly small, now and then large.
    static func randomSplit(_ body: [UInt8], _ rng: inout SplitMix64) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        var start = 0
        let whole = rng.next() % 4 == 0
        while start < body.count || pieces.isEmpty {
            let length: Int
            switch rng.next() % 8 {
            case 0: length = 0
            case 1, 2: length = 1 + Int(rng.next() % 16)
            case 3, 4, 5: length = 1 + Int(rng.next() % 4096)
            default: length = 1 + Int(rng.next() % (128 * 1024))
            }
            let end = whole ? body.count : min(body.count, start + length)
            pieces.append(Array(body[start..<end]))
            start = end
        }
        return pieces
    }
}
