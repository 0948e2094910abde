import Stepwise
import StepwiseDemo

/// The demo's routes: `/hello`, `/echo`, `/discard`, and (with the static-file planner, on a
/// blocking-work thread) files under `root`.
///
/// Methods (`AllowedMethods`): `/hello` and files perform GET and HEAD, `/echo` and `/discard`
/// POST and PUT; every route answers OPTIONS with 204 and `allow`, another method RFC 9110 names
/// (or PATCH) with 405 and `allow`, and any other method with 501.
final class DemoSite: Sendable {
    let root: String
    let files: StaticFilePlanner
    let maxBody: Int
    /// How long sending a file may wait for the client to read what is queued (`FileBodySender`).
    let sendTimeout: Double
    let log: RequestLog?
    /// `/hello`'s body and response head, built once: `Headers` is a copy-on-write value, so
    /// every response shares it (and the server prepares its octets once). Stored in the site,
    /// not as statics, which are looked up through `swift_once` at every use.
    let hello = Array("Hello, World!".utf8)
    let helloHeaders: Headers
    /// What `/echo` and `/discard` perform: the methods that send a body to be stored.
    let uploadMethods = AllowedMethods(["POST", "PUT"])

    init(root: String, dotfiles: StaticFilePlanner.Dotfiles, maxBody: Int, sendTimeout: Double, log: RequestLog?) {
        self.root = root
        self.files = StaticFilePlanner(root: root, dotfiles: dotfiles)
        self.maxBody = maxBody
        self.sendTimeout = sendTimeout
        self.log = log
        self.helloHeaders = Self.responseHeaders(status: 200, bodyCount: hello.count)
    }

    /// Callback handler: answers `/hello` at once, the rest from tasks.
    func handle(_ stream: any HTTPStream) {
        guard let head = (stream as? H1Stream)?.requestHead else {
            stream.shutdown()
            return
        }
        // The peer and the clock, only for the log; the peer now, while the connection is open.
        let arrival = log?.arrival(of: stream)
        let target = head.path ?? "/"
        let isHello = target == "/hello"
        // RFC 9112 §3.2.2: "A server MUST accept the absolute-form in requests even though most
        // HTTP/1.1 clients will only send the absolute-form to a proxy." This site routes on the
        // origin-form it holds.
        let path = isHello ? target : Self.originForm(ofTarget: target)
        let method = head.method ?? "GET"
        // An exact path needs no query split (a comparison of two identical small strings is a
        // compare of their bits).
        switch isHello ? "/hello" : Self.route(path) {
        case "/hello":
            guard method == "GET" || method == "HEAD" else {
                // OPTIONS, 405 or 501 (never nil here: GET and HEAD are all /hello performs).
                if let answer = AllowedMethods.getAndHead.answer(to: method) { serve(stream, head, answer, arrival) }
                return
            }
            respond(stream, head, status: 200, headers: helloHeaders, body: hello, arrival)
        case "/echo":
            if let answer = uploadMethods.answer(to: method) {
                serve(stream, head, answer, arrival)
                return
            }
            stream.reactor.spawn { await self.echo(stream, head, arrival) }
        case "/discard":
            if let answer = uploadMethods.answer(to: method) {
                serve(stream, head, answer, arrival)
                return
            }
            stream.reactor.spawn { await self.discard(stream, head, arrival) }
        default:
            // The planner looks at the file system (realpath, open, fstat, readdir), which may
            // block: it runs on a blocking-work thread, never on the reactor's.
            let files = self.files
            let headers = head.headers
            stream.reactor.runBlocking("planning \(path)") {
                files.plan(method: method, path: path, headers: headers)
            } completion: { result in
                switch result {
                case .success(let plan): self.serve(stream, head, plan, arrival)
                case .failure: self.respond(stream, head, status: 500, body: "internal error\n", arrival)
                }
            }
        }
    }

    /// An absolute-form target, `http://host/path?query`, as `/path?query` (`/` for an empty
    /// path); any other target as it is.
    static func originForm(ofTarget target: String) -> String {
        guard target.utf8.first != UInt8(ascii: "/"), let uri = try? URI(parsing: target),
            uri.scheme == "http" || uri.scheme == "https", uri.host != nil
        else { return target }
        return uri.originForm
    }

