import TestSupport
import XCTest

@testable import HTTPCore

final class HeadersTests: XCTestCase {
    private func triples(_ h: Headers) -> [[String]] {
        h.map { [$0.name, $0.value, String($0.neverIndex)] }
    }

    // lua-http: "multiple values can be added for same key"
    func testMultipleValuesForSameName() {
        var h = Headers()
        h.append("a", "a", neverIndex: false)
        h.append("a", "b", neverIndex: false)
        h.append("foo", "bar", neverIndex: true)
        h.append("a", "c", neverIndex: false)
        h.append("a", "a", neverIndex: true)
        XCTAssertEqual(
            triples(h),
            [
                ["a", "a", "false"], ["a", "b", "false"], ["foo", "bar", "true"], ["a", "c", "false"],
                ["a", "a", "true"],
            ])
        XCTAssertEqual(h.values(for: "a"), ["a", "b", "c", "a"])
        XCTAssertEqual(h.count(of: "a"), 4)
        XCTAssertEqual(h.first("a"), "a")
    }

    // lua-http: "entries are kept in order"
    func testEntriesKeptInOrder() {
        var h = Headers()
        h.append("a", "a", neverIndex: false)
        h.append("b", "b", neverIndex: true)
        h.append("c", "c", neverIndex: false)
        h.append("d", "d", neverIndex: true)
        h.append("d", "d", neverIndex: true)
        h.append("e", "e", neverIndex: false)
        XCTAssertEqual(h.count, 6)
        XCTAssertEqual(h.map(\.name), ["a", "b", "c", "d", "d", "e"])
        XCTAssertEqual(Array(h), h.fields)
        var seen: [String] = []
        for field in h { seen.append(field.value) }
        XCTAssertEqual(seen, ["a", "b", "c", "d", "d", "e"])
        XCTAssertEqual(h.underestimatedCount, 6)
    }

    func testCloneIsEqualAndIndependent() {
        var h = Headers()
        h.append("a", "a", neverIndex: false)
        h.append("b", "b", neverIndex: true)
        h.append("c", "c", neverIndex: false)
        var j = h.clone()
        XCTAssertEqual(h, j)
        j.append("d", "d")
        j.modify(at: 0, value: "changed")
        XCTAssertTrue(j.delete("b"))
        XCTAssertNotEqual(h, j)
        XCTAssertEqual(triples(h), [["a", "a", "false"], ["b", "b", "true"], ["c", "c", "false"]])
        XCTAssertEqual(
            triples(j), [["a", "changed", "false"], ["c", "c", "false"], ["d", "d", "false"]])
    }

    func testHasAndDelete() {
        var h = Headers()
        XCTAssertFalse(h.has("a"))
        XCTAssertFalse(h.delete("a"))
        h.append("a", "a")
        XCTAssertTrue(h.has("a"))
        XCTAssertFalse(h.has("b"))
        XCTAssertTrue(h.delete("a"))
        XCTAssertFalse(h.has("a"))
        XCTAssertFalse(h.delete("a"))
        XCTAssertEqual(h.count, 0)
    }

    func testDeleteRemovesEveryOccurrenceAndKeepsTheRestInOrder() {
        var h = Headers()
        for (name, value) in [("x", "1"), ("a", "2"), ("x", "3"), ("b", "4"), ("x", "5")] {
            h.append(name, value)
        }
        XCTAssertTrue(h.delete("x"))
        XCTAssertEqual(h.map(\.value), ["2", "4"])
        XCTAssertNil(h.first("x"))
    }

    func testNameMatchingIsExact() {
        var h = Headers()
        h.append("content-type", "text/plain")
        XCTAssertNil(h.first("Content-Type"), "names are stored lower case and matched exactly")
        XCTAssertFalse(h.has("content-typ"))
    }

