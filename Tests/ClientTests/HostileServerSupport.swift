import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

// What the tests that play a hostile or broken server share: the raw octets such a server
// writes (its script runs once per connection, on a thread of its own, in `OneShotServer`), and
// the request the client under test sends it.

enum RawPeer {
    /// Sends every octet of `bytes`; false once the client is gone.
    @discardableResult
    static func send(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    @discardableResult
    static func send(_ text: String, to fd: Int32) -> Bool { send(Array(text.utf8), to: fd) }

    /// Sends `bytes` one octet every `interval` seconds until the client is gone or `seconds`
    /// pass.
    static func trickle(_ bytes: [UInt8], to fd: Int32, every interval: Double, for seconds: Double) {
        let started = MonotonicClock.seconds()
        for byte in bytes where MonotonicClock.seconds() - started < seconds {
            guard send([byte], to: fd) else { return }
            usleep(useconds_t(interval * 1e6))
        }
    }

    /// Reads until the client closes its end (true) or `seconds` pass without that (false).
    static func waitForClose(_ fd: Int32, seconds: Double = 5) -> Bool {
        var limit = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = recv(fd, &buffer, buffer.count, 0)
            if got > 0 { continue }
            return got == 0 || errno == ECONNRESET
        }
    }
}

extension OneShotServer {
    /// A GET for `path` on this server, through `pool` when given.
    func request(_ path: String = "/", pool: ConnectionPool? = nil) throws -> Request {
        let request = try Request(uri: "http://127.0.0.1:\(port)\(path)")
        request.pool = pool
        return request
    }
}

/// Runs `body`, which must throw an error whose description contains `expected`, and returns
/// the seconds it took.
@discardableResult
func assertFails(
    _ expected: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void
) -> Double {
    let started = MonotonicClock.seconds()
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertTrue("\(error)".contains(expected), "\(error)", file: file, line: line)
    }
    return MonotonicClock.seconds() - started
}
