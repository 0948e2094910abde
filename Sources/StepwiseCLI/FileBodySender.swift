import Stepwise

/// Sends part of an open file as the rest of a response body, with a timeout on each slice, not
/// on the whole body.
///
/// A deadline for the whole body cut every download that takes longer, however steadily the
/// client reads: with 300 s, a 4 GiB file at 10 MB/s. What a timeout has to catch is a client
/// that stopped reading, so here it bounds each 2 MiB slice (`writeChunk(fromFile:)`: sent with
/// `sendfile(2)` on a plain connection, else read on a blocking-work thread and written): a
/// client must take a slice per timeout (70 KB/s at the default 30 s), much as nginx's
/// `send_timeout` bounds the time "between two successive write operations".
enum FileBodySender {
    /// The octets each timeout covers. Each slice costs a trip to a blocking-work thread and
    /// back; at 2 MiB that is some 500 trips per GiB.
    static let sliceSize: UInt64 = 2 << 20

    /// Sends `count` octets (at least one) of `file` from `offset` on `stream`, and ends the
    /// stream. Each slice may take `stallTimeout` seconds (nil: no limit). Throws when one takes
    /// longer, when writing fails, and when the file ends before `count` octets (it was
    /// truncated after the response head promised them). The file's own offset is not used.
    ///
    /// Adds to `sent` the file octets that went out: each slice's once it went out (its
    /// `writeChunk` returned), and after a failure those of the slice that failed that the kernel
    /// took before it did, as the stream counts them (`HTTPStream.fileBodyOctetsSent`; without
    /// that count, none of them). Those are the octets the kernel accepted into the socket's
    /// buffer: a peer that went away did not receive them all.
    static func send(
        _ file: BodyFile, offset: UInt64, count: UInt64, on stream: any HTTPStream, stallTimeout: Double?,
        sent: inout UInt64
    ) async throws {
        precondition(count > 0, "FileBodySender.send: nothing to send")
        let end = offset + count
        var position = offset
        let countedBefore = stream.fileBodyOctetsSent
        while position < end {
            let slice = min(sliceSize, end - position)
            do {
                try await stream.writeChunk(
                    fromFile: file, offset: position, count: slice, endStream: position + slice == end,
                    timeout: stallTimeout)
            } catch {
                // The stream's count since the first slice, less the slices sent whole.
                if let countedBefore, let counted = stream.fileBodyOctetsSent {
                    let sinceFirst = counted - countedBefore
                    let whole = position - offset
                    sent += min(sinceFirst > whole ? sinceFirst - whole : 0, slice)
                }
                throw error
            }
            position += slice
            sent += slice
        }
    }
}
