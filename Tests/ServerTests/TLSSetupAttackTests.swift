import Foundation
import Stepwise
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// TLS clients as an attacker writes them: a ClientHello that never finishes, and a
/// renegotiation asked for in the middle of a connection. The first is closed at
/// `connectionSetupTimeout`, which covers the handshake as a whole (octets trickling in do not
/// extend it); the second is refused (`TLSContext` sets `SSL_OP_NO_RENEGOTIATION`: the server
/// answers the new ClientHello with a `no_renegotiation` alert, RFC 5246 §7.2.2, rather than do
/// a handshake's work again whenever a client asks).
final class TLSSetupAttackTests: XCTestCase {
    func testAClientHelloThatNeverFinishesIsClosedAtTheSetupTimeout() throws {
        let server = try startServer { $0.connectionSetupTimeout = 0.4 }
        let client = try TestClient(port: server.port)
        let start = MonotonicClock.seconds()
        // A handshake record announcing 512 octets, then its first octets one by one.
        try client.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        var received: [UInt8] = []
        let cpu = try cpuSeconds {
            while try client.staysSilent(for: 0.05), MonotonicClock.seconds() - start < 3 {
                _ = try? client.send([0x00], until: MonotonicClock.seconds() + 0.1)
            }
            received = try client.readUntilClosed()
        }
        let elapsed = MonotonicClock.seconds() - start
        XCTAssertGreaterThanOrEqual(elapsed, 0.35)
        XCTAssertLessThan(elapsed, 2, "the trickled handshake extended the setup timeout")
        XCTAssertEqual(received, [])
        XCTAssertLessThan(cpu, 0.3)
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 })
        XCTAssertEqual(try TestClient(tlsPort: server.port).exchange(get("/hello")).status, 200)
    }

    func testARenegotiationIsRefusedAndTheServerGoesOn() throws {
        let server = try startServer()
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        // TLS 1.2: TLS 1.3 has no renegotiation. `R` on a line of its own asks for one.
        openssl.arguments = ["s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_2", "-quiet", "-no_ign_eof"]
        let input = Pipe()
        let output = Pipe()
        openssl.standardInput = input
        openssl.standardOutput = output
        openssl.standardError = output
        let text = Locked("")
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            text.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        try openssl.run()
        addTeardownBlock {
            if openssl.isRunning { openssl.terminate() }
            openssl.waitUntilExit()
            output.fileHandleForReading.readabilityHandler = nil
        }
        input.fileHandleForWriting.write(Data(get("/hello").utf8))
        XCTAssertTrue(
            waitUntil(within: 10) { text.withLock { $0.contains("x-request-number: 1") } }, text.withLock { $0 })
        input.fileHandleForWriting.write(Data("R\n".utf8))
        // OpenSSL's server answers the new ClientHello with a no_renegotiation alert, which
        // s_client treats as fatal.
        XCTAssertTrue(waitUntil(within: 10) { !openssl.isRunning }, "s_client renegotiated: \(text.withLock { $0 })")
        XCTAssertTrue(text.withLock { $0.contains("no renegotiation") }, text.withLock { $0 })
        XCTAssertTrue(try server.waitOnServer { $0.connections() == 0 })
        XCTAssertLessThan(cpuSeconds { usleep(200_000) }, 0.1)
        XCTAssertEqual(try TestClient(tlsPort: server.port).exchange(get("/hello")).status, 200)
    }
}
