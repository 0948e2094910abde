import Foundation
import HTTPCore
import Stepwise
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The soak's requests: valid ones (any route, body framing and coding, HTTP/1.0 or 1.1), their
/// mutations, and TLS ClientHellos.
extension ServerSoakTests {

    struct Request {
        var bytes: [UInt8]
        var id: String
        var route: String
        var bodyCount: Int
        var body: [UInt8]
        var wireBodyCount: Int
        var isHead: Bool
        /// The server closes after answering it.
        var closes: Bool
    }

    static func validRequest(
        _ random: inout SplitMix64, id: String, close: Bool = false, corruptCoding: Bool = false,
        head: Bool = false
    ) -> Request {
        var route = routes.randomElement(using: &random)!
        if let only = ProcessInfo.processInfo.environment["STEPWISE_SOAK_ROUTE"] { route = only }
        let http10 = Int.random(in: 0..<8, using: &random) == 0
        let method = ["GET", "POST", "PUT", head ? "HEAD" : "GET"].randomElement(using: &random)!
        var head = "\(method) \(route)?q=\(id) HTTP/1.\(http10 ? 0 : 1)\r\n"
        head += "Host: soak\r\nX-Id: \(id)\r\n"
        let keepAlive = Bool.random(using: &random)
        if close {
            head += "Connection: close\r\n"
        } else if http10 && keepAlive {
            head += "Connection: keep-alive\r\n"
        }
        if route == "/continue" && Bool.random(using: &random) { head += "Expect: 100-continue\r\n" }
        if Int.random(in: 0..<3, using: &random) == 0 {
            head += ["TE: gzip\r\n", "TE: gzip, trailers\r\n", "TE: trailers, gzip;q=0.5\r\n", "TE: gzip;q=0\r\n"]
                .randomElement(using: &random)!
        }
        var body: [UInt8] = []
        var decoded: [UInt8] = []
        func chunked(_ data: [UInt8]) -> [UInt8] {
            var result: [UInt8] = []
            var offset = 0
            while offset < data.count {
                let count = min(data.count - offset, Int.random(in: 1..<700, using: &random))
                var size = String(count, radix: 16)
                if Bool.random(using: &random) { size += ";ext=\"v\";x" }
                result += Array("\(size)\r\n".utf8) + data[offset..<offset + count] + [13, 10]
                offset += count
            }
            result += Array("0\r\n".utf8)
            if Bool.random(using: &random) { result += Array("X-Trailer: t\r\n".utf8) }
            return result + [13, 10]
        }
        switch http10 ? Int.random(in: 0..<2, using: &random) : Int.random(in: 0..<5, using: &random) {
        case 0:
            break
        case 1:
            decoded = pattern(0, Int.random(in: 0..<3000, using: &random))
            body = decoded
            head += "Content-Length: \(body.count)\r\n"
        case 2:
            head += "Transfer-Encoding: chunked\r\n"
            decoded = pattern(0, Int.random(in: 0..<3000, using: &random))
            body = chunked(decoded)
        case 3:
            decoded = pattern(0, Int.random(in: 0..<200_000, using: &random))
            body = decoded
            head += "Content-Length: \(body.count)\r\n"
        default:
            let name = ["gzip", "x-gzip", "deflate"].randomElement(using: &random)!
            head += "Transfer-Encoding: \(name), chunked\r\n"
            decoded = pattern(0, Int.random(in: 1..<100_000, using: &random))
            let coded = (try? RandomCoding(decoded[...], name: name, corrupt: corruptCoding, &random))?.body ?? []
            body = chunked(coded)
        }
        return Request(
            bytes: Array((head + "\r\n").utf8) + body, id: id, route: route, bodyCount: decoded.count, body: decoded,
            wireBodyCount: body.count, isHead: method == "HEAD", closes: close || http10 && !keepAlive)
    }

    static let oddBytes: [UInt8] = [0, 13, 10, 32, 9, 58, 0x7F, 0xFF, 0x22, 0x2C, 0x3B]

