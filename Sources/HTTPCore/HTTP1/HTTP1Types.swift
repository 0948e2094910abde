/// Which side of an HTTP/1 connection a parser sits on.
public enum HTTP1Role: Sendable, Hashable {
    /// Parses requests (and answers them).
    case server
    /// Parses responses (to the requests it sent).
    case client
}

/// The HTTP/1 versions the codec speaks.
///
/// A message with major version 1 and a minor version above 1 (`HTTP/1.2`) is processed as
/// HTTP/1.1, as RFC 9110 §2.5 asks: "A recipient that receives a message with a major version
/// number that it implements and a minor version number higher than what it implements SHOULD
/// process the message as if it were in the highest minor version within that major version to
/// which the recipient is conformant."
public enum HTTP1Version: Sendable, Hashable, CustomStringConvertible {
    case http10
    case http11

    /// The minor version number.
    public var minor: Int { self == .http10 ? 0 : 1 }

    /// `"HTTP/1.0"` or `"HTTP/1.1"`, as written on the wire.
    public var description: String { self == .http10 ? "HTTP/1.0" : "HTTP/1.1" }
}

/// How the body of a message is delimited (RFC 9112 §6.3).
public enum HTTP1BodyFraming: Sendable, Hashable {
    /// No content: a request without Content-Length or Transfer-Encoding, a CONNECT request, a
    /// response to HEAD, or a 1xx, 204 or 304 response.
    case none
    /// Exactly this many octets.
    case contentLength(UInt64)
    /// The chunked transfer coding (`transferCodings` lists any codings applied before it).
    case chunked
    /// A response whose content runs until the server closes the connection.
    case untilClose
}

/// Every size limit of the parser, each with a documented default. Body sizes are limited by the
/// layer above (the stream), not here. `Int.max` means no limit; 0 or less allows nothing.
public struct HTTP1Limits: Sendable, Hashable {
    /// The longest request line or status line, excluding its CRLF. Default 8 KiB. A request line
    /// that is too long because of its target is answered with 414 (URI Too Long, RFC 9112 §3),
    /// because of its method with 501 (RFC 9112 §3: "A server that receives a method longer than
    /// any that it implements SHOULD respond with a 501"), otherwise with 400.
    public var maxStartLineLength: Int = 8 * 1024
    /// The largest header section in octets, from the first octet of the start line (including any
    /// empty lines before it) to the empty line that ends it. Default 64 KiB; beyond it: 431.
    /// A client also allows the interim (1xx) heads before one final response this much in all
    /// (`.interimResponsesTooLarge`).
    public var maxHeaderBlockSize: Int = 64 * 1024
    /// The most field lines in a header section. Default 100; beyond it: 431.
    public var maxFieldCount: Int = 100
    /// The longest chunk extension (everything between the chunk size and its CRLF). Default 4 KiB;
    /// beyond it: 400 (RFC 9112 §7.1.1 asks servers to limit it and answer with a 4xx).
    public var maxChunkExtensionLength: Int = 4 * 1024
    /// The largest trailer section in octets, including the empty line that ends it. Default 64 KiB.
    public var maxTrailerBlockSize: Int = 64 * 1024
    /// The most field lines in a trailer section. Default 100.
    public var maxTrailerFieldCount: Int = 100
    /// The most transfer codings a message may list, `chunked` included. Default 4 (chunked and
    /// up to three compressions stacked on it; one is usual); beyond it: 501, since each coding
    /// undone costs a decoder, and a long list would make the decoding of each body octet cost
    /// as many passes.
    public var maxTransferCodings: Int = 4

    public init(
        maxStartLineLength: Int = 8 * 1024, maxHeaderBlockSize: Int = 64 * 1024,
        maxFieldCount: Int = 100,
        maxChunkExtensionLength: Int = 4 * 1024, maxTrailerBlockSize: Int = 64 * 1024,
        maxTrailerFieldCount: Int = 100, maxTransferCodings: Int = 4
    ) {
        self.maxStartLineLength = maxStartLineLength
        self.maxHeaderBlockSize = maxHeaderBlockSize
        self.maxFieldCount = maxFieldCount
        self.maxChunkExtensionLength = maxChunkExtensionLength
        self.maxTrailerBlockSize = maxTrailerBlockSize
        self.maxTrailerFieldCount = maxTrailerFieldCount
        self.maxTransferCodings = maxTransferCodings
    }
}

