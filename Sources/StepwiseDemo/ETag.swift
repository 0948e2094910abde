/// An entity tag (RFC 9110 §8.8.3): an opaque validator, strong or weak.
///
/// ```
/// entity-tag = [ weak ] opaque-tag
/// weak       = %s"W/"
/// opaque-tag = DQUOTE *etagc DQUOTE
/// etagc      = %x21 / %x23-7E / obs-text
/// ```
public struct EntityTag: Equatable, Sendable {
    /// The characters between the double quotes.
    public var opaqueTag: String
    /// Whether the tag is weak (`W/"…"`).
    public var isWeak: Bool

    /// A tag with `opaqueTag` (without quotes). `opaqueTag` must consist of `etagc` characters.
    public init(opaqueTag: String, isWeak: Bool = false) {
        self.opaqueTag = opaqueTag
        self.isWeak = isWeak
    }

    /// The tag of a file: `"inode-size-mtime"`, each in lower-case hex, the modification time in
    /// nanoseconds since the epoch. Any change to the file's content changes its size or its
    /// modification time (RFC 9110 §8.8.3.1 asks a strong validator to change with the
    /// representation data); replacing the file by another changes the inode.
    ///
    /// Except within one tick of the clock that stamps files (a few milliseconds): two writes of
    /// the same size in it leave size and time alone. So a file changed in the current second
    /// (`changedThisSecond`) gets a weak tag, as Apache gives it, and as its `Last-Modified` is
    /// weak then (RFC 9110 §8.8.2.2): a cache may still revalidate with it, but `If-Range` never
    /// joins a range of it to a range of the previous content (strong comparison only).
    public static func forFile(
        inode: UInt64, size: UInt64, modificationNanoseconds: Int64, changedThisSecond: Bool = false
    ) -> EntityTag {
        let mtime = String(UInt64(bitPattern: modificationNanoseconds), radix: 16)
        return EntityTag(
            opaqueTag: String(inode, radix: 16) + "-" + String(size, radix: 16) + "-" + mtime,
            isWeak: changedThisSecond)
    }

    /// The tag as a field value: `"x"` or `W/"x"`.
    public var fieldValue: String {
        (isWeak ? "W/\"" : "\"") + opaqueTag + "\""
    }

    /// Strong comparison (RFC 9110 §8.8.3.2): both tags are strong and their opaque tags are equal.
    public func matchesStrongly(_ other: EntityTag) -> Bool {
        !isWeak && !other.isWeak && opaqueTag == other.opaqueTag
    }

    /// Weak comparison (RFC 9110 §8.8.3.2): the opaque tags are equal, whether or not either tag is
    /// weak.
    public func matchesWeakly(_ other: EntityTag) -> Bool {
        opaqueTag == other.opaqueTag
    }

    /// Parses one entity-tag, the whole of `text` (no surrounding spaces); nil when it is not one.
    public static func parse(_ text: String) -> EntityTag? {
        var scanner = EntityTagScanner(Array(text.utf8))
        guard let tag = scanner.entityTag(), scanner.atEnd else { return nil }
        return tag
    }
}

/// The value of `If-Match` or `If-None-Match` (RFC 9110 §13.1.1, §13.1.2):
/// `"*" / #entity-tag`.
public enum EntityTagList: Equatable, Sendable {
    /// `*`: any current representation.
    case any
    /// A list of tags, in order.
    case tags([EntityTag])

    /// Parses a field value (several field lines joined with commas are one list, RFC 9110 §5.3).
    /// Empty list elements and optional whitespace around commas are accepted (RFC 9110 §5.6.1.2);
    /// nil when the value is neither `*` nor a list of at least one entity-tag.
    public static func parse(_ text: String) -> EntityTagList? {
        var scanner = EntityTagScanner(Array(text.utf8))
        scanner.skipWhitespace()
        if scanner.skip(UInt8(ascii: "*")) {
            scanner.skipWhitespace()
            return scanner.atEnd ? .any : nil
        }
        var tags: [EntityTag] = []
        while !scanner.atEnd {
            if scanner.skip(UInt8(ascii: ",")) {
                scanner.skipWhitespace()
                continue
            }
            guard let tag = scanner.entityTag() else { return nil }
            tags.append(tag)
            scanner.skipWhitespace()
            guard scanner.atEnd || scanner.skip(UInt8(ascii: ",")) else { return nil }
            scanner.skipWhitespace()
        }
        return tags.isEmpty ? nil : .tags(tags)
    }

    /// Whether `current` is matched: `*` matches any tag, a list when one of its tags compares
    /// equal to `current` with strong comparison (`strong`) or weak comparison.
    public func contains(_ current: EntityTag, strong: Bool) -> Bool {
        switch self {
        case .any:
            return true
        case .tags(let tags):
            return tags.contains { strong ? $0.matchesStrongly(current) : $0.matchesWeakly(current) }
        }
    }
}

/// Reads entity-tags from bytes.
struct EntityTagScanner {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var atEnd: Bool { position == bytes.count }

    /// Skips `byte` when it is next; returns whether it did.
    mutating func skip(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    /// Skips optional whitespace (OWS: spaces and tabs).
    mutating func skipWhitespace() {
        while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x09 { position += 1 }
    }

    /// Reads one entity-tag, or returns nil (and leaves the position anywhere).
    mutating func entityTag() -> EntityTag? {
        let isWeak = skip(UInt8(ascii: "W"))
        if isWeak && !skip(UInt8(ascii: "/")) { return nil }
        guard skip(UInt8(ascii: "\"")) else { return nil }
        let start = position
        while position < bytes.count, Self.isEntityTagCharacter(bytes[position]) { position += 1 }
        let end = position
        guard skip(UInt8(ascii: "\"")) else { return nil }
        return EntityTag(opaqueTag: String(decoding: bytes[start..<end], as: UTF8.self), isWeak: isWeak)
    }

    /// `etagc = %x21 / %x23-7E / obs-text`: visible characters except `"`, and bytes from 0x80.
    static func isEntityTagCharacter(_ byte: UInt8) -> Bool {
        byte == 0x21 || (byte >= 0x23 && byte != 0x7F)
    }
}
