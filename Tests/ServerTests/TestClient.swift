import Foundation
import Stepwise

#if canImport(Glibc)
    import Glibc
#endif

/// A response as the test client parsed it.
struct TestResponse {
    var status: Int
    /// Names lower-cased, in order.
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    var trailers: [(name: String, value: String)] = []
    /// The status line's version: "HTTP/1.1" or "HTTP/1.0".
    var version = "HTTP/1.1"

    func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A blocking loopback client, plain or TLS (a `TLSEngine` over the socket). Every wait has a
/// deadline (default 5 s): a server that does not answer fails the test instead of hanging it.
final class TestClient {
    private(set) var fd: Int32
    private let tls: TLSEngine?
    private var unsentCiphertext: [UInt8] = []
    private var input: [UInt8] = []
    /// The server closed (EOF or reset).
    private(set) var isClosed = false
    var timeout: Double = 5

    private init(fd: Int32, tls: TLSEngine?) {
        self.fd = fd
        self.tls = tls
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// Connects to 127.0.0.1:`port`.
    convenience init(port: UInt16) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        try self.init(fd: Self.connect(AF_INET, &address), tls: nil)
    }

    /// Connects to the Unix socket at `path`.
    convenience init(path: String) throws {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        try self.init(fd: Self.connect(AF_UNIX, &address), tls: nil)
    }

    /// Connects to 127.0.0.1:`port` and completes a TLS handshake (no certificate check).
    convenience init(tlsPort port: UInt16, alpn: [String] = []) throws {
        let plain = try TestClient(port: port)
        let engine = try TLSEngine(
            context: TLSContext.client(verify: false, alpn: alpn), role: .client(serverName: nil))
        self.init(fd: dup(plain.fd), tls: engine)
        while try engine.handshake() != .complete {
            try flushCiphertext()
            guard try receiveCiphertext() else { throw TestError("the server closed during the TLS handshake") }
        }
        try flushCiphertext()
    }

