// The URI a request is for: lua-http's `request:to_uri`.

extension Request {
    /// The URI this request fetches, rebuilt from its header fields: `:scheme` (or `https`/`http`
    /// by `tls`), `:authority` (or `host` and `port`) and `:path`. An absolute-form `:path` (as sent
    /// to a proxy, RFC 9112 §3.2.2) supplies all three itself; `OPTIONS *` has an empty path. For a
    /// CONNECT request it is the proxy's URI (`host` and `port`), without a path.
    ///
    /// With `withUserinfo`, Basic credentials in `authorization` (`proxy-authorization` for
    /// CONNECT) come back as the userinfo, user and password percent-encoded.
    ///
    /// - Throws: `RequestError.authorizationNotConvertible` for credentials other than Basic (when
    ///   `withUserinfo`), `.invalidTarget` when the fields do not form a URI.
    public func toURI(withUserinfo: Bool) throws(RequestError) -> String {
        try targetURI(withUserinfo: withUserinfo).description
    }

    /// `toURI` as a `URI`. It never has a fragment (RFC 9112 §3.2: a request-target has none).
    func targetURI(withUserinfo: Bool) throws(RequestError) -> URI {
        let isConnect = headers.first(":method") == "CONNECT"
        var scheme = headers.first(":scheme") ?? (tls ? "https" : "http")
        var authority = isConnect ? nil : headers.first(":authority")
        var path = ""
        let target = isConnect ? "" : headers.first(":path") ?? ""
        if target.utf8.first == UInt8(ascii: "/") {
            path = target
        } else if !isConnect && !(target == "*" && headers.first(":method") == "OPTIONS") {
            let absolute = try Request.parseTarget(target)
            guard let host = absolute.authorityHost else { throw RequestError.missingHost }
            scheme = absolute.scheme
            authority = host + (absolute.port.map { ":" + String($0) } ?? "")
            path = absolute.path + (absolute.query.map { "?" + $0 } ?? "")
        }
        var text = scheme + "://"
        if withUserinfo, let credentials = headers.first(Request.credentialsField(connect: isConnect)) {
            guard let userinfo = BasicCredentials.userinfo(authorizationValue: credentials) else {
                throw RequestError.authorizationNotConvertible
            }
            text += userinfo + "@"
        }
        text += authority ?? HTTPUtil.authority(host: host, port: port, scheme: scheme)
        text += path
        let uri = try Request.parseTarget(text)
        guard uri.fragment == nil else {
            throw RequestError.invalidTarget(URIError.invalidCharacter(UInt8(ascii: "#"), in: .path))
        }
        return uri
    }

    private static func parseTarget(_ text: String) throws(RequestError) -> URI {
        do throws(URIError) {
            return try URI(parsing: text)
        } catch {
            throw RequestError.invalidTarget(error)
        }
    }
}
