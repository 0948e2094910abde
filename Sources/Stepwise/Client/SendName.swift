/// What a TLS client puts in the ClientHello's `server_name` extension (SNI, RFC 6066 §3): lua-http's
/// `sendname`, whose nil, string and `false` become three cases here.
public enum SendName: Sendable, Hashable {
    /// The host the request connects to, unless it is an IP address (RFC 6066 §3: "Literal IPv4
    /// and IPv6 addresses are not permitted in "HostName""), in which case none is sent.
    case automatic
    /// This name, whatever the host (for example when connecting to an address but verifying a name).
    case named(String)
    /// No SNI at all (lua-http's `sendname = false`). The certificate is still checked against
    /// the host: not naming the server is not a reason to accept any certificate.
    case disabled

    /// The name to send when connecting to `host`, or nil for none.
    public func serverName(forHost host: String) -> String? {
        switch self {
        case .automatic: return HTTPUtil.isIP(host) ? nil : host
        case .named(let name): return name
        case .disabled: return nil
        }
    }
}
