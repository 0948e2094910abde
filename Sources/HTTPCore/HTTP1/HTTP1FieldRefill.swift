/// Pass 2's field list, written position by position over the fields of the previous head: a
/// field whose name and value already spell what the new field line says keeps its Strings (none
/// is made, none released), any other is replaced, and what is left over is removed at the end.
///
/// A keep-alive connection's requests mostly repeat their fields (`Host`, `User-Agent`,
/// `Accept`…, and a load generator's every octet), so most fields of a request then cost a
/// comparison of octets instead of a String, its allocation and its release. Over an empty array
/// (a response head, or a request whose previous head is still in use) it simply appends.
///
/// Keeping a String is exactly equivalent to making it again: `HTTP1Syntax.string` leaves valid
/// UTF-8 as it is, and octets that are not valid UTF-8 never equal a String's UTF-8, so they are
/// always made (and repaired) anew.
struct HTTP1FieldRefill {
    /// The fields: those before `count` are this section's, the rest the previous section's.
    private var fields: [Headers.Field]
    /// The number of fields written so far.
    private(set) var count = 0

    /// Starts over `previous` (the fields of the head being refilled, or none) with room for
    /// `capacity` fields.
    init(over previous: [Headers.Field], capacity: Int) {
        fields = previous
        fields.reserveCapacity(capacity)
    }

    /// The next field is the pseudo-header `name` with `value` (pseudo-headers are never-index
    /// only by choice of the caller). Returns `value`. An equal previous field (interned or
    /// configured Strings: usually identical representations) is kept.
    @inline(__always)
    @discardableResult
    mutating func put(_ name: String, _ value: String) -> String {
        defer { count &+= 1 }
        guard count < fields.count else {
            fields.append(Headers.Field(name: name, value: value, neverIndex: false))
            return value
        }
        if fields[count].name == name && fields[count].value == value && !fields[count].neverIndex { return value }
        fields[count] = Headers.Field(name: name, value: value, neverIndex: false)
        return value
    }

    /// The next field is the pseudo-header `name` with a `value` just made because `keep` said no:
    /// written without comparing it with the previous field. Returns `value`.
    @inline(__always)
    mutating func putNew(_ name: String, _ value: String) -> String {
        defer { count &+= 1 }
        let field = Headers.Field(name: name, value: value, neverIndex: false)
        if count < fields.count {
            fields[count] = field
        } else {
            fields.append(field)
        }
        return value
    }

    /// When the previous field at this position is the pseudo-header `name` with `value`, keeps it
    /// as the next field and returns true; else returns false and writes nothing.
    @inline(__always)
    mutating func keep(_ name: String, equalTo value: String) -> Bool {
        guard count < fields.count, fields[count].name == name, fields[count].value == value,
            !fields[count].neverIndex
        else { return false }
        count &+= 1
        return true
    }

    /// When the previous field at this position is the pseudo-header `name` with a value that
    /// `bytes` spells, keeps it as the next field and returns true; else returns false and writes
    /// nothing (the caller then makes the value and `put`s it).
    @inline(__always)
    mutating func keep(_ name: String, spelledBy bytes: UnsafeRawBufferPointer) -> Bool {
        guard count < fields.count, fields[count].name == name, !fields[count].neverIndex,
            HTTP1Syntax.spells(fields[count].value, bytes)
        else { return false }
        count &+= 1
        return true
    }

    /// The next field is a regular field line of a validated section: its name lower-cased
    /// (interned when common) and its value trimmed and unfolded (`HTTP1FieldLines.value(of:)`);
    /// never-index by `Headers.defaultNeverIndex`.
    mutating func put(_ line: HTTP1FieldLines.Line) {
        defer { count &+= 1 }
        if count < fields.count, HTTP1Syntax.spellsLowercased(fields[count].name, line.name) {
            // Same name, so the same never-index default.
            if !line.folded && HTTP1Syntax.spells(fields[count].value, HTTP1Syntax.trimmingWhitespace(line.rawValue)) {
                return
            }
            fields[count].value = HTTP1FieldLines.value(of: line)
            return
        }
        let name = HTTP1FieldNames.name(line.name)
        let field = Headers.Field(
            name: name, value: HTTP1FieldLines.value(of: line), neverIndex: Headers.defaultNeverIndex(name))
        if count < fields.count {
            fields[count] = field
        } else {
            fields.append(field)
        }
    }

    /// Moves the fields written, without the previous section's leftovers, into `destination`
    /// (whose old value comes back here, to be dropped with the refill).
    mutating func finish(into destination: inout [Headers.Field]) {
        if count < fields.count { fields.removeLast(fields.count &- count) }
        swap(&fields, &destination)
    }

    /// The fields written, without the previous section's leftovers.
    consuming func finish() -> [Headers.Field] {
        if count < fields.count { fields.removeLast(fields.count &- count) }
        return fields
    }
}
