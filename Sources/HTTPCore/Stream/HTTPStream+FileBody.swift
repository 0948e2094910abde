import Glibc
import Reactor

/// Bodies sent from files. The file is never read on the reactor's thread: either the kernel
/// sends it (`sendfile(2)`, an HTTP/1 stream on a plain connection) or it is read on the
/// blocking-work threads, each piece while the one before is written.
extension HTTPStream {
    /// Writes the file at `path` (from `offset`, `count` octets or to its end) and ends the stream.
    /// Opened (and, without `count`, measured) on a blocking-work thread; then as
    /// `writeBody(from:offset:count:timeout:)`.
    public func writeBody(fromPath path: String, offset: UInt64 = 0, count: UInt64? = nil, timeout: Double? = nil)
        async throws
    {
        let deadline = Deadline(timeout)
        let (file, size) = try await reactor.runBlocking("opening \(path)", timeout: deadline.remaining("writeBody")) {
            let file = try BodyFile(reading: path)
            return (file, count == nil ? try file.regularFileSize() : nil)
        }
        // To the end of a regular file: its size now, found by the same trip to a blocking-work
        // thread.
        let length = count ?? size.map { $0 > offset ? $0 - offset : 0 }
        try await writeBody(from: file, offset: offset, count: length, timeout: deadline.remaining("writeBody"))
    }

    /// Writes the open `file` (from `offset`, `count` octets or to its end) and ends the stream;
    /// the file's own offset ends past the octets sent. Without `count`, a regular file
    /// (`BodyFile.isRegularFile`) is sent to the end its size says now (`fstat`, on a
    /// blocking-work thread: a file that grows meanwhile is sent as it was, and one whose size
    /// says nothing of its contents, as in most of `/proc`, as empty, as nginx sends it); any
    /// other file is read until it ends. A file that cannot seek (a pipe, a socket, a terminal)
    /// is read in order from where it is, with or without `count`, on the blocking-work threads;
    /// its only offset is 0. Throws `invalidState` for an offset past the largest file offset
    /// (`off_t.max`), for a non-zero offset in a file that cannot seek
    /// (`BodyFile.unseekable(offset:)`), and for a file that ends before `count` octets (a pipe
    /// whose writer closed early: the body is left unfinished, its framing promised `count`).
    public func writeBody(from file: BodyFile, offset: UInt64 = 0, count: UInt64? = nil, timeout: Double? = nil)
        async throws
    {
        // lseek and pread take a signed off_t: an offset of 2^63 or more is past every file (and
        // would trap in the conversion; the offset may come from a peer's Range).
        guard let start = off_t(exactly: offset) else {
            throw HTTPStreamError.invalidState(
                "writeBody: offset \(offset) is past the largest file offset, \(off_t.max)")
        }
        let deadline = Deadline(timeout)
        var length = count
        if length == nil && file.isRegularFile {
            let size = try await reactor.runBlocking(
                "finding the size of the file to send", timeout: deadline.remaining("writeBody")
            ) { try file.regularFileSize() }
            length = size.map { $0 > offset ? $0 - offset : 0 }
        }
        guard let length else {
            // A pipe, a device: read from `offset` until it ends. A file that cannot seek (a
            // pipe) has no offsets: it is read from where it is, which only offset 0 means.
            if lseek(file.fd, start, SEEK_SET) < 0 {
                guard errno == ESPIPE else { throw SystemError("lseek") }
                guard offset == 0 else { throw BodyFile.unseekable(offset: offset) }
            }
            return try await writeBody(fromFile: file.fd, timeout: deadline.remaining("writeBody"))
        }
        try await writeChunk(
            fromFile: file, offset: offset, count: length, endStream: true, timeout: deadline.remaining("writeBody"))
        let (end, overflow) = offset.addingReportingOverflow(length)
        if !overflow, let end = off_t(exactly: end) { _ = lseek(file.fd, end, SEEK_SET) }
    }

    /// What `writeChunk(fromFile:offset:count:endStream:timeout:)` does for a stream without a
    /// faster way: the region is read on the blocking-work threads, 512 KiB at a time, each piece
    /// while the one before is written; `timeout` is one deadline over all of it. A file that can
    /// seek is read with `pread`, so its own offset is left alone. One that cannot (a pipe, a
    /// socket, a terminal: `pread` says `ESPIPE`) is read in order with `read(2)`, from where it
    /// is, which only `offset` 0 means (any other is refused before anything is read or
    /// written), and the octets sent are gone from it. A file that ends before `count` octets (a
    /// pipe whose writer closed) throws `invalidState` and leaves the body unfinished, as a
    /// regular file cut short does: its framing promised `count` octets.
    public func writeChunkReadingFile(
        _ file: BodyFile, offset: UInt64, count: UInt64, endStream: Bool, timeout: Double?
    ) async throws {
        try await readFileRegion(file, offset: offset, count: count, endStream: endStream, timeout: timeout) {
            chunk, last, remaining in
            try await writeChunk(chunk, endStream: last, timeout: remaining)
        }
    }

    /// `writeChunkReadingFile`'s work, each piece written by `write` (with whether it ends the
    /// stream, and the seconds left): a stream may count what it wrote (`H1Stream`).
    func readFileRegion(
        _ file: BodyFile, offset: UInt64, count: UInt64, endStream: Bool, timeout: Double?,
        write: (_ chunk: [UInt8], _ endStream: Bool, _ timeout: Double?) async throws -> Void
    ) async throws {
        let deadline = Deadline(timeout)
        let (end, overflow) = offset.addingReportingOverflow(count)
        guard !overflow, off_t(exactly: end) != nil else {
            throw HTTPStreamError.invalidState(
                "writeChunk: \(count) octets at offset \(offset) end past the largest file offset, \(off_t.max)")
        }
        var position = offset
        // Whether the file is read in order (it cannot seek): nil until the first read found out,
        // unless it is known to be a regular file.
        var inOrder: Bool? = file.isRegularFile ? false : nil
        func startReading() -> BlockingJob<(octets: [UInt8], inOrder: Bool)> {
            let at = position
            let want = Int(Swift.min(UInt64(BodyFile.readChunkSize), end - at))
            switch inOrder {
            case true?:
                return reactor.startBlocking("reading \(want) octets of a file in order") {
                    (try file.read(upTo: want), true)
                }
            case false?:
                return reactor.startBlocking("reading \(want) octets of a file at \(at)") {
                    (try file.read(upTo: want, at: at), false)
                }
            case nil:
                return reactor.startBlocking("reading \(want) octets of a file at \(at)") {
                    try file.read(upTo: want, atOffsetOrInOrder: at)
                }
            }
        }
        var reading = count > 0 ? startReading() : nil
        while let job = reading {
            let (chunk, readInOrder) = try await job.value(timeout: deadline.remaining("writeChunk"))
            inOrder = readInOrder
            guard !chunk.isEmpty else {
                throw HTTPStreamError.invalidState("file ended \(end - position) octets before the count given")
            }
            position += UInt64(chunk.count)
            reading = position < end ? startReading() : nil
            try await write(chunk, endStream && reading == nil, deadline.remaining("writeChunk"))
        }
        if count == 0 && endStream {
            try await write([], true, deadline.remaining("writeChunk"))
        }
    }
}
