// The content codings `go()` asks for on its own.

extension Request {
    /// The `accept-encoding` value `go()` adds to the request: nil when it adds none (the request
    /// has its own, or `decodeContent` is off); `identity` when the request has a `range`;
    /// otherwise `gzip, deflate`, the codings it decodes.
    ///
    /// A range is of the representation's octets as the server encodes them (RFC 9110 §14.1.2;
    /// §8.4: "the representation is defined in terms of the coded form"), and a 206 is handed over
    /// undecoded: a resumed download that accepted gzip would get gzip octets to append to the
    /// plain ones it has. `identity` asks for the octets as they are. Sending no field would not
    /// do: RFC 9110 §12.5.3, "If no Accept-Encoding header field is in the request, any content
    /// coding is considered acceptable by the user agent". Browsers send `identity` on their
    /// range requests too.
    public var automaticAcceptEncoding: String? {
        guard decodeContent, !headers.has("accept-encoding") else { return nil }
        return headers.has("range") ? "identity" : "gzip, deflate"
    }
}
