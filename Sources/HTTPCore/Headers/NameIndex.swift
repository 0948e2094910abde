/// The name index of a large `Headers`: for each name, its first and last position and its count,
/// plus a chain linking each position to the next one with the same name. Appending is O(1) and
/// allocates nothing per name beyond the dictionary entry; deleting and sorting rebuild it.
internal struct NameIndex: Sendable {
    struct Entry: Sendable {
        var first: Int
        var last: Int
        var count: Int

        /// Makes `position` the last occurrence; returns the previous last (-1 if none).
        mutating func link(_ position: Int) -> Int {
            let previous = last
            last = position
            count += 1
            return previous
        }
    }

    /// A name as a dictionary key: equal and hashed by its UTF-8 octets, as `Headers.sameName`
    /// compares names (String's own `==` and hash follow Unicode canonical equivalence).
    struct Key: Hashable, Sendable {
        let name: String

        init(_ name: String) { self.name = name }

        static func == (a: Key, b: Key) -> Bool { Headers.sameName(a.name, b.name) }

        func hash(into hasher: inout Hasher) { Headers.hashOctets(of: name, into: &hasher) }
    }

    /// Name → where its chain starts and ends.
    private(set) var entries: [Key: Entry]
    /// For each field position, the position of the next field with the same name, or -1.
    private(set) var next: [Int]

    init(_ fields: [Headers.Field]) {
        // Room to grow without rehashing: large header sets tend to keep growing.
        let capacity = Swift.max(fields.count * 2, 64)
        entries = [:]
        entries.reserveCapacity(capacity)
        next = []
        next.reserveCapacity(capacity)
        for (position, field) in fields.enumerated() {
            append(field.name, at: position)
        }
    }

    /// Records that the field at `position` (which must be `next.count`) is named `name`. One
    /// hash of `name` per call.
    mutating func append(_ name: String, at position: Int) {
        assert(position == next.count, "NameIndex.append out of order")
        next.append(-1)
        let previous = entries[Key(name), default: Entry(first: position, last: -1, count: 0)].link(position)
        if previous >= 0 { next[previous] = position }
    }

    func first(_ name: String) -> Int? { entries[Key(name)]?.first }

    func count(of name: String) -> Int { entries[Key(name)]?.count ?? 0 }

    /// The positions of `name`, in order.
    func positions(of name: String) -> Positions {
        Positions(links: next, start: entries[Key(name)]?.first ?? -1)
    }

    struct Positions: Sequence, IteratorProtocol {
        let links: [Int]
        var current: Int

        init(links: [Int], start: Int) {
            self.links = links
            self.current = start
        }

        mutating func next() -> Int? {
            guard current >= 0 else { return nil }
            defer { current = links[current] }
            return current
        }
    }
}
