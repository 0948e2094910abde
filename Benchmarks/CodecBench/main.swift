// stepwise-codec-bench: the HTTP/1 codec's per-request work in a loop, without sockets, for
// instruction counts under callgrind (see Benchmarks/README.md, "Codec benchmark").
//
//     stepwise-codec-bench [parse|browser|keepalive|keepalive-browser|serialize|all] [iterations]
//
// parse:     wrk's `GET /hello` request through a fresh parser (head, then messageEnd).
// browser:   the same with a curl/browser-like request of nine fields.
// keepalive: wrk's request through one parser, over and over, as on a keep-alive connection
//            (each head dropped before the next request, as a server's stream is).
// keepalive-browser: the same with the browser-like request.
// alternating, alternating-browser: as keepalive and keepalive-browser, with every other request's
//            target changed in one octet, so that no head repeats the one before it (no field
//            value is kept as it was: the parser's refill of changed values is measured).
// serialize: the demo's `/hello` response head (status, content-type, content-length, plus a
//            date field as `additional`) into an empty array, as the socket's write queue does.
// all:       parse and serialize (the default).
import HTTPCore

let wrkRequest = Array("GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n".utf8)
let browserRequest = Array(
    ("GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\n"
        + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
        + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
        + "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
        + "Connection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\n"
        + "Sec-Fetch-Mode: navigate\r\n\r\n").utf8)

/// One request through `parser` (head, then messageEnd), reading its method and path.
@inline(never)
func parse(_ request: [UInt8], with parser: inout HTTP1Parser) -> Int {
    request.withUnsafeBytes { bytes in
        let first = parser.parse(bytes)
        guard case .head(let head)? = first.event else { fatalError("no head: \(first)") }
        let seen = head.headers.count &+ (head.method?.utf8.count ?? 0) &+ (head.path?.utf8.count ?? 0)
        let rest = UnsafeRawBufferPointer(rebasing: bytes[first.consumed...])
        guard case .messageEnd? = parser.parse(rest).event else { fatalError("no messageEnd") }
        return seen
    }
}

@inline(never)
func parseOnce(_ request: [UInt8]) -> Int {
    var parser = HTTP1Parser(role: .server)
    return parse(request, with: &parser)
}

let responseHeaders: Headers = {
    var headers = Headers()
    headers.append(":status", "200")
    headers.append("content-type", "text/plain; charset=utf-8")
    headers.append("content-length", "13")
    return headers
}()
let dateField = Headers.Field(name: "date", value: "Tue, 15 Nov 1994 08:12:31 GMT", neverIndex: false)

@inline(never)
func serializeOnce() -> Int {
    var out: [UInt8] = []
    do {
        try HTTP1Serializer.writeResponseHead(responseHeaders, appending: [dateField], into: &out)
    } catch {
        fatalError("\(error)")
    }
    return out.count
}

let arguments = CommandLine.arguments
let mode = arguments.count > 1 ? arguments[1] : "all"
let iterations = arguments.count > 2 ? Int(arguments[2]) ?? 200_000 : 200_000
let (parse, browser, serialize) = (mode == "parse", mode == "browser", mode == "serialize")
let alternating = mode == "alternating" || mode == "alternating-browser"
let keepalive = mode == "keepalive" || mode == "keepalive-browser" || alternating
guard parse || browser || serialize || keepalive || mode == "all" else {
    fatalError(
        "unknown mode \(mode): parse, browser, keepalive, keepalive-browser, alternating, alternating-browser, "
            + "serialize or all")
}
var sink = 0
// keepalive: one connection's parser.
var keptParser = HTTP1Parser(role: .server)
let keptRequest = mode == "keepalive" || mode == "alternating" ? wrkRequest : browserRequest
/// The request with the last octet of its target ("o" of /hello, "1" of ?q=1) changed.
let otherRequest: [UInt8] = {
    var other = keptRequest
    other[other.firstIndex(of: UInt8(ascii: "H"))! - 2] ^= 1
    return other
}()
for iteration in 0..<iterations where keepalive {
    sink &+= parse(alternating && iteration & 1 == 1 ? otherRequest : keptRequest, with: &keptParser)
}
for _ in 0..<iterations where !keepalive {
    if !serialize { sink &+= parseOnce(browser ? browserRequest : wrkRequest) }
    if !parse && !browser { sink &+= serializeOnce() }
}
print("\(mode) × \(iterations): \(sink)")
