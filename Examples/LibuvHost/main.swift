// example-libuv-host: a libuv loop (uv_run) that embeds a Stepwise reactor serving HTTP.
//
// The recipe is `ReactorOnLibuv` (ReactorOnLibuv.swift); the rest of the example runs it:
//
//   example-libuv-host --self-test   serves HTTP from a Stepwise client on the same loop and from
//                                    curl while a libuv timer ticks; checks the reactor's timers
//                                    fire on time without I/O and the pollfd is re-registered
//                                    after an epoll rebuild; once with the uv_timer/uv_prepare
//                                    recipe, once in fd-only mode
//   example-libuv-host [--port N] [--seconds N]
//                                    serves /hello and /sleep on 127.0.0.1 (port 0: any)
import CLibuv
import Glibc
import Stepwise

// MARK: - Interactive

/// Serves /hello and /sleep until `seconds` pass (nil: until killed); a libuv timer reports
/// once a second.
func interactive(port: UInt16, seconds: Double?) throws {
    let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
    defer { loop.deallocate() }
    guard uv_loop_init(loop) == 0 else { throw LibuvError(call: "uv_loop_init", code: -1) }
    let reactor = try Reactor()
    final class Counter: @unchecked Sendable { var requests = 0 }  // the loop's thread only
    let counter = Counter()
    let server = try Server(
        options: ServerOptions(host: "127.0.0.1", port: port), on: reactor,
        handler: .task { stream in
            try await serve(stream, reactor: reactor) { event in
                if event.hasPrefix("request ") { counter.requests += 1 }
                print(event)
            }
        })
    try server.listen()
    print("serving http://\(server.localname())/hello and /sleep from a reactor on libuv")
    let host = ReactorOnLibuv(reactor: reactor, loop: loop)
    let ticker = LibuvTimer(loop: loop, after: 1000, repeating: 1000) { _ in
        print("libuv timer: \(counter.requests) requests so far")
    }
    let stopper = seconds.map { LibuvTimer(loop: loop, after: UInt64(($0 * 1000).rounded(.up))) { _ in uv_stop(loop) } }
    uv_run(loop, UV_RUN_DEFAULT)
    stopper?.close()
    ticker.close()
    host.close()
    uv_run(loop, UV_RUN_DEFAULT)
    _ = uv_loop_close(loop)
}

let arguments = Array(CommandLine.arguments.dropFirst())
let usage = "usage: example-libuv-host [--self-test | [--port N] [--seconds N]]"
if arguments == ["--self-test"] {
    exit(try selfTest() ? 0 : 1)
}
var port: UInt16 = 0
var seconds: Double?
var rest = arguments[...]
while let option = rest.popFirst() {
    switch (option, rest.popFirst()) {
    case ("--port", let value?) where UInt16(value) != nil:
        port = UInt16(value)!
    case ("--seconds", let value?) where Double(value).map({ $0 >= 0 }) ?? false:
        seconds = Double(value)
    default:
        print(usage)
        exit(2)
    }
}
try interactive(port: port, seconds: seconds)
