import Glibc

/// The connection-racing rules of Happy Eyeballs version 2 (RFC 8305) that `Connector` follows:
/// the order in which a host's addresses are tried, and how long one attempt runs alone before
/// the next starts beside it. A host whose IPv6 route is broken (SYNs vanish) then connects
/// over IPv4 a quarter of a second later, instead of after the whole connect timeout.
///
/// One `getaddrinfo(AF_UNSPEC)` call gives both families at once, already sorted by RFC 6724, so
/// the separate AAAA and A queries and the Resolution Delay of RFC 8305 §3 do not arise.
public enum HappyEyeballs {
    /// RFC 8305 §5: "A simple implementation can have a fixed delay for how long to wait before
    /// starting the next connection attempt. [...] The recommended value for a default delay is
    /// 250 milliseconds."
    public static let defaultAttemptDelay = 0.25

    /// RFC 8305 §5: "the Connection Attempt Delay MUST have a lower bound, especially if it is
    /// computed using historical data. [...] recommended minimum value of 100 milliseconds";
    /// and "SHOULD have a maximum value [...] recommended [...] 2 seconds".
    public static let attemptDelayRange = 0.1...2.0

    /// `addresses` (in the resolver's order of preference) in the order to try them. RFC 8305
    /// §4: "the client SHOULD modify the ordered list to interleave address families. [...] the
    /// first address family returned [...] followed by an address of the other address family"
    /// (a First Address Family Count of 1); within a family the order stays.
    public static func attemptOrder(_ addresses: [SocketAddress]) -> [SocketAddress] {
        guard let first = addresses.first else { return [] }
        var preferred = addresses.filter { $0.family == first.family }[...]
        var other = addresses.filter { $0.family != first.family }[...]
        var order: [SocketAddress] = []
        order.reserveCapacity(addresses.count)
        while !preferred.isEmpty || !other.isEmpty {
            if let next = preferred.popFirst() { order.append(next) }
            if let next = other.popFirst() { order.append(next) }
        }
        return order
    }
}