    /// Names are octets (RFC 9110 §5.1): two names match only when their UTF-8 is identical, not
    /// when String's `==` calls them canonically equivalent, and a small set (scanned) and a large
    /// one (indexed) answer alike.
    /// Equality of fields, and so of `Headers`, compares octets as lookups do: canonically
    /// equivalent but different names or values ("caf\u{E9}", "cafe\u{301}") are different
    /// fields, and hashing agrees with equality.
    func testFieldEqualityComparesOctets() {
        let precomposed = Headers.Field(name: "x-caf\u{E9}", value: "caf\u{E9}", neverIndex: false)
        let decomposed = Headers.Field(name: "x-cafe\u{301}", value: "caf\u{E9}", neverIndex: false)
        let decomposedValue = Headers.Field(name: "x-caf\u{E9}", value: "cafe\u{301}", neverIndex: false)
        XCTAssertNotEqual(precomposed, decomposed)
        XCTAssertNotEqual(precomposed, decomposedValue)
        XCTAssertEqual(Set([precomposed, decomposed, decomposedValue]).count, 3)
        let same = Headers.Field(
            name: "x-caf" + "\u{E9}", value: String(decoding: Array("caf\u{E9}".utf8), as: UTF8.self), neverIndex: false
        )
        XCTAssertEqual(precomposed, same)
        XCTAssertEqual(precomposed.hashValue, same.hashValue)
        XCTAssertNotEqual(precomposed, Headers.Field(name: "x-caf\u{E9}", value: "caf\u{E9}", neverIndex: true))
        var a = Headers()
        a.append("x-caf\u{E9}", "1")
        var b = Headers()
        b.append("x-cafe\u{301}", "1")
        XCTAssertNotEqual(a, b)
    }

    func testNamesMatchByteForByteAtEverySize() throws {
        // Canonically equivalent pairs: one of different lengths, one of the same length.
        let precomposed = "caf\u{E9}"
        let decomposed = "cafe\u{301}"
        let acuteThenDot = "a\u{301}\u{323}"
        let dotThenAcute = "a\u{323}\u{301}"
        XCTAssertEqual(precomposed, decomposed)
        XCTAssertEqual(acuteThenDot, dotThenAcute)
        XCTAssertEqual(acuteThenDot.utf8.count, dotThenAcute.utf8.count)

        for size in [0, Headers.indexThreshold] {
            var h = Headers()
            for i in 0..<size { h.append("filler-\(i)", "f") }
            h.append(precomposed, "p")
            h.append(acuteThenDot, "a")
            XCTAssertEqual(h.index != nil, size > 0)
            for (name, value) in [(precomposed, "p"), (acuteThenDot, "a")] {
                XCTAssertEqual(h.first(name), value, "size \(size)")
                XCTAssertEqual(h.values(for: name), [value], "size \(size)")
                XCTAssertEqual(h.count(of: name), 1, "size \(size)")
            }
            for name in [decomposed, dotThenAcute] {
                XCTAssertFalse(h.has(name), "size \(size)")
                XCTAssertNil(h.first(name), "size \(size)")
                XCTAssertEqual(h.values(for: name), [], "size \(size)")
                XCTAssertEqual(h.count(of: name), 0, "size \(size)")
                XCTAssertNil(h.commaSeparated(name), "size \(size)")
                XCTAssertFalse(h.hasToken(name, "p"), "size \(size)")
            }
            var deleted = h
            XCTAssertFalse(deleted.delete(decomposed), "size \(size)")
            XCTAssertFalse(deleted.delete(dotThenAcute), "size \(size)")
            XCTAssertEqual(deleted.count, h.count, "size \(size)")

            // upsert of the other spelling appends a field of its own, replacing nothing.
            var upserted = h
            try upserted.upsert(decomposed, "d")
            XCTAssertEqual(upserted.count, h.count + 1, "size \(size)")
            XCTAssertEqual(upserted.first(precomposed), "p", "size \(size)")
            XCTAssertEqual(upserted.first(decomposed), "d", "size \(size)")
            XCTAssertEqual(Array(upserted.fields.last!.name.utf8), Array(decomposed.utf8))
        }
    }

    func testCommaSeparated() {
        var h = Headers()
        XCTAssertNil(h.commaSeparated("a"))
        h.append("a", "a")
        XCTAssertEqual(h.commaSeparated("a"), "a")
        h.append("b", "x")
        h.append("a", "b")
        h.append("a", "c")
        XCTAssertEqual(h.commaSeparated("a"), "a, b, c")
        h.append("e", "")
        XCTAssertEqual(h.commaSeparated("e"), "")
    }

    func testFieldAtIsZeroBased() {
        var h = Headers()
        h.append(":status", "200")
        h.append("set-cookie", "foo=bar")
        XCTAssertEqual(h.field(at: 0), Headers.Field(name: ":status", value: "200", neverIndex: false))
        XCTAssertEqual(
            h.field(at: 1), Headers.Field(name: "set-cookie", value: "foo=bar", neverIndex: true))
    }

