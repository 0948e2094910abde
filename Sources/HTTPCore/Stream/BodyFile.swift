import Glibc
import Reactor

/// A file descriptor the body helpers opened; closed when the value is released.
public final class BodyFile: FileDescriptorOwner, @unchecked Sendable {
    public let fd: Int32
    /// Known to be a regular file (from an `fstat` where the file was opened, off the reactor's
    /// thread): the kind of file `writeBody(from:)` may send with `sendfile(2)`. False when not
    /// known.
    public let isRegularFile: Bool

    /// Takes ownership of `fd`; `isRegularFile` when the caller knows it is one.
    public init(adopting fd: Int32, isRegularFile: Bool = false) {
        self.fd = fd
        self.isRegularFile = isRegularFile
    }

    deinit { Glibc.close(fd) }

    /// Creates or truncates `path` for writing (mode 0644).
    public convenience init(creating path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("open \(path)") }
        self.init(adopting: fd)
    }

    /// Opens `path` for reading (and notes whether it is a regular file). It may block: call it
    /// off the reactor's thread (`Reactor.runBlocking`).
    public convenience init(reading path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open \(path)") }
        var status = stat()
        let regular = fstat(fd, &status) == 0 && status.st_mode & S_IFMT == S_IFREG
        self.init(adopting: fd, isRegularFile: regular)
    }

    /// The file's size now (`fstat`), for a regular file; nil for any other kind. It may block:
    /// call it off the reactor's thread.
    public func regularFileSize() throws -> UInt64? {
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw SystemError("fstat") }
        guard status.st_mode & S_IFMT == S_IFREG else { return nil }
        return UInt64(status.st_size)
    }

    /// An anonymous file in the temporary directory (`$TMPDIR`, else /tmp), gone when closed.
    public static func temporary() throws -> BodyFile {
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(directory)/stepwise-body-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw SystemError("mkstemp in \(directory)") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return BodyFile(adopting: fd, isRegularFile: true)
    }

    /// A descriptor of its own (close-on-exec) on the open file description of `fd`: the same
    /// file and the same offset, open until this value is released whatever becomes of `fd`.
    public convenience init(duplicating fd: Int32) throws {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { throw SystemError("dup of fd \(fd)") }
        self.init(adopting: copy)
    }

    /// What `writeBody(fromFile:)` reads at a time: 512 KiB. Each chunk is a job on a worker
    /// thread and a hop back to the reactor's: at 256 KiB those hops' context switches cost a
    /// large file's download about a quarter of its CPU time (Benchmarks/README.md, "Large
    /// bodies"); 1 MiB saved little more and holds twice as much per download (a chunk being
    /// read, plus up to the socket's write high-water mark and a chunk queued).
    public static let readChunkSize = 512 * 1024

    /// At most `count` octets from the current offset, in one `read` (fewer at the end of a file
    /// or from a pipe; none at the end).
    public func read(upTo count: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            while true {
                let got = Glibc.read(fd, buffer.baseAddress, count)
                if got >= 0 {
                    initialized = got
                    return
                }
                if errno != EINTR { throw SystemError("read") }
            }
        }
    }

    /// At most `count` octets from `offset`, in one `pread` (fewer at the end of a file, none
    /// past it); the file's own offset is left alone.
    public func read(upTo count: Int, at offset: UInt64) throws -> [UInt8] {
        guard let position = off_t(exactly: offset) else {
            throw HTTPStreamError.invalidState("offset \(offset) is past the largest file offset, \(off_t.max)")
        }
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            while true {
                let got = pread(fd, buffer.baseAddress, count, position)
                if got >= 0 {
                    initialized = got
                    return
                }
                if errno != EINTR { throw SystemError("pread") }
            }
        }
    }

    /// `read(upTo:at:)` for a file that may not seek. A file that `pread` refuses (`ESPIPE`: a
    /// pipe, a socket, a terminal) has no offsets: at `offset` 0 it is read with `read(2)` from
    /// where it is (`inOrder`: read the rest of it with `read(upTo:)`, each read taking the
    /// octets after the last), and any other offset is refused (`unseekable(offset:)`).
    public func read(upTo count: Int, atOffsetOrInOrder offset: UInt64) throws -> (octets: [UInt8], inOrder: Bool) {
        do {
            return (try read(upTo: count, at: offset), false)
        } catch let error as SystemError where error.errno == ESPIPE {
            guard offset == 0 else { throw Self.unseekable(offset: offset) }
            return (try read(upTo: count), true)
        }
    }

    /// The error for `offset` in a file that cannot seek: the body helpers read such a file from
    /// where it is, which only offset 0 means.
    public static func unseekable(offset: UInt64) -> HTTPStreamError {
        .invalidState(
            "offset \(offset) in a file that cannot seek (a pipe, a socket, a terminal): "
                + "only 0, which reads it from where it is")
    }

    /// Everything from the current offset to the end.
    public func readAll() throws -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw SystemError("read")
            }
            if got == 0 { return result }
            result.append(contentsOf: buffer[..<got])
        }
    }

    static func writeAll(_ bytes: [UInt8], to fd: Int32) throws {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw SystemError("write")
                }
                offset += written
            }
        }
    }
}
