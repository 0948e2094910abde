/// A sans-IO HTTP/1.0 and HTTP/1.1 parser: bytes in, events out, no I/O and no copies of the body.
///
/// One value parses one connection's worth of messages in one direction: requests in the
/// `.server` role, responses in the `.client` role. Drive it like this:
///
/// ```swift
/// var parser = HTTP1Parser(role: .server)
/// // `buffer` holds the bytes received and not yet consumed, oldest first.
/// while true {
///   let result = buffer.withUnsafeBytes { parser.parse($0) }
///   // handle result.event (a `.body` range indexes `buffer` as it was during the call) …
///   buffer.removeFirst(result.consumed)
///   guard let event = result.event, !event.isTerminal else { break }
/// }
/// // …then read more bytes, append them to `buffer` and loop again; on EOF call `inputEnded()`.
/// ```
///
/// Contract: every call returns at most one event. Octets not consumed must be passed again, at
/// the front of the next input, unchanged. No event means the parser needs more input; keep
/// calling while events come (an event may consume nothing, e.g. `.messageEnd`).
///
/// Heads (and trailer sections) are not consumed until complete, so the caller's buffer holds a
/// head while it arrives (at most `HTTP1Limits.maxHeaderBlockSize` octets); the parser remembers
/// how far it has validated, so trickled input is scanned at most twice in total (a request head
/// that arrives whole takes one straight pass, see `HTTP1HeadScanner`). A complete head becomes
/// one `Headers` value, with one String per name and value; in the server role the parser refills
/// the head it built last once nothing else holds it, and a field that repeats keeps its Strings
/// (`HTTP1FieldRefill`), so a keep-alive connection's requests mostly cost no allocation. Every
/// head is scanned and built, even one that repeats the last octet for octet: a memo of the last
/// head's octets would help only load generators and pollers. Body octets are reported as ranges of the input — nothing is copied.
///
/// Errors are final: after `.error` the parser consumes nothing more and returns the same error on
/// every call, so a caller cannot spin on bad input. Every error asks for the connection to be
/// closed after the answer (`HTTP1ParseError.status`).
///
/// Body framing follows RFC 9112 §6.3 strictly (see `HTTP1ParseError` for the statuses). In the
/// client role call `expectResponse(toMethod:)` for each request sent, in order, so HEAD and CONNECT
/// responses are framed correctly; without it a response is framed as the answer to a GET.
public struct HTTP1Parser: Sendable {
    public let role: HTTP1Role
    /// The size limits; change them between messages.
    public var limits: HTTP1Limits
    /// Server role: answer an HTTP/1.1 request without Host with `.missingHost` (RFC 9112 §3.2).
    /// On by default; turn it off only to test or to proxy for broken clients.
    public var requireHost: Bool
    /// Server role: the `:scheme` pseudo-header added to request heads (`http` or `https`: the
    /// connection knows whether it is secure); nil adds none. CONNECT requests never get one (RFC
    /// 9113 §8.5 shape).
    public var scheme: String?
    /// Server role: whether the stream layer undoes `gzip`, `x-gzip` and `deflate` transfer
    /// codings of request bodies (`H1ConnectionOptions.transferCodings`). When it does not, a
    /// request with any coding but `chunked` is `.unknownTransferCoding` (501): RFC 9112 §6.1, "A
    /// server that receives a request message with a transfer coding it does not understand
    /// SHOULD respond with 501 (Not Implemented)", rather than a handler getting coded octets as
    /// the body. On by default.
    public var decodesTransferCodings = true

    enum RequestKind: Sendable { case head, connect, other }

    enum State: Sendable {
        case head
        case body(remaining: UInt64)
        case chunkLine
        case chunkData(remaining: UInt64)
        case chunkDataCR
        case chunkDataLF
        case trailers
        case untilClose
        case messageEnd
        case closed
        case switched
        case ended
        case failed(HTTP1ParseError)
    }

    var state: State = .head
    var scanner: HTTP1HeadScanner
    private var chunkLine = HTTP1ChunkLineScanner()
    /// Whether the connection stays open after the current message.
    var keepAlive = true
    /// Client role: the kinds of the requests whose responses have not arrived, oldest first.
    var pendingRequests: [RequestKind] = []
    /// Client role: the octets of the interim (1xx) heads before the response being read.
    var interimOctets = 0
    /// Client role: interim (1xx) heads arrived for the response being read, and its final head
    /// did not yet.
    var readInterimResponses: Bool { interimOctets > 0 }
    /// Server role: the last request head built, refilled for the next request once nothing else
    /// holds it (`HTTP1MessageHead.reclaiming(_:)`). A cache: it changes no outcome.
    var spareRequestHead: HTTP1MessageHead?

