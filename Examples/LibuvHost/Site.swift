import Stepwise

// MARK: - The HTTP side

/// The example's site: `/hello`, and `/sleep` (optionally `/sleep?from=…`), whose handler sleeps
/// 200 ms on the reactor before it answers: only the reactor's timer can wake it.
let sleepSeconds = 0.2
let helloBody = "hello from a reactor on libuv\n"
let sleepBody = "slept on the reactor\n"

/// `onEvent(what)` hears when a request arrived, when a sleep ended and when the answer went.
func serve(_ stream: any HTTPStream, reactor: Reactor, onEvent: @Sendable (String) -> Void) async throws {
    let request = try await stream.getHeaders()
    let path = request?.first(":path") ?? "/"
    onEvent("request \(path)")
    let body: String
    var status = "200"
    if path == "/hello" {
        body = helloBody
    } else if path == "/sleep" || path.hasPrefix("/sleep?") {
        try await reactor.sleep(seconds: sleepSeconds)
        onEvent("woke \(path)")
        body = sleepBody
    } else {
        status = "404"
        body = "try /hello or /sleep\n"
    }
    var response = Headers()
    response.append(":status", status)
    response.append("content-type", "text/plain")
    try await stream.writeHeaders(response, endStream: false, timeout: 5)
    try await stream.writeBody(body)
}
