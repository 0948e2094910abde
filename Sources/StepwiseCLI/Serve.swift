import ArgumentParser
import Glibc
import Logging
import Stepwise

/// `stepwise serve`: static files from `--root`, `GET /hello`, `/echo`, `/discard`, one log line per request.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve files, /hello, /echo and /discard over HTTP/1.1 (plain, TLS, or both on one port).",
        discussion: """
            Files under --root and /hello answer GET and HEAD; /echo (the request body back) and \
            /discard (the body read and dropped, 204) answer POST and PUT. Every route answers \
            OPTIONS (and OPTIONS *) with 204 and Allow, a standard method it does not perform \
            (GET, HEAD, POST, PUT, DELETE, PATCH, CONNECT, TRACE) with 405 and Allow, and any \
            other method with 501.
            """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "TCP port (0: any free port).") var port: UInt16 = 8080
    @Option(help: "Listen on this Unix socket path instead of TCP.") var unix: String?
    @Option(help: "Directory to serve files from (default: the current directory).") var root: String?
    @Flag(help: "TLS only, with a self-signed certificate (unless --cert/--key).") var tls = false
    @Flag(help: "Plain HTTP only (by default plain and TLS share the port).") var plain = false
    @Option(help: "PEM certificate chain (enables TLS; not with --plain).") var cert: String?
    @Option(help: "PEM private key for --cert.") var key: String?
    @Option(help: "Largest request body /echo accepts, in bytes.") var maxBody = 16 << 20
    @Option(help: "Seconds an idle keep-alive connection is kept.") var idleTimeout: Double = 10
    @Option(help: "Seconds sending a file may wait for the client to read what is queued for it.")
    var sendTimeout: Double = 30
    @Option(
        help: ArgumentHelp(
            "Names starting with '.' below --root: deny or allow.",
            discussion: """
                deny: a path with a segment that starts with '.' (percent-encoded or not, also where \
                a symbolic link leads) is answered 404, and directory listings leave such names \
                out, so that a root such as a checkout does not give away .git/config or .env; \
                /.well-known/ is served. allow: such files are served and listed like any other.
                """))
    var dotfiles: Dotfiles = .deny
    @Flag(help: "No request log.") var quiet = false

    /// `--dotfiles`.
    enum Dotfiles: String, CaseIterable, ExpressibleByArgument {
        case deny, allow
    }

    func validate() throws {
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
        if tls && plain { throw ValidationError("--tls and --plain exclude each other") }
        // A certificate turns TLS on, so with --plain it would either be ignored or override it.
        if plain && cert != nil { throw ValidationError("--plain and --cert/--key exclude each other") }
    }

    func run() throws {
        // Before anything starts a thread, so that every thread inherits the blocked signals.
        ShutdownSignals.block()
        LoggingSystem.bootstrap { StandardErrorLogHandler(label: $0) }
        var options = unix.map { ServerOptions(path: $0, unlink: true) } ?? ServerOptions(host: host, port: port)
        options.intraStreamTimeout = idleTimeout
        options.tls = tls || cert != nil ? true : plain ? false : nil
        if let cert, let key {
            options.tlsContext = try TLSContext.server(
                certificateChainFile: cert, privateKeyFile: key, alpn: ["http/1.1"])
        }
        let log = quiet ? nil : RequestLog()
        let site = DemoSite(
            root: root ?? currentDirectory(), dotfiles: dotfiles == .allow ? .allow : .deny, maxBody: maxBody,
            sendTimeout: sendTimeout, log: log)
        let server = try Server(options: options, handler: .callback { stream in site.handle(stream) })
        if let log {
            // A request the server rejects (400, 408, 414, 431, …) gets its request-log line too;
            // every other error goes to the default (the log through swift-log).
            let logError = server.onError
            server.onError = { error in
                guard case .rejectedRequest(let peer, let parseError) = error else { return logError(error) }
                log.recordRejected(peer: peer, status: parseError.status, reason: "\(parseError)")
            }
        }
        let signals = ShutdownSignals.install(for: server, grace: Self.shutdownGrace)
        defer { signals?.cancel() }
        try server.listen()
        announce(server, options)
        try server.loop()
        StandardError.writer.flush(within: 2)
    }

    /// Seconds requests in flight get to finish after SIGINT or SIGTERM.
    static let shutdownGrace = 10.0

    private func announce(_ server: Server, _ options: ServerOptions) {
        let name = server.localname()
        let line: String
        if let unix {
            line = "stepwise \(StepwiseVersion.version) serving on unix:\(unix)"
        } else {
            let address = name.address ?? host
            let host = address.contains(":") ? "[\(address)]" : address
            let schemes = options.tls == true ? "https" : options.tls == false ? "http" : "http and https"
            line =
                "stepwise \(StepwiseVersion.version) serving \(schemes) on \(host):\(name.port ?? port) — try http\(options.tls == true ? "s" : "")://\(host):\(name.port ?? port)/hello"
        }
        var text = line + "\n"
        text.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
    }

    private func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