    public init(role: HTTP1Role, limits: HTTP1Limits = HTTP1Limits(), requireHost: Bool = true) {
        self.role = role
        self.limits = limits
        self.requireHost = requireHost
        self.scanner = Self.headScanner(for: role)
    }

    @inline(__always)
    private static func headScanner(for role: HTTP1Role) -> HTTP1HeadScanner {
        HTTP1HeadScanner(kind: role == .server ? .request : .response, allowsFolding: role == .client)
    }

    /// Client role: a request with this method was sent; its response is framed accordingly (RFC
    /// 9112 §6.3: no content after HEAD; a tunnel after a 2xx to CONNECT). Call once per request,
    /// in the order the requests were written.
    public mutating func expectResponse(toMethod method: String) {
        precondition(role == .client, "HTTP1Parser.expectResponse(toMethod:) is for the client role")
        let kind: RequestKind = method == "HEAD" ? .head : method == "CONNECT" ? .connect : .other
        pendingRequests.append(kind)
    }

    /// Whether the parser is between messages (nothing of the next message has arrived, or only
    /// empty lines).
    @inline(__always)
    public var isIdle: Bool {
        if case .head = state { return scanner.isIdle }
        if case .closed = state { return true }
        return false
    }

    /// Whether the message's body is delimited by the end of the input (RFC 9112 §6.3 item 8),
    /// so that only the way the connection ended tells a complete body from a truncated one.
    public var isReadingUntilClose: Bool {
        if case .untilClose = state { return true }
        return false
    }

    /// Whether a new parser with the same role, limits and scheme would behave exactly like this
    /// one: between messages, nothing of the next one seen, the connection persistent and (client
    /// role) no response awaited. A connection may then drop its parser while idle.
    @inline(__always)
    public var isFresh: Bool {
        guard case .head = state else { return false }
        return scanner.state == .leading && scanner.scanned == 0 && keepAlive && pendingRequests.isEmpty
    }

    /// Whether `parse` of empty input would return no event: the parser can only wait for more.
    @inline(__always)
    var waitsForInput: Bool {
        switch state {
        case .messageEnd, .failed, .switched: return false
        default: return true
        }
    }

    /// A connection that was just given the `.head` of a message without a body ends that message
    /// here rather than by another `parse` call returning `.messageEnd` (which this replaces: the
    /// parser moves on exactly as that call would). Returns whether the message ended.
    mutating func endMessageAfterHead() -> Bool {
        guard case .messageEnd = state else { return false }
        finishMessage()
        return true
    }

    // MARK: - Parsing

    /// Reports up to `remaining` body octets from `position` (none available: wait for input);
    /// `next` gives the state for the octets still to come.
    @inline(__always)
    private mutating func takeBody(
        _ input: UnsafeRawBufferPointer, from position: Int, remaining: UInt64, next: (UInt64) -> State
    ) -> HTTP1ParseResult {
        let available = input.count - position
        guard available > 0 else { return HTTP1ParseResult(consumed: position, event: nil) }
        let count = remaining < UInt64(available) ? Int(remaining) : available
        state = next(remaining - UInt64(count))
        return HTTP1ParseResult(consumed: position + count, event: .body(position..<position + count))
    }

