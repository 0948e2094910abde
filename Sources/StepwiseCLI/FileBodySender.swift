import Glibc
import Stepwise

/// Sends part of an open file as the rest of a response body, with a timeout on each chunk, not
/// on the whole body.
///
/// A deadline for the whole body cut every download that takes longer, however steadily the
/// client reads: with 300 s, a 4 GiB file at 10 MB/s. What a timeout has to catch is a client
/// that stopped reading, so here it bounds each wait instead: for a chunk to be read from the
/// file (512 KiB, on a blocking-work thread, the next while the last is sent) and for the
/// connection to take it (`writeChunk`, which, once more than the socket's high-water mark is
/// queued, waits until the queue is written out). So a client must take about the high-water
/// mark and a chunk (1.5 MiB by default) per timeout, as nginx's `send_timeout` bounds the time
/// "between two successive write operations".
enum FileBodySender {
    /// Sends `count` octets (at least one) of `file` from `offset` on `stream`, and ends the
    /// stream. Each read and each write may wait `stallTimeout` seconds (nil: no limit). Throws
    /// when one waits longer, when writing fails, and when the file ends before `count` octets
    /// (it was truncated after the response head promised them). Reads at explicit offsets
    /// (`pread`), so the file's own offset is not used.
    static func send(
        _ file: BodyFile, offset: UInt64, count: UInt64, on stream: any HTTPStream, stallTimeout: Double?
    ) async throws {
        precondition(count > 0, "FileBodySender.send: nothing to send")
        let end = offset + count
        var position = offset
        func startReading() -> BlockingJob<[UInt8]> {
            let at = position
            let want = Int(min(UInt64(BodyFile.readChunkSize), end - at))
            return stream.reactor.startBlocking("reading \(want) octets of a file at \(at)") {
                try read(file, upTo: want, at: at)
            }
        }
        var reading = startReading()
        while true {
            let chunk = try await reading.value(timeout: stallTimeout)
            guard !chunk.isEmpty else {
                throw HTTPStreamError.invalidState("file ended \(end - position) octets before the count given")
            }
            position += UInt64(chunk.count)
            let isLast = position == end
            if !isLast { reading = startReading() }
            try await stream.writeChunk(chunk, endStream: isLast, timeout: stallTimeout)
            if isLast { return }
        }
    }

    /// At most `count` octets of `file` from `offset`, in one `pread` (fewer at the end of the
    /// file; none past it).
    private static func read(_ file: BodyFile, upTo count: Int, at offset: UInt64) throws -> [UInt8] {
        guard let position = off_t(exactly: offset) else {
            throw HTTPStreamError.invalidState("offset \(offset) is past the largest file offset, \(off_t.max)")
        }
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            while true {
                let got = pread(file.fd, buffer.baseAddress, count, position)
                if got >= 0 {
                    initialized = got
                    return
                }
                if errno != EINTR { throw SystemError("pread") }
            }
        }
    }
}
