import Glibc

/// Thin wrappers over the socket system calls the listener, connector and stream socket share.
enum Socket {
    /// A new non-blocking, close-on-exec stream socket.
    static func make(family: Int32) throws -> Int32 {
        let fd = socket(
            family,
            Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError.last("socket") }
        return fd
    }

    @discardableResult
    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Bool {
        var value = value
        return setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0
    }

    static func localName(_ fd: Int32) -> SocketName { name(fd, getsockname) }
    static func peerName(_ fd: Int32) -> SocketName { name(fd, getpeername) }

    private static func name(
        _ fd: Int32,
        _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) -> SocketName {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, &length) == 0 }
        }
        guard ok else { return .unspecified }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                SocketAddress(pointer, length: length).map(SocketName.init) ?? .unspecified
            }
        }
    }

    static func bind(_ fd: Int32, to address: SocketAddress) throws {
        try address.withSockaddr { pointer, length in
            guard Glibc.bind(fd, pointer, length) == 0 else {
                throw SocketError.system(operation: "bind to \(address)", errno: errno)
            }
        }
    }

    /// Starts a non-blocking connect: true when already connected, false when in progress.
    static func startConnect(_ fd: Int32, to address: SocketAddress) throws -> Bool {
        try address.withSockaddr { pointer, length in
            while true {
                if Glibc.connect(fd, pointer, length) == 0 { return true }
                switch errno {
                case EINTR: continue
                case EINPROGRESS: return false
                default: throw SocketError.connectFailed(target: address.description, errno: errno)
                }
            }
        }
    }

    /// The result of a finished non-blocking connect (`SO_ERROR`).
    static func pendingError(_ fd: Int32) -> Int32 {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else { return errno }
        return error
    }
}