/// The head of a message: the start line and header section, already interpreted.
///
/// `headers` carries the start line as HTTP/2 pseudo-headers first (requests: `:method`, `:path`
/// (the request-target exactly as received) and `:authority` (the Host field, or the target of a
/// CONNECT request); responses: `:status`), then the regular fields in received order with
/// lower-cased names. The Host field is not repeated as a regular field. `:scheme` is left to the
/// caller, which knows whether the connection is secure.
///
/// A copy-on-write value: the fields live in one heap object that copies share, so passing a head
/// around (parser event, stream, handler) costs one reference count, not one per field. `method`,
/// `path` and `authority` are kept beside `headers` (set by the parser, which has them at hand,
/// and refreshed whenever `headers` changes), so reading them looks nothing up.
public struct HTTP1MessageHead: Sendable, Equatable {
    @usableFromInline var storage: Storage

    /// The fields. Mutated only while uniquely referenced (`mutableStorage`), hence Sendable; and
    /// then by one accessor at a time, so exclusivity needs no run-time check (a read of
    /// `headers` cost a `swift_beginAccess`).
    @usableFromInline final class Storage: @unchecked Sendable {
        @exclusivity(unchecked) var version: HTTP1Version
        @exclusivity(unchecked) var headers: Headers
        @exclusivity(unchecked) var status: Int?
        @exclusivity(unchecked) var reasonPhrase: String
        @exclusivity(unchecked) var framing: HTTP1BodyFraming
        @exclusivity(unchecked) var transferCodings: [String]
        @exclusivity(unchecked) var keepAlive: Bool
        @exclusivity(unchecked) var requestsProtocolSwitch: Bool
        /// `:method`, `:path` and `:authority` of `headers`.
        @usableFromInline @exclusivity(unchecked) var method: String?
        @usableFromInline @exclusivity(unchecked) var path: String?
        @usableFromInline @exclusivity(unchecked) var authority: String?

        init(
            version: HTTP1Version, headers: Headers, status: Int?, reasonPhrase: String, framing: HTTP1BodyFraming,
            transferCodings: [String], keepAlive: Bool, requestsProtocolSwitch: Bool, method: String?,
            path: String?, authority: String?
        ) {
            self.version = version
            self.headers = headers
            self.status = status
            self.reasonPhrase = reasonPhrase
            self.framing = framing
            self.transferCodings = transferCodings
            self.keepAlive = keepAlive
            self.requestsProtocolSwitch = requestsProtocolSwitch
            self.method = method
            self.path = path
            self.authority = authority
        }

        func copy() -> Storage {
            Storage(
                version: version, headers: headers, status: status, reasonPhrase: reasonPhrase, framing: framing,
                transferCodings: transferCodings, keepAlive: keepAlive,
                requestsProtocolSwitch: requestsProtocolSwitch, method: method, path: path, authority: authority)
        }

        /// Looks the pseudo-headers kept beside `headers` up again.
        func refreshPseudoHeaders() {
            method = headers.first(":method")
            path = headers.first(":path")
            authority = headers.first(":authority")
        }
    }

    public init(
        version: HTTP1Version, headers: Headers, status: Int? = nil, reasonPhrase: String = "",
        framing: HTTP1BodyFraming = .none, transferCodings: [String] = [], keepAlive: Bool = true,
        requestsProtocolSwitch: Bool = false
    ) {
        storage = Storage(
            version: version, headers: headers, status: status, reasonPhrase: reasonPhrase, framing: framing,
            transferCodings: transferCodings, keepAlive: keepAlive, requestsProtocolSwitch: requestsProtocolSwitch,
            method: nil, path: nil, authority: nil)
        storage.refreshPseudoHeaders()
    }

