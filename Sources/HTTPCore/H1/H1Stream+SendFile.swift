import Glibc
import Reactor

extension H1Stream {
    /// `HTTPStream.writeChunk(fromFile:offset:count:endStream:timeout:)`: with `sendfile(2)` for
    /// a regular file (`BodyFile.isRegularFile`) on a plain connection
    /// (`H1Connection.canSendFileBody`), else by reading the file (`writeChunkReadingFile`). A
    /// response to HEAD reads none of it, on any connection: reading a large file only to drop
    /// it would make each cheap HEAD cost the server the whole file from disk.
    public func writeChunk(
        fromFile file: BodyFile, offset: UInt64, count: UInt64, endStream: Bool, timeout: Double?
    ) async throws {
        // While a region is out, refused before any of this file is read.
        if outbound.state == .regionInFlight { throw H1OutboundMessage.refusalWhileRegionInFlight }
        let framedOnly = outbound.discardsBody && connection.phase != .closed
        guard framedOnly || file.isRegularFile && connection.canSendFileBody(for: self) else {
            return try await writeChunkReadingFileCounting(
                file, offset: offset, count: count, endStream: endStream, timeout: timeout)
        }
        let (end, overflow) = offset.addingReportingOverflow(count)
        guard !overflow, off_t(exactly: end) != nil else {
            throw HTTPStreamError.invalidState(
                "writeChunk: \(count) octets at offset \(offset) end past the largest file offset, \(off_t.max)")
        }
        let deadline = Deadline(timeout)
        let sent = try await connection.sendFileBody(
            file, offset: offset, count: count, endStream: endStream, for: self,
            timeout: deadline.remaining("writeChunk"))
        if !sent {
            // The socket had no descriptor to spare for the send: the octets go by reading.
            try await writeChunkReadingFileCounting(
                file, offset: offset, count: count, endStream: endStream, timeout: deadline.remaining("writeChunk"))
        }
    }

    /// `writeChunkReadingFile`, counting in `fileBodyOctetsSent` the octets that went to the
    /// kernel: those the socket's queue took, less those still in it when a write failed (they
    /// are the queue's last octets, but for a chunk's framing after them; over TLS the queue
    /// holds ciphertext, and under a transfer coding coded octets, so the count is then a
    /// little off, as it may be by a few octets of framing).
    private func writeChunkReadingFileCounting(
        _ file: BodyFile, offset: UInt64, count: UInt64, endStream: Bool, timeout: Double?
    ) async throws {
        let socket = connection.socket
        var queued: UInt64 = 0
        do {
            try await readFileRegion(file, offset: offset, count: count, endStream: endStream, timeout: timeout) {
                chunk, last, remaining in
                // As `writeChunk(_:endStream:timeout:)` does, with the chunk counted once queued
                // (a failed or closed socket drops what it is given).
                try chunk.withUnsafeBytes { try writeBodyNow($0, heldIn: chunk, endStream: last, trailers: nil) }
                if !socket.isClosed && !socket.hasFailed { queued += UInt64(chunk.count) }
                try await connection.waitForWriteRoom(timeout: remaining)
            }
        } catch {
            countFileBodyOctets(queued - Swift.min(queued, UInt64(socket.pendingOutputBytes)))
            throw error
        }
        countFileBodyOctets(queued)
    }
}
