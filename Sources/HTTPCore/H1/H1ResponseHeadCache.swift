/// A response head validated and serialized once: the status line and the handler's fields,
/// with the framing fields found in them. What the connection adds per response (`date`,
/// `connection`, framing) and the final CRLF are written after it. A class: handing it out costs
/// one retain, not a copy of its parts; and its octets are its own memory, which the holder of
/// the head reads in place (an array's storage would be retained and released again per use).
final class H1PreparedResponseHead {
    let framing: H1FramingFields
    /// `HTTP/1.1 SP status SP reason CRLF`, then `name: value CRLF` per regular field. Valid while
    /// the head is alive.
    let bytes: UnsafeRawBufferPointer

    /// Nil when `headers` cannot be written as they are: a serializer error (reported by the
    /// normal path, every time), no valid `:status`, or a `transfer-encoding` field (the message
    /// removes it before writing, so the written head is not `headers`).
    init?(_ headers: Headers) {
        let framing = H1FramingFields(headers)
        guard framing.validStatus != nil, framing.transferEncoding == .absent else { return nil }
        var bytes: [UInt8] = []
        do {
            try HTTP1Serializer.writeResponseHead(headers, into: &bytes)
        } catch {
            return nil
        }
        // The serializer ended the head; the connection's fields go before that end.
        self.framing = framing
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count - 2, alignment: 8)
        memory.copyBytes(from: bytes[..<(bytes.count - 2)])
        self.bytes = UnsafeRawBufferPointer(memory)
    }

    deinit { bytes.deallocate() }
}

/// Heads a server writes again and again (a handler that builds its `Headers` once and answers
/// with them every time) are validated and serialized once, on their second use.
///
/// **Why identity is enough.** An entry keeps a reference to the fields' storage (the
/// `[Headers.Field]` array) it was made from. While it does, that storage is shared, so nothing
/// can change it in place: a `Headers` value that is mutated copies its fields first
/// (copy-on-write) and writes into new storage. Storage at the same address with the same count
/// is therefore the very same fields, and comparing the address costs a few instructions where
/// validating and copying a head field by field costs a few thousand.
///
/// Heads built afresh for every response never match; they cost one comparison per entry and
/// keep the previous head's fields alive until the next response. Like the connection context
/// that holds it, the cache belongs to one reactor's thread.
struct H1ResponseHeadCache {
    /// At most this many prepared heads are kept (a demo or an API server has a handful of fixed
    /// answers); when full, the oldest entry is replaced.
    static let capacity = 4

    private struct Entry {
        /// Holds the storage shared, which is what makes the identity comparison sound.
        let pinned: [Headers.Field]
        let head: H1PreparedResponseHead
    }

    private var entries: [Entry] = []
    /// The fields of the last head seen once; a second use of the same storage prepares it.
    private var candidate: [Headers.Field] = []
    private var oldest = 0

    /// The prepared head for `headers` when they were written before, else nil (and `headers`
    /// become the candidate for the next call).
    mutating func prepared(for headers: Headers) -> H1PreparedResponseHead? {
        let fields = headers.storage
        guard !fields.isEmpty else { return nil }
        if let index = entryIndex(fields) { return entries[index].head }
        guard Self.sameStorage(candidate, fields) else {
            candidate = fields
            return nil
        }
        candidate = []
        guard let head = H1PreparedResponseHead(headers) else { return nil }
        let entry = Entry(pinned: fields, head: head)
        if entries.count < Self.capacity {
            entries.append(entry)
        } else {
            entries[oldest] = entry
            oldest = (oldest + 1) % Self.capacity
        }
        return head
    }

    /// The number of prepared heads (for tests).
    var count: Int { entries.count }

    private func entryIndex(_ fields: [Headers.Field]) -> Int? {
        entries.withUnsafeBufferPointer { entries in
            entries.firstIndex { Self.sameStorage($0.pinned, fields) }
        }
    }

    /// Whether `a` and `b` are one array storage (see the type's comment for why that means
    /// equal fields while one of them is pinned).
    @inline(__always)
    private static func sameStorage(_ a: [Headers.Field], _ b: [Headers.Field]) -> Bool {
        a.count == b.count
            && a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
    }
}
