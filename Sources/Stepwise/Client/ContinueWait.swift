import HTTPCore
import Reactor

/// A client's wait for `100 Continue` between a request head that carried `expect: 100-continue`
/// and the request's content: the one `Request.go` and `HTTPConnection` share.
///
/// RFC 9110 §10.1.1: the expectation "allows the client to wait for an indication that it is
/// worthwhile to send the content before actually doing so". There is no wait when the head went
/// without the expectation (`isExpected`: a request without content, whose head the codec
/// strips of it). Else the wait ends with:
/// - `100 Continue`: the content goes (`sendContent`);
/// - no answer within `patience`: the content goes unasked. "A client that sends a 100-continue
///   expectation is not required to wait for any specific length of time; such a client MAY
///   proceed to send the content even if it has not yet received a response. Furthermore, since
///   100 (Continue) responses cannot be sent through an HTTP/1.0 intermediary, such a client
///   SHOULD NOT wait for an indefinite period before sending the content.";
/// - a final response (or a `101`) first: the content is not sent, and that is the response
///   (`answeredFirst`). The request stays incomplete, so the connection carries no other: it is
///   shut down, and closes once that response was read. A `417 Expectation Failed` among them
///   (`isExpectationFailed`) is no answer to the request but to the expectation: each caller
///   repeats the request once without it (`droppingExpectation`), on another connection;
/// - `deadline` passing first (the caller's limit over its whole exchange, not just this wait):
///   `ReactorError.timedOut("100-continue wait")`;
/// - the connection's end, a reset or a cancellation: that error.
///
/// Interim responses other than `100` and `101` (`103 Early Hints`) are skipped within the one
/// wait, which they do not start again. Any head that arrives, interim ones included, sets
/// `responseHeadArrived`, also when the wait then fails: the server was there to answer, so the
/// connection was not stale (`StaleConnection.wasStale`).
struct ContinueWait {
    /// How the wait ended.
    enum Outcome: Equatable {
        /// Send the content: `100 Continue` came, or nothing within `patience`.
        case sendContent
        /// A final response (or a `101`) came first: the content is not sent, this is the
        /// response, and the connection was shut down.
        case answeredFirst(Headers)
    }

    /// What one response head means to the wait.
    enum Verdict: Equatable {
        /// An interim response other than `100` and `101`: wait on.
        case keepWaiting
        /// `100 Continue`: the go-ahead.
        case sendContent
        /// A final response or a `101`: the server answered without the content.
        case answered
    }

    /// The phase a timeout of the wait names.
    static let phase = "100-continue wait"

    /// Seconds to wait for an answer before sending the content unasked.
    let patience: Double
    /// The caller's limit over its whole exchange (none by default): when it, not `patience`,
    /// ends the wait, the wait fails with a timeout rather than sending the content, since the
    /// exchange cannot finish within it anyway.
    let deadline: Deadline
    /// Whether any response head, interim or final, arrived during the wait.
    private(set) var responseHeadArrived = false

    init(patience: Double, deadline: Deadline = Deadline(nil)) {
        self.patience = patience
        self.deadline = deadline
    }

    /// What `head` means to a client waiting for `100 Continue`.
    static func verdict(on head: Headers) throws -> Verdict {
        guard let status = head.first(":status").flatMap({ Int($0) }) else {
            throw HTTPStreamError.invalidHeaders("response without :status")
        }
        if status == 100 { return .sendContent }
        // RFC 9110 §15.2: "A client MUST be able to parse one or more 1xx responses received
        // prior to a final response, even if the client does not expect one." 103 Early Hints is
        // not the go-ahead; a 101 is the response (the connection is the new protocol's).
        if status < 200 && status != 101 { return .keepWaiting }
        return .answered
    }

    /// Whether `response`, which answered a request head with the `100-continue` expectation
    /// before its content went (`Outcome.answeredFirst`), is a `417 Expectation Failed`: not the
    /// server's answer to the request, but word that something on the way does not take the
    /// expectation. RFC 9110 §10.1.1: "A client that receives a 417 (Expectation Failed) status
    /// code in response to a request containing a 100-continue expectation SHOULD repeat that
    /// request without a 100-continue expectation, since the 417 response merely indicates that
    /// the response chain does not support expectations (e.g., it is passed through an HTTP/1.0
    /// server)." The content did not go, so any body can go with the repeat; a 417 after the
    /// content started, or to the repeat (which has no expectation), is the response.
    static func isExpectationFailed(_ response: Headers) -> Bool {
        response.first(":status") == "417"
    }

    /// `headers` without the `100-continue` expectation, for the repeat after a 417: the element
    /// goes from each `expect` field (found as `Headers.hasToken` finds it: in any case, with or
    /// without parameters), the other elements stay, and a field left with none goes.
    static func droppingExpectation(from headers: Headers) -> Headers {
        headers.removingToken("100-continue", from: "expect")
    }

    /// Whether the request head `requestHead`, written on `stream`, went with the `100-continue`
    /// expectation: it has the element and content follows. RFC 9110 §10.1.1: "A client MUST NOT
    /// generate a 100-continue expectation in a request that does not include content", so the
    /// codec drops it from a head that ends the request (an empty body's `content-length: 0`) or
    /// is a CONNECT's (§9.3.6: "A CONNECT request message does not have content"). No server
    /// sends `100 Continue` to such a head, and its final response is no refusal of content.
    static func isExpected(after requestHead: Headers, on stream: H1Stream) -> Bool {
        // A client stream's outbound message is its request: complete once the head ended it.
        requestHead.hasToken("expect", "100-continue") && !stream.isOutboundComplete
            && requestHead.first(":method") != "CONNECT"
    }

    /// Waits on `stream`, whose request head `requestHead` was just written and whose content is
    /// still to come; sends the content at once when the head went without the expectation
    /// (`isExpected`): "A client that will wait for a 100 (Continue) response before sending the
    /// request content MUST send an Expect header field containing a 100-continue expectation."
    mutating func run(on stream: H1Stream, after requestHead: Headers) async throws -> Outcome {
        guard Self.isExpected(after: requestHead, on: stream) else { return .sendContent }
        let left = try deadline.remaining(Self.phase)
        let wait = min(patience, left ?? patience)
        // One wait across the interim responses that may come first: each must not start it
        // again.
        let waitEnds = Deadline(wait)
        while true {
            let head: Headers?
            do {
                head = try await stream.getHeaders(timeout: waitEnds.remaining(Self.phase))
            } catch ReactorError.timedOut {
                guard wait < (left ?? .infinity) else { throw ReactorError.timedOut(Self.phase) }
                return .sendContent
            }
            guard let head else { throw HTTPStreamError.connectionClosed("before the response") }
            responseHeadArrived = true
            switch try Self.verdict(on: head) {
            case .keepWaiting:
                continue
            case .sendContent:
                return .sendContent
            case .answered:
                // RFC 9110 §10.1.1: "A server that responds with a final status code before
                // reading the entire request content SHOULD indicate whether it intends to close
                // the connection [...] or continue reading the request content." Without the
                // content the request never ends on the wire, so where a next request would
                // start is a guess: the connection carries none.
                stream.connection.shutdown()
                return .answeredFirst(head)
            }
        }
    }
}
