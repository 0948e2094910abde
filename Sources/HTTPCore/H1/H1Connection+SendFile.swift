import Reactor

/// A body sent from a file with `sendfile(2)` (`StreamSocket.sendFile`): the file's octets go
/// from the page cache to the socket without passing through user space, framed like any body
/// (`H1OutboundMessage.writeBodyRegion`). Only where nothing has to see the octets on the way: a
/// plain socket (TLS encrypts in user space) and no gzip transfer coding.
extension H1Connection {
    /// Whether `stream`'s next body octets can be sent from a file now.
    func canSendFileBody(for stream: H1Stream) -> Bool {
        options.sendfile && phase != .closed && socket.canSendFile && stream.outbound.acceptsBodyRegion
    }

    /// Frames and sends `count` octets of `file` from `offset` as `stream`'s next body octets,
    /// ending the body when `endStream`. Until they are out, the stream refuses other writes and
    /// the connection does not move on to the next exchange. A failure once octets may have gone
    /// out (a timeout, a short file, a socket error) leaves the message unfinished for good, as
    /// a failed `writeChunk` does: the stream's `shutdown` then closes the connection, and what
    /// the peer sent meanwhile (a client's early answer) stays readable.
    ///
    /// Returns false, having written and changed nothing, when the socket refused the send up
    /// front (`SocketError.unsupported`: no descriptor to spare for it): the caller writes the
    /// octets itself then, as a server out of descriptors goes on serving what it has.
    func sendFileBody(
        _ file: some FileDescriptorOwner, offset: UInt64, count: UInt64, endStream: Bool, for stream: H1Stream,
        timeout: Double?
    ) async throws -> Bool {
        var planned = stream.outbound
        var before: [UInt8] = []
        var after: [UInt8] = []
        var regionSeen = false
        let wasComplete = stream.outbound.isComplete
        do {
            try planned.writeBodyRegion(count: count, endStream: endStream) { piece in
                switch piece {
                case .framing(let octets):
                    if regionSeen { after.append(contentsOf: octets) } else { before.append(contentsOf: octets) }
                case .data:
                    regionSeen = true
                }
            }
        } catch {
            // Refused before anything was sent, as `writeBody` refuses: the same state after it.
            stream.outbound = planned
            if planned.closeAfter && !wasComplete { abort() }
            throw error
        }
        if regionSeen {
            let unsent = stream.outbound
            stream.outbound.holdForRegion()
            // The file octets the kernel took, whether the send ends well or not
            // (`H1Stream.fileBodyOctetsSent`): the socket counts them as each stretch ends. A
            // stretch still running when a timeout ends the wait is not counted here.
            let sentBefore = socket.fileOctetsSent
            defer { stream.countFileBodyOctets(socket.fileOctetsSent - sentBefore) }
            do {
                try await socket.sendFile(file, offset: offset, count: count, prefix: before, timeout: timeout)
            } catch SocketError.unsupported {
                stream.outbound = unsent
                return false
            } catch let error as SocketError {
                throw HTTPStreamError.socket(error)
            }
        } else if !before.isEmpty {
            // No octets to send (none were asked for, or the response is to HEAD): the framing alone.
            socket.write(before)
        }
        stream.outbound = planned
        if !after.isEmpty { socket.write(after) }
        if stream.outbound.isComplete { outboundComplete(stream) }
        return true
    }
}
