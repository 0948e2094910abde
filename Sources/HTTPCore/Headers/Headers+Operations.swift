/// Errors from `Headers` operations that depend on the contents (not programmer misuse).
public enum HeadersError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `upsert` was asked to replace a field that occurs more than once; which one to keep is
    /// ambiguous, so nothing was changed. Delete the field first, then append.
    case multipleValues(String)

    public var description: String {
        switch self {
        case .multipleValues(let name):
            return "header field '\(name)' has multiple values: upsert cannot replace it"
        }
    }
}

// The operations of lua-http's `http.headers`, with Swift names:
// `has`, `delete`, `geti` → `field(at:)`, `get`/`get_as_sequence` → `values(for:)`,
// `get_comma_separated` → `commaSeparated(_:)`, `modifyi` → `modify(at:value:neverIndex:)`,
// `upsert`, `sort`, `clone`, `dump`.
extension Headers {
    /// Whether a field named `name` is present.
    public func has(_ name: String) -> Bool {
        if let index { return index.first(name) != nil }
        for field in storage where Headers.sameName(field.name, name) { return true }
        return false
    }

    /// The number of fields named `name`.
    public func count(of name: String) -> Int {
        if let index { return index.count(of: name) }
        var n = 0
        for field in storage where Headers.sameName(field.name, name) { n += 1 }
        return n
    }

    /// Removes every field named `name`. Returns whether any was removed. The other fields keep
    /// their order.
    @discardableResult
    public mutating func delete(_ name: String) -> Bool {
        if let index, index.first(name) == nil { return false }
        let before = storage.count
        storage.removeAll { Headers.sameName($0.name, name) }
        guard storage.count != before else { return false }
        rebuildIndex()
        return true
    }

    /// The field at `position`, counting from **0** (lua-http's `geti` counts from 1).
    /// - Precondition: `0 <= position < count`.
    public func field(at position: Int) -> Field {
        precondition(
            position >= 0 && position < storage.count,
            "Headers.field(at: \(position)): index out of range 0..<\(storage.count)")
        return storage[position]
    }

    /// Every value of `name`, in order (empty when absent). lua-http's `get`/`get_as_sequence`.
    public func values(for name: String) -> [String] {
        if let index {
            var result: [String] = []
            result.reserveCapacity(index.count(of: name))
            for position in index.positions(of: name) { result.append(storage[position].value) }
            return result
        }
        var result: [String] = []
        for field in storage where Headers.sameName(field.name, name) { result.append(field.value) }
        return result
    }

    /// Every value of `name` joined into one, or nil when absent.
    ///
    /// The separator is `", "`, the form RFC 9110 §5.3 uses when it combines field lines into one
    /// value ("…by appending each subsequent field line value to the combined field value in
    /// order, separated by a comma (",") and optional whitespace"). lua-http joins with a bare
    /// `","`; both mean the same list, and the space is what other implementations produce.
    /// Don't use it for `set-cookie`, whose values may themselves contain commas (RFC 9110 §5.3).
    public func commaSeparated(_ name: String) -> String? {
        var result: String?
        if let index {
            for position in index.positions(of: name) {
                Headers.join(&result, storage[position].value)
            }
            return result
        }
        for field in storage where Headers.sameName(field.name, name) { Headers.join(&result, field.value) }
        return result
    }

    private static func join(_ result: inout String?, _ value: String) {
        if result == nil {
            result = value
        } else {
            result!.append(", ")
            result!.append(value)
        }
    }

    /// Replaces the value (and never-index flag) of the field at `position`, counting from 0. The
    /// name is kept. A nil `neverIndex` means `defaultNeverIndex(name)`, as in `append`.
    /// - Precondition: `0 <= position < count` (a bad index is a programmer error).
    public mutating func modify(at position: Int, value: String, neverIndex: Bool? = nil) {
        precondition(
            position >= 0 && position < storage.count,
            "Headers.modify(at: \(position)): index out of range 0..<\(storage.count)")
        let name = storage[position].name
        storage[position].value = value
        storage[position].neverIndex = neverIndex ?? Headers.defaultNeverIndex(name)
        // The name is unchanged, so the index stays valid.
    }