    /// Parses as much of `input` as yields the next event. See the type's documentation.
    public mutating func parse(_ input: UnsafeRawBufferPointer) -> HTTP1ParseResult {
        // The states of almost every call, first and out of the loop below.
        switch state {
        case .head: return parseHead(input, from: 0)
        case .messageEnd: return endMessage(consumed: 0)
        default: break
        }
        var position = 0
        while true {
            switch state {
            case .failed(let error):
                return HTTP1ParseResult(consumed: 0, event: .error(error))

            case .switched:
                return HTTP1ParseResult(consumed: 0, event: .switchedProtocols)

            case .ended:
                if position < input.count { return fail(.dataAfterEnd, consumed: position) }
                return HTTP1ParseResult(consumed: position, event: nil)

            case .closed:
                // Tolerate the stray CRLFs some peers send after a message, but nothing else.
                while position < input.count {
                    let byte = input[position]
                    guard byte == HTTP1Syntax.cr || byte == HTTP1Syntax.lf else {
                        return fail(.dataAfterClose, consumed: position)
                    }
                    position += 1
                }
                return HTTP1ParseResult(consumed: position, event: nil)

            case .head:
                return parseHead(input, from: position)

            case .body(let remaining):
                return takeBody(input, from: position, remaining: remaining) {
                    $0 == 0 ? .messageEnd : .body(remaining: $0)
                }

            case .untilClose:
                guard position < input.count else {
                    return HTTP1ParseResult(consumed: position, event: nil)
                }
                return HTTP1ParseResult(consumed: input.count, event: .body(position..<input.count))

            case .chunkLine:
                switch chunkLine.scan(input, &position, extensionLimit: limits.maxChunkExtensionLength) {
                case .needMore:
                    return HTTP1ParseResult(consumed: position, event: nil)
                case .failed(let error):
                    return fail(error, consumed: position)
                case .complete:
                    if chunkLine.size == 0 {
                        scanner = HTTP1HeadScanner(kind: .trailers, allowsFolding: role == .client)
                        state = .trailers
                    } else {
                        state = .chunkData(remaining: chunkLine.size)
                    }
                }

            case .chunkData(let remaining):
                return takeBody(input, from: position, remaining: remaining) {
                    $0 == 0 ? .chunkDataCR : .chunkData(remaining: $0)
                }

            case .chunkDataCR:
                guard position < input.count else {
                    return HTTP1ParseResult(consumed: position, event: nil)
                }
                guard input[position] == HTTP1Syntax.cr else {
                    return fail(.missingChunkTerminator, consumed: position)
                }
                position += 1
                state = .chunkDataLF

            case .chunkDataLF:
                guard position < input.count else {
                    return HTTP1ParseResult(consumed: position, event: nil)
                }
                guard input[position] == HTTP1Syntax.lf else {
                    return fail(.missingChunkTerminator, consumed: position)
                }
                position += 1
                startChunkLine()

            case .trailers:
                switch scanner.scan(input, from: position, limits: limits) {
                case .needMore:
                    return HTTP1ParseResult(consumed: position, event: nil)
                case .failed(let error):
                    return fail(error, consumed: position)
                case .complete(let end):
                    let block = UnsafeRawBufferPointer(rebasing: input[position..<position + end])
                    position += end
                    if scanner.fieldCount == 0 {
                        finishMessage()
                        return HTTP1ParseResult(consumed: position, event: .messageEnd)
                    }
                    state = .messageEnd
                    return HTTP1ParseResult(consumed: position, event: .trailers(buildTrailers(block)))
                }

            case .messageEnd:
                return endMessage(consumed: position)
            }
        }
    }

    /// The `.head` state: scans the head starting at `input[position]` and builds it once complete.
    /// Out of the loop of `parse`, where the large result would be built in a temporary and copied.
    @inline(never)
    private mutating func parseHead(_ input: UnsafeRawBufferPointer, from position: Int) -> HTTP1ParseResult {
        switch scanner.scan(input, from: position, limits: limits) {
        case .needMore:
            return HTTP1ParseResult(consumed: position, event: nil)
        case .failed(let error):
            return fail(error, consumed: position)
        case .complete(let end):
            let block = UnsafeRawBufferPointer(rebasing: input[position..<position + end])
            let head: HTTP1MessageHead
            do {
                head = try role == .server ? buildRequestHead(block) : buildResponseHead(block)
            } catch {
                return fail(error, consumed: position)
            }
            return HTTP1ParseResult(consumed: position + end, event: .head(head))
        }
    }

    /// The `.messageEnd` state.
    private mutating func endMessage(consumed: Int) -> HTTP1ParseResult {
        finishMessage()
        return HTTP1ParseResult(consumed: consumed, event: .messageEnd)
    }

    /// Tells the parser that the input has ended (the peer closed its side). Returns `.messageEnd`
    /// when that ends a body delimited by close, `.error(.unexpectedEOF)` in the middle of any other
    /// message, and nil between messages. `parse` must not be called with more input afterwards.
    public mutating func inputEnded() -> HTTP1ParseEvent? {
        switch state {
        case .failed(let error):
            return .error(error)
        case .switched, .ended:
            return nil
        case .closed:
            state = .ended
            return nil
        case .head:
            if scanner.isIdle {
                state = .ended
                return nil
            }
            state = .failed(.unexpectedEOF)
            return .error(.unexpectedEOF)
        case .untilClose, .messageEnd:
            state = .ended
            return .messageEnd
        case .body, .chunkLine, .chunkData, .chunkDataCR, .chunkDataLF, .trailers:
            state = .failed(.unexpectedEOF)
            return .error(.unexpectedEOF)
        }
    }

    private mutating func fail(_ error: HTTP1ParseError, consumed: Int) -> HTTP1ParseResult {
        state = .failed(error)
        return HTTP1ParseResult(consumed: consumed, event: .error(error))
    }

    private mutating func finishMessage() {
        if keepAlive {
            state = .head
            scanner = Self.headScanner(for: role)
        } else {
            state = .closed
        }
    }

    mutating func startChunkLine() {
        state = .chunkLine
        chunkLine = HTTP1ChunkLineScanner()
    }
}
