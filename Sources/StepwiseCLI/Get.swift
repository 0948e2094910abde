import ArgumentParser
import Glibc
import Stepwise

/// `stepwise get URL`: a small curl. The body goes to stdout (or `-o FILE`); with `-v` the
/// request and response heads go to stderr; a progress bar is drawn on stderr when it is a
/// terminal and the body is over 1 MiB.
///
/// Exit status: 0 when a response arrived, whatever its HTTP status (like curl without `-f`);
/// 1 with a one-line reason on stderr (`stepwise: connect to 127.0.0.1:9 refused`) when there was
/// no response or reading it failed.
struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch a URL (HTTP/1.1, http or https) and write its body to stdout.")

    @Argument(help: "The URL to fetch.") var url: String
    @Option(name: .shortAndLong, help: "Write the body to FILE instead of stdout.") var output: String?
    @Option(name: [.customShort("X"), .customLong("request")], help: "The method (default GET, POST with -d).")
    var method: String?
    @Option(
        name: [.customShort("H"), .customLong("header")],
        help: "A header field 'name: value' (repeatable, all sent); 'name:' removes one, 'name;' sends it empty.")
    var headers: [String] = []
    @Option(name: [.customShort("d"), .customLong("data")], help: "Send DATA as the body (form-encoded by default).")
    var data: String?
    @Option(name: .customLong("data-binary"), help: "Send DATA, or the file after @, as the body.")
    var dataBinary: String?
    @Flag(name: .shortAndLong, help: "Show the request and response heads on stderr.") var verbose = false
    @Flag(name: [.customShort("L"), .customLong("location")], help: "Follow redirects.") var location = false
    @Option(name: .customLong("max-redirs"), help: "Most redirects to follow with -L.") var maxRedirs = 50
    @Flag(help: "Do not verify the server's TLS certificate.") var insecure = false
    @Option(help: "PEM file of extra trust anchors.") var cacert: String?
    @Option(help: "Seconds for the whole transfer (default: none).") var timeout: Double?

    func validate() throws {
        if data != nil && dataBinary != nil { throw ValidationError("-d and --data-binary exclude each other") }
        // A second `Host` shows only once the options are applied.
        var probe = Headers()
        try HeaderOption.apply(headers.map(HeaderOption.init(parsing:)), to: &probe)
    }

    func run() throws {
        do {
            try fetch()
        } catch let error as ExitCode {
            throw error
        } catch RequestError.tooManyRedirects {
            writeStderr("stepwise: maximum redirects (\(maxRedirs)) exceeded\n")
            throw ExitCode(1)
        } catch {
            writeStderr("stepwise: \(error)\n")
            throw ExitCode(1)
        }
    }

    private func fetch() throws {
        let request = try makeRequest()
        let reactor = try Reactor()
        let verbose = self.verbose
        let output = self.output
        let timeout = self.timeout
        try reactor.run {
            let deadline = Deadline(timeout)
            if verbose { Get.printHead(request.headers, request: true) }
            let (headers, stream) = try await request.go(on: reactor, timeout: timeout)
            defer { stream.shutdown() }  // after the body, or a failed read or -o
            if verbose { Get.printHead(headers, request: false) }
            // The file and stdout are written on a blocking-work thread (a slow disk or a reader
            // that does not keep up must not hold the reactor, and with it the deadline), each
            // chunk while the next is received.
            // Held open by the jobs too: one may still run after an error ended this task.
            let sink: BodyFile?
            if let output {
                sink = try await reactor.runBlocking("creating \(output)") { try BodyFile(creating: output) }
            } else {
                sink = nil
            }
            let progress = Progress(total: headers.first("content-length").flatMap { UInt64($0) })
            do {
                var writing: BlockingJob<Void>? = nil
                while let chunk = try await stream.getNextChunk(timeout: deadline.remainingOrZero) {
                    try await writing?.value(timeout: deadline.remaining("response body read"))
                    writing = reactor.startBlocking("writing the body") { try Get.writeAll(chunk, to: sink?.fd ?? 1) }
                    progress.add(chunk.count)
                }
                try await writing?.value(timeout: deadline.remaining("response body read"))
            } catch {
                progress.finish()  // the reason goes on a line of its own
                guard case ReactorError.timedOut = error else { throw error }
                // Named as Request.go names its phases.
                let host = request.host.contains(":") ? "[\(request.host)]" : request.host
                throw SocketError.timedOut(
                    target: "\(host):\(request.port)", phase: "response body read", seconds: timeout ?? 0)
            }
            progress.finish()
        }
    }

    private func makeRequest() throws -> Request {
        let request = try Request(uri: url)
        let body: [UInt8]?
        if let data {
            body = Array(data.utf8)
        } else if let dataBinary {
            body =
                dataBinary.hasPrefix("@")
                ? try BodyFile(reading: String(dataBinary.dropFirst())).readAll()
                : Array(dataBinary.utf8)
        } else {
            body = nil
        }
        try request.headers.upsert(":method", method ?? (body == nil ? "GET" : "POST"))
        if let body {
            request.setBody(bytes: body)
            if data != nil { request.headers.append("content-type", "application/x-www-form-urlencoded") }
        }
        // After the fields `get` sends on its own, which the first -H of a name replaces and an
        // empty one removes (`HeaderOption`).
        let options = try headers.map(HeaderOption.init(parsing:))
        try HeaderOption.apply(options, to: &request.headers)
        // `-H 'Accept-Encoding:'`: none is sent, and what comes is written as it came (as curl
        // does without `--compressed`).
        if options.contains(where: { $0.name == "accept-encoding" }) && !request.headers.has("accept-encoding") {
            request.decodeContent = false
        }
        // Added here rather than by `go()` so that `-v` shows it (`identity` with `-H 'Range: …'`).
        if let acceptEncoding = request.automaticAcceptEncoding {
            request.headers.append("accept-encoding", acceptEncoding)
        }
        request.followRedirects = location
        request.maxRedirects = maxRedirs
        if insecure || cacert != nil {
            request.tlsContext = try TLSContext.client(verify: !insecure, caFile: cacert, alpn: ["http/1.1"])
        }
        return request
    }

    /// A head as curl's `-v` shows it: `> ` for the request, `< ` for the response.
    static func printHead(_ headers: Headers, request: Bool) {
        let mark = request ? "> " : "< "
        var lines: [String] = []
        if request {
            lines.append("\(headers.first(":method") ?? "GET") \(headers.first(":path") ?? "/") HTTP/1.1")
            if let authority = headers.first(":authority") { lines.append("host: \(authority)") }
        } else {
            lines.append("HTTP/1.1 \(headers.first(":status") ?? "?")")
        }
        for field in headers where !field.name.hasPrefix(":") {
            lines.append("\(field.name): \(field.neverIndex ? "[hidden]" : field.value)")
        }
        writeStderr(lines.map { mark + $0 + "\n" }.joined() + mark.trimmingSuffixSpace + "\n")
    }

    /// Writes all of `bytes` to `fd`, waiting when it is a non-blocking pipe or terminal that is
    /// full (`writeWaiting`). The body is written on a blocking-work thread; `writeStderr` calls
    /// this on the reactor's, as a blocking stderr would stall it too.
    static func writeAll(_ bytes: [UInt8], to fd: Int32) throws {
        let failure = bytes.withUnsafeBytes { writeWaiting($0, to: fd) }
        if failure != 0 { throw ValidationError("write: \(String(cString: strerror(failure)))") }
    }
}

extension String {
    fileprivate var trimmingSuffixSpace: String { hasSuffix(" ") ? String(dropLast()) : self }
}
