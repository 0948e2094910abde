// stepwise-client-bench: N sequential keep-alive GETs of one URL with the Stepwise client, for
// Benchmarks/client.sh, which runs it beside wrk and curl against nginx.
//
//   stepwise-client-bench --url http://127.0.0.1:8080/hello [--requests N] [--mode MODE]
//
// Modes (each sends every request on one kept-alive connection, one at a time):
//   fetch        a new `Request` per GET, `fetch` through a `ConnectionPool`, blocking (runs
//                the reactor per call), as a script would
//   fetch-async  the same, awaited in one task on the reactor (no `Reactor.run` per request)
//   connection   one `HTTPConnection`, blocking `request` + `getResponse`, as the reference demo
//
// Every response must be 200 with the body of the first one; the run stops at the first that
// is not. Prints one line: `mode=… requests=… seconds=… rps=… cpu_seconds=…`, timed from the
// first request to the last (the harness measures the whole process as well, and counts the
// connections on nginx's side).
import Glibc
import Stepwise

struct Options {
    var url = ""
    var requests = 10_000
    var mode = "fetch"
}

/// Writes one line to stderr (fd 2).
func complain(_ message: String) {
    let line = "stepwise-client-bench: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

func usage(_ message: String) -> Never {
    complain(message)
    complain("usage: --url URL [--requests N] [--mode fetch|fetch-async|connection]")
    exit(2)
}

func parse(_ arguments: [String]) -> Options {
    var options = Options()
    var rest = arguments[...]
    while let flag = rest.popFirst() {
        guard let value = rest.popFirst() else { usage("\(flag) needs a value") }
        switch flag {
        case "--url": options.url = value
        case "--requests":
            guard let count = Int(value), count > 0 else { usage("--requests must be a positive number") }
            options.requests = count
        case "--mode":
            guard ["fetch", "fetch-async", "connection"].contains(value) else { usage("unknown mode \(value)") }
            options.mode = value
        default: usage("unknown option \(flag)")
        }
    }
    if options.url.isEmpty { usage("--url is required") }
    return options
}

/// Fails the run when a response is not the expected one.
struct Check {
    var expected: [UInt8]?

    mutating func verify(status: Int, body: [UInt8], index: Int) {
        guard status == 200, expected == nil || body == expected! else {
            complain("request \(index + 1): status \(status), \(body.count) bytes")
            exit(1)
        }
        if expected == nil { expected = body }
    }
}

/// CPU seconds (user + system) this process has used.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return user + system
}

func run(_ options: Options) throws {
    let reactor = try Reactor()
    var check = Check()
    switch options.mode {
    case "fetch":
        let pool = ConnectionPool(reactor: reactor)
        for index in 0..<options.requests {
            let request = try Request(uri: options.url)
            request.pool = pool
            let response = try request.fetch(on: reactor, timeout: 10)
            check.verify(status: response.status, body: response.body, index: index)
        }
    case "fetch-async":
        let pool = ConnectionPool(reactor: reactor)
        let url = options.url
        let count = options.requests
        try reactor.run {
            var check = Check()
            for index in 0..<count {
                let request = try Request(uri: url)
                request.pool = pool
                let response = try await request.fetch(on: reactor, timeout: 10)
                check.verify(status: response.status, body: response.body, index: index)
            }
        }
    default:
        let uri = try URI(parsing: options.url)
        let connection = try HTTPConnection(
            host: uri.host ?? "", port: uri.port.map { UInt16($0) }, timeout: 10, on: reactor)
        let path = uri.originForm
        for index in 0..<options.requests {
            try connection.request("GET", path)
            let response = try connection.getResponse()
            check.verify(status: response.status, body: response.body, index: index)
        }
        connection.close()
    }
}

let options = parse(Array(CommandLine.arguments.dropFirst()))
let startCPU = cpuSeconds()
let started = MonotonicClock.seconds()
do {
    try run(options)
    let seconds = MonotonicClock.seconds() - started
    let cpu = cpuSeconds() - startCPU
    let rps = Double(options.requests) / seconds
    print("mode=\(options.mode) requests=\(options.requests) seconds=\(seconds) rps=\(rps) cpu_seconds=\(cpu)")
} catch {
    complain("\(error)")
    exit(1)
}