    // lua-http: ":modifyi works" (its out-of-range case is a precondition failure here: it traps, so
    // it is not exercised in-process).
    func testModify() {
        var h = Headers()
        h.append("key", "val")
        XCTAssertEqual(h.first("key"), "val")
        h.modify(at: 0, value: "val")
        XCTAssertEqual(h.first("key"), "val")
        h.modify(at: 0, value: "val2")
        XCTAssertEqual(h.first("key"), "val2")
        XCTAssertEqual(h.count, 1)
        h.modify(at: 0, value: "val3", neverIndex: true)
        XCTAssertEqual(h.field(at: 0), Headers.Field(name: "key", value: "val3", neverIndex: true))
        // nil → the name's default again
        h.modify(at: 0, value: "val4")
        XCTAssertFalse(h.field(at: 0).neverIndex)
    }

    // lua-http: ":upsert works"
    func testUpsert() throws {
        var h = Headers()
        h.append("a", "a", neverIndex: false)
        h.append("b", "b", neverIndex: true)
        h.append("c", "c", neverIndex: false)
        XCTAssertEqual(h.count, 3)
        try h.upsert("b", "foo", neverIndex: false)
        XCTAssertEqual(h.count, 3)
        XCTAssertEqual(h.first("b"), "foo")
        try h.upsert("d", "d", neverIndex: false)
        XCTAssertEqual(h.count, 4)
        XCTAssertEqual(
            triples(h),
            [["a", "a", "false"], ["b", "foo", "false"], ["c", "c", "false"], ["d", "d", "false"]])
    }

    // lua-http: ":upsert fails on multi-valued field"
    func testUpsertThrowsOnMultiValuedField() {
        var h = Headers()
        h.append("a", "a")
        h.append("a", "b")
        let before = h
        XCTAssertThrowsError(try h.upsert("a", "something else")) { error in
            XCTAssertEqual(error as? HeadersError, .multipleValues("a"))
            XCTAssertEqual(
                String(describing: error), "header field 'a' has multiple values: upsert cannot replace it")
        }
        XCTAssertEqual(h, before, "a failed upsert changes nothing")
    }

    // lua-http: "never_index defaults to sensible boolean"
    func testNeverIndexDefaults() throws {
        var h = Headers()
        h.append("content-type", "application/json")
        h.append("authorization", "supersecret")
        XCTAssertEqual(
            h.field(at: 0),
            Headers.Field(name: "content-type", value: "application/json", neverIndex: false))
        XCTAssertEqual(
            h.field(at: 1), Headers.Field(name: "authorization", value: "supersecret", neverIndex: true))
        try h.upsert("authorization", "different secret")
        XCTAssertEqual(
            h.field(at: 1),
            Headers.Field(name: "authorization", value: "different secret", neverIndex: true))
        for name in ["authorization", "proxy-authorization", "cookie", "set-cookie"] {
            XCTAssertTrue(Headers.defaultNeverIndex(name), name)
        }
        for name in ["content-type", "Authorization", "cookie2", ":authority", "www-authenticate"] {
            XCTAssertFalse(Headers.defaultNeverIndex(name), name)
        }
        h.append("cookie", "a=b", neverIndex: false)
        XCTAssertFalse(h.field(at: 2).neverIndex, "an explicit flag wins over the default")
    }

    // lua-http: ":sort works" (pseudo-headers first, then name, value, never-index; twice for stability)
    func testSort() {
        var h = Headers()
        h.append("z", "1")
        h.append("b", "3")
        h.append("z", "2")
        h.append(":special", "!")
        h.append("a", "5")
        h.append("z", "6", neverIndex: true)
        for _ in 0..<2 {
            h.sort()
            XCTAssertEqual(
                triples(h),
                [
                    [":special", "!", "false"], ["a", "5", "false"], ["b", "3", "false"],
                    ["z", "1", "false"],
                    ["z", "2", "false"], ["z", "6", "true"],
                ])
        }
    }

    func testSortPutsPseudoHeadersFirstEvenBeforeLowerBytesAndBreaksTiesOnNeverIndex() {
        var h = Headers()
        h.append("!bang", "x")  // '!' (0x21) sorts before ':' (0x3A) by bytes
        h.append(":path", "/")
        h.append("x", "v", neverIndex: true)
        h.append(":method", "GET")
        h.append("x", "v", neverIndex: false)
        h.append("x", "V")  // upper case sorts before lower case by bytes
        h.sort()
        XCTAssertEqual(
            triples(h),
            [
                [":method", "GET", "false"], [":path", "/", "false"], ["!bang", "x", "false"],
                ["x", "V", "false"],
                ["x", "v", "false"], ["x", "v", "true"],
            ])
    }

