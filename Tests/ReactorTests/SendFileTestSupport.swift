import Glibc
import XCTest

@testable import Reactor

/// A temporary file of `size` octets for the `sendFile` tests, each 4 KiB block marked with its
/// number (`contents` holds them), unlinked at once and closed when released.
final class TestFile: FileDescriptorOwner, @unchecked Sendable {
    let fd: Int32
    let contents: [UInt8]

    init(size: Int) throws {
        var template = Array("/tmp/stepwise-sendfile-XXXXXX".utf8CString)
        fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw SocketError.last("mkstemp") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        var bytes = [UInt8](repeating: 0x2E, count: size)
        for i in stride(from: 0, to: size, by: 4096) { bytes[i] = UInt8(truncatingIfNeeded: i >> 12) }
        contents = bytes
        XCTAssertEqual(bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }, size)
    }

    deinit { close(fd) }
}

extension XCTestCase {
    /// A connected pair over loopback TCP; the sender with a small send buffer (`sendBuffer`
    /// octets, nil: the kernel's), so that a large file cannot go out in one stretch.
    func connectedPair(on reactor: Reactor, sendBuffer: Int32? = 64 * 1024) throws -> (
        sender: StreamSocket, receiver: StreamSocket
    ) {
        let listener = try Listener.listen(ListenOptions(host: "127.0.0.1"), on: reactor)
        let port = listener.localname().port!
        return try reactor.run(timeout: 5) { () async throws -> (StreamSocket, StreamSocket) in
            async let accepted = listener.accept(timeout: 5)
            let client = try await StreamSocket.connect(host: "127.0.0.1", port: port, on: reactor, timeout: 5)
            let server = try await accepted
            if let sendBuffer { Socket.setOption(server.fd, SOL_SOCKET, SO_SNDBUF, sendBuffer) }
            return (server, client)
        }
    }
}

/// `success` when `body` returns, else the description of what it threw.
func outcome(_ success: String, of body: () async throws -> Void) async -> String {
    do {
        try await body()
        return success
    } catch {
        return "\(error)"
    }
}