    /// A request head whose pseudo-headers the caller (the parser) already has: `method`, `path`
    /// and `authority` must be the values of `:method`, `:path` and `:authority` in `headers`.
    init(
        request version: HTTP1Version, headers: Headers, method: String, path: String?, authority: String?,
        framing: HTTP1BodyFraming, transferCodings: [String], keepAlive: Bool, requestsProtocolSwitch: Bool
    ) {
        storage = Storage(
            version: version, headers: headers, status: nil, reasonPhrase: "", framing: framing,
            transferCodings: transferCodings, keepAlive: keepAlive, requestsProtocolSwitch: requestsProtocolSwitch,
            method: method, path: path, authority: authority)
    }

    /// An empty request head for the parser to fill (`reclaiming(_:)`).
    private init(emptyRequest: ()) {
        storage = Storage(
            version: .http11, headers: Headers(fields: []), status: nil, reasonPhrase: "", framing: .none,
            transferCodings: [], keepAlive: true, requestsProtocolSwitch: false, method: nil, path: nil,
            authority: nil)
    }

    // MARK: Refilling (the parser)
    //
    // The parser keeps the last request head it built and, once nothing else holds it (the
    // stream and its handler are done), fills that same head with the next request rather than
    // making a new one: no allocation for the head or its field array, and the fields that repeat
    // keep their Strings (`HTTP1FieldRefill`). Nobody can tell: a head that anyone else still
    // holds is never touched (copy-on-write), and a refilled head equals a new one.

    /// `spare`, moved out, when no other copy shares its storage; else a new, empty request head.
    static func reclaiming(_ spare: inout HTTP1MessageHead?) -> HTTP1MessageHead {
        if var head = spare.take(), isKnownUniquelyReferenced(&head.storage) { return head }
        return HTTP1MessageHead(emptyRequest: ())
    }

    /// Moves the fields out of a head that `reclaiming(_:)` returned, for `HTTP1FieldRefill`;
    /// `refillRequest` puts the new ones back.
    mutating func takeFields() -> [Headers.Field] {
        var fields: [Headers.Field] = []
        swap(&fields, &storage.headers.storage)
        return fields
    }

    /// How `refillRequest` updates `method`, `path` or `authority`.
    enum PseudoHeaderRefill {
        /// The field was kept (`HTTP1FieldRefill.keep`): the head was made from a request whose
        /// field at the same position said the same, so the value beside the fields already is it.
        case kept
        /// The field is new (or absent: nil).
        case set(String?)
    }

    /// Completes a head that `reclaiming(_:)` returned with the fields `refill` wrote (see
    /// `init(request:…)` for the rules).
    mutating func refillRequest(
        _ version: HTTP1Version, fields refill: inout HTTP1FieldRefill, method: PseudoHeaderRefill,
        path: PseudoHeaderRefill, authority: PseudoHeaderRefill, framing: HTTP1BodyFraming,
        transferCodings: [String]?, keepAlive: Bool, requestsProtocolSwitch: Bool
    ) {
        refill.finish(into: &storage.headers.storage)
        // A small set has no index (and the refilled one had none, or it goes now).
        if storage.headers.index != nil || storage.headers.count >= Headers.indexThreshold {
            storage.headers.rebuildIndex()
        }
        storage.version = version
        storage.framing = framing
        if let transferCodings {
            storage.transferCodings = transferCodings
        } else if !storage.transferCodings.isEmpty {
            storage.transferCodings = []
        }
        storage.keepAlive = keepAlive
        storage.requestsProtocolSwitch = requestsProtocolSwitch
        if case .set(let value) = method { storage.method = value }
        if case .set(let value) = path { storage.path = value }
        if case .set(let value) = authority { storage.authority = value }
    }

    /// The storage, copied first if shared.
    private mutating func mutableStorage() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