    private static func connect<Address>(_ family: Int32, _ address: inout Address) throws -> Int32 {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestError("socket: errno \(errno)") }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<Address>.size))
            }
        }
        guard result == 0 else {
            let error = errno
            Glibc.close(fd)
            throw TestError("connect: errno \(error)")
        }
        return fd
    }

    /// The client's own port.
    var localPort: UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    // MARK: Sending

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        let sent = try send(bytes, until: MonotonicClock.seconds() + timeout)
        guard sent == bytes.count, unsentCiphertext.isEmpty else {
            throw TestError("sent only \(sent) of \(bytes.count) octets in time")
        }
    }

    /// Sends as much of `bytes` as the server takes before `deadline`; returns how much that was.
    func send(_ bytes: [UInt8], until deadline: Double) throws -> Int {
        guard let tls else { return try sendRaw(bytes, until: deadline) }
        var offset = 0
        while try flushCiphertext(until: deadline), offset < bytes.count {
            offset += try tls.write(Array(bytes[offset..<min(bytes.count, offset + 16384)]))
        }
        return offset
    }

    private func sendRaw(_ bytes: [UInt8], until deadline: Double) throws -> Int {
        var offset = 0
        while offset < bytes.count {
            guard try wait(for: Int16(POLLOUT), until: deadline) else { break }
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if sent < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw TestError("send: errno \(errno)")
            }
            offset += sent
        }
        return offset
    }

    /// Sends the TLS records not sent yet; false when the deadline passed first.
    private func flushCiphertext(until deadline: Double) throws -> Bool {
        tls?.takeCiphertext(into: &unsentCiphertext)
        unsentCiphertext.removeFirst(try sendRaw(unsentCiphertext, until: deadline))
        return unsentCiphertext.isEmpty
    }

    private func flushCiphertext() throws {
        guard try flushCiphertext(until: MonotonicClock.seconds() + timeout) else {
            throw TestError("TLS records not sent in time")
        }
    }

    /// Half-closes: the server reads EOF, the client can still read.
    func shutdownWrite() { Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// Closes the socket (the server reads EOF).
    func close() {
        Glibc.close(fd)
        fd = -1
        isClosed = true
    }

    // MARK: Receiving

    private func wait(for events: Int16, until deadline: Double) throws -> Bool {
        while true {
            // Polls once even past the deadline: what already arrived counts (a caller that saw
            // the fd ready just at its deadline must not be told nothing came).
            let left = max(0, deadline - MonotonicClock.seconds())
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32((left * 1000).rounded(.up)))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { throw TestError("poll: errno \(errno)") }
            if ready == 0 && left == 0 { return false }
        }
    }

    /// Reads what arrives into `input`. False once the server closed; throws after `deadline`.
    @discardableResult
    private func receive(until deadline: Double) throws -> Bool {
        guard !isClosed else { return false }
        while true {
            guard try wait(for: Int16(POLLIN), until: deadline) else { throw TestError("nothing arrived in time") }
            guard let tls else { return try receivePlaintext(into: &input) }
            guard try receiveCiphertext() else { return false }
            let before = input.count
            var chunk = [UInt8](repeating: 0, count: 16384)
            reading: while true {
                switch try chunk.withUnsafeMutableBytes({ try tls.read(into: $0) }) {
                case .bytes(let count): input += chunk[..<count]
                case .needsMoreInput: break reading
                case .closed:
                    isClosed = true
                    break reading
                }
            }
            if input.count > before { return true }
            if isClosed { return false }
            try flushCiphertext()
        }
    }

    private func receivePlaintext(into buffer: inout [UInt8]) throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            buffer += chunk[..<count]
            return true
        }
        if count < 0 && errno != ECONNRESET { throw TestError("recv: errno \(errno)") }
        isClosed = true
        return false
    }

    private func receiveCiphertext() throws -> Bool {
        var ciphertext: [UInt8] = []
        guard try receivePlaintext(into: &ciphertext) else {
            tls?.receivedEOF()
            return false
        }
        tls?.receiveCiphertext(ciphertext)
        return true
    }

    /// Waits for the server to close the connection; returns what arrived meanwhile. Throws when
    /// it stays open past the deadline.
    @discardableResult
    func readUntilClosed(within seconds: Double? = nil) throws -> [UInt8] {
        let deadline = MonotonicClock.seconds() + (seconds ?? timeout)
        while try receive(until: deadline) {}
        defer { input.removeAll() }
        return input
    }

    /// True when nothing arrives (and the connection stays open) for `seconds`.
    func staysSilent(for seconds: Double) throws -> Bool {
        let deadline = MonotonicClock.seconds() + seconds
        guard try wait(for: Int16(POLLIN), until: deadline) else { return true }
        _ = try receive(until: deadline)
        return false
    }

    private func take(_ count: Int, _ deadline: Double) throws -> [UInt8] {
        while input.count < count {
            guard try receive(until: deadline) else { throw TestError("the server closed mid-message") }
        }
        defer { input.removeFirst(count) }
        return Array(input[..<count])
    }

    /// The next line without its CRLF.
    private func takeLine(_ deadline: Double) throws -> String {
        var searched = 0
        while true {
            if let end = input[searched...].firstIndex(of: 0x0A) {
                let line = try take(end + 1, deadline)
                return String(decoding: line.dropLast(line.dropLast().last == 0x0D ? 2 : 1), as: UTF8.self)
            }
            searched = input.count
            guard try receive(until: deadline) else { throw TestError("the server closed mid-line") }
        }
    }

    private func takeFields(_ deadline: Double) throws -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        while case let line = try takeLine(deadline), !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw TestError("bad field line \(line)") }
            fields.append(
                (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return fields
    }

    /// Reads one response (an interim 1xx too). `head`: it answers a HEAD request (no body).
    func readResponse(head: Bool = false, within seconds: Double? = nil) throws -> TestResponse {
        let deadline = MonotonicClock.seconds() + (seconds ?? timeout)
        let statusLine = try takeLine(deadline)
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0", let status = Int(parts[1]) else {
            throw TestError("bad status line \(statusLine)")
        }
        var response = TestResponse(status: status, headers: try takeFields(deadline), body: [])
        response.version = String(parts[0])
        if head || status < 200 || status == 204 || status == 304 { return response }
        if let coding = response.header("transfer-encoding") {
            guard coding.hasSuffix("chunked") else { throw TestError("unexpected transfer-encoding \(coding)") }
            while case let sizeLine = try takeLine(deadline),
                let size = Int(sizeLine.prefix { $0 != ";" }, radix: 16), size > 0
            {
                response.body += try take(size + 2, deadline).dropLast(2)
            }
            response.trailers = try takeFields(deadline)
        } else if let length = response.header("content-length") {
            guard let count = Int(length) else { throw TestError("bad content-length \(length)") }
            response.body = try take(count, deadline)
        } else {
            response.body = try readUntilClosed(within: deadline - MonotonicClock.seconds())
        }
        return response
    }

    /// Sends `request` and reads the response.
    func exchange(_ request: String, head: Bool = false) throws -> TestResponse {
        try send(request)
        return try readResponse(head: head)
    }
}

/// A GET request for `path` (HTTP/1.1 with a Host field unless told otherwise).
func get(_ path: String, version: String = "HTTP/1.1", _ fields: String...) -> String {
    var request = "GET \(path) \(version)\r\n"
    if version == "HTTP/1.1" { request += "Host: test\r\n" }
    for field in fields { request += field + "\r\n" }
    return request + "\r\n"
}
