import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// A raw keep-alive HTTP/1.1 server whose request path says what body it answers with, for the
/// tests of what a client buffers (`fetch`'s and `HTTPConnection`'s `bodyLimit`):
///
/// - `/length/N`: N octets framed by `content-length` (a HEAD gets the head alone);
/// - `/chunked/N`: N octets in chunks of at most 16 KiB;
/// - `/gzip/N`: N zeros, `content-encoding: gzip`, framed by the coded length;
/// - `/head-only/N`: a head declaring N octets, and no body: the server waits for the client to
///   close;
/// - `/endless`: 64 KiB chunks until the client is gone.
///
/// `bodyOctetsSent` counts the body octets written, `connectionsEnded` the connections whose
/// client closed (or reset) them.
final class SizedBodyServer: @unchecked Sendable {
    private var server: OneShotServer!
    private let sent = Locked(0)
    private let ended = Locked(0)

    var port: UInt16 { server.port }
    var connections: Int { server.connections }
    var bodyOctetsSent: Int { sent.withLock { $0 } }
    var connectionsEnded: Int { ended.withLock { $0 } }

    init() throws {
        server = try OneShotServer { [sent, ended] client in
            while let (method, path) = Self.readHead(client) {
                guard Self.answer(method: method, path: path, to: client, sent: sent) else { break }
            }
            ended.withLock { $0 += 1 }
        }
    }

    func stop() { server.stop() }

    /// The URL of `path` on this server.
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Waits (up to 5 s) until `count` connections ended; false if they did not.
    func waitUntilConnectionsEnded(_ count: Int) -> Bool {
        let deadline = MonotonicClock.seconds() + 5
        while connectionsEnded < count {
            guard MonotonicClock.seconds() < deadline else { return false }
            usleep(1000)
        }
        return true
    }

    /// Answers one request; false when the connection is done with.
    private static func answer(method: String, path: String, to client: Int32, sent: Locked<Int>) -> Bool {
        let parts = path.split(separator: "/")
        let kind = parts.first.map(String.init) ?? ""
        let count = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        func send(_ bytes: [UInt8], body: Int = 0) -> Bool {
            guard RawPeer.send(bytes, to: client) else { return false }
            sent.withLock { $0 += body }
            return true
        }
        func head(_ fields: String) -> [UInt8] { Array("HTTP/1.1 200 OK\r\n\(fields)\r\n".utf8) }
        switch kind {
        case "length":
            let body = method == "HEAD" ? [] : [UInt8](repeating: 0x61, count: count)
            return send(head("content-length: \(count)\r\n") + body, body: body.count)
        case "chunked":
            guard send(head("transfer-encoding: chunked\r\n")) else { return false }
            var left = count
            while left > 0 {
                let piece = min(left, 16 << 10)
                let chunk = Array("\(String(piece, radix: 16))\r\n".utf8) + [UInt8](repeating: 0x61, count: piece)
                guard send(chunk + Array("\r\n".utf8), body: piece) else { return false }
                left -= piece
            }
            return send(Array("0\r\n\r\n".utf8))
        case "gzip":
            let coded = try! Deflater(format: .gzip).process([UInt8](repeating: 0, count: count), final: true)
            return send(head("content-encoding: gzip\r\ncontent-length: \(coded.count)\r\n") + coded, body: coded.count)
        case "head-only":
            return send(head("content-length: \(count)\r\n"))
        case "endless":
            guard send(head("transfer-encoding: chunked\r\n")) else { return false }
            let chunk = Array("10000\r\n".utf8) + [UInt8](repeating: 0x61, count: 1 << 16) + Array("\r\n".utf8)
            while send(chunk, body: 1 << 16) {}
            return false
        default:
            return send(head("content-length: 0\r\n"))
        }
    }

    /// The method and path of the next request head (these tests send no request bodies); nil
    /// once the client closed.
    private static func readHead(_ client: Int32) -> (String, String)? {
        var data: [UInt8] = []
        var byte: UInt8 = 0
        while !data.ends(with: Array("\r\n\r\n".utf8)) {
            guard recv(client, &byte, 1, 0) == 1 else { return nil }
            data.append(byte)
        }
        let words = String(decoding: data, as: UTF8.self).split(separator: " ", maxSplits: 2)
        guard words.count == 3 else { return nil }
        return (String(words[0]), String(words[1]))
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix)
    }
}
