/// Common field names, interned: a received name that matches one (ignoring ASCII case) becomes
/// the immortal string literal, so it costs neither lower-casing nor an allocation (names longer
/// than 15 UTF-8 bytes, such as `upgrade-insecure-requests`, would otherwise allocate).
enum HTTP1FieldNames {
    /// The lower-cased name for `bytes` (a token), interned when common.
    @inline(__always)
    static func name(_ bytes: UnsafeRawBufferPointer) -> String {
        common(bytes) ?? HTTP1Syntax.lowercasedString(bytes)
    }

    static func common(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let first = bytes.first else { return nil }
        @inline(__always) func match(_ name: StaticString, _ string: String) -> String? {
            HTTP1Syntax.equalsLowercased(bytes, name) ? string : nil
        }
        switch (bytes.count, HTTP1Syntax.lower(first)) {
        case (2, UInt8(ascii: "t")): return match("te", "te")
        case (3, UInt8(ascii: "a")): return match("age", "age")
        case (3, UInt8(ascii: "v")): return match("via", "via")
        case (4, UInt8(ascii: "h")): return match("host", "host")
        case (4, UInt8(ascii: "d")): return match("date", "date")
        case (4, UInt8(ascii: "e")): return match("etag", "etag")
        case (4, UInt8(ascii: "l")): return match("link", "link")
        case (4, UInt8(ascii: "v")): return match("vary", "vary")
        case (5, UInt8(ascii: "r")): return match("range", "range")
        case (5, UInt8(ascii: "a")): return match("allow", "allow")
        case (6, UInt8(ascii: "a")): return match("accept", "accept")
        case (6, UInt8(ascii: "c")): return match("cookie", "cookie")
        case (6, UInt8(ascii: "o")): return match("origin", "origin")
        case (6, UInt8(ascii: "s")): return match("server", "server")
        case (6, UInt8(ascii: "e")): return match("expect", "expect")
        case (6, UInt8(ascii: "p")): return match("pragma", "pragma")
        case (7, UInt8(ascii: "r")): return match("referer", "referer")
        case (7, UInt8(ascii: "u")): return match("upgrade", "upgrade")
        case (7, UInt8(ascii: "e")): return match("expires", "expires")
        case (7, UInt8(ascii: "t")): return match("trailer", "trailer")
        case (8, UInt8(ascii: "i")):
            return match("if-match", "if-match") ?? match("if-range", "if-range")
        case (8, UInt8(ascii: "l")): return match("location", "location")
        case (10, UInt8(ascii: "c")): return match("connection", "connection")
        case (10, UInt8(ascii: "k")): return match("keep-alive", "keep-alive")
        case (10, UInt8(ascii: "s")): return match("set-cookie", "set-cookie")
        case (10, UInt8(ascii: "u")): return match("user-agent", "user-agent")
        case (12, UInt8(ascii: "c")): return match("content-type", "content-type")
        case (12, UInt8(ascii: "x")): return match("x-request-id", "x-request-id")
        case (13, UInt8(ascii: "a")):
            return match("authorization", "authorization") ?? match("accept-ranges", "accept-ranges")
        case (13, UInt8(ascii: "c")):
            return match("cache-control", "cache-control") ?? match("content-range", "content-range")
        case (13, UInt8(ascii: "i")): return match("if-none-match", "if-none-match")
        case (13, UInt8(ascii: "l")): return match("last-modified", "last-modified")
        case (14, UInt8(ascii: "c")): return match("content-length", "content-length")
        case (14, UInt8(ascii: "s")):
            return match("sec-fetch-dest", "sec-fetch-dest") ?? match("sec-fetch-mode", "sec-fetch-mode")
                ?? match("sec-fetch-site", "sec-fetch-site")
        case (15, UInt8(ascii: "a")):
            return match("accept-encoding", "accept-encoding")
                ?? match("accept-language", "accept-language")
        case (15, UInt8(ascii: "x")): return match("x-forwarded-for", "x-forwarded-for")
        case (16, UInt8(ascii: "c")):
            return match("content-encoding", "content-encoding") ?? match(
                "content-language", "content-language")
                ?? match("content-location", "content-location")
        case (16, UInt8(ascii: "x")): return match("x-forwarded-host", "x-forwarded-host")
        case (17, UInt8(ascii: "i")): return match("if-modified-since", "if-modified-since")
        case (17, UInt8(ascii: "t")): return match("transfer-encoding", "transfer-encoding")
        case (17, UInt8(ascii: "s")): return match("sec-websocket-key", "sec-websocket-key")
        case (17, UInt8(ascii: "x")): return match("x-forwarded-proto", "x-forwarded-proto")
        case (18, UInt8(ascii: "p")): return match("proxy-authenticate", "proxy-authenticate")
        case (19, UInt8(ascii: "c")): return match("content-disposition", "content-disposition")
        case (19, UInt8(ascii: "i")): return match("if-unmodified-since", "if-unmodified-since")
        case (19, UInt8(ascii: "p")): return match("proxy-authorization", "proxy-authorization")
        case (20, UInt8(ascii: "s")): return match("sec-websocket-accept", "sec-websocket-accept")
        case (21, UInt8(ascii: "s")): return match("sec-websocket-version", "sec-websocket-version")
        case (22, UInt8(ascii: "s")): return match("sec-websocket-protocol", "sec-websocket-protocol")
        case (24, UInt8(ascii: "s")):
            return match("sec-websocket-extensions", "sec-websocket-extensions")
        case (25, UInt8(ascii: "s")):
            return match("strict-transport-security", "strict-transport-security")
        case (25, UInt8(ascii: "u")):
            return match("upgrade-insecure-requests", "upgrade-insecure-requests")
        case (27, UInt8(ascii: "a")):
            return match("access-control-allow-origin", "access-control-allow-origin")
        default: return nil
        }
    }

    /// The method for `bytes` (a token, case-sensitive: RFC 9110 §9.1), interned when standard.
    @inline(__always)
    static func method(_ bytes: UnsafeRawBufferPointer) -> String {
        @inline(__always) func match(_ name: StaticString, _ string: String) -> String? {
            guard bytes.count == name.utf8CodeUnitCount else { return nil }
            for index in 0..<bytes.count where bytes[index] != name.utf8Start[index] { return nil }
            return string
        }
        let known: String?
        switch bytes.count {
        case 3: known = match("GET", "GET") ?? match("PUT", "PUT")
        case 4: known = match("POST", "POST") ?? match("HEAD", "HEAD")
        case 5: known = match("PATCH", "PATCH") ?? match("TRACE", "TRACE")
        case 6: known = match("DELETE", "DELETE")
        case 7: known = match("OPTIONS", "OPTIONS") ?? match("CONNECT", "CONNECT")
        default: known = nil
        }
        return known ?? HTTP1Syntax.string(bytes)
    }
}
