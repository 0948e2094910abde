/// A keep-alive connection often sends the same request head again, octet for octet (a client
/// polling one resource, a health check, a load generator). The server-role parser keeps the
/// octets of the head it built last beside that head (`spareRequestOctets`, at most
/// `maximumRepeatedHeadSize` of them, from its second head on); when the next head starts with
/// exactly those octets under the settings it was built under, that head is the answer again,
/// without scanning or building anything.
///
/// Nothing is weakened: those octets were validated when the head was built, and what parsing a
/// head gives depends only on its octets and on `limits`, `requireHost` and `scheme`. The head is
/// as it was built: a holder that changed its copy got storage of its own (copy-on-write), and the
/// parser refills a head only when nobody else holds it, with new octets kept beside it. The head
/// ends where it ended then, so what follows it is parsed as it would have been.
extension HTTP1Parser {
    /// The settings that, with its octets, decide what parsing a request head gives.
    struct RequestSettings: Sendable {
        var limits: HTTP1Limits
        var requireHost: Bool
        var scheme: String?
    }

    /// The largest head whose octets are kept: a pooled parser holds them while it waits.
    static let maximumRepeatedHeadSize = 1024

    /// The `.head` result for a head at `input[position...]` that repeats the spare head's octets,
    /// or nil. Only at the start of a head (nothing of it scanned yet).
    @inline(__always)
    mutating func repeatedRequestHead(_ input: UnsafeRawBufferPointer, from position: Int) -> HTTP1ParseResult? {
        let count = spareRequestOctets.count
        guard count != 0, input.count &- position >= count, scanner.scanned == 0, scanner.state == .leading,
            spareRequestOctets.withUnsafeBytes({
                HTTP1Syntax.equalOctets($0, UnsafeRawBufferPointer(rebasing: input[position..<(position &+ count)]))
            }),
            spareRequestSettings.limits == limits, spareRequestSettings.requireHost == requireHost,
            spareRequestSettings.scheme == scheme,
            let head = spareRequestHead
        else { return nil }
        // What building it did, from the head itself (which `spareRequestHead` still holds).
        keepAlive = head.keepAlive
        enterBody(head.framing)
        return HTTP1ParseResult(consumed: position &+ count, event: .head(head))
    }

    /// Keeps the octets of the head just kept as `spareRequestHead` and the current settings, or
    /// forgets any octets kept (nil, or too many octets).
    mutating func keepSpareRequestOctets(_ octets: UnsafeRawBufferPointer?) {
        guard let block = octets, block.count <= Self.maximumRepeatedHeadSize else {
            if !spareRequestOctets.isEmpty { spareRequestOctets.removeAll(keepingCapacity: true) }
            return
        }
        let count = spareRequestOctets.count
        if count > block.count {
            spareRequestOctets.removeLast(count &- block.count)
        } else if count < block.count {
            spareRequestOctets.append(contentsOf: repeatElement(0, count: block.count &- count))
        }
        spareRequestOctets.withUnsafeMutableBytes { $0.copyMemory(from: block) }
        spareRequestSettings.limits = limits
        spareRequestSettings.requireHost = requireHost
        if spareRequestSettings.scheme != scheme { spareRequestSettings.scheme = scheme }
    }
}
