import Foundation
import XCTest

/// A real nginx on 127.0.0.1 for the client tests, started per test (`startNginx`) and stopped in
/// the test's teardown, whatever the outcome.
///
/// Everything it writes is inside its own temporary prefix directory: the generated
/// `nginx.conf`, pid file, error and access logs, temp directories and the document root
/// (`html/`). It runs as one process in the foreground (`daemon off; master_process off;`), so it
/// needs no root and never switches user, under a small shell wrapper that kills it when the
/// wrapper's stdin closes: `stop()` closes it, and so does the end of the test process, so a
/// crashed test run leaves no nginx behind.
///
/// The access log has one JSON object per request (`NginxLogEntry`) with `$connection` and
/// `$connection_requests`, so tests can see from the server side which requests shared a TCP
/// connection, and what nginx received (method, framing, lengths, `$request_body` for `/sink`).
///
/// Routes every instance has (tests add their own with `locations`):
/// - `/hello`: `Hello, World!` from `return 200`.
/// - `/dav/…`: WebDAV `PUT`/`DELETE` (create_full_put_path) and `GET` of what was put, up to
///   64 MiB: a PUT then a GET shows the exact bytes nginx received.
/// - `/sink`: reads the whole body (proxied to `/answer`, so `$request_body` is logged) and
///   answers `METHOD CONTENT-LENGTH` as nginx received them; up to 1 MiB.
/// - `/answer`: `METHOD CONTENT-LENGTH` of the request it gets.
/// - any other path: a static file from `html/` (`writeFile`).
final class NginxPeer: @unchecked Sendable {
    /// Directives that vary between tests.
    struct Settings {
        /// `keepalive_timeout` (nginx time syntax: `60s`, `200ms`).
        var keepaliveTimeout = "60s"
        /// `keepalive_requests`.
        var keepaliveRequests = 1000
        /// Listen with `reuseport`, so a second instance can take over the port of a first one.
        var reusePort = false
        /// Extra `location` blocks (and other server-level directives) for this test; `{port}` is
        /// replaced by the port.
        var locations = ""
        /// Extra http-level directives (zones for `limit_req`, gzip settings).
        var http = ""
    }

    let port: UInt16
    let prefix: URL
    private let process: Process
    private let stdinPipe: Pipe
    private let lock = NSLock()
    private var stopped = false

    /// The document root for static files.
    var root: URL { prefix.appendingPathComponent("html") }
    var base: String { "http://127.0.0.1:\(port)" }
    func url(_ path: String) -> String { base + path }

    /// Starts nginx and waits until it listens. Without `port`, a free one is chosen (and another
    /// one when nginx finds it taken after all).
    init(_ settings: Settings = Settings(), port fixedPort: UInt16? = nil) throws {
        let binary = try NginxPeer.locateBinary()
        var lastError = ""
        for _ in 0..<5 {
            let port = try fixedPort ?? NginxPeer.freeLoopbackPort()
            let prefix = FileManager.default.temporaryDirectory
                .appendingPathComponent("stepwise-nginx-\(UUID().uuidString)")
            try NginxPeer.prepare(prefix, settings, port: port)
            let pipe = Pipe()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", NginxPeer.wrapper, "nginx-wrapper", binary, prefix.path]
            process.standardInput = pipe
            let output = FileHandle(forWritingAtPath: prefix.appendingPathComponent("stderr.log").path)
            process.standardOutput = output
            process.standardError = output
            try process.run()
            try? output?.close()
            let pidFile = prefix.appendingPathComponent("nginx.pid").path
            let deadline = Date().addingTimeInterval(10)
            // nginx writes its pid file once its listening sockets are bound.
            while process.isRunning && Date() < deadline && NginxPeer.readPid(pidFile) == nil {
                Thread.sleep(forTimeInterval: 0.01)
            }
            if NginxPeer.readPid(pidFile) != nil && process.isRunning {
                self.port = port
                self.prefix = prefix
                self.process = process
                self.stdinPipe = pipe
                return
            }
            let errors = (try? String(contentsOf: prefix.appendingPathComponent("error.log"), encoding: .utf8)) ?? ""
            let stderr = (try? String(contentsOf: prefix.appendingPathComponent("stderr.log"), encoding: .utf8)) ?? ""
            lastError = "nginx did not start on 127.0.0.1:\(port): \(errors)\(stderr)"
            try? pipe.fileHandleForWriting.close()
            NginxPeer.waitForExit(process, seconds: 5)
            try? FileManager.default.removeItem(at: prefix)
            // Only a port taken between choosing it and nginx binding it is worth another try.
            guard fixedPort == nil, errors.contains("Address already in use") else { break }
        }
        throw NginxPeerError(lastError)
    }

