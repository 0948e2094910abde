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
    ///   (§5.2.4, by `HTTPUtil.resolveRelativePath(base:relative:)`);
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
            target.path = HTTPUtil.removeDotSegments(Substring(relative.path))
        } else {
            target.scheme = base.scheme
            if relative.authority != nil {
                target.path = HTTPUtil.removeDotSegments(Substring(relative.path))
            } else {
                target.authority = base.reference.authority
                if relative.path.isEmpty {
                    target.path = base.path
                    target.query = relative.query ?? base.query
                } else {
                    let basePath = base.host != nil && base.path.isEmpty ? "/" : base.path
                    target.path = HTTPUtil.resolveRelativePath(base: basePath, relative: relative.path)
                }
            }
        }
        return URI(target)
    }
}