    public var version: HTTP1Version {
        get { storage.version }
        set { mutableStorage().version = newValue }
    }
    public var headers: Headers {
        get { storage.headers }
        set {
            let storage = mutableStorage()
            storage.headers = newValue
            storage.refreshPseudoHeaders()
        }
        _modify {
            let storage = mutableStorage()
            defer { storage.refreshPseudoHeaders() }
            yield &storage.headers
        }
    }
    /// The status code of a response; nil for a request.
    public var status: Int? {
        get { storage.status }
        set { mutableStorage().status = newValue }
    }
    /// The reason phrase of a response (possibly empty); empty for a request.
    public var reasonPhrase: String {
        get { storage.reasonPhrase }
        set { mutableStorage().reasonPhrase = newValue }
    }
    /// How the body that follows is delimited.
    public var framing: HTTP1BodyFraming {
        get { storage.framing }
        set { mutableStorage().framing = newValue }
    }
    /// Transfer codings applied to the content, lower-cased, in the order they were applied,
    /// without a final `chunked` (which the parser removes). For a request these can only be
    /// `gzip`, `x-gzip` or `deflate`; the stream layer decodes them. Empty without Transfer-Encoding.
    public var transferCodings: [String] {
        get { storage.transferCodings }
        set { mutableStorage().transferCodings = newValue }
    }
    /// Whether the connection stays open after this message (RFC 9112 §9.3): false with a `close`
    /// connection option, for HTTP/1.0 without `keep-alive`, and for a body delimited by close.
    public var keepAlive: Bool {
        get { storage.keepAlive }
        set { mutableStorage().keepAlive = newValue }
    }
    /// A request that asks to leave HTTP/1: a CONNECT request, or one with an `upgrade` connection
    /// option and an Upgrade field. After its `.messageEnd` a server that switches protocols stops
    /// calling `parse` and takes the unconsumed bytes; one that declines keeps parsing.
    public var requestsProtocolSwitch: Bool {
        get { storage.requestsProtocolSwitch }
        set { mutableStorage().requestsProtocolSwitch = newValue }
    }

    // Inlinable: a caller in another module that binds one (`let path = head.path ?? "/"`) then
    // reads the field in place instead of calling a getter that returns a retained copy.

    /// `:method` of a request.
    @inlinable public var method: String? { storage.method }
    /// `:path` of a request: the request-target as received.
    @inlinable public var path: String? { storage.path }
    /// `:authority` of a request.
    @inlinable public var authority: String? { storage.authority }

    public static func == (lhs: HTTP1MessageHead, rhs: HTTP1MessageHead) -> Bool {
        if lhs.storage === rhs.storage { return true }
        let l = lhs.storage
        let r = rhs.storage
        return l.version == r.version && l.headers == r.headers && l.status == r.status
            && l.reasonPhrase == r.reasonPhrase && l.framing == r.framing && l.transferCodings == r.transferCodings
            && l.keepAlive == r.keepAlive && l.requestsProtocolSwitch == r.requestsProtocolSwitch
    }
}

/// What the parser found in one call.
public enum HTTP1ParseEvent: Sendable, Equatable {
    /// A request or response head. In the client role 1xx interim responses arrive as heads of their
    /// own (no body, no `.messageEnd`) before the final response.
    ///
    /// The head is one reference (see `HTTP1MessageHead`): the event is cheap to copy and destroy.
    case head(HTTP1MessageHead)
    /// Body octets: a range of offsets into the input of *this* call (zero copy; copy them out
    /// before the input buffer changes). Transfer codings other than chunked are not decoded.
    case body(Range<Int>)
    /// The trailer section of a chunked message, when it has fields. `.messageEnd` follows.
    case trailers(Headers)
    /// The message is complete.
    case messageEnd
    /// Client role: the response switched protocols (101) or opened a tunnel (2xx to CONNECT). The
    /// bytes from the first unconsumed one on are not HTTP/1; the parser stops here and returns this
    /// event again, consuming nothing, on every later call.
    case switchedProtocols
    /// The input is not valid HTTP/1. The parser stops here and returns this error again, consuming
    /// nothing, on every later call.
    case error(HTTP1ParseError)

    /// Whether the parser has stopped for good (`.error` or `.switchedProtocols`).
    public var isTerminal: Bool {
        switch self {
        case .error, .switchedProtocols: return true
        default: return false
        }
    }
}

/// The outcome of `HTTP1Parser.parse(_:)`.
public struct HTTP1ParseResult: Sendable, Equatable {
    /// How many octets from the front of the input the parser is done with. The caller drops them
    /// and passes the rest again, followed by new input, on the next call.
    public var consumed: Int
    /// The event, or nil when the parser needs more input.
    public var event: HTTP1ParseEvent?

    public init(consumed: Int, event: HTTP1ParseEvent?) {
        self.consumed = consumed
        self.event = event
    }
}
