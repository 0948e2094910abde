/// What the HTTP/1 connections of one server (or one client) share instead of holding a copy
/// each: their options, the cached `Date` value and prepared response heads. An idle keep-alive connection is then a few
/// hundred bytes; with ten thousand of them that is the difference that matters.
///
/// Like the connections that use it, a context belongs to one reactor's thread.
public final class H1ConnectionContext: @unchecked Sendable {
    public let options: H1ConnectionOptions
    /// The IMF-fixdate of the current second, formatted at most once a second for all of them.
    @exclusivity(unchecked) var dateCache = HTTPDateCache()
    /// Parsers that idle connections gave back (fresh: nothing of a next message seen), for the
    /// next connection whose request starts: an idle connection holds none, and a busy server
    /// does not make and free one per request.
    @exclusivity(unchecked) private var spareParsers: [Box<HTTP1Parser>] = []
    /// At most this many spares are kept (about 350 bytes each).
    static let maximumSpareParsers = 64

    public init(options: H1ConnectionOptions = H1ConnectionOptions()) {
        self.options = options
    }

    /// A fresh parser for `role`: a spare if there is one, else a new one from `make`.
    func takeParser(role: HTTP1Role, scheme: String?, make: () -> HTTP1Parser) -> Box<HTTP1Parser> {
        if let spare = spareParsers.popLast() {
            if spare.value.role == role {
                spare.value.scheme = scheme
                return spare
            }
            spareParsers.append(spare)
        }
        return Box(make())
    }

    /// Keeps a parser that `HTTP1Parser.isFresh` says is as good as new. Taken `consuming`: the
    /// caller's reference moves into the array (no retain here, no release there).
    func recycle(_ parser: consuming Box<HTTP1Parser>) {
        if spareParsers.count < Self.maximumSpareParsers { spareParsers.append(parser) }
    }

    /// Response heads written more than once, serialized once (`H1ResponseHeadCache`).
    @exclusivity(unchecked) var responseHeads = H1ResponseHeadCache()

    /// The tasks the callback forms of the body helpers started for these connections' streams
    /// (`HTTPStream.spawnHelperTask`) and that have not ended: a `.callback` handler's follow-up
    /// work, which a `Server` counts in `empty()` as it counts its `.task` handlers. They may
    /// outlive their connection (a blocking job under way when it closed).
    public private(set) var helperTasksRunning = 0
    /// Called on the reactor's thread each time `helperTasksRunning` drops to 0 (a closing
    /// `Server` ends its close then). Its owner clears it before it goes: the context may
    /// outlive it, held by a stream a task still runs for.
    public var onHelperTasksEnded: (() -> Void)?

    func helperTaskStarted() { helperTasksRunning += 1 }

    func helperTaskEnded() {
        helperTasksRunning -= 1
        if helperTasksRunning == 0 { onHelperTasksEnded?() }
    }
}

/// Who hears a connection's events when a closure each per connection is too much (a server
/// with many connections sets one delegate on all of them). It is told before the matching
/// closure (`onStream`, `onClose`, `onRequestError`), which still runs if set. Held unowned: keep
/// it alive while it is set.
public protocol H1ConnectionDelegate: AnyObject {
    /// Server: a request's stream, on the reactor's thread. Return true when handled; false
    /// leaves it to `onStream` or `nextIncomingStream`.
    func connection(_ connection: H1Connection, didReceive stream: H1Stream) -> Bool
    /// The connection closed (once).
    func connectionDidClose(_ connection: H1Connection)
    /// Server: a request was rejected as invalid before any handler saw it.
    func connection(_ connection: H1Connection, rejected error: HTTP1ParseError)
}
