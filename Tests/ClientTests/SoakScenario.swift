import Foundation
import Stepwise

// One exchange of the hostile-server soak (`HostileServerSoakTests`): what the client asks, what
// the raw server answers (its octets, split into writes with small pauses, and how it ends the
// connection), and which outcomes the client may give. The cases are made from the seed once,
// before the soak; both sides read the same list, and a case's number travels in the request's
// path (`/s/<number>`).

/// SplitMix64: small, seedable, the same on every run.
struct SoakRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
}

struct SoakCase {
    /// How the server ends the connection after its writes: keeps it open for the next request,
    /// closes it (after TLS's close_notify), resets it; over TLS also closes it without
    /// close_notify, or sends close_notify and then `afterCloseNotify` before the close.
    enum Ending { case keepOpen, close, reset, closeWithoutNotify, closeNotifyThenBytes }
    enum Expect: Equatable {
        /// Must succeed with exactly this status and body.
        case response(Int, [UInt8])
        /// Must fail.
        case failure
        /// Fails, or succeeds with exactly this status and body.
        case responseOrFailure(Int, [UInt8])
        /// Anything, as long as it ends.
        case anything
    }

    /// How the server answers a request that expects `100 Continue` (`expect` field).
    enum ContinueStyle { case goAhead, answerFirst, refuse, silent }

    var label: String
    var method = "GET"
    /// Whether the request asks for `100 Continue`, and how the server answers if so.
    var continueStyle: ContinueStyle?
    var requestBody: [UInt8]?
    /// The server's writes, each after a pause of `pause` microseconds.
    var writes: [(bytes: [UInt8], pause: UInt32)] = []
    /// What the server sends to the repeat without the expectation after a 417 (`.refuse`).
    var repeatWrites: [(bytes: [UInt8], pause: UInt32)] = []
    /// Whether the server answers before reading the request body.
    var answersEarly = false
    var ending = Ending.keepOpen
    /// What `.closeNotifyThenBytes` sends after close_notify, outside any TLS record.
    var afterCloseNotify: [UInt8] = []
    /// Over TLS: each write's ciphertext goes in pieces of up to this many octets (nil: at once).
    var recordPiece: Int?
    /// Cuts the last write short: over TLS inside its last record, at this fraction of its
    /// ciphertext (nil: the writes go whole).
    var cutLastWrite: Double?
    /// Over TLS: flips a bit of the last write's first record, at this fraction of it, and
    /// which bit (nil: none).
    var tamperLastWrite: (at: Double, bit: Int)?
    /// Over TLS: close_notify goes in the last write, behind its records, and the connection
    /// stays open (`ending` is `.keepOpen`, and `taints`).
    var closeNotifyInLastWrite = false
    /// Whether what the server sent must keep the client from sending another request on the
    /// connection (only meaningful with `.keepOpen`).
    var taints = false
    var expect = Expect.anything
    /// What a client that neither decodes nor follows redirects (`HTTPConnection`) may give, when
    /// not `expect`.
    var undecoded: Expect?
    /// Whether the client may have to wait for its timeout.
    var mayTimeOut = false

    static func make(seed: UInt64, number: Int) -> SoakCase {
        var random = SoakRandom(seed: seed &+ UInt64(number) &* 0x1000_0000_01B3)
        return make(number: number, &random)
    }

    static func body(_ random: inout SoakRandom, max: Int = 3000) -> [UInt8] {
        let count = random.chance(0.2) ? 0 : Int.random(in: 1...max, using: &random)
        return (0..<count).map { _ in UInt8.random(in: 0x20...0x7e, using: &random) }
    }

