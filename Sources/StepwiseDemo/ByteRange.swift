import HTTPCore

/// A range of bytes of a representation, both ends inclusive (RFC 9110 §14.1.2), always inside it.
public struct ByteRange: Equatable, Sendable {
    /// The offset of the first byte.
    public var first: UInt64
    /// The offset of the last byte (`>= first`).
    public var last: UInt64

    public init(first: UInt64, last: UInt64) {
        precondition(first <= last, "ByteRange: last (\(last)) before first (\(first))")
        self.first = first
        self.last = last
    }

    /// The number of bytes in the range.
    public var count: UInt64 { last - first + 1 }

    /// The `Content-Range` value of a 206 response carrying this range of a representation of
    /// `completeLength` bytes (RFC 9110 §14.4): `bytes first-last/complete-length`.
    public func contentRange(completeLength: UInt64) -> String {
        "bytes \(first)-\(last)/\(completeLength)"
    }
}

/// One `range-spec` of a `bytes` range set (RFC 9110 §14.1.2), before it is applied to a length.
public enum ByteRangeSpec: Equatable, Sendable {
    /// `first-last` (an int-range with a last-pos).
    case closed(first: UInt64, last: UInt64)
    /// `first-` (an int-range without a last-pos): from `first` to the end.
    case open(first: UInt64)
    /// `-length` (a suffix-range): the last `length` bytes.
    case suffix(length: UInt64)

    /// The bytes this spec selects from a representation of `completeLength` bytes, or nil when
    /// it is unsatisfiable (RFC 9110 §14.1.1): an int-range is satisfiable when its first-pos is
    /// less than the length, and a last-pos beyond the end is read as the last byte; a
    /// suffix-range is satisfiable when its length is not zero, and one longer than the
    /// representation selects all of it. Always nil for an empty representation, as a
    /// `ByteRange` holds at least one byte: a suffix-range with a non-zero length is satisfiable
    /// there but selects nothing, which `ByteRangeRequest.select` answers with the whole (empty)
    /// representation.
    public func resolve(completeLength: UInt64) -> ByteRange? {
        guard completeLength > 0 else { return nil }
        switch self {
        case .closed(let first, let last):
            guard first < completeLength else { return nil }
            return ByteRange(first: first, last: min(last, completeLength - 1))
        case .open(let first):
            guard first < completeLength else { return nil }
            return ByteRange(first: first, last: completeLength - 1)
        case .suffix(let length):
            guard length > 0 else { return nil }
            return ByteRange(first: completeLength - min(length, completeLength), last: completeLength - 1)
        }
    }

    /// Parses a `Range` field value (RFC 9110 §14.2):
    ///
    /// ```
    /// ranges-specifier = range-unit "=" range-set
    /// range-set        = 1#range-spec
    /// range-spec       = int-range / suffix-range / other-range
    /// int-range        = first-pos "-" [ last-pos ]
    /// suffix-range     = "-" suffix-length
    /// ```
    ///
    /// The unit is compared case-insensitively (§14.1). Returns nil when the unit is not `bytes`
    /// or the value is not a valid range set, including an int-range whose last-pos is less than
    /// its first-pos (§14.1.1); the caller then ignores the field, as §14.2 allows. Positions too
    /// large for `UInt64` are read as `UInt64.max`, which no file reaches.
    public static func parseRangeField(_ value: String) -> [ByteRangeSpec]? {
        let bytes = trimmingWhitespace(Array(value.utf8)[...])
        guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")),
            String(decoding: bytes[..<equals], as: UTF8.self).lowercased() == "bytes"
        else { return nil }
        var specs: [ByteRangeSpec] = []
        for element in bytes[(equals + 1)...].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            let spec = trimmingWhitespace(element)
            if spec.isEmpty { continue }  // empty list elements are allowed (RFC 9110 §5.6.1.2)
            guard let parsed = parseSpec(spec) else { return nil }
            specs.append(parsed)
        }
        return specs.isEmpty ? nil : specs
    }

    /// `bytes` without leading and trailing optional whitespace (spaces and tabs).
    private static func trimmingWhitespace(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isWhitespace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        guard let start = bytes.firstIndex(where: { !isWhitespace($0) }) else { return bytes[bytes.endIndex...] }
        let last = bytes.lastIndex { !isWhitespace($0) }!
        return bytes[start...last]
    }

    /// One `int-range` or `suffix-range`, or nil.
    private static func parseSpec(_ bytes: ArraySlice<UInt8>) -> ByteRangeSpec? {
        guard let dash = bytes.firstIndex(of: UInt8(ascii: "-")) else { return nil }
        let before = bytes[..<dash]
        let after = bytes[(dash + 1)...]
        if before.isEmpty {
            return decimal(after).map { .suffix(length: $0) }
        }
        guard let first = decimal(before) else { return nil }
        if after.isEmpty { return .open(first: first) }
        guard let last = decimal(after), last >= first else { return nil }
        return .closed(first: first, last: last)
    }

    /// `1*DIGIT` as a number, saturating at `UInt64.max`; nil when empty or not all digits.
    private static func decimal(_ digits: ArraySlice<UInt8>) -> UInt64? {
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            value = overflow1 || overflow2 ? UInt64.max : sum
        }
        return value
    }
}

