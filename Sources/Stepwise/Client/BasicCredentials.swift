// HTTP Basic credentials (RFC 7617) to and from a URI's userinfo (RFC 3986 §3.2.1).

enum BasicCredentials {
    /// `Basic <base64(user-id ":" password)>` for a userinfo such as `user:p%40ss`: the userinfo is
    /// percent-decoded (as curl and lua-http do) and a missing `:` means an empty password, since
    /// RFC 7617 §2 requires the colon (`user-pass = user-id ":" password`).
    static func authorizationValue(userinfo: String) -> String {
        var userPass = HTTPUtil.percentDecodedBytes(userinfo)
        if !userinfo.utf8.contains(UInt8(ascii: ":")) { userPass.append(UInt8(ascii: ":")) }
        return "Basic " + HTTPUtil.base64Encode(userPass)
    }

    /// The userinfo for an `authorization` value, nil unless it is Basic credentials in canonical
    /// base64. User and password are percent-encoded separately, so a `:` or `@` in either
    /// survives (lua-http's `encodeURI` lets `@` and `/` through and breaks the URI); an empty
    /// password leaves the colon out.
    static func userinfo(authorizationValue value: String) -> String? {
        // RFC 9110 §11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]; the
        // scheme is case-insensitive (§11.1).
        let parts = value.utf8.split(separator: UInt8(ascii: " "))
        guard parts.count == 2, String(decoding: parts[0], as: UTF8.self).lowercased() == "basic",
            let userPass = HTTPUtil.base64Decode(String(decoding: parts[1], as: UTF8.self))
        else { return nil }
        guard let colon = userPass.firstIndex(of: UInt8(ascii: ":")) else {
            return HTTPUtil.encodeURIComponent(bytes: userPass)
        }
        let user = HTTPUtil.encodeURIComponent(bytes: userPass[..<colon])
        let password = userPass[(colon + 1)...]
        return password.isEmpty ? user : user + ":" + HTTPUtil.encodeURIComponent(bytes: password)
    }
}
