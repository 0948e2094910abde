import Foundation
import Stepwise

// The hostile-server soak over TLS (`HostileServerSoakTests`): every plain case can come over
// TLS, and some are replaced by what only a TLS server can do wrong.
//
// - A close without close_notify in the middle of a body framed by content-length or chunked,
//   or at the end of a body delimited by the close, is a truncation attack, never a shorter
//   success. RFC 8446 §6.1: "Each party MUST send a "close_notify" alert before closing its
//   write side of the connection, unless it has already sent some error alert."; RFC 9112 §9.8:
//   "Treating an incomplete message as complete could expose implementations to attack by a
//   third party." A framed body that is whole is still the response.
// - close_notify and then more octets: the session ended at close_notify, and nothing after it
//   is read (RFC 8446 §6.1: "Any data received after a closure alert has been received MUST be
//   ignored."), so a whole response stands and a cut one fails.
// - close_notify behind a response on a connection the server keeps open: the session is over,
//   so the client takes no other request there.
// - A record whose ciphertext was changed on the way fails its authentication: an error, never
//   other octets.
// - A reset in the middle of a record, and records whose ciphertext comes in many small writes.
extension SoakCase {
    /// Case `number` of the TLS soak: the plain case, or a TLS one instead.
    static func makeOverTLS(seed: UInt64, number: Int) -> SoakCase {
        var random = SoakRandom(seed: seed &+ UInt64(number) &* 0x1000_0000_01B3 &+ 0x7715)
        guard random.chance(0.45) else { return make(seed: seed, number: number) }
        return makeTLS(&random)
    }

    /// A response whose body is framed by content-length or chunked, never empty, split into
    /// writes; and where its head ends.
    private static func framed(_ random: inout SoakRandom) -> (bytes: [UInt8], body: [UInt8], headEnd: Int) {
        var body = body(&random)
        if body.isEmpty { body = Array("x".utf8) }
        if random.chance(0.5) {
            let head = Array("HTTP/1.1 200 OK\r\ncontent-length: \(body.count)\r\n\r\n".utf8)
            return (head + body, body, head.count)
        }
        let head = Array("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".utf8)
        return (head + chunked(body, &random, trailers: random.chance(0.3)), body, head.count)
    }

    // swift-format-ignore
    private static func makeTLS(_ random: inout SoakRandom) -> SoakCase {
        var c = SoakCase(label: "")
        switch Int.random(in: 0..<9, using: &random) {
        case 0:
            // Truncation: the connection ends without close_notify inside a framed body.
            let (bytes, _, headEnd) = framed(&random)
            let cut = Int.random(in: headEnd..<bytes.count, using: &random)
            c.label = "tls truncated at \(cut) of \(bytes.count)"
            c.writes = split(Array(bytes[..<cut]), &random)
            c.ending = .closeWithoutNotify
            c.expect = .failure
        case 1:
            // Truncation of a body delimited by the close: whole as sent, but nothing says so.
            let body = body(&random)
            c.label = "tls close-delimited without close_notify"
            c.writes = split(Array("HTTP/1.1 200 OK\r\n\r\n".utf8) + body, &random)
            c.ending = .closeWithoutNotify
            c.expect = .failure
        case 2:
            // A whole framed body, then a close without close_notify: the framing says it is whole.
            let (bytes, body, _) = framed(&random)
            c.label = "tls whole, then closed without close_notify"
            c.writes = split(bytes, &random)
            c.ending = .closeWithoutNotify
            c.expect = .response(200, body)
        case 3:
            // A whole response (any framing), close_notify, then octets that must not be read.
            let (bytes, body, _) = valid(&random)
            let after = [
                Array("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nwrong".utf8),
                [0x17, 0x03, 0x03, 0x00, 0x20] + (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) },
                [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28],
            ].randomElement(using: &random)!
            c.label = "tls close_notify, then \(after.count) octets"
            c.writes = split(bytes, &random)
            c.ending = .closeNotifyThenBytes
            c.afterCloseNotify = after
            c.expect = .response(200, body)
        case 4:
            // close_notify inside a framed body, then more of it: an orderly end of a cut body.
            let (bytes, _, headEnd) = framed(&random)
            let cut = Int.random(in: headEnd..<bytes.count, using: &random)
            c.label = "tls close_notify at \(cut) of \(bytes.count), then the rest"
            c.writes = split(Array(bytes[..<cut]), &random)
            c.ending = .closeNotifyThenBytes
            c.afterCloseNotify = Array(bytes[cut...])
            c.expect = .failure
        case 5:
            // A reset inside a record: the last write's ciphertext stops short.
            let (bytes, _, _) = valid(&random)
            c.label = "tls reset mid-record"
            c.writes = split(bytes, &random)
            c.cutLastWrite = Double.random(in: 0.05..<1, using: &random)
            c.ending = .reset
            c.expect = .failure
        case 6:
            // close_notify right behind a framed response, and the connection stays open.
            let (bytes, body, _) = framed(&random)
            c.label = "tls close_notify, connection kept"
            c.writes = split(bytes, &random)
            c.closeNotifyInLastWrite = true
            c.taints = true
            c.expect = .response(200, body)
        case 7:
            // A changed bit in a record.
            let (bytes, _, _) = valid(&random)
            c.label = "tls tampered record"
            c.writes = split(bytes, &random)
            c.tamperLastWrite = (Double.random(in: 0..<1, using: &random), Int.random(in: 0..<8, using: &random))
            c.ending = [.keepOpen, .close, .reset].randomElement(using: &random)!
            c.taints = true
            c.expect = .failure
        default:
            // Records whose ciphertext comes a few octets per write.
            let (bytes, body, closes) = valid(&random)
            c.label = "tls records in pieces"
            c.writes = split(bytes, &random)
            c.recordPiece = Int.random(in: 1...64, using: &random)
            c.ending = closes ? .close : [.keepOpen, .close].randomElement(using: &random)!
            c.expect = .response(200, body)
        }
        return c
    }
}
