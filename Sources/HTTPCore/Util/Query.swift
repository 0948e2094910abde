// Query strings: `name=value&name2=value2`, as lua-http's `query_args` and `dict_to_query`.

extension HTTPUtil {
    /// The `name=value` pairs of a query string (without the leading `?`), in order, lazily.
    ///
    /// - Pairs are separated by `&`; empty pairs (`a=1&&b=2`, a trailing `&`) are skipped.
    /// - The name ends at the first `=`; a pair without `=` has a nil value (`flag` → `("flag",
    ///   nil)`), while `flag=` has the value `""`.
    /// - Names and values are percent-decoded as by `decodeURIComponent`. `+` is **not** turned into
    ///   a space (that is HTML form encoding, not URI syntax; lua-http does the same).
    public static func queryArguments(_ query: String) -> QueryArguments {
        QueryArguments(query)
    }

    /// A query string from ordered pairs: `name=value` joined by `&`, each part encoded with
    /// `encodeURIComponent`.
    public static func query(from pairs: some Sequence<(String, String)>) -> String {
        var out = ""
        for (name, value) in pairs {
            if !out.isEmpty { out += "&" }
            out += encodeURIComponent(name)
            out += "="
            out += encodeURIComponent(value)
        }
        return out
    }

    /// A query string from a dictionary, in the byte order of the names so the result is the same
    /// every time (lua-http leaves the order unspecified).
    public static func query(from dictionary: [String: String]) -> String {
        let sorted = dictionary.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        return query(from: sorted.lazy.map { ($0.key, $0.value) })
    }
}

/// The pairs of a query string; see `HTTPUtil.queryArguments(_:)`.
public struct QueryArguments: Sequence, Sendable {
    public typealias Element = (name: String, value: String?)

    let query: Substring.UTF8View

    init(_ query: String) {
        self.query = Substring(query).utf8
    }

    public struct Iterator: IteratorProtocol {
        let query: Substring.UTF8View
        var position: Substring.UTF8View.Index

        public mutating func next() -> (name: String, value: String?)? {
            while position != query.endIndex {
                let end = query[position...].firstIndex(of: UInt8(ascii: "&")) ?? query.endIndex
                let pair = query[position..<end]
                position = end == query.endIndex ? end : query.index(after: end)
                if pair.isEmpty { continue }
                if let equals = pair.firstIndex(of: UInt8(ascii: "=")) {
                    return (
                        Iterator.decode(pair[pair.startIndex..<equals]),
                        Iterator.decode(pair[pair.index(after: equals)...])
                    )
                }
                return (Iterator.decode(pair), nil)
            }
            return nil
        }

        private static func decode(_ part: Substring.UTF8View.SubSequence) -> String {
            if !part.contains(UInt8(ascii: "%")) { return String(Substring(part)) }
            var out: [UInt8] = []
            out.reserveCapacity(part.count)
            HTTPUtil.appendPercentDecoded(part, keepingEncoded: nil, to: &out)
            return String(decoding: out, as: UTF8.self)
        }
    }

    public func makeIterator() -> Iterator {
        Iterator(query: query, position: query.startIndex)
    }
}