    static func chunked(_ body: [UInt8], _ random: inout SoakRandom, trailers: Bool) -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        while offset < body.count {
            let size = min(body.count - offset, Int.random(in: 1...700, using: &random))
            var line = String(size, radix: 16, uppercase: random.chance(0.5))
            if random.chance(0.2) { line += ";ext=\"v\"" }
            out += Array("\(line)\r\n".utf8) + body[offset..<offset + size] + Array("\r\n".utf8)
            offset += size
        }
        out += Array("0\r\n".utf8)
        if trailers { out += Array("x-trailer: yes\r\nx-sum: \(body.count)\r\n".utf8) }
        out += Array("\r\n".utf8)
        return out
    }

    private static func interims(_ random: inout SoakRandom) -> String {
        guard random.chance(0.25) else { return "" }
        return (0..<Int.random(in: 1...4, using: &random)).map { _ in
            [
                "HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 103 Early Hints\r\nlink: </s.css>; rel=preload\r\n\r\n",
                "HTTP/1.1 102 Processing\r\n\r\n",
            ].randomElement(using: &random)!
        }.joined()
    }

    /// A valid response: content-length, chunked (with or without trailers) or close-delimited.
    static func valid(_ random: inout SoakRandom) -> (bytes: [UInt8], body: [UInt8], closes: Bool) {
        let body = body(&random)
        let pre = interims(&random)
        switch Int.random(in: 0..<3, using: &random) {
        case 0:
            return (
                Array("\(pre)HTTP/1.1 200 OK\r\ncontent-length: \(body.count)\r\nx-a: b\r\n\r\n".utf8) + body, body,
                false
            )
        case 1:
            return (
                Array("\(pre)HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".utf8)
                    + chunked(body, &random, trailers: random.chance(0.5)), body, false
            )
        default:
            let version = random.chance(0.5) ? "1.0" : "1.1"
            return (Array("HTTP/\(version) 200 OK\r\nx-a: b\r\n\r\n".utf8) + body, body, true)
        }
    }

    /// Splits `bytes` into up to five writes with pauses of up to 2 ms.
    static func split(_ bytes: [UInt8], _ random: inout SoakRandom) -> [(bytes: [UInt8], pause: UInt32)] {
        guard !bytes.isEmpty, random.chance(0.6) else { return [(bytes, 0)] }
        let cuts = (0..<Int.random(in: 1...4, using: &random)).map { _ in
            Int.random(in: 0...bytes.count, using: &random)
        }
        .sorted()
        var writes: [(bytes: [UInt8], pause: UInt32)] = []
        var start = 0
        for cut in cuts + [bytes.count] where cut > start {
            writes.append((Array(bytes[start..<cut]), start == 0 ? 0 : UInt32.random(in: 0...2000, using: &random)))
            start = cut
        }
        return writes
    }

    private static func gzip(_ body: [UInt8], format: Deflater.Format) -> [UInt8] {
        try! Deflater(format: format).process(body, final: true)
    }

    // swift-format-ignore
    private static func make(number: Int, _ random: inout SoakRandom) -> SoakCase {
        var c = SoakCase(label: "")
        let kind = Int.random(in: 0..<28, using: &random)
        switch kind {
        case 0, 1, 2:
            let (bytes, body, closes) = valid(&random)
            c.label = "valid"
            c.writes = split(bytes, &random)
            c.ending = closes ? .close : [.keepOpen, .keepOpen, .close, .reset].randomElement(using: &random)!
            c.expect = closes || c.ending == .keepOpen || c.ending == .close ? .response(200, body) : .responseOrFailure(200, body)
        case 3:
            // HEAD, 204, 304, with or without a bogus body in the same write.
            let bogus = random.chance(0.5)
            let which = Int.random(in: 0..<3, using: &random)
            let length = Int.random(in: 0...40, using: &random)
            let head: String
            switch which {
            case 0: c.method = "HEAD"; head = "HTTP/1.1 200 OK\r\ncontent-length: \(length)\r\n\r\n"
            case 1: head = "HTTP/1.1 204 No Content\r\n" + (random.chance(0.5) ? "content-length: \(length)\r\n" : "") + "\r\n"
            default: head = "HTTP/1.1 304 Not Modified\r\n" + (random.chance(0.5) ? "content-length: \(length)\r\n" : "") + "\r\n"
            }
            let status = [200, 204, 304][which]
            c.label = "bodyless \(status) bogus=\(bogus)"
            c.writes = [(Array(head.utf8) + (bogus ? Array(String(repeating: "Z", count: max(length, 1)).utf8) : []), 0)]
            c.taints = bogus
            c.expect = .response(status, [])
        case 4:
            // Interim heads, many, then a valid response.
            let (bytes, body, closes) = valid(&random)
            let many = String(repeating: "HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n", count: Int.random(in: 1...40, using: &random))
            c.label = "interims"
            c.writes = split(Array(many.utf8) + bytes, &random)
            c.ending = closes ? .close : .keepOpen
            c.expect = .response(200, body)
        case 5:
            // Conflicting framing.
            let heads = [
                "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!",
                "HTTP/1.1 200 OK\r\ncontent-length: 5, 6\r\n\r\nhello!",
                "HTTP/1.1 200 OK\r\ncontent-length: -5\r\n\r\nhello",
                "HTTP/1.1 200 OK\r\ncontent-length: +5\r\n\r\nhello",
                "HTTP/1.1 200 OK\r\ncontent-length: 0x5\r\n\r\nhello",
                "HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999999\r\n\r\nhello",
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                "HTTP/1.1 200 OK\r\ntransfer-encoding: identity\r\ncontent-length: 5\r\n\r\nhello",
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                "HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                "HTTP/1.1 200 OK\r\ntransfer-encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                "HTTP/1.1 200 OK\r\ncontent-length: 5 \r\n\r\nhello",
                "HTTP/1.1 200 OK\r\ncontent-length:\r\n\r\nhello",
            ]
            // Which of them a client may read without an error (so may keep the connection).
            let readable: Set<Int> = [8, 10, 13]
            let pick = Int.random(in: 0..<heads.count, using: &random)
            c.label = "framing \(pick)"
            c.writes = split(Array(heads[pick].utf8), &random)
            c.ending = [.keepOpen, .close, .reset].randomElement(using: &random)!
            c.taints = !readable.contains(pick)
            c.mayTimeOut = true
            c.expect = .anything
        case 6:
            // Huge or many fields.
            let which = Int.random(in: 0..<3, using: &random)
            var head = "HTTP/1.1 200 OK\r\n"
            switch which {
            case 0: head += "x-big: " + String(repeating: "a", count: 70_000) + "\r\n"
            case 1: for i in 0..<150 { head += "x-f\(i): v\r\n" }
            default: head += String(repeating: "x-long-name-" , count: 7000) + ": v\r\n"
            }
            c.label = "big head \(which)"
            c.writes = split(Array((head + "content-length: 2\r\n\r\nok").utf8), &random)
            c.ending = [.keepOpen, .close, .reset].randomElement(using: &random)!
            c.taints = true
            c.expect = .failure
        case 7:
            // Bad chunk sizes.
            let lines = ["zz", "-1", "ffffffffffffffffffff", "5 5", " 5", "5;", "0x5", "", "5\r\nhelloXX", "5\nhello"]
            let pick = Int.random(in: 0..<lines.count, using: &random)
            c.label = "chunk size \(pick)"
            c.writes = split(Array("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\(lines[pick])\r\nhello\r\n0\r\n\r\n".utf8), &random)
            c.ending = [.keepOpen, .close, .reset].randomElement(using: &random)!
            c.taints = pick != 5
            c.mayTimeOut = true
            c.expect = .anything
        case 8:
            // obs-fold, bare LF, NUL.
            let which = Int.random(in: 0..<4, using: &random)
            let text: String
            switch which {
            case 0: text = "HTTP/1.1 200 OK\r\nx-a: one\r\n two\r\ncontent-length: 2\r\n\r\nok"
            case 1: text = "HTTP/1.1 200 OK\ncontent-length: 2\n\nok"
            case 2: text = "HTTP/1.1 200 OK\r\nx-a: a\0b\r\ncontent-length: 2\r\n\r\nok"
            default: text = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n\0k"
            }
            c.label = "oddity \(which)"
            c.writes = split(Array(text.utf8), &random)
            c.ending = .keepOpen
            c.expect = which == 3 ? .response(200, [0, UInt8(ascii: "k")]) : .responseOrFailure(200, Array("ok".utf8))
            c.mayTimeOut = false
        case 9:
            // A flipped bit anywhere.
            var (bytes, _, closes) = valid(&random)
            let at = Int.random(in: 0..<bytes.count, using: &random)
            bytes[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
            c.label = "flip at \(at)"
            c.writes = split(bytes, &random)
            c.ending = closes ? .close : [.keepOpen, .close, .reset].randomElement(using: &random)!
            c.mayTimeOut = true
            c.expect = .anything
        case 10, 11:
            // Cut short, then close or reset.
            var (bytes, body, closes) = valid(&random)
            if closes { bytes = Array("HTTP/1.1 200 OK\r\ncontent-length: \(body.count)\r\n\r\n".utf8) + body }
            let cut = Int.random(in: 0..<bytes.count, using: &random)
            c.label = "cut at \(cut) of \(bytes.count)"
            c.writes = cut == 0 ? [] : split(Array(bytes[..<cut]), &random)
            c.ending = random.chance(0.5) ? .close : .reset
            c.expect = .failure
        case 12:
            // Reset or close after a whole response.
            let (bytes, body, _) = valid(&random)
            c.label = "reset after"
            c.writes = split(bytes, &random)
            c.ending = .reset
            c.expect = .responseOrFailure(200, body)
        case 13:
            // An answer before the request body was read.
            c.method = "POST"
            c.requestBody = Array(repeating: UInt8(ascii: "p"), count: [10, 5000, 300_000].randomElement(using: &random)!)
            let (bytes, body, closes) = valid(&random)
            let status = [200, 413, 400].randomElement(using: &random)!
            var response = bytes
            if status != 200 {
                let text = "HTTP/1.1 \(status) No\r\ncontent-length: \(body.count)\r\n\r\n"
                response = Array(text.utf8) + body
            }
            c.label = "early \(status)"
            c.answersEarly = true
            c.writes = split(response, &random)
            // A reset discards what is unread, the request body here; the answer went before.
            c.ending = closes ? .close : [.keepOpen, .close, .reset].randomElement(using: &random)!
            c.expect = c.ending == .keepOpen ? .response(status, body) : .responseOrFailure(status, body)
        case 14:
            // Extra octets after a whole response on a connection kept alive.
            let body = body(&random, max: 200)
            let extra = ["HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nwrong", "garbage", "\r\n", "0\r\n\r\n"].randomElement(using: &random)!
            c.label = "extra \(extra.debugDescription)"
            c.writes = [(Array("HTTP/1.1 200 OK\r\ncontent-length: \(body.count)\r\n\r\n".utf8) + body + Array(extra.utf8), 0)]
            c.taints = true
            c.expect = .response(200, body)
        case 15, 16:
            // Content codings, whole or corrupt.
            let body = body(&random)
            let gzip = random.chance(0.5)
            var coded = Self.gzip(body, format: gzip ? .gzip : .deflate)
            let corrupt = random.chance(0.5)
            if corrupt {
                // Not in gzip's MTIME, XFL or OS octets (4..<10), which no check covers.
                var at = Int.random(in: 0..<coded.count, using: &random)
                if gzip && (4..<10).contains(at) { at = 10 }
                coded[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
            }
            let chunked = random.chance(0.5)
            let head = "HTTP/1.1 200 OK\r\ncontent-encoding: \(gzip ? "gzip" : "deflate")\r\n"
                + (chunked ? "transfer-encoding: chunked\r\n\r\n" : "content-length: \(coded.count)\r\n\r\n")
            c.label = "coding gzip=\(gzip) corrupt=\(corrupt)"
            c.writes = split(Array(head.utf8) + (chunked ? Self.chunked(coded, &random, trailers: false) : coded), &random)
            c.ending = .keepOpen
            c.mayTimeOut = corrupt
            c.expect = corrupt ? .responseOrFailure(200, body) : .response(200, body)
            c.undecoded = .response(200, coded)
        case 17:
            // Redirect loop.
            c.label = "redirect loop"
            c.writes = split(Array("HTTP/1.1 302 Found\r\nlocation: /s/\(number)\r\ncontent-length: 3\r\n\r\nbye".utf8), &random)
            c.expect = .failure
            c.undecoded = .response(302, Array("bye".utf8))
        case 18:
            // 408 and close.
            c.label = "408"
            c.writes = [(Array("HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 4\r\n\r\nslow".utf8), 0)]
            c.ending = .close
            c.expect = .response(408, Array("slow".utf8))
        case 19:
            // An early close or reset before the head, or while it comes.
            let (bytes, _, _) = valid(&random)
            let cut = random.chance(0.5) ? 0 : Int.random(in: 0..<min(bytes.count, 20), using: &random)
            c.label = "early end at \(cut)"
            c.writes = cut == 0 ? [] : [(Array(bytes[..<cut]), UInt32(0))]
            c.ending = random.chance(0.5) ? .close : .reset
            c.expect = .failure
        case 20:
            // Large bodies, which fill the connection's buffers before the client reads them.
            let size = Int.random(in: 100_000...700_000, using: &random)
            let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            let how = Int.random(in: 0..<4, using: &random)
            var bytes: [UInt8]
            switch how {
            case 0: bytes = Array("HTTP/1.1 200 OK\r\ncontent-length: \(size)\r\n\r\n".utf8) + body
            case 1: bytes = Array("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".utf8) + chunked(body, &random, trailers: true)
            case 2: bytes = Array("HTTP/1.1 200 OK\r\n\r\n".utf8) + body
            default:
                let coded = Self.gzip(body, format: .gzip)
                bytes = Array("HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: \(coded.count)\r\n\r\n".utf8) + coded
                c.undecoded = .response(200, coded)
            }
            c.label = "large \(how)"
            c.writes = split(bytes, &random)
            c.ending = how == 2 ? .close : [.keepOpen, .close].randomElement(using: &random)!
            c.expect = .response(200, body)
        case 21:
            // Ends the connection after the response: `connection: close`, or HTTP/1.0 without
            // keep-alive; or keeps it, HTTP/1.0 with keep-alive.
            let body = body(&random, max: 300)
            let how = Int.random(in: 0..<3, using: &random)
            let head = ["HTTP/1.1 200 OK\r\nconnection: close\r\n", "HTTP/1.0 200 OK\r\n",
                        "HTTP/1.0 200 OK\r\nconnection: keep-alive\r\n"][how]
            c.label = "connection \(how)"
            c.writes = split(Array((head + "content-length: \(body.count)\r\n\r\n").utf8) + body, &random)
            c.taints = how < 2
            c.expect = .response(200, body)
        case 22:
            // An unasked-for protocol switch.
            c.label = "101"
            c.writes = split(Array("HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\nconnection: upgrade\r\n\r\nxyz".utf8), &random)
            c.taints = true
            c.mayTimeOut = true
            c.expect = .anything
        case 23, 24:
            // A request that asks for 100 Continue.
            c.method = random.chance(0.5) ? "POST" : "PUT"
            c.requestBody = Array(repeating: UInt8(ascii: "e"), count: Int.random(in: 1...70_000, using: &random))
            let style = [ContinueStyle.goAhead, .answerFirst, .refuse, .silent].randomElement(using: &random)!
            c.continueStyle = style
            let (bytes, body, closes) = valid(&random)
            c.label = "continue \(style)"
            switch style {
            case .goAhead:
                let interim = random.chance(0.3) ? "HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n" : ""
                c.writes = [(Array((interim + "HTTP/1.1 100 Continue\r\n\r\n").utf8), 0)] + split(bytes, &random)
                c.ending = closes ? .close : .keepOpen
                c.expect = .response(200, body)
            case .answerFirst:
                c.writes = split(Array("HTTP/1.1 403 No\r\ncontent-length: \(body.count)\r\n\r\n".utf8) + body, &random)
                c.answersEarly = true
                c.taints = true
                c.expect = .response(403, body)
            case .refuse:
                // The repeat, without the expectation, gets `bytes`.
                c.writes = [(Array("HTTP/1.1 417 Expectation Failed\r\ncontent-length: 2\r\n\r\nno".utf8), 0)]
                c.answersEarly = true
                c.taints = true
                c.repeatWrites = split(bytes, &random)
                // A body delimited by the close ends the repeat's connection, and the first's too.
                c.ending = closes ? .close : .keepOpen
                c.expect = .response(200, body)
            case .silent:
                c.writes = split(bytes, &random)
                c.ending = closes ? .close : .keepOpen
                c.expect = .response(200, body)
            }
        case 25:
            // Chunked framing that grows without end: a trailer section or a chunk extension past
            // the limits, many trailer fields, a reason phrase past the head limit.
            let which = Int.random(in: 0..<4, using: &random)
            let text: String
            switch which {
            case 0: text = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nx-t: " + String(repeating: "t", count: 70_000) + "\r\n\r\n"
            case 1: text = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2;e=" + String(repeating: "e", count: 70_000) + "\r\nok\r\n0\r\n\r\n"
            case 2: text = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n" + (0..<150).map { "x-t\($0): v\r\n" }.joined() + "\r\n"
            default: text = "HTTP/1.1 200 " + String(repeating: "R", count: 70_000) + "\r\ncontent-length: 2\r\n\r\nok"
            }
            c.label = "growing \(which)"
            c.writes = split(Array(text.utf8), &random)
            c.ending = [.keepOpen, .close, .reset].randomElement(using: &random)!
            c.taints = true
            c.mayTimeOut = true
            c.expect = .failure
        case 26:
            // Field values with obs-text, a reason phrase with tabs and obs-text, a status of 199
            // (an interim one nobody knows) before the final response.
            let body = body(&random, max: 100)
            let text = "HTTP/1.1 199 Odd\r\nx-i: 1\r\n\r\nHTTP/1.1 200 O\tK \u{e9}\r\nx-o: caf\u{e9} \u{80}\r\ncontent-length: \(body.count)\r\n\r\n"
            c.label = "obs-text"
            c.writes = split(Array(text.utf8) + body, &random)
            c.expect = .response(200, body)
        default:
            let (bytes, body, closes) = valid(&random)
            c.label = "valid (2)"
            c.writes = split(bytes, &random)
            c.ending = closes ? .close : .keepOpen
            c.expect = .response(200, body)
        }
        if c.method == "GET" && c.continueStyle == nil && random.chance(0.15) {
            c.method = "PUT"
            c.requestBody = Array("put \(number)".utf8)
        }
        return c
    }
}