    /// Sets the single field `name` to `value`: replaces it in place when present, appends it
    /// otherwise. A nil `neverIndex` means `defaultNeverIndex(name)`.
    /// - Throws: `HeadersError.multipleValues(name)` when `name` occurs more than once (nothing is
    ///   changed then).
    public mutating func upsert(_ name: String, _ value: String, neverIndex: Bool? = nil) throws {
        var found: Int?
        if let index {
            if index.count(of: name) > 1 { throw HeadersError.multipleValues(name) }
            found = index.first(name)
        } else {
            for (position, field) in storage.enumerated() where Headers.sameName(field.name, name) {
                if found != nil { throw HeadersError.multipleValues(name) }
                found = position
            }
        }
        if let found {
            modify(at: found, value: value, neverIndex: neverIndex)
        } else {
            append(name, value, neverIndex: neverIndex)
        }
    }

    /// Sorts the fields: pseudo-headers (names starting with `:`) first, then by name, then by
    /// value, then never-index (`false` first). Names and values compare byte by byte (UTF-8), not
    /// by Unicode collation, so the order is the same on every platform. Fields equal in all three
    /// are identical, so the order is fully determined (stable).
    public mutating func sort() {
        storage.sort(by: Headers.fieldPrecedes)
        rebuildIndex()
    }

    private static func fieldPrecedes(_ a: Field, _ b: Field) -> Bool {
        let aPseudo = a.name.utf8.first == UInt8(ascii: ":")
        let bPseudo = b.name.utf8.first == UInt8(ascii: ":")
        if aPseudo != bPseudo { return aPseudo }
        let byName = compareBytes(a.name, b.name)
        if byName != 0 { return byName < 0 }
        let byValue = compareBytes(a.value, b.value)
        if byValue != 0 { return byValue < 0 }
        return !a.neverIndex && b.neverIndex
    }

    /// Three-way comparison of the UTF-8 bytes (String's own `==` and `<` use Unicode canonical
    /// equivalence, under which different byte sequences can compare equal).
    private static func compareBytes(_ a: String, _ b: String) -> Int {
        var i = a.utf8.makeIterator()
        var j = b.utf8.makeIterator()
        while true {
            switch (i.next(), j.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case (let x?, let y?): if x != y { return x < y ? -1 : 1 }
            }
        }
    }

    /// A copy. `Headers` is a value type, so plain assignment copies too; this exists for parity
    /// with lua-http's `clone()`. Mutating the copy never changes the original.
    public func clone() -> Headers { self }

    /// The fields one per line as `prefix + name + ": " + value + "\n"`, never-index values
    /// included (it is a debugging aid, as lua-http's `dump`; `description` redacts them).
    public func dump(prefix: String = "") -> String {
        var out = ""
        for field in storage {
            out += prefix
            out += field.name
            out += ": "
            out += field.value
            out += "\n"
        }
        return out
    }
}

extension Headers: Sequence {
    public typealias Element = Field
    public typealias Iterator = IndexingIterator<[Field]>

    /// Iterates the fields in order.
    public func makeIterator() -> IndexingIterator<[Field]> { storage.makeIterator() }

    public var underestimatedCount: Int { storage.count }
}

extension Headers: CustomStringConvertible, CustomDebugStringConvertible {
    /// `Headers([":status": "200", "set-cookie": <redacted>])`: never-index values (credentials,
    /// cookies) are replaced by `<redacted>` so headers can be logged safely. `dump(prefix:)`
    /// prints them.
    public var description: String {
        var out = "Headers(["
        for (position, field) in storage.enumerated() {
            if position > 0 { out += ", " }
            out += "\"\(field.name)\": "
            out += field.neverIndex ? "<redacted>" : "\"\(field.value)\""
        }
        out += "])"
        return out
    }

    /// The same as `description`: never-index values are redacted here too.
    public var debugDescription: String { description }
}