    func testSortComparesBytesNotUnicodeCollation() {
        var h = Headers()
        // "é" precomposed (C3 A9) vs "e" + combining acute (65 CC 81): canonically equal Strings,
        // but byte order puts the decomposed form first.
        h.append("n", "\u{E9}")
        h.append("n", "e\u{301}")
        h.sort()
        XCTAssertEqual(h.map { Array($0.value.utf8) }, [[0x65, 0xCC, 0x81], [0xC3, 0xA9]])
    }

    func testDumpPrintsEveryValueWithPrefix() {
        var h = Headers()
        h.append(":status", "200")
        h.append("set-cookie", "foo=bar")
        XCTAssertEqual(h.dump(), ":status: 200\nset-cookie: foo=bar\n")
        XCTAssertEqual(h.dump(prefix: "> "), "> :status: 200\n> set-cookie: foo=bar\n")
        XCTAssertEqual(Headers().dump(prefix: "> "), "")
    }

    func testDescriptionRedactsNeverIndexValues() {
        var h = Headers()
        h.append(":status", "200")
        h.append("authorization", "Bearer secret")
        h.append("x-token", "hidden", neverIndex: true)
        let text = String(describing: h)
        XCTAssertEqual(
            text, #"Headers([":status": "200", "authorization": <redacted>, "x-token": <redacted>])"#)
        XCTAssertFalse(String(reflecting: h).contains("secret"))
        XCTAssertFalse(String(reflecting: h).contains("hidden"))
        XCTAssertEqual(Headers().description, "Headers([])")
    }

    func testCloneOfNeverIndexKeepsFlags() {
        var h = Headers()
        h.append("cookie", "a=b")
        XCTAssertTrue(h.clone().field(at: 0).neverIndex)
    }

    // MARK: - The name index on large sets

    func testIndexIsBuiltOnlyForLargeSetsAndDroppedWhenTheyShrink() {
        var h = Headers()
        for i in 0..<(Headers.indexThreshold - 1) { h.append("n\(i % 5)", "\(i)") }
        XCTAssertNil(h.index, "small sets are scanned linearly")
        h.append("last", "x")
        XCTAssertNotNil(h.index)
        XCTAssertEqual(h.first("last"), "x")
        XCTAssertTrue(h.delete("n0"))
        XCTAssertNil(h.index)
        XCTAssertEqual(h.first("last"), "x")
    }

    func testEqualityIgnoresTheIndex() {
        var big = Headers()
        var small = Headers()
        for i in 0..<Headers.indexThreshold { big.append("k\(i)", "v") }
        for i in 0..<(Headers.indexThreshold - 1) { small.append("k\(i)", "v") }
        XCTAssertNotEqual(big, small)
        big.delete("k\(Headers.indexThreshold - 1)")
        XCTAssertEqual(big, small)

        // Same fields, one set with an index and one without.
        var indexed = Headers()
        for i in 0..<40 { indexed.append("k\(i)", "v") }
        for i in 5..<40 { indexed.delete("k\(i)") }
        var plain = Headers()
        for i in 0..<5 { plain.append("k\(i)", "v") }
        XCTAssertEqual(indexed, plain)
    }

    func testDirectFieldMutationKeepsTheIndexTrue() {
        var h = Headers()
        for i in 0..<50 { h.append("k\(i)", "v\(i)") }
        h.fields[3].name = "renamed"
        h.fields[4].value = "new"
        XCTAssertEqual(h.first("renamed"), "v3")
        XCTAssertNil(h.first("k3"))
        XCTAssertEqual(h.first("k4"), "new")
        h.fields.append(Headers.Field(name: "tail", value: "t", neverIndex: false))
        XCTAssertEqual(h.first("tail"), "t")
        h.fields.removeAll()
        XCTAssertNil(h.index)
        XCTAssertFalse(h.has("tail"))
    }

    /// A mutation of `fields` that throws half-way keeps what it changed, and the index follows
    /// it: the index is rebuilt even when the access ends by an error.
    func testAThrowingFieldMutationKeepsTheIndexTrue() {
        struct Stop: Error {}
        func renameThenThrow(_ fields: inout [Headers.Field]) throws {
            fields[3].name = "renamed"
            throw Stop()
        }
        var h = Headers()
        for i in 0..<50 { h.append("k\(i)", "v\(i)") }
        XCTAssertNotNil(h.index)
        XCTAssertThrowsError(try renameThenThrow(&h.fields))
        XCTAssertEqual(h.fields[3].name, "renamed")
        XCTAssertEqual(h.first("renamed"), "v3")
        XCTAssertNil(h.first("k3"))
        XCTAssertFalse(h.has("k3"))
    }

    /// Random operations on sets that cross the index threshold both ways, checked against a plain
    /// array model after every step.
    func testRandomOperationsMatchALinearModel() throws {
        var rng = SplitMix64(seed: 0x5eed)
        let names = (0..<12).map { "name-\($0)" } + ["cookie", ":path"]
        var h = Headers()
        var model: [Headers.Field] = []

        func check(_ step: Int) {
            XCTAssertEqual(h.fields, model, "step \(step)")
            XCTAssertEqual(h.count, model.count)
            for name in names + ["absent"] {
                let values = model.filter { $0.name == name }.map(\.value)
                XCTAssertEqual(h.values(for: name), values, "step \(step) \(name)")
                XCTAssertEqual(h.first(name), values.first, "step \(step) \(name)")
                XCTAssertEqual(h.has(name), !values.isEmpty)
                XCTAssertEqual(h.count(of: name), values.count)
                XCTAssertEqual(
                    h.commaSeparated(name), values.isEmpty ? nil : values.joined(separator: ", "))
            }
        }

        var sawIndex = false
        var sawNoIndexAfterIndex = false
        for step in 0..<3000 {
            let name = names[Int(rng.next() % UInt64(names.count))]
            let value = "v\(rng.next() % 7)"
            // Bias towards appends so that the set keeps growing past the threshold.
            switch rng.next() % 20 {
            case 0..<12:
                h.append(name, value)
                model.append(
                    Headers.Field(name: name, value: value, neverIndex: Headers.defaultNeverIndex(name)))
            case 12:
                let removed = model.contains { $0.name == name }
                model.removeAll { $0.name == name }
                XCTAssertEqual(h.delete(name), removed)
            case 13, 14:
                let positions = model.indices.filter { model[$0].name == name }
                if positions.count > 1 {
                    XCTAssertThrowsError(try h.upsert(name, value))
                } else {
                    try h.upsert(name, value)
                    let field = Headers.Field(
                        name: name, value: value, neverIndex: Headers.defaultNeverIndex(name))
                    if let p = positions.first { model[p] = field } else { model.append(field) }
                }
            case 15, 16:
                if !model.isEmpty {
                    let p = Int(rng.next() % UInt64(model.count))
                    h.modify(at: p, value: value, neverIndex: true)
                    model[p].value = value
                    model[p].neverIndex = true
                }
            case 17:
                h.sort()
                model.sort {
                    let ap = $0.name.hasPrefix(":")
                    let bp = $1.name.hasPrefix(":")
                    if ap != bp { return ap }
                    if $0.name != $1.name {
                        return Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8))
                    }
                    if $0.value != $1.value {
                        return Array($0.value.utf8).lexicographicallyPrecedes(Array($1.value.utf8))
                    }
                    return !$0.neverIndex && $1.neverIndex
                }
            case 18:
                let copy = h.clone()
                h.append("scratch", "x")
                h = copy
            default:
                // Shrink hard now and then, so that the index is dropped and rebuilt.
                if model.count > 60 {
                    for n in names.prefix(8) {
                        h.delete(n)
                        model.removeAll { $0.name == n }
                    }
                }
            }
            if h.index != nil { sawIndex = true } else if sawIndex { sawNoIndexAfterIndex = true }
            check(step)
        }
        XCTAssertTrue(sawIndex, "the run never reached the index threshold")
        XCTAssertTrue(sawNoIndexAfterIndex, "the run never dropped the index again")
    }

    /// `removingToken` drops the element `hasToken` finds (any case, parameters and whitespace
    /// around it), keeps the other elements, other fields and their order and never-index flags,
    /// and drops a field left with no element.
    func testRemovingATokenKeepsEverythingElse() {
        var headers = Headers()
        headers.append("a", "1")
        headers.append("expect", " 100-Continue;x=1 , x-other ,, ")
        headers.append("b", "2", neverIndex: true)
        headers.append("expect", "100-continue")
        headers.append("expect", "x-100-continue, 100-continuex")
        let kept = headers.removingToken("100-continue", from: "expect")
        XCTAssertEqual(kept.map { $0.name }, ["a", "expect", "b", "expect"])
        XCTAssertEqual(kept.map { $0.value }, ["1", "x-other", "2", "x-100-continue, 100-continuex"])
        XCTAssertEqual(kept.map { $0.neverIndex }, [false, false, true, false])
        XCTAssertFalse(kept.hasToken("expect", "100-continue"))
        XCTAssertTrue(headers.hasToken("expect", "100-continue"), "the original is left alone")
    }
}
