/// Where a redirect's `location` leads, compared with the URI of the request that was redirected.
struct RedirectDestination {
    /// The location resolved against the request's URI (RFC 3986 §5.2).
    let uri: URI
    /// The new host (an IPv6 address without brackets) and port (the scheme's default if none).
    let host: String
    let port: Int
    /// Whether the new scheme is https or wss.
    let tls: Bool
    /// Same host (compared ignoring ASCII case, RFC 3986 §3.2.2) and port as before.
    let sameAuthority: Bool
    /// Same authority and same security, i.e. the same origin (RFC 6454 §4, with ws/wss counted
    /// as http/https).
    let sameOrigin: Bool
    /// From a secure scheme to an insecure one.
    let leavesTLS: Bool

    /// - Parameters:
    ///   - base: the request's URI, without userinfo.
    ///   - fallbackPort: the port when `base` has none and its scheme has no default.
    /// - Throws: `RequestError.invalidLocation`, `.unsupportedScheme`, `.missingHost`.
    init(location: String, base: URI, fallbackPort: Int) throws(RequestError) {
        do throws(URIError) {
            uri = try URI.resolve(reference: location, against: base)
        } catch {
            // Real servers send `?a[]=1` and unescaped spaces: percent-encode them as browsers
            // do, and refuse only what still does not parse (or holds control octets).
            guard let repaired = URI.repairingReference(location),
                let parsed = try? URI.resolve(reference: repaired, against: base)
            else { throw RequestError.invalidLocation(error) }
            uri = parsed
        }
        guard let tls = Request.usesTLS(scheme: uri.scheme) else {
            throw RequestError.unsupportedScheme(uri.scheme)
        }
        guard let host = uri.host, !host.isEmpty else { throw RequestError.missingHost }
        self.tls = tls
        self.host = host
        port = uri.port ?? (tls ? 443 : 80)
        let baseTLS = Request.usesTLS(scheme: base.scheme) ?? false
        let basePort = base.port ?? HTTPUtil.defaultPort(forScheme: base.scheme) ?? fallbackPort
        sameAuthority = host.lowercased() == (base.host ?? "").lowercased() && port == basePort
        sameOrigin = sameAuthority && tls == baseTLS
        leavesTLS = baseTLS && !tls
    }
}
