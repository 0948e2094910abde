// Header edits the request needs that keep the field order (pseudo-headers must stay before
// regular fields, RFC 9113 §8.3) and cannot fail, unlike `upsert` with repeated fields.

extension Headers {
    /// Leaves exactly one field `name` with `value`: the first one is changed in place, any later
    /// ones are removed; appended when absent.
    mutating func setSingle(_ name: String, _ value: String, neverIndex: Bool? = nil) {
        guard let position = fields.firstIndex(where: { $0.name == name }) else {
            append(name, value, neverIndex: neverIndex)
            return
        }
        modify(at: position, value: value, neverIndex: neverIndex)
        guard count(of: name) > 1 else { return }
        var isFirst = true
        removeFields { field in
            guard field.name == name else { return false }
            defer { isFirst = false }
            return !isFirst
        }
    }

    /// Removes every field for which `shouldRemove` is true; the others keep their order.
    mutating func removeFields(where shouldRemove: (Field) -> Bool) {
        var kept = Headers(capacity: count)
        for field in self where !shouldRemove(field) {
            kept.append(field.name, field.value, neverIndex: field.neverIndex)
        }
        self = kept
    }
}
