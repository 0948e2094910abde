import Foundation
import Stepwise

#if canImport(Glibc)
    import Glibc
#endif

// The raw server of the hostile-server soak, over plain TCP or TLS (`SoakChannel`): reads requests on a kept-alive connection (keeping
// what follows one request for the next), answers `/s/<number>` with that `SoakCase`'s octets
// and ending, and `/v/<number>` with a plain `ok-<number>`. It records every request that came
// on a connection after an answer no client may read another response after (`SoakCase.taints`):
// the client reused a connection it should have closed.
final class SoakServer: @unchecked Sendable {
    /// The cases, made before the soak starts (a large one takes a while to make).
    let cases: [SoakCase]
    private(set) var server: OneShotServer!
    private let violationList = Locked<[String]>([])

    var port: UInt16 { server.port }
    var violations: [String] { violationList.withLock { $0 } }

    /// TLS on every connection when set (`SoakChannel`), with `tls`'s certificate.
    let tls: TLSContext?

    init(cases: [SoakCase], tls: TLSContext? = nil) throws {
        self.cases = cases
        self.tls = tls
        server = try OneShotServer { [unowned self] client in self.serve(client) }
    }

    func stop() { server.stop() }

    private func serve(_ fd: Int32) {
        var limit = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard let channel = SoakChannel(fd: fd, tls: tls) else { return }
        var input: [UInt8] = []
        var tainted: String?
        while let (method, path, length, expectsContinue) = Self.readHead(channel, &input) {
            if let tainted {
                violationList.withLock { $0.append("\(method) \(path) on a connection after \(tainted)") }
            }
            let parts = path.split(separator: "/")
            guard parts.count == 2, let number = Int(parts[1]), cases.indices.contains(number) else { return }
            if parts[0] == "v" {
                guard Self.readBody(channel, &input, length) else { return }
                let text = "ok-\(number)"
                channel.send(Array("HTTP/1.1 200 OK\r\ncontent-length: \(text.utf8.count)\r\n\r\n\(text)".utf8))
                continue
            }
            var soak = cases[number]
            if let style = soak.continueStyle {
                if !expectsContinue {
                    // The repeat after a 417, or a request whose expectation the client dropped.
                    if style == .refuse { soak.writes = soak.repeatWrites }
                    soak.answersEarly = false
                    soak.taints = false
                } else if style == .silent {
                    usleep(300_000)
                }
            }
            if !soak.answersEarly { guard Self.readBody(channel, &input, length) else { return } }
            for (index, write) in soak.writes.enumerated() {
                if write.pause > 0 { usleep(write.pause) }
                let last = index == soak.writes.count - 1
                if let fraction = soak.cutLastWrite, last {
                    guard channel.sendCut(write.bytes, fraction: fraction) else { return }
                } else if let (at, bit) = soak.tamperLastWrite, last {
                    guard channel.sendTampered(write.bytes, at: at, bit: bit) else { return }
                } else {
                    let closing = last && soak.closeNotifyInLastWrite
                    guard
                        channel.send(
                            write.bytes, piece: soak.recordPiece, pause: 300, seed: UInt64(number * 64 + index),
                            closing: closing)
                    else { return }
                }
            }
            switch soak.ending {
            case .keepOpen:
                // A client answered before it sent its body (100-continue) must not send it.
                if soak.answersEarly && soak.continueStyle == nil {
                    guard Self.readBody(channel, &input, length) else { return }
                }
                if soak.taints { tainted = "/s/\(number) (\(soak.label))" }
            case .close, .closeWithoutNotify, .closeNotifyThenBytes:
                if soak.ending != .closeWithoutNotify { channel.sendCloseNotify() }
                if soak.ending == .closeNotifyThenBytes { channel.sendRaw(soak.afterCloseNotify) }
                shutdown(fd, Int32(SHUT_WR))
                _ = RawPeer.waitForClose(fd)
                return
            case .reset:
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                return
            }
        }
    }

    /// The next request head's method, path, content-length and whether it expects `100
    /// Continue`; nil once the client is gone.
    private static func readHead(_ channel: SoakChannel, _ input: inout [UInt8]) -> (String, String, Int, Bool)? {
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            if let at = firstRange(of: end, in: input) {
                let head = String(decoding: input[..<at], as: UTF8.self)
                input.removeFirst(at + 4)
                let lines = head.split(separator: "\r\n")
                let words = lines.first?.split(separator: " ") ?? []
                guard words.count == 3 else { return nil }
                var length = 0
                for line in lines.dropFirst() where line.lowercased().hasPrefix("content-length:") {
                    length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                }
                let expects = lines.contains {
                    $0.lowercased().hasPrefix("expect:") && $0.lowercased().contains("100-continue")
                }
                return (String(words[0]), String(words[1]), length, expects)
            }
            guard channel.receive(&input) else { return nil }
        }
    }

    private static func readBody(_ channel: SoakChannel, _ input: inout [UInt8], _ length: Int) -> Bool {
        while input.count < length { guard channel.receive(&input) else { return false } }
        input.removeFirst(length)
        return true
    }

    private static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<start + needle.count]) == needle { return start }
        }
        return nil
    }
}
