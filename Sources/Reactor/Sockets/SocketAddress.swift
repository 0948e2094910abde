import Glibc

/// An IPv4, IPv6 or Unix-domain socket address.
public enum SocketAddress: Sendable, Hashable, CustomStringConvertible {
    case ipv4(address: String, port: UInt16)
    case ipv6(address: String, port: UInt16, scopeID: UInt32)
    case unix(path: String)

    /// The address family: `AF_INET`, `AF_INET6` or `AF_UNIX`.
    public var family: Int32 {
        switch self {
        case .ipv4: return AF_INET
        case .ipv6: return AF_INET6
        case .unix: return AF_UNIX
        }
    }

    /// The host part (an IP literal, or the path of a Unix socket).
    public var host: String {
        switch self {
        case .ipv4(let address, _), .ipv6(let address, _, _): return address
        case .unix(let path): return path
        }
    }

    /// The port, or nil for Unix sockets.
    public var port: UInt16? {
        switch self {
        case .ipv4(_, let port), .ipv6(_, let port, _): return port
        case .unix: return nil
        }
    }

    /// `127.0.0.1:80`, `[::1]:80`, `unix:/path`.
    public var description: String {
        switch self {
        case .ipv4(let address, let port): return "\(address):\(port)"
        case .ipv6(let address, let port, _): return "[\(address)]:\(port)"
        case .unix(let path): return "unix:\(path)"
        }
    }

    /// Parses an IP literal (no DNS). IPv6 may carry a zone (`fe80::1%eth0`) and brackets.
    public init?(ipLiteral: String, port: UInt16) {
        var literal = ipLiteral
        if literal.hasPrefix("[") && literal.hasSuffix("]") {
            literal = String(literal.dropFirst().dropLast())
        }
        var v4 = in_addr()
        if inet_pton(AF_INET, literal, &v4) == 1 {
            self = .ipv4(address: literal, port: port)
            return
        }
        var zone: UInt32 = 0
        var bare = literal
        if let percent = literal.firstIndex(of: "%") {
            bare = String(literal[..<percent])
            let name = String(literal[literal.index(after: percent)...])
            zone = UInt32(name) ?? if_nametoindex(name)
            guard zone != 0 else { return nil }
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, bare, &v6) == 1 else { return nil }
        self = .ipv6(address: bare, port: port, scopeID: zone)
    }

    /// Reads a kernel socket address.
    init?(_ storage: UnsafePointer<sockaddr>, length: socklen_t) {
        switch Int32(storage.pointee.sa_family) {
        case AF_INET:
            let sin = UnsafeRawPointer(storage).load(as: sockaddr_in.self)
            var address = sin.sin_addr
            self = .ipv4(
                address: SocketAddress.ntop(AF_INET, &address), port: UInt16(bigEndian: sin.sin_port))
        case AF_INET6:
            let sin6 = UnsafeRawPointer(storage).load(as: sockaddr_in6.self)
            var address = sin6.sin6_addr
            self = .ipv6(
                address: SocketAddress.ntop(AF_INET6, &address), port: UInt16(bigEndian: sin6.sin6_port),
                scopeID: sin6.sin6_scope_id)
        case AF_UNIX:
            let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
            let pathLength = Int(length) - pathOffset
            guard pathLength > 0 else {
                self = .unix(path: "")
                return
            }
            let bytes = UnsafeRawBufferPointer(
                start: UnsafeRawPointer(storage) + pathOffset, count: pathLength)
            self = .unix(path: String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self))
        default:
            return nil
        }
    }

    private static func ntop<T>(_ family: Int32, _ address: inout T) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = withUnsafeBytes(of: &address) {
            inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Calls `body` with the kernel form of the address.
    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) throws -> R {
        switch self {
        case .ipv4(let address, let port):
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            guard inet_pton(AF_INET, address, &sin.sin_addr) == 1 else {
                throw SocketError.invalidAddress(address)
            }
            return try withUnsafePointer(to: &sin) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .ipv6(let address, let port, let scopeID):
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            sin6.sin6_scope_id = scopeID
            guard inet_pton(AF_INET6, address, &sin6.sin6_addr) == 1 else {
                throw SocketError.invalidAddress(address)
            }
            return try withUnsafePointer(to: &sin6) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        case .unix(let path):
            var sun = sockaddr_un()
            sun.sun_family = sa_family_t(AF_UNIX)
            let utf8 = Array(path.utf8)
            let capacity = MemoryLayout.size(ofValue: sun.sun_path)
            guard utf8.count < capacity, !utf8.contains(0) else { throw SocketError.invalidAddress(path) }
            withUnsafeMutableBytes(of: &sun.sun_path) { raw in
                raw.copyBytes(from: utf8)
                raw[utf8.count] = 0
            }
            let length = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + utf8.count + 1
            return try withUnsafePointer(to: &sun) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(length)) }
            }
        }
    }
}

/// What `localname()` and `peername()` report: lua-http's (family, address, port) or
/// (`AF_UNIX`, path), and `AF_UNSPEC` when the socket is not connected.
public struct SocketName: Sendable, Equatable, CustomStringConvertible {
    public let family: Int32
    public let address: String?
    public let port: UInt16?

    public static let unspecified = SocketName(family: AF_UNSPEC, address: nil, port: nil)

    init(family: Int32, address: String?, port: UInt16?) {
        self.family = family
        self.address = address
        self.port = port
    }

    init(_ address: SocketAddress) {
        self.init(family: address.family, address: address.host, port: address.port)
    }

    public var description: String {
        switch family {
        case AF_INET: return "\(address ?? ""):\(port ?? 0)"
        case AF_INET6: return "[\(address ?? "")]:\(port ?? 0)"
        case AF_UNIX: return "unix:\(address ?? "")"
        default: return "unspecified"
        }
    }
}
