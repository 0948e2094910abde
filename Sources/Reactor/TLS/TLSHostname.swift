import Glibc

/// A peer name as TLS uses it: a DNS name (sent as SNI, checked against DNS SANs) or an IP literal (never
/// sent as SNI, checked against IP SANs).
enum TLSHostname: Equatable {
    case dns(String)
    case ipAddress(String)

    /// Classifies `name`; IPv6 literals may be written with or without brackets (`[::1]` or `::1`),
    /// and with a zone (`fe80::1%eth0`, which names an interface: the address is what a
    /// certificate can hold). A DNS name loses one trailing dot: `example.com.` is the same name,
    /// and RFC 6066 §3 sends SNI without it.
    init(_ name: String) {
        var bare = name
        if bare.hasPrefix("["), bare.hasSuffix("]"), bare.count > 2 {
            bare = String(bare.dropFirst().dropLast())
        }
        if bare.contains(":"), let percent = bare.firstIndex(of: "%") { bare = String(bare[..<percent]) }
        if TLSHostname.isIPLiteral(bare) {
            self = .ipAddress(bare)
        } else {
            self = .dns(name.hasSuffix(".") && name.count > 1 ? String(name.dropLast()) : name)
        }
    }

    var text: String {
        switch self {
        case .dns(let name), .ipAddress(let name): return name
        }
    }

    /// True for a dotted-quad IPv4 or a textual IPv6 address (`inet_pton`'s strict syntax).
    static func isIPLiteral(_ text: String) -> Bool {
        var address = (UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &address) { buffer in
            inet_pton(AF_INET, text, buffer.baseAddress) == 1
                || inet_pton(AF_INET6, text, buffer.baseAddress) == 1
        }
    }

    /// True when `name` can go into a certificate as a DNS name: 1–253 bytes of letters, digits, `-`, `.`,
    /// `_` and a `*` wildcard label.
    static func isValidDNSName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...253).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "*"):
                return true
            default:
                return false
            }
        }
    }
}