    deinit { stop() }

    /// Stops nginx (SIGTERM through the wrapper, SIGKILL after 5 s) and removes the prefix
    /// directory; safe to call more than once.
    func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        try? stdinPipe.fileHandleForWriting.close()
        if !NginxPeer.waitForExit(process, seconds: 5) {
            if let pid = nginxPid { kill(pid, SIGKILL) }
            process.terminate()
            NginxPeer.waitForExit(process, seconds: 5)
        }
        try? FileManager.default.removeItem(at: prefix)
    }

    /// The nginx process id (from its pid file), while it runs.
    var nginxPid: pid_t? { NginxPeer.readPid(prefix.appendingPathComponent("nginx.pid").path) }

    /// Freezes nginx (SIGSTOP) while it waits for events: its connections stay open, but
    /// nothing more is read or answered, and `terminateFrozen()` can end it before it reads again.
    ///
    /// An idle nginx sits in `epoll_wait` (`/proc/PID/wchan` is `do_epoll_wait`), but can wake
    /// for an event (a late ACK makes a connection writable) just as SIGSTOP arrives; so it is
    /// frozen again until `/proc/PID/syscall` shows it stopped inside the same system call.
    func freeze() throws {
        guard let pid = nginxPid else { throw NginxPeerError("nginx has no pid file") }
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            guard NginxPeer.readProcFile("/proc/\(pid)/wchan") == "do_epoll_wait" else {
                Thread.sleep(forTimeInterval: 0.002)
                continue
            }
            let waiting = NginxPeer.systemCall(pid)
            try send(SIGSTOP)
            while NginxPeer.processState(pid) != "T" && Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
            if waiting != nil && NginxPeer.systemCall(pid) == waiting { return }
            try send(SIGCONT)
        }
        throw NginxPeerError("could not freeze nginx while it waited for events")
    }

    /// Ends a frozen nginx like a kill that spares its listening socket: SIGTERM, then SIGCONT.
    /// Resuming, nginx takes the pending SIGTERM before any connection event (it was frozen in
    /// `epoll_wait`, which the signal interrupts with EINTR), closes its listening sockets
    /// (`ngx_master_process_exit`) and exits; the kernel then resets the connections that hold
    /// unread bytes. Waits (up to 5 s) for it to be gone.
    func terminateFrozen() throws {
        try send(SIGTERM)
        try send(SIGCONT)
        guard NginxPeer.waitForExit(process, seconds: 5) else { throw NginxPeerError("nginx did not exit") }
    }

    private func send(_ signal: Int32) throws {
        guard let pid = nginxPid else { throw NginxPeerError("nginx has no pid file") }
        guard kill(pid, signal) == 0 else { throw NginxPeerError("kill(\(pid), \(signal)) failed: errno \(errno)") }
    }

    /// Waits (up to 5 s) until one of nginx's established connections has bytes nginx has not
    /// read yet (`/proc/net/tcp`'s rx_queue of a socket on its port), e.g. a request sent to a
    /// frozen nginx.
    func waitForUnreadBytes() throws {
        let port = String(format: "%04X", self.port)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let unread = NginxPeer.readProcFile("/proc/net/tcp").split(separator: "\n").dropFirst().contains { line in
                let fields = line.split(separator: " ")
                // local_address rem_address st tx_queue:rx_queue; state 01 is ESTABLISHED.
                guard fields.count > 4, fields[1].hasSuffix(":" + port), fields[3] == "01" else { return false }
                return fields[4].split(separator: ":").last.flatMap { Int($0, radix: 16) }.map { $0 > 0 } ?? false
            }
            if unread { return }
            Thread.sleep(forTimeInterval: 0.005)
        }
        throw NginxPeerError("no connection to nginx on port \(self.port) had unread bytes within 5 s")
    }

    /// Waits (up to 5 s) until nginx holds no established connection (`/proc/net/tcp`: no socket
    /// on its port in state 01), e.g. once it closed an idle one at `keepalive_timeout`; false
    /// if one is still open then.
    func waitUntilNoConnectionIsOpen() -> Bool {
        let port = String(format: "%04X", self.port)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let open = NginxPeer.readProcFile("/proc/net/tcp").split(separator: "\n").dropFirst().contains { line in
                let fields = line.split(separator: " ")
                // local_address rem_address st; state 01 is ESTABLISHED.
                return fields.count > 3 && fields[1].hasSuffix(":" + port) && fields[3] == "01"
            }
            if !open { return true }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return false
    }

    /// What nginx logged at level info and above.
    var errorLog: String {
        (try? String(contentsOf: prefix.appendingPathComponent("error.log"), encoding: .utf8)) ?? ""
    }

    /// Writes `bytes` to `path` under the document root (directories are created).
    func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    /// The bytes of the file at `path` under the document root, nil when there is none.
    func readFile(_ path: String) -> [UInt8]? {
        (try? Data(contentsOf: root.appendingPathComponent(path))).map { [UInt8]($0) }
    }

    /// The access log so far. nginx writes a request's line after it sent the response, so a
    /// client may see the response first: this waits (up to 5 s) until there are `atLeast` lines.
    func accessLog(atLeast count: Int = 0) throws -> [NginxLogEntry] {
        let path = prefix.appendingPathComponent("access.log")
        let deadline = Date().addingTimeInterval(5)
        while true {
            let text = (try? String(contentsOf: path, encoding: .utf8)) ?? ""
            let entries = try text.split(separator: "\n").map {
                try JSONDecoder().decode(NginxLogEntry.self, from: Data($0.utf8))
            }
            if entries.count >= count || Date() >= deadline { return entries }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    /// The log lines for one URI (path and query as sent).
    func accessLog(uri: String, atLeast count: Int = 0) throws -> [NginxLogEntry] {
        let deadline = Date().addingTimeInterval(5)
        while true {
            let entries = try accessLog().filter { $0.uri == uri }
            if entries.count >= count || Date() >= deadline { return entries }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    // MARK: - Starting

    /// Runs nginx in the background with fd 3 as the watch on the wrapper's stdin: when that
    /// closes (`stop()`, or the test process ended), nginx gets SIGTERM (and SIGCONT, should a test
    /// have frozen it). Exits with nginx's status.
    private static let wrapper = """
        exec 3<&0
        "$1" -p "$2" -e "$2/error.log" -c "$2/nginx.conf" -g 'daemon off; master_process off;' </dev/null 3<&- &
        nginx=$!
        { read -r _ <&3; kill -TERM "$nginx" 2>/dev/null; kill -CONT "$nginx" 2>/dev/null; } &
        watcher=$!
        wait "$nginx"
        status=$?
        kill "$watcher" 2>/dev/null
        exit "$status"
        """

    private static func prepare(_ prefix: URL, _ settings: Settings, port: UInt16) throws {
        let files = FileManager.default
        try files.createDirectory(at: prefix.appendingPathComponent("html"), withIntermediateDirectories: true)
        guard files.createFile(atPath: prefix.appendingPathComponent("stderr.log").path, contents: nil) else {
            throw NginxPeerError("cannot create files in \(prefix.path)")
        }
        let config = configuration(prefix.path, settings, port: port)
        try config.write(to: prefix.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
    }

    static func configuration(_ dir: String, _ settings: Settings, port: UInt16) -> String {
        let listen = "127.0.0.1:\(port)" + (settings.reusePort ? " reuseport" : "")
        let logFields = [
            ("connection", "$connection"), ("requests", "$connection_requests"), ("method", "$request_method"),
            ("uri", "$request_uri"), ("status", "$status"), ("protocol", "$server_protocol"),
            ("requestLength", "$request_length"), ("contentLength", "$http_content_length"),
            ("transferEncoding", "$http_transfer_encoding"), ("expect", "$http_expect"),
            ("acceptEncoding", "$http_accept_encoding"), ("bodyBytesSent", "$body_bytes_sent"),
            ("contentEncoding", "$sent_http_content_encoding"), ("requestBody", "$request_body"),
        ]
        let format = "{" + logFields.map { "\"\($0.0)\":\"\($0.1)\"" }.joined(separator: ",") + "}"
        return """
            worker_processes 1;
            pid \(dir)/nginx.pid;
            error_log \(dir)/error.log info;
            events { worker_connections 256; }
            http {
                log_format stepwise escape=json '\(format)';
                access_log \(dir)/access.log stepwise;
                client_body_temp_path \(dir)/client_body;
                proxy_temp_path \(dir)/proxy;
                fastcgi_temp_path \(dir)/fastcgi;
                uwsgi_temp_path \(dir)/uwsgi;
                scgi_temp_path \(dir)/scgi;
                keepalive_timeout \(settings.keepaliveTimeout);
                keepalive_requests \(settings.keepaliveRequests);
                default_type application/octet-stream;
                types { text/plain txt; text/html html; }
                \(settings.http)
                server {
                    listen \(listen);
                    root \(dir)/html;
                    location = /hello { default_type text/plain; return 200 "Hello, World!"; }
                    location /dav/ {
                        dav_methods PUT DELETE;
                        create_full_put_path on;
                        client_max_body_size 64m;
                    }
                    location = /sink {
                        client_body_buffer_size 1m;
                        client_max_body_size 1m;
                        proxy_pass http://127.0.0.1:\(port)/answer;
                    }
                    location = /answer {
                        default_type text/plain;
                        return 200 "$request_method $http_content_length";
                    }
                    \(settings.locations.replacingOccurrences(of: "{port}", with: String(port)))
                }
            }
            """
    }

    private static func locateBinary() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = path.split(separator: ":").map { "\($0)/nginx" } + ["/usr/sbin/nginx"]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw NginxPeerError("nginx not found on PATH or in /usr/sbin: `make test` installs it")
        }
        return found
    }

    /// A port nothing listens on now (the kernel's pick for port 0), for nginx to bind next.
    private static func freeLoopbackPort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NginxPeerError("socket failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw NginxPeerError("binding a loopback port failed: errno \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// A /proc file read to its end (they have no size for `String(contentsOfFile:)` to go by),
    /// without the final newline.
    private static func readProcFile(_ path: String) -> String {
        guard let file = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? file.close() }
        return String(decoding: file.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .newlines)
    }

    /// The number of the system call the process is blocked in (the first field of
    /// `/proc/PID/syscall`), nil when it is running or not in one.
    private static func systemCall(_ pid: pid_t) -> String? {
        let number = readProcFile("/proc/\(pid)/syscall").split(separator: " ").first.map(String.init)
        return number == "running" || number == "-1" ? nil : number
    }

    /// The state letter of `/proc/PID/stat` (`S` sleeping, `T` stopped, …).
    private static func processState(_ pid: pid_t) -> String? {
        let stat = readProcFile("/proc/\(pid)/stat")
        guard let close = stat.range(of: ") ", options: .backwards) else { return nil }
        return stat[close.upperBound...].split(separator: " ").first.map(String.init)
    }

    private static func readPid(_ path: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Whether the process ended within `seconds`.
    @discardableResult
    private static func waitForExit(_ process: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        return !process.isRunning
    }
}

/// One access log line (see `NginxPeer.configuration`); nginx logs `-` for an empty value
/// except in `escape=json`, where it is the empty string.
struct NginxLogEntry: Decodable, Equatable {
    var connection: String
    var requests: String
    var method: String
    var uri: String
    var status: String
    var `protocol`: String
    var requestLength: String
    var contentLength: String
    var transferEncoding: String
    var expect: String
    var acceptEncoding: String
    var bodyBytesSent: String
    var contentEncoding: String
    var requestBody: String
}

/// `count` bytes of every value in an order that does not repeat (xorshift64 from `seed`), so
/// a body that arrives shifted, cut or doubled does not match. Eight bytes a step: fast enough
/// for MiBs in a debug build.
func testBytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = 0x9E37_79B9_7F4A_7C15 ^ seed
    return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        var index = 0
        while index < count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            var word = state
            for _ in 0..<Swift.min(8, count - index) {
                buffer[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        initialized = count
    }
}

/// Fails unless `actual` has exactly the bytes of `expected`; compares as `Data` (memcmp; an
/// array `==` of MiBs is slow in a debug build) and says where they differ rather than printing both.
func assertSameBytes(
    _ actual: [UInt8]?, _ expected: [UInt8], _ what: String = "the body", file: StaticString = #filePath,
    line: UInt = #line
) {
    guard let actual else {
        return XCTFail("\(what): nothing, expected \(expected.count) bytes", file: file, line: line)
    }
    guard actual.count == expected.count else {
        return XCTFail("\(what): \(actual.count) bytes, expected \(expected.count)", file: file, line: line)
    }
    if Data(actual) != Data(expected) {
        let first = (0..<expected.count).first { actual[$0] != expected[$0] } ?? 0
        XCTFail("\(what): the \(expected.count) bytes differ from offset \(first)", file: file, line: line)
    }
}

struct NginxPeerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension XCTestCase {
    /// Starts nginx for this test and stops it in the teardown, also when the test fails (then
    /// printing nginx's error log first).
    func startNginx(_ settings: NginxPeer.Settings = .init(), port: UInt16? = nil) throws -> NginxPeer {
        let nginx = try NginxPeer(settings, port: port)
        addTeardownBlock { [weak self] in
            if (self?.testRun?.totalFailureCount ?? 0) > 0 {
                print("nginx's error log (\(nginx.prefix.path)):\n\(nginx.errorLog.suffix(4000))")
            }
            nginx.stop()
        }
        return nginx
    }
}
