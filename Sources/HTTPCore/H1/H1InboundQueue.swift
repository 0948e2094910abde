/// What one stream has received and its reader has not taken yet: header blocks (interim and
/// final heads, then trailers), body chunks, the end of the message or an error. A value type;
/// the stream owns it and the connection fills it.
struct H1InboundQueue {
    /// The oldest header block not taken, when no other waits: a request's head is the only one
    /// of most streams, and it needs no array.
    private var firstHeaderBlock: Headers?
    private var headerBlocks: [Headers] = []
    private var headerBlocksTaken = 0
    private var chunks: [[UInt8]] = []
    private var chunksTaken = 0
    /// Body octets queued and not taken.
    private(set) var bufferedBytes = 0
    /// What the queued body holds in memory, as the connection's back-pressure counts it (it
    /// stops reading above `maxBufferedBody`): the octets, plus `pieceOverhead` for each piece.
    /// Counting octets alone let a peer that sends one-octet chunks (six octets on the wire
    /// each) make a stream hold sixty times `maxBufferedBody`, one array per octet.
    private(set) var bufferedFootprint = 0
    /// What a queued piece costs besides its octets: its array's header and heap block, and its
    /// slot in `chunks` (about 64 bytes for a piece of a few octets on 64-bit Linux).
    static let pieceOverhead = 64
    /// Every body octet received so far.
    private(set) var receivedBytes: UInt64 = 0
    /// The message ended (after its trailers, if any).
    private(set) var ended = false
    /// Reading failed; reported once the queued data is taken.
    private(set) var error: HTTPStreamError?

    /// Header blocks queued and not taken.
    var unreadHeaderBlocks: Int {
        (firstHeaderBlock == nil ? 0 : 1) + headerBlocks.count - headerBlocksTaken
    }

    /// Whether a header block not taken yet has this `:status` (an interim response's).
    func holdsUnreadHeaders(status: String) -> Bool {
        if firstHeaderBlock?.first(":status") == status { return true }
        return headerBlocks[headerBlocksTaken...].contains { $0.first(":status") == status }
    }

    mutating func appendHeaders(_ headers: Headers) {
        if firstHeaderBlock == nil && headerBlocksTaken == headerBlocks.count {
            firstHeaderBlock = headers
        } else {
            headerBlocks.append(headers)
        }
    }

    mutating func appendBody(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        chunks.append(bytes)
        bufferedBytes += bytes.count
        bufferedFootprint += bytes.count + Self.pieceOverhead
        receivedBytes += UInt64(bytes.count)
    }

    /// Puts octets back in front of the body (`unget`).
    mutating func prependBody(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        if chunksTaken > 0 {
            chunksTaken -= 1
            chunks[chunksTaken] = bytes
        } else {
            chunks.insert(bytes, at: 0)
        }
        bufferedBytes += bytes.count
        bufferedFootprint += bytes.count + Self.pieceOverhead
    }

    mutating func end() { ended = true }

    mutating func fail(_ error: HTTPStreamError) {
        if self.error == nil && !ended { self.error = error }
    }

    /// The next header block, `.some(nil)` when none will come, nil to wait.
    mutating func takeHeaders() throws(HTTPStreamError) -> Headers?? {
        if let first = firstHeaderBlock {
            firstHeaderBlock = nil
            return .some(first)
        }
        if headerBlocksTaken < headerBlocks.count {
            defer {
                headerBlocksTaken += 1
                if headerBlocksTaken == headerBlocks.count {
                    headerBlocks.removeAll(keepingCapacity: true)
                    headerBlocksTaken = 0
                }
            }
            return .some(headerBlocks[headerBlocksTaken])
        }
        if let error { throw error }
        return ended ? .some(nil) : nil
    }

    /// The next body chunk, `.some(nil)` at the end of the body, nil to wait.
    mutating func takeChunk() throws(HTTPStreamError) -> [UInt8]?? {
        if chunksTaken < chunks.count {
            let chunk = chunks[chunksTaken]
            chunks[chunksTaken] = []
            chunksTaken += 1
            bufferedBytes -= chunk.count
            bufferedFootprint -= chunk.count + Self.pieceOverhead
            if chunksTaken == chunks.count {
                chunks.removeAll(keepingCapacity: true)
                chunksTaken = 0
            }
            return .some(chunk)
        }
        if let error { throw error }
        return ended ? .some(nil) : nil
    }

    /// Drops every queued body chunk (a stream that will not read its body).
    mutating func discardBody() {
        chunks.removeAll()
        chunksTaken = 0
        bufferedBytes = 0
        bufferedFootprint = 0
    }
}