/// What a request's `Range` (and `If-Range`) select from a representation.
public enum RangeSelection: Equatable, Sendable {
    /// Send the whole representation with 200.
    case whole
    /// Send this range with 206 Partial Content.
    case partial(ByteRange)
    /// Send 416 Range Not Satisfiable with `content-range: bytes */complete-length`.
    case unsatisfiable
}

/// Range requests (RFC 9110 §14) for one representation.
public enum ByteRangeRequest {
    /// What the `Range` field of a request selects from a representation of `completeLength`
    /// bytes with the given validators:
    ///
    /// - `.whole` when the method is not GET (§14.2: GET is the only method for which range
    ///   handling is defined, so a server MUST ignore `Range` on others, HEAD included), when there
    ///   is no `Range` field or more than one, when its value is invalid or not in bytes (§14.2: a
    ///   server MAY ignore it), when `If-Range` is present and false (§13.1.5), and when the range
    ///   set has more than one range. That last is this server's choice: it sends no
    ///   `multipart/byteranges`, and §14.2 lets a server ignore `Range` altogether; sending the
    ///   whole representation once is also what §14.2 recommends against many small ranges.
    ///   Also `.whole` for a suffix-range with a non-zero length on an empty representation
    ///   (see below).
    /// - `.unsatisfiable` when the one range is not satisfiable (§14.1.1, §15.5.17).
    /// - `.partial` otherwise.
    public static func select(
        method: String, headers: Headers, completeLength: UInt64, validators: Validators
    ) -> RangeSelection {
        let rangeValues = headers.values(for: "range")
        guard method == "GET", rangeValues.count == 1,
            let specs = ByteRangeSpec.parseRangeField(rangeValues[0]), specs.count == 1
        else { return .whole }
        if let ifRange = headers.first("if-range"), !ifRangeHolds(ifRange, validators: validators) {
            return .whole
        }
        // RFC 9110 §14.1.1: "When a selected representation has zero length, the only
        // satisfiable form of range-spec is a suffix-range with a non-zero suffix-length." So 416
        // ("none of the ranges are satisfiable", §15.5.17) would be wrong, and a 206 cannot say
        // "no bytes of 0" in `Content-Range`: the field is ignored (§14.2 allows it) and the empty
        // representation is sent whole.
        if completeLength == 0, case .suffix(let length) = specs[0], length > 0 { return .whole }
        guard let range = specs[0].resolve(completeLength: completeLength) else { return .unsatisfiable }
        return .partial(range)
    }

    /// Whether the `If-Range` value `value` holds for the current representation (RFC 9110
    /// §13.1.5): an entity-tag must match the current one by strong comparison (a weak tag never
    /// does); an HTTP-date must equal the `Last-Modified` date exactly, and that date must be a
    /// strong validator ("If the HTTP-date validator provided is not a strong validator in the
    /// sense defined by Section 8.8.2.2, the condition is false"). Anything else is false.
    public static func ifRangeHolds(_ value: String, validators: Validators) -> Bool {
        if let tag = EntityTag.parse(value) {
            return tag.matchesStrongly(validators.entityTag)
        }
        if let date = HTTPUtil.parseHTTPDate(value) {
            return validators.lastModifiedIsStrong && date == validators.lastModified
        }
        return false
    }
}
