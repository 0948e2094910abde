import Glibc

/// The connection-racing rules of Happy Eyeballs version 2 (RFC 8305) that `Connector` follows:
/// the order in which a host's addresses are tried, and how long one attempt runs alone before
/// the next starts beside it. A host whose IPv6 route is broken (SYNs vanish) then connects
/// over IPv4 a quarter of a second later, instead of after the whole connect timeout.
///
/// A host name is looked up per family, AAAA and A side by side on the resolver's threads, and
/// connecting starts on the first useful answer (RFC 8305 §3, `resolutionDelay`); the other
/// family's addresses join the attempts when they come. An IP literal, or a connect asked for
/// one family, is one lookup as before.
public enum HappyEyeballs {
    /// RFC 8305 §3: "If a positive A response is received first due to reordering, the client
    /// SHOULD wait a short time for the AAAA response to ensure that preference is given to IPv6
    /// [...]. This delay will be referred to as the "Resolution Delay". The recommended value for
    /// the Resolution Delay is 50 milliseconds."
    public static let resolutionDelay = 0.05

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
        attemptOrder(addresses, startingWith: addresses.first?.family)
    }

    /// `addresses` interleaved by family as `attemptOrder(_:)` does, starting with `family` (nil:
    /// the first address's) when it has any. The connector keeps its list of addresses not yet
    /// tried in this order as answers come in, starting with the family other than the last one
    /// tried, so the alternation goes on where it was (RFC 8305 §6: "If an address is added to
    /// the list, it should be sorted into the list of addresses not yet attempted according to
    /// the rules above (see Section 4).").
    static func attemptOrder(_ addresses: [SocketAddress], startingWith family: Int32?) -> [SocketAddress] {
        guard let lead = family ?? addresses.first?.family else { return [] }
        var preferred = addresses.filter { $0.family == lead }[...]
        var other = addresses.filter { $0.family != lead }[...]
        var order: [SocketAddress] = []
        order.reserveCapacity(addresses.count)
        while !preferred.isEmpty || !other.isEmpty {
            if let next = preferred.popFirst() { order.append(next) }
            if let next = other.popFirst() { order.append(next) }
        }
        return order
    }
}