    /// The path without its query or fragment (which a client should not send, but some do, and
    /// the static files' `RequestTarget` drops too), found over the path's UTF-8 in place
    /// (`String.UTF8View`'s generic `firstIndex(of:)` costs a few hundred instructions on every
    /// request).
    static func route(_ path: String) -> Substring {
        let utf8 = path.utf8
        let isRouteEnd = { (byte: UInt8) in byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") }
        let endOffset: Int?
        if let inPlace = utf8.withContiguousStorageIfAvailable({ $0.firstIndex(where: isRouteEnd) }) {
            endOffset = inPlace
        } else {
            endOffset = utf8.firstIndex(where: isRouteEnd).map { utf8.distance(from: utf8.startIndex, to: $0) }
        }
        guard let endOffset else { return Substring(path) }
        return Substring(utf8.prefix(endOffset))
    }

    /// Carries out `plan`: a response from memory, or a file's.
    private func serve(
        _ stream: any HTTPStream, _ head: HTTP1MessageHead, _ plan: StaticFilePlan, _ arrival: RequestLog.Arrival?
    ) {
        switch plan {
        case .bytes(let status, let headers, let body):
            respond(stream, head, status: status, headers: headers, body: body, arrival)
        case .file(let file, let status, let headers, let offset, let length):
            let isHead = head.method == "HEAD"
            let sendTimeout = self.sendTimeout
            stream.reactor.spawn {
                // The body octets that went out: all of them, unless sending failed part-way.
                var sent: UInt64 = 0
                var failure: (any Error)?
                do {
                    try await stream.writeHeaders(headers, endStream: isHead || length == 0, timeout: sendTimeout)
                    if !isHead && length > 0 {
                        try await FileBodySender.send(
                            file.handle, offset: offset, count: length, on: stream, stallTimeout: sendTimeout,
                            sent: &sent)
                    }
                } catch {
                    failure = error
                    stream.shutdown()
                }
                arrival?.record(head: head, status: status, bytes: Int(sent), cutShort: failure)
            }
        }
    }

    /// `/echo`: the request body back, with its `content-type`. A body over `maxBody` gets 413
    /// with the error: at once when its `content-length` says so (`getBodyAsBytes` reads none of
    /// it, and a client waiting on `Expect: 100-continue` is not invited to send it), else once
    /// `maxBody` octets came.
    private func echo(_ stream: any HTTPStream, _ head: HTTP1MessageHead, _ arrival: RequestLog.Arrival?) async {
        do {
            let body = try await stream.getBodyAsBytes(limit: maxBody, timeout: 30)
            let type = head.headers.first("content-type") ?? "application/octet-stream"
            respond(stream, head, status: 200, body: body, extra: [("content-type", type)], arrival)
        } catch let error as HTTPStreamError {
            respond(stream, head, status: error.status ?? 400, body: "\(error)\n", arrival)
        } catch {
            respond(stream, head, status: 408, body: "\(error)\n", arrival)
        }
        stream.shutdown()
    }

    /// Reads the request body to its end, chunk by chunk, keeps none of it, and answers 204 with
    /// the count in `x-discarded` (an upload sink, of any size: Benchmarks/bodies.sh).
    private func discard(_ stream: any HTTPStream, _ head: HTTP1MessageHead, _ arrival: RequestLog.Arrival?) async {
        var count = 0
        do {
            while let chunk = try await stream.getNextChunk(timeout: 30) { count += chunk.count }
            var headers = Headers(capacity: 2)
            headers.append(":status", "204")
            headers.append("x-discarded", String(count))
            respond(stream, head, status: 204, headers: headers, body: [], arrival)
        } catch let error as HTTPStreamError {
            respond(stream, head, status: error.status ?? 400, body: "\(error)\n", arrival)
        } catch {
            respond(stream, head, status: 408, body: "\(error)\n", arrival)
        }
        stream.shutdown()
    }

    func respond(
        _ stream: any HTTPStream, _ head: HTTP1MessageHead, status: Int, body: String,
        extra: [(String, String)] = [], _ arrival: RequestLog.Arrival?
    ) {
        respond(stream, head, status: status, body: Array(body.utf8), extra: extra, arrival)
    }

    func respond(
        _ stream: any HTTPStream, _ head: HTTP1MessageHead, status: Int, body: [UInt8],
        extra: [(String, String)] = [], _ arrival: RequestLog.Arrival?
    ) {
        let headers = Self.responseHeaders(status: status, bodyCount: body.count, extra: extra)
        respond(stream, head, status: status, headers: headers, body: body, arrival)
    }

    /// `:status`, a text/plain `content-type` unless `extra` has one, `extra`, `content-length`.
    static func responseHeaders(status: Int, bodyCount: Int, extra: [(String, String)] = []) -> Headers {
        var headers = Headers(capacity: 4 + extra.count)
        headers.append(":status", String(status))
        if !extra.contains(where: { $0.0 == "content-type" }) {
            headers.append("content-type", "text/plain; charset=utf-8")
        }
        for (name, value) in extra { headers.append(name, value) }
        headers.append("content-length", String(bodyCount))
        return headers
    }

    func respond(
        _ stream: any HTTPStream, _ head: HTTP1MessageHead, status: Int, headers: Headers, body: [UInt8],
        _ arrival: RequestLog.Arrival?
    ) {
        do {
            try stream.writeMessage(headers, body: body)
        } catch {
            // Refused before any of it was queued (the stream or its connection was closed).
            stream.shutdown()
            arrival?.record(head: head, status: status, bytes: 0, cutShort: error)
            return
        }
        arrival?.record(head: head, status: status, bytes: Self.bodyBytesSent(head, body.count))
    }

    /// The body octets a response with a body of `count` octets sends to the request `head`: none
    /// for HEAD, whose response has the fields GET's would have but no body (RFC 9110 §9.3.2). The
    /// request log counts what was sent.
    static func bodyBytesSent(_ head: HTTP1MessageHead, _ count: Int) -> Int {
        head.method == "HEAD" ? 0 : count
    }
}
