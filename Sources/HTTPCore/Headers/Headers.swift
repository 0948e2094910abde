/// An ordered multimap of header fields, as HTTP/1 and HTTP/2 carry them.
///
/// Field names are lower case. Request and status lines travel as the HTTP/2 pseudo-headers
/// (`:method`, `:scheme`, `:authority`, `:path`, `:status`) in HTTP/1 too, so a handler written for
/// one version runs unchanged on the other. Each field carries a never-index flag, which HPACK
/// honours; `authorization`, `proxy-authorization`, `cookie` and `set-cookie` default to it.
///
/// **Lookups.** Small header sets (the common case: fewer than `Headers.indexThreshold` fields) are
/// searched linearly, which is faster than hashing at that size. Beyond it a name index is built
/// and kept up to date by every method, so `first(_:)`, `has(_:)`, `values(for:)` and friends stay
/// O(1) in the number of fields. The index is an implementation detail: equality compares `fields`
/// only.
///
/// Operations on names and values live in `Headers+Operations.swift`.
public struct Headers: Sendable {
    /// One header field. Two fields are equal when their names and values are the same octets
    /// (as lookups compare names, not by Unicode canonical equivalence as `String`'s `==` does)
    /// and their never-index flags agree.
    public struct Field: Sendable, Equatable, Hashable {
        public var name: String
        public var value: String
        public var neverIndex: Bool

        public init(name: String, value: String, neverIndex: Bool) {
            self.name = name
            self.value = value
            self.neverIndex = neverIndex
        }

        public static func == (a: Field, b: Field) -> Bool {
            // `sameName` compares any two strings' octets; values too.
            a.neverIndex == b.neverIndex && Headers.sameName(a.name, b.name) && Headers.sameName(a.value, b.value)
        }

        public func hash(into hasher: inout Hasher) {
            Headers.hashOctets(of: name, into: &hasher)
            Headers.hashOctets(of: value, into: &hasher)
            hasher.combine(neverIndex)
        }
    }

    /// The fields, in the order they were appended.
    ///
    /// Mutating this array directly (inside the module) rebuilds the name index, which costs O(n)
    /// on large header sets: prefer the methods, which maintain it incrementally.
    public internal(set) var fields: [Field] {
        get { storage }
        set {
            storage = newValue
            rebuildIndex()
        }
        _modify {
            // In a defer: a mutation that throws ends the access without returning here, and what
            // it changed before it threw stays in `storage`.
            defer { rebuildIndex() }
            yield &storage
        }
    }

    /// The fields themselves (what `fields` exposes).
    internal var storage: [Field]
    /// Name → positions, present only while `count >= indexThreshold`.
    internal var index: NameIndex?

    /// The number of fields from which a name index is kept. Below it, a linear scan over a few
    /// short names beats hashing the name (measured: see the commit that introduced the index).
    public static let indexThreshold = 32

    public init() {
        self.init(capacity: 8)
    }

    /// An empty set with room for `capacity` fields without growing (a parser that counted the
    /// field lines makes one allocation per head).
    public init(capacity: Int) {
        storage = []
        storage.reserveCapacity(capacity)
        index = nil
    }

    /// A set holding `fields` (names already lower case), with its name index if it is large.
    internal init(fields: [Field]) {
        storage = fields
        index = nil
        rebuildIndex()
    }

    /// The number of fields.
    public var count: Int { storage.count }

    /// Whether `name` defaults to never-index (credentials and cookies must not enter HPACK tables).
    @inlinable
    public static func defaultNeverIndex(_ name: String) -> Bool {
        // The length first: most names differ from all four in length, and comparing a length is
        // much cheaper than comparing strings.
        switch name.utf8.count {
        case 6: return name == "cookie"
        case 10: return name == "set-cookie"
        case 13: return name == "authorization"
        case 19: return name == "proxy-authorization"
        default: return false
        }
    }

    /// Appends a field. `name` must already be lower case; it is not validated here (the codecs
    /// validate what they serialize). `neverIndex` defaults to `defaultNeverIndex(name)`.
    public mutating func append(_ name: String, _ value: String, neverIndex: Bool? = nil) {
        storage.append(
            Field(name: name, value: value, neverIndex: neverIndex ?? Headers.defaultNeverIndex(name)))
        if storage.count >= Headers.indexThreshold { indexAppended(name) }
    }

    /// Adds the last field to the index, building the index when the set just became large. Kept
    /// out of line so that `append` on small sets stays a compare and a branch.
    @inline(never)
    private mutating func indexAppended(_ name: String) {
        if index == nil {
            rebuildIndex()
        } else {
            index!.append(name, at: storage.count - 1)
        }
    }

    /// Name equality: the same UTF-8 octets. Field names are octets (RFC 9110 §5.1), so two names
    /// match only when their bytes do; String's own `==` (and its hash, which the name index would
    /// otherwise use) follows Unicode canonical equivalence, under which `"caf\u{E9}"` and
    /// `"cafe\u{301}"` are equal. Every name comparison of `Headers`, scanned or indexed, is this one.
    ///
    /// The length first: most names a lookup passes differ, and comparing lengths (stored in the
    /// string) is cheaper than comparing octets. Then identity (the same small-string payload or
    /// the same storage, as String's own `==` checks first): a lookup usually finds its name as
    /// the very String it passes, an interned or literal one.
    @inline(__always)
    static func sameName(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && (a._isIdentical(to: b) || sameOctets(a, b))
    }

    /// Whether `a` and `b`, of the same length, hold the same UTF-8 octets. Out of line: it is the
    /// rare case of a scan (a name of the same length, or a different String for the same name).
    @inline(never)
    static func sameOctets(_ a: String, _ b: String) -> Bool {
        // Native Strings (every String made in Swift on Linux) are contiguous UTF-8.
        a.utf8.withContiguousStorageIfAvailable { HTTP1Syntax.spells(b, UnsafeRawBufferPointer($0)) }
            ?? a.utf8.elementsEqual(b.utf8)
    }

    /// Feeds the UTF-8 octets of `string` (and its length, so that consecutive strings cannot run
    /// together) to `hasher`: the hash that goes with `sameName`.
    static func hashOctets(of string: String, into hasher: inout Hasher) {
        hasher.combine(string.utf8.count)
        let hashed: Void? = string.utf8.withContiguousStorageIfAvailable {
            hasher.combine(bytes: UnsafeRawBufferPointer($0))
        }
        if hashed == nil { Array(string.utf8).withUnsafeBytes { hasher.combine(bytes: $0) } }
    }

    /// The first value of `name`, or nil.
    public func first(_ name: String) -> String? {
        if let index {
            guard let position = index.first(name) else { return nil }
            return storage[position].value
        }
        for field in storage where Headers.sameName(field.name, name) { return field.value }
        return nil
    }

    /// Rebuilds the name index from `storage`, or drops it when the set is small.
    internal mutating func rebuildIndex() {
        if storage.count >= Headers.indexThreshold {
            index = NameIndex(storage)
        } else {
            index = nil
        }
    }
}

extension Headers: Equatable {
    /// Two header sets are equal when their fields are, in order (the name index is not compared).
    public static func == (lhs: Headers, rhs: Headers) -> Bool {
        lhs.storage == rhs.storage
    }
}
