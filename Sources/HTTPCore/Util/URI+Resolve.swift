// Reference resolution: RFC 3986 §5.2.

extension URI {
    /// Resolves a URI reference (a `Location` value, a link) against `base`, as RFC 3986 §5.2.2
    /// "Transform References" does:
    ///
    /// - an absolute URI (`https://other/x`, `g:h`) stands on its own (dot segments removed);
    /// - a network-path reference (`//host/x`, "scheme-relative") takes `base`'s scheme;
    /// - an absolute path (`/x`) takes `base`'s scheme and authority;
    /// - a relative path (`x`, `../x`) is merged with `base`'s path (§5.2.3: after its last `/`,
    ///   or after `/` when `base` has an authority and an empty path) and dot segments are removed
    ///   (§5.2.4, by its steps: a rootless base such as `foo:a/b` with `../c` gives `foo:/c`);
    /// - an empty path keeps `base`'s path, and `base`'s query unless the reference has one.
    ///
    /// The fragment is always the reference's (RFC 3986 §5.2.2; RFC 9110 §10.2.2's rule that a
    /// redirect without a fragment inherits the original one is for user agents to apply).
    ///
    /// - Throws: `URIError` when `reference` is not a valid URI reference (RFC 3986 §4.1).
    public static func resolve(reference: String, against base: URI) throws(URIError) -> URI {
        let relative = try URIReference(parsing: reference, requiringScheme: false)
        var target = relative
        if relative.scheme != nil {
            target.path = HTTPUtil.removeDotSegmentsAsSpecified(Substring(relative.path))
        } else {
            target.scheme = base.scheme
            if relative.authority != nil {
                target.path = HTTPUtil.removeDotSegmentsAsSpecified(Substring(relative.path))
            } else {
                target.authority = base.reference.authority
                if relative.path.isEmpty {
                    target.path = base.path
                    target.query = relative.query ?? base.query
                } else {
                    target.path = HTTPUtil.removeDotSegmentsAsSpecified(Self.merge(relative.path, into: base))
                }
            }
        }
        return URI(target)
    }

    /// RFC 3986 §5.2.3: a relative path goes after the base path's last `/`, or after `/` when the
    /// base has an authority and an empty path; an absolute one replaces it.
    private static func merge(_ path: String, into base: URI) -> Substring {
        if path.utf8.first == UInt8(ascii: "/") { return Substring(path) }
        if base.reference.authority != nil && base.path.isEmpty { return Substring("/" + path) }
        guard let slash = base.path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return Substring(path) }
        return Substring(base.path[...slash] + path)
    }
}