    static func mutate(_ bytes: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = bytes
        guard !bytes.isEmpty else { return bytes }
        let headEnd = SoakResponses.find([13, 10, 13, 10], in: bytes, from: 0) ?? bytes.count
        switch Int.random(in: 0..<9, using: &random) {
        case 0:  // flip bytes in the head
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                bytes[Int.random(in: 0..<max(1, headEnd), using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            }
        case 1:  // truncate
            bytes.removeLast(Int.random(in: 1...bytes.count, using: &random))
        case 2:  // an odd octet inserted in the head
            bytes.insert(oddBytes.randomElement(using: &random)!, at: Int.random(in: 0...headEnd, using: &random))
        case 3:  // conflicting framing
            let extra = [
                "Content-Length: 5\r\n", "Content-Length: 0\r\nContent-Length: 1\r\n", "Transfer-Encoding: chunked\r\n",
                "Transfer-Encoding: gzip, chunked\r\n", "Transfer-Encoding: chunked, identity\r\n",
                "Content-Length: -1\r\n", "Content-Length: 99999999999999999999\r\n", "Transfer-Encoding: xyz\r\n",
                "Content-Length: 1, 1\r\n", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                "Content-Length: +3\r\n", "Expect: 100-continue\r\n", "Connection: upgrade\r\nUpgrade: h2c\r\n",
                "Host: other\r\n",
            ].randomElement(using: &random)!
            let lineEnd = (SoakResponses.find([13, 10], in: bytes, from: 0) ?? 0) + 2
            bytes.insert(contentsOf: Array(extra.utf8), at: min(lineEnd, bytes.count))
        case 4:  // a huge field or target
            let size = [5000, 9000, 70000].randomElement(using: &random)!
            if Bool.random(using: &random) {
                let lineEnd = (SoakResponses.find([13, 10], in: bytes, from: 0) ?? 0) + 2
                bytes.insert(
                    contentsOf: Array("X-Big: \(String(repeating: "b", count: size))\r\n".utf8),
                    at: min(lineEnd, bytes.count))
            } else if let space = bytes.firstIndex(of: 32) {
                bytes.insert(contentsOf: Array(repeating: UInt8(ascii: "a"), count: size), at: space + 2)
            }
        case 5:  // another version
            let version = ["HTTP/1.0", "HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/1.1x", "http/1.1"]
                .randomElement(using: &random)!
            if let at = SoakResponses.find(Array("HTTP/1.1".utf8), in: bytes, from: 0) {
                bytes.replaceSubrange(at..<at + 8, with: Array(version.utf8))
            }
        case 6:  // an obs-fold, a space before the colon, a bare CR
            let odd = ["X-A: b\r\n c\r\n", "X-A : b\r\n", "X-A: b\rc\r\n", ": empty\r\n", "X-A: \u{1}\r\n"]
                .randomElement(using: &random)!
            let lineEnd = (SoakResponses.find([13, 10], in: bytes, from: 0) ?? 0) + 2
            bytes.insert(contentsOf: Array(odd.utf8), at: min(lineEnd, bytes.count))
        case 7:  // flip a byte anywhere (the body's framing too)
            bytes[Int.random(in: 0..<bytes.count, using: &random)] = oddBytes.randomElement(using: &random)!
        default:  // a method or target oddity
            let line = [
                "CONNECT soak:443 HTTP/1.1\r\n", "OPTIONS * HTTP/1.1\r\n", "GET http://x/small HTTP/1.1\r\n",
                "GET  /small HTTP/1.1\r\n", "G\u{0}T /small HTTP/1.1\r\n", "GET /sm all HTTP/1.1\r\n", "\r\n\r\n",
                "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            ].randomElement(using: &random)!
            let lineEnd = (SoakResponses.find([13, 10], in: bytes, from: 0) ?? -2) + 2
            bytes.replaceSubrange(0..<lineEnd, with: Array(line.utf8))
        }
        return bytes
    }

    /// A ClientHello from a real TLS engine (perhaps cut or damaged).
    static func clientHello(_ random: inout SplitMix64) -> [UInt8] {
        guard let engine = try? TLSEngine(context: TLSContext.client(verify: false), role: .client(serverName: "soak"))
        else { return [0x16, 3, 1, 0, 5, 1, 0, 0, 1, 0] }
        _ = try? engine.handshake()
        var hello: [UInt8] = []
        engine.takeCiphertext(into: &hello)
        switch Int.random(in: 0..<4, using: &random) {
        case 0: return hello
        case 1: return Array(hello.prefix(Int.random(in: 1...hello.count, using: &random)))
        case 2:
            var bytes = hello
            for _ in 0..<3 { bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= 0x5A }
            return bytes
        default: return hello + pattern(0, Int.random(in: 1..<500, using: &random))
        }
    }
}
