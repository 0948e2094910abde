import HTTPCore

/// The validators of the selected representation, what preconditions are evaluated against.
public struct Validators: Equatable, Sendable {
    /// The current entity tag (strong for files).
    public var entityTag: EntityTag
    /// The last modification time, in whole seconds since the epoch (HTTP dates have no finer
    /// resolution).
    public var lastModified: Int
    /// Whether `lastModified` is a strong validator (RFC 9110 §8.8.2.2): whether the origin server
    /// knows the representation did not change twice during the second it names. A file's date
    /// is taken as strong once that second is over before the message is made; a date naming the
    /// current second (or replacing one in the future) is weak. `If-Range` uses it (§13.1.5).
    public var lastModifiedIsStrong: Bool

    public init(entityTag: EntityTag, lastModified: Int, lastModifiedIsStrong: Bool = true) {
        self.entityTag = entityTag
        self.lastModified = lastModified
        self.lastModifiedIsStrong = lastModifiedIsStrong
    }
}

/// What the preconditions of a request decide (RFC 9110 §13.2.2).
public enum PreconditionOutcome: Equatable, Sendable {
    /// Every precondition holds (or none was sent): go on with the request.
    case proceed
    /// 304 Not Modified.
    case notModified
    /// 412 Precondition Failed.
    case preconditionFailed
}

/// Evaluation of the preconditions `If-Match`, `If-Unmodified-Since`, `If-None-Match` and
/// `If-Modified-Since` (RFC 9110 §13.1). `If-Range` belongs to range handling (`ByteRangeRequest`).
public enum ConditionalRequest {
    /// Evaluates the preconditions in `headers` against `validators` in the order RFC 9110 §13.2.2
    /// prescribes:
    ///
    /// 1. `If-Match`, when present: false → 412. Strong comparison; `*` is true, as the
    ///    representation exists (§13.1.1). A value that is not a valid list is false.
    /// 2. Else `If-Unmodified-Since`, when present and a valid HTTP-date: the representation was
    ///    modified after that date → 412 (§13.1.4).
    /// 3. `If-None-Match`, when present: a match (weak comparison; `*` matches, §13.1.2) → 304 for
    ///    GET and HEAD, 412 for other methods. A value that is not a valid list is ignored.
    /// 4. Else, for GET and HEAD only, `If-Modified-Since` when present and a valid HTTP-date: not
    ///    modified since that date → 304 (§13.1.3).
    ///
    /// `validators` nil is a representation that exists but has none (a generated page, such as
    /// a directory listing): only `*` matches in `If-Match` and `If-None-Match`, and the dates
    /// are ignored (§13.1.3, §13.1.4: "if the resource does not have a modification date
    /// available").
    public static func evaluate(method: String, headers: Headers, validators: Validators?) -> PreconditionOutcome {
        if let ifMatch = headers.commaSeparated("if-match") {
            let list = EntityTagList.parse(ifMatch)
            guard let list, matches(list, validators?.entityTag, strong: true) else { return .preconditionFailed }
        } else if let lastModified = validators?.lastModified, let date = singleDate(headers, "if-unmodified-since"),
            lastModified > date
        {
            return .preconditionFailed
        }
        let isGetOrHead = method == "GET" || method == "HEAD"
        if let ifNoneMatch = headers.commaSeparated("if-none-match") {
            if let list = EntityTagList.parse(ifNoneMatch), matches(list, validators?.entityTag, strong: false) {
                return isGetOrHead ? .notModified : .preconditionFailed
            }
        } else if isGetOrHead, let lastModified = validators?.lastModified,
            let date = singleDate(headers, "if-modified-since"), lastModified <= date
        {
            return .notModified
        }
        return .proceed
    }

    /// Whether `list` matches a current representation whose entity tag is `tag` (nil: it has none).
    private static func matches(_ list: EntityTagList, _ tag: EntityTag?, strong: Bool) -> Bool {
        guard let tag else { return list == .any }
        return list.contains(tag, strong: strong)
    }

    /// The date in the field `name`, or nil when it is absent, repeated or not an HTTP-date (RFC
    /// 9110 §13.1.3, §13.1.4: the recipient MUST ignore such a field).
    static func singleDate(_ headers: Headers, _ name: String) -> Int? {
        let values = headers.values(for: name)
        guard values.count == 1 else { return nil }
        return HTTPUtil.parseHTTPDate(values[0])
    }
}
