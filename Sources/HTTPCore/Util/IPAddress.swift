import Glibc

extension HTTPUtil {
    /// Whether `s` is an IPv4 address in dotted-quad form (`192.0.2.1`) or an IPv6 address in any
    /// RFC 4291 text form (`::1`, `2001:db8::1`, `::ffff:192.0.2.1`), optionally with a zone
    /// identifier (`fe80::1%eth0`; the zone is letters, digits and `-._~`). No brackets, no port.
    ///
    /// The address itself is checked by the C library's `inet_pton`, which accepts exactly the
    /// dotted quad for IPv4 (no leading zeros, no shorthand such as `127.1`).
    public static func isIP(_ s: String) -> Bool {
        isIPv4(s) || isIPv6(s)
    }

    /// Whether `s` is an IPv4 address in dotted-quad form.
    public static func isIPv4(_ s: String) -> Bool {
        guard s.utf8.count <= 15, !s.utf8.contains(0) else { return false }
        var address = in_addr()
        return s.withCString { inet_pton(AF_INET, $0, &address) } == 1
    }

    /// Whether `s` is an IPv6 address, optionally with a `%zone` suffix.
    public static func isIPv6(_ s: String) -> Bool {
        // 45 bytes is the longest IPv6 text form; zones are interface names (≤ 15 bytes on Linux) or
        // numbers, but allow some room.
        guard s.utf8.count <= 45 + 1 + 64, !s.utf8.contains(0) else { return false }
        var address = in6_addr()
        if let percent = s.utf8.firstIndex(of: UInt8(ascii: "%")) {
            let zone = s.utf8[s.utf8.index(after: percent)...]
            guard !zone.isEmpty, zone.allSatisfy({ ByteSet.zoneID.contains($0) }) else { return false }
            let literal = String(s[..<percent])
            return literal.withCString { inet_pton(AF_INET6, $0, &address) } == 1
        }
        return s.withCString { inet_pton(AF_INET6, $0, &address) } == 1
    }
}
